/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip probe: connect to a KMIP server the way the keyring would
 * and report what it finds, so an operator can check certificates, names
 * and versions before configuring the keyring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kmip/kmip_client.h"

static void probe_usage(FILE *f)
{
    cli_help(f, "probe");
}

static int exit_code(kmip_client_err e)
{
    switch (e) {
    case KMIP_CLIENT_OK:
        return CLI_OK;
    case KMIP_CLIENT_E_TLS_VERIFY:
    case KMIP_CLIENT_E_TLS_PROTOCOL:
        return CLI_IDENTITY;
    case KMIP_CLIENT_E_CONFIG:
    case KMIP_CLIENT_E_ARG:
        return CLI_BAD_INPUT;
    default:
        return CLI_SERVER;
    }
}

/* "host", "host:port", "[v6]:port" */
static bool split_server(const char *s, char *host, size_t cap, unsigned *port)
{
    const char *colon = NULL;
    *port = 5696;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || (size_t)(end - s) >= cap)
            return false;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] != '\0' && colon == NULL)
            return false;
    } else {
        colon = strrchr(s, ':');
        if (colon && strchr(s, ':') != colon) /* a bare IPv6 address */
            colon = NULL;
        size_t n = colon ? (size_t)(colon - s) : strlen(s);
        if (n == 0 || n >= cap)
            return false;
        memcpy(host, s, n);
        host[n] = '\0';
    }
    if (colon) {
        unsigned long p;
        if (!cli_parse_number("probe", "the port of --server", colon + 1, 1, 65535, &p))
            return false;
        *port = (unsigned)p;
    }
    return true;
}

static void log_to_stderr(void *ctx, int level, const char *message)
{
    (void)ctx;
    fprintf(stderr, "keyring-kmip: %s: %s\n", level == 0 ? "error" : level == 1 ? "warning" : "note",
            message);
}

static void print_version_list(const kmip_client *c)
{
    unsigned v[16];
    size_t n = kmip_client_server_versions(c, v, 16);
    if (n == 0) {
        puts(" (the server did not list its versions)");
        return;
    }
    fputs("; the server supports", stdout);
    for (size_t i = 0; i < n && i < 16; i++)
        printf(" %u.%u", v[i] >> 8, v[i] & 0xFF);
    putchar('\n');
}

static void print_enum_list(const char *label, const uint32_t *values, size_t n, uint32_t tag)
{
    printf("%-20s", label);
    if (n == 0)
        fputs("(none listed)", stdout);
    const kmip_enum_def *e = kmip_enum_for_tag(tag);
    for (size_t i = 0; i < n; i++) {
        const kmip_value_def *v = kmip_enum_value(e, values[i]);
        if (v)
            printf("%s%s", i ? ", " : "", v->name);
        else
            printf("%s0x%08X", i ? ", " : "", values[i]);
    }
    putchar('\n');
}

static int report(kmip_client *c, const char *server)
{
    kmip_client_tls_info tls;
    if (kmip_client_tls(c, &tls) == KMIP_CLIENT_OK) {
        printf("%-20s%s\n", "server:", server);
        printf("%-20s%s, %s\n", "TLS:", tls.protocol, tls.cipher);
        printf("%-20s%s, valid until %s\n", "server certificate:", tls.peer_subject,
               tls.peer_not_after);
    }
    unsigned v = kmip_client_version(c);
    printf("%-20s%u.%u", "KMIP version:", v >> 8, v & 0xFF);
    print_version_list(c);
    kmip_message *resp = NULL;
    kmip_client_err e = kmip_client_query(c, &resp);
    if (e != KMIP_CLIENT_OK) {
        fprintf(stderr, "keyring-kmip: Query failed: %s\n", kmip_client_error_message(c));
        return exit_code(e);
    }
    const kmip_query_response *q = resp->items[0].payload;
    printf("%-20s%.*s\n", "vendor:", (int)q->vendor_identification.len,
           q->has_vendor_identification ? (const char *)q->vendor_identification.data : "");
    print_enum_list("operations:", q->operations, q->operation_count, KMIP_TAG_OPERATION);
    print_enum_list("object types:", q->object_types, q->object_type_count, KMIP_TAG_OBJECT_TYPE);
    kmip_client_release(c, resp);
    return CLI_OK;
}

/* Builds the options from the command line; returns -1 to go on. */
static int parse(int argc, char **argv, kmip_client_options *o, const char **server)
{
    const char *ca = NULL, *cert = NULL, *key = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            probe_usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "--insecure-skip-verify") == 0) {
            kmip_client_options_insecure_skip_verify(o, true);
        } else if (strcmp(a, "--insecure-skip-hostname") == 0) {
            kmip_client_options_insecure_skip_hostname(o, true);
        } else if (val == NULL) {
            fprintf(stderr, "keyring-kmip probe: unknown or incomplete option '%s'\n", a);
            return CLI_USAGE;
        } else if (strcmp(a, "--server") == 0) {
            *server = val, i++;
        } else if (strcmp(a, "--ca") == 0) {
            ca = val, i++;
        } else if (strcmp(a, "--cert") == 0) {
            cert = val, i++;
        } else if (strcmp(a, "--key") == 0) {
            key = val, i++;
        } else if (strcmp(a, "--timeout") == 0) {
            unsigned long ms;
            if (!cli_parse_number("probe", "--timeout", val, 1, 3600000, &ms))
                return CLI_USAGE;
            kmip_client_options_set_timeouts(o, (unsigned)ms, (unsigned)ms), i++;
        } else if (strcmp(a, "--kmip-version") == 0) {
            char major_text[8], *minor_text;
            unsigned long major, minor;
            if (strlen(val) >= sizeof major_text || (minor_text = strchr(val, '.')) == NULL) {
                fprintf(stderr, "keyring-kmip probe: --kmip-version takes X.Y, not '%s'\n", val);
                return CLI_USAGE;
            }
            memcpy(major_text, val, (size_t)(minor_text - val));
            major_text[minor_text - val] = '\0';
            if (!cli_parse_number("probe", "--kmip-version X", major_text, 0, 255, &major) ||
                !cli_parse_number("probe", "--kmip-version Y", minor_text + 1, 0, 255, &minor))
                return CLI_USAGE;
            kmip_client_options_pin_version(o, KMIP_VERSION((unsigned)major, (unsigned)minor)), i++;
        } else {
            fprintf(stderr, "keyring-kmip probe: unknown option '%s'\n", a);
            return CLI_USAGE;
        }
    }
    if (*server == NULL || ((cert == NULL) != (key == NULL))) {
        fprintf(stderr, "keyring-kmip probe: --server is required, and --cert goes with --key\n");
        probe_usage(stderr);
        return CLI_USAGE;
    }
    char host[256];
    unsigned port;
    if (!split_server(*server, host, sizeof host, &port)) {
        fprintf(stderr, "keyring-kmip probe: --server '%s' is not HOST[:PORT]\n", *server);
        return CLI_USAGE;
    }
    if (kmip_client_options_set_server(o, host, port) != KMIP_CLIENT_OK ||
        kmip_client_options_set_ca(o, ca) != KMIP_CLIENT_OK ||
        kmip_client_options_set_cert(o, cert, key) != KMIP_CLIENT_OK) {
        fprintf(stderr, "keyring-kmip probe: invalid server, CA or certificate option\n");
        return CLI_USAGE;
    }
    kmip_client_options_set_log(o, log_to_stderr, NULL);
    return -1;
}

int cmd_probe(int argc, char **argv)
{
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL)
        return CLI_BAD_INPUT;
    const char *server = NULL;
    int rc = parse(argc, argv, o, &server);
    kmip_client *c = rc < 0 ? kmip_client_new(o) : NULL;
    kmip_client_options_free(o);
    if (rc >= 0)
        return rc;
    if (c == NULL)
        return CLI_BAD_INPUT;
    kmip_client_err e = kmip_client_connect(c);
    if (e != KMIP_CLIENT_OK) {
        fprintf(stderr, "keyring-kmip: %s\n", kmip_client_error_message(c));
        rc = exit_code(e);
    } else {
        rc = report(c, server);
    }
    kmip_client_free(c);
    return rc;
}

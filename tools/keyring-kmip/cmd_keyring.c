/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip check|list|get|store|generate|remove|status: the keyring as
 * the database would load it (manifest, component, configuration), or
 * directly from a configuration file (--config), always through the
 * component's services (keyring_services.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "keyring_services.h"
#include "status_out.h"
#include "kmip/kmip_ttlv.h"


typedef struct kr_opts {
    const char *command;
    const char *basedir, *datadir, *plugin_dir, *config; /* from the location */
    const char *id, *auth_id, *type, *hex, *file;
    unsigned long length;
    bool json, as_hex, hex_stdin, any_length, repair, prometheus;
    cli_input key; /* store: the key bytes, read before the keyring is opened */
} kr_opts;

static void kr_usage(FILE *f, const char *command)
{
    cli_help(f, command);
}

/* A key in conflict is a refusal here; `check` reports conflicts itself. */
static int exit_for(krk_err e)
{
    return ks_exit_for(e, false);
}

/* The options each command takes besides the location (main.c takes
 * those): flags, and options with a value. */
typedef struct kr_command {
    const char *name;
    bool needs_id;
    const char *flags;  /* space-separated */
    const char *values; /* space-separated */
} kr_command;

static const kr_command kr_commands[] = {
    {"check", false, "--repair", ""},
    {"status", false, "--json --prometheus", ""},
    {"list", false, "--json", ""},
    {"get", true, "--hex --json", "--auth-id"},
    {"store", true, "--hex-stdin", "--type --auth-id --hex --file"},
    {"generate", true, "--any-length", "--type --auth-id --length"},
    {"remove", true, "", "--auth-id"},
};

static bool in_list(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

static int parse(int argc, char **argv, kr_opts *o)
{
    o->command = argv[1];
    o->auth_id = "";
    const kr_command *c = NULL;
    for (size_t i = 0; i < sizeof kr_commands / sizeof kr_commands[0]; i++)
        if (strcmp(kr_commands[i].name, o->command) == 0)
            c = &kr_commands[i];
    if (c == NULL)
        return CLI_USAGE;
    const char *length = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            kr_usage(stdout, o->command);
            return CLI_OK;
        }
        if (a[0] != '-') {
            if (!c->needs_id || o->id != NULL) {
                fprintf(stderr, "keyring-kmip %s: unexpected argument '%s'\n", o->command, a);
                return CLI_USAGE;
            }
            o->id = a;
            continue;
        }
        if (in_list(c->flags, a)) {
            if (strcmp(a, "--json") == 0)
                o->json = true;
            else if (strcmp(a, "--hex") == 0)
                o->as_hex = true;
            else if (strcmp(a, "--hex-stdin") == 0)
                o->hex_stdin = true;
            else if (strcmp(a, "--any-length") == 0)
                o->any_length = true;
            else if (strcmp(a, "--repair") == 0)
                o->repair = true;
            else if (strcmp(a, "--prometheus") == 0)
                o->prometheus = true;
            continue;
        }
        if (!in_list(c->values, a)) {
            fprintf(stderr, "keyring-kmip %s: unknown option '%s' (keyring-kmip %s --help)\n",
                    o->command, a, o->command);
            return CLI_USAGE;
        }
        if (v == NULL) {
            fprintf(stderr, "keyring-kmip %s: %s needs a value\n", o->command, a);
            return CLI_USAGE;
        }
        i++;
        if (strcmp(a, "--auth-id") == 0)
            o->auth_id = v;
        else if (strcmp(a, "--type") == 0)
            o->type = v;
        else if (strcmp(a, "--hex") == 0)
            o->hex = v;
        else if (strcmp(a, "--file") == 0)
            o->file = v;
        else if (strcmp(a, "--length") == 0)
            length = v;
    }
    if (c->needs_id && o->id == NULL) {
        fprintf(stderr, "keyring-kmip %s: a key ID is required\n", o->command);
        return CLI_USAGE;
    }
    if (strcmp(o->command, "store") == 0) {
        if (o->type == NULL || (o->hex != NULL) + (o->file != NULL) + o->hex_stdin > 1) {
            fprintf(stderr, "keyring-kmip store: --type is required, and at most one of "
                            "--hex-stdin, --file and --hex (without them the key is read "
                            "from standard input)\n");
            return CLI_USAGE;
        }
    }
    if (strcmp(o->command, "generate") == 0) {
        if (o->type == NULL || length == NULL) {
            fprintf(stderr, "keyring-kmip generate: --type and --length BYTES are required\n");
            return CLI_USAGE;
        }
        if (!cli_parse_number("generate", "--length", length, 1, KRK_MAX_KEY_BYTES, &o->length))
            return CLI_USAGE;
        if (strcasecmp(o->type, "AES") == 0 && !o->any_length && o->length != 16 &&
            o->length != 24 && o->length != 32) {
            fprintf(stderr, "keyring-kmip generate: an AES key is 16, 24 or 32 bytes, not %lu "
                            "(--any-length stores other lengths as random bytes)\n",
                    o->length);
            return CLI_USAGE;
        }
    }
    return -1;
}

/* store: the key bytes from --file (raw), --hex, or standard input (raw,
 * or hex with --hex-stdin), read before anything touches the keyring. */
static int read_key(kr_opts *o)
{
    cli_input *in = &o->key;
    if (o->file)
        return cli_read_input(o->file, in) ? -1 : CLI_BAD_INPUT;
    if (o->hex) {
        memset(in, 0, sizeof *in);
        size_t n = strlen(o->hex);
        in->data = malloc(n + 1);
        if (in->data == NULL)
            return CLI_BAD_INPUT;
        memcpy(in->data, o->hex, n + 1);
        in->len = in->cap = n;
        return cli_unhex_inplace("--hex", in, true) ? -1 : CLI_BAD_INPUT;
    }
    if (isatty(STDIN_FILENO))
        fprintf(stderr, "keyring-kmip store: reading the key %sfrom standard input; end it "
                        "with Ctrl-D\n",
                o->hex_stdin ? "in hex " : "");
    if (!cli_read_input(NULL, in) || (o->hex_stdin && !cli_unhex_inplace(NULL, in, true)))
        return CLI_BAD_INPUT;
    if (in->len == 0) {
        fprintf(stderr, "keyring-kmip store: no key bytes on standard input\n");
        return CLI_BAD_INPUT;
    }
    return -1;
}

static void print_diag(const krk_diag *d)
{
    for (size_t i = 0; i < d->warning_count; i++)
        fprintf(stderr, "keyring-kmip: warning: %s\n", d->warnings[i]);
}

/* Keys: data_id and auth_id, and the state when it is not Active (a
 * Deactivated or Compromised key is served for decryption; a key in
 * conflict is not). */
static bool list_key(void *ctx, const char *d, const char *a, krk_key_state st, const char *name)
{
    json_t *list = ctx;
    if (list)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "data_id", d, "auth_id", a,
                                              "state", name));
    else if (st != KRK_KEY_ACTIVE)
        printf("%s\t%s\t%s\n", d, a, name);
    else
        printf("%s\t%s\n", d, a);
    return true;
}

static int do_list(ks_keyring *k, bool json)
{
    json_t *list = json ? json_array() : NULL;
    krk_err e = ks_each_key(k, list_key, list);
    if (e != KRK_OK)
        fprintf(stderr, "keyring-kmip: %s\n", ks_error(k));
    if (list) {
        if (e == KRK_OK) {
            json_dumpf(list, stdout, JSON_COMPACT);
            putchar('\n');
        }
        json_decref(list);
    }
    return exit_for(e);
}

static int do_get(ks_keyring *k, const kr_opts *o)
{
    static uint8_t data[KRK_MAX_KEY_BYTES];
    char type[16];
    size_t len = 0;
    krk_err e = ks_get(k, o->id, o->auth_id, data, sizeof data, &len, type, sizeof type);
    if (e != KRK_OK) { /* "no key ...", or the reason: an empty or over-long id, ... */
        fprintf(stderr, "keyring-kmip: %s\n", ks_error(k));
        return exit_for(e);
    }
    if (o->json || o->as_hex) {
        static char hex[2 * KRK_MAX_KEY_BYTES + 1];
        kmip_hex_encode(data, len, hex);
        if (o->json) {
            json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "data_id", o->id, "auth_id",
                                  o->auth_id, "type", type, "hex", hex);
            if (j) {
                json_dumpf(j, stdout, JSON_COMPACT);
                putchar('\n');
            }
            json_decref(j);
        } else {
            puts(hex);
        }
        kmip_secure_zero(hex, 2 * len + 1);
    } else {
        fwrite(data, 1, len, stdout);
    }
    kmip_secure_zero(data, len);
    return CLI_OK;
}

/* The rows of performance_schema.keyring_component_status, collected for
 * status_out.c (text, JSON with the servers as an array, Prometheus). */
#define STATUS_ROWS_MAX 128
typedef struct row_list {
    krk_metadata_item *md;
    size_t n;
} row_list;

static void collect_row(void *ctx, const char *key, const char *value)
{
    row_list *l = ctx;
    if (l->n == STATUS_ROWS_MAX)
        return;
    snprintf(l->md[l->n].key, sizeof l->md[l->n].key, "%s", key);
    snprintf(l->md[l->n].value, sizeof l->md[l->n].value, "%s", value);
    l->n++;
}

static krk_err collect_rows(ks_keyring *k, row_list *l)
{
    l->n = 0;
    l->md = calloc(STATUS_ROWS_MAX, sizeof *l->md);
    return l->md ? ks_each_status(k, collect_row, l) : KRK_E_NOMEM;
}

static int do_status(ks_keyring *k, const kr_opts *o)
{
    row_list l;
    (void)ks_probe_servers(k); /* every configured server's real state */
    krk_err e = collect_rows(k, &l);
    if (e != KRK_OK)
        fprintf(stderr, "keyring-kmip: %s\n", l.md ? ks_error(k) : krk_strerror(e));
    else
        status_print(l.md, l.n,
                     o->prometheus ? STATUS_PROMETHEUS : o->json ? STATUS_JSON : STATUS_TEXT);
    free(l.md);
    return exit_for(e);
}

static void print_check_line(void *ctx, const char *line)
{
    (void)ctx;
    printf("%s\n", line);
}

/* The server's objects beyond the load: conflicts (exit 8) and Pre-Active
 * objects, leftovers removed with --repair. */
static int check_server(ks_keyring *k, const kr_opts *o)
{
    krk_check_result r;
    krk_err e = ks_check_server(k, o->repair, print_check_line, NULL, &r);
    if (e != KRK_OK) {
        fprintf(stderr, "keyring-kmip: %s\n", ks_error(k));
        return exit_for(e);
    }
    printf("conflicts:     %zu\n", r.conflicts);
    printf("pre-active:    %zu leftovers (%zu removed), %zu writes in progress, %zu foreign\n",
           r.leftovers, r.removed, r.in_progress, r.foreign);
    return r.conflicts ? CLI_CONFLICT : CLI_OK;
}

static void print_check_row(void *ctx, const char *key, const char *value)
{
    (void)ctx;
    if (strcmp(key, "KMIP_version") == 0 || strcmp(key, "TLS_version") == 0 ||
        strcmp(key, "Server_addr") == 0 || strcmp(key, "Key_count") == 0)
        printf("%-14s %s\n", key, value);
}

static int run(ks_keyring *k, const kr_opts *o, double load_seconds)
{
    const char *c = o->command;
    krk_err e = KRK_OK;
    if (strcmp(c, "check") == 0) {
        printf("configuration: %s\n", ks_config_path(k));
        const krk_manifest *m = ks_manifest(k);
        if (m->path[0])
            printf("manifest:      %s (%s)\n", m->path, m->component_url);
        if ((e = ks_each_status(k, print_check_row, NULL)) != KRK_OK) {
            fprintf(stderr, "keyring-kmip: %s\n", ks_error(k));
            return exit_for(e);
        }
        printf("loaded in:     %.3f s, %llu request messages\n", load_seconds,
               (unsigned long long)ks_load_requests(k));
        (void)ks_probe_servers(k); /* a dead standby is found now, not at failover */
        row_list l;
        size_t down = 0;
        if (collect_rows(k, &l) == KRK_OK) {
            status_print_servers(l.md, l.n);
            down = status_servers_down(l.md, l.n);
        }
        free(l.md);
        int rc = check_server(k, o);
        return rc == CLI_OK && down ? CLI_SERVER : rc;
    }
    if (strcmp(c, "status") == 0)
        return do_status(k, o);
    if (strcmp(c, "list") == 0)
        return do_list(k, o->json);
    if (strcmp(c, "get") == 0)
        return do_get(k, o);
    if (strcmp(c, "store") == 0)
        e = ks_store(k, o->id, o->auth_id, o->key.data, o->key.len, o->type);
    else if (strcmp(c, "generate") == 0)
        e = ks_generate(k, o->id, o->auth_id, o->type, (size_t)o->length);
    else if (strcmp(c, "remove") == 0)
        e = ks_remove(k, o->id, o->auth_id);
    if (e == KRK_E_NOT_FOUND && strcmp(c, "remove") == 0)
        fprintf(stderr, "keyring-kmip: no key %s (auth_id \"%s\")\n", o->id, o->auth_id);
    else if (e != KRK_OK)
        fprintf(stderr, "keyring-kmip: %s\n", ks_error(k));
    return exit_for(e);
}

bool cmd_is_keyring(const char *command)
{
    static const char *const commands[] = {"check", "status",   "list",   "get",
                                           "store", "generate", "remove", "migrate"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(command, commands[i]) == 0)
            return true;
    return false;
}

int cmd_keyring(int argc, char **argv, const cli_globals *g)
{
    kr_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    cli_location loc;
    rc = cli_locate(g, o.command, &loc);
    if (rc >= 0)
        return rc;
    o.config = loc.config;
    o.basedir = loc.manifest_dir;
    o.plugin_dir = loc.plugin_dir.value;
    o.datadir = loc.datadir.set ? loc.datadir.value : NULL;
    if (strcmp(o.command, "check") == 0) { /* which file said what, even if opening fails */
        cli_location_print(&loc);
        fflush(stdout);
    }
    if (strcmp(o.command, "store") == 0 && (rc = read_key(&o)) >= 0) {
        cli_input_free(&o.key);
        return rc;
    }
    ks_where w = {o.config, o.basedir, o.datadir, o.plugin_dir, isatty(STDERR_FILENO) != 0,
                  false};
    ks_keyring *k = NULL;
    krk_diag d;
    memset(&d, 0, sizeof d);
    int64_t t0 = kmip_monotonic_ms();
    krk_err e = ks_open(&w, &k, &d);
    int64_t t1 = kmip_monotonic_ms();
    print_diag(&d);
    if (e != KRK_OK) {
        fprintf(stderr, "keyring-kmip: %s\n", d.error[0] ? d.error : krk_strerror(e));
        cli_input_free(&o.key);
        return exit_for(e);
    }
    rc = run(k, &o, (double)(t1 - t0) / 1e3);
    cli_input_free(&o.key);
    ks_close(k);
    return rc;
}

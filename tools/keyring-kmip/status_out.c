/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip status and check: the keyring's metadata rows as text, as
 * one JSON object (with the KMIP servers' health as an array "servers"),
 * or in the Prometheus text exposition format (version 0.0.4) for
 * node_exporter's textfile collector. The servers' health comes from the
 * metadata rows Server_1 .. Server_N ("host:port; state=up; ...;
 * last_error=..."), so it is the same whichever front end asks. */
#define _GNU_SOURCE /* timegm */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "status_out.h"

/* One Server_N row split into its fields. */
typedef struct server_row {
    char name[272];
    char state[32];
    bool current;
    char last_success[32];
    double rtt_ms;
    unsigned long long requests, failures, failovers;
    unsigned long long backoff_ms;
    char cert_not_after[40];
    char last_error[1024];
} server_row;

static bool is_server_row(const char *key)
{
    if (strncmp(key, "Server_", 7) != 0 || key[7] < '1' || key[7] > '9')
        return false;
    for (const char *p = key + 8; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static void copy_field(char *dst, size_t cap, const char *p, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void parse_row(const char *v, server_row *r)
{
    memset(r, 0, sizeof *r);
    const char *end = strstr(v, "; ");
    copy_field(r->name, sizeof r->name, v, end ? (size_t)(end - v) : strlen(v));
    while (end) {
        const char *p = end + 2;
        if (strncmp(p, "last_error=", 11) == 0) { /* always last: may hold "; " */
            if (strcmp(p + 11, "<NONE>") != 0)
                copy_field(r->last_error, sizeof r->last_error, p + 11, strlen(p + 11));
            return;
        }
        end = strstr(p, "; ");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq == NULL)
            continue;
        size_t kn = (size_t)(eq - p), vn = n - kn - 1;
        char val[64];
        copy_field(val, sizeof val, eq + 1, vn);
#define IS(k) (kn == sizeof k - 1 && strncmp(p, k, kn) == 0)
        if (IS("state"))
            copy_field(r->state, sizeof r->state, eq + 1, vn);
        else if (IS("current"))
            r->current = strcmp(val, "yes") == 0;
        else if (IS("last_success"))
            copy_field(r->last_success, sizeof r->last_success, eq + 1, vn);
        else if (IS("rtt_ms"))
            r->rtt_ms = strtod(val, NULL);
        else if (IS("requests"))
            r->requests = strtoull(val, NULL, 10);
        else if (IS("failures"))
            r->failures = strtoull(val, NULL, 10);
        else if (IS("failovers"))
            r->failovers = strtoull(val, NULL, 10);
        else if (IS("backoff_ms"))
            r->backoff_ms = strtoull(val, NULL, 10);
        else if (IS("cert_not_after"))
            copy_field(r->cert_not_after, sizeof r->cert_not_after, eq + 1, vn);
#undef IS
    }
}

static const char *value_of(const krk_metadata_item *md, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(md[i].key, key) == 0)
            return md[i].value;
    return NULL;
}

/* A row that says nothing: empty, or "<NONE>" (the component's word for an
 * empty value, as Percona's rows have it). */
static bool empty_value(const char *v)
{
    return v == NULL || v[0] == '\0' || strcmp(v, "<NONE>") == 0;
}

void status_print_servers(const krk_metadata_item *md, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_server_row(md[i].key))
            continue;
        server_row r;
        parse_row(md[i].value, &r);
        printf("server:        %s: %s%s, last success %s, round trip %.3f ms, %llu failures, "
               "%llu failovers%s%s\n", r.name, r.state, r.current ? " (current)" : "",
               r.last_success, r.rtt_ms, r.failures, r.failovers,
               r.last_error[0] ? ", last error: " : "", r.last_error);
    }
    const char *w = value_of(md, n, "Cert_warning");
    if (!empty_value(w))
        printf("warning:       %s\n", w);
}

size_t status_servers_down(const krk_metadata_item *md, size_t n)
{
    size_t down = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_server_row(md[i].key))
            continue;
        server_row r;
        parse_row(md[i].value, &r);
        if (strcmp(r.state, "up") == 0)
            continue;
        down++;
        fprintf(stderr, "keyring-kmip: KMIP server %s (%s) is %s%s%s\n", r.name, md[i].key,
                r.state, r.last_error[0] ? ": " : "", r.last_error);
    }
    return down;
}

static void print_json(const krk_metadata_item *md, size_t n)
{
    json_t *obj = json_object(), *servers = json_array();
    for (size_t i = 0; i < n; i++) {
        json_object_set_new(obj, md[i].key, json_string(md[i].value));
        if (!is_server_row(md[i].key))
            continue;
        server_row r;
        parse_row(md[i].value, &r);
        json_array_append_new(
            servers, json_pack("{s:s, s:s, s:b, s:s, s:f, s:I, s:I, s:I, s:I, s:s, s:s}", "name",
                               r.name, "state", r.state, "current", r.current, "last_success",
                               r.last_success, "rtt_ms", r.rtt_ms, "requests",
                               (json_int_t)r.requests, "failures", (json_int_t)r.failures,
                               "failovers", (json_int_t)r.failovers, "backoff_ms",
                               (json_int_t)r.backoff_ms, "cert_not_after", r.cert_not_after,
                               "last_error", r.last_error));
    }
    json_object_set_new(obj, "servers", servers);
    json_dumpf(obj, stdout, JSON_COMPACT);
    putchar('\n');
    json_decref(obj);
}

/* A label value: backslash, double quote and line feed escaped. */
static void label(const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            printf("\\%c", *v);
        else if (*v == '\n')
            printf("\\n");
        else
            putchar(*v);
    }
}

static void family(const char *name, const char *type, const char *help)
{
    printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long long parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

static void print_prometheus(const krk_metadata_item *md, size_t n)
{
    server_row rows[64];
    size_t count = 0;
    for (size_t i = 0; i < n && count < 64; i++)
        if (is_server_row(md[i].key))
            parse_row(md[i].value, &rows[count++]);
    const char *keys = value_of(md, n, "Key_count");
    family("keyring_kmip_up", "gauge", "1 when the keyring is open (Component_status Active)");
    const char *st = value_of(md, n, "Component_status");
    printf("keyring_kmip_up %d\n", st && strcmp(st, "Active") == 0);
    family("keyring_kmip_keys", "gauge", "Keys held by the keyring");
    printf("keyring_kmip_keys %s\n", keys ? keys : "0");
    size_t up = 0;
    unsigned long long failovers = 0;
    for (size_t i = 0; i < count; i++) {
        up += strcmp(rows[i].state, "up") == 0;
        failovers += rows[i].failovers;
    }
    family("keyring_kmip_servers", "gauge", "KMIP servers configured");
    printf("keyring_kmip_servers %zu\n", count);
    family("keyring_kmip_servers_up", "gauge", "KMIP servers whose last exchange succeeded");
    printf("keyring_kmip_servers_up %zu\n", up);
    family("keyring_kmip_failovers_total", "counter",
           "Times a client of the keyring left a KMIP server for another");
    printf("keyring_kmip_failovers_total %llu\n", failovers);
#define PER_SERVER(metric, type, help, fmt, expr)                                                  \
    do {                                                                                           \
        family(metric, type, help);                                                                \
        for (size_t i = 0; i < count; i++) {                                                       \
            printf(metric "{server=\"");                                                           \
            label(rows[i].name);                                                                   \
            printf("\"} " fmt "\n", expr);                                                         \
        }                                                                                          \
    } while (0)
    PER_SERVER("keyring_kmip_server_up", "gauge", "1 when the server's last exchange succeeded",
               "%d", strcmp(rows[i].state, "up") == 0);
    PER_SERVER("keyring_kmip_server_backing_off", "gauge",
               "1 while the server is skipped after a failure", "%d",
               strcmp(rows[i].state, "backing off") == 0);
    PER_SERVER("keyring_kmip_server_current", "gauge",
               "1 for the server the last connection went to", "%d", rows[i].current);
    PER_SERVER("keyring_kmip_server_rtt_seconds", "gauge",
               "Round trip of the server's last request", "%.6f", rows[i].rtt_ms / 1000.0);
    PER_SERVER("keyring_kmip_server_requests_total", "counter", "Requests the server answered",
               "%llu", rows[i].requests);
    PER_SERVER("keyring_kmip_server_failures_total", "counter",
               "Failed connections or exchanges with the server", "%llu", rows[i].failures);
    PER_SERVER("keyring_kmip_server_failovers_total", "counter",
               "Times a client left the server for another", "%llu", rows[i].failovers);
    PER_SERVER("keyring_kmip_server_last_success_timestamp_seconds", "gauge",
               "When the server last answered (0: never)", "%lld",
               parse_iso(rows[i].last_success));
#undef PER_SERVER
    const char *cert = value_of(md, n, "Client_cert_expires");
    long long end = cert ? parse_iso(cert) : 0;
    if (end) {
        family("keyring_kmip_client_cert_expiry_timestamp_seconds", "gauge",
               "End of validity of the client certificate");
        printf("keyring_kmip_client_cert_expiry_timestamp_seconds %lld\n", end);
    }
    const char *w = value_of(md, n, "Cert_warning");
    family("keyring_kmip_cert_warning", "gauge",
           "1 when a client or server certificate ends within cert_expiry_warning_days");
    printf("keyring_kmip_cert_warning %d\n", !empty_value(w));
}

void status_print(const krk_metadata_item *md, size_t n, status_format f)
{
    if (f == STATUS_JSON) {
        print_json(md, n);
    } else if (f == STATUS_PROMETHEUS) {
        print_prometheus(md, n);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%-20s %s\n", md[i].key, md[i].value);
    }
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The KMIP servers' health as the keyring shows it: metadata rows (read
 * by `keyring-kmip status` and `check`, and by the database's metadata
 * query), a summary for status variables, and the warning for a client or
 * server certificate that ends within cert_expiry_warning_days. The
 * figures come from the client library's kmip_health, which has its own
 * lock: a reader never waits for an operation on the network. */
#define _GNU_SOURCE /* timegm */
#include "health.h"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "diag.h"

bool krk_cert_not_after(const char *path, long long *out)
{
    kmip_file f;
    char why[256];
    *out = 0;
    if (kmip_file_read(path, 1u << 20, &f, why, sizeof why) != KMIP_CLIENT_OK)
        return false;
    BIO *b = BIO_new_mem_buf(f.data, (int)f.len);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    struct tm tm;
    bool ok = x && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1;
    if (ok)
        *out = (long long)timegm(&tm);
    X509_free(x);
    BIO_free(b);
    kmip_file_free(&f);
    return ok;
}

/* A server certificate's end as kmip_client_tls_info gives it (OpenSSL's
 * "Dec 31 11:50:18 2026 GMT", or "2026-12-31 11:50:18 UTC") to Unix
 * seconds; 0 when neither. */
static long long parse_utc(const char *text)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(text, "%b %d %H:%M:%S %Y GMT", &tm);
    if (end == NULL || *end != '\0') {
        memset(&tm, 0, sizeof tm);
        end = strptime(text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    }
    return end && *end == '\0' ? (long long)timegm(&tm) : 0;
}

static void utc_text(long long t, char *buf, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t == 0 || gmtime_r(&tt, &tm) == NULL)
        snprintf(buf, cap, "never");
    else
        strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* "ends in 5 days", "ends in 23 hours", "expired 3 days ago", "expired 2
 * hours ago": truncating to days would say "0 days" for both sides of the
 * end (Vault's 24 h certificates always). */
static void ends_text(long long left, char *buf, size_t cap)
{
    long long a = left < 0 ? -left : left;
    long long n = a >= 86400 ? a / 86400 : a / 3600;
    const char *unit = a >= 86400 ? (n == 1 ? "day" : "days") : (n == 1 ? "hour" : "hours");
    if (left < 0)
        snprintf(buf, cap, "expired %lld %s ago", n, unit);
    else
        snprintf(buf, cap, "ends in %lld %s", n, unit);
}

void krk_health_cert_fields(const krk_state *s, long long *not_after, char *warning,
                            size_t cap, const char *was, krk_diag *d)
{
    long long now = (long long)time(NULL);
    unsigned days = s->cfg.cert_warning_days ? s->cfg.cert_warning_days : 14;
    long long window = (long long)days * 86400;
    warning[0] = '\0';
    long long end = 0;
    /* the certificate in service (the client's TLS context), not the file:
     * a file a server refused is not in service */
    char in_service[64];
    if (s->client && kmip_client_cert_not_after(s->client, in_service, sizeof in_service))
        end = parse_utc(in_service);
    if (end || krk_cert_not_after(s->cfg.client_cert, &end)) /* unreadable: the previous stays */
        *not_after = end;
    char when[64];
    if (end && end - now < window) {
        ends_text(end - now, when, sizeof when);
        snprintf(warning, cap,
                 "the client certificate %.300s %s (within "
                 "\"cert_expiry_warning_days\" %u): renew it; a reload picks the new file up",
                 s->cfg.client_cert, when, days);
    }
    kmip_server_health h[KMIP_MAX_SERVERS];
    size_t n = s->health ? kmip_health_snapshot(s->health, h, KMIP_MAX_SERVERS) : 0;
    for (size_t i = 0; i < n && i < KMIP_MAX_SERVERS; i++) {
        long long srv = h[i].cert_not_after[0] ? parse_utc(h[i].cert_not_after) : 0;
        size_t used = strlen(warning);
        if (srv && srv - now < window && used + 8 < cap) {
            ends_text(srv - now, when, sizeof when);
            snprintf(warning + used, cap - used,
                     "%sthe certificate of KMIP server %.200s %s (%s)",
                     used ? "; " : "", h[i].name, when, h[i].cert_not_after);
        }
    }
    if (warning[0] && d && strcmp(warning, was) != 0)
        krk_warn(d, "%s", warning);
}

void krk_health_check_certs(krk_state *s, krk_diag *d)
{
    char w[sizeof s->cert_warning];
    long long end = 0;
    krk_health_cert_fields(s, &end, w, sizeof w, "", d);
    s->client_cert_not_after = end;
    memcpy(s->cert_warning, w, sizeof w);
}

void krk_cred_stamp(const krk_config *cfg, unsigned long long out[4])
{
    const char *files[3] = {cfg->client_cert, cfg->client_key, cfg->server_ca};
    unsigned long long h = 1469598103934665603ull;
    for (int i = 0; i < 3; i++) {
        struct stat st;
        unsigned long long v[5] = {0};
        if (stat(files[i], &st) == 0) {
            v[0] = (unsigned long long)st.st_dev;
            v[1] = (unsigned long long)st.st_ino;
            v[2] = (unsigned long long)st.st_size;
            v[3] = (unsigned long long)st.st_mtim.tv_sec;
            v[4] = (unsigned long long)st.st_mtim.tv_nsec;
        }
        for (int j = 0; j < 5; j++)
            h = (h ^ v[j]) * 1099511628211ull;
        out[i] = v[3] ^ (v[4] << 1) ^ v[1];
    }
    out[3] = h;
}

size_t krk_metadata_row(krk_metadata_item *items, size_t n, size_t cap, const char *key,
                        const char *fmt, ...)
{
    if (n >= cap)
        return n;
    snprintf(items[n].key, sizeof items[n].key, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(items[n].value, sizeof items[n].value, fmt, ap);
    va_end(ap);
    return n + 1;
}

size_t krk_health_rows(const krk_state *s, krk_metadata_item *items, size_t n, size_t cap)
{
#define ROW(key_, ...) (n = krk_metadata_row(items, n, cap, key_, __VA_ARGS__))
    kmip_server_health h[KMIP_MAX_SERVERS];
    size_t count = s->health ? kmip_health_snapshot(s->health, h, KMIP_MAX_SERVERS) : 0;
    if (count > KMIP_MAX_SERVERS)
        count = KMIP_MAX_SERVERS;
    size_t up = 0;
    unsigned long long failovers = 0;
    const char *current = "(none yet)";
    for (size_t i = 0; i < count; i++) {
        up += h[i].state == KMIP_SERVER_UP;
        failovers += h[i].failovers;
        if (h[i].current)
            current = h[i].name;
    }
    ROW("Servers", "%zu configured, %zu up", count, up);
    ROW("Current_server", "%.271s", current);
    ROW("Failovers", "%llu", failovers);
    for (size_t i = 0; i < count; i++) {
        char key[32], when[32];
        snprintf(key, sizeof key, "Server_%zu", i + 1);
        utc_text(h[i].last_success, when, sizeof when);
        ROW(key, "%s; state=%s; current=%s; last_success=%s; rtt_ms=%u.%03u; requests=%llu; "
            "failures=%llu; failovers=%llu; backoff_ms=%u; cert_not_after=%s; last_error=%s",
            h[i].name, kmip_server_state_name(h[i].state), h[i].current ? "yes" : "no", when,
            h[i].rtt_us / 1000, h[i].rtt_us % 1000, h[i].requests, h[i].failures,
            h[i].failovers, h[i].backoff_left_ms,
            h[i].cert_not_after[0] ? h[i].cert_not_after : "unknown", h[i].last_error);
    }
    if (s->client_cert_not_after) {
        char when[32];
        utc_text(s->client_cert_not_after, when, sizeof when);
        ROW("Client_cert_expires", "%s (%lld days)", when,
            (s->client_cert_not_after - (long long)time(NULL)) / 86400);
    } else {
        ROW("Client_cert_expires", "unknown");
    }
    ROW("Cert_warning", "%s", s->cert_warning);
#undef ROW
    return n;
}

void krk_health_summary(const krk_state *s, krk_health *out)
{
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return;
    kmip_server_health h[KMIP_MAX_SERVERS];
    size_t count = s->health ? kmip_health_snapshot(s->health, h, KMIP_MAX_SERVERS) : 0;
    if (count > KMIP_MAX_SERVERS)
        count = KMIP_MAX_SERVERS;
    out->servers = count;
    for (size_t i = 0; i < count; i++) {
        out->servers_up += h[i].state == KMIP_SERVER_UP;
        out->failovers += h[i].failovers;
        if (h[i].current)
            snprintf(out->current, sizeof out->current, "%.271s", h[i].name);
    }
    out->client_cert_not_after = s->client_cert_not_after;
    snprintf(out->cert_warning, sizeof out->cert_warning, "%s", s->cert_warning);
}

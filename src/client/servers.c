/* SPDX-License-Identifier: GPL-2.0-only */
/* Several KMIP servers: the server list ("host", "host:port",
 * "[v6addr]:port", comma separated), the back-off of a failed server
 * (exponential, capped) and the health every client of one keyring shares
 * (state, last success and error, round trip, failovers), under its own
 * lock so that a status reader never waits for the network. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client_internal.h"

typedef struct kh_server {
    kmip_server_addr addr;
    kmip_server_health h;
    int64_t backoff_until_ms; /* monotonic; 0: not backing off */
    unsigned streak;          /* failures in a row */
} kh_server;

struct kmip_health {
    pthread_mutex_t lock;
    unsigned refs;
    size_t count;
    kh_server s[KMIP_MAX_SERVERS];
};

/* ---- the list ---- */

static kmip_client_err bad(char *msg, size_t cap, const char *entry, size_t len, const char *why)
{
    if (msg && cap) {
        char shown[201]; /* control characters never reach a message or log */
        size_t n = len > 200 ? 200 : len;
        for (size_t i = 0; i < n; i++)
            shown[i] = (unsigned char)entry[i] < 0x20 || entry[i] == 0x7f ? '?' : entry[i];
        shown[n] = '\0';
        snprintf(msg, cap, "server entry \"%s\": %s", shown, why);
    }
    return KMIP_CLIENT_E_ARG;
}

static bool blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* One entry [p, e) (blanks trimmed) into *out. */
static kmip_client_err parse_entry(const char *p, const char *e, unsigned default_port,
                                   kmip_server_addr *out, char *msg, size_t cap)
{
    size_t len = (size_t)(e - p);
    const char *host = p, *host_end, *port = NULL;
    if (len == 0)
        return bad(msg, cap, p, len, "empty (two commas in a row, or a comma at an end?)");
    if (*p == '[') {
        const char *close = memchr(p, ']', len);
        if (close == NULL)
            return bad(msg, cap, p, len, "\"[\" without \"]\" (write \"[v6addr]:port\")");
        host = p + 1;
        host_end = close;
        if (close + 1 < e) {
            if (close[1] != ':')
                return bad(msg, cap, p, len, "expected \":port\" after \"]\"");
            port = close + 2;
        }
        if (host_end == host)
            return bad(msg, cap, p, len, "no address between \"[\" and \"]\"");
    } else {
        const char *colon = memchr(p, ':', len);
        /* two colons or more: a bare IPv6 address (as a single server_addr
         * always was), on the default port; a port needs the brackets */
        if (colon && memchr(colon + 1, ':', (size_t)(e - colon - 1))) {
            colon = NULL;
            /* "::1:5697": an address, but the operator most likely meant
             * [::1]:5697; a last group of 3 to 5 decimal digits after a
             * valid address is refused, brackets say which was meant */
            const char *last = e;
            while (last > p && last[-1] != ':')
                last--;
            size_t digits = (size_t)(e - last), head = (size_t)(last - 1 - p);
            bool decimal = digits >= 3 && digits <= 5;
            for (const char *q = last; decimal && q < e; q++)
                decimal = *q >= '0' && *q <= '9';
            char before[64];
            struct in6_addr a6;
            if (decimal && head > 0 && head < sizeof before) {
                memcpy(before, p, head);
                before[head] = '\0';
                if (inet_pton(AF_INET6, before, &a6) == 1) {
                    char why[200];
                    snprintf(why, sizeof why,
                             "ambiguous: write \"[%s]:%.*s\" for port %.*s, or \"[%.*s]\" for "
                             "that address", before, (int)digits, last, (int)digits, last,
                             (int)len > 100 ? 100 : (int)len, p);
                    return bad(msg, cap, p, len, why);
                }
            }
        }
        host_end = colon ? colon : e;
        port = colon ? colon + 1 : NULL;
        if (host_end == host)
            return bad(msg, cap, p, len, "no host name before \":\"");
    }
    for (const char *q = host; q < host_end; q++) {
        unsigned char ch = (unsigned char)*q;
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return bad(msg, cap, p, len, "a control character or \"\\\" in the host name");
        if (blank(*q) || *q == '[' || *q == ']' || *q == '/' || *q == '"')
            return bad(msg, cap, p, len, "not a host name or address");
    }
    if ((size_t)(host_end - host) >= sizeof out->host - 1)
        return bad(msg, cap, p, len, "host name longer than 253 characters");
    unsigned long n = default_port ? default_port : 5696;
    if (port) {
        if (port == e)
            return bad(msg, cap, p, len, "no port after \":\"");
        n = 0;
        for (const char *q = port; q < e; q++) {
            if (*q < '0' || *q > '9' || n > 65535)
                return bad(msg, cap, p, len, "the port must be a number from 1 to 65535");
            n = n * 10 + (unsigned long)(*q - '0');
        }
        if (n < 1 || n > 65535)
            return bad(msg, cap, p, len, "the port must be a number from 1 to 65535");
    }
    memcpy(out->host, host, (size_t)(host_end - host));
    out->host[host_end - host] = '\0';
    out->port = (unsigned)n;
    return KMIP_CLIENT_OK;
}

kmip_client_err kmip_server_list_parse(const char *list, unsigned default_port,
                                       kmip_server_addr *out, size_t cap, size_t *count,
                                       char *msg, size_t msg_cap)
{
    if (msg && msg_cap)
        msg[0] = '\0';
    *count = 0;
    if (list == NULL || out == NULL || default_port > 65535)
        return KMIP_CLIENT_E_ARG;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        if (end == NULL)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && blank(*a))
            a++;
        while (b > a && blank(b[-1]))
            b--;
        if (*count == cap || *count == KMIP_MAX_SERVERS) {
            if (msg && msg_cap)
                snprintf(msg, msg_cap, "more than %zu servers", cap < KMIP_MAX_SERVERS
                                                                     ? cap : KMIP_MAX_SERVERS);
            return KMIP_CLIENT_E_ARG;
        }
        kmip_client_err e = parse_entry(a, b, default_port, &out[*count], msg, msg_cap);
        if (e != KMIP_CLIENT_OK)
            return e;
        /* a server listed twice: a dead one would cost two connect
         * timeouts and have two health rows */
        for (size_t j = 0; j < *count; j++)
            if (out[j].port == out[*count].port && strcasecmp(out[j].host, out[*count].host) == 0) {
                char why[400], name[272];
                kh_name(&out[j], name, sizeof name);
                snprintf(why, sizeof why, "the same server as entry %zu (%s): list each server "
                         "once", j + 1, name);
                return bad(msg, msg_cap, a, (size_t)(b - a), why);
            }
        (*count)++;
        if (*end == '\0')
            return KMIP_CLIENT_OK;
        p = end + 1;
    }
}

kmip_client_err kmip_client_options_set_server_list(kmip_client_options *o, const char *list,
                                                    unsigned default_port, char *msg,
                                                    size_t msg_cap)
{
    if (o == NULL)
        return KMIP_CLIENT_E_ARG;
    kmip_server_addr *a = calloc(KMIP_MAX_SERVERS, sizeof *a);
    if (a == NULL)
        return KMIP_CLIENT_E_NOMEM;
    size_t n = 0;
    kmip_client_err e =
        kmip_server_list_parse(list, default_port, a, KMIP_MAX_SERVERS, &n, msg, msg_cap);
    char *host = e == KMIP_CLIENT_OK ? strdup(a[0].host) : NULL;
    if (e == KMIP_CLIENT_OK && host == NULL)
        e = KMIP_CLIENT_E_NOMEM;
    if (e != KMIP_CLIENT_OK) {
        free(a);
        return e;
    }
    free(o->host);
    free(o->servers);
    o->host = host;
    o->port = a[0].port;
    o->servers = a;
    o->server_count = n;
    return KMIP_CLIENT_OK;
}

void kmip_client_options_set_backoff(kmip_client_options *o, unsigned base_ms, unsigned cap_ms)
{
    o->backoff_base_ms = base_ms;
    o->backoff_cap_ms = cap_ms;
}

void kh_name(const kmip_server_addr *a, char *buf, size_t cap)
{
    if (strchr(a->host, ':'))
        snprintf(buf, cap, "[%s]:%u", a->host, a->port);
    else
        snprintf(buf, cap, "%s:%u", a->host, a->port);
}

/* ---- the health object ---- */

kmip_health *kmip_health_new(void)
{
    kmip_health *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    h->refs = 1;
    return h;
}

static kmip_health *health_ref(kmip_health *h)
{
    pthread_mutex_lock(&h->lock);
    h->refs++;
    pthread_mutex_unlock(&h->lock);
    return h;
}

kmip_health *kmip_health_ref(kmip_health *h)
{
    return h ? health_ref(h) : NULL;
}

void kmip_health_free(kmip_health *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    unsigned left = --h->refs;
    pthread_mutex_unlock(&h->lock);
    if (left)
        return;
    pthread_mutex_destroy(&h->lock);
    kmip_secure_zero(h, sizeof *h);
    free(h);
}

void kmip_client_options_set_health(kmip_client_options *o, kmip_health *h)
{
    if (h)
        health_ref(h);
    kmip_health_free(o->health);
    o->health = h;
}

kmip_health *kh_options_ref(kmip_health *h)
{
    return h ? health_ref(h) : NULL;
}

const char *kmip_server_state_name(kmip_server_state s)
{
    switch (s) {
    case KMIP_SERVER_UP:
        return "up";
    case KMIP_SERVER_BACKING_OFF:
        return "backing off";
    case KMIP_SERVER_DOWN:
        return "down";
    default:
        return "not contacted yet";
    }
}

/* The state as of now (a window that ended makes a server "down"). */
static void refresh_state(kh_server *s, int64_t now)
{
    if (s->h.state == KMIP_SERVER_BACKING_OFF && now >= s->backoff_until_ms)
        s->h.state = KMIP_SERVER_DOWN;
    s->h.backoff_left_ms = s->h.state == KMIP_SERVER_BACKING_OFF
                               ? (unsigned)(s->backoff_until_ms - now)
                               : 0;
}

size_t kmip_health_snapshot(kmip_health *h, kmip_server_health *out, size_t cap)
{
    if (h == NULL)
        return 0;
    int64_t now = kmip_monotonic_ms();
    pthread_mutex_lock(&h->lock);
    size_t n = h->count;
    for (size_t i = 0; i < n && i < cap; i++) {
        refresh_state(&h->s[i], now);
        out[i] = h->s[i].h;
    }
    pthread_mutex_unlock(&h->lock);
    return n;
}

kmip_health *kmip_client_health(const kmip_client *c)
{
    return c->health;
}

bool kh_attach(kmip_client *c)
{
    c->health = c->opt.health ? health_ref(c->opt.health) : kmip_health_new();
    if (c->health == NULL)
        return false;
    kmip_health *h = c->health;
    pthread_mutex_lock(&h->lock);
    if (h->count == 0) { /* the first client names the servers */
        for (size_t i = 0; i < c->opt.server_count && i < KMIP_MAX_SERVERS; i++) {
            h->s[i].addr = c->opt.servers[i];
            kh_name(&c->opt.servers[i], h->s[i].h.name, sizeof h->s[i].h.name);
        }
        h->count = c->opt.server_count;
    }
    pthread_mutex_unlock(&h->lock);
    return true;
}

void kh_detach(kmip_client *c)
{
    kmip_health_free(c->health);
    c->health = NULL;
}

/* Index i in the shared table (clients of one health object have the same
 * list; a shorter table simply has no entry). */
static kh_server *entry(kmip_health *h, size_t i)
{
    return i < h->count ? &h->s[i] : NULL;
}

size_t kh_order(kmip_client *c, size_t *order)
{
    size_t n = c->opt.server_count, k = 0, soonest = 0;
    int64_t now = kmip_monotonic_ms(), best = INT64_MAX;
    kmip_health *h = c->health;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < n; i++) {
        kh_server *s = entry(h, i);
        int64_t until = s ? s->backoff_until_ms : 0;
        if (until <= now)
            order[k++] = i;
        else if (until < best) {
            best = until;
            soonest = i;
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (k == 0)
        order[k++] = soonest;
    return k;
}

static void logf_(const kmip_client *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(const kmip_client *c, int level, const char *fmt, ...)
{
    if (c->opt.log == NULL)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    c->opt.log(c->opt.log_ctx, level, line);
}

void kh_connected(kmip_client *c, size_t i, const size_t *failed, size_t failed_count,
                  const char *cert_not_after)
{
    kmip_health *h = c->health;
    char from[272] = "", to[272];
    kh_name(&c->opt.servers[i], to, sizeof to);
    size_t old_i = c->has_cur ? c->cur : 0;
    bool moved = c->has_cur && old_i != i, recovered = false, old_failed = false;
    for (size_t k = 0; k < failed_count; k++)
        old_failed |= failed[k] == old_i;
    if (moved)
        kh_name(&c->opt.servers[old_i], from, sizeof from);
    pthread_mutex_lock(&h->lock);
    kh_server *s = entry(h, i);
    if (s) {
        recovered = s->streak > 0;
        s->streak = 0;
        s->backoff_until_ms = 0;
        s->h.state = KMIP_SERVER_UP;
        s->h.last_success = (long long)time(NULL);
        if (cert_not_after)
            snprintf(s->h.cert_not_after, sizeof s->h.cert_not_after, "%s", cert_not_after);
        for (size_t j = 0; j < h->count; j++)
            h->s[j].h.current = j == i;
    }
    /* a failover leaves a server: each one tried and failed on the way
     * here, or the previous server when it failed earlier (backing off,
     * skipped); returning to a higher-priority server is none */
    for (size_t k = 0; k < failed_count; k++) {
        kh_server *f = entry(h, failed[k]);
        if (f)
            f->h.failovers++;
    }
    kh_server *old = moved && i > old_i && !old_failed ? entry(h, old_i) : NULL;
    if (old)
        old->h.failovers++;
    pthread_mutex_unlock(&h->lock);
    if (c->opt.server_count > 1) {
        if (recovered)
            logf_(c, 1, "KMIP server %s is answering again (recovered)", to);
        if (moved && i < old_i)
            logf_(c, 1, "KMIP failover: back to the higher-priority server %s (from %s)", to,
                  from);
        else if (moved || failed_count)
            logf_(c, 1, "KMIP failover: now using %s (%s%s failed)", to,
                  moved ? "after " : "the servers before it",
                  moved ? from : "");
    }
    c->cur = i;
    c->has_cur = true;
}

void kh_failed(kmip_client *c, size_t i, const char *cause)
{
    kmip_health *h = c->health;
    unsigned base = c->opt.backoff_base_ms ? c->opt.backoff_base_ms : KMIP_DEFAULT_BACKOFF_BASE_MS;
    unsigned cap = c->opt.backoff_cap_ms ? c->opt.backoff_cap_ms : KMIP_DEFAULT_BACKOFF_CAP_MS;
    if (cap < base)
        cap = base;
    unsigned window = base;
    kc_forget_version(c, i); /* asked again at its next connection */
    pthread_mutex_lock(&h->lock);
    kh_server *s = entry(h, i);
    if (s) {
        for (unsigned k = 0; k < s->streak && window < cap; k++)
            window = window > cap / 2 ? cap : window * 2;
        s->streak++;
        s->backoff_until_ms = kmip_monotonic_ms() + window;
        s->h.state = KMIP_SERVER_BACKING_OFF;
        s->h.failures++;
        s->h.last_failure = (long long)time(NULL);
        snprintf(s->h.last_error, sizeof s->h.last_error, "%s", cause);
    }
    pthread_mutex_unlock(&h->lock);
    if (c->opt.server_count > 1) {
        char name[272];
        kh_name(&c->opt.servers[i], name, sizeof name);
        logf_(c, 1, "KMIP server %s failed (%s); backing off for %u ms", name, cause, window);
    }
}

/* A server that answered in rtt_us: up, its back-off over. */
static void mark_up(kh_server *s, unsigned rtt_us)
{
    s->h.rtt_us = rtt_us ? rtt_us : 1;
    s->h.requests++;
    s->h.last_success = (long long)time(NULL);
    s->h.state = KMIP_SERVER_UP;
    s->streak = 0;
    s->backoff_until_ms = 0;
}

void kh_exchanged(kmip_client *c, unsigned rtt_us)
{
    if (!c->has_cur)
        return;
    kmip_health *h = c->health;
    pthread_mutex_lock(&h->lock);
    kh_server *s = entry(h, c->cur);
    if (s) {
        mark_up(s, rtt_us);
    }
    pthread_mutex_unlock(&h->lock);
}

void kh_probed(kmip_client *c, size_t i, unsigned rtt_us, const char *cert_not_after)
{
    kmip_health *h = c->health;
    pthread_mutex_lock(&h->lock);
    kh_server *s = entry(h, i);
    if (s) {
        mark_up(s, rtt_us);
        if (cert_not_after)
            snprintf(s->h.cert_not_after, sizeof s->h.cert_not_after, "%s", cert_not_after);
    }
    pthread_mutex_unlock(&h->lock);
}

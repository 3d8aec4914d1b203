/* SPDX-License-Identifier: GPL-2.0-only */
/* Keyring startup with N keys in an object group, through the fault proxy
 * adding LATENCY_US each way (default 500: a 1 ms round trip), against our
 * KMIP test server, in one run:
 *  - ours: krk_open (connect, Discover Versions, Locate pages of 256, then
 *    Get + Get Attributes for 50 keys per request message);
 *  - per key, the pattern of the existing component: Locate, then for each
 *    key a Get on a new TLS connection and a Get Attributes on another.
 * Seconds and request messages, median of RUNS runs with min and max; and
 * the resident memory of a keyring holding the N keys.
 * Usage: bench_startup FIXTURE_DIR TEST_SERVER FAULT_PROXY N [RUNS] [LATENCY_US] */
#include <unistd.h>

#include "../tests/reliability/fault_env.h"
#include "bench_util.h"
#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"

static fenv E;
static char group[64];

static krk_config config_for(unsigned port)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/startup-%u.cnf", E.dir, port);
    if (!fenv_write_keyring_config(&E, path, port, group, 60000, NULL, NULL))
        exit(1);
    krk_config cfg;
    krk_diag d;
    if (krk_config_read(path, &cfg, &d) != KRK_OK) {
        fprintf(stderr, "%s\n", d.error);
        exit(1);
    }
    return cfg;
}

static void fill(int n)
{
    krk_config cfg = config_for(E.server_port);
    krk_keyring *k;
    krk_diag d;
    if (krk_open(&cfg, &k, &d) != KRK_OK) {
        fprintf(stderr, "%s\n", d.error);
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        char id[32];
        uint8_t material[32];
        snprintf(id, sizeof id, "key-%05d", i);
        memset(material, i & 0xFF, sizeof material);
        if (krk_store(k, id, "", material, sizeof material, "AES") != KRK_OK) {
            fprintf(stderr, "%s\n", krk_last_error(k));
            exit(1);
        }
    }
    krk_close(k);
}

/* ---- per key, a new connection for every request ---- */

typedef struct uids {
    char (*ids)[64];
    size_t count, cap;
} uids;

static bool add_uid(void *ctx, const char *uid, size_t len)
{
    uids *u = ctx;
    if (u->count == u->cap || len >= sizeof u->ids[0])
        return false;
    memcpy(u->ids[u->count], uid, len);
    u->ids[u->count++][len] = '\0';
    return true;
}

static kmip_client *connect_new(void)
{
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL || kmip_client_options_set_server(o, "127.0.0.1", E.proxy_port) ||
        kmip_client_options_set_ca(o, E.ca) || kmip_client_options_set_cert(o, E.cert, E.key))
        exit(1);
    kmip_client_options_pin_version(o, KMIP_VERSION(1, 4)); /* no negotiation, as libkmip */
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    if (c == NULL)
        exit(1);
    return c;
}

/* Returns the request messages sent. */
static unsigned long per_key_load(int n)
{
    uids u = {malloc((size_t)n * sizeof *u.ids), 0, (size_t)n};
    kmip_client *c = connect_new();
    kmip_locate_filter f = {0};
    f.object_group = group;
    f.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    f.state = KMIP_STATE_ACTIVE;
    if (u.ids == NULL || kmip_client_locate(c, &f, add_uid, &u) != KMIP_CLIENT_OK ||
        u.count != (size_t)n) {
        fprintf(stderr, "per-key Locate: %s\n", kmip_client_error_message(c));
        exit(1);
    }
    kmip_client_stats st;
    kmip_client_get_stats(c, &st);
    unsigned long requests = (unsigned long)st.requests;
    kmip_client_free(c);
    static const uint32_t wanted[] = {KMIP_TAG_NAME, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION};
    for (size_t i = 0; i < u.count; i++) {
        uint8_t *key;
        size_t len;
        c = connect_new();
        if (kmip_client_get_key(c, u.ids[i], &key, &len, NULL) != KMIP_CLIENT_OK)
            exit(1);
        kmip_secure_free(key, len);
        kmip_client_free(c);
        c = connect_new();
        kmip_message *resp = NULL;
        if (kmip_client_get_attributes(c, u.ids[i], wanted, 2, &resp) != KMIP_CLIENT_OK)
            exit(1);
        kmip_message_free(resp);
        kmip_client_free(c);
        requests += 2;
    }
    free(u.ids);
    return requests;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: bench_startup FIXTURE_DIR TEST_SERVER FAULT_PROXY N [RUNS] "
                        "[LATENCY_US]\n");
        return 2;
    }
    int n = atoi(argv[4]);
    int runs = argc > 5 ? atoi(argv[5]) : 3;
    long latency = argc > 6 ? atol(argv[6]) : 500;
    if (n < 1 || runs < 1 || runs > 50)
        return 2;
    char name[64];
    snprintf(name, sizeof name, "bench-startup-%d", n);
    snprintf(group, sizeof group, "startup-%d", n);
    if (!fenv_init(&E, argv[1], name, argv[2], argv[3]))
        return 1;
    E.stateless = true; /* a state file saved per change would dominate */
    if (!fenv_server_start(&E) || !fenv_proxy_start(&E))
        return 1;
    fill(n);
    char cmd[64], out[64];
    snprintf(cmd, sizeof cmd, "latency %ld %ld", latency, latency);
    if (!fenv_ctl(E.proxy_ctl, cmd, out, sizeof out))
        return 1;
    krk_config cfg = config_for(E.proxy_port);
    double *ours = calloc((size_t)runs, sizeof *ours), *theirs = calloc((size_t)runs, sizeof *theirs);
    uint64_t our_requests = 0;
    unsigned long their_requests = 0;
    long rss_before = bench_rss_kib(), rss_with = 0; /* VmRSS with the keyring open */
    for (int r = 0; r < runs; r++) {
        krk_keyring *k;
        krk_diag d;
        double t0 = bench_now();
        if (krk_open(&cfg, &k, &d) != KRK_OK || krk_key_count(k) != (size_t)n) {
            fprintf(stderr, "%s\n", d.error);
            return 1;
        }
        ours[r] = bench_now() - t0;
        our_requests = krk_load_requests(k);
        if (r == 0) /* before any per-key run has used the heap */
            rss_with = bench_rss_kib();
        krk_close(k);
        t0 = bench_now();
        their_requests = per_key_load(n);
        theirs[r] = bench_now() - t0;
    }
    char label[160];
    snprintf(label, sizeof label, "%d keys: keyring_kmip batched load", n);
    bench_row("startup", label, ours, runs, "s");
    double our_median = ours[runs / 2];
    snprintf(label, sizeof label, "%d keys: per-key load, new connection per request", n);
    bench_row("startup", label, theirs, runs, "s");
    double their_median = theirs[runs / 2];
    bench_note("startup", "%d keys over a %.1f ms round trip: %llu request messages batched, "
               "%lu per key (%d TLS connections); per-key / batched = %.1fx (medians, same run)",
               n, 2.0 * (double)latency / 1000.0, (unsigned long long)our_requests,
               their_requests, 2 * n + 1, their_median / our_median);
    double rss_total[1] = {(double)rss_with};
    snprintf(label, sizeof label, "process holding a keyring of %d keys: resident memory", n);
    bench_row("memory", label, rss_total, 1, "KiB");
    (void)rss_before;
    free(ours);
    free(theirs);
    fenv_stop(&E);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Keyring startup with N keys in an object group, through the fault proxy
 * adding LATENCY_US each way (default 500: a 1 ms round trip), against our
 * KMIP test server, in one run, three patterns (all with our client library,
 * so that only the access pattern differs):
 *  - ours: krk_open (connect, Discover Versions, Locate pages of 256, then
 *    Get + Get Attributes for 50 keys per request message);
 *  - "Percona G1 pattern" (kmippp, Percona-Lab/libkmip's first generation):
 *    one TLS connection per backend call, three of them; each enumerates
 *    the group with Locate in pages of 16 (until a short page); on the
 *    third, for every key a Get message and a Get Attributes (Name) message;
 *  - "Percona G3 pattern" (kmipclient): one TLS connection; Locate pages of
 *    256, then for every key one request message holding {Get, Get
 *    Attributes (Name)}.
 * Request messages and TLS connections are the test server's own counters
 * ("stats" on its control port, before and after), not formulas; the round
 * trip is measured (a Get through the proxy against the same Get direct),
 * and the test server's CPU time (/proc/PID/stat) during each load is given
 * as a share of the load's wall time.
 * Seconds, median of RUNS runs with min and max (THEIR_RUNS for G1 and G3;
 * 0 leaves them out); and the resident memory of a process holding a
 * keyring of the N keys: measured in HOLD_RUNS fresh processes (this
 * program re-executed in its hold mode: read the configuration, krk_open
 * through the proxy, VmRSS, exit), so that neither the fill nor the other
 * patterns' heap is in the figure.
 * Usage: bench_startup FIXTURE_DIR TEST_SERVER FAULT_PROXY N [RUNS] [LATENCY_US] [THEIR_RUNS]
 *        bench_startup --hold CONFIG N (the hold mode: prints one HOLD line) */
#include <malloc.h>
#include <spawn.h>
#include <sys/wait.h>
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

/* ---- counters ---- */

typedef struct counters {
    unsigned long requests, connections;
    double server_cpu; /* seconds */
} counters;

static double server_cpu(void)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)E.server_pid);
    FILE *f = fopen(path, "r");
    double s = 0;
    if (f && fgets(line, sizeof line, f)) {
        char *p = strrchr(line, ')'); /* fields after the command name */
        unsigned long ut = 0, st = 0;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                        &st) == 2)
            s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    if (f)
        fclose(f);
    return s;
}

static counters read_counters(void)
{
    char out[160];
    counters c = {0, 0, 0};
    if (!fenv_ctl(E.server_ctl, "stats", out, sizeof out) ||
        sscanf(out, "requests=%lu connections=%lu", &c.requests, &c.connections) != 2) {
        fprintf(stderr, "test server stats: %s\n", out);
        exit(1);
    }
    c.server_cpu = server_cpu();
    return c;
}

static counters since(counters before)
{
    counters now = read_counters();
    return (counters){now.requests - before.requests, now.connections - before.connections,
                      now.server_cpu - before.server_cpu};
}

/* ---- our client library, the access patterns of Percona's clients ---- */

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

static kmip_client *connect_to(unsigned port)
{
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL || kmip_client_options_set_server(o, "127.0.0.1", port) ||
        kmip_client_options_set_ca(o, E.ca) || kmip_client_options_set_cert(o, E.cert, E.key))
        exit(1);
    kmip_client_options_pin_version(o, KMIP_VERSION(1, 4)); /* no negotiation, as libkmip */
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    if (c == NULL)
        exit(1);
    return c;
}

static void locate_all(kmip_client *c, uids *u, int32_t page)
{
    kmip_locate_filter f = {0};
    f.object_group = group;
    f.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    f.state = KMIP_STATE_ACTIVE;
    f.page_size = page;
    u->count = 0;
    if (kmip_client_locate(c, &f, add_uid, u) != KMIP_CLIENT_OK) {
        fprintf(stderr, "Locate: %s\n", kmip_client_error_message(c));
        exit(1);
    }
}

static const uint32_t name_tag[] = {KMIP_TAG_NAME};

/* Percona G1 (kmippp): a connection per backend call. */
static void g1_load(int n)
{
    uids u = {malloc((size_t)n * sizeof *u.ids), 0, (size_t)n};
    if (u.ids == NULL)
        exit(1);
    kmip_client *c = NULL;
    for (int call = 0; call < 3; call++) {
        c = connect_to(E.proxy_port);
        locate_all(c, &u, 16);
        if (u.count != (size_t)n) {
            fprintf(stderr, "G1 Locate found %zu of %d\n", u.count, n);
            exit(1);
        }
        if (call < 2)
            kmip_client_free(c);
    }
    for (size_t i = 0; i < u.count; i++) {
        uint8_t *key;
        size_t len;
        if (kmip_client_get_key(c, u.ids[i], &key, &len, NULL) != KMIP_CLIENT_OK)
            exit(1);
        kmip_secure_free(key, len);
        kmip_message *resp = NULL;
        if (kmip_client_get_attributes(c, u.ids[i], name_tag, 1, &resp) != KMIP_CLIENT_OK)
            exit(1);
        kmip_message_free(resp);
    }
    kmip_client_free(c);
    free(u.ids);
}

/* Percona G3 (kmipclient): one connection, {Get, Get Attributes} per key. */
static void g3_load(int n)
{
    uids u = {malloc((size_t)n * sizeof *u.ids), 0, (size_t)n};
    if (u.ids == NULL)
        exit(1);
    kmip_client *c = connect_to(E.proxy_port);
    locate_all(c, &u, 256);
    if (u.count != (size_t)n)
        exit(1);
    for (size_t i = 0; i < u.count; i++) {
        kmip_message *req, *resp = NULL;
        if (kmip_client_request(c, &req) != KMIP_CLIENT_OK ||
            kmip_req_add_get(req, u.ids[i], 0) != KMIP_CLIENT_OK ||
            kmip_req_add_get_attributes(req, u.ids[i], name_tag, 1) != KMIP_CLIENT_OK ||
            kmip_client_call(c, req, &resp) != KMIP_CLIENT_OK) {
            fprintf(stderr, "G3: %s\n", kmip_client_error_message(c));
            exit(1);
        }
        kmip_message_free(req);
        kmip_message_free(resp);
    }
    kmip_client_free(c);
    free(u.ids);
}

/* Median seconds per Get of one key over a persistent connection. */
static double get_time(unsigned port, const char *uid)
{
    kmip_client *c = connect_to(port);
    double t[201];
    for (int i = -5; i < 201; i++) {
        uint8_t *key;
        size_t len;
        double t0 = bench_now();
        if (kmip_client_get_key(c, uid, &key, &len, NULL) != KMIP_CLIENT_OK)
            exit(1);
        if (i >= 0)
            t[i] = bench_now() - t0;
        kmip_secure_free(key, len);
    }
    kmip_client_free(c);
    qsort(t, 201, sizeof t[0], bench_cmp);
    return t[100];
}

/* The round trip the proxy adds, in ms: a Get through it minus the same
 * Get direct, the smaller of three tries (other processes on the machine
 * only ever add to a measurement). */
static double round_trip_ms(const char *uid, double *via_ms, double *direct_ms)
{
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double via = get_time(E.proxy_port, uid), direct = get_time(E.server_port, uid);
        if ((via - direct) * 1000 < best) {
            best = (via - direct) * 1000;
            *via_ms = via * 1000;
            *direct_ms = direct * 1000;
        }
    }
    return best;
}

/* ---- the resident memory of a process holding the keyring ---- */

#define HOLD_RUNS 3

/* The hold mode: a process that did nothing before but open the keyring
 * (as mysqld does at its start): VmRSS with it open, and the malloc heap's
 * bytes in use and free (every arena), in KiB. */
static int hold(const char *config, int n)
{
    krk_config cfg;
    krk_diag d;
    krk_keyring *k;
    if (krk_config_read(config, &cfg, &d) != KRK_OK || krk_open(&cfg, &k, &d) != KRK_OK ||
        krk_key_count(k) != (size_t)n) {
        fprintf(stderr, "hold: %s\n", d.error);
        return 1;
    }
    long rss = bench_rss_kib();
    struct mallinfo2 mi = mallinfo2();
    printf("HOLD %ld %zu %zu\n", rss, mi.uordblks / 1024, mi.fordblks / 1024);
    krk_close(k);
    return 0;
}

/* Runs this program's hold mode on config; false on failure. */
static bool hold_in_new_process(const char *config, int n, long out[3])
{
    char self[1024], count[16];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    int fd[2];
    if (len <= 0 || pipe(fd) != 0)
        return false;
    self[len] = '\0';
    snprintf(count, sizeof count, "%d", n);
    char *argv[] = {self, "--hold", (char *)config, count, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    extern char **environ;
    int rc = posix_spawn(&pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    FILE *f = rc == 0 ? fdopen(fd[0], "r") : NULL;
    char line[128] = "";
    bool ok = f && fgets(line, sizeof line, f) &&
              sscanf(line, "HOLD %ld %ld %ld", &out[0], &out[1], &out[2]) == 3;
    if (f)
        fclose(f);
    else
        close(fd[0]);
    int status = 0;
    if (rc == 0 && waitpid(pid, &status, 0) != pid)
        return false;
    return ok && rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--hold") == 0)
        return hold(argv[2], atoi(argv[3]));
    if (argc < 5) {
        fprintf(stderr, "usage: bench_startup FIXTURE_DIR TEST_SERVER FAULT_PROXY N [RUNS] "
                        "[LATENCY_US] [THEIR_RUNS]\n");
        return 2;
    }
    int n = atoi(argv[4]);
    int runs = argc > 5 ? atoi(argv[5]) : 3;
    long latency = argc > 6 ? atol(argv[6]) : 500;
    int their_runs = argc > 7 ? atoi(argv[7]) : runs;
    if (n < 1 || runs < 1 || runs > 50 || their_runs < 0 || their_runs > runs)
        return 2;
    char name[64];
    snprintf(name, sizeof name, "bench-startup-%d", n);
    snprintf(group, sizeof group, "startup-%d", n);
    if (!fenv_init(&E, argv[1], name, argv[2], argv[3]))
        return 1;
    E.stateless = true; /* a state file saved per change would dominate */
    if (!fenv_server_start(&E) || !fenv_proxy_start(&E))
        return 1;
    double fill_t0 = bench_now();
    fill(n);
    double fill_s = bench_now() - fill_t0;
    char cmd[64], out[64];
    snprintf(cmd, sizeof cmd, "latency %ld %ld", latency, latency);
    if (!fenv_ctl(E.proxy_ctl, cmd, out, sizeof out))
        return 1;
    /* the round trip the proxy adds, measured */
    uids one = {malloc(sizeof *one.ids), 0, 1};
    kmip_client *lc = connect_to(E.server_port);
    kmip_locate_filter lf = {0};
    lf.object_group = group;
    if (one.ids == NULL || kmip_client_locate(lc, &lf, add_uid, &one) != KMIP_CLIENT_OK ||
        one.count != 1)
        return 1;
    kmip_client_free(lc);
    double via_ms, direct_ms, rtt_ms = round_trip_ms(one.ids[0], &via_ms, &direct_ms);
    long asked = latency;
    for (int i = 0; i < 4 && (rtt_ms - 2.0 * (double)asked / 1000 > 0.02 ||
                              rtt_ms - 2.0 * (double)asked / 1000 < -0.02); i++) {
        /* the proxy's own relaying adds to the delay it is given: ask for
         * less until the measured round trip is the one wanted (never less
         * than 60 % of it: a burst of load must not make it a shorter trip) */
        latency -= (long)((rtt_ms - 2.0 * (double)asked / 1000) * 500);
        if (latency < asked * 6 / 10)
            latency = asked * 6 / 10;
        if (latency > asked)
            latency = asked;
        snprintf(cmd, sizeof cmd, "latency %ld %ld", latency, latency);
        if (!fenv_ctl(E.proxy_ctl, cmd, out, sizeof out))
            return 1;
        rtt_ms = round_trip_ms(one.ids[0], &via_ms, &direct_ms);
    }
    krk_config cfg = config_for(E.proxy_port);
    double *t[3], *share[3];
    counters last[3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    for (int p = 0; p < 3; p++) {
        t[p] = calloc((size_t)runs, sizeof **t);
        share[p] = calloc((size_t)runs, sizeof **share);
        if (t[p] == NULL || share[p] == NULL)
            return 1;
    }
    for (int r = 0; r < runs; r++) {
        for (int p = 0; p < 3; p++) {
            if (p > 0 && r >= their_runs)
                continue;
            counters before = read_counters();
            double t0 = bench_now();
            if (p == 0) {
                krk_keyring *k;
                krk_diag d;
                if (krk_open(&cfg, &k, &d) != KRK_OK || krk_key_count(k) != (size_t)n) {
                    fprintf(stderr, "%s\n", d.error);
                    return 1;
                }
                t[p][r] = bench_now() - t0;
                krk_close(k);
            } else if (p == 1) {
                g1_load(n);
                t[p][r] = bench_now() - t0;
            } else {
                g3_load(n);
                t[p][r] = bench_now() - t0;
            }
            last[p] = since(before);
            share[p][r] = 100.0 * last[p].server_cpu / t[p][r];
        }
    }
    static const char *const names[3] = {"keyring_kmip batched load", "Percona G1 pattern",
                                         "Percona G3 pattern"};
    double med[3] = {0, 0, 0};
    char label[200];
    for (int p = 0; p < 3; p++) {
        int m = p == 0 ? runs : their_runs;
        if (m == 0)
            continue;
        snprintf(label, sizeof label, "%d keys: %s", n, names[p]);
        double *copy = calloc((size_t)m, sizeof *copy);
        if (copy == NULL)
            return 1;
        memcpy(copy, t[p], (size_t)m * sizeof *copy);
        med[p] = median_of(copy, m);
        free(copy);
        bench_row("startup", label, t[p], m, "s");
        snprintf(label, sizeof label, "%d keys: %s: test server CPU, share of the load's time", n,
                 names[p]);
        bench_row("startup-server", label, share[p], m, "%");
        bench_note("startup-server", "%d keys, %s: the server's CPU time is counted in clock "
                   "ticks of %.0f ms (/proc/PID/stat), so with a load of %.3f s (median) each "
                   "share is known to about %.0f %% (one tick either way)", n, names[p],
                   1000.0 / (double)sysconf(_SC_CLK_TCK), med[p],
                   med[p] > 0 ? 100.0 / (double)sysconf(_SC_CLK_TCK) / med[p] : 0.0);
        bench_note("startup", "%d keys, %s: %lu request messages, %lu TLS connections (test "
                   "server's counters, last run)", n, names[p], last[p].requests,
                   last[p].connections);
    }
    double via_after, direct_after, rtt_after = round_trip_ms(one.ids[0], &via_after, &direct_after);
    bench_note("startup", "%d keys: round trip measured %.3f ms before the loads and %.3f ms after "
               "them (a Get through the proxy %.3f ms, direct %.3f ms: medians of 201, the "
               "smallest difference of 3 tries; asked for %.3f ms, the proxy set to %ld us each "
               "way to give it)", n, rtt_ms, rtt_after, via_ms, direct_ms,
               2.0 * (double)asked / 1000, latency);
    if (their_runs > 0)
        bench_note("startup", "%d keys: G1 / ours = %.1fx, G3 / ours = %.1fx (medians, same run)",
                   n, med[1] / med[0], med[2] / med[0]);
    bench_note("startup", "%d keys: filling the server (krk_store per key, direct) took %.1f s",
               n, fill_s);
    printf("DATA|startup|%d|%.6g|%.6g|%.6g|%.4f\n", n, med[0], med[1], med[2], rtt_ms);
    free(one.ids);
    /* the configuration of the timed loads: through the proxy, its delay */
    char config[1300];
    snprintf(config, sizeof config, "%s/startup-%u.cnf", E.dir, E.proxy_port);
    double rss[HOLD_RUNS], in_use[HOLD_RUNS], heap_free[HOLD_RUNS];
    for (int i = 0; i < HOLD_RUNS; i++) {
        long h[3];
        if (!hold_in_new_process(config, n, h)) {
            fprintf(stderr, "the hold process failed\n");
            fenv_stop(&E); /* the server and the proxy are this process's to stop */
            return 1;
        }
        rss[i] = (double)h[0];
        in_use[i] = (double)h[1];
        heap_free[i] = (double)h[2];
    }
    snprintf(label, sizeof label, "process holding a keyring of %d keys: resident memory", n);
    bench_row("memory", label, rss, HOLD_RUNS, "KiB");
    snprintf(label, sizeof label, "process holding a keyring of %d keys: malloc heap in use", n);
    bench_row("memory", label, in_use, HOLD_RUNS, "KiB");
    snprintf(label, sizeof label, "process holding a keyring of %d keys: malloc heap free "
             "(every arena)", n);
    bench_row("memory", label, heap_free, HOLD_RUNS, "KiB");
    for (int p = 0; p < 3; p++) {
        free(t[p]);
        free(share[p]);
    }
    fenv_stop(&E);
    return 0;
}

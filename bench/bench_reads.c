/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads from the keyring's cache: krk_reader_init + fetch + deinit of a
 * 32-byte key out of 1,000 (key ids made before the timed loop), at 1, 2, 4
 * and 8 threads, without and with a writer thread storing and removing
 * keys on the KMIP test server at the same time: nanoseconds per call as
 * each reader thread sees it, aggregate reads per second, each thread's CPU
 * time per read and the share of the run it was on a core. The runs of
 * the different thread counts are interleaved (1, 2, 4, 8, 1, 2, ...), and
 * the scaling ratio 2 threads / 1 thread is taken per round from two runs
 * a second apart: median, min and max of RUNS rounds of SECONDS each.
 * Threads are pinned to a CPU each when there are enough (bench_threads.h;
 * BENCH_NO_PIN=1 turns it off); the CPUs the process may run on and the
 * load average at start and end are printed.
 * Usage: bench_reads FIXTURE_DIR TEST_SERVER */
#define _GNU_SOURCE /* sched_setaffinity, getloadavg */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "../tests/reliability/fault_env.h"
#include "bench_threads.h"
#include "bench_util.h"
#include "keyring_kmip/krk.h"

#define KEYS 1000
#define RUNS 7
#define SECONDS 0.3

static krk_keyring *K;
static char ids[KEYS][16]; /* made before any timed loop */

static unsigned long reader_loop(void *ctx, int thread, const atomic_bool *stop)
{
    (void)ctx;
    uint32_t x = ((unsigned)thread * 2654435761u + 1u) | 1; /* xorshift32, per thread */
    uint8_t buf[64];
    char type[16];
    unsigned long calls = 0;
    while (!atomic_load_explicit(stop, memory_order_relaxed)) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        krk_reader *r;
        size_t len, tl;
        if (krk_reader_init(K, ids[x % KEYS], "", &r) != KRK_OK ||
            krk_reader_fetch(r, buf, sizeof buf, &len, type, sizeof type, &tl) != KRK_OK)
            exit(1);
        krk_reader_deinit(r);
        calls++;
    }
    return calls;
}

static _Alignas(64) atomic_bool writer_stop;
static _Alignas(64) atomic_ulong writes;

static void *writer_main(void *p)
{
    (void)p;
    uint8_t key[32] = {7};
    for (unsigned i = 0; !atomic_load(&writer_stop); i++) {
        char id[32];
        snprintf(id, sizeof id, "writer-%u", i);
        if (krk_store(K, id, "", key, sizeof key, "AES") != KRK_OK ||
            krk_remove(K, id, "") != KRK_OK)
            exit(1);
        atomic_fetch_add(&writes, 2);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_reads FIXTURE_DIR TEST_SERVER\n");
        return 2;
    }
    fenv E;
    if (!fenv_init(&E, argv[1], "bench-reads", argv[2], ""))
        return 1;
    E.stateless = true;
    bench_print_load("reads", "at the start");
    if (!fenv_server_start(&E))
        return 1;
    char path[1300];
    snprintf(path, sizeof path, "%s/reads.cnf", E.dir);
    if (!fenv_write_keyring_config(&E, path, E.server_port, "reads", 0, NULL, NULL))
        return 1;
    krk_config cfg;
    krk_diag d;
    if (krk_config_read(path, &cfg, &d) != KRK_OK || krk_open(&cfg, &K, &d) != KRK_OK) {
        fprintf(stderr, "%s\n", d.error);
        return 1;
    }
    for (int i = 0; i < KEYS; i++) {
        uint8_t key[32];
        memset(key, i, sizeof key);
        snprintf(ids[i], sizeof ids[i], "key-%04d", i);
        if (krk_store(K, ids[i], "", key, sizeof key, "AES") != KRK_OK)
            return 1;
    }
    int cpus[CPU_SETSIZE];
    int cores = bench_cpus(cpus, CPU_SETSIZE);
    static const int counts[] = {1, 2, 4, 8};
    double agg[2][4];
    bool pinned_all = true;
    for (int w = 0; w < 2; w++) {
        double ns[4][RUNS], rate[4][RUNS], cpu_ns[4][RUNS], share[4][RUNS], ratio[RUNS];
        double fair[RUNS]; /* the ratios of rounds where the threads had their cores */
        int nfair = 0;
        bool full[2] = {false, false};
        pthread_t wt;
        atomic_store(&writes, 0);
        atomic_store(&writer_stop, false);
        if (w && pthread_create(&wt, NULL, writer_main, NULL) != 0)
            return 1;
        for (int r = 0; r < RUNS; r++) {
            for (size_t c = 0; c < 4; c++) {
                bench_mt_result m = bench_mt_run(counts[c], SECONDS, reader_loop, NULL);
                ns[c][r] = m.wall * counts[c] / m.calls * 1e9;
                rate[c][r] = m.calls / m.wall;
                cpu_ns[c][r] = m.cpu / m.calls * 1e9;
                share[c][r] = 100 * m.cpu / (m.wall * counts[c]);
                if (counts[c] >= 2 && counts[c] <= cores && !m.pinned)
                    pinned_all = false;
                if (c < 2)
                    full[c] = share[c][r] >= 95;
            }
            ratio[r] = rate[1][r] / rate[0][r];
            if (full[0] && full[1])
                fair[nfair++] = ratio[r];
        }
        atomic_store(&writer_stop, true);
        if (w)
            pthread_join(wt, NULL);
        const char *wl = w ? ", a writer storing at the same time" : "";
        for (size_t c = 0; c < 4; c++) {
            const char *s = counts[c] > 1 ? "s" : "";
            char label[160];
            snprintf(label, sizeof label, "cache read, %d reader thread%s%s", counts[c], s, wl);
            bench_row("reads", label, ns[c], RUNS, "ns/call");
            snprintf(label, sizeof label, "cache reads, %d reader thread%s%s: aggregate",
                     counts[c], s, wl);
            bench_row("reads-rate", label, rate[c], RUNS, "reads/s");
            snprintf(label, sizeof label, "cache read, %d reader thread%s%s: CPU time per read",
                     counts[c], s, wl);
            bench_row("reads-cpu", label, cpu_ns[c], RUNS, "ns/call");
            snprintf(label, sizeof label, "cache read, %d reader thread%s%s: on a core", counts[c],
                     s, wl);
            bench_row("reads-cpu", label, share[c], RUNS, "% of the run");
            agg[w][c] = rate[c][RUNS / 2]; /* sorted by bench_row: the median */
            printf("DATA|reads|%d|%d|%.6g\n", w, counts[c], agg[w][c]);
        }
        char label[160];
        snprintf(label, sizeof label, "cache reads%s: aggregate of 2 threads / 1 thread, "
                 "per round", wl);
        bench_row("reads-scaling", label, ratio, RUNS, "x");
        if (nfair > 0) {
            snprintf(label, sizeof label, "cache reads%s: aggregate of 2 threads / 1 thread, "
                     "rounds where each thread was on a core 95%% of the run or more", wl);
            bench_row("reads-scaling", label, fair, nfair, "x");
        }
        bench_note("reads-scaling", "%s: in %d of %d rounds the 1-thread and 2-thread runs "
                   "each had a core for 95%% of the run or more (other processes took the rest)",
                   w ? "with the writer" : "no writer", nfair, RUNS);
        if (w)
            bench_note("reads", "with the writer: it stored and removed %lu keys on the KMIP "
                       "server meanwhile (%.0f per second)", atomic_load(&writes),
                       (double)atomic_load(&writes) / (4 * RUNS * SECONDS));
    }
    bench_note("reads", "%d CPU cores in this process's affinity mask (%ld online); %s; with more "
               "reader threads than cores a call's time includes waiting for a core", cores,
               sysconf(_SC_NPROCESSORS_ONLN),
               pinned_all ? "with 2 to that many threads each thread was pinned to its own (1 thread is not pinned)"
                          : "threads were NOT pinned to their own core");
    bench_note("reads", "aggregate throughput, 2 threads / 1 thread: %.2fx; 4 / 1: %.2fx; 8 / 1: "
               "%.2fx (medians of each, same run, no writer; reads-scaling gives the ratio per "
               "round)", agg[0][1] / agg[0][0], agg[0][2] / agg[0][0], agg[0][3] / agg[0][0]);
    bench_print_load("reads", "at the end");
    krk_close(K);
    fenv_stop(&E);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Reads from the keyring's cache: krk_reader_init + fetch + deinit of a
 * 32-byte key out of 1,000 (key ids made before the timed loop),
 * aggregate reads per second and nanoseconds per call as each reader
 * thread sees it, at 1, 2, 4 and 8 threads, without and with a writer
 * thread storing and removing keys on the KMIP test server at the same
 * time; the CPU cores the process may run on are printed. Median of RUNS
 * runs of SECONDS each.
 * Usage: bench_reads FIXTURE_DIR TEST_SERVER */
#define _GNU_SOURCE /* sched_getaffinity */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "../tests/reliability/fault_env.h"
#include "bench_util.h"
#include "keyring_kmip/krk.h"

#define KEYS 1000
#define RUNS 5
#define SECONDS 0.4

static krk_keyring *K;
static atomic_bool stop;
static char ids[KEYS][16]; /* made before any timed loop */

typedef struct reader_arg {
    unsigned seed;
    unsigned long calls;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *a = p;
    uint32_t x = a->seed | 1;
    uint8_t buf[64];
    char type[16];
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        x ^= x << 13; /* xorshift32 */
        x ^= x >> 17;
        x ^= x << 5;
        krk_reader *r;
        size_t len, tl;
        if (krk_reader_init(K, ids[x % KEYS], "", &r) != KRK_OK ||
            krk_reader_fetch(r, buf, sizeof buf, &len, type, sizeof type, &tl) != KRK_OK)
            exit(1);
        krk_reader_deinit(r);
        a->calls++;
    }
    return NULL;
}

static atomic_ulong writes;

static void *writer_main(void *p)
{
    (void)p;
    uint8_t key[32] = {7};
    for (unsigned i = 0; !atomic_load(&stop); i++) {
        char id[32];
        snprintf(id, sizeof id, "writer-%u", i);
        if (krk_store(K, id, "", key, sizeof key, "AES") != KRK_OK ||
            krk_remove(K, id, "") != KRK_OK)
            exit(1);
        atomic_fetch_add(&writes, 2);
    }
    return NULL;
}

/* ns per call for one run; *rate the aggregate calls per second. */
static double run(int threads, bool writer, double *rate)
{
    pthread_t t[8], w;
    reader_arg a[8];
    atomic_store(&stop, false);
    if (writer && pthread_create(&w, NULL, writer_main, NULL) != 0)
        exit(1);
    double t0 = bench_now();
    for (int i = 0; i < threads; i++) {
        a[i] = (reader_arg){(unsigned)i * 2654435761u + 1u, 0};
        if (pthread_create(&t[i], NULL, reader_main, &a[i]) != 0)
            exit(1);
    }
    while (bench_now() - t0 < SECONDS)
        usleep(10000);
    atomic_store(&stop, true);
    unsigned long calls = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        calls += a[i].calls;
    }
    double elapsed = bench_now() - t0;
    if (writer)
        pthread_join(w, NULL);
    *rate = (double)calls / elapsed;
    return elapsed * threads / (double)calls * 1e9;
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
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    static const int counts[] = {1, 2, 4, 8};
    double agg[2][4];
    for (int w = 0; w < 2; w++) {
        for (size_t c = 0; c < 4; c++) {
            double ns[RUNS], rate[RUNS];
            atomic_store(&writes, 0);
            for (int r = 0; r < RUNS; r++)
                ns[r] = run(counts[c], w, &rate[r]);
            char label[128];
            snprintf(label, sizeof label, "cache read, %d reader thread%s%s", counts[c],
                     counts[c] > 1 ? "s" : "", w ? ", a writer storing at the same time" : "");
            bench_row("reads", label, ns, RUNS, "ns/call");
            snprintf(label, sizeof label, "cache reads, %d reader thread%s%s: aggregate", counts[c],
                     counts[c] > 1 ? "s" : "", w ? ", a writer storing at the same time" : "");
            bench_row("reads-rate", label, rate, RUNS, "reads/s");
            agg[w][c] = rate[RUNS / 2];
            printf("DATA|reads|%d|%d|%.6g\n", w, counts[c], agg[w][c]);
            if (w)
                bench_note("reads", "%d reader(s): the writer stored and removed %lu keys on the "
                           "KMIP server meanwhile (%.0f per second)",
                           counts[c], atomic_load(&writes),
                           (double)atomic_load(&writes) / (RUNS * SECONDS));
        }
    }
    bench_note("reads", "%d CPU cores in this process's affinity mask (%ld online); with more "
               "reader threads than cores a call's time includes waiting for a core", cores,
               sysconf(_SC_NPROCESSORS_ONLN));
    bench_note("reads", "aggregate throughput, 2 threads / 1 thread: %.2fx; 4 / 1: %.2fx; 8 / 1: "
               "%.2fx (medians, same run, no writer)", agg[0][1] / agg[0][0],
               agg[0][2] / agg[0][0], agg[0][3] / agg[0][0]);
    krk_close(K);
    fenv_stop(&E);
    return 0;
}

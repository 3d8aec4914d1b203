/* SPDX-License-Identifier: GPL-2.0-only */
/* Client round trips against a KMIP server over one persistent TLS
 * connection: Gets per second and client CPU time per Get, one Get per
 * message and 100 Gets per message, median of RUNS runs (bench_util.h
 * lines, section SECTION).
 * Usage: bench_client FIXTURE_DIR PORT_KEY SECTION [gets-per-run [one-core]]
 * PORT_KEY names the server's port in FIXTURE_DIR/env (PORT: PyKMIP,
 * TESTSRV_PORT: our test server).
 *
 * With "one-core", the one-Get-per-message runs are repeated with the client
 * and every thread of the server (its pid from the env: PORT_KEY with _PORT
 * replaced by _PID) pinned to one CPU, so that the machine's cost of an
 * exchange between two cores can be told from the client's own: on a
 * virtual machine whose other CPU is idle, each exchange across two cores
 * wakes a halted virtual CPU (an inter-processor interrupt and an idle
 * exit); on one core the two processes hand the CPU to each other, and the
 * client often finds the answer already there (it sleeps in only some
 * exchanges, which a client of a remote server never does: the voluntary
 * context switches per Get say how many). CPU is user + system from
 * getrusage (the kernel splits the two by sampling ticks, too coarse to
 * print apart); the context switches are its counters. */
#define _GNU_SOURCE
#include "bench_util.h"
#include "kmip/kmip_client.h"

#include <dirent.h>
#include <sched.h>
#include <sys/types.h>

#define RUNS 5

static char env_path[1024];

static const char *env(const char *key)
{
    static char value[8][1024];
    static int slot;
    FILE *f = fopen(env_path, "r");
    char l[2048];
    while (f && fgets(l, sizeof l, f)) {
        l[strcspn(l, "\n")] = '\0';
        size_t n = strlen(key);
        if (strncmp(l, key, n) == 0 && l[n] == '=') {
            slot = (slot + 1) % 8;
            snprintf(value[slot], sizeof value[slot], "%s", l + n + 1);
            fclose(f);
            return value[slot];
        }
    }
    if (f)
        fclose(f);
    fprintf(stderr, "%s missing in %s\n", key, env_path);
    exit(2);
}

/* User and system CPU seconds and voluntary context switches so far. */
typedef struct {
    double user, sys;
    long vcsw;
} usage_now;

static usage_now usage(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    usage_now n = {(double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6,
                   (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6, u.ru_nvcsw};
    return n;
}

#define MAX_THREADS 64

/* The server's threads and each one's own CPU mask, to be given back. */
typedef struct saved_affinity {
    pid_t tid[MAX_THREADS];
    cpu_set_t mask[MAX_THREADS];
    int count;
} saved_affinity;

/* Pins every thread of process PID to SET, saving each one's mask in *SAVED.
 * Returns the number of threads pinned, 0 on failure (none left pinned). */
static int pin_process(long pid, const cpu_set_t *set, saved_affinity *saved)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%ld/task", pid);
    saved->count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && saved->count < MAX_THREADS) {
        pid_t tid = (pid_t)atol(e->d_name);
        int n = saved->count;
        if (tid > 0 && sched_getaffinity(tid, sizeof saved->mask[n], &saved->mask[n]) == 0 &&
            sched_setaffinity(tid, sizeof *set, set) == 0) {
            saved->tid[n] = tid;
            saved->count++;
        }
    }
    closedir(d);
    return saved->count;
}

static void unpin_process(const saved_affinity *saved)
{
    for (int i = 0; i < saved->count; i++)
        (void)sched_setaffinity(saved->tid[i], sizeof saved->mask[i], &saved->mask[i]);
}

/* One Get per message, GETS times: the Gets per second, the client's CPU
 * (user + system) and voluntary context switches per Get. 0 on success. */
static int one_per_message(kmip_client *c, const char *uid, int gets, double *rate,
                           double *cpu_us, double *vcsw)
{
    double t0 = bench_now();
    usage_now u0 = usage();
    for (int i = 0; i < gets; i++) {
        uint8_t *k;
        size_t len;
        if (kmip_client_get_key(c, uid, &k, &len, NULL) != KMIP_CLIENT_OK)
            return 1;
        kmip_secure_free(k, len);
    }
    usage_now u1 = usage();
    double t1 = bench_now();
    *rate = gets / (t1 - t0);
    *cpu_us = (u1.user - u0.user + u1.sys - u0.sys) / gets * 1e6;
    *vcsw = (double)(u1.vcsw - u0.vcsw) / gets;
    return 0;
}

/* The rows of one placement's runs. */
static void placement_rows(const char *section, const char *placement, double *rate,
                           double *cpu_us, double *vcsw)
{
    char label[200];
    snprintf(label, sizeof label, "keyring_kmip C client%s: Gets/s, 1 Get per message",
             placement);
    bench_row(section, label, rate, RUNS, "Gets/s");
    snprintf(label, sizeof label, "keyring_kmip C client%s: CPU per Get", placement);
    bench_row(section, label, cpu_us, RUNS, "us");
    snprintf(label, sizeof label, "keyring_kmip C client%s: voluntary context switches per Get",
             placement);
    bench_row(section, label, vcsw, RUNS, "");
}

/* The one-Get-per-message runs with the client and the server on the CPU
 * the client is on now; the server's threads get their own masks back
 * after. */
static int one_core_runs(kmip_client *c, const char *uid, int gets, const char *port_key,
                            const char *section)
{
    char pid_key[128];
    size_t n = strlen(port_key);
    if (n < 5 || strcmp(port_key + n - 5, "_PORT") != 0 || n + 1 > sizeof pid_key)
        return 0;
    snprintf(pid_key, sizeof pid_key, "%.*s_PID", (int)(n - 5), port_key);
    long pid = atol(env(pid_key));
    cpu_set_t all, one;
    if (sched_getaffinity(0, sizeof all, &all) != 0 || CPU_COUNT(&all) < 2) {
        bench_note(section, "one-core runs not made: this process may use fewer than 2 CPUs");
        return 0;
    }
    double rate[RUNS], cpu_us[RUNS], vcsw[RUNS];
    int failed = 0;
    CPU_ZERO(&one);
    CPU_SET((size_t)sched_getcpu(), &one);
    saved_affinity *saved = calloc(1, sizeof *saved);
    if (saved == NULL)
        return 1;
    if (sched_setaffinity(0, sizeof one, &one) != 0 || pin_process(pid, &one, saved) == 0) {
        bench_note(section, "one-core runs not made: the affinity could not be set");
        unpin_process(saved);
        free(saved);
        (void)sched_setaffinity(0, sizeof all, &all);
        return 0;
    }
    for (int r = 0; r < RUNS && !failed; r++)
        failed = one_per_message(c, uid, gets, &rate[r], &cpu_us[r], &vcsw[r]);
    unpin_process(saved);
    free(saved);
    (void)sched_setaffinity(0, sizeof all, &all);
    if (failed)
        return 1;
    placement_rows(section, ", client and server on one core", rate, cpu_us, vcsw);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_client FIXTURE_DIR PORT_KEY SECTION [gets-per-run]\n");
        return 2;
    }
    snprintf(env_path, sizeof env_path, "%s/env", argv[1]);
    const char *section = argv[3];
    int gets = argc > 4 ? atoi(argv[4]) : 200;
    int one_core = argc > 5 && strcmp(argv[5], "one-core") == 0;
    kmip_client_options *o = kmip_client_options_new();
    if (kmip_client_options_set_server(o, "127.0.0.1", (unsigned)atoi(env(argv[2]))) ||
        kmip_client_options_set_ca(o, env("CA")) ||
        kmip_client_options_set_cert(o, env("CLIENT_CERT"), env("CLIENT_KEY")))
        return 2;
    kmip_client_options_pin_version(o, KMIP_VERSION(1, 4));
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY,
                          .algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES,
                          .length_bits = 256};
    static const uint8_t key[32] = {1};
    char uid[128];
    if (kmip_client_register(c, &spec, key, sizeof key, uid, sizeof uid) != KMIP_CLIENT_OK) {
        fprintf(stderr, "%s\n", kmip_client_error_message(c));
        return 1;
    }
    double rate[RUNS], cpu_us[RUNS], vcsw[RUNS], brate[RUNS], bcpu_us[RUNS];
    for (int r = 0; r < RUNS; r++) {
        if (one_per_message(c, uid, gets, &rate[r], &cpu_us[r], &vcsw[r]))
            return 1;
        /* 100 Gets per message */
        int batches = gets / 100 > 0 ? gets / 100 : 1;
        double t2 = bench_now(), c2 = bench_cpu();
        for (int b = 0; b < batches; b++) {
            kmip_message *req, *resp;
            if (kmip_client_request(c, &req) != KMIP_CLIENT_OK)
                return 1;
            for (int i = 0; i < 100; i++)
                if (kmip_req_add_uid_op(req, KMIP_OPERATION_GET, uid) != KMIP_CLIENT_OK)
                    return 1;
            if (kmip_client_call(c, req, &resp) != KMIP_CLIENT_OK)
                return 1;
            kmip_message_free(req);
            kmip_message_free(resp);
        }
        double t3 = bench_now(), c3 = bench_cpu();
        brate[r] = batches * 100 / (t3 - t2);
        bcpu_us[r] = (c3 - c2) / (batches * 100) * 1e6;
    }
    kmip_client_stats s;
    kmip_client_get_stats(c, &s);
    bench_row(section, "keyring_kmip C client: Gets/s, 1 Get per message", rate, RUNS, "Gets/s");
    bench_row(section, "keyring_kmip C client: CPU per Get", cpu_us, RUNS, "us");
    bench_row(section, "keyring_kmip C client: voluntary context switches per Get", vcsw, RUNS,
              "");
    bench_row(section, "keyring_kmip C client: Gets/s, 100 Gets per message", brate, RUNS,
              "Gets/s");
    bench_row(section, "keyring_kmip C client: CPU per Get, 100 per message", bcpu_us, RUNS,
              "us");
    bench_note(section, "our client: %llu connection(s), %llu request messages, %d Gets per run",
               (unsigned long long)s.connections, (unsigned long long)s.requests, gets);
    if (one_core && one_core_runs(c, uid, gets, argv[2], section))
        return 1;
    if (kmip_client_destroy(c, uid) != KMIP_CLIENT_OK)
        return 1;
    kmip_client_free(c);
    return 0;
}

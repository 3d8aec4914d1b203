/* SPDX-License-Identifier: GPL-2.0-only */
/* The MariaDB plugin's hot path outside mariadbd: loads
 * kmip_key_management.so with dlopen, sets its system variables through its
 * plugin declaration (as the server does), initializes it against a KMIP
 * server, creates key ids 2..100 (SET GLOBAL kmip_key_management_rotate_key
 * = id, through the variable's check function as the server calls it),
 * then times get_latest_key_version and get_key at 1, 2, 4 and 8 threads,
 * of key id 1 alone and of a random one of the 100 ids (the table of
 * latest versions is scanned: 100 ids is its cost with that many):
 * nanoseconds per call as each thread sees it, aggregate calls per second,
 * each thread's CPU time per call and its share of the run on a core.
 * Runs of the thread counts are interleaved and the 2 / 1 thread ratio is
 * taken per round; median of RUNS with min and max (bench_util.h lines);
 * threads pinned as bench_threads.h says; load average at start and end.
 * Usage: bench_mariadb_plugin PLUGIN_SO FIXTURE_DIR [PORT_KEY] */
#define _GNU_SOURCE /* sched_setaffinity, getloadavg */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql/plugin_encryption.h>

#include "bench_threads.h"
#include "bench_util.h"

#define RUNS 5
#define SECONDS 0.2

struct str_var {
    MYSQL_PLUGIN_VAR_HEADER;
    char **value;
};
struct uint_var {
    MYSQL_PLUGIN_VAR_HEADER;
    unsigned int *value;
};

static void print_error(unsigned int nr, const char *fmt, unsigned long flags, ...)
{
    (void)nr;
    (void)flags;
    va_list ap;
    va_start(ap, flags);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static struct my_print_error_service_st service = {NULL, print_error, NULL};

static char env_path[1024];

static char *env(const char *key)
{
    FILE *f = fopen(env_path, "r");
    char l[2048];
    while (f && fgets(l, sizeof l, f)) {
        l[strcspn(l, "\n")] = '\0';
        size_t n = strlen(key);
        if (strncmp(l, key, n) == 0 && l[n] == '=') {
            fclose(f);
            return strdup(l + n + 1);
        }
    }
    exit(2);
}

#define IDS 100u

static struct st_mariadb_encryption *enc;
static unsigned int many[4096]; /* key ids 1..IDS in a random order, made before the loops */

typedef struct loop_kind {
    int get_key; /* 0: get_latest_key_version */
    int ids;     /* 1: key id 1 only; IDS: the ids of many[] */
} loop_kind;

static unsigned long plugin_loop(void *ctx, int thread, const atomic_bool *stop)
{
    const loop_kind *k = ctx;
    unsigned char key[64];
    unsigned long calls = 0;
    unsigned i = (unsigned)thread * 977u;
    int bad = 0;
    while (!atomic_load_explicit(stop, memory_order_relaxed)) {
        for (int j = 0; j < 64; j++, i++) { /* the stop flag every 64 calls */
            unsigned int id = k->ids == 1 ? 1 : many[i % 4096];
            if (k->get_key) {
                unsigned int len = sizeof key;
                bad |= enc->get_key(id, 1, key, &len) != 0 || len != 32;
            } else {
                bad |= enc->get_latest_key_version(id) != 1;
            }
        }
        calls += 64;
    }
    if (bad)
        exit(1);
    return calls;
}

/* SET GLOBAL kmip_key_management_rotate_key = id, as mariadbd runs it. */
static long long rotate_value;

static int rotate_val_int(struct st_mysql_value *v, long long *out)
{
    (void)v;
    *out = rotate_value;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4)
        return 2;
    const char *port_key = argc == 4 ? argv[3] : "PORT";
    snprintf(env_path, sizeof env_path, "%s/env", argv[2]);
    void *h = dlopen(argv[1], RTLD_NOW);
    if (h == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    *(struct my_print_error_service_st **)dlsym(h, "my_print_error_service") = &service;
    struct st_maria_plugin *decl = dlsym(h, "_maria_plugin_declarations_");
    enc = decl->info;
    char group[64];
    snprintf(group, sizeof group, "bench-plugin-%ld", (long)time(NULL));
    for (struct st_mysql_sys_var **v = decl->system_vars; *v; v++) {
        struct str_var *s = (struct str_var *)*v;
        if (strcmp(s->name, "server_addr") == 0)
            *s->value = "127.0.0.1";
        else if (strcmp(s->name, "client_cert") == 0)
            *s->value = env("CLIENT_CERT");
        else if (strcmp(s->name, "client_key") == 0)
            *s->value = env("CLIENT_KEY");
        else if (strcmp(s->name, "server_ca") == 0)
            *s->value = env("CA");
        else if (strcmp(s->name, "object_group") == 0)
            *s->value = group;
        else if (strcmp(s->name, "server_port") == 0)
            *((struct uint_var *)s)->value = (unsigned)atoi(env(port_key));
        else if (strcmp(s->name, "timeout_ms") == 0)
            *((struct uint_var *)s)->value = 10000;
        else if (strcmp(s->name, "refresh_seconds") == 0)
            *((struct uint_var *)s)->value = 0;
        else if (strncmp(s->name, "tls_", 4) == 0 || strcmp(s->name, "create_key") == 0)
            *(char *)((struct uint_var *)s)->value = 1;
    }
    bench_print_load("plugin", "at the start");
    if (decl->init(NULL) != 0)
        return 1;
    struct st_mysql_sys_var *rotate = NULL;
    for (struct st_mysql_sys_var **v = decl->system_vars; *v; v++)
        if (strcmp(((struct str_var *)*v)->name, "rotate_key") == 0)
            rotate = *v;
    struct st_mysql_value val = {0};
    val.val_int = rotate_val_int;
    for (unsigned id = 2; rotate && id <= IDS; id++) {
        int save;
        rotate_value = id;
        if (((struct str_var *)rotate)->check(NULL, rotate, &save, &val) != 0)
            return 1;
    }
    if (rotate == NULL)
        return 1;
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof many / sizeof many[0]; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        many[i] = 1u + x % IDS;
    }
    static const int counts[] = {1, 2, 4, 8};
    static const loop_kind kinds[4] = {{0, 1}, {0, IDS}, {1, 1}, {1, IDS}};
    for (int f = 0; f < 4; f++) {
        loop_kind kind = kinds[f];
        double ns[4][RUNS], rate[4][RUNS], cpu_ns[4][RUNS], share[4][RUNS], ratio[RUNS];
        for (int r = 0; r < RUNS; r++) {
            for (int c = 0; c < 4; c++) {
                bench_mt_result m = bench_mt_run(counts[c], SECONDS, plugin_loop, &kind);
                ns[c][r] = m.wall * counts[c] / m.calls * 1e9;
                rate[c][r] = m.calls / m.wall;
                cpu_ns[c][r] = m.cpu / m.calls * 1e9;
                share[c][r] = 100 * m.cpu / (m.wall * counts[c]);
            }
            ratio[r] = rate[1][r] / rate[0][r];
        }
        char what[96];
        snprintf(what, sizeof what, "%s, %s", kind.get_key ? "get_key, 32-byte key" :
                 "get_latest_key_version", kind.ids == 1 ? "key id 1" : "100 key ids");
        for (int c = 0; c < 4; c++) {
            const char *pl = counts[c] > 1 ? "s" : "";
            char label[160];
            snprintf(label, sizeof label, "MariaDB plugin: %s, %d thread%s", what, counts[c], pl);
            bench_row("plugin", label, ns[c], RUNS, "ns/call");
            snprintf(label, sizeof label, "MariaDB plugin: %s, %d thread%s: aggregate", what,
                     counts[c], pl);
            bench_row("plugin-rate", label, rate[c], RUNS, "calls/s");
            snprintf(label, sizeof label, "MariaDB plugin: %s, %d thread%s: CPU time per call",
                     what, counts[c], pl);
            bench_row("plugin-cpu", label, cpu_ns[c], RUNS, "ns/call");
            snprintf(label, sizeof label, "MariaDB plugin: %s, %d thread%s: on a core", what,
                     counts[c], pl);
            bench_row("plugin-cpu", label, share[c], RUNS, "% of the run");
            if (kind.ids == 1)
                printf("DATA|plugin|%d|%d|%.6g\n", kind.get_key, counts[c], rate[c][RUNS / 2]);
        }
        char label[160];
        snprintf(label, sizeof label, "MariaDB plugin: %s: aggregate of 2 threads / 1 thread, "
                 "per round", what);
        bench_row("plugin-scaling", label, ratio, RUNS, "x");
    }
    int cpus[CPU_SETSIZE];
    bench_note("plugin", "%d CPU cores in this process's affinity mask (%ld online); 2 to that "
               "many threads pinned to a core each, 1 thread not pinned",
               bench_cpus(cpus, CPU_SETSIZE), sysconf(_SC_NPROCESSORS_ONLN));
    bench_print_load("plugin", "at the end");
    decl->deinit(NULL);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The MariaDB plugin's hot path outside mariadbd: loads
 * kmip_key_management.so with dlopen, sets its system variables through its
 * plugin declaration (as the server does), initializes it against a KMIP
 * server, then times get_latest_key_version and get_key at 1, 2, 4 and 8
 * threads: nanoseconds per call as each thread sees it and aggregate calls
 * per second, median of 5 runs with min and max (bench_util.h lines). The
 * key id is a number: nothing to prepare inside the loop.
 * Usage: bench_mariadb_plugin PLUGIN_SO FIXTURE_DIR [PORT_KEY] */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysql/plugin_encryption.h>

#include "bench_util.h"

#define RUNS 5
#define CALLS 2000000

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

typedef struct worker {
    struct st_mariadb_encryption *enc;
    int get_key; /* 0: get_latest_key_version */
    int calls;
    int bad;
} worker;

static void *worker_main(void *p)
{
    worker *w = p;
    unsigned char key[64];
    if (w->get_key) {
        for (int i = 0; i < w->calls; i++) {
            unsigned int len = sizeof key;
            w->bad |= w->enc->get_key(1, 1, key, &len) != 0;
        }
    } else {
        for (int i = 0; i < w->calls; i++)
            w->bad |= w->enc->get_latest_key_version(1) != 1;
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
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
    struct st_mariadb_encryption *enc = decl->info;
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
    if (decl->init(NULL) != 0)
        return 1;
    static const int counts[] = {1, 2, 4, 8};
    double agg[2][4];
    for (int f = 0; f < 2; f++) {
        for (int c = 0; c < 4; c++) {
            double ns[RUNS], rate[RUNS];
            for (int r = 0; r < RUNS; r++) {
                pthread_t t[8];
                worker w[8];
                double t0 = now();
                for (int i = 0; i < counts[c]; i++) {
                    w[i] = (worker){enc, f, f ? CALLS / 10 : CALLS, 0};
                    if (pthread_create(&t[i], NULL, worker_main, &w[i]) != 0)
                        return 1;
                }
                unsigned long total = 0;
                for (int i = 0; i < counts[c]; i++) {
                    pthread_join(t[i], NULL);
                    if (w[i].bad)
                        return 1;
                    total += (unsigned long)w[i].calls;
                }
                double elapsed = now() - t0;
                ns[r] = elapsed * counts[c] / (double)total;
                rate[r] = (double)total / elapsed * 1e9;
            }
            char label[160];
            snprintf(label, sizeof label, "MariaDB plugin: %s, %d thread%s",
                     f ? "get_key, 32-byte key" : "get_latest_key_version", counts[c],
                     counts[c] > 1 ? "s" : "");
            bench_row("plugin", label, ns, RUNS, "ns/call");
            snprintf(label, sizeof label, "MariaDB plugin: %s, %d thread%s: aggregate",
                     f ? "get_key" : "get_latest_key_version", counts[c], counts[c] > 1 ? "s" : "");
            bench_row("plugin-rate", label, rate, RUNS, "calls/s");
            agg[f][c] = rate[RUNS / 2];
            printf("DATA|plugin|%d|%d|%.6g\n", f, counts[c], agg[f][c]);
        }
        bench_note("plugin", "%s: aggregate throughput 2 threads / 1 thread %.2fx (medians, same "
                   "run)", f ? "get_key" : "get_latest_key_version", agg[f][1] / agg[f][0]);
    }
    decl->deinit(NULL);
    return 0;
}

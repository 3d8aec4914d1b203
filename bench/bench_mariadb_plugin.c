/* SPDX-License-Identifier: GPL-2.0-only */
/* The MariaDB plugin's hot path outside mariadbd: loads
 * kmip_key_management.so with dlopen, sets its system variables through its
 * plugin declaration (as the server does), initializes it against a KMIP
 * server, then times get_latest_key_version and get_key: nanoseconds per
 * call, median of 5 runs with min and max (bench_util.h lines).
 * Usage: bench_mariadb_plugin PLUGIN_SO FIXTURE_DIR [PORT_KEY] */
#include <dlfcn.h>
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
    double latest[RUNS], get[RUNS];
    unsigned char key[64];
    volatile unsigned int sink = 0;
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (int i = 0; i < CALLS; i++)
            sink += enc->get_latest_key_version(1);
        double t1 = now();
        for (int i = 0; i < CALLS / 10; i++) {
            unsigned int len = sizeof key;
            sink += enc->get_key(1, 1, key, &len);
        }
        double t2 = now();
        latest[r] = (t1 - t0) / CALLS;
        get[r] = (t2 - t1) / (CALLS / 10);
    }
    bench_row("plugin", "MariaDB plugin: get_latest_key_version", latest, RUNS, "ns/call");
    bench_row("plugin", "MariaDB plugin: get_key, 32-byte key", get, RUNS, "ns/call");
    decl->deinit(NULL);
    return sink == 0;
}

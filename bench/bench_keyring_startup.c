/* Keyring startup with N keys in an object group on a KMIP server: seconds
 * to open (connect, Locate, batched Gets) and request messages, median of
 * 3 opens with min and max.
 * Usage: bench_keyring_startup FIXTURE_DIR [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"

static char env_path[1024];

static const char *env(const char *key, char *out, size_t cap)
{
    FILE *f = fopen(env_path, "r");
    char l[2048];
    while (f && fgets(l, sizeof l, f)) {
        l[strcspn(l, "\n")] = '\0';
        size_t n = strlen(key);
        if (strncmp(l, key, n) == 0 && l[n] == '=') {
            snprintf(out, cap, "%s", l + n + 1);
            fclose(f);
            return out;
        }
    }
    if (f)
        fclose(f);
    exit(2);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    snprintf(env_path, sizeof env_path, "%s/env", argv[1]);
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    char port[16], ca[1024], cert[1024], key[1024], group[64];
    env("PORT", port, sizeof port);
    env("CA", ca, sizeof ca);
    env("CLIENT_CERT", cert, sizeof cert);
    env("CLIENT_KEY", key, sizeof key);
    snprintf(group, sizeof group, "startup-%ld", (long)time(NULL));
    char cfg_path[1200];
    snprintf(cfg_path, sizeof cfg_path, "%s/bench-startup.cnf", argv[1]);
    FILE *f = fopen(cfg_path, "w");
    fprintf(f, "{\"server_addr\": \"127.0.0.1\", \"server_port\": %s, \"client_ca\": \"%s\", "
               "\"client_key\": \"%s\", \"server_ca\": \"%s\", \"object_group\": \"%s\", "
               "\"kmip_timeout_ms\": 60000}\n", port, cert, key, ca, group);
    fclose(f);
    krk_config cfg;
    krk_diag d;
    krk_keyring *k;
    if (krk_config_read(cfg_path, &cfg, &d) != KRK_OK || krk_open(&cfg, &k, &d) != KRK_OK) {
        fprintf(stderr, "%s\n", d.error);
        return 1;
    }
    /* fill the group through the keyring itself */
    double t0 = now();
    for (int i = 0; i < n; i++) {
        char id[32];
        uint8_t material[32];
        snprintf(id, sizeof id, "key-%05d", i);
        memset(material, i & 0xFF, sizeof material);
        if (krk_store(k, id, "", material, sizeof material, "AES") != KRK_OK) {
            fprintf(stderr, "%s\n", krk_last_error(k));
            return 1;
        }
    }
    double fill = now() - t0;
    krk_close(k);
    double secs[3];
    uint64_t requests = 0;
    size_t count = 0;
    for (int r = 0; r < 3; r++) {
        double s = now();
        if (krk_open(&cfg, &k, &d) != KRK_OK) {
            fprintf(stderr, "%s\n", d.error);
            return 1;
        }
        secs[r] = now() - s;
        requests = krk_load_requests(k);
        count = krk_key_count(k);
        if (r < 2)
            krk_close(k);
    }
    qsort(secs, 3, sizeof secs[0], cmp);
    printf("| keys | open (s), median | min | max | request messages | keys loaded |\n");
    printf("|-----:|-----:|-----:|-----:|-----:|-----:|\n");
    printf("| %d | %.2f | %.2f | %.2f | %llu | %zu |\n", n, secs[1], secs[0], secs[2],
           (unsigned long long)requests, count);
    printf("(storing the %d keys one by one took %.1f s)\n", n, fill);
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "key-%05d", i);
        if (krk_remove(k, id, "") != KRK_OK)
            return 1;
    }
    krk_close(k);
    return count == (size_t)n ? 0 : 1;
}

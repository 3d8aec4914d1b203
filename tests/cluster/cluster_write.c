/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling for tests/cluster/test_cluster.py: one keyring store whose
 * answer is lost. Opens the keyring of CONFIG, arms the fault proxy in
 * front of the first server to cut the next response ("cut down 0"), and
 * stores ID (AES, HEX bytes): the Register executes on the first server,
 * its answer never arrives, and the keyring must settle the write against
 * the next server of the cluster. Prints the outcome and the servers'
 * health; exit 0 when the store was acknowledged.
 * Usage: cluster_write CONFIG PROXY_CONTROL_PORT ID HEX */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_env.h"
#include "keyring_kmip/krk.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 5)
        return 2;
    uint8_t key[64];
    size_t n = strlen(argv[4]) / 2;
    if (n == 0 || n > sizeof key)
        return 2;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(argv[4][2 * i]), lo = hexval(argv[4][2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 2;
        key[i] = (uint8_t)(hi * 16 + lo);
    }
    krk_config cfg;
    krk_diag d = {0};
    krk_keyring *k = NULL;
    if (krk_config_read(argv[1], &cfg, &d) != KRK_OK || krk_open(&cfg, &k, &d) != KRK_OK) {
        fprintf(stderr, "open: %s\n", d.error);
        return 1;
    }
    char answer[128];
    if (!fenv_ctl((unsigned)atoi(argv[2]), "cut down 0", answer, sizeof answer)) {
        fprintf(stderr, "cannot arm the proxy\n");
        krk_close(k);
        return 1;
    }
    krk_err e = krk_store(k, argv[3], "", key, n, "AES");
    printf("store: %s%s%s\n", krk_strerror(e), e ? ": " : "", e ? krk_last_error(k) : "");
    krk_metadata_item items[KRK_METADATA_MAX];
    size_t m = krk_metadata(k, items, KRK_METADATA_MAX);
    for (size_t i = 0; i < m; i++)
        if (strncmp(items[i].key, "Server", 6) == 0)
            printf("%s\t%s\n", items[i].key, items[i].value);
    krk_close(k);
    return e == KRK_OK ? 0 : 1;
}

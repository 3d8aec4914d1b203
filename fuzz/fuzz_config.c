/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target: bytes as a keyring configuration file and as a
 * manifest. Every input must give KRK_OK or a specific error with a
 * message, never a crash, a leak or a hang. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyring_kmip/krk_config.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, size, f) == size);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/fuzz-config-%d", (int)getpid());
        mkdir(dir, 0700);
    }
    char path[128];
    krk_diag d;
    snprintf(path, sizeof path, "%s/component_keyring_kmip.cnf", dir);
    write_file(path, data, size);
    krk_config cfg;
    krk_err e = krk_config_read(path, &cfg, &d);
    CHECK(e == KRK_OK || (e == KRK_E_CONFIG && d.error[0] != '\0'));
    e = krk_config_find(dir, dir, &cfg, &d);
    CHECK(e == KRK_OK || d.error[0] != '\0');
    snprintf(path, sizeof path, "%s/mysqld.my", dir);
    write_file(path, data, size);
    krk_manifest m;
    e = krk_manifest_read(dir, dir, &m, &d);
    CHECK(e == KRK_OK || ((e == KRK_E_MANIFEST || e == KRK_E_NO_MANIFEST) && d.error[0] != '\0'));
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target: bytes as a MariaDB file_key_management key file read
 * by keyring-kmip migrate (tools/keyring-kmip/mariadb_keyfile.c): decrypted
 * with no filekey and with one (OpenSSL enc format), then parsed. Every
 * input is read or refused with a message, never a crash, leak or hang; a
 * file read holds key id 1, names every key mariadb-<id>-1 once, AES, of
 * 16, 24 or 32 bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"
#include "migrate.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, const char *secret)
{
    uint8_t *plain = NULL;
    size_t plain_len = 0;
    char why[512] = "";
    if (!mk_decrypt(data, size, secret, &plain, &plain_len, why, sizeof why)) {
        CHECK(why[0] != '\0' && plain == NULL);
        return;
    }
    CHECK(plain != NULL && plain[plain_len] == '\0');
    mig_keys keys = {0};
    bool ok = mk_parse(plain, plain_len, &keys, why, sizeof why);
    CHECK(ok || (why[0] != '\0' && keys.count == 0));
    if (ok) {
        CHECK(keys.count > 0 && strcmp(keys.items[0].data_id, "mariadb-1-1") == 0);
        for (size_t i = 0; i < keys.count; i++) {
            const mig_key *k = &keys.items[i];
            unsigned id;
            char tail;
            CHECK(sscanf(k->data_id, "mariadb-%u-1%c", &id, &tail) == 1 && id >= 1);
            CHECK(k->auth_id[0] == '\0' && strcmp(k->type, "AES") == 0);
            CHECK(k->len == 16 || k->len == 24 || k->len == 32);
            CHECK(mig_keys_find(&keys, k->data_id, "") == k);
        }
    }
    mig_keys_free(&keys);
    kmip_secure_free(plain, plain_len + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, "");
    one(data, size, "secret");
    return 0;
}

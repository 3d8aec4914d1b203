/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target: bytes as MySQL's component_keyring_file data file read
 * by keyring-kmip migrate (tools/keyring-kmip/keyring_file.c). Every input
 * is read or refused with a message, never a crash, leak or hang; a refused
 * input leaves no key; what is read is written (kf_format) and read again
 * to the same keys, type and bytes. */
#include <stdint.h>
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool wiping;
    if (!wiping) {
        mig_json_wipe_allocs();
        wiping = true;
    }
    mig_keys a = {0}, b = {0};
    char why[512] = "";
    bool ok = kf_parse(data, size, &a, why, sizeof why);
    CHECK(ok || (why[0] != '\0' && a.count == 0));
    if (ok) {
        size_t len = 0;
        char *text = kf_format(&a, &len);
        CHECK(text != NULL);
        CHECK(kf_parse((const uint8_t *)text, len, &b, why, sizeof why));
        CHECK(b.count == a.count);
        for (size_t i = 0; i < a.count; i++) {
            const mig_key *x = &a.items[i], *y = &b.items[i];
            CHECK(strcmp(x->data_id, y->data_id) == 0 && strcmp(x->auth_id, y->auth_id) == 0);
            CHECK(strcmp(x->type, y->type) == 0 && x->len == y->len);
            CHECK(x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
        }
        kmip_secure_free(text, len + 1);
    }
    mig_keys_free(&a);
    mig_keys_free(&b);
    return 0;
}

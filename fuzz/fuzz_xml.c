/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target: KMIP XML text through the XML reader. Whatever it
 * accepts must encode to TTLV that the strict decoder accepts and that
 * encodes to the same bytes again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"
#include "kmip/kmip_xml.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    kmip_xml_reader *r = kmip_xml_reader_new();
    if (r == NULL)
        return 0;
    kmip_tree *tree = NULL;
    if (kmip_xml_read(r, (const char *)data, size, &tree) == KMIP_OK) {
        uint8_t *out = NULL;
        size_t len = 0;
        kmip_err err = kmip_encode_tree(kmip_tree_root(tree), &out, &len);
        if (err == KMIP_OK) {
            kmip_decoder *d = kmip_decoder_new();
            kmip_decoder_set_max_depth(d, KMIP_HARD_MAX_DEPTH);
            kmip_decoder_set_max_string(d, SIZE_MAX);
            kmip_decoder_set_max_items(d, SIZE_MAX);
            kmip_decoder_set_max_message_size(d, SIZE_MAX);
            kmip_tree *back = NULL;
            err = kmip_decoder_decode(d, out, len, &back);
            /* the reader does not validate UTF-8 beyond what libxml2 does */
            CHECK(err == KMIP_OK || err == KMIP_E_BAD_UTF8);
            if (err == KMIP_OK) { /* same bytes again (Big Integers get sign-extended once) */
                uint8_t *again = NULL;
                size_t again_len = 0;
                CHECK(kmip_encode_tree(kmip_tree_root(back), &again, &again_len) == KMIP_OK);
                CHECK(again_len == len && memcmp(again, out, len) == 0);
                kmip_secure_free(again, again_len);
            }
            kmip_tree_free(back);
            kmip_decoder_free(d);
        }
        kmip_secure_free(out, len);
    }
    kmip_tree_free(tree);
    kmip_xml_reader_free(r);
    return 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target: bytes as if from a KMIP peer, through the framer, the
 * TTLV decoder, the message parser and back.
 *
 * Besides "no crash, no leak, no hang", it checks properties:
 *  - the framer, fed in uneven chunks, accepts exactly the messages whose
 *    header is valid, whatever the split;
 *  - whatever the strict decoder accepts re-encodes to the same bytes;
 *  - XML written from it reads back to the same tree;
 *  - a message the typed layer fully understands re-encodes byte for byte;
 *  - the typed decoder, which reads the bytes itself in one pass, refuses
 *    exactly what the tree decoder refuses, with the same error and offset,
 *    and otherwise agrees with decoding through the tree;
 *  - decoding into one message reused across inputs
 *    (kmip_message_decode_into) gives the same verdict, error, offset and
 *    message as a fresh decode, and leaves the message empty on refusal;
 *  - the typed decoder's generated fast paths (msg_fast.inc) agree with the
 *    table walk alone (msg_decode_walk): verdict, error offset and detail,
 *    fully-typed flag, item count and re-encoded bytes; and the encoder's
 *    fast paths (msg_fast_enc.inc) write what its walk alone writes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_message.h"
#include "kmip/kmip_ttlv.h"
#include "kmip/kmip_xml.h"
#include "message_internal.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_framer(const uint8_t *data, size_t size)
{
    kmip_framer *f = kmip_framer_new();
    if (f == NULL)
        return;
    kmip_framer_set_max_message_size(f, 1 << 16);
    size_t pos = 0, chunk = 1;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        size_t used = 0;
        if (kmip_framer_feed(f, data + pos, n, &used) != KMIP_OK)
            break;
        CHECK(used <= n);
        pos += used;
        chunk = chunk * 3 % 17 + 1;
        if (kmip_framer_ready(f)) {
            uint8_t *msg;
            size_t len;
            CHECK(kmip_framer_take(f, &msg, &len) == KMIP_OK);
            CHECK(len >= 8 && len % 8 == 0);
            kmip_secure_free(msg, len);
        } else if (used == 0) {
            break;
        }
    }
    kmip_framer_free(f);
}

static void check_xml(const kmip_tree *tree)
{
    char *xml = NULL;
    size_t len = 0;
    if (kmip_xml_write(kmip_tree_root(tree), KMIP_XML_SHOW_SECRETS, &xml, &len) != KMIP_OK)
        return;
    kmip_xml_reader *r = kmip_xml_reader_new();
    kmip_tree *back = NULL;
    kmip_err err = r ? kmip_xml_read(r, xml, len, &back) : KMIP_E_NOMEM;
    /* only nesting beyond the XML reader's limit may fail */
    CHECK(err == KMIP_OK || err == KMIP_E_LIMIT_DEPTH || err == KMIP_E_NOMEM);
    if (err == KMIP_OK)
        CHECK(kmip_item_equal(kmip_tree_root(tree), kmip_tree_root(back)));
    kmip_tree_free(back);
    kmip_xml_reader_free(r);
    kmip_secure_free(xml, len);
}

/* Decodes as a typed message from the tree; returns the result and whether
 * the message was fully typed. */
static kmip_err check_message(kmip_tree *tree, const uint8_t *data, size_t size, bool *typed)
{
    kmip_message *m = NULL;
    kmip_msg_error err;
    *typed = false;
    kmip_err r = kmip_message_from_tree(tree, &m, &err);
    if (r != KMIP_OK)
        return r;
    uint8_t *out = NULL;
    size_t len = 0;
    kmip_err e = kmip_message_encode(m, &out, &len);
    *typed = kmip_message_fully_typed(m);
    if (*typed) {
        CHECK(e == KMIP_OK);
        CHECK(len == size && memcmp(out, data, size) == 0);
    }
    kmip_secure_free(out, len);
    kmip_message_free(m);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_framer(data, size);
    kmip_decoder *d = kmip_decoder_new();
    if (d == NULL)
        return 0;
    /* the typed decoder straight from the bytes */
    kmip_message *direct = NULL;
    kmip_msg_error derr;
    kmip_err de = kmip_message_decode(data, size, &direct, &derr);
    bool direct_typed = de == KMIP_OK && kmip_message_fully_typed(direct);
    /* the same bytes into the message reused from the inputs before: the
     * same verdict, error and offset; on success the same message */
    static kmip_message *reused;
    kmip_msg_error rerr;
    kmip_err re = kmip_message_decode_into(&reused, data, size, &rerr);
    CHECK(re == de);
    if (re != KMIP_OK)
        CHECK(rerr.offset == derr.offset && strcmp(rerr.detail, derr.detail) == 0 &&
              (reused == NULL || (reused->item_count == 0 && reused->items == NULL)));
    if (de == KMIP_OK) {
        uint8_t *out = NULL, *again = NULL;
        size_t len = 0, again_len = 0;
        kmip_err e = kmip_message_encode(direct, &out, &len);
        if (direct_typed)
            CHECK(e == KMIP_OK && len == size && memcmp(out, data, size) == 0);
        CHECK(kmip_message_fully_typed(reused) == direct_typed);
        kmip_err e2 = kmip_message_encode(reused, &again, &again_len);
        CHECK(e2 == e && (e != KMIP_OK || (again_len == len && memcmp(again, out, len) == 0)));
        kmip_secure_free(again, again_len);
        kmip_secure_free(out, len);
    }
    /* the table walk alone against the fast paths */
    kmip_message *walk = NULL;
    kmip_msg_error werr;
    kmip_err we = msg_decode_walk(data, size, &walk, &werr);
    CHECK(we == de);
    if (we != KMIP_OK) {
        CHECK(werr.offset == derr.offset && strcmp(werr.detail, derr.detail) == 0);
    } else {
        CHECK(kmip_message_fully_typed(walk) == direct_typed &&
              walk->item_count == direct->item_count);
        uint8_t *wout = NULL, *dout = NULL;
        size_t wlen = 0, dlen = 0;
        kmip_err e1 = kmip_message_encode(walk, &wout, &wlen);
        kmip_err e2 = kmip_message_encode(direct, &dout, &dlen);
        CHECK(e1 == e2 && (e1 != KMIP_OK || (wlen == dlen && memcmp(wout, dout, wlen) == 0)));
        uint8_t *eout = NULL; /* the encoder's walk alone */
        size_t elen = 0;
        CHECK(msg_encode_walk(walk, &eout, &elen) == e1 &&
              (e1 != KMIP_OK || (elen == wlen && memcmp(eout, wout, wlen) == 0)));
        kmip_secure_free(eout, elen);
        kmip_secure_free(wout, wlen);
        kmip_secure_free(dout, dlen);
    }
    kmip_message_free(walk);
    kmip_message_free(direct);
    kmip_tree *tree = NULL;
    kmip_err te = kmip_decoder_decode(d, data, size, &tree);
    if (te == KMIP_OK) {
        uint8_t *out = NULL;
        size_t len = 0;
        CHECK(kmip_encode_tree(kmip_tree_root(tree), &out, &len) == KMIP_OK);
        CHECK(len == size && memcmp(out, data, size) == 0);
        kmip_secure_free(out, len);
        check_xml(tree);
        bool typed;
        kmip_err me = check_message(tree, data, size, &typed); /* takes the tree */
        CHECK(me == de && typed == direct_typed);
    } else {
        CHECK(de == te && derr.offset == kmip_decoder_error_offset(d));
    }
    kmip_decoder_free(d);
    return 0;
}

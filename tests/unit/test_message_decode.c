/* SPDX-License-Identifier: GPL-2.0-only */
/* The single-pass typed decoder (src/messages/msg_decode.c) against hostile
 * bytes: every truncation, nested structures whose length lies, the size,
 * depth, count and string limits, unknown tags kept or validated when
 * dropped. In each case the typed decoder must refuse what the item-tree
 * decoder refuses, with the same error, and must never return a message
 * for bytes that are not valid TTLV. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first */
#include <cmocka.h>

#include "../codec/ttlv_internal.h" /* found through src/messages */
#include "alloc_probe.h"
#include "kmip/kmip_message.h"
#include "message_internal.h"
#include "msg_schema.h"
#include "test_util.h"

static const uint8_t KEY[32] = {0x11, 0x22, 0x33};

/* the codec's own header writer (src/codec/ttlv_internal.h) */
static void put_hdr(uint8_t *p, uint32_t tag, uint8_t type, uint32_t len)
{
    ttlv_put_header(p, tag, type, len);
}

/* A Get response (1.4) with a 32-byte key, an unknown extension tag in the
 * key block and a 1.x attribute inside the key value. */
static uint8_t *get_response(size_t *len)
{
    kmip_message *m = kmip_message_new(true, KMIP_VERSION(1, 4));
    assert_non_null(m);
    kmip_batch_item *bi = kmip_message_add_item(m, KMIP_OPERATION_GET);
    assert_non_null(bi);
    m->response_header.time_stamp = 1767225600;
    bi->has_result_status = true;
    bi->result_status = KMIP_RESULT_STATUS_SUCCESS;
    kmip_get_response *g = bi->payload;
    g->object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    g->unique_identifier.text = kmip_message_copy_bytes(m, "1f165d65-cbbd-4bd6", 18);
    g->object.has_symmetric_key = true;
    kmip_key_block *kb = &g->object.symmetric_key.key_block;
    kb->key_format_type = KMIP_KEY_FORMAT_TYPE_RAW;
    kb->has_key_value = true;
    kmip_tree *a = kmip_message_arena(m);
    kmip_item *holder = kmip_message_arena_root(m);
    kb->key_value.key_material = kmip_add_bytes(a, holder, KMIP_TAG_KEY_MATERIAL, KEY, sizeof KEY);
    assert_non_null(kmip_attr_append(m, &kb->key_value.attributes, KMIP_TAG_CRYPTOGRAPHIC_LENGTH,
                                     kmip_add_int(a, holder, KMIP_TAG_ATTRIBUTE_VALUE, 256)));
    kb->has_cryptographic_algorithm = true;
    kb->cryptographic_algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    /* an extension the typed layer does not know, with a nested value */
    static const kmip_item *extra[1];
    kmip_item *ext = kmip_add_struct(a, holder, 0x540042);
    assert_non_null(kmip_add_text(a, ext, 0x540043, "vendor", 6));
    extra[0] = ext;
    kb->extras.items = extra;
    kb->extras.count = 1;
    uint8_t *out;
    assert_int_equal(kmip_message_encode(m, &out, len), KMIP_OK);
    kmip_message_free(m);
    return out;
}

/* The item-tree decoder's verdict on the same bytes. */
static kmip_err tree_verdict(const uint8_t *p, size_t n, size_t *offset)
{
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *t = NULL;
    kmip_err e = kmip_decoder_decode(d, p, n, &t);
    *offset = kmip_decoder_error_offset(d);
    kmip_tree_free(t);
    kmip_decoder_free(d);
    return e;
}

/* Decodes bytes that are not valid TTLV: refused with the tree decoder's
 * error and offset, a detail naming the byte, no message. */
static void expect_ttlv_refusal(const uint8_t *p, size_t n)
{
    size_t off;
    kmip_err want = tree_verdict(p, n, &off);
    assert_int_not_equal(want, KMIP_OK);
    kmip_message *m = (kmip_message *)1;
    kmip_msg_error err;
    kmip_err got = kmip_message_decode(p, n, &m, &err);
    if (got != want || err.offset != off)
        fail_msg("%zu bytes: got %s at %zu (%s), want %s at %zu", n, kmip_strerror(got), err.offset,
                 err.detail, kmip_strerror(want), off);
    assert_null(m);
    assert_non_null(strstr(err.detail, "byte "));
}

static void test_truncated_everywhere(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = get_response(&len);
    kmip_message *m;
    kmip_msg_error err;
    assert_int_equal(kmip_message_decode(msg, len, &m, &err), KMIP_OK);
    kmip_message_free(m);
    /* a fresh copy of each prefix, so that ASan sees any read beyond it */
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, msg, cut);
        expect_ttlv_refusal(p, cut);
        free(p);
    }
    kmip_secure_free(msg, len);
}

/* Offsets of every structure header in a valid encoding. */
static size_t structures(const uint8_t *p, size_t at, size_t end, size_t *out, size_t n)
{
    while (at < end) {
        uint32_t len = (uint32_t)p[at + 4] << 24 | (uint32_t)p[at + 5] << 16 |
                       (uint32_t)p[at + 6] << 8 | p[at + 7];
        size_t next = at + 8 + len + ((8u - (len & 7u)) & 7u);
        if (p[at + 3] == KMIP_TYPE_STRUCTURE) {
            out[n++] = at;
            n = structures(p, at + 8, at + 8 + len, out, n);
        }
        at = next;
    }
    return n;
}

static void test_structure_lengths_that_lie(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = get_response(&len);
    size_t at[64];
    size_t n = structures(msg, 0, len, at, 0);
    assert_true(n >= 9); /* message, header, version, item, payload, key, block, value, ext */
    uint8_t *p = malloc(len);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        uint32_t was = (uint32_t)msg[at[i] + 4] << 24 | (uint32_t)msg[at[i] + 5] << 16 |
                       (uint32_t)msg[at[i] + 6] << 8 | msg[at[i] + 7];
        /* shorter, longer (ending inside or past the enclosing structure),
         * not a multiple of 8, and absurdly long */
        const uint32_t lies[] = {was - 8, was + 8, was + 16, was + 4, 0xFFFFFFF8u};
        for (size_t k = 0; k < sizeof lies / sizeof lies[0]; k++) {
            if (was == 0 && k == 0)
                continue;
            memcpy(p, msg, len);
            put_hdr(p + at[i],
                    (uint32_t)p[at[i]] << 16 | (uint32_t)p[at[i] + 1] << 8 | p[at[i] + 2],
                    KMIP_TYPE_STRUCTURE, lies[k]);
            size_t off;
            if (tree_verdict(p, len, &off) == KMIP_OK)
                continue; /* a lie that still parses (an empty tail) is no test */
            probe_largest = 0;
            expect_ttlv_refusal(p, len);
            assert_true(probe_largest < 8192); /* nothing of a claimed size */
        }
    }
    free(p);
    kmip_secure_free(msg, len);
}

/* A response message around `payload` (the content of a Response Payload
 * of an untyped operation), 1.4. */
static size_t wrap_payload(uint8_t *out, const uint8_t *payload, size_t plen)
{
    static const char *head = "42007B 01 00000000"                   /* ResponseMessage */
                              "42007A 01 00000048"                   /* ResponseHeader */
                              "420069 01 00000020"                   /* ProtocolVersion */
                              "42006A 02 00000004 00000001 00000000" /* Major 1 */
                              "42006B 02 00000004 00000004 00000000" /* Minor 4 */
                              "420092 09 00000008 0000000069000000"  /* Time Stamp */
                              "42000D 02 00000004 00000001 00000000" /* Batch Count 1 */
                              "42000F 01 00000000"                   /* Batch Item */
                              "42007F 05 00000004 00000000 00000000" /* Result Status */
                              "42007C 01 00000000";                  /* Response Payload */
    size_t n = unhex(head, out, 256);
    if (plen)
        memcpy(out + n, payload, plen);
    size_t total = n + plen;
    put_hdr(out, 0x42007B, 1, (uint32_t)(total - 8));
    put_hdr(out + 88, 0x42000F, 1, (uint32_t)(total - 96));
    put_hdr(out + 88 + 24, 0x42007C, 1, (uint32_t)(total - 120));
    return total;
}

/* Nested empty extension structures, depth levels deep. */
static size_t nest(uint8_t *out, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        put_hdr(out + 8 * i, 0x540001, KMIP_TYPE_STRUCTURE, 8 * (depth - 1 - i));
    return 8 * (size_t)depth;
}

static void test_limits(void **state)
{
    (void)state;
    size_t cap = (size_t)2 << 20;
    uint8_t *payload = calloc(1, cap);
    uint8_t *msg = calloc(1, cap + 256);
    assert_non_null(payload);
    assert_non_null(msg);
    kmip_message *m;
    kmip_msg_error err;
    /* depth: the payload sits at depth 3, so 29 more levels reach the
     * default limit of 32 exactly; one more is refused */
    size_t n = wrap_payload(msg, payload, nest(payload, KMIP_DEFAULT_MAX_DEPTH - 3));
    assert_int_equal(kmip_message_decode(msg, n, &m, &err), KMIP_OK);
    assert_false(kmip_message_fully_typed(m)); /* an untyped payload */
    kmip_message_free(m);
    n = wrap_payload(msg, payload, nest(payload, KMIP_DEFAULT_MAX_DEPTH - 2));
    assert_int_equal(kmip_message_decode(msg, n, &m, &err), KMIP_E_LIMIT_DEPTH);
    assert_null(m);
    expect_ttlv_refusal(msg, n);
    /* count: empty structures are the smallest items (8 bytes) */
    size_t items = KMIP_DEFAULT_MAX_ITEMS;
    for (size_t i = 0; i < items; i++)
        put_hdr(payload + 8 * i, 0x540001, KMIP_TYPE_STRUCTURE, 0);
    n = wrap_payload(msg, payload, 8 * (items - 10)); /* 10 items around them */
    assert_int_equal(kmip_message_decode(msg, n, &m, &err), KMIP_OK);
    kmip_message_free(m);
    n = wrap_payload(msg, payload, 8 * items);
    assert_int_equal(kmip_message_decode(msg, n, &m, &err), KMIP_E_LIMIT_COUNT);
    expect_ttlv_refusal(msg, n);
    /* string: a Text String one byte over the limit */
    memset(payload, 'a', KMIP_DEFAULT_MAX_STRING + 16);
    put_hdr(payload, 0x540001, KMIP_TYPE_TEXT_STRING, (uint32_t)KMIP_DEFAULT_MAX_STRING + 1);
    memset(payload + 8 + KMIP_DEFAULT_MAX_STRING + 1, 0, 7);
    n = wrap_payload(msg, payload, 8 + KMIP_DEFAULT_MAX_STRING + 8);
    assert_int_equal(kmip_message_decode(msg, n, &m, &err), KMIP_E_LIMIT_STRING);
    expect_ttlv_refusal(msg, n);
    /* size: more than 1 MiB in all, refused before anything is read */
    memset(payload, 0, cap);
    put_hdr(payload, 0x540001, KMIP_TYPE_BYTE_STRING, 60000);
    size_t one = 8 + 60000;
    size_t count = KMIP_DEFAULT_MAX_MESSAGE / one + 1;
    for (size_t i = 1; i < count; i++)
        memcpy(payload + i * one, payload, 8);
    n = wrap_payload(msg, payload, count * one);
    assert_int_equal(kmip_message_decode(msg, n, &m, &err), KMIP_E_LIMIT_SIZE);
    assert_non_null(strstr(err.detail, "exceeds the limit"));
    free(payload);
    free(msg);
}

static void test_unknown_tags(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = get_response(&len);
    kmip_message *m;
    kmip_msg_error err;
    assert_int_equal(kmip_message_decode(msg, len, &m, &err), KMIP_OK);
    const kmip_get_response *g = m->items[0].payload;
    const kmip_key_block *kb = &g->object.symmetric_key.key_block;
    /* the extension is kept, with its children, as an item */
    assert_int_equal(kb->extras.count, 1);
    const kmip_item *ext = kb->extras.items[0];
    assert_int_equal(ext->tag, 0x540042);
    assert_int_equal(ext->child_count, 1);
    assert_int_equal(ext->first_child->tag, 0x540043);
    assert_memory_equal(ext->first_child->v.bytes.data, "vendor", 6);
    assert_int_equal(kb->key_value.attributes.count, 1);
    assert_int_equal(kb->key_value.attributes.first->tag, KMIP_TAG_CRYPTOGRAPHIC_LENGTH);
    assert_int_equal(kb->key_value.attributes.first->value->v.i32, 256);
    const uint8_t *key;
    size_t key_len;
    assert_true(kmip_object_key_material(&g->object, &key, &key_len));
    assert_int_equal(key_len, sizeof KEY);
    assert_memory_equal(key, KEY, sizeof KEY);
    /* kept extras re-encode after the known fields: here they came last,
     * so the bytes are the same (but the message is not fully typed) */
    assert_false(kmip_message_fully_typed(m));
    uint8_t *again;
    size_t again_len;
    assert_int_equal(kmip_message_encode(m, &again, &again_len), KMIP_OK);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, msg, len);
    kmip_secure_free(again, again_len);
    kmip_message_free(m);
    kmip_secure_free(msg, len);

    /* Items the typed layer drops are still validated: an unknown tag at
     * message level (after the batch item) holding a Text String that is
     * not UTF-8. */
    uint8_t buf[512];
    size_t n = wrap_payload(buf, NULL, 0);
    n += unhex("540001 01 00000010 540002 07 00000002 C328 000000000000", buf + n, 64);
    put_hdr(buf, 0x42007B, 1, (uint32_t)(n - 8));
    kmip_message *out = (kmip_message *)1;
    assert_int_equal(kmip_message_decode(buf, n, &out, &err), KMIP_E_BAD_UTF8);
    assert_null(out);
    expect_ttlv_refusal(buf, n);
    /* the same extension with valid text: skipped, the message decodes */
    buf[n - 8] = 'o';
    buf[n - 7] = 'k';
    assert_int_equal(kmip_message_decode(buf, n, &out, &err), KMIP_OK);
    assert_false(kmip_message_fully_typed(out));
    assert_int_equal(out->item_count, 1);
    kmip_message_free(out);
}

/* A Locate response (1.4) with n identifiers. */
static uint8_t *locate_response(size_t n, size_t *len)
{
    kmip_message *m = kmip_message_new(true, KMIP_VERSION(1, 4));
    assert_non_null(m);
    kmip_batch_item *bi = kmip_message_add_item(m, KMIP_OPERATION_LOCATE);
    assert_non_null(bi);
    m->response_header.time_stamp = 1767225601;
    bi->has_result_status = true;
    bi->result_status = KMIP_RESULT_STATUS_SUCCESS;
    kmip_locate_response *l = bi->payload;
    l->unique_identifiers = kmip_message_alloc(m, (n ? n : 1) * sizeof(kmip_uid));
    assert_non_null(l->unique_identifiers);
    for (size_t i = 0; i < n; i++) {
        char id[40];
        int k = snprintf(id, sizeof id, "id-%06zu", i);
        l->unique_identifiers[i].text = kmip_message_copy_bytes(m, id, (size_t)k);
    }
    l->unique_identifier_count = n;
    uint8_t *out;
    assert_int_equal(kmip_message_encode(m, &out, len), KMIP_OK);
    kmip_message_free(m);
    return out;
}

/* m re-encodes to exactly the bytes it was decoded from. */
static void expect_reencodes(const kmip_message *m, const uint8_t *want, size_t want_len)
{
    uint8_t *out;
    size_t n;
    assert_int_equal(kmip_message_encode(m, &out, &n), KMIP_OK);
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, n);
    kmip_secure_free(out, n);
}

/* An empty message: nothing of any earlier contents is visible. */
static void expect_empty(const kmip_message *m)
{
    assert_non_null(m);
    assert_int_equal(m->item_count, 0);
    assert_null(m->items);
    assert_int_equal(m->response_header.time_stamp, 0);
    assert_int_equal(m->response_header.batch_count, 0);
    assert_int_equal(m->response_header.protocol_version.major, 0);
    assert_int_equal(msg_bytes_used(m), 0);
}

static const uint8_t *key_bytes(const kmip_message *m)
{
    const uint8_t *p;
    size_t n;
    const kmip_get_response *g = m->items[0].payload;
    assert_true(kmip_object_key_material(&g->object, &p, &n));
    assert_int_equal(n, sizeof KEY);
    assert_memory_equal(p, KEY, n);
    return p;
}

/* Decoding into one message again and again: the same message and the
 * same result as a fresh decode, no allocation after the first, and the
 * key wiped from the kept memory by the reset. */
static void test_reuse_steady_state(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = get_response(&len);
    kmip_message *m = NULL;
    kmip_msg_error err;
    assert_int_equal(kmip_message_decode_into(&m, msg, len, &err), KMIP_OK);
    assert_non_null(m);
    kmip_message *first = m;
    for (int round = 0; round < 3; round++) {
        size_t before = probe_count;
        assert_int_equal(kmip_message_decode_into(&m, msg, len, &err), KMIP_OK);
        assert_ptr_equal(m, first);
        assert_int_equal(probe_count, before); /* nothing allocated */
        expect_reencodes(m, msg, len);
        assert_true(m->is_response);
        assert_int_equal(m->items[0].extras.count, 0);
    }
    /* the key bytes lie in the message's own first block: after a reset
     * they are zero, and the memory is still the message's */
    const uint8_t *k = key_bytes(m);
    kmip_message_reset(m);
    expect_empty(m);
    static const uint8_t zero[sizeof KEY];
    assert_memory_equal(k, zero, sizeof KEY);
    kmip_message_reset(m); /* twice: harmless */
    kmip_message_reset(NULL);
    assert_int_equal(kmip_message_decode_into(NULL, msg, len, &err), KMIP_E_ARG);
    kmip_message_free(m);
    free(msg);
}

/* A refused message leaves the reused message empty and usable: same
 * error and offset as kmip_message_decode, nothing of the message before,
 * and the next decode works. */
static void test_reuse_after_refusal(void **state)
{
    (void)state;
    size_t len;
    uint8_t *msg = get_response(&len);
    kmip_message *m = NULL;
    kmip_msg_error err, want_err;
    assert_int_equal(kmip_message_decode_into(&m, msg, len, &err), KMIP_OK);
    kmip_message *first = m;
    for (size_t cut = len - 8; cut > 0; cut -= 8) {
        kmip_message *fresh = (kmip_message *)1;
        kmip_err want = kmip_message_decode(msg, cut, &fresh, &want_err);
        assert_int_not_equal(want, KMIP_OK);
        assert_null(fresh);
        assert_int_equal(kmip_message_decode_into(&m, msg, cut, &err), want);
        assert_int_equal(err.offset, want_err.offset);
        assert_string_equal(err.detail, want_err.detail);
        assert_ptr_equal(m, first);
        expect_empty(m);
        assert_int_equal(kmip_message_decode_into(&m, msg, len, &err), KMIP_OK);
        expect_reencodes(m, msg, len);
        key_bytes(m);
    }
    /* a message that fails in the typed layer (a missing Result Status),
     * not in the TTLV: also empty afterwards */
    uint8_t bad[64];
    size_t n = 0;
    put_hdr(bad, KMIP_TAG_RESPONSE_MESSAGE, KMIP_TYPE_STRUCTURE, 0);
    n = 8;
    assert_int_not_equal(kmip_message_decode_into(&m, bad, n, &err), KMIP_OK);
    expect_empty(m);
    kmip_message_free(m);
    free(msg);
}

/* A second decode that is smaller than the first shows nothing of the
 * first; a larger one gets a message whose first block holds it. */
static void test_reuse_smaller_then_larger(void **state)
{
    (void)state;
    size_t big_len, small_len, get_len;
    uint8_t *big = locate_response(40, &big_len);
    uint8_t *small = locate_response(2, &small_len);
    uint8_t *get = get_response(&get_len);
    kmip_message *m = NULL;
    kmip_msg_error err;
    assert_int_equal(kmip_message_decode_into(&m, big, big_len, &err), KMIP_OK);
    const kmip_locate_response *l = m->items[0].payload;
    assert_int_equal(l->unique_identifier_count, 40);
    assert_int_equal(kmip_message_decode_into(&m, small, small_len, &err), KMIP_OK);
    l = m->items[0].payload;
    assert_int_equal(l->unique_identifier_count, 2);
    assert_memory_equal(l->unique_identifiers[1].text.data, "id-000001", 9);
    expect_reencodes(m, small, small_len);
    /* the bytes past what the small message uses were wiped, not left */
    const uint8_t *tail = l->unique_identifiers[1].text.data + 16;
    static const uint8_t zero[64];
    assert_memory_equal(tail, zero, sizeof zero);
    /* another operation with an extension and an attribute: typed anew */
    assert_int_equal(kmip_message_decode_into(&m, get, get_len, &err), KMIP_OK);
    assert_int_equal(m->items[0].operation, KMIP_OPERATION_GET);
    key_bytes(m);
    expect_reencodes(m, get, get_len);
    assert_false(kmip_message_fully_typed(m)); /* the extension */
    assert_int_equal(kmip_message_decode_into(&m, small, small_len, &err), KMIP_OK);
    assert_true(kmip_message_fully_typed(m)); /* the flag went with the reset */
    /* much larger than the block: replaced by one that holds it (the
     * first guess from the length may spill; the next takes what it used),
     * then a message of that size allocates nothing */
    size_t huge_len;
    uint8_t *huge = locate_response(3000, &huge_len);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(kmip_message_decode_into(&m, huge, huge_len, &err), KMIP_OK);
        assert_int_equal(
            ((const kmip_locate_response *)m->items[0].payload)->unique_identifier_count, 3000);
    }
    size_t before = probe_count;
    assert_int_equal(kmip_message_decode_into(&m, huge, huge_len, &err), KMIP_OK);
    assert_int_equal(probe_count, before);
    expect_reencodes(m, huge, huge_len);
    /* and back to a small one: its memory is not pinned (freed, replaced) */
    assert_int_equal(kmip_message_decode_into(&m, small, small_len, &err), KMIP_OK);
    assert_true(msg_block_capacity(m) < huge_len);
    expect_reencodes(m, small, small_len);
    kmip_message_free(m);
    free(big);
    free(small);
    free(get);
    free(huge);
}

/* review R1-1: Batch Count is checked against the Batch Items present
 * before their array is allocated. 10,000 empty Batch Items (8 bytes each)
 * under a header saying 1 are refused (Batch Count, at the message) with
 * no allocation sized by them: the array would be 10,000 batch items
 * (1.36 MB for 80 KB of input). A count that lies in the other direction
 * is refused the same way. */
static void test_batch_count_before_items(void **state)
{
    (void)state;
    static const char *head = "42007B 01 00000000"                   /* ResponseMessage */
                              "42007A 01 00000048"                   /* ResponseHeader */
                              "420069 01 00000020"                   /* ProtocolVersion */
                              "42006A 02 00000004 00000001 00000000" /* Major 1 */
                              "42006B 02 00000004 00000004 00000000" /* Minor 4 */
                              "420092 09 00000008 0000000069000000"  /* Time Stamp */
                              "42000D 02 00000004 00000001 00000000"; /* Batch Count 1 */
    size_t items = 10000, cap = 88 + 8 * items;
    uint8_t *msg = calloc(1, cap);
    assert_non_null(msg);
    size_t n = unhex(head, msg, cap);
    assert_int_equal(n, 88);
    for (size_t i = 0; i < items; i++)
        put_hdr(msg + n + 8 * i, KMIP_TAG_BATCH_ITEM, KMIP_TYPE_STRUCTURE, 0);
    n += 8 * items;
    put_hdr(msg, KMIP_TAG_RESPONSE_MESSAGE, KMIP_TYPE_STRUCTURE, (uint32_t)(n - 8));
    kmip_message *m = (kmip_message *)1;
    kmip_msg_error err;
    probe_largest = 0;
    assert_int_equal(kmip_message_decode(msg, n, &m, &err), KMIP_E_RANGE);
    assert_null(m);
    assert_int_equal(err.offset, 0);
    assert_string_equal(err.detail, "byte 0: Batch Count is 1 but the message holds 10000 batch items");
    assert_true(probe_largest < items * sizeof(kmip_batch_item));
    /* the same through a reused message: it stays empty and usable */
    size_t good_len;
    uint8_t *good = get_response(&good_len);
    m = NULL;
    assert_int_equal(kmip_message_decode_into(&m, good, good_len, &err), KMIP_OK);
    free(good);
    probe_largest = 0;
    assert_int_equal(kmip_message_decode_into(&m, msg, n, &err), KMIP_E_RANGE);
    assert_true(probe_largest < items * sizeof(kmip_batch_item));
    expect_empty(m);
    kmip_message_free(m);
    /* a count above the items present: refused as well */
    msg[80 + 2] = 0x27; /* Batch Count's value (bytes 80-83): 0x2711 = 10001 */
    msg[80 + 3] = 0x11;
    assert_int_equal(kmip_message_decode(msg, n, &m, &err), KMIP_E_RANGE);
    assert_string_equal(err.detail,
                        "byte 0: Batch Count is 10001 but the message holds 10000 batch items");
    assert_null(m);
    free(msg);
}

/* The typed decoder looks a child up by its tag and takes the first field
 * of the chain that accepts it: that is only right when no two fields of a
 * table accept the same child. */
static void check_unambiguous(const struct_desc *d)
{
    for (size_t i = 0; i < d->nfields; i++) {
        for (size_t k = i + 1; k < d->nfields; k++) {
            const field_desc *a = &d->fields[i], *b = &d->fields[k];
            if (a->tag != b->tag)
                continue;
            /* same tag: the kinds must take different item types (K_ITEM
             * takes any, K_UID Text String or Enumeration) */
            bool a_struct = a->kind >= K_STRUCT, b_struct = b->kind >= K_STRUCT;
            bool overlap = a->kind == K_ITEM || b->kind == K_ITEM || a->kind == b->kind ||
                           (a_struct && b_struct) ||
                           ((a->kind == K_UID || b->kind == K_UID) &&
                            (a->kind == K_TEXT || b->kind == K_TEXT || a->kind == K_ENUM ||
                             b->kind == K_ENUM));
            if (overlap)
                fail_msg("%s: fields %zu and %zu both accept tag 0x%06X", d->name, i, k, a->tag);
        }
        if (d->fields[i].kind == K_STRUCT)
            check_unambiguous(d->fields[i].sub);
    }
}

static void test_tables_unambiguous(void **state)
{
    (void)state;
    check_unambiguous(&kmip_desc_request_header);
    check_unambiguous(&kmip_desc_response_header);
    check_unambiguous(&kmip_desc_request_item);
    check_unambiguous(&kmip_desc_response_item);
    for (uint32_t op = 1; op < 0x40; op++) {
        const struct_desc *rq = kmip_payload_desc(op, false), *rs = kmip_payload_desc(op, true);
        if (rq)
            check_unambiguous(rq);
        if (rs)
            check_unambiguous(rs);
    }
}

/* ttlv_next_typed (the generated fast paths' read of a child whose header
 * they have compared) accepts exactly what ttlv_next accepts, fills the
 * same header and counts the same item: for every KMIP type, lengths
 * around each rule (fixed sizes, multiples of 8, the string limit, what
 * remains), non-zero padding at each position, Boolean values, Text
 * Strings that are not UTF-8 or hold a NUL, and the item and depth limits
 * at their edge. */
static bool typed_read(ttlv_reader *r, const uint8_t *pos, const uint8_t *end, unsigned depth,
                       uint64_t hw, unsigned type, ttlv_hdr *h)
{
    /* each type as the constant the generated code passes */
    switch (type) {
#define TYPED(t)                                                                                   \
    case t:                                                                                        \
        return ttlv_next_typed(r, pos, end, depth, hw, t, h)
        TYPED(KMIP_TYPE_STRUCTURE);
        TYPED(KMIP_TYPE_INTEGER);
        TYPED(KMIP_TYPE_LONG_INTEGER);
        TYPED(KMIP_TYPE_BIG_INTEGER);
        TYPED(KMIP_TYPE_ENUMERATION);
        TYPED(KMIP_TYPE_BOOLEAN);
        TYPED(KMIP_TYPE_TEXT_STRING);
        TYPED(KMIP_TYPE_BYTE_STRING);
        TYPED(KMIP_TYPE_DATE_TIME);
        TYPED(KMIP_TYPE_INTERVAL);
        TYPED(KMIP_TYPE_DATE_TIME_EXTENDED);
#undef TYPED
    default:
        fail();
        return false;
    }
}

static void check_typed_read(const uint8_t *buf, size_t avail, unsigned type, unsigned depth,
                             size_t max_items, size_t items, size_t max_string)
{
    ttlv_reader a, b;
    ttlv_reader_init(&a, buf, max_items, max_string, 4, NULL, 0);
    ttlv_reader_init(&b, buf, max_items, max_string, 4, NULL, 0);
    a.items = b.items = items;
    ttlv_hdr ha, hb;
    memset(&ha, 0, sizeof ha);
    memset(&hb, 0, sizeof hb);
    bool want = ttlv_next(&a, buf, buf + avail, depth, &ha) == KMIP_OK;
    bool got = typed_read(&b, buf, buf + avail, depth, ttlv_header_word(buf), type, &hb);
    if (want != got)
        fail_msg("type %u, length %u, %zu bytes, depth %u, items %zu/%zu: ttlv_next %s, "
                 "ttlv_next_typed %s",
                 type, (unsigned)(ttlv_header_word(buf) & 0xFFFFFFFFu), avail, depth, items,
                 max_items, want ? "accepts" : "refuses", got ? "accepts" : "refuses");
    if (!want) {
        assert_int_equal(b.items, items); /* nothing counted */
        return;
    }
    assert_int_equal(a.items, b.items);
    assert_int_equal(ha.tag, hb.tag);
    assert_int_equal(ha.type, hb.type);
    assert_int_equal(ha.len, hb.len);
    assert_ptr_equal(ha.at, hb.at);
    assert_ptr_equal(ha.val, hb.val);
    assert_ptr_equal(ha.next, hb.next);
}

static void test_typed_read_matches_next(void **state)
{
    (void)state;
    static const uint32_t lens[] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,   12,  15,        16,
                                    17, 23, 24, 31, 32, 33, 40, 63, 64, 65, 0x7FFFFFFFu, 0xFFFFFFFFu};
    uint8_t buf[8 + 80];
    for (unsigned type = KMIP_TYPE_STRUCTURE; type <= KMIP_TYPE_DATE_TIME_EXTENDED; type++) {
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            uint32_t len = lens[li];
            /* value bytes: plain ASCII; then variants of the value and padding */
            for (int variant = 0; variant < 6; variant++) {
                memset(buf, 0, sizeof buf);
                put_hdr(buf, 0x420042u, (uint8_t)type, len);
                size_t vlen = len < 80 ? len : 80;
                if (type != KMIP_TYPE_BOOLEAN && type != KMIP_TYPE_STRUCTURE)
                    memset(buf + 8, 'a', vlen);
                if (variant == 1 && type == KMIP_TYPE_BOOLEAN)
                    buf[15] = 1;
                if (variant == 2 && type == KMIP_TYPE_BOOLEAN)
                    buf[15] = 2;
                if (variant == 3 && vlen > 0)
                    buf[8] = 0x80; /* not UTF-8 for a Text String */
                if (variant == 4 && vlen > 0)
                    buf[8 + vlen - 1] = 0; /* a NUL in a Text String */
                for (size_t avail = 8; avail <= sizeof buf; avail++) {
                    if (variant == 5) { /* a non-zero byte at avail - 1 (padding or value) */
                        if (avail > 8)
                            buf[avail - 1] = 0x01;
                    }
                    for (unsigned depth = 0; depth <= 4; depth += 2)
                        check_typed_read(buf, avail, type, depth, 100, 0, 64);
                    check_typed_read(buf, avail, type, 1, 100, 100, 64); /* no item left */
                    check_typed_read(buf, avail, type, 1, 100, 99, 64);
                    check_typed_read(buf, avail, type, 1, 100, 0, 15); /* string limit */
                    check_typed_read(buf, avail, type, 1, 100, 0, 16);
                    if (variant == 5 && avail > 8)
                        buf[avail - 1] = 0;
                }
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_structure_lengths_that_lie),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_unknown_tags),
        cmocka_unit_test(test_tables_unambiguous),
        cmocka_unit_test(test_reuse_steady_state),
        cmocka_unit_test(test_reuse_after_refusal),
        cmocka_unit_test(test_reuse_smaller_then_larger),
        cmocka_unit_test(test_batch_count_before_items),
        cmocka_unit_test(test_typed_read_matches_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

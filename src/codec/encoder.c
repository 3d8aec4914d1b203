/* SPDX-License-Identifier: GPL-2.0-only */
/* Streaming TTLV encoder, KMIP 1.4 section 9.1. A structure's header is
 * written with a zero length at kmip_enc_begin and back-patched at
 * kmip_enc_end, so a message is encoded in one pass without knowing sizes in
 * advance. Errors are sticky (see kmip_ttlv.h). */
#include <stdlib.h>
#include <string.h>

#include "buffer.h"
#include "kmip/kmip_ttlv.h"
#include "wire.h"

/* A structure's length field is 32 bits; nothing may exceed it. */
#define ENCODE_LIMIT ((size_t)UINT32_MAX)

struct kmip_encoder {
    kmip_buf out;
    size_t open[KMIP_ENCODER_MAX_DEPTH]; /* offsets of open structure headers */
    unsigned depth;
    kmip_err err;
};

kmip_encoder *kmip_encoder_new(void)
{
    return calloc(1, sizeof(kmip_encoder));
}

void kmip_encoder_free(kmip_encoder *e)
{
    if (e == NULL)
        return;
    kmip_buf_free(&e->out);
    free(e);
}

void kmip_encoder_reset(kmip_encoder *e)
{
    kmip_buf_clear(&e->out);
    e->depth = 0;
    e->err = KMIP_OK;
}

static bool enc_fail(kmip_encoder *e, kmip_err err)
{
    if (e->err == KMIP_OK)
        e->err = err;
    return false;
}

/* Writes a header and reserves room for value_len bytes plus padding. */
static bool put_header(kmip_encoder *e, uint32_t tag, kmip_type type, size_t value_len)
{
    if (e->err != KMIP_OK)
        return false;
    if (!wire_tag_valid(tag))
        return enc_fail(e, KMIP_E_BAD_TAG);
    if (value_len > ENCODE_LIMIT)
        return enc_fail(e, KMIP_E_LIMIT_SIZE);
    size_t total = KMIP_HEADER_LEN + value_len + wire_pad(value_len);
    kmip_err err = kmip_buf_reserve(&e->out, total, ENCODE_LIMIT);
    if (err != KMIP_OK)
        return enc_fail(e, err);
    uint8_t h[KMIP_HEADER_LEN];
    h[0] = (uint8_t)(tag >> 16);
    h[1] = (uint8_t)(tag >> 8);
    h[2] = (uint8_t)tag;
    h[3] = (uint8_t)type;
    wire_put_u32(h + 4, (uint32_t)value_len);
    kmip_buf_append_unchecked(&e->out, h, sizeof h);
    return true;
}

static void put_value(kmip_encoder *e, const void *p, size_t n)
{
    static const uint8_t zeros[8];
    kmip_buf_append_unchecked(&e->out, p, n);
    kmip_buf_append_unchecked(&e->out, zeros, wire_pad(n));
}

void kmip_enc_begin(kmip_encoder *e, uint32_t tag)
{
    if (e->err == KMIP_OK && e->depth >= KMIP_ENCODER_MAX_DEPTH) {
        enc_fail(e, KMIP_E_LIMIT_DEPTH);
        return;
    }
    size_t at = e->out.len;
    if (put_header(e, tag, KMIP_TYPE_STRUCTURE, 0))
        e->open[e->depth++] = at;
}

void kmip_enc_end(kmip_encoder *e)
{
    if (e->err != KMIP_OK)
        return;
    if (e->depth == 0) {
        enc_fail(e, KMIP_E_ARG);
        return;
    }
    size_t at = e->open[--e->depth];
    size_t len = e->out.len - at - KMIP_HEADER_LEN;
    if (len > ENCODE_LIMIT) {
        enc_fail(e, KMIP_E_LIMIT_SIZE);
        return;
    }
    wire_put_u32(e->out.data + at + 4, (uint32_t)len);
}

static void put_u32_item(kmip_encoder *e, uint32_t tag, kmip_type type, uint32_t v)
{
    uint8_t b[4];
    if (!put_header(e, tag, type, 4))
        return;
    wire_put_u32(b, v);
    put_value(e, b, 4);
}

static void put_u64_item(kmip_encoder *e, uint32_t tag, kmip_type type, uint64_t v)
{
    uint8_t b[8];
    if (!put_header(e, tag, type, 8))
        return;
    wire_put_u64(b, v);
    put_value(e, b, 8);
}

void kmip_enc_int(kmip_encoder *e, uint32_t tag, int32_t v)
{
    put_u32_item(e, tag, KMIP_TYPE_INTEGER, (uint32_t)v);
}

void kmip_enc_long(kmip_encoder *e, uint32_t tag, int64_t v)
{
    put_u64_item(e, tag, KMIP_TYPE_LONG_INTEGER, (uint64_t)v);
}

void kmip_enc_enum(kmip_encoder *e, uint32_t tag, uint32_t v)
{
    put_u32_item(e, tag, KMIP_TYPE_ENUMERATION, v);
}

void kmip_enc_bool(kmip_encoder *e, uint32_t tag, bool v)
{
    put_u64_item(e, tag, KMIP_TYPE_BOOLEAN, v ? 1u : 0u);
}

void kmip_enc_datetime(kmip_encoder *e, uint32_t tag, int64_t seconds)
{
    put_u64_item(e, tag, KMIP_TYPE_DATE_TIME, (uint64_t)seconds);
}

void kmip_enc_datetime_ext(kmip_encoder *e, uint32_t tag, int64_t microseconds)
{
    put_u64_item(e, tag, KMIP_TYPE_DATE_TIME_EXTENDED, (uint64_t)microseconds);
}

void kmip_enc_interval(kmip_encoder *e, uint32_t tag, uint32_t seconds)
{
    put_u32_item(e, tag, KMIP_TYPE_INTERVAL, seconds);
}

static void put_bytes_item(kmip_encoder *e, uint32_t tag, kmip_type type, const void *data,
                           size_t len)
{
    if (len && data == NULL) {
        enc_fail(e, KMIP_E_ARG);
        return;
    }
    if (put_header(e, tag, type, len))
        put_value(e, data, len);
}

void kmip_enc_text(kmip_encoder *e, uint32_t tag, const char *s, size_t len)
{
    put_bytes_item(e, tag, KMIP_TYPE_TEXT_STRING, s, len);
}

void kmip_enc_bytes(kmip_encoder *e, uint32_t tag, const void *data, size_t len)
{
    put_bytes_item(e, tag, KMIP_TYPE_BYTE_STRING, data, len);
}

/* Big Integer, 1.4 section 9.1.1.4: two's complement, big-endian, length a
 * multiple of 8, sign-extended on the left. */
void kmip_enc_bigint(kmip_encoder *e, uint32_t tag, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len && p == NULL) {
        enc_fail(e, KMIP_E_ARG);
        return;
    }
    size_t ext = wire_pad(len);
    if (len > ENCODE_LIMIT - ext) {
        enc_fail(e, KMIP_E_LIMIT_SIZE);
        return;
    }
    if (!put_header(e, tag, KMIP_TYPE_BIG_INTEGER, len + ext))
        return;
    uint8_t fill = (len && (p[0] & 0x80u)) ? 0xFF : 0x00;
    uint8_t sign[8];
    memset(sign, fill, sizeof sign);
    kmip_buf_append_unchecked(&e->out, sign, ext);
    kmip_buf_append_unchecked(&e->out, p, len);
}

static void enc_scalar(kmip_encoder *e, const kmip_item *it)
{
    switch (it->type) {
    case KMIP_TYPE_INTEGER:
        kmip_enc_int(e, it->tag, it->v.i32);
        break;
    case KMIP_TYPE_LONG_INTEGER:
        kmip_enc_long(e, it->tag, it->v.i64);
        break;
    case KMIP_TYPE_BIG_INTEGER:
        kmip_enc_bigint(e, it->tag, it->v.bytes.data, it->v.bytes.len);
        break;
    case KMIP_TYPE_ENUMERATION:
        kmip_enc_enum(e, it->tag, it->v.u32);
        break;
    case KMIP_TYPE_BOOLEAN:
        kmip_enc_bool(e, it->tag, it->v.boolean);
        break;
    case KMIP_TYPE_TEXT_STRING:
        kmip_enc_text(e, it->tag, (const char *)it->v.bytes.data, it->v.bytes.len);
        break;
    case KMIP_TYPE_BYTE_STRING:
        kmip_enc_bytes(e, it->tag, it->v.bytes.data, it->v.bytes.len);
        break;
    case KMIP_TYPE_DATE_TIME:
        kmip_enc_datetime(e, it->tag, it->v.i64);
        break;
    case KMIP_TYPE_INTERVAL:
        kmip_enc_interval(e, it->tag, it->v.u32);
        break;
    case KMIP_TYPE_DATE_TIME_EXTENDED:
        kmip_enc_datetime_ext(e, it->tag, it->v.i64);
        break;
    default:
        enc_fail(e, KMIP_E_BAD_TYPE);
    }
}

void kmip_enc_item(kmip_encoder *e, const kmip_item *it)
{
    if (it == NULL) {
        enc_fail(e, KMIP_E_ARG);
        return;
    }
    kmip_enc_item_tagged(e, it->tag, it);
}

void kmip_enc_item_tagged(kmip_encoder *e, uint32_t tag, const kmip_item *it)
{
    if (it == NULL) {
        enc_fail(e, KMIP_E_ARG);
        return;
    }
    if (it->type != KMIP_TYPE_STRUCTURE) {
        kmip_item copy = *it;
        copy.tag = tag;
        enc_scalar(e, &copy);
        return;
    }
    kmip_enc_begin(e, tag);
    for (const kmip_item *c = it->first_child; c != NULL && e->err == KMIP_OK; c = c->next)
        kmip_enc_item(e, c);
    kmip_enc_end(e);
}

kmip_err kmip_encoder_finish(kmip_encoder *e, const uint8_t **data, size_t *len)
{
    if (e == NULL || data == NULL || len == NULL)
        return KMIP_E_ARG;
    if (e->err != KMIP_OK)
        return e->err;
    if (e->depth != 0)
        return KMIP_E_ARG;
    *data = e->out.data;
    *len = e->out.len;
    return KMIP_OK;
}

kmip_err kmip_encoder_take(kmip_encoder *e, uint8_t **out, size_t *out_len)
{
    const uint8_t *data;
    size_t len;
    if (out == NULL || out_len == NULL)
        return KMIP_E_ARG;
    kmip_err err = kmip_encoder_finish(e, &data, &len);
    if (err != KMIP_OK)
        return err;
    if (e->out.data == NULL) { /* nothing was encoded: hand over an empty buffer */
        *out = malloc(1);
        *out_len = 0;
        return *out ? KMIP_OK : KMIP_E_NOMEM;
    }
    /* Only the first len bytes ever held data: growth copies len bytes and
     * reset wipes them, so the rest of the allocation is clean. */
    *out = e->out.data;
    *out_len = len;
    e->out.data = NULL;
    e->out.len = e->out.cap = 0;
    return KMIP_OK;
}

kmip_err kmip_encode_tree(const kmip_item *root, uint8_t **out, size_t *out_len)
{
    if (root == NULL || out == NULL || out_len == NULL)
        return KMIP_E_ARG;
    kmip_encoder *e = kmip_encoder_new();
    if (e == NULL)
        return KMIP_E_NOMEM;
    kmip_enc_item(e, root);
    kmip_err err = kmip_encoder_take(e, out, out_len);
    kmip_encoder_free(e);
    return err;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Streaming TTLV encoder, KMIP 1.4 section 9.1. A structure's header is
 * written with a zero length at kmip_enc_begin and back-patched at
 * kmip_enc_end, so a message is encoded in one pass without knowing sizes in
 * advance. The bytes are written by the shared writer (writer.c). Errors are
 * sticky (see kmip_ttlv.h). */
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"
#include "ttlv_internal.h"

struct kmip_encoder {
    ttlv_writer w;
    size_t open[KMIP_ENCODER_MAX_DEPTH]; /* offsets of open structure headers */
};

kmip_encoder *kmip_encoder_new(void)
{
    return calloc(1, sizeof(kmip_encoder));
}

void kmip_encoder_free(kmip_encoder *e)
{
    if (e == NULL)
        return;
    ttlv_writer_free(&e->w);
    free(e);
}

void kmip_encoder_reset(kmip_encoder *e)
{
    kmip_secure_zero(e->w.buf, e->w.len);
    e->w.len = 0;
    e->w.depth = 0;
    e->w.err = KMIP_OK;
}

void kmip_enc_begin(kmip_encoder *e, uint32_t tag)
{
    unsigned depth = e->w.depth;
    size_t at = ttlv_begin(&e->w, tag);
    if (e->w.depth > depth)
        e->open[depth] = at;
}

void kmip_enc_end(kmip_encoder *e)
{
    if (e->w.err != KMIP_OK)
        return;
    if (e->w.depth == 0) {
        ttlv_fail_w(&e->w, KMIP_E_ARG);
        return;
    }
    ttlv_end(&e->w, e->open[e->w.depth - 1]);
}

void kmip_enc_int(kmip_encoder *e, uint32_t tag, int32_t v)
{
    ttlv_w32(&e->w, tag, KMIP_TYPE_INTEGER, (uint32_t)v);
}

void kmip_enc_long(kmip_encoder *e, uint32_t tag, int64_t v)
{
    ttlv_w64(&e->w, tag, KMIP_TYPE_LONG_INTEGER, (uint64_t)v);
}

void kmip_enc_enum(kmip_encoder *e, uint32_t tag, uint32_t v)
{
    ttlv_w32(&e->w, tag, KMIP_TYPE_ENUMERATION, v);
}

void kmip_enc_bool(kmip_encoder *e, uint32_t tag, bool v)
{
    ttlv_w64(&e->w, tag, KMIP_TYPE_BOOLEAN, v ? 1u : 0u);
}

void kmip_enc_datetime(kmip_encoder *e, uint32_t tag, int64_t seconds)
{
    ttlv_w64(&e->w, tag, KMIP_TYPE_DATE_TIME, (uint64_t)seconds);
}

void kmip_enc_datetime_ext(kmip_encoder *e, uint32_t tag, int64_t microseconds)
{
    ttlv_w64(&e->w, tag, KMIP_TYPE_DATE_TIME_EXTENDED, (uint64_t)microseconds);
}

void kmip_enc_interval(kmip_encoder *e, uint32_t tag, uint32_t seconds)
{
    ttlv_w32(&e->w, tag, KMIP_TYPE_INTERVAL, seconds);
}

void kmip_enc_text(kmip_encoder *e, uint32_t tag, const char *s, size_t len)
{
    ttlv_wbytes(&e->w, tag, KMIP_TYPE_TEXT_STRING, s, len);
}

void kmip_enc_bytes(kmip_encoder *e, uint32_t tag, const void *data, size_t len)
{
    ttlv_wbytes(&e->w, tag, KMIP_TYPE_BYTE_STRING, data, len);
}

void kmip_enc_bigint(kmip_encoder *e, uint32_t tag, const void *data, size_t len)
{
    ttlv_wbigint(&e->w, tag, data, len);
}

void kmip_enc_item(kmip_encoder *e, const kmip_item *it)
{
    if (it == NULL) {
        ttlv_fail_w(&e->w, KMIP_E_ARG);
        return;
    }
    ttlv_witem(&e->w, it->tag, it);
}

void kmip_enc_item_tagged(kmip_encoder *e, uint32_t tag, const kmip_item *it)
{
    ttlv_witem(&e->w, tag, it);
}

kmip_err kmip_encoder_finish(kmip_encoder *e, const uint8_t **data, size_t *len)
{
    if (e == NULL || data == NULL || len == NULL)
        return KMIP_E_ARG;
    if (e->w.err != KMIP_OK)
        return e->w.err;
    if (e->w.depth != 0)
        return KMIP_E_ARG;
    *data = e->w.buf;
    *len = e->w.len;
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
    if (e->w.buf == NULL) { /* nothing was encoded: hand over an empty buffer */
        *out = malloc(1);
        *out_len = 0;
        return *out ? KMIP_OK : KMIP_E_NOMEM;
    }
    /* Only the first len bytes ever held data: growth copies len bytes and
     * reset wipes them, so the rest of the allocation is clean. */
    *out = e->w.buf;
    *out_len = len;
    e->w.buf = NULL;
    e->w.len = e->w.cap = 0;
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

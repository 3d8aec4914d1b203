/* SPDX-License-Identifier: GPL-2.0-only */
/* The one TTLV write, KMIP 1.4 section 9.1: headers and values appended to
 * one buffer, structure lengths back-patched when the structure ends, values
 * zero-padded to a multiple of 8 bytes (9.1.1.3). The public streaming
 * encoder (encoder.c) and the typed message encoder both write through it.
 *
 * The buffer may hold key material: it grows by allocate, copy, wipe the old
 * one (never realloc, which could leave a copy in freed memory), and only
 * the bytes written are wiped. */
#include <stdlib.h>
#include <string.h>

#include "ttlv_internal.h"
#include "wire.h"

/* The first buffer: most messages fit (a Get response is about 300 bytes,
 * a Register request about 600). */
#define FIRST_CAP 1024u

bool ttlv_grow(ttlv_writer *w, size_t n)
{
    if (w->err != KMIP_OK)
        return false;
    if (n > TTLV_WRITE_LIMIT || w->len > TTLV_WRITE_LIMIT - n) {
        ttlv_fail_w(w, KMIP_E_LIMIT_SIZE);
        return false;
    }
    size_t need = w->len + n;
    if (need <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : FIRST_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *fresh = malloc(cap);
    if (fresh == NULL) {
        ttlv_fail_w(w, KMIP_E_NOMEM);
        return false;
    }
    if (w->len)
        memcpy(fresh, w->buf, w->len);
    kmip_secure_free(w->buf, w->len);
    w->buf = fresh;
    w->cap = cap;
    return true;
}

void ttlv_writer_free(ttlv_writer *w)
{
    kmip_secure_free(w->buf, w->len);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void ttlv_wbigint(ttlv_writer *w, uint32_t tag, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (w->err != KMIP_OK)
        return;
    if (len && p == NULL) {
        ttlv_fail_w(w, KMIP_E_ARG);
        return;
    }
    size_t ext = wire_pad(len);
    if (len > TTLV_WRITE_LIMIT - ext) {
        ttlv_fail_w(w, KMIP_E_LIMIT_SIZE);
        return;
    }
    if (!ttlv_tag_ok(w, tag) || !ttlv_room(w, KMIP_HEADER_LEN + len + ext))
        return;
    uint8_t *o = w->buf + w->len;
    ttlv_put_header(o, tag, KMIP_TYPE_BIG_INTEGER, (uint32_t)(len + ext));
    /* two's complement, big-endian, sign-extended on the left (9.1.1.4) */
    memset(o + KMIP_HEADER_LEN, (len && (p[0] & 0x80u)) ? 0xFF : 0x00, ext);
    if (len)
        memcpy(o + KMIP_HEADER_LEN + ext, p, len);
    w->len += KMIP_HEADER_LEN + len + ext;
}

void ttlv_witem(ttlv_writer *w, uint32_t tag, const kmip_item *it)
{
    if (it == NULL) {
        ttlv_fail_w(w, KMIP_E_ARG);
        return;
    }
    switch (it->type) {
    case KMIP_TYPE_STRUCTURE: {
        size_t at = ttlv_begin(w, tag);
        for (const kmip_item *c = it->first_child; c != NULL && w->err == KMIP_OK; c = c->next)
            ttlv_witem(w, c->tag, c);
        ttlv_end(w, at);
        return;
    }
    case KMIP_TYPE_INTEGER:
    case KMIP_TYPE_ENUMERATION:
    case KMIP_TYPE_INTERVAL:
        ttlv_w32(w, tag, (kmip_type)it->type,
                 it->type == KMIP_TYPE_INTEGER ? (uint32_t)it->v.i32 : it->v.u32);
        return;
    case KMIP_TYPE_LONG_INTEGER:
    case KMIP_TYPE_DATE_TIME:
    case KMIP_TYPE_DATE_TIME_EXTENDED:
        ttlv_w64(w, tag, (kmip_type)it->type, (uint64_t)it->v.i64);
        return;
    case KMIP_TYPE_BOOLEAN:
        ttlv_w64(w, tag, KMIP_TYPE_BOOLEAN, it->v.boolean ? 1u : 0u);
        return;
    case KMIP_TYPE_TEXT_STRING:
    case KMIP_TYPE_BYTE_STRING:
        ttlv_wbytes(w, tag, (kmip_type)it->type, it->v.bytes.data, it->v.bytes.len);
        return;
    case KMIP_TYPE_BIG_INTEGER:
        ttlv_wbigint(w, tag, it->v.bytes.data, it->v.bytes.len);
        return;
    default:
        ttlv_fail_w(w, KMIP_E_BAD_TYPE);
    }
}

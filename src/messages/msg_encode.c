/* SPDX-License-Identifier: GPL-2.0-only */
/* Typed encoding: the structs of kmip_message.h written straight to TTLV
 * bytes by walking the tables of msg_schema.c, with no item tree in
 * between. KMIP 1.4 sections 7 and 9.1, 2.1 sections 8 and 9.1.
 *
 * The bytes go through the codec's writer into one buffer (its first
 * allocation holds a typical message; beyond that it grows by
 * allocate-copy-wipe); structure lengths are back-patched when a structure
 * ends, so one pass suffices. Encoding is conservative: only the fields the
 * message's protocol version defines are written. */
#include <pthread.h>
#include <string.h>

#include "../codec/ttlv_internal.h"
#include "kmip/kmip_message.h"
#include "message_internal.h"
#include "msg_schema.h"

typedef struct ectx {
    ttlv_writer w;
    unsigned version;
    bool response;
    kmip_err err; /* errors the writer cannot see (KMIP_E_UNSUPPORTED) */
    bool fast;    /* the generated fast paths are used (below) */
} ectx;

static void encode_struct(ectx *c, const struct_desc *d, const void *base, uint32_t tag);

static const void *cat(const void *base, size_t off)
{
    return (const char *)base + off;
}

/* One attribute: 1.x Attribute (Name, Index, Value; 1.4 section 2.1.1) or
 * 2.x the attribute's own tag (2.1 section 7.2). */
static void encode_attr(ectx *c, const kmip_attribute *a, unsigned version)
{
    if (version >= KMIP_VERSION(2, 0)) {
        if (a->tag == 0) {
            c->err = KMIP_E_UNSUPPORTED; /* a custom 1.x attribute has no 2.x tag */
            return;
        }
        if (a->value)
            ttlv_witem(&c->w, a->tag, a->value);
        return;
    }
    size_t at = ttlv_begin(&c->w, KMIP_TAG_ATTRIBUTE);
    if (a->name.len || a->tag == 0) {
        ttlv_wbytes(&c->w, KMIP_TAG_ATTRIBUTE_NAME, KMIP_TYPE_TEXT_STRING, a->name.data,
                    a->name.len);
    } else {
        const char *n = kmip_tag_name(a->tag);
        ttlv_wbytes(&c->w, KMIP_TAG_ATTRIBUTE_NAME, KMIP_TYPE_TEXT_STRING, n ? n : "",
                    n ? strlen(n) : 0);
    }
    if (a->has_index)
        ttlv_w32(&c->w, KMIP_TAG_ATTRIBUTE_INDEX, KMIP_TYPE_INTEGER, (uint32_t)a->index);
    if (a->value)
        ttlv_witem(&c->w, KMIP_TAG_ATTRIBUTE_VALUE, a->value);
    ttlv_end(&c->w, at);
}

static void encode_attr_list(ectx *c, const field_desc *f, const kmip_attr_list *l)
{
    if (f->kind == K_ATTR1) {
        for (const kmip_attribute *a = l->first; a; a = a->next)
            encode_attr(c, a, c->version);
        return;
    }
    if (!l->present)
        return;
    /* a Template-Attribute holds 1.x Attributes */
    unsigned version = f->kind == K_TEMPLATE ? KMIP_VERSION(1, 0) : c->version;
    size_t at = ttlv_begin(&c->w, f->tag);
    for (const kmip_attribute *a = l->first; a; a = a->next)
        encode_attr(c, a, version);
    ttlv_end(&c->w, at);
}

static void encode_payload(ectx *c, const field_desc *f, const void *base)
{
    const kmip_batch_item *bi = base;
    const struct_desc *pd =
        bi->has_operation ? kmip_payload_desc(bi->operation, c->response) : NULL;
    if (bi->payload && pd) {
        encode_struct(c, pd, bi->payload, f->tag);
    } else if (bi->raw_payload) {
        ttlv_witem(&c->w, f->tag, bi->raw_payload);
    } else if (!c->response) { /* a request item always carries a payload */
        size_t at = ttlv_begin(&c->w, f->tag);
        ttlv_end(&c->w, at);
    }
}

__attribute__((always_inline)) static inline void encode_value(ectx *c, const field_desc *f,
                                                               const void *base, const void *v)
{
    switch (f->kind) {
    case K_INT:
        ttlv_w32(&c->w, f->tag, KMIP_TYPE_INTEGER, (uint32_t) * (const int32_t *)v);
        break;
    case K_ENUM:
        ttlv_w32(&c->w, f->tag, KMIP_TYPE_ENUMERATION, *(const uint32_t *)v);
        break;
    case K_LONG:
        ttlv_w64(&c->w, f->tag, KMIP_TYPE_LONG_INTEGER, (uint64_t) * (const int64_t *)v);
        break;
    case K_DATETIME:
        ttlv_w64(&c->w, f->tag, KMIP_TYPE_DATE_TIME, (uint64_t) * (const int64_t *)v);
        break;
    case K_BOOL:
        ttlv_w64(&c->w, f->tag, KMIP_TYPE_BOOLEAN, *(const bool *)v ? 1u : 0u);
        break;
    case K_TEXT:
    case K_BYTES: {
        const kmip_bytes *b = v;
        ttlv_wbytes(&c->w, f->tag,
                    f->kind == K_TEXT ? KMIP_TYPE_TEXT_STRING : KMIP_TYPE_BYTE_STRING, b->data,
                    b->len);
        break;
    }
    case K_UID: {
        const kmip_uid *u = v;
        if (u->is_enum)
            ttlv_w32(&c->w, f->tag, KMIP_TYPE_ENUMERATION, u->enum_value);
        else
            ttlv_wbytes(&c->w, f->tag, KMIP_TYPE_TEXT_STRING, u->text.data, u->text.len);
        break;
    }
    case K_ITEM: {
        const kmip_item *it = *(const kmip_item *const *)v;
        if (it && (!(f->flags & F_BYTAG) || it->tag == f->tag))
            ttlv_witem(&c->w, f->tag, it);
        break;
    }
    case K_STRUCT:
        encode_struct(c, f->sub, v, f->tag);
        break;
    case K_PAYLOAD:
        encode_payload(c, f, base);
        break;
    default:
        encode_attr_list(c, f, v);
    }
}

/* A field of the general path: defined by some versions only, repeated,
 * a Boolean, an attribute list or a payload. */
static void encode_field(ectx *c, const struct_desc *d, const field_desc *f, const void *base)
{
    if ((f->flags & F_VER) && !msg_version_defines(c->version, f))
        return;
    const void *v = cat(base, f->offset);
    switch (f->presence) {
    case P_FLAG:
        if (!*(const bool *)cat(base, f->aux))
            return;
        break;
    case P_ITEM:
        if (*(const kmip_item *const *)v == NULL)
            return;
        break;
    case P_REP: {
        size_t n = *(const size_t *)cat(base, f->aux);
        const char *arr = *(const char *const *)v;
        size_t size = msg_elem_size(f);
        for (size_t k = 0; k < n; k++)
            encode_value(c, f, base, arr + k * size);
        return;
    }
    default:
        break;
    }
    (void)d;
    encode_value(c, f, base, v);
}

static void encode_extras(ectx *c, const kmip_extras *x)
{
    for (size_t k = 0; k < x->count; k++) {
        const kmip_item *it = x->items[k];
        if (it == NULL) {
            ttlv_fail_w(&c->w, KMIP_E_ARG);
            break;
        }
        ttlv_witem(&c->w, it->tag, it);
    }
}

/* A structure's extras (items kept from a decode), then its end: how
 * encode_struct and the generated fast paths end a structure. Inline: most
 * structures have no extras, and their end is a few stores. */
__attribute__((always_inline)) static inline void encode_extras_end(ectx *c, const void *base,
                                                                    size_t at)
{
    const kmip_extras *x = base;
    if (x->count != 0)
        encode_extras(c, x);
    ttlv_end(&c->w, at);
}

static void encode_struct(ectx *c, const struct_desc *d, const void *base, uint32_t tag)
{
    size_t at = ttlv_begin(&c->w, tag);
    const desc_cache *dc = &d->cache;
    const char *b = base;
    /* one switch per field: its presence test and its write (the table's
     * derived encode_op); fields that share an empty item slot skipped at
     * once */
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        unsigned op = dc->eop[i];
        if ((op & E_FLAG) && !*(const bool *)(b + f->aux))
            continue;
        const void *v = b + f->offset;
        switch (op & ~(unsigned)E_FLAG) {
        case E_U32:
            ttlv_w32(&c->w, f->tag, (kmip_type)dc->etype[i], *(const uint32_t *)v);
            break;
        case E_U64:
            ttlv_w64(&c->w, f->tag, (kmip_type)dc->etype[i], *(const uint64_t *)v);
            break;
        case E_BYTES: {
            const kmip_bytes *by = v;
            ttlv_wbytes(&c->w, f->tag, (kmip_type)dc->etype[i], by->data, by->len);
            break;
        }
        case E_UID: {
            const kmip_uid *u = v;
            if (u->is_enum)
                ttlv_w32(&c->w, f->tag, KMIP_TYPE_ENUMERATION, u->enum_value);
            else
                ttlv_wbytes(&c->w, f->tag, KMIP_TYPE_TEXT_STRING, u->text.data, u->text.len);
            break;
        }
        case E_ITEM: {
            const kmip_item *it = *(const kmip_item *const *)v;
            if (it == NULL)
                i += dc->run[i] - 1u; /* and the fields sharing its slot */
            else if (!(f->flags & F_BYTAG) || it->tag == f->tag)
                ttlv_witem(&c->w, f->tag, it);
            break;
        }
        case E_STRUCT:
            encode_struct(c, f->sub, v, f->tag);
            break;
        default:
            encode_field(c, d, f, base);
        }
    }
    encode_extras_end(c, base, at);
}

/* ---- the generated fast paths ----
 * msg_fast_enc.inc is written at build time by msg_fastgen.c from the
 * tables above: per structure, one write per field in table order with its
 * own presence test (the walk's encode_field for the general path), so the
 * bytes are the walk's (test_message_fast compares them). */
static void encode_uid(ectx *c, uint32_t tag, const kmip_uid *u)
{
    if (u->is_enum)
        ttlv_w32(&c->w, tag, KMIP_TYPE_ENUMERATION, u->enum_value);
    else
        ttlv_wbytes(&c->w, tag, KMIP_TYPE_TEXT_STRING, u->text.data, u->text.len);
}

#include "msg_fast_enc.inc"

static bool fast_usable;

static void fast_init(void)
{
    fast_usable = fast_tables_match();
}

/* True when the generated code still matches the tables (checked once per
 * process, thread-safe). */
static bool fast_paths(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fast_init);
    return fast_usable;
}

/* encode_struct for a header or a batch item: through its fast path. */
static void encode_top(ectx *c, const struct_desc *d, const void *base, uint32_t tag)
{
    if (c->fast) {
        if (d == &kmip_desc_response_item)
            FAST_RESPONSE_ITEM(c, d, base, tag);
        else if (d == &kmip_desc_response_header)
            FAST_RESPONSE_HEADER(c, d, base, tag);
        else if (d == &kmip_desc_request_item)
            FAST_REQUEST_ITEM(c, d, base, tag);
        else
            FAST_REQUEST_HEADER(c, d, base, tag);
        return;
    }
    encode_struct(c, d, base, tag);
}

static kmip_err encode_message(const kmip_message *m, uint8_t **out, size_t *out_len, bool fast);

kmip_err kmip_message_encode(const kmip_message *m, uint8_t **out, size_t *out_len)
{
    return encode_message(m, out, out_len, true);
}

kmip_err msg_encode_walk(const kmip_message *m, uint8_t **out, size_t *out_len)
{
    return encode_message(m, out, out_len, false);
}

static kmip_err encode_message(const kmip_message *m, uint8_t **out, size_t *out_len, bool fast)
{
    if (m == NULL || out == NULL || out_len == NULL || m->item_count > INT32_MAX)
        return KMIP_E_ARG;
    msg_schema_init();
    ectx c = {{NULL, 0, 0, 0, KMIP_OK}, kmip_message_version(m), m->is_response, KMIP_OK,
              fast && fast_paths()};
    size_t at =
        ttlv_begin(&c.w, m->is_response ? KMIP_TAG_RESPONSE_MESSAGE : KMIP_TAG_REQUEST_MESSAGE);
    if (m->is_response) {
        kmip_response_header h = m->response_header;
        h.batch_count = (int32_t)m->item_count;
        encode_top(&c, &kmip_desc_response_header, &h, KMIP_TAG_RESPONSE_HEADER);
    } else {
        kmip_request_header h = m->request_header;
        h.batch_count = (int32_t)m->item_count;
        encode_top(&c, &kmip_desc_request_header, &h, KMIP_TAG_REQUEST_HEADER);
    }
    const struct_desc *item_desc =
        m->is_response ? &kmip_desc_response_item : &kmip_desc_request_item;
    for (size_t i = 0; i < m->item_count; i++)
        encode_top(&c, item_desc, &m->items[i], KMIP_TAG_BATCH_ITEM);
    ttlv_end(&c.w, at);
    kmip_err err = c.err != KMIP_OK ? c.err : c.w.err;
    if (err != KMIP_OK) {
        ttlv_writer_free(&c.w);
        return err;
    }
    /* only the first len bytes were ever written (see ttlv_grow) */
    *out = c.w.buf;
    *out_len = c.w.len;
    return KMIP_OK;
}

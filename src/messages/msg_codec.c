/* SPDX-License-Identifier: GPL-2.0-only */
/* One decoder and one encoder for every described structure (see
 * msg_schema.h). Decoding is lenient: children the table does not describe
 * are kept in `extras`, and anything that would not re-encode to the same
 * bytes (unknown or reordered fields, untyped payloads) marks the message
 * as not fully typed instead of failing. */
#include "msg_codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

kmip_err msg_fail(msg_dctx *c, kmip_err err, const char *fmt, ...)
{
    if (c->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err->detail, sizeof c->err->detail, fmt, ap);
        va_end(ap);
    }
    return err;
}

/* No described structure has more fields than this (checked at decode). */
#define MAX_FIELDS 32

static void *at(void *base, size_t off)
{
    return (char *)base + off;
}

static const void *cat(const void *base, size_t off)
{
    return (const char *)base + off;
}

static bool kind_accepts(uint8_t kind, uint8_t type)
{
    switch (kind) {
    case K_INT:
        return type == KMIP_TYPE_INTEGER;
    case K_LONG:
        return type == KMIP_TYPE_LONG_INTEGER;
    case K_ENUM:
        return type == KMIP_TYPE_ENUMERATION;
    case K_BOOL:
        return type == KMIP_TYPE_BOOLEAN;
    case K_TEXT:
        return type == KMIP_TYPE_TEXT_STRING;
    case K_BYTES:
        return type == KMIP_TYPE_BYTE_STRING;
    case K_DATETIME:
        return type == KMIP_TYPE_DATE_TIME;
    case K_UID:
        return type == KMIP_TYPE_TEXT_STRING || type == KMIP_TYPE_ENUMERATION;
    case K_ITEM:
        return true;
    default:
        return type == KMIP_TYPE_STRUCTURE;
    }
}

static size_t elem_size(const field_desc *f)
{
    switch (f->kind) {
    case K_INT:
    case K_ENUM:
        return sizeof(uint32_t);
    case K_LONG:
    case K_DATETIME:
        return sizeof(int64_t);
    case K_BOOL:
        return sizeof(bool);
    case K_TEXT:
    case K_BYTES:
        return sizeof(kmip_bytes);
    case K_UID:
        return sizeof(kmip_uid);
    case K_STRUCT:
        return f->sub->size;
    default:
        return sizeof(const kmip_item *);
    }
}

static const field_desc *match(const struct_desc *d, const kmip_item *child, size_t *index)
{
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        if (f->tag == child->tag && kind_accepts(f->kind, child->type)) {
            *index = i;
            return f;
        }
    }
    return NULL;
}

static kmip_bytes bytes_of(const kmip_item *it)
{
    kmip_bytes b = {it->v.bytes.data, it->v.bytes.len};
    return b;
}

static kmip_attribute *attr_new(msg_dctx *c, kmip_attr_list *list, uint32_t tag,
                                const kmip_item *value)
{
    kmip_attribute *a = kmip_attr_append(c->m, list, tag, value);
    if (a == NULL)
        msg_fail(c, KMIP_E_NOMEM, "out of memory");
    return a;
}

/* A 1.x Attribute: Attribute Name, Attribute Index?, Attribute Value?
 * (1.4 section 2.1.1). The tag is found from the name. */
static kmip_err decode_attr1(msg_dctx *c, kmip_attr_list *list, const kmip_item *item)
{
    const kmip_item *name = NULL, *index = NULL, *value = NULL;
    size_t seen = 0;
    for (const kmip_item *ch = item->first_child; ch; ch = ch->next, seen++) {
        if (ch->tag == KMIP_TAG_ATTRIBUTE_NAME && ch->type == KMIP_TYPE_TEXT_STRING && !name &&
            seen == 0)
            name = ch;
        else if (ch->tag == KMIP_TAG_ATTRIBUTE_INDEX && ch->type == KMIP_TYPE_INTEGER && name &&
                 !index && !value)
            index = ch;
        else if (ch->tag == KMIP_TAG_ATTRIBUTE_VALUE && name && !value)
            value = ch;
        else
            c->m->untyped = true;
    }
    if (name == NULL)
        return msg_fail(c, KMIP_E_MISSING, "Attribute without an Attribute Name");
    char buf[128];
    uint32_t tag = 0;
    if (name->v.bytes.len < sizeof buf) {
        memcpy(buf, name->v.bytes.data, name->v.bytes.len);
        buf[name->v.bytes.len] = '\0';
        if (!kmip_tag_by_name(buf, &tag))
            tag = 0;
    }
    kmip_attribute *a = attr_new(c, list, tag, value);
    if (a == NULL)
        return KMIP_E_NOMEM;
    a->name = bytes_of(name);
    if (index) {
        a->has_index = true;
        a->index = index->v.i32;
    }
    return KMIP_OK;
}

static kmip_err decode_attr_list(msg_dctx *c, uint8_t kind, kmip_attr_list *list,
                                 const kmip_item *item)
{
    list->present = true;
    if (kind == K_ATTR1)
        return decode_attr1(c, list, item);
    if (kind == K_ATTR_WRAP && item->child_count != 1)
        c->m->untyped = true;
    for (const kmip_item *ch = item->first_child; ch; ch = ch->next) {
        kmip_err err = KMIP_OK;
        if (kind == K_TEMPLATE) {
            if (ch->tag == KMIP_TAG_ATTRIBUTE && ch->type == KMIP_TYPE_STRUCTURE)
                err = decode_attr1(c, list, ch);
            else
                c->m->untyped = true; /* template Names (deprecated) */
        } else if (attr_new(c, list, ch->tag, ch) == NULL) {
            err = KMIP_E_NOMEM;
        }
        if (err != KMIP_OK)
            return err;
    }
    return KMIP_OK;
}

static kmip_err decode_payload(msg_dctx *c, const field_desc *f, void *base, const kmip_item *ch)
{
    kmip_batch_item *bi = base;
    const struct_desc *pd =
        bi->has_operation ? kmip_payload_desc(bi->operation, c->m->is_response) : NULL;
    if (pd == NULL) {
        *(const kmip_item **)at(base, f->aux) = ch;
        c->m->untyped = true;
        return KMIP_OK;
    }
    void *p = kmip_message_alloc(c->m, pd->size);
    if (p == NULL)
        return msg_fail(c, KMIP_E_NOMEM, "out of memory");
    *(void **)at(base, f->offset) = p;
    return msg_decode_struct(c, pd, p, ch);
}

/* Stores one child into dst (the field, or the array slot of a repeated one). */
static kmip_err store(msg_dctx *c, const field_desc *f, void *base, void *dst,
                      const kmip_item *ch)
{
    switch (f->kind) {
    case K_INT:
        *(int32_t *)dst = ch->v.i32;
        break;
    case K_ENUM:
        *(uint32_t *)dst = ch->v.u32;
        break;
    case K_LONG:
    case K_DATETIME:
        *(int64_t *)dst = ch->v.i64;
        break;
    case K_BOOL:
        *(bool *)dst = ch->v.boolean;
        break;
    case K_TEXT:
    case K_BYTES:
        *(kmip_bytes *)dst = bytes_of(ch);
        break;
    case K_UID: {
        kmip_uid *u = dst;
        u->is_enum = ch->type == KMIP_TYPE_ENUMERATION;
        if (u->is_enum)
            u->enum_value = ch->v.u32;
        else
            u->text = bytes_of(ch);
        break;
    }
    case K_ITEM:
        *(const kmip_item **)dst = ch;
        break;
    case K_STRUCT:
        return msg_decode_struct(c, f->sub, dst, ch);
    case K_PAYLOAD:
        return decode_payload(c, f, base, ch);
    default:
        return decode_attr_list(c, f->kind, dst, ch);
    }
    return KMIP_OK;
}

/* Where a non-repeated field's presence is recorded; false if already set. */
static bool mark_present(const field_desc *f, void *base)
{
    if (f->kind == K_ITEM) {
        return *(const kmip_item **)at(base, f->offset) == NULL;
    }
    if (f->kind >= K_ATTR1 && f->kind <= K_ATTR_WRAP) {
        const kmip_attr_list *l = at(base, f->offset);
        return f->kind == K_ATTR1 || !l->present;
    }
    if (f->kind == K_PAYLOAD) {
        return *(void **)at(base, f->offset) == NULL && *(void **)at(base, f->aux) == NULL;
    }
    if (f->aux == NO_AUX)
        return true;
    bool *has = at(base, f->aux);
    if (*has)
        return false;
    *has = true;
    return true;
}

static kmip_err alloc_arrays(msg_dctx *c, const struct_desc *d, void *base,
                             const kmip_item *item, size_t *extra_count)
{
    size_t counts[MAX_FIELDS] = {0};
    *extra_count = 0;
    for (const kmip_item *ch = item->first_child; ch; ch = ch->next) {
        size_t i;
        const field_desc *f = match(d, ch, &i);
        if (f == NULL)
            (*extra_count)++;
        else if (f->flags & F_REP)
            counts[i]++;
    }
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        if (!(f->flags & F_REP) || counts[i] == 0)
            continue;
        if (counts[i] > SIZE_MAX / elem_size(f))
            return msg_fail(c, KMIP_E_NOMEM, "out of memory");
        void *arr = kmip_message_alloc(c->m, counts[i] * elem_size(f));
        if (arr == NULL)
            return msg_fail(c, KMIP_E_NOMEM, "out of memory");
        *(void **)at(base, f->offset) = arr;
    }
    if (*extra_count) {
        kmip_extras *x = base;
        x->items = kmip_message_alloc(c->m, *extra_count * sizeof(const kmip_item *));
        if (x->items == NULL)
            return msg_fail(c, KMIP_E_NOMEM, "out of memory");
    }
    return KMIP_OK;
}

static const char *tag_label(uint32_t tag)
{
    const char *n = kmip_tag_name(tag);
    return n ? n : "unknown tag";
}

kmip_err msg_decode_struct(msg_dctx *c, const struct_desc *d, void *base, const kmip_item *item)
{
    if (d->nfields > MAX_FIELDS)
        return msg_fail(c, KMIP_E_ARG, "%s: table too large", d->name);
    size_t extra_count;
    kmip_err err = alloc_arrays(c, d, base, item, &extra_count);
    if (err != KMIP_OK)
        return err;
    kmip_extras *x = base;
    size_t last = 0;
    bool seen[MAX_FIELDS] = {false};
    for (const kmip_item *ch = item->first_child; ch; ch = ch->next) {
        size_t i;
        const field_desc *f = match(d, ch, &i);
        if (f != NULL && (i < last || (c->version_known && !msg_version_defines(c->version, f))))
            c->m->untyped = true; /* re-encoding would reorder it, or drop it */
        bool single = f != NULL && !(f->flags & F_REP) && f->kind != K_ATTR1;
        if (f == NULL || (single && (seen[i] || !mark_present(f, base)))) {
            if (f != NULL) /* a duplicate of a single field */
                return msg_fail(c, KMIP_E_UNEXPECTED_TAG, "%s: %s appears twice", d->name,
                                tag_label(ch->tag));
            x->items[x->count++] = ch;
            c->m->untyped = true;
            continue;
        }
        last = i;
        seen[i] = true;
        void *dst = at(base, f->offset);
        if (f->flags & F_REP) {
            size_t *count = at(base, f->aux);
            dst = (char *)*(void **)dst + (*count)++ * elem_size(f);
        }
        err = store(c, f, base, dst, ch);
        if (err != KMIP_OK)
            return err;
    }
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        if (seen[i] || !(f->flags & (F_REQ | F_MSG)))
            continue;
        bool alternative = false; /* another field of the same tag was present */
        for (size_t k = 0; k < d->nfields; k++)
            alternative |= seen[k] && d->fields[k].tag == f->tag;
        if (alternative)
            continue;
        if (f->flags & F_MSG)
            return msg_fail(c, KMIP_E_MISSING, "%s: mandatory %s is missing", d->name,
                            tag_label(f->tag));
        c->m->untyped = true; /* re-encoding would add it */
    }
    return KMIP_OK;
}

/* ---- encoding ---- */

bool msg_version_defines(unsigned version, const field_desc *f)
{
    return (f->min_ver == 0 || version >= f->min_ver) && (f->max_ver == 0 || version <= f->max_ver);
}

static void encode_attr(msg_ectx *c, const kmip_attribute *a)
{
    if (c->version >= KMIP_VERSION(2, 0)) {
        if (a->tag == 0) {
            c->err = KMIP_E_UNSUPPORTED; /* a custom 1.x attribute has no 2.x tag */
            return;
        }
        if (a->value)
            kmip_enc_item_tagged(c->e, a->tag, a->value);
        return;
    }
    kmip_enc_begin(c->e, KMIP_TAG_ATTRIBUTE);
    if (a->name.len || a->tag == 0) {
        kmip_enc_text(c->e, KMIP_TAG_ATTRIBUTE_NAME, (const char *)a->name.data, a->name.len);
    } else {
        const char *n = kmip_tag_name(a->tag);
        kmip_enc_text(c->e, KMIP_TAG_ATTRIBUTE_NAME, n ? n : "", n ? strlen(n) : 0);
    }
    if (a->has_index)
        kmip_enc_int(c->e, KMIP_TAG_ATTRIBUTE_INDEX, a->index);
    if (a->value)
        kmip_enc_item_tagged(c->e, KMIP_TAG_ATTRIBUTE_VALUE, a->value);
    kmip_enc_end(c->e);
}

static void encode_attr_list(msg_ectx *c, const field_desc *f, const kmip_attr_list *l)
{
    if (f->kind == K_ATTR1) {
        for (const kmip_attribute *a = l->first; a; a = a->next)
            encode_attr(c, a);
        return;
    }
    if (!l->present)
        return;
    kmip_enc_begin(c->e, f->tag);
    for (const kmip_attribute *a = l->first; a; a = a->next) {
        if (f->kind == K_TEMPLATE) {
            unsigned saved = c->version; /* a Template-Attribute holds 1.x Attributes */
            c->version = KMIP_VERSION(1, 0);
            encode_attr(c, a);
            c->version = saved;
        } else {
            encode_attr(c, a);
        }
    }
    kmip_enc_end(c->e);
}

static void encode_payload(msg_ectx *c, const field_desc *f, const void *base)
{
    const kmip_batch_item *bi = base;
    const struct_desc *pd =
        bi->has_operation ? kmip_payload_desc(bi->operation, c->response) : NULL;
    if (bi->payload && pd)
        msg_encode_struct(c, pd, bi->payload, f->tag);
    else if (bi->raw_payload)
        kmip_enc_item_tagged(c->e, f->tag, bi->raw_payload);
    else if (!c->response) { /* a request item always carries a payload */
        kmip_enc_begin(c->e, f->tag);
        kmip_enc_end(c->e);
    }
}

static void encode_value(msg_ectx *c, const field_desc *f, const void *base, const void *v)
{
    switch (f->kind) {
    case K_INT:
        kmip_enc_int(c->e, f->tag, *(const int32_t *)v);
        break;
    case K_ENUM:
        kmip_enc_enum(c->e, f->tag, *(const uint32_t *)v);
        break;
    case K_LONG:
        kmip_enc_long(c->e, f->tag, *(const int64_t *)v);
        break;
    case K_DATETIME:
        kmip_enc_datetime(c->e, f->tag, *(const int64_t *)v);
        break;
    case K_BOOL:
        kmip_enc_bool(c->e, f->tag, *(const bool *)v);
        break;
    case K_TEXT: {
        const kmip_bytes *b = v;
        kmip_enc_text(c->e, f->tag, (const char *)b->data, b->len);
        break;
    }
    case K_BYTES: {
        const kmip_bytes *b = v;
        kmip_enc_bytes(c->e, f->tag, b->data, b->len);
        break;
    }
    case K_UID: {
        const kmip_uid *u = v;
        if (u->is_enum)
            kmip_enc_enum(c->e, f->tag, u->enum_value);
        else
            kmip_enc_text(c->e, f->tag, (const char *)u->text.data, u->text.len);
        break;
    }
    case K_ITEM: {
        const kmip_item *it = *(const kmip_item *const *)v;
        if (it && (!(f->flags & F_BYTAG) || it->tag == f->tag))
            kmip_enc_item_tagged(c->e, f->tag, it);
        break;
    }
    case K_STRUCT:
        msg_encode_struct(c, f->sub, v, f->tag);
        break;
    case K_PAYLOAD:
        encode_payload(c, f, base);
        break;
    default:
        encode_attr_list(c, f, v);
    }
}

void msg_encode_struct(msg_ectx *c, const struct_desc *d, const void *base, uint32_t tag)
{
    kmip_enc_begin(c->e, tag);
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        if (!msg_version_defines(c->version, f))
            continue;
        const void *v = cat(base, f->offset);
        if (f->flags & F_REP) {
            size_t n = *(const size_t *)cat(base, f->aux);
            const char *arr = *(const char *const *)v;
            for (size_t k = 0; k < n; k++)
                encode_value(c, f, base, arr + k * elem_size(f));
            continue;
        }
        bool has_flag = f->aux != NO_AUX && f->kind != K_PAYLOAD;
        if (has_flag && !*(const bool *)cat(base, f->aux))
            continue;
        encode_value(c, f, base, v);
    }
    const kmip_extras *x = base;
    for (size_t k = 0; k < x->count; k++)
        kmip_enc_item(c->e, x->items[k]);
    kmip_enc_end(c->e);
}

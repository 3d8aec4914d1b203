/* SPDX-License-Identifier: GPL-2.0-only */
/* Typed decoding in one pass: TTLV bytes straight into the structs of
 * kmip_message.h, driven by the tables of msg_schema.c. KMIP 1.4 section 7
 * (message contents), 9.1 (TTLV); 2.1 sections 8 and 9.1.
 *
 * Every item is read through the codec's checked primitive (ttlv_next: a
 * (pos, end) cursor, each length compared with what remains, padding,
 * limits, UTF-8), so the bytes are validated exactly as the item-tree
 * decoder validates them. Only what the typed structs keep as items
 * (attribute values, `extras`, raw payloads, fields carried as is) is built
 * as item subtrees; values are copied once into the message's arena.
 *
 * Decoding is lenient: children the table does not describe are kept in
 * `extras`, and anything that would not re-encode to the same bytes
 * (unknown or reordered fields, untyped payloads, fields the version does
 * not define) marks the message as not fully typed instead of failing.
 *
 * Errors: the walk stops at the first problem. When the bytes are not
 * valid TTLV anywhere, the error reported is the first TTLV error in
 * document order, as the item-tree decoder finds it, whatever the typed
 * walk met first (the result does not depend on which decoder ran). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../codec/ttlv_internal.h"
#include "kmip/kmip_message.h"
#include "message_internal.h"
#include "msg_schema.h"

typedef struct dctx {
    kmip_message *m;
    kmip_msg_error *err;
    ttlv_reader r;
    bool version_known; /* false while the header is read */
    unsigned version;   /* the message's protocol version */
    bool fast;          /* the generated fast paths are used (below) */
} dctx;

__attribute__((format(printf, 4, 5))) static kmip_err
msg_fail(dctx *c, kmip_err err, const uint8_t *at, const char *fmt, ...)
{
    if (c->err == NULL)
        return err;
    c->err->offset = (size_t)(at - c->r.base);
    int n = snprintf(c->err->detail, sizeof c->err->detail, "byte %zu: ", c->err->offset);
    if (n < 0 || (size_t)n >= sizeof c->err->detail)
        return err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->detail + n, sizeof c->err->detail - (size_t)n, fmt, ap);
    va_end(ap);
    return err;
}

static kmip_err no_memory(dctx *c, const ttlv_hdr *h)
{
    return msg_fail(c, KMIP_E_NOMEM, h->at, "out of memory");
}

static void *at(void *base, size_t off)
{
    return (char *)base + off;
}

/* The field a child fills: the one whose tag and kind accept it (no two
 * fields of a table accept the same child; test_message checks this),
 * found through the table's tag lookup (msg_schema_init): one probe in
 * the common case, whatever the order of the children. */
static inline const field_desc *match(const struct_desc *d, uint32_t tag, uint8_t type,
                                      size_t *index)
{
    if (type >= 16) /* the array scan matches headers not yet validated */
        return NULL;
    const desc_cache *dc = &d->cache;
    for (unsigned k = dc->slot[tag & (MSG_TAG_SLOTS - 1u)]; k != 0; k = dc->chain[k - 1]) {
        const field_desc *f = &d->fields[k - 1];
        if (f->tag == tag && (msg_kind_types[f->kind] >> type & 1u)) {
            *index = k - 1;
            return f;
        }
    }
    return NULL;
}

static const char *tag_label(uint32_t tag)
{
    const char *n = kmip_tag_name(tag);
    return n ? n : "unknown tag";
}

/* A Text or Byte String value, copied into the arena. */
static kmip_err copy_value(dctx *c, const ttlv_hdr *h, kmip_bytes *b)
{
    uint8_t *p = kmip_tree_alloc_fast(c->m->arena, h->len);
    if (p == NULL)
        return no_memory(c, h);
    memcpy(p, h->val, h->len);
    b->data = p;
    b->len = h->len;
    return KMIP_OK;
}

/* An item the typed struct keeps as is: built with its descendants. */
static kmip_err keep_item(dctx *c, const ttlv_hdr *h, unsigned depth, const kmip_item **out)
{
    kmip_item *it = NULL;
    kmip_err err = ttlv_read_tree(&c->r, c->m->arena, NULL, h, depth, &it);
    *out = it;
    return err;
}

static kmip_err attr_new(dctx *c, kmip_attr_list *list, uint32_t tag, const kmip_item *value,
                         const ttlv_hdr *h, kmip_attribute **out)
{
    *out = kmip_attr_append(c->m, list, tag, value);
    return *out ? KMIP_OK : no_memory(c, h);
}

/* A 1.x Attribute: Attribute Name, Attribute Index?, Attribute Value?
 * (1.4 section 2.1.1). The tag is found from the name. Children out of
 * this shape are validated and dropped (the message is then not fully
 * typed). */
static kmip_err decode_attr1(dctx *c, kmip_attr_list *list, const ttlv_hdr *sh, unsigned depth)
{
    ttlv_hdr name = {0}, index = {0};
    bool has_name = false, has_index = false;
    const kmip_item *value = NULL;
    size_t seen = 0;
    ttlv_children it = ttlv_children_of(sh, depth);
    ttlv_hdr ch;
    while (ttlv_child(&c->r, &it, &ch)) {
        kmip_err err = KMIP_OK;
        if (ch.tag == KMIP_TAG_ATTRIBUTE_NAME && ch.type == KMIP_TYPE_TEXT_STRING && !has_name &&
            seen == 0) {
            name = ch;
            has_name = true;
        } else if (ch.tag == KMIP_TAG_ATTRIBUTE_INDEX && ch.type == KMIP_TYPE_INTEGER && has_name &&
                   !has_index && value == NULL) {
            index = ch;
            has_index = true;
        } else if (ch.tag == KMIP_TAG_ATTRIBUTE_VALUE && has_name && value == NULL) {
            err = keep_item(c, &ch, depth + 1, &value);
        } else {
            c->m->untyped = true;
            err = ttlv_skip(&c->r, &ch, depth + 1);
        }
        if (err != KMIP_OK)
            return err;
        seen++;
    }
    if (it.err != KMIP_OK)
        return it.err;
    if (!has_name)
        return msg_fail(c, KMIP_E_MISSING, sh->at, "Attribute without an Attribute Name");
    char buf[128];
    uint32_t tag = 0;
    if (name.len < sizeof buf) {
        memcpy(buf, name.val, name.len);
        buf[name.len] = '\0';
        if (!kmip_tag_by_name(buf, &tag))
            tag = 0;
    }
    kmip_attribute *a;
    kmip_err err = attr_new(c, list, tag, value, sh, &a);
    if (err == KMIP_OK)
        err = copy_value(c, &name, &a->name);
    if (err != KMIP_OK)
        return err;
    if (has_index) {
        a->has_index = true;
        a->index = (int32_t)ttlv_u32(&index);
    }
    return KMIP_OK;
}

/* The attribute list forms: one 1.x Attribute, a 1.x Template-Attribute
 * (1.4 section 2.1.8), a 2.x Attributes structure or New/Current Attribute
 * (2.1 sections 7.2 and 6.1.3). */
static kmip_err decode_attr_list(dctx *c, uint8_t kind, kmip_attr_list *list, const ttlv_hdr *sh,
                                 unsigned depth)
{
    list->present = true;
    if (kind == K_ATTR1)
        return decode_attr1(c, list, sh, depth);
    size_t n = 0;
    ttlv_children it = ttlv_children_of(sh, depth);
    ttlv_hdr ch;
    while (ttlv_child(&c->r, &it, &ch)) {
        kmip_err err;
        n++;
        if (kind == K_TEMPLATE) {
            if (ch.tag == KMIP_TAG_ATTRIBUTE && ch.type == KMIP_TYPE_STRUCTURE) {
                err = decode_attr1(c, list, &ch, depth + 1);
            } else {
                c->m->untyped = true; /* template Names (deprecated) */
                err = ttlv_skip(&c->r, &ch, depth + 1);
            }
        } else {
            const kmip_item *value;
            kmip_attribute *a;
            err = keep_item(c, &ch, depth + 1, &value);
            if (err == KMIP_OK)
                err = attr_new(c, list, ch.tag, value, &ch, &a);
        }
        if (err != KMIP_OK)
            return err;
    }
    if (it.err != KMIP_OK)
        return it.err;
    if (kind == K_ATTR_WRAP && n != 1)
        c->m->untyped = true;
    return KMIP_OK;
}

static kmip_err decode_struct(dctx *c, const struct_desc *d, void *base, const ttlv_hdr *sh,
                              unsigned depth, uint32_t *seen_out);

static kmip_err decode_payload(dctx *c, const field_desc *f, void *base, const ttlv_hdr *h,
                               unsigned depth)
{
    kmip_batch_item *bi = base;
    const struct_desc *pd =
        bi->has_operation ? kmip_payload_desc(bi->operation, c->m->is_response) : NULL;
    if (pd == NULL) {
        c->m->untyped = true;
        return keep_item(c, h, depth, (const kmip_item **)at(base, f->aux));
    }
    void *p = kmip_tree_alloc_fast(c->m->arena, pd->size);
    if (p == NULL)
        return no_memory(c, h);
    *(void **)at(base, f->offset) = p;
    return decode_struct(c, pd, p, h, depth, NULL);
}

/* Stores the item h (at depth) into dst: the field, or the array slot of a
 * repeated one. */
__attribute__((always_inline)) static inline kmip_err
store(dctx *c, const field_desc *f, void *base, void *dst, const ttlv_hdr *h, unsigned depth)
{
    switch (f->kind) {
    case K_INT:
        *(int32_t *)dst = (int32_t)ttlv_u32(h);
        return KMIP_OK;
    case K_ENUM:
        *(uint32_t *)dst = ttlv_u32(h);
        return KMIP_OK;
    case K_LONG:
    case K_DATETIME:
        *(int64_t *)dst = (int64_t)ttlv_u64(h);
        return KMIP_OK;
    case K_BOOL:
        *(bool *)dst = ttlv_u64(h) == 1;
        return KMIP_OK;
    case K_TEXT:
    case K_BYTES:
        return copy_value(c, h, dst);
    case K_UID: {
        kmip_uid *u = dst;
        u->is_enum = h->type == KMIP_TYPE_ENUMERATION;
        if (u->is_enum) {
            u->enum_value = ttlv_u32(h);
            return KMIP_OK;
        }
        return copy_value(c, h, &u->text);
    }
    case K_ITEM:
        return keep_item(c, h, depth, dst);
    case K_STRUCT:
        return decode_struct(c, f->sub, dst, h, depth, NULL);
    case K_PAYLOAD:
        return decode_payload(c, f, base, h, depth);
    default:
        return decode_attr_list(c, f->kind, dst, h, depth);
    }
}

/* Where a non-repeated field's presence is recorded; false if already set. */
static bool mark_present(const field_desc *f, void *base)
{
    if (f->kind == K_ITEM)
        return *(const kmip_item **)at(base, f->offset) == NULL;
    if (f->kind >= K_ATTR1 && f->kind <= K_ATTR_WRAP) {
        const kmip_attr_list *l = at(base, f->offset);
        return f->kind == K_ATTR1 || !l->present;
    }
    if (f->kind == K_PAYLOAD)
        return *(void **)at(base, f->offset) == NULL && *(void **)at(base, f->aux) == NULL;
    if (f->aux == NO_AUX)
        return true;
    bool *has = at(base, f->aux);
    if (*has)
        return false;
    *has = true;
    return true;
}

/* Sizes the arrays of a structure from its children's headers (a light
 * hop: the children are validated by the walk itself, which stops where
 * this scan would) and allocates them, with their capacities (*room:
 * cap[i] for field i, cap[nfields] for the extras), in the arena. Done only when the walk meets the first repeated or unknown
 * child, so structures without either cost nothing. */
static kmip_err alloc_arrays(dctx *c, const struct_desc *d, void *base, const ttlv_hdr *sh,
                             size_t **room)
{
    size_t *cap = kmip_message_alloc(c->m, (d->nfields + 1) * sizeof(size_t));
    if (cap == NULL)
        return no_memory(c, sh);
    const uint8_t *pos = sh->val, *end = sh->val + sh->len;
    while (TTLV_HEADER_LEN <= (size_t)(end - pos)) {
        ttlv_hdr h;
        ttlv_peek(pos, &h);
        uint64_t padded = (uint64_t)h.len + ((8u - (h.len & 7u)) & 7u);
        if (padded > (uint64_t)(end - h.val))
            break;
        size_t i;
        const field_desc *f = match(d, h.tag, h.type, &i);
        if (f == NULL)
            cap[d->nfields]++;
        else if (f->flags & F_REP)
            cap[i]++;
        pos = h.val + padded;
    }
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        if (!(f->flags & F_REP) || cap[i] == 0)
            continue;
        if (cap[i] > SIZE_MAX / msg_elem_size(f))
            return no_memory(c, sh);
        void *arr = kmip_message_alloc(c->m, cap[i] * msg_elem_size(f));
        if (arr == NULL)
            return no_memory(c, sh);
        *(void **)at(base, f->offset) = arr;
    }
    if (cap[d->nfields]) {
        kmip_extras *x = base;
        x->items = kmip_message_alloc(c->m, cap[d->nfields] * sizeof(const kmip_item *));
        if (x->items == NULL)
            return no_memory(c, sh);
    }
    *room = cap;
    return KMIP_OK;
}

/* Fills the C struct at base from the structure sh (at depth). seen_out,
 * if not NULL, gets the fields present (bit i for field i). */
static kmip_err decode_struct(dctx *c, const struct_desc *d, void *base, const ttlv_hdr *sh,
                              unsigned depth, uint32_t *seen_out)
{
    kmip_extras *x = base;
    size_t *cap = NULL; /* the arrays' room (alloc_arrays), sized on first need */
    size_t last = 0;
    uint32_t seen = 0;
    ttlv_children it = ttlv_children_of(sh, depth);
    ttlv_hdr h;
    while (ttlv_child(&c->r, &it, &h)) {
        kmip_err err;
        size_t i = 0;
        const field_desc *f = match(d, h.tag, h.type, &i);
        if (cap == NULL && (f == NULL || (f->flags & F_REP))) {
            err = alloc_arrays(c, d, base, sh, &cap);
            if (err != KMIP_OK)
                return err;
        }
        if (f != NULL && (i < last || ((f->flags & F_VER) && c->version_known &&
                                       !msg_version_defines(c->version, f))))
            c->m->untyped = true; /* re-encoding would reorder it, or drop it */
        unsigned op = f != NULL ? d->cache.dop[i] : D_GENERIC;
        if (op != D_GENERIC) {
            /* a single field: presence and store in one switch */
            void *dst = at(base, f->offset);
            bool twice = (seen >> i & 1u) != 0;
            if (op & D_HAS) {
                bool *has = at(base, f->aux);
                twice |= *has;
                *has = true;
            } else if (op == D_ITEM) {
                twice |= *(const kmip_item **)dst != NULL;
            }
            if (twice)
                return msg_fail(c, KMIP_E_UNEXPECTED_TAG, h.at, "%s: %s appears twice", d->name,
                                tag_label(h.tag));
            last = i;
            seen |= 1u << i;
            err = KMIP_OK;
            switch (op & ~(unsigned)D_HAS) {
            case D_U32:
                *(uint32_t *)dst = ttlv_u32(&h);
                continue;
            case D_U64:
                *(uint64_t *)dst = ttlv_u64(&h);
                continue;
            case D_BOOL:
                *(bool *)dst = ttlv_u64(&h) == 1;
                continue;
            case D_BYTES:
                err = copy_value(c, &h, dst);
                break;
            case D_UID: {
                kmip_uid *u = dst;
                u->is_enum = h.type == KMIP_TYPE_ENUMERATION;
                if (u->is_enum)
                    u->enum_value = ttlv_u32(&h);
                else
                    err = copy_value(c, &h, &u->text);
                break;
            }
            case D_ITEM:
                err = keep_item(c, &h, depth + 1, dst);
                break;
            default:
                err = decode_struct(c, f->sub, dst, &h, depth + 1, NULL);
                break;
            }
            if (err != KMIP_OK)
                return err;
            continue;
        }
        bool single = f != NULL && !(f->flags & F_REP) && f->kind != K_ATTR1;
        if (f == NULL || (single && ((seen >> i & 1u) || !mark_present(f, base)))) {
            if (f != NULL) /* a duplicate of a single field */
                return msg_fail(c, KMIP_E_UNEXPECTED_TAG, h.at, "%s: %s appears twice", d->name,
                                tag_label(h.tag));
            if (x->count >= cap[d->nfields]) /* the scan saw fewer: cannot happen */
                return msg_fail(c, KMIP_E_ARG, h.at, "%s: more children than scanned", d->name);
            err = keep_item(c, &h, depth + 1, &x->items[x->count]);
            if (err != KMIP_OK)
                return err;
            x->count++;
            c->m->untyped = true;
            continue;
        }
        last = i;
        seen |= 1u << i;
        void *dst = at(base, f->offset);
        if (f->flags & F_REP) {
            size_t *count = at(base, f->aux);
            if (*count >= cap[i])
                return msg_fail(c, KMIP_E_ARG, h.at, "%s: more children than scanned", d->name);
            dst = (char *)*(void **)dst + (*count)++ * msg_elem_size(f);
        }
        err = store(c, f, base, dst, &h, depth + 1);
        if (err != KMIP_OK)
            return err;
    }
    if (it.err != KMIP_OK)
        return it.err;
    uint32_t missing = d->cache.required & ~seen;
    for (size_t i = 0; missing != 0 && i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        if (!(missing >> i & 1u))
            continue;
        bool alternative = false; /* another field of the same tag was present */
        for (size_t k = 0; k < d->nfields; k++)
            alternative |= (seen >> k & 1u) && d->fields[k].tag == f->tag;
        if (alternative)
            continue;
        if (f->flags & F_MSG)
            return msg_fail(c, KMIP_E_MISSING, sh->at, "%s: mandatory %s is missing", d->name,
                            tag_label(f->tag));
        c->m->untyped = true; /* re-encoding would add it */
    }
    if (seen_out != NULL)
        *seen_out = seen;
    return KMIP_OK;
}

/* ---- the generated fast paths ----
 * msg_fast.inc is written at build time by msg_fastgen.c from the tables
 * above (never by hand): per structure, straight-line code with a branch
 * of its own per field, for children in table order. Whatever it does not
 * expect starts the structure over with the walk (fast_fallback), so what
 * is decoded, refused and reported is the walk's in every case. */

/* What a structure's fast path undoes before the walk starts it over. */
typedef struct fast_mark {
    size_t items;          /* the reader's item count (max_items) at its start */
    kmip_tree_point arena; /* and the message's allocations */
} fast_mark;

static inline fast_mark fast_begin(const dctx *c)
{
    fast_mark k = {c->r.items, kmip_tree_mark(c->m->arena)};
    return k;
}

/* The header word of the next child at pos (ttlv_header_word): `have` is
 * false at the structure's end. Each field then compares the word with
 * what it expects and reads the child through the checked primitive
 * (ttlv_next_typed for a field of one type, ttlv_next for the others); a
 * child that no field takes, a header cut short or an invalid child goes
 * to the walk, which reports it. */
#define FAST_NEXT()                                                                                \
    do {                                                                                           \
        have = pos < end;                                                                          \
        if (have) {                                                                                \
            if (TTLV_HEADER_LEN > (size_t)(end - pos))                                             \
                goto fallback;                                                                     \
            hw = ttlv_header_word(pos);                                                            \
        }                                                                                          \
    } while (0)

/* The header word's type is one of mask's (bit t for type t); the type is
 * not validated yet, hence the range test before the shift. */
static inline bool fast_type_in(uint64_t hw, unsigned mask)
{
    unsigned type = (unsigned)(hw >> 32) & 0xFFu;
    return type < 16u && (mask >> type & 1u) != 0;
}

/* The structure at base (all zero when its fast path began: a fresh
 * message, a zeroed allocation, or a member of one) is decoded again by
 * the walk, from its first child: the count of items read, the error state,
 * the struct and the arena are as they were (what the abandoned pass
 * allocated is wiped and given back). */
static kmip_err fast_fallback(dctx *c, const fast_mark *k, const struct_desc *d, void *base,
                              const ttlv_hdr *sh, unsigned depth, uint32_t *seen_out)
{
    c->r.items = k->items;
    kmip_tree_rewind(c->m->arena, &k->arena);
    c->r.err_offset = 0;
    if (c->r.detail_cap)
        c->r.detail[0] = '\0';
    if (c->err != NULL)
        c->err->offset = 0;
    memset(base, 0, d->size);
    return decode_struct(c, d, base, sh, depth, seen_out);
}

#include "msg_fast.inc"

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

/* decode_struct for a header or a batch item: through its fast path. */
static kmip_err decode_top(dctx *c, const struct_desc *d, void *base, const ttlv_hdr *sh,
                           unsigned depth, uint32_t *seen_out)
{
    if (c->fast) {
        if (d == &kmip_desc_response_item)
            return FAST_RESPONSE_ITEM(c, d, base, sh, depth, seen_out);
        if (d == &kmip_desc_response_header)
            return FAST_RESPONSE_HEADER(c, d, base, sh, depth, seen_out);
        if (d == &kmip_desc_request_item)
            return FAST_REQUEST_ITEM(c, d, base, sh, depth, seen_out);
        if (d == &kmip_desc_request_header)
            return FAST_REQUEST_HEADER(c, d, base, sh, depth, seen_out);
    }
    return decode_struct(c, d, base, sh, depth, seen_out);
}

/* A Batch Item structure, read from the item's own bytes (its tag and
 * type as one big-endian word): loading h's tag and type as one word, as
 * the compiler would, waits for their two separate stores. */
static inline bool is_batch_item(const ttlv_hdr *h)
{
    const uint8_t *p = h->at;
    uint32_t tag_type =
        (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
    return tag_type == ((uint32_t)KMIP_TAG_BATCH_ITEM << 8 | KMIP_TYPE_STRUCTURE);
}

/* The header, then the batch items (1.4 section 7.2, 2.1 section 8). */
static kmip_err decode_message(dctx *c, const ttlv_hdr *root)
{
    kmip_message *m = c->m;
    bool resp = m->is_response;
    const struct_desc *hd = resp ? &kmip_desc_response_header : &kmip_desc_request_header;
    void *hbase = resp ? (void *)&m->response_header : (void *)&m->request_header;
    const uint8_t *pos = root->val, *end = root->val + root->len;
    ttlv_hdr h;
    kmip_err err = pos < end ? ttlv_next(&c->r, pos, end, 1, &h) : KMIP_OK;
    if (err != KMIP_OK)
        return err;
    if (pos == end || h.tag != (resp ? KMIP_TAG_RESPONSE_HEADER : KMIP_TAG_REQUEST_HEADER) ||
        h.type != KMIP_TYPE_STRUCTURE)
        return msg_fail(c, KMIP_E_MISSING, pos, "%s must start with its %s",
                        resp ? "ResponseMessage" : "RequestMessage",
                        resp ? "ResponseHeader" : "RequestHeader");
    uint32_t seen = 0;
    err = decode_top(c, hd, hbase, &h, 1, &seen);
    if (err != KMIP_OK)
        return err;
    /* Now that the version is known, see which of the header's own fields
     * it defines (the rest of the message is checked as it is read). */
    c->version = kmip_message_version(m);
    c->version_known = true;
    for (uint32_t v = seen & hd->cache.versioned; v != 0; v &= v - 1u) /* those it may not */
        if (!msg_version_defines(c->version, &hd->fields[__builtin_ctz(v)]))
            m->untyped = true;
    /* Tags we do not know (extensions, later versions) are skipped, as
     * everywhere; a known tag out of place is an error. The batch items are
     * counted first so that their array is allocated once. */
    const uint8_t *items = h.next;
    size_t n = 0, others = 0;
    const uint8_t *first_other = NULL;
    for (pos = items; pos < end; pos = h.next) {
        err = ttlv_next(&c->r, pos, end, 1, &h);
        if (err != KMIP_OK)
            return err;
        if (is_batch_item(&h)) {
            n++;
        } else if (kmip_tag_name(h.tag) == NULL) {
            m->untyped = true; /* re-encoding drops it */
            err = ttlv_skip(&c->r, &h, 1);
            if (err != KMIP_OK)
                return err;
        } else if (others++ == 0) {
            first_other = pos;
        }
    }
    if (others)
        return msg_fail(c, KMIP_E_UNEXPECTED_TAG, first_other,
                        "a message holds a header and batch items only");
    /* Batch Count against the items present before their array is
     * allocated (review R1-1): a hostile count of empty items costs no
     * memory for items that are refused anyway */
    int32_t count = resp ? m->response_header.batch_count : m->request_header.batch_count;
    if (count < 0 || (size_t)count != n)
        return msg_fail(c, KMIP_E_RANGE, root->at,
                        "Batch Count is %d but the message holds %zu batch items", (int)count, n);
    if (n) {
        m->items = kmip_tree_alloc_fast(m->arena, n * sizeof *m->items);
        m->item_cap = n;
        if (m->items == NULL)
            return msg_fail(c, KMIP_E_NOMEM, items, "out of memory");
    }
    const struct_desc *item_desc = resp ? &kmip_desc_response_item : &kmip_desc_request_item;
    for (pos = items; pos < end; pos = h.next) {
        ttlv_peek(pos, &h); /* accepted by the walk above */
        if (!is_batch_item(&h))
            continue;
        err = decode_top(c, item_desc, &m->items[m->item_count], &h, 1, NULL);
        if (err != KMIP_OK)
            return err;
        m->item_count++;
    }
    return KMIP_OK;
}

typedef struct limits {
    size_t max_message;
    size_t max_items;
    size_t max_string;
    unsigned max_depth;
} limits;

/* After a failed walk: when the bytes hold a TTLV error, report the first
 * one in document order, exactly as the item-tree decoder does. */
static kmip_err first_ttlv_error(kmip_err e, const uint8_t *data, size_t len, const limits *lim,
                                 kmip_msg_error *err)
{
    kmip_decoder *d = kmip_decoder_new();
    if (d == NULL)
        return e;
    kmip_decoder_set_max_message_size(d, lim->max_message);
    kmip_decoder_set_max_items(d, lim->max_items);
    kmip_decoder_set_max_string(d, lim->max_string);
    kmip_decoder_set_max_depth(d, lim->max_depth);
    kmip_tree *t = NULL;
    kmip_err te = kmip_decoder_decode(d, data, len, &t);
    kmip_tree_free(t);
    if (te != KMIP_OK) {
        e = te;
        if (err != NULL) {
            err->offset = kmip_decoder_error_offset(d);
            snprintf(err->detail, sizeof err->detail, "%s", kmip_decoder_error_detail(d));
        }
    }
    kmip_decoder_free(d);
    return e;
}

/* The first arena block for a message of len bytes: the typed structs and
 * copied values of a typical message take about twice its length, plus a
 * payload struct of up to a few hundred bytes. More is allocated on need. */
static size_t first_block(size_t len)
{
    return len > SIZE_MAX / 4 ? len : 2 * len + 1024;
}

/* Decodes into reuse (an empty message, kept on failure) or, when it is
 * NULL, into a new message (freed on failure). */
static kmip_err decode_bytes(const uint8_t *data, size_t len, const limits *lim, kmip_message **out,
                             kmip_msg_error *err, kmip_message *reuse, bool fast)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (out == NULL || (data == NULL && len != 0))
        return KMIP_E_ARG;
    *out = reuse;
    msg_schema_init();
    dctx c; /* member by member: the reader is initialized below */
    c.m = NULL;
    c.err = err;
    c.version_known = false;
    c.version = 0;
    c.fast = fast && fast_paths();
    ttlv_reader_init(&c.r, data, lim->max_items, lim->max_string, lim->max_depth,
                     err ? err->detail : NULL, err ? sizeof err->detail : 0);
    kmip_err e = KMIP_OK;
    const uint8_t *end = data + len;
    ttlv_hdr root;
    if (len > lim->max_message)
        e = ttlv_fail(&c.r, KMIP_E_LIMIT_SIZE, data,
                      "message of %zu bytes exceeds the limit of %zu", len, lim->max_message);
    if (e == KMIP_OK)
        e = ttlv_next(&c.r, data, end, 0, &root);
    if (e == KMIP_OK && root.next != end)
        e = ttlv_fail(&c.r, KMIP_E_TRAILING, root.next, "%zu bytes after the top-level item",
                      (size_t)(end - root.next));
    if (e == KMIP_OK &&
        (root.type != KMIP_TYPE_STRUCTURE ||
         (root.tag != KMIP_TAG_REQUEST_MESSAGE && root.tag != KMIP_TAG_RESPONSE_MESSAGE)))
        e = msg_fail(&c, KMIP_E_UNEXPECTED_TAG, data,
                     "not a KMIP message: the top-level item must be a RequestMessage or "
                     "ResponseMessage structure");
    if (e == KMIP_OK) {
        bool resp = root.tag == KMIP_TAG_RESPONSE_MESSAGE;
        c.m = reuse ? reuse : msg_create(resp, first_block(len));
        if (c.m)
            c.m->is_response = resp;
        e = c.m ? decode_message(&c, &root) : msg_fail(&c, KMIP_E_NOMEM, data, "out of memory");
    }
    if (e != KMIP_OK) {
        if (reuse)
            kmip_message_reset(reuse); /* nothing of the refused message stays */
        else
            kmip_message_free(c.m);
        if (err != NULL && err->offset == 0)
            err->offset = c.r.err_offset; /* an error of the read primitive */
        return first_ttlv_error(e, data, len, lim, err);
    }
    *out = c.m;
    return KMIP_OK;
}

kmip_err kmip_message_decode(const uint8_t *data, size_t len, kmip_message **out,
                             kmip_msg_error *err)
{
    static const limits defaults = {KMIP_DEFAULT_MAX_MESSAGE, KMIP_DEFAULT_MAX_ITEMS,
                                    KMIP_DEFAULT_MAX_STRING, KMIP_DEFAULT_MAX_DEPTH};
    return decode_bytes(data, len, &defaults, out, err, NULL, true);
}

kmip_err msg_decode_walk(const uint8_t *data, size_t len, kmip_message **out, kmip_msg_error *err)
{
    static const limits defaults = {KMIP_DEFAULT_MAX_MESSAGE, KMIP_DEFAULT_MAX_ITEMS,
                                    KMIP_DEFAULT_MAX_STRING, KMIP_DEFAULT_MAX_DEPTH};
    return decode_bytes(data, len, &defaults, out, err, NULL, false);
}

bool msg_decode_fast_enabled(void)
{
    return fast_paths();
}

/* A reused message keeps its first block while the messages fit in it
 * and it is not more than this much larger than they need. */
#define REUSE_SLACK (64u * 1024u)

static kmip_err decode_into(kmip_message **m, const uint8_t *data, size_t len,
                            const limits *lim, kmip_msg_error *err)
{
    if (m == NULL) {
        if (err)
            memset(err, 0, sizeof *err);
        return KMIP_E_ARG;
    }
    kmip_message *reuse = *m;
    if (reuse != NULL) {
        /* room for this message; when the last one spilled past the first
         * block, room for what it took (the next of its kind fits) */
        size_t need = first_block(len), last = msg_bytes_used(reuse),
               cap = msg_block_capacity(reuse);
        if (last > cap && last > need)
            need = last;
        if (need > cap || cap - need > REUSE_SLACK + need) {
            kmip_message_free(reuse);
            *m = reuse = msg_create(true, need);
        } else {
            kmip_message_reset(reuse);
        }
    }
    kmip_err e = decode_bytes(data, len, lim, m, err, reuse, true);
    return e;
}

kmip_err kmip_message_decode_into(kmip_message **m, const uint8_t *data, size_t len,
                                  kmip_msg_error *err)
{
    return kmip_message_decode_into_max(m, data, len, 0, err);
}

kmip_err kmip_message_decode_into_max(kmip_message **m, const uint8_t *data, size_t len,
                                      size_t max_message, kmip_msg_error *err)
{
    limits lim = {max_message ? max_message : KMIP_DEFAULT_MAX_MESSAGE, KMIP_DEFAULT_MAX_ITEMS,
                  KMIP_DEFAULT_MAX_STRING, KMIP_DEFAULT_MAX_DEPTH};
    return decode_into(m, data, len, &lim, err);
}

kmip_err kmip_message_from_tree(kmip_tree *tree, kmip_message **out, kmip_msg_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (tree == NULL || out == NULL) {
        kmip_tree_free(tree);
        return KMIP_E_ARG;
    }
    *out = NULL;
    const kmip_item *root = kmip_tree_root(tree);
    if (root == NULL || root->type != KMIP_TYPE_STRUCTURE ||
        (root->tag != KMIP_TAG_REQUEST_MESSAGE && root->tag != KMIP_TAG_RESPONSE_MESSAGE)) {
        kmip_tree_free(tree);
        if (err)
            snprintf(err->detail, sizeof err->detail,
                     "not a KMIP message: the top-level item must be a RequestMessage or "
                     "ResponseMessage structure");
        return KMIP_E_UNEXPECTED_TAG;
    }
    /* One typed decoder: the tree is written out and read back. It was
     * built (or decoded) within whatever limits its maker chose, so only
     * the encoder's depth limit and the hard ones apply here. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    kmip_err e = kmip_encode_tree(root, &bytes, &len);
    kmip_tree_free(tree);
    if (e != KMIP_OK)
        return e;
    const limits open = {SIZE_MAX, SIZE_MAX, SIZE_MAX, KMIP_HARD_MAX_DEPTH};
    e = decode_bytes(bytes, len, &open, out, err, NULL, true);
    kmip_secure_free(bytes, len);
    return e;
}

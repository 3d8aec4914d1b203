/* SPDX-License-Identifier: GPL-2.0-only */
/* Item trees. Items and their values live in an arena of chunks owned by the
 * tree: one free wipes and releases everything, and decoding a message costs
 * a few mallocs instead of one per item. A tree may also live inside memory
 * its owner provides (kmip_tree_embed), with its first chunk there too: a
 * typed message and its arena are then one allocation.
 *
 * Chunks are not zeroed when allocated: each allocation is zeroed as it is
 * handed out, and only the bytes handed out are wiped at the end, so a
 * small message pays for the bytes it uses, not for the chunk size. */
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"
#include "ttlv_internal.h"

#define CHUNK_MIN 4096u

/* struct chunk and struct kmip_tree: ttlv_internal.h (kmip_tree_mark) */


static size_t chunk_header(void)
{
    return (sizeof(chunk) + 7u) & ~(size_t)7u;
}

kmip_tree *kmip_tree_new(void)
{
    return calloc(1, sizeof(kmip_tree));
}

/* Wipes the bytes handed out of every chunk and frees the allocated ones. */
static void release_chunks(kmip_tree *t)
{
    chunk *c = t->chunks;
    while (c != NULL) {
        chunk *next = c->next;
        /* the tail beyond `used` was never handed out nor written */
        if (c == t->embedded)
            kmip_secure_zero(c, chunk_header() + c->used);
        else
            kmip_secure_free(c, chunk_header() + c->used);
        c = next;
    }
}

void kmip_tree_free(kmip_tree *t)
{
    if (t == NULL)
        return;
    release_chunks(t);
    free(t);
}

static size_t tree_header(void)
{
    return (sizeof(kmip_tree) + 7u) & ~(size_t)7u;
}

size_t kmip_tree_embed_overhead(void)
{
    return tree_header() + chunk_header();
}

kmip_tree *kmip_tree_embed(void *mem, size_t size)
{
    kmip_tree *t = mem;
    memset(t, 0, sizeof *t);
    chunk *c = (chunk *)((uint8_t *)mem + tree_header());
    c->next = NULL;
    c->size = size - kmip_tree_embed_overhead();
    c->used = 0;
    c->zeroed = 0;
    t->chunks = c;
    t->embedded = c;
    t->chunk_count = 1;
    return t;
}

void kmip_tree_embed_release(kmip_tree *t)
{
    if (t == NULL)
        return;
    release_chunks(t);
    kmip_secure_zero(t, sizeof *t);
}

void kmip_tree_embed_reset(kmip_tree *t)
{
    chunk *e = t->embedded;
    chunk *c = t->chunks;
    while (c != NULL) {
        chunk *next = c->next;
        if (c != e)
            kmip_secure_free(c, chunk_header() + c->used);
        c = next;
    }
    /* the bytes handed out are wiped, and so known to be zero: the next
     * allocations there need no memset */
    kmip_secure_zero((uint8_t *)e + chunk_header(), e->used);
    if (e->used > e->zeroed)
        e->zeroed = e->used;
    e->used = 0;
    e->next = NULL;
    t->chunks = e;
    t->chunk_count = 1;
    t->root = NULL;
    t->item_count = 0;
}

void kmip_tree_rewind(kmip_tree *t, const kmip_tree_point *p)
{
    while (t->chunks != p->chunk) { /* the chunks made since, newest first */
        chunk *c = t->chunks;
        t->chunks = c->next;
        t->chunk_count--;
        if (c == t->embedded) { /* not after the point: cannot happen */
            t->chunks = c;
            t->chunk_count++;
            break;
        }
        kmip_secure_free(c, chunk_header() + c->used);
    }
    chunk *c = t->chunks;
    if (c != NULL && c == p->chunk && c->used > p->used) {
        /* wiped, and so known to be zero, as kmip_tree_embed_reset does */
        kmip_secure_zero((uint8_t *)c + chunk_header() + p->used, c->used - p->used);
        if (c->used > c->zeroed)
            c->zeroed = c->used;
        c->used = p->used;
    }
    t->root = p->root;
    t->item_count = p->item_count;
}

size_t kmip_tree_embed_capacity(const kmip_tree *t)
{
    return t->embedded->size;
}

size_t kmip_tree_bytes_used(const kmip_tree *t)
{
    size_t n = 0;
    for (const chunk *c = t->chunks; c != NULL; c = c->next)
        n += c->used;
    return n;
}

void *kmip_tree_alloc(kmip_tree *t, size_t n)
{
    void *here = kmip_tree_alloc_here(t, n);
    if (here != NULL)
        return here;
    if (n > SIZE_MAX - 7u) /* rounding up would wrap to a tiny block */
        return NULL;
    n = (n + 7u) & ~(size_t)7u;
    if (n == 0)
        n = 8;
    chunk *c = t->chunks;
    if (c == NULL || c->size - c->used < n) {
        /* chunks double up to 64 KiB: small messages stay small, large ones
         * take few allocations */
        unsigned shift = t->chunk_count < 4 ? t->chunk_count : 4;
        size_t size = n > (CHUNK_MIN << shift) ? n : (CHUNK_MIN << shift);
        if (size > SIZE_MAX - chunk_header())
            return NULL;
        c = malloc(chunk_header() + size);
        if (c == NULL)
            return NULL;
        c->size = size;
        c->used = 0;
        c->zeroed = 0;
        c->next = t->chunks;
        t->chunks = c;
        t->chunk_count++;
    }
    uint8_t *p = (uint8_t *)c + chunk_header() + c->used;
    if (c->used >= c->zeroed) {
        memset(p, 0, n);
    } else if (c->zeroed - c->used < n) {
        size_t clean = c->zeroed - c->used;
        memset(p + clean, 0, n - clean);
    }
    c->used += n;
    return p;
}

kmip_item *kmip_tree_root(const kmip_tree *t)
{
    return t ? t->root : NULL;
}

size_t kmip_tree_item_count(const kmip_tree *t)
{
    return t ? t->item_count : 0;
}

kmip_item *kmip_tree_item_new(kmip_tree *t, uint32_t tag, kmip_type type)
{
    kmip_item *it = kmip_tree_alloc(t, sizeof *it);
    if (it == NULL)
        return NULL;
    it->tag = tag;
    it->type = (uint8_t)type;
    t->item_count++;
    return it;
}

void kmip_tree_link(kmip_tree *t, kmip_item *parent, kmip_item *it)
{
    if (parent == NULL) {
        if (t->root == NULL)
            t->root = it;
        return;
    }
    if (parent->last_child)
        parent->last_child->next = it;
    else
        parent->first_child = it;
    parent->last_child = it;
    parent->child_count++;
}

kmip_item *kmip_tree_add(kmip_tree *t, kmip_item *parent, uint32_t tag, kmip_type type)
{
    if (t == NULL || (parent == NULL && t->root != NULL))
        return NULL;
    if (parent != NULL && parent->type != KMIP_TYPE_STRUCTURE)
        return NULL;
    kmip_item *it = kmip_tree_item_new(t, tag, type);
    if (it != NULL)
        kmip_tree_link(t, parent, it);
    return it;
}

kmip_err kmip_item_set_bytes(kmip_tree *t, kmip_item *item, const void *data, size_t len)
{
    if (t == NULL || item == NULL || (len && data == NULL))
        return KMIP_E_ARG;
    if (item->type != KMIP_TYPE_TEXT_STRING && item->type != KMIP_TYPE_BYTE_STRING &&
        item->type != KMIP_TYPE_BIG_INTEGER)
        return KMIP_E_ARG;
    uint8_t *copy = kmip_tree_alloc(t, len);
    if (copy == NULL)
        return KMIP_E_NOMEM;
    if (len)
        memcpy(copy, data, len);
    item->v.bytes.data = copy;
    item->v.bytes.len = len;
    return KMIP_OK;
}

kmip_item *kmip_add_struct(kmip_tree *t, kmip_item *parent, uint32_t tag)
{
    return kmip_tree_add(t, parent, tag, KMIP_TYPE_STRUCTURE);
}

kmip_item *kmip_add_int(kmip_tree *t, kmip_item *parent, uint32_t tag, int32_t v)
{
    kmip_item *it = kmip_tree_add(t, parent, tag, KMIP_TYPE_INTEGER);
    if (it)
        it->v.i32 = v;
    return it;
}

kmip_item *kmip_add_long(kmip_tree *t, kmip_item *parent, uint32_t tag, int64_t v)
{
    kmip_item *it = kmip_tree_add(t, parent, tag, KMIP_TYPE_LONG_INTEGER);
    if (it)
        it->v.i64 = v;
    return it;
}

kmip_item *kmip_add_enum(kmip_tree *t, kmip_item *parent, uint32_t tag, uint32_t v)
{
    kmip_item *it = kmip_tree_add(t, parent, tag, KMIP_TYPE_ENUMERATION);
    if (it)
        it->v.u32 = v;
    return it;
}

kmip_item *kmip_add_bool(kmip_tree *t, kmip_item *parent, uint32_t tag, bool v)
{
    kmip_item *it = kmip_tree_add(t, parent, tag, KMIP_TYPE_BOOLEAN);
    if (it)
        it->v.boolean = v;
    return it;
}

kmip_item *kmip_add_datetime(kmip_tree *t, kmip_item *parent, uint32_t tag, int64_t seconds)
{
    kmip_item *it = kmip_tree_add(t, parent, tag, KMIP_TYPE_DATE_TIME);
    if (it)
        it->v.i64 = seconds;
    return it;
}

static kmip_item *add_with_bytes(kmip_tree *t, kmip_item *parent, uint32_t tag, kmip_type type,
                                 const void *data, size_t len)
{
    kmip_item *it = kmip_tree_add(t, parent, tag, type);
    if (it == NULL || kmip_item_set_bytes(t, it, data, len) != KMIP_OK)
        return NULL;
    return it;
}

kmip_item *kmip_add_text(kmip_tree *t, kmip_item *parent, uint32_t tag, const char *s, size_t len)
{
    return add_with_bytes(t, parent, tag, KMIP_TYPE_TEXT_STRING, s, len);
}

kmip_item *kmip_add_bytes(kmip_tree *t, kmip_item *parent, uint32_t tag, const void *data,
                          size_t len)
{
    return add_with_bytes(t, parent, tag, KMIP_TYPE_BYTE_STRING, data, len);
}

kmip_item *kmip_item_child(const kmip_item *parent, uint32_t tag)
{
    if (parent == NULL || parent->type != KMIP_TYPE_STRUCTURE)
        return NULL;
    for (kmip_item *c = parent->first_child; c != NULL; c = c->next)
        if (c->tag == tag)
            return c;
    return NULL;
}

kmip_item *kmip_item_next_same(const kmip_item *item)
{
    for (kmip_item *c = item->next; c != NULL; c = c->next)
        if (c->tag == item->tag)
            return c;
    return NULL;
}

static bool scalar_equal(const kmip_item *a, const kmip_item *b)
{
    switch (a->type) {
    case KMIP_TYPE_INTEGER:
        return a->v.i32 == b->v.i32;
    case KMIP_TYPE_LONG_INTEGER:
    case KMIP_TYPE_DATE_TIME:
    case KMIP_TYPE_DATE_TIME_EXTENDED:
        return a->v.i64 == b->v.i64;
    case KMIP_TYPE_ENUMERATION:
    case KMIP_TYPE_INTERVAL:
        return a->v.u32 == b->v.u32;
    case KMIP_TYPE_BOOLEAN:
        return a->v.boolean == b->v.boolean;
    default:
        return a->v.bytes.len == b->v.bytes.len &&
               kmip_ct_equal(a->v.bytes.data, b->v.bytes.data, a->v.bytes.len);
    }
}

bool kmip_item_equal(const kmip_item *a, const kmip_item *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->tag != b->tag || a->type != b->type)
        return false;
    if (a->type != KMIP_TYPE_STRUCTURE)
        return scalar_equal(a, b);
    if (a->child_count != b->child_count)
        return false;
    const kmip_item *x = a->first_child, *y = b->first_child;
    for (; x != NULL && y != NULL; x = x->next, y = y->next)
        if (!kmip_item_equal(x, y))
            return false;
    return x == NULL && y == NULL;
}

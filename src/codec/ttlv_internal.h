/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the codec's checked primitives, shared by the item-tree
 * decoder and encoder of this layer and by the typed message layer above
 * it, so that every TTLV read and write in the library goes through one
 * implementation (KMIP 1.4 section 9.1, 2.1 section 9.1).
 *
 * Reading: ttlv_next validates one item at a (pos, end) cursor (header,
 * type, length against what remains, padding, limits, and for scalars the
 * value itself: Booleans 0/1, Text Strings UTF-8 without NUL) but not the
 * children of a structure; callers walk those with ttlv_next again, build
 * them with ttlv_read_tree or validate them with ttlv_skip.
 *
 * Writing: ttlv_writer appends headers and values to one buffer that grows
 * by allocate-copy-wipe; structure lengths are back-patched. Errors are
 * sticky, as in the public encoder.
 *
 * Trees: a tree can live in memory its owner provides (the typed message
 * puts its first arena block in the same allocation as itself). */
#ifndef KMIP_CODEC_TTLV_INTERNAL_H
#define KMIP_CODEC_TTLV_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"

/* Tag (3 bytes), type (1), length (4): 1.4 section 9.1.1. */
#define TTLV_HEADER_LEN 8u

/* ---- reading ---- */

typedef struct ttlv_reader {
    const uint8_t *base; /* start of the message: offsets are from here */
    size_t items;        /* items seen so far (the count limit) */
    size_t max_items;
    size_t max_string;
    unsigned max_depth;
    /* the last error */
    size_t err_offset;
    char *detail; /* NUL-terminated sentence, "byte N: ..." */
    size_t detail_cap;
} ttlv_reader;

/* One validated item. */
typedef struct ttlv_hdr {
    uint32_t tag;
    uint8_t type;
    uint32_t len;        /* value length, without padding */
    const uint8_t *at;   /* the item header */
    const uint8_t *val;  /* the value (a structure's first child) */
    const uint8_t *next; /* just past the value's padding */
} ttlv_hdr;

/* Starts a reader over a message at base with the given limits. */
void ttlv_reader_init(ttlv_reader *r, const uint8_t *base, size_t max_items, size_t max_string,
                      unsigned max_depth, char *detail, size_t detail_cap);

/* Records an error found at `at` ("byte N: " and the sentence) and returns
 * err. */
__attribute__((format(printf, 4, 5))) kmip_err ttlv_fail(ttlv_reader *r, kmip_err err,
                                                         const uint8_t *at, const char *fmt, ...);

/* Validates the item whose header is at pos, within [pos, end). depth is
 * the item's nesting depth (0 for the top-level item), which also selects
 * the error for a length beyond end: KMIP_E_TRUNCATED at depth 0,
 * KMIP_E_OVERRUN inside a structure. Counts the item against max_items.
 * On success *h describes it; a structure's children are not looked at.
 *
 * ttlv_next is the inline fast path: the checks as one condition. Anything
 * it does not accept goes to ttlv_next_checked (reader.c), which runs the
 * checks one by one in the documented order and names the first that
 * fails; both accept exactly the same items. */
kmip_err ttlv_next_checked(ttlv_reader *r, const uint8_t *pos, const uint8_t *end, unsigned depth,
                           ttlv_hdr *h);
/* The rules of Text String values (UTF-8 without U+0000); out of line. */
kmip_err ttlv_check_text(ttlv_reader *r, const ttlv_hdr *h);

/* Per item type (1.4 section 9.1.1.2-3): bits 0-3 the fixed value length
 * (0 = variable), TTLV_T_MULT8 a length that must be a multiple of 8,
 * TTLV_T_STRING a length under max_string, TTLV_T_VALID a KMIP type. */
#define TTLV_T_MULT8 0x10u
#define TTLV_T_STRING 0x20u
#define TTLV_T_VALID 0x40u
extern const uint8_t ttlv_type_rules[256];

__attribute__((always_inline)) static inline kmip_err
ttlv_next(ttlv_reader *r, const uint8_t *pos, const uint8_t *end, unsigned depth, ttlv_hdr *h)
{
    if (__builtin_expect(TTLV_HEADER_LEN <= (size_t)(end - pos), 1)) {
        uint32_t tag = (uint32_t)pos[0] << 16 | (uint32_t)pos[1] << 8 | (uint32_t)pos[2];
        uint8_t type = pos[3];
        uint32_t len = (uint32_t)pos[4] << 24 | (uint32_t)pos[5] << 16 | (uint32_t)pos[6] << 8 |
                       (uint32_t)pos[7];
        unsigned rules = ttlv_type_rules[type];
        unsigned fixed = rules & 0x0Fu;
        size_t pad = (8u - (len & 7u)) & 7u;
        const uint8_t *val = pos + TTLV_HEADER_LEN;
        bool ok = ((tag >> 16) == 0x42 || (tag >> 16) == 0x54) && (rules & TTLV_T_VALID) &&
                  (fixed == 0 || len == fixed) && (!(rules & TTLV_T_MULT8) || pad == 0) &&
                  (!(rules & TTLV_T_STRING) || len <= r->max_string) && r->items < r->max_items &&
                  (uint64_t)len + pad <= (uint64_t)(end - val) &&
                  (type != KMIP_TYPE_STRUCTURE || depth < r->max_depth);
        if (__builtin_expect(ok && pad != 0, 0)) {
            /* the pad bytes are the last pad bytes of the 8 ending the value */
            uint64_t word;
            memcpy(&word, val + len + pad - 8, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            ok = (word & (~(uint64_t)0 << (8 * (8 - pad)))) == 0;
#else
            ok = (word & (((uint64_t)1 << (8 * pad)) - 1)) == 0;
#endif
        }
        if (__builtin_expect(ok, 1)) {
            r->items++;
            h->tag = tag;
            h->type = type;
            h->len = len;
            h->at = pos;
            h->val = val;
            h->next = val + len + pad;
            if (type == KMIP_TYPE_BOOLEAN) {
                if ((val[0] | val[1] | val[2] | val[3] | val[4] | val[5] | val[6] |
                     (val[7] & 0xFEu)) != 0) {
                    r->items--;
                    return ttlv_next_checked(r, pos, end, depth, h);
                }
            } else if (type == KMIP_TYPE_TEXT_STRING) {
                return ttlv_check_text(r, h);
            }
            return KMIP_OK;
        }
    }
    return ttlv_next_checked(r, pos, end, depth, h);
}

/* The header at pos as one big-endian word: tag << 40 | type << 32 | len.
 * The caller has checked that 8 bytes remain. */
static inline uint64_t ttlv_header_word(const uint8_t *pos)
{
    uint64_t w;
    memcpy(&w, pos, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* ttlv_next for an item whose header the caller has already compared:
 * at least 8 bytes remain at pos, hw is its header word
 * (ttlv_header_word), whose tag is a KMIP tag and whose type is `type`, a
 * constant (so the rules of that type are known
 * here, not looked up). What is left is checked exactly as ttlv_next
 * checks it (length for the type, string limit, item count, length
 * against what remains, depth, padding, Boolean and Text String values),
 * and *h is filled the same way. False for anything ttlv_next would
 * refuse: the caller then reads the item again with ttlv_next (or its
 * walk does), which reports it; nothing is counted then. For the typed
 * decoder's generated fast paths, which know the tag and type they expect
 * at each point. */
__attribute__((always_inline)) static inline bool
ttlv_next_typed(ttlv_reader *r, const uint8_t *pos, const uint8_t *end, unsigned depth,
                uint64_t hw, unsigned type, ttlv_hdr *h)
{
    uint32_t len = (uint32_t)hw;
    unsigned fixed = type == KMIP_TYPE_INTEGER || type == KMIP_TYPE_ENUMERATION ||
                             type == KMIP_TYPE_INTERVAL
                         ? 4u
                     : type == KMIP_TYPE_LONG_INTEGER || type == KMIP_TYPE_BOOLEAN ||
                             type == KMIP_TYPE_DATE_TIME || type == KMIP_TYPE_DATE_TIME_EXTENDED
                         ? 8u
                         : 0u;
    bool mult8 = type == KMIP_TYPE_STRUCTURE || type == KMIP_TYPE_BIG_INTEGER;
    bool string = type == KMIP_TYPE_TEXT_STRING || type == KMIP_TYPE_BYTE_STRING ||
                  type == KMIP_TYPE_BIG_INTEGER;
    size_t pad = fixed ? 8u - fixed : mult8 ? 0u : (8u - (len & 7u)) & 7u;
    const uint8_t *val = pos + TTLV_HEADER_LEN;
    if (!((fixed == 0 || len == fixed) && (!mult8 || (len & 7u) == 0) &&
          (!string || len <= r->max_string) && r->items < r->max_items &&
          (uint64_t)len + pad <= (uint64_t)(end - val) &&
          (type != KMIP_TYPE_STRUCTURE || depth < r->max_depth)))
        return false;
    if (pad != 0) {
        /* the pad bytes are the last pad bytes of the 8 ending the value */
        uint64_t word;
        memcpy(&word, val + len + pad - 8, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if ((word & (~(uint64_t)0 << (8 * (8 - pad)))) != 0)
            return false;
#else
        if ((word & (((uint64_t)1 << (8 * pad)) - 1)) != 0)
            return false;
#endif
    }
    if (type == KMIP_TYPE_BOOLEAN && ttlv_header_word(val) > 1)
        return false;
    h->tag = (uint32_t)(hw >> 40);
    h->type = (uint8_t)type;
    h->len = len;
    h->at = pos;
    h->val = val;
    h->next = val + len + pad;
    if (type == KMIP_TYPE_TEXT_STRING && ttlv_check_text(r, h) != KMIP_OK)
        return false;
    r->items++;
    return true;
}

/* A walk over the children of an accepted structure, each validated by
 * ttlv_next at the children's depth:
 *     ttlv_children it = ttlv_children_of(h, depth);
 *     ttlv_hdr ch;
 *     while (ttlv_child(r, &it, &ch)) { ... }
 *     if (it.err != KMIP_OK) return it.err;
 * The walk ends at the structure's end or at the first invalid child. */
typedef struct ttlv_children {
    const uint8_t *pos;
    const uint8_t *end;
    unsigned depth; /* of the children */
    kmip_err err;
} ttlv_children;

static inline ttlv_children ttlv_children_of(const ttlv_hdr *h, unsigned depth)
{
    ttlv_children it = {h->val, h->val + h->len, depth + 1, KMIP_OK};
    return it;
}

__attribute__((always_inline)) static inline bool ttlv_child(ttlv_reader *r, ttlv_children *it,
                                                             ttlv_hdr *h)
{
    if (it->pos >= it->end)
        return false;
    it->err = ttlv_next(r, it->pos, it->end, it->depth, h);
    if (it->err != KMIP_OK)
        return false;
    it->pos = h->next;
    return true;
}

/* Fills *h from a header ttlv_next has already accepted (no checks, no
 * counting): for a second walk over the same bytes. */
static inline void ttlv_peek(const uint8_t *pos, ttlv_hdr *h)
{
    h->tag = (uint32_t)pos[0] << 16 | (uint32_t)pos[1] << 8 | (uint32_t)pos[2];
    h->type = pos[3];
    h->len =
        (uint32_t)pos[4] << 24 | (uint32_t)pos[5] << 16 | (uint32_t)pos[6] << 8 | (uint32_t)pos[7];
    h->at = pos;
    h->val = pos + 8;
    h->next = h->val + h->len + ((8u - (h->len & 7u)) & 7u);
}

/* Builds the item h (accepted by ttlv_next at `depth`) and, for a
 * structure, all its descendants (each validated) in tree t. With parent
 * NULL the item is not linked anywhere (a value the caller keeps a pointer
 * to); otherwise it becomes parent's last child. Values are copied into
 * the tree. */
kmip_err ttlv_read_tree(ttlv_reader *r, kmip_tree *t, kmip_item *parent, const ttlv_hdr *h,
                        unsigned depth, kmip_item **out);

/* Validates the descendants of h (accepted by ttlv_next at `depth`)
 * without building anything: for items that are dropped. */
kmip_err ttlv_skip(ttlv_reader *r, const ttlv_hdr *h, unsigned depth);

/* Value accessors for an accepted item of the right type. */
static inline uint32_t ttlv_u32(const ttlv_hdr *h)
{
    const uint8_t *p = h->val;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t ttlv_u64(const ttlv_hdr *h)
{
    const uint8_t *p = h->val;
    uint64_t hi =
        (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
    uint32_t lo =
        (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | (uint32_t)p[7];
    return hi << 32 | lo;
}

/* ---- trees ---- */

/* A tree's arena (tree.c): chunks, newest first. */
typedef struct chunk {
    struct chunk *next;
    size_t size;   /* usable bytes after the header */
    size_t used;   /* handed out */
    size_t zeroed; /* bytes from the start known to be zero (wiped by a reset) */
} chunk;

struct kmip_tree {
    chunk *chunks;
    unsigned chunk_count;
    kmip_item *root;
    size_t item_count;
    chunk *embedded; /* the chunk in the owner's memory, never freed here */
};

/* kmip_tree_alloc's common case, inline: a small allocation that fits in
 * the newest chunk (zeroed as kmip_tree_alloc zeroes it: only the bytes
 * not known to be zero). NULL when it does not fit: the caller then calls
 * kmip_tree_alloc, which adds a chunk. */
__attribute__((always_inline)) static inline void *kmip_tree_alloc_here(kmip_tree *t, size_t n)
{
    chunk *c = t->chunks;
    if (c == NULL || n - 1u >= 4096u) /* n == 0 and large n: kmip_tree_alloc */
        return NULL;
    size_t rn = (n + 7u) & ~(size_t)7u;
    if (rn > c->size - c->used)
        return NULL;
    uint8_t *p = (uint8_t *)c + ((sizeof(chunk) + 7u) & ~(size_t)7u) + c->used;
    if (c->used + rn > c->zeroed) {
        size_t clean = c->zeroed > c->used ? c->zeroed - c->used : 0;
        memset(p + clean, 0, rn - clean);
    }
    c->used += rn;
    return p;
}

/* kmip_tree_alloc with its common case inline. */
__attribute__((always_inline)) static inline void *kmip_tree_alloc_fast(kmip_tree *t, size_t n)
{
    void *p = kmip_tree_alloc_here(t, n);
    return p != NULL ? p : kmip_tree_alloc(t, n);
}

/* A point in a tree's allocations: what kmip_tree_rewind gives back to. */
typedef struct kmip_tree_point {
    const chunk *chunk;
    size_t used;
    size_t item_count;
    kmip_item *root;
} kmip_tree_point;

static inline kmip_tree_point kmip_tree_mark(const kmip_tree *t)
{
    kmip_tree_point p = {t->chunks, t->chunks ? t->chunks->used : 0, t->item_count, t->root};
    return p;
}

/* Gives back (wiped) everything allocated since p: a pass abandoned for
 * another over the same input does not leave its copies behind. */
void kmip_tree_rewind(kmip_tree *t, const kmip_tree_point *p);

/* Bytes an embedded tree needs before its first block (see below). */
size_t kmip_tree_embed_overhead(void);
/* Makes a tree inside mem (size bytes, 8-byte aligned, at least
 * kmip_tree_embed_overhead()): the tree's bookkeeping and its first arena
 * block live there, later blocks are allocated. Release it with
 * kmip_tree_embed_release, never kmip_tree_free. */
kmip_tree *kmip_tree_embed(void *mem, size_t size);
/* Wipes every byte the tree handed out, frees its other blocks, and leaves
 * mem to its owner. t may be NULL. */
void kmip_tree_embed_release(kmip_tree *t);
/* Empties an embedded tree for reuse: wipes every byte it handed out, frees
 * its other blocks, keeps the first one (whose wiped bytes later
 * allocations need not zero again). No root, no items afterwards. */
void kmip_tree_embed_reset(kmip_tree *t);
/* Usable bytes of an embedded tree's first block. */
size_t kmip_tree_embed_capacity(const kmip_tree *t);
/* Bytes handed out by the tree, over all its blocks. */
size_t kmip_tree_bytes_used(const kmip_tree *t);
/* A new item of the tree that is not linked to any other (zeroed). */
kmip_item *kmip_tree_item_new(kmip_tree *t, uint32_t tag, kmip_type type);
/* Appends child (from kmip_tree_item_new) to parent, or makes it the root
 * when parent is NULL and the tree has none. */
void kmip_tree_link(kmip_tree *t, kmip_item *parent, kmip_item *child);

/* ---- writing ---- */

/* A structure's length field is 32 bits; nothing may exceed it. */
#define TTLV_WRITE_LIMIT ((size_t)UINT32_MAX)

typedef struct ttlv_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    unsigned depth; /* open structures, at most KMIP_ENCODER_MAX_DEPTH */
    kmip_err err;
} ttlv_writer;

/* Makes room for n more bytes (allocate, copy, wipe the old buffer); false
 * with the sticky error set when that fails or passes TTLV_WRITE_LIMIT. */
bool ttlv_grow(ttlv_writer *w, size_t n);

static inline bool ttlv_room(ttlv_writer *w, size_t n)
{
    if (w->err != KMIP_OK)
        return false;
    return n <= w->cap - w->len || ttlv_grow(w, n);
}

/* A big-endian 64-bit store (one instruction where the target has it). */
static inline void ttlv_put_be64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

static inline void ttlv_put_header(uint8_t *p, uint32_t tag, uint8_t type, uint32_t len)
{
    ttlv_put_be64(p, (uint64_t)(tag & 0xFFFFFFu) << 40 | (uint64_t)type << 32 | len);
}

static inline void ttlv_fail_w(ttlv_writer *w, kmip_err err)
{
    if (w->err == KMIP_OK)
        w->err = err;
}

static inline bool ttlv_tag_ok(ttlv_writer *w, uint32_t tag)
{
    /* KMIP tags are 0x42XXXX or 0x54XXXX, 1.4 section 9.1.3.1 */
    if ((tag >> 16) == 0x42 || (tag >> 16) == 0x54)
        return true;
    ttlv_fail_w(w, KMIP_E_BAD_TAG);
    return false;
}

/* A 4-byte value (Integer, Enumeration, Interval) padded to 8. */
static inline void ttlv_w32(ttlv_writer *w, uint32_t tag, kmip_type type, uint32_t v)
{
    if (!ttlv_tag_ok(w, tag) || !ttlv_room(w, 16))
        return;
    uint8_t *p = w->buf + w->len;
    ttlv_put_header(p, tag, (uint8_t)type, 4);
    ttlv_put_be64(p + 8, (uint64_t)v << 32); /* the value, then 4 bytes of padding */
    w->len += 16;
}

/* An 8-byte value (Long Integer, Boolean, Date-Time, Date-Time Extended). */
static inline void ttlv_w64(ttlv_writer *w, uint32_t tag, kmip_type type, uint64_t v)
{
    if (!ttlv_tag_ok(w, tag) || !ttlv_room(w, 16))
        return;
    uint8_t *p = w->buf + w->len;
    ttlv_put_header(p, tag, (uint8_t)type, 8);
    ttlv_put_be64(p + 8, v);
    w->len += 16;
}

/* A Text String or Byte String value, zero-padded to a multiple of 8. */
__attribute__((always_inline)) static inline void
ttlv_wbytes(ttlv_writer *w, uint32_t tag, kmip_type type, const void *data, size_t len)
{
    if (len && data == NULL) {
        ttlv_fail_w(w, KMIP_E_ARG);
        return;
    }
    if (w->err != KMIP_OK || !ttlv_tag_ok(w, tag))
        return;
    if (len > TTLV_WRITE_LIMIT) {
        ttlv_fail_w(w, KMIP_E_LIMIT_SIZE);
        return;
    }
    size_t pad = (8u - (len & 7u)) & 7u;
    if (!ttlv_room(w, TTLV_HEADER_LEN + len + pad))
        return;
    uint8_t *p = w->buf + w->len;
    ttlv_put_header(p, tag, (uint8_t)type, (uint32_t)len);
    if (len) {
        /* zero the last 8 bytes of the padded value (a fixed-size store),
         * then the value over their first part */
        memset(p + TTLV_HEADER_LEN + len + pad - 8, 0, 8);
        memcpy(p + TTLV_HEADER_LEN, data, len);
    }
    w->len += TTLV_HEADER_LEN + len + pad;
}

/* A Big Integer, sign-extended to a multiple of 8 (1.4 section 9.1.1.4). */
void ttlv_wbigint(ttlv_writer *w, uint32_t tag, const void *data, size_t len);
/* Opens a structure: returns the offset of its header for ttlv_end. */
static inline size_t ttlv_begin(ttlv_writer *w, uint32_t tag)
{
    size_t at = w->len;
    if (w->err != KMIP_OK)
        return at;
    if (w->depth >= KMIP_ENCODER_MAX_DEPTH) {
        ttlv_fail_w(w, KMIP_E_LIMIT_DEPTH);
        return at;
    }
    if (!ttlv_tag_ok(w, tag) || !ttlv_room(w, TTLV_HEADER_LEN))
        return at;
    ttlv_put_header(w->buf + at, tag, KMIP_TYPE_STRUCTURE, 0);
    w->len += TTLV_HEADER_LEN;
    w->depth++;
    return at;
}

/* Closes the structure opened at offset `at` (back-patches its length). */
static inline void ttlv_end(ttlv_writer *w, size_t at)
{
    if (w->err != KMIP_OK)
        return;
    size_t len = w->len - at - TTLV_HEADER_LEN;
    if (len > TTLV_WRITE_LIMIT) {
        ttlv_fail_w(w, KMIP_E_LIMIT_SIZE);
        return;
    }
    uint8_t *p = w->buf + at + 4;
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    w->depth--;
}

/* An item and its descendants, the top-level one with `tag`. */
void ttlv_witem(ttlv_writer *w, uint32_t tag, const kmip_item *it);
/* Wipes what was written and frees the buffer. */
void ttlv_writer_free(ttlv_writer *w);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The one checked TTLV read, KMIP 1.4 section 9.1 (2.1 section 9.1): every
 * decoder of the library (item trees here, typed messages above) reads
 * items through ttlv_next.
 *
 * Each length is compared with what remains (`len > end - pos`, never a sum
 * that could wrap) before it is used, and nothing is allocated for a value
 * until its bytes are known to be there. A structure's declared length
 * bounds its children, which must fill it exactly. */
#include <stdarg.h>
#include <stdio.h>

#include "ttlv_internal.h"
#include "utf8.h"
#include "wire.h"

void ttlv_reader_init(ttlv_reader *r, const uint8_t *base, size_t max_items, size_t max_string,
                      unsigned max_depth, char *detail, size_t detail_cap)
{
    r->base = base;
    r->items = 0;
    r->max_items = max_items;
    r->max_string = max_string;
    r->max_depth = max_depth;
    r->err_offset = 0;
    r->detail = detail;
    r->detail_cap = detail_cap;
    if (detail_cap)
        detail[0] = '\0';
}

kmip_err ttlv_fail(ttlv_reader *r, kmip_err err, const uint8_t *at, const char *fmt, ...)
{
    r->err_offset = (size_t)(at - r->base);
    if (r->detail_cap == 0)
        return err;
    int n = snprintf(r->detail, r->detail_cap, "byte %zu: ", r->err_offset);
    if (n < 0 || (size_t)n >= r->detail_cap)
        return err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail + n, r->detail_cap - (size_t)n, fmt, ap);
    va_end(ap);
    return err;
}

#define RULE(fixed, flags) (uint8_t)((fixed) | (flags) | TTLV_T_VALID)
const uint8_t ttlv_type_rules[256] = {
    [KMIP_TYPE_STRUCTURE] = RULE(0, TTLV_T_MULT8),
    [KMIP_TYPE_INTEGER] = RULE(4, 0),
    [KMIP_TYPE_LONG_INTEGER] = RULE(8, 0),
    [KMIP_TYPE_BIG_INTEGER] = RULE(0, TTLV_T_MULT8 | TTLV_T_STRING),
    [KMIP_TYPE_ENUMERATION] = RULE(4, 0),
    [KMIP_TYPE_BOOLEAN] = RULE(8, 0),
    [KMIP_TYPE_TEXT_STRING] = RULE(0, TTLV_T_STRING),
    [KMIP_TYPE_BYTE_STRING] = RULE(0, TTLV_T_STRING),
    [KMIP_TYPE_DATE_TIME] = RULE(8, 0),
    [KMIP_TYPE_INTERVAL] = RULE(4, 0),
    [KMIP_TYPE_DATE_TIME_EXTENDED] = RULE(8, 0),
};

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Checks the header fields that do not need the value bytes (types: 1.4
 * section 9.1.1.2; fixed lengths and multiples of 8: 9.1.1.3). */
static kmip_err check_header(ttlv_reader *r, const uint8_t *pos, uint32_t tag, unsigned type,
                             uint32_t len)
{
    if (!wire_tag_valid(tag))
        return ttlv_fail(r, KMIP_E_BAD_TAG, pos, "tag 0x%06X is outside 0x42xxxx and 0x54xxxx",
                         tag);
    if (type < KMIP_TYPE_STRUCTURE || type > KMIP_TYPE_DATE_TIME_EXTENDED)
        return ttlv_fail(r, KMIP_E_BAD_TYPE, pos + 3, "item type 0x%02X is not a KMIP type", type);
    uint32_t fixed = wire_fixed_len(type);
    if (fixed != 0 && len != fixed)
        return ttlv_fail(r, KMIP_E_BAD_LENGTH, pos + 4, "%s of length %u, expected %u",
                         kmip_type_name(type), len, fixed);
    if ((type == KMIP_TYPE_BIG_INTEGER || type == KMIP_TYPE_STRUCTURE) && len % 8 != 0)
        return ttlv_fail(r, KMIP_E_BAD_LENGTH, pos + 4, "%s length %u is not a multiple of 8",
                         kmip_type_name(type), len);
    bool stringy = type == KMIP_TYPE_TEXT_STRING || type == KMIP_TYPE_BYTE_STRING ||
                   type == KMIP_TYPE_BIG_INTEGER;
    if (stringy && len > r->max_string)
        return ttlv_fail(r, KMIP_E_LIMIT_STRING, pos + 4, "%s of %u bytes exceeds the limit of %zu",
                         kmip_type_name(type), len, r->max_string);
    if (++r->items > r->max_items)
        return ttlv_fail(r, KMIP_E_LIMIT_COUNT, pos, "more than %zu items", r->max_items);
    return KMIP_OK;
}

/* Values that have rules of their own: Boolean 0 or 1 (9.1.1.4), Text
 * String UTF-8 (9.1.1.4) without U+0000. */
/* True when the n bytes at p are ASCII without NUL (identifiers and names
 * mostly are): one pass, 8 bytes at a time. A byte of 0x80 or more, or a
 * zero byte, sets a word's high bits in (w | (w - 0x01..01)). */
static bool plain_ascii(const uint8_t *p, size_t n)
{
    uint64_t acc = 0;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w | (w - 0x0101010101010101u);
    }
    for (; i < n; i++)
        acc |= (uint64_t)p[i] | (uint64_t)(p[i] - 1u);
    return (acc & 0x8080808080808080u) == 0;
}

kmip_err ttlv_check_text(ttlv_reader *r, const ttlv_hdr *h)
{
    if (plain_ascii(h->val, h->len))
        return KMIP_OK;
    size_t bad;
    if (!kmip_utf8_valid(h->val, h->len, &bad))
        return ttlv_fail(r, KMIP_E_BAD_UTF8, h->val + bad, "Text String is not valid UTF-8");
    /* U+0000 is valid UTF-8, but every C consumer would cut the string
     * there ("name\0other" would compare equal to "name"): refuse it. */
    const uint8_t *nul = memchr(h->val, 0, h->len);
    if (nul != NULL)
        return ttlv_fail(r, KMIP_E_BAD_UTF8, nul, "Text String contains a NUL character");
    return KMIP_OK;
}

static kmip_err check_value(ttlv_reader *r, const ttlv_hdr *h)
{
    if (h->type == KMIP_TYPE_BOOLEAN) {
        uint64_t b = ttlv_u64(h);
        if (b > 1)
            return ttlv_fail(r, KMIP_E_BAD_BOOLEAN, h->at, "Boolean value %llu is neither 0 nor 1",
                             (unsigned long long)b);
        return KMIP_OK;
    }
    if (h->type != KMIP_TYPE_TEXT_STRING)
        return KMIP_OK;
    return ttlv_check_text(r, h);
}

kmip_err ttlv_next_checked(ttlv_reader *r, const uint8_t *pos, const uint8_t *end, unsigned depth,
                           ttlv_hdr *h)
{
    kmip_err inner = depth == 0 ? KMIP_E_TRUNCATED : KMIP_E_OVERRUN;
    if (KMIP_HEADER_LEN > (size_t)(end - pos))
        return ttlv_fail(r, inner, pos, "item header needs 8 bytes, %zu remain%s",
                         (size_t)(end - pos), depth ? " in the enclosing structure" : "");
    uint32_t tag = wire_get_tag(pos);
    unsigned type = pos[3];
    uint32_t len = wire_get_u32(pos + 4);
    kmip_err err = check_header(r, pos, tag, type, len);
    if (err != KMIP_OK)
        return err;
    const uint8_t *val = pos + KMIP_HEADER_LEN;
    uint64_t padded = (uint64_t)len + wire_pad(len);
    if (padded > (uint64_t)(end - val))
        return ttlv_fail(r, inner, pos, "tag 0x%06X declares %llu value bytes, %zu remain%s", tag,
                         (unsigned long long)padded, (size_t)(end - val),
                         depth ? " in the enclosing structure" : "");
    if (type == KMIP_TYPE_STRUCTURE && depth + 1 > r->max_depth)
        return ttlv_fail(r, KMIP_E_LIMIT_DEPTH, pos, "structures nested deeper than %u",
                         r->max_depth);
    if (!all_zero(val + len, (size_t)(padded - len)))
        return ttlv_fail(r, KMIP_E_PADDING, val + len, "non-zero padding after tag 0x%06X", tag);
    h->tag = tag;
    h->type = (uint8_t)type;
    h->len = len;
    h->at = pos;
    h->val = val;
    h->next = val + padded;
    return check_value(r, h);
}

/* Fills a scalar item from an accepted header. */
static kmip_err fill_scalar(ttlv_reader *r, kmip_tree *t, kmip_item *it, const ttlv_hdr *h)
{
    switch (h->type) {
    case KMIP_TYPE_INTEGER:
        it->v.i32 = (int32_t)ttlv_u32(h);
        return KMIP_OK;
    case KMIP_TYPE_ENUMERATION:
    case KMIP_TYPE_INTERVAL:
        it->v.u32 = ttlv_u32(h);
        return KMIP_OK;
    case KMIP_TYPE_LONG_INTEGER:
    case KMIP_TYPE_DATE_TIME:
    case KMIP_TYPE_DATE_TIME_EXTENDED:
        it->v.i64 = (int64_t)ttlv_u64(h);
        return KMIP_OK;
    case KMIP_TYPE_BOOLEAN:
        it->v.boolean = ttlv_u64(h) == 1;
        return KMIP_OK;
    default:
        break;
    }
    uint8_t *copy = kmip_tree_alloc_fast(t, h->len);
    if (copy == NULL)
        return ttlv_fail(r, KMIP_E_NOMEM, h->at, "out of memory");
    memcpy(copy, h->val, h->len);
    it->v.bytes.data = copy;
    it->v.bytes.len = h->len;
    return KMIP_OK;
}

kmip_err ttlv_read_tree(ttlv_reader *r, kmip_tree *t, kmip_item *parent, const ttlv_hdr *h,
                        unsigned depth, kmip_item **out)
{
    kmip_item *it = kmip_tree_item_new(t, h->tag, (kmip_type)h->type);
    if (it == NULL)
        return ttlv_fail(r, KMIP_E_NOMEM, h->at, "out of memory");
    if (parent != NULL)
        kmip_tree_link(t, parent, it);
    if (out != NULL)
        *out = it;
    if (h->type != KMIP_TYPE_STRUCTURE)
        return fill_scalar(r, t, it, h);
    ttlv_children ch = ttlv_children_of(h, depth);
    ttlv_hdr c;
    while (ttlv_child(r, &ch, &c)) {
        kmip_err err = ttlv_read_tree(r, t, it, &c, depth + 1, NULL);
        if (err != KMIP_OK)
            return err;
    }
    return ch.err;
}

kmip_err ttlv_skip(ttlv_reader *r, const ttlv_hdr *h, unsigned depth)
{
    if (h->type != KMIP_TYPE_STRUCTURE)
        return KMIP_OK;
    ttlv_children ch = ttlv_children_of(h, depth);
    ttlv_hdr c;
    while (ttlv_child(r, &ch, &c)) {
        kmip_err err = ttlv_skip(r, &c, depth + 1);
        if (err != KMIP_OK)
            return err;
    }
    return ch.err;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Bounded TTLV decoder, KMIP 1.4 section 9.1 (2.1 section 9.1).
 *
 * Decoding walks a (pos, end) cursor. Every length is compared with what
 * remains (`len > end - pos`, never a sum that could wrap) before it is used,
 * and nothing is allocated for a value until its bytes are known to be
 * there. A structure's declared length bounds its children, which must fill
 * it exactly. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"
#include "utf8.h"
#include "wire.h"

struct kmip_decoder {
    size_t max_message;
    size_t max_items;
    size_t max_string;
    unsigned max_depth;
    /* per-call state */
    const uint8_t *base;
    size_t items;
    kmip_tree *tree;
    /* last error */
    size_t err_offset;
    char detail[192];
};

kmip_decoder *kmip_decoder_new(void)
{
    kmip_decoder *d = calloc(1, sizeof *d);
    if (d == NULL)
        return NULL;
    d->max_message = KMIP_DEFAULT_MAX_MESSAGE;
    d->max_items = KMIP_DEFAULT_MAX_ITEMS;
    d->max_string = KMIP_DEFAULT_MAX_STRING;
    d->max_depth = KMIP_DEFAULT_MAX_DEPTH;
    return d;
}

void kmip_decoder_free(kmip_decoder *d)
{
    free(d);
}

void kmip_decoder_set_max_message_size(kmip_decoder *d, size_t bytes)
{
    d->max_message = bytes;
}

void kmip_decoder_set_max_depth(kmip_decoder *d, unsigned depth)
{
    d->max_depth = depth > KMIP_HARD_MAX_DEPTH ? KMIP_HARD_MAX_DEPTH : depth;
}

void kmip_decoder_set_max_items(kmip_decoder *d, size_t items)
{
    d->max_items = items;
}

void kmip_decoder_set_max_string(kmip_decoder *d, size_t bytes)
{
    d->max_string = bytes;
}

size_t kmip_decoder_error_offset(const kmip_decoder *d)
{
    return d->err_offset;
}

const char *kmip_decoder_error_detail(const kmip_decoder *d)
{
    return d->detail;
}

__attribute__((format(printf, 4, 5))) static kmip_err fail(kmip_decoder *d, kmip_err err,
                                                           const uint8_t *at, const char *fmt, ...)
{
    d->err_offset = (size_t)(at - d->base);
    int n = snprintf(d->detail, sizeof d->detail, "byte %zu: ", d->err_offset);
    if (n < 0)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->detail + n, sizeof d->detail - (size_t)n, fmt, ap);
    va_end(ap);
    return err;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* Fills a scalar item from its value bytes (length already validated). */
static kmip_err read_scalar(kmip_decoder *d, kmip_item *it, const uint8_t *hdr,
                            const uint8_t *val, uint32_t len)
{
    switch (it->type) {
    case KMIP_TYPE_INTEGER:
        it->v.i32 = (int32_t)wire_get_u32(val);
        return KMIP_OK;
    case KMIP_TYPE_ENUMERATION:
    case KMIP_TYPE_INTERVAL:
        it->v.u32 = wire_get_u32(val);
        return KMIP_OK;
    case KMIP_TYPE_LONG_INTEGER:
    case KMIP_TYPE_DATE_TIME:
    case KMIP_TYPE_DATE_TIME_EXTENDED:
        it->v.i64 = (int64_t)wire_get_u64(val);
        return KMIP_OK;
    case KMIP_TYPE_BOOLEAN: {
        uint64_t b = wire_get_u64(val);
        if (b > 1)
            return fail(d, KMIP_E_BAD_BOOLEAN, hdr, "Boolean value %llu is neither 0 nor 1",
                        (unsigned long long)b);
        it->v.boolean = b == 1;
        return KMIP_OK;
    }
    default:
        break;
    }
    size_t bad;
    if (it->type == KMIP_TYPE_TEXT_STRING && !kmip_utf8_valid(val, len, &bad))
        return fail(d, KMIP_E_BAD_UTF8, val + bad, "Text String is not valid UTF-8");
    /* U+0000 is valid UTF-8, but every C consumer would cut the string
     * there ("name\0other" would compare equal to "name"): refuse it. */
    const uint8_t *nul = it->type == KMIP_TYPE_TEXT_STRING ? memchr(val, 0, len) : NULL;
    if (nul != NULL)
        return fail(d, KMIP_E_BAD_UTF8, nul, "Text String contains a NUL character");
    uint8_t *copy = kmip_tree_alloc(d->tree, len);
    if (copy == NULL)
        return fail(d, KMIP_E_NOMEM, hdr, "out of memory");
    memcpy(copy, val, len);
    it->v.bytes.data = copy;
    it->v.bytes.len = len;
    return KMIP_OK;
}

/* Checks the header fields that do not need the value bytes. */
static kmip_err check_header(kmip_decoder *d, const uint8_t *pos, uint32_t tag, unsigned type,
                             uint32_t len)
{
    if (!wire_tag_valid(tag))
        return fail(d, KMIP_E_BAD_TAG, pos, "tag 0x%06X is outside 0x42xxxx and 0x54xxxx", tag);
    if (kmip_type_name(type) == NULL)
        return fail(d, KMIP_E_BAD_TYPE, pos + 3, "item type 0x%02X is not a KMIP type", type);
    uint32_t fixed = wire_fixed_len(type);
    if (fixed != 0 && len != fixed)
        return fail(d, KMIP_E_BAD_LENGTH, pos + 4, "%s of length %u, expected %u",
                    kmip_type_name(type), len, fixed);
    if ((type == KMIP_TYPE_BIG_INTEGER || type == KMIP_TYPE_STRUCTURE) && len % 8 != 0)
        return fail(d, KMIP_E_BAD_LENGTH, pos + 4, "%s length %u is not a multiple of 8",
                    kmip_type_name(type), len);
    bool stringy = type == KMIP_TYPE_TEXT_STRING || type == KMIP_TYPE_BYTE_STRING ||
                   type == KMIP_TYPE_BIG_INTEGER;
    if (stringy && len > d->max_string)
        return fail(d, KMIP_E_LIMIT_STRING, pos + 4, "%s of %u bytes exceeds the limit of %zu",
                    kmip_type_name(type), len, d->max_string);
    if (++d->items > d->max_items)
        return fail(d, KMIP_E_LIMIT_COUNT, pos, "more than %zu items", d->max_items);
    return KMIP_OK;
}

static kmip_err decode_item(kmip_decoder *d, kmip_item *parent, const uint8_t **ppos,
                            const uint8_t *end, unsigned depth);

static kmip_err decode_children(kmip_decoder *d, kmip_item *it, const uint8_t *pos,
                                const uint8_t *end, unsigned depth)
{
    while (pos < end) {
        kmip_err err = decode_item(d, it, &pos, end, depth);
        if (err != KMIP_OK)
            return err;
    }
    return KMIP_OK;
}

/* Decodes one item at *ppos, bounded by end (the enclosing structure's end,
 * or the message end at depth 0), and advances *ppos past it. */
static kmip_err decode_item(kmip_decoder *d, kmip_item *parent, const uint8_t **ppos,
                            const uint8_t *end, unsigned depth)
{
    const uint8_t *pos = *ppos;
    kmip_err inner = depth == 0 ? KMIP_E_TRUNCATED : KMIP_E_OVERRUN;
    if (KMIP_HEADER_LEN > (size_t)(end - pos))
        return fail(d, inner, pos, "item header needs 8 bytes, %zu remain%s",
                    (size_t)(end - pos), depth ? " in the enclosing structure" : "");
    uint32_t tag = wire_get_tag(pos);
    unsigned type = pos[3];
    uint32_t len = wire_get_u32(pos + 4);
    kmip_err err = check_header(d, pos, tag, type, len);
    if (err != KMIP_OK)
        return err;
    const uint8_t *val = pos + KMIP_HEADER_LEN;
    uint64_t padded = (uint64_t)len + wire_pad(len);
    if (padded > (uint64_t)(end - val))
        return fail(d, inner, pos, "tag 0x%06X declares %llu value bytes, %zu remain%s", tag,
                    (unsigned long long)padded, (size_t)(end - val),
                    depth ? " in the enclosing structure" : "");
    if (type == KMIP_TYPE_STRUCTURE && depth + 1 > d->max_depth)
        return fail(d, KMIP_E_LIMIT_DEPTH, pos, "structures nested deeper than %u",
                    d->max_depth);
    if (!all_zero(val + len, (size_t)(padded - len)))
        return fail(d, KMIP_E_PADDING, val + len, "non-zero padding after tag 0x%06X", tag);
    kmip_item *it = kmip_tree_add(d->tree, parent, tag, (kmip_type)type);
    if (it == NULL)
        return fail(d, KMIP_E_NOMEM, pos, "out of memory");
    err = type == KMIP_TYPE_STRUCTURE ? decode_children(d, it, val, val + len, depth + 1)
                                      : read_scalar(d, it, pos, val, len);
    if (err != KMIP_OK)
        return err;
    *ppos = val + padded;
    return KMIP_OK;
}

kmip_err kmip_decoder_decode(kmip_decoder *d, const uint8_t *data, size_t len, kmip_tree **out)
{
    if (d == NULL || out == NULL || (data == NULL && len != 0))
        return KMIP_E_ARG;
    *out = NULL;
    d->base = data;
    d->items = 0;
    d->detail[0] = '\0';
    d->err_offset = 0;
    if (len > d->max_message)
        return fail(d, KMIP_E_LIMIT_SIZE, data, "message of %zu bytes exceeds the limit of %zu",
                    len, d->max_message);
    d->tree = kmip_tree_new();
    if (d->tree == NULL)
        return fail(d, KMIP_E_NOMEM, data, "out of memory");
    const uint8_t *pos = data;
    const uint8_t *end = data + len;
    kmip_err err = decode_item(d, NULL, &pos, end, 0);
    if (err == KMIP_OK && pos != end)
        err = fail(d, KMIP_E_TRAILING, pos, "%zu bytes after the top-level item",
                   (size_t)(end - pos));
    if (err != KMIP_OK) {
        kmip_tree_free(d->tree);
    } else {
        *out = d->tree;
    }
    d->tree = NULL;
    return err;
}

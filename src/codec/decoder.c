/* SPDX-License-Identifier: GPL-2.0-only */
/* Bounded TTLV decoder into item trees, KMIP 1.4 section 9.1 (2.1 section
 * 9.1). The checks themselves (lengths against what remains, padding,
 * limits, values) are the shared read primitive of reader.c; this file
 * keeps the limits and builds the tree. */
#include <stdlib.h>

#include "kmip/kmip_ttlv.h"
#include "ttlv_internal.h"

struct kmip_decoder {
    size_t max_message;
    size_t max_items;
    size_t max_string;
    unsigned max_depth;
    ttlv_reader r; /* the last call's cursor and error */
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
    return d->r.err_offset;
}

const char *kmip_decoder_error_detail(const kmip_decoder *d)
{
    return d->detail;
}

kmip_err kmip_decoder_decode(kmip_decoder *d, const uint8_t *data, size_t len, kmip_tree **out)
{
    if (d == NULL || out == NULL || (data == NULL && len != 0))
        return KMIP_E_ARG;
    *out = NULL;
    ttlv_reader *r = &d->r;
    ttlv_reader_init(r, data, d->max_items, d->max_string, d->max_depth, d->detail,
                     sizeof d->detail);
    if (len > d->max_message)
        return ttlv_fail(r, KMIP_E_LIMIT_SIZE, data,
                         "message of %zu bytes exceeds the limit of %zu", len, d->max_message);
    kmip_tree *tree = kmip_tree_new();
    if (tree == NULL)
        return ttlv_fail(r, KMIP_E_NOMEM, data, "out of memory");
    const uint8_t *end = data + len;
    ttlv_hdr h;
    kmip_item *root = NULL;
    kmip_err err = ttlv_next(r, data, end, 0, &h);
    if (err == KMIP_OK)
        err = ttlv_read_tree(r, tree, NULL, &h, 0, &root);
    if (err == KMIP_OK && h.next != end)
        err = ttlv_fail(r, KMIP_E_TRAILING, h.next, "%zu bytes after the top-level item",
                        (size_t)(end - h.next));
    if (err != KMIP_OK) {
        kmip_tree_free(tree);
        return err;
    }
    kmip_tree_link(tree, NULL, root);
    *out = tree;
    return KMIP_OK;
}

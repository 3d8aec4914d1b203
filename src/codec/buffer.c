/* SPDX-License-Identifier: GPL-2.0-only */
#include "buffer.h"

#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"

kmip_err kmip_buf_reserve(kmip_buf *b, size_t extra, size_t limit)
{
    if (extra > limit || b->len > limit - extra)
        return KMIP_E_LIMIT_SIZE;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return KMIP_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *fresh = malloc(cap);
    if (fresh == NULL)
        return KMIP_E_NOMEM;
    if (b->len)
        memcpy(fresh, b->data, b->len);
    kmip_secure_free(b->data, b->cap);
    b->data = fresh;
    b->cap = cap;
    return KMIP_OK;
}

void kmip_buf_append_unchecked(kmip_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void kmip_buf_clear(kmip_buf *b)
{
    kmip_secure_zero(b->data, b->len);
    b->len = 0;
}

void kmip_buf_free(kmip_buf *b)
{
    kmip_secure_free(b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}

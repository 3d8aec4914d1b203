/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: a growable byte buffer for data that may be secret.
 * It grows by allocate, copy, wipe old (never realloc, which could leave a
 * copy of key material in freed memory). */
#ifndef KMIP_CODEC_BUFFER_H
#define KMIP_CODEC_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_errors.h"

typedef struct kmip_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} kmip_buf;

/* Makes room for `extra` more bytes; KMIP_E_NOMEM or KMIP_E_LIMIT_SIZE when
 * len + extra would exceed `limit`. */
kmip_err kmip_buf_reserve(kmip_buf *b, size_t extra, size_t limit);
/* Appends n bytes (reserve first). */
void kmip_buf_append_unchecked(kmip_buf *b, const void *p, size_t n);
/* Wipes the contents, keeps the allocation. */
void kmip_buf_clear(kmip_buf *b);
/* Wipes and frees. */
void kmip_buf_free(kmip_buf *b);

#endif

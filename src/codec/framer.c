/* SPDX-License-Identifier: GPL-2.0-only */
/* Incremental framer: cuts a byte stream into whole TTLV messages.
 *
 * The 8-byte header is collected first and validated (tag, type Structure,
 * length a multiple of 8 and within the limit) before any memory is
 * allocated for the body, so a peer announcing 4 GiB costs nothing. */
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"
#include "wire.h"

struct kmip_framer {
    size_t max_message;
    uint32_t expected_tag;
    uint8_t header[KMIP_HEADER_LEN];
    size_t header_have;
    uint8_t *body; /* header + value, allocated once the header is valid */
    size_t total;  /* bytes of the whole message */
    size_t have;   /* bytes of body filled */
    size_t stream_offset;
    size_t msg_start;
    size_t err_offset;
    kmip_err err;
};

kmip_framer *kmip_framer_new(void)
{
    kmip_framer *f = calloc(1, sizeof *f);
    if (f)
        f->max_message = KMIP_DEFAULT_MAX_MESSAGE;
    return f;
}

void kmip_framer_free(kmip_framer *f)
{
    if (f == NULL)
        return;
    kmip_secure_free(f->body, f->total);
    kmip_secure_zero(f->header, sizeof f->header);
    free(f);
}

void kmip_framer_set_max_message_size(kmip_framer *f, size_t bytes)
{
    f->max_message = bytes;
}

void kmip_framer_set_expected_tag(kmip_framer *f, uint32_t tag)
{
    f->expected_tag = tag;
}

size_t kmip_framer_error_offset(const kmip_framer *f)
{
    return f->err_offset;
}

bool kmip_framer_ready(const kmip_framer *f)
{
    return f->err == KMIP_OK && f->body != NULL && f->have == f->total;
}

size_t kmip_framer_needed(const kmip_framer *f)
{
    if (f->body == NULL)
        return KMIP_HEADER_LEN - f->header_have;
    return f->total - f->have;
}

static kmip_err framer_fail(kmip_framer *f, kmip_err err)
{
    f->err = err;
    f->err_offset = f->msg_start;
    return err;
}

/* Validates the collected header and allocates the message buffer. */
static kmip_err accept_header(kmip_framer *f)
{
    uint32_t tag = wire_get_tag(f->header);
    unsigned type = f->header[3];
    uint32_t len = wire_get_u32(f->header + 4);
    if (!wire_tag_valid(tag))
        return framer_fail(f, KMIP_E_BAD_TAG);
    if (f->expected_tag != 0 && tag != f->expected_tag)
        return framer_fail(f, KMIP_E_UNEXPECTED_TAG);
    if (type != KMIP_TYPE_STRUCTURE)
        return framer_fail(f, KMIP_E_UNEXPECTED_TYPE);
    if (len % 8 != 0)
        return framer_fail(f, KMIP_E_BAD_LENGTH);
    if (f->max_message < KMIP_HEADER_LEN || len > f->max_message - KMIP_HEADER_LEN)
        return framer_fail(f, KMIP_E_LIMIT_SIZE);
    f->total = KMIP_HEADER_LEN + (size_t)len;
    f->body = malloc(f->total);
    if (f->body == NULL)
        return framer_fail(f, KMIP_E_NOMEM);
    memcpy(f->body, f->header, KMIP_HEADER_LEN);
    f->have = KMIP_HEADER_LEN;
    return KMIP_OK;
}

kmip_err kmip_framer_feed(kmip_framer *f, const uint8_t *data, size_t len, size_t *consumed)
{
    if (f == NULL || consumed == NULL || (data == NULL && len != 0))
        return KMIP_E_ARG;
    *consumed = 0;
    if (f->err != KMIP_OK)
        return f->err;
    size_t used = 0;
    if (f->body == NULL) {
        if (f->header_have == 0)
            f->msg_start = f->stream_offset;
        size_t n = KMIP_HEADER_LEN - f->header_have;
        if (n > len)
            n = len;
        memcpy(f->header + f->header_have, data, n);
        f->header_have += n;
        used = n;
        if (f->header_have == KMIP_HEADER_LEN) {
            kmip_err err = accept_header(f);
            if (err != KMIP_OK) {
                *consumed = used;
                f->stream_offset += used;
                return err;
            }
        }
    }
    if (f->body != NULL) {
        size_t n = f->total - f->have;
        if (n > len - used)
            n = len - used;
        memcpy(f->body + f->have, data + used, n);
        f->have += n;
        used += n;
    }
    *consumed = used;
    f->stream_offset += used;
    return KMIP_OK;
}

kmip_err kmip_framer_take(kmip_framer *f, uint8_t **msg, size_t *len)
{
    if (f == NULL || msg == NULL || len == NULL || !kmip_framer_ready(f))
        return KMIP_E_ARG;
    *msg = f->body;
    *len = f->total;
    f->body = NULL;
    f->total = f->have = 0;
    f->header_have = 0;
    kmip_secure_zero(f->header, sizeof f->header);
    return KMIP_OK;
}

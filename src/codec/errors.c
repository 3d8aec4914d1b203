/* SPDX-License-Identifier: GPL-2.0-only */
#include "kmip/kmip_errors.h"
#include <stddef.h>

static const char *const messages[KMIP_E__COUNT] = {
    [KMIP_OK] = "success",
    [KMIP_E_NOMEM] = "out of memory",
    [KMIP_E_ARG] = "invalid argument",
    [KMIP_E_TRUNCATED] = "input ends inside an item",
    [KMIP_E_BAD_TAG] = "tag outside the KMIP ranges 0x42xxxx and 0x54xxxx",
    [KMIP_E_BAD_TYPE] = "unknown item type",
    [KMIP_E_BAD_LENGTH] = "item length not allowed for its type",
    [KMIP_E_OVERRUN] = "item runs past the end of its structure",
    [KMIP_E_PADDING] = "non-zero padding",
    [KMIP_E_BAD_BOOLEAN] = "Boolean value is neither 0 nor 1",
    [KMIP_E_BAD_UTF8] = "Text String is not valid UTF-8",
    [KMIP_E_TRAILING] = "bytes after the top-level item",
    [KMIP_E_LIMIT_SIZE] = "message larger than the configured maximum",
    [KMIP_E_LIMIT_DEPTH] = "structures nested deeper than the configured maximum",
    [KMIP_E_LIMIT_COUNT] = "more items than the configured maximum",
    [KMIP_E_LIMIT_STRING] = "string longer than the configured maximum",
    [KMIP_E_UNEXPECTED_TAG] = "unexpected tag",
    [KMIP_E_UNEXPECTED_TYPE] = "unexpected item type for this tag",
    [KMIP_E_MISSING] = "mandatory field missing",
    [KMIP_E_RANGE] = "value out of range",
    [KMIP_E_UNKNOWN_NAME] = "unknown tag, enumeration or mask name",
    [KMIP_E_SYNTAX] = "malformed text input",
    [KMIP_E_UNSUPPORTED] = "not supported by this library",
};

const char *kmip_strerror(kmip_err err)
{
    if ((unsigned)err >= (unsigned)KMIP_E__COUNT || messages[err] == NULL)
        return "unknown error";
    return messages[err];
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Error codes of the KMIP protocol library (codec, registry, messages, XML).
 *
 * Every fallible function returns a kmip_err. KMIP_OK is zero; every other
 * value names one cause. Library errors are never mixed with a server's
 * Result Status / Result Reason, which the message layer keeps in its own
 * fields. Error state (code, byte offset, message) lives in the handle that
 * produced it (kmip_decoder, kmip_framer, kmip_xml_reader), never in a
 * global. */
#ifndef KMIP_ERRORS_H
#define KMIP_ERRORS_H

#include "kmip_export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kmip_err {
    KMIP_OK = 0,
    KMIP_E_NOMEM,            /* an allocation failed */
    KMIP_E_ARG,              /* a caller passed an invalid argument */
    KMIP_E_TRUNCATED,        /* input ends before the item it announces */
    KMIP_E_BAD_TAG,          /* a tag outside 0x420000-0x42FFFF and 0x540000-0x54FFFF */
    KMIP_E_BAD_TYPE,         /* an item type byte that KMIP does not define */
    KMIP_E_BAD_LENGTH,       /* a fixed-size type with the wrong length, or a
                                Big Integer whose length is not a multiple of 8 */
    KMIP_E_OVERRUN,          /* a child item runs past the end of its structure */
    KMIP_E_PADDING,          /* padding bytes that are not zero */
    KMIP_E_BAD_BOOLEAN,      /* a Boolean that is neither 0 nor 1 */
    KMIP_E_BAD_UTF8,         /* a Text String that is not valid UTF-8 */
    KMIP_E_TRAILING,         /* bytes after the top-level item */
    KMIP_E_LIMIT_SIZE,       /* message larger than the configured maximum */
    KMIP_E_LIMIT_DEPTH,      /* structures nested deeper than the maximum */
    KMIP_E_LIMIT_COUNT,      /* more items than the maximum */
    KMIP_E_LIMIT_STRING,     /* a Text/Byte String or Big Integer longer than the maximum */
    KMIP_E_UNEXPECTED_TAG,   /* an item where another was expected (framer header, message layer) */
    KMIP_E_UNEXPECTED_TYPE,  /* an item of the wrong type for its tag */
    KMIP_E_MISSING,          /* a mandatory field is absent */
    KMIP_E_RANGE,            /* a value out of the range its field allows */
    KMIP_E_UNKNOWN_NAME,     /* a tag, enumeration or mask name the registry does not know */
    KMIP_E_SYNTAX,           /* malformed text input (XML, hex, date-time, number) */
    KMIP_E_UNSUPPORTED,      /* valid KMIP that this version of the library does not handle */
    KMIP_E__COUNT
} kmip_err;

/* A static English description of err; never NULL (unknown codes give
 * "unknown error"). */
KMIP_API const char *kmip_strerror(kmip_err err);

#ifdef __cplusplus
}
#endif
#endif

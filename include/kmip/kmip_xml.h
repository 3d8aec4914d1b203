/* SPDX-License-Identifier: GPL-2.0-only */
/* KMIP XML encoding (KMIP Additional Message Encodings 1.0 section 5, as
 * used by the OASIS test cases): element name = tag name, `type` and
 * `value` attributes, enumeration and mask names, hex Byte Strings and Big
 * Integers, ISO 8601 date-times, `0x...` for values without a name, and
 * `<TTLV tag="0x54xxxx" ...>` for tags without a name.
 *
 * Context rules: in KMIP 1.x an Attribute Value's enumeration or mask names
 * follow the sibling Attribute Name; in 2.x an Attribute Reference's value is
 * a tag name. Both directions use libxml2. */
#ifndef KMIP_XML_H
#define KMIP_XML_H

#include <stddef.h>
#include <stdio.h>

#include "kmip_errors.h"
#include "kmip_export.h"
#include "kmip_ttlv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Print key material. Without it, the values of secret items (Key
 * Material, Key Value, Opaque Data Value, Password, private key components)
 * are replaced by `redacted="N bytes"` and the output cannot be encoded
 * again. */
#define KMIP_XML_SHOW_SECRETS 0x1u

/* Renders item and its descendants as indented KMIP XML. *out is a
 * NUL-terminated malloc'ed string the caller releases with
 * kmip_secure_free(*out, *out_len) (it may hold key material).
 * Errors: KMIP_E_ARG, KMIP_E_NOMEM, KMIP_E_UNSUPPORTED (a Text String with a
 * control character XML 1.0 cannot carry; use kmip_text_write). */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_xml_write(const kmip_item *item, unsigned flags,
                                                 char **out, size_t *out_len);

/* Renders item as indented plain text (one item a line, XML names and value
 * forms) to out, with the same redaction rule. Errors: KMIP_E_ARG,
 * KMIP_E_NOMEM. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_text_write(const kmip_item *item, unsigned flags, FILE *out);

typedef struct kmip_xml_reader kmip_xml_reader;

KMIP_API KMIP_MUST_CHECK kmip_xml_reader *kmip_xml_reader_new(void);
KMIP_API void kmip_xml_reader_free(kmip_xml_reader *r);

/* Parses one item (its root element: a RequestMessage, a ResponseMessage
 * or any single item) into a new tree (*out, caller frees). No network
 * access, no external entities.
 * Errors: KMIP_E_SYNTAX (not well-formed XML, a value that does not parse),
 * KMIP_E_UNKNOWN_NAME (a tag, type, enumeration or mask name the registry
 * does not know), KMIP_E_RANGE (a number too large for its type),
 * KMIP_E_LIMIT_DEPTH, KMIP_E_LIMIT_SIZE, KMIP_E_NOMEM, KMIP_E_ARG; the
 * reader's line and detail describe it. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_xml_read(kmip_xml_reader *r, const char *text, size_t len,
                                                kmip_tree **out);
/* Line of the element where the last error was found (0 if none). */
KMIP_API long kmip_xml_reader_error_line(const kmip_xml_reader *r);
KMIP_API const char *kmip_xml_reader_error_detail(const kmip_xml_reader *r);

#ifdef __cplusplus
}
#endif
#endif

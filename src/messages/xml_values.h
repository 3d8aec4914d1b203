/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: scalar value text forms shared by the XML writer and reader. */
#ifndef KMIP_XML_VALUES_H
#define KMIP_XML_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_registry.h"
#include "kmip/kmip_ttlv.h"

/* Room for any date-time text we produce or accept. */
#define XMLV_DATE_MAX 128


/* ISO 8601 UTC "1970-01-01T00:00:06+00:00"; with micro >= 0 a ".ffffff"
 * fraction is added (Date-Time Extended). A year outside 0000-9999 is
 * written as the plain number (seconds, or microseconds with micro >= 0). */
void xmlv_format_time(int64_t seconds, long micro, char out[XMLV_DATE_MAX]);
/* Accepts "YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM)". */
bool xmlv_parse_time(const char *s, int64_t *seconds, long *micro);

/* Mask names of the set bits (in bit order), unnamed bits as one "0x..."
 * token; "0" for an empty mask. */
void xmlv_format_mask(const kmip_enum_def *m, uint32_t v, char *out, size_t cap);
/* Space-separated mask names and/or numbers, ORed. */
bool xmlv_parse_mask(const kmip_enum_def *m, const char *s, uint32_t *v);

/* Items whose value is secret (key material and private key parts). */
bool xmlv_is_secret(uint32_t tag);

/* The tag whose enumeration/mask names apply to `item`: for a KMIP 1.x
 * Attribute Value it is the tag named by the sibling Attribute Name
 * (`attr_name`, may be NULL); otherwise the item's own tag. */
uint32_t xmlv_value_tag(uint32_t item_tag, const char *attr_name);

/* Parses a decimal or 0x-hex (bit pattern) integer of 32 or 64 bits. */
bool xmlv_parse_int(const char *s, unsigned bits, int64_t *v);
bool xmlv_parse_uint(const char *s, unsigned long long max, unsigned long long *v);

/* Same bit as KMIP_XML_SHOW_SECRETS. */
#define XMLV_SHOW_SECRETS 0x1u

/* The text form of a scalar item's value in a fresh buffer of *cap bytes
 * (release with kmip_secure_free). For a secret item without
 * XMLV_SHOW_SECRETS the text is "N bytes" and *redacted is set. NULL when
 * out of memory. */
char *xmlv_value_text(const kmip_item *it, uint32_t value_tag, unsigned flags, size_t *cap,
                      bool *redacted);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef KMIP_CODEC_UTF8_H
#define KMIP_CODEC_UTF8_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* True when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). On false, *bad is the offset of the
 * first offending byte. */
bool kmip_utf8_valid(const uint8_t *s, size_t len, size_t *bad);
#endif

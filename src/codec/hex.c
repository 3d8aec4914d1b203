/* SPDX-License-Identifier: GPL-2.0-only */
/* The project's one hex (base 16) codec: KMIP XML Byte Strings, the keyring's
 * object names, the CLI's key input and output all go through it, so that
 * the digits accepted and the offsets reported are the same everywhere. */
#include "kmip/kmip_ttlv.h"

void kmip_hex_encode(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15u];
    }
    out[2 * n] = '\0';
}

int kmip_hex_digit(int c, unsigned flags)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (!(flags & KMIP_HEX_LOWER_ONLY) && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_layout_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool kmip_hex_decode(const char *s, size_t len, unsigned flags, uint8_t *out, size_t *out_len,
                     size_t *bad)
{
    size_t n = 0;
    int high = -1;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if ((flags & KMIP_HEX_SKIP_SPACE) && is_layout_space(c))
            continue;
        int v = kmip_hex_digit(c, flags);
        if (v < 0) {
            if (bad)
                *bad = i;
            return false;
        }
        if (high < 0) {
            high = v;
        } else {
            /* n <= i / 2: writing out[n] never overtakes the digits still
             * to be read when out == s (in-place decoding). */
            out[n++] = (uint8_t)(high << 4 | v);
            high = -1;
        }
    }
    if (high >= 0) {
        if (bad)
            *bad = len;
        return false;
    }
    *out_len = n;
    return true;
}

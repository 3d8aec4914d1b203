/* SPDX-License-Identifier: GPL-2.0-only */
#include "utf8.h"

#include <string.h>

/* Length of the sequence starting with byte b, 0 if b cannot start one. */
static size_t seq_len(uint8_t b)
{
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF)
        return 2;
    if (b >= 0xE0 && b <= 0xEF)
        return 3;
    if (b >= 0xF0 && b <= 0xF4)
        return 4;
    return 0;
}

/* The allowed range of the second byte depends on the first (RFC 3629
 * section 4), which is what rules out overlongs and surrogates. */
static bool second_ok(uint8_t first, uint8_t second)
{
    switch (first) {
    case 0xE0:
        return second >= 0xA0 && second <= 0xBF;
    case 0xED:
        return second >= 0x80 && second <= 0x9F;
    case 0xF0:
        return second >= 0x90 && second <= 0xBF;
    case 0xF4:
        return second >= 0x80 && second <= 0x8F;
    default:
        return second >= 0x80 && second <= 0xBF;
    }
}

bool kmip_utf8_valid(const uint8_t *s, size_t len, size_t *bad)
{
    size_t i = 0;
    while (i < len) {
        /* identifiers and names are ASCII: skip 8 such bytes at a time */
        uint64_t word;
        if (len - i >= 8 && (memcpy(&word, s + i, 8), (word & 0x8080808080808080u) == 0)) {
            i += 8;
            continue;
        }
        size_t n = seq_len(s[i]);
        if (n == 0 || n > len - i || (n > 1 && !second_ok(s[i], s[i + 1]))) {
            *bad = i;
            return false;
        }
        for (size_t k = 2; k < n; k++) {
            if ((s[i + k] & 0xC0u) != 0x80u) {
                *bad = i;
                return false;
            }
        }
        i += n;
    }
    return true;
}

/* SPDX-License-Identifier: GPL-2.0-only */
#include "layout.h"
#include "kmip/kmip_ttlv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends the lowercase hex of the string s at *p, leaving room for a NUL. */
static bool put_hex(const char *s, char **p, char *end)
{
    size_t n = strlen(s);
    if (n > (size_t)(end - *p) / 2 || (size_t)(end - *p) - 2 * n < 1)
        return false;
    kmip_hex_encode((const uint8_t *)s, n, *p);
    *p += 2 * n;
    return true;
}

bool krk_layout_encode(krk_key_type type, const char *data_id, const char *auth_id,
                       const char *tag, char *out, size_t cap)
{
    int n = snprintf(out, cap, "v1;%s;", krk_type_name(type));
    if (n < 0 || (size_t)n >= cap)
        return false;
    char *p = out + n, *end = out + cap;
    if (!put_hex(auth_id, &p, end) || end - p < 2)
        return false;
    *p++ = ';';
    if (!put_hex(data_id, &p, end))
        return false;
    *p = '\0';
    if (tag) {
        int t = snprintf(p, (size_t)(end - p), ";%s", tag);
        if (t < 0 || t >= end - p)
            return false;
    }
    return true;
}

/* Decodes len hex digits into a new NUL-terminated string (no NUL bytes).
 * Lowercase only: the names we write are canonical, so "6A" and "6a" must not
 * both name one key. */
static char *unhex(const char *s, size_t len)
{
    if (len % 2 || len / 2 > KRK_MAX_ID_BYTES)
        return NULL;
    char *out = malloc(len / 2 + 1);
    size_t n = 0;
    if (out == NULL)
        return NULL;
    if (!kmip_hex_decode(s, len, KMIP_HEX_LOWER_ONLY, (uint8_t *)out, &n, NULL) ||
        memchr(out, '\0', n) != NULL) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

bool krk_layout_decode(const char *s, size_t len, krk_key_type *type, char **data_id,
                       char **auth_id, const char **tag, size_t *tag_len)
{
    *data_id = *auth_id = NULL;
    if (tag) {
        *tag = NULL;
        *tag_len = 0;
    }
    if (len < 3 || memcmp(s, "v1;", 3) != 0)
        return false;
    const char *end = s + len, *t = s + 3;
    const char *semi1 = memchr(t, ';', (size_t)(end - t));
    if (semi1 == NULL)
        return false;
    char tname[16];
    size_t tl = (size_t)(semi1 - t);
    if (tl == 0 || tl >= sizeof tname)
        return false;
    memcpy(tname, t, tl);
    tname[tl] = '\0';
    const char *a = semi1 + 1;
    const char *semi2 = memchr(a, ';', (size_t)(end - a));
    if (semi2 == NULL || !krk_type_parse(tname, type))
        return false;
    /* hex cannot hold ';': what follows a third one is the write tag */
    const char *d = semi2 + 1;
    const char *semi3 = memchr(d, ';', (size_t)(end - d));
    const char *d_end = semi3 ? semi3 : end;
    if (semi3 && tag) {
        *tag = semi3 + 1;
        *tag_len = (size_t)(end - semi3 - 1);
    }
    *auth_id = unhex(a, (size_t)(semi2 - a));
    *data_id = unhex(d, (size_t)(d_end - d));
    if (*auth_id == NULL || *data_id == NULL || (*data_id)[0] == '\0') {
        free(*auth_id);
        free(*data_id);
        *data_id = *auth_id = NULL;
        return false;
    }
    return true;
}

bool krk_layout_name(const char *data_id, const char *auth_id, char *out, size_t cap)
{
    int n = auth_id[0] ? snprintf(out, cap, "%s:%s", auth_id, data_id)
                       : snprintf(out, cap, "%s", data_id);
    return n >= 0 && (size_t)n < cap;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Text as C strings: the one accessor every layer uses to turn a Text
 * String value (bytes with a length, no NUL) into a bounded C string. */
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"

bool kmip_text_copy(const void *text, size_t len, char *buf, size_t cap)
{
    if (len >= cap)
        return false;
    if (len)
        memcpy(buf, text, len);
    buf[len] = '\0';
    return true;
}

bool kmip_item_text_copy(const kmip_item *it, char *buf, size_t cap)
{
    return it != NULL && it->type == KMIP_TYPE_TEXT_STRING &&
           kmip_text_copy(it->v.bytes.data, it->v.bytes.len, buf, cap);
}

char *kmip_item_text_dup(const kmip_item *it)
{
    if (it == NULL || it->type != KMIP_TYPE_TEXT_STRING)
        return NULL;
    char *s = malloc(it->v.bytes.len + 1);
    if (s != NULL && !kmip_text_copy(it->v.bytes.data, it->v.bytes.len, s, it->v.bytes.len + 1)) {
        free(s); /* cannot happen: the room is len + 1 */
        s = NULL;
    }
    return s;
}

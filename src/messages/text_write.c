/* SPDX-License-Identifier: GPL-2.0-only */
/* TTLV item tree -> indented plain text, one item per line:
 *   UniqueIdentifier (TextString): 1f165d65-cbbd-4bd6-9867-80e0b390acf9
 * The names and value forms are those of the XML encoding. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_registry.h"
#include "kmip/kmip_xml.h"
#include "xml_values.h"

typedef struct text_out {
    FILE *f;
    unsigned flags;
    bool failed;
} text_out;

static void text_item(text_out *o, const kmip_item *it, const char *attr_name, unsigned depth)
{
    if (depth > KMIP_HARD_MAX_DEPTH) {
        o->failed = true;
        return;
    }
    const char *name = kmip_tag_xml_name(it->tag);
    char unknown[16];
    if (name == NULL) {
        snprintf(unknown, sizeof unknown, "0x%06" PRIX32, it->tag);
        name = unknown;
    }
    fprintf(o->f, "%*s%s (%s)", (int)(depth * 2), "", name, kmip_type_name(it->type));
    if (it->type == KMIP_TYPE_STRUCTURE) {
        fputc('\n', o->f);
        char buf[128];
        const char *an =
            kmip_item_text_copy(kmip_item_child(it, KMIP_TAG_ATTRIBUTE_NAME), buf, sizeof buf)
                ? buf
                : NULL;
        for (const kmip_item *c = it->first_child; c && !o->failed; c = c->next)
            text_item(o, c, an, depth + 1);
        return;
    }
    size_t cap;
    bool redacted;
    char *v = xmlv_value_text(it, xmlv_value_tag(it->tag, attr_name), o->flags, &cap, &redacted);
    if (v == NULL) {
        o->failed = true;
        return;
    }
    fprintf(o->f, redacted ? ": [redacted, %s]\n" : ": %s\n", v);
    kmip_secure_free(v, cap);
}

kmip_err kmip_text_write(const kmip_item *item, unsigned flags, FILE *out)
{
    if (item == NULL || out == NULL)
        return KMIP_E_ARG;
    text_out o = {out, flags, false};
    text_item(&o, item, NULL, 0);
    return o.failed ? KMIP_E_NOMEM : KMIP_OK;
}

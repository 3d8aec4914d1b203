/* SPDX-License-Identifier: GPL-2.0-only */
/* TTLV item tree -> KMIP XML text (libxml2's xmlTextWriter does the
 * escaping and indentation). */
#include <inttypes.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_registry.h"
#include "kmip/kmip_xml.h"
#include "xml_values.h"

typedef struct writer {
    xmlTextWriterPtr w;
    unsigned flags;
    int rc;              /* first negative libxml2 result */
    bool unrepresentable; /* a Text String XML 1.0 cannot carry */
} writer;

static void track(writer *wr, int rc)
{
    if (rc < 0 && wr->rc >= 0)
        wr->rc = rc;
}

static void attr(writer *wr, const char *name, const char *value)
{
    track(wr, xmlTextWriterWriteAttribute(wr->w, BAD_CAST name, BAD_CAST value));
}

static void start_element(writer *wr, const kmip_item *it)
{
    const char *name = kmip_tag_xml_name(it->tag);
    track(wr, xmlTextWriterStartElement(wr->w, BAD_CAST(name ? name : "TTLV")));
    if (name == NULL) {
        char tag[16];
        snprintf(tag, sizeof tag, "0x%06" PRIX32, it->tag);
        attr(wr, "tag", tag);
    }
    if (it->type != KMIP_TYPE_STRUCTURE || name == NULL)
        attr(wr, "type", kmip_type_name(it->type));
}

/* XML 1.0 cannot carry control characters other than tab, LF and CR, nor
 * U+FFFE and U+FFFF, not even as character references. */
static bool xml_can_carry(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
        if (s[i] == 0xEF && n - i >= 3 && s[i + 1] == 0xBF && (s[i + 2] == 0xBE || s[i + 2] == 0xBF))
            return false;
    }
    return true;
}

static void write_value(writer *wr, const kmip_item *it, uint32_t value_tag)
{
    if (it->type == KMIP_TYPE_TEXT_STRING && !xml_can_carry(it->v.bytes.data, it->v.bytes.len)) {
        wr->unrepresentable = true;
        track(wr, -1);
        return;
    }
    size_t cap = 0;
    bool redacted = false;
    char *text = xmlv_value_text(it, value_tag, wr->flags, &cap, &redacted);
    if (text == NULL) {
        track(wr, -1);
        return;
    }
    attr(wr, redacted ? "redacted" : "value", text);
    kmip_secure_free(text, cap);
}

/* The text of a structure's Attribute Name child, for 1.x Attribute Value
 * names; NUL-terminated copy in buf, or NULL. */
static const char *attribute_name(const kmip_item *parent, char *buf, size_t cap)
{
    return kmip_item_text_copy(kmip_item_child(parent, KMIP_TAG_ATTRIBUTE_NAME), buf, cap) ? buf
                                                                                         : NULL;
}

static void write_item(writer *wr, const kmip_item *it, const char *attr_name, unsigned depth)
{
    if (depth > KMIP_HARD_MAX_DEPTH) {
        track(wr, -1);
        return;
    }
    start_element(wr, it);
    if (it->type == KMIP_TYPE_STRUCTURE) {
        char name[128];
        const char *an = attribute_name(it, name, sizeof name);
        for (const kmip_item *c = it->first_child; c && wr->rc >= 0; c = c->next)
            write_item(wr, c, an, depth + 1);
    } else {
        write_value(wr, it, xmlv_value_tag(it->tag, attr_name));
    }
    track(wr, xmlTextWriterEndElement(wr->w));
}

kmip_err kmip_xml_write(const kmip_item *item, unsigned flags, char **out, size_t *out_len)
{
    if (item == NULL || out == NULL || out_len == NULL)
        return KMIP_E_ARG;
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (w == NULL) {
        xmlBufferFree(buf);
        return KMIP_E_NOMEM;
    }
    writer wr = {w, flags, 0, false};
    track(&wr, xmlTextWriterSetIndent(w, 1));
    track(&wr, xmlTextWriterSetIndentString(w, BAD_CAST "  "));
    write_item(&wr, item, NULL, 0);
    track(&wr, xmlTextWriterFlush(w));
    xmlFreeTextWriter(w);
    kmip_err err = KMIP_OK;
    if (wr.rc < 0) {
        err = wr.unrepresentable ? KMIP_E_UNSUPPORTED : KMIP_E_NOMEM;
    } else {
        size_t n = (size_t)xmlBufferLength(buf);
        *out = malloc(n + 1);
        if (*out == NULL) {
            err = KMIP_E_NOMEM;
        } else {
            memcpy(*out, xmlBufferContent(buf), n);
            (*out)[n] = '\0';
            *out_len = n;
        }
    }
    kmip_secure_zero(buf->content, buf->size);
    xmlBufferFree(buf);
    return err;
}

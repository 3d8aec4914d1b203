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
    int rc; /* first negative libxml2 result */
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

static void write_enum(writer *wr, const kmip_item *it, uint32_t value_tag)
{
    char buf[16];
    const char *name = NULL;
    if (it->tag == KMIP_TAG_ATTRIBUTE_REFERENCE) {
        name = kmip_tag_xml_name(it->v.u32); /* 2.x: the value is a tag */
    } else {
        const kmip_value_def *v = kmip_enum_value(kmip_enum_for_tag(value_tag), it->v.u32);
        name = v ? v->xml_name : NULL;
    }
    if (name == NULL) {
        snprintf(buf, sizeof buf, "0x%08" PRIX32, it->v.u32);
        name = buf;
    }
    attr(wr, "value", name);
}

static void write_bytes(writer *wr, const kmip_item *it)
{
    if (xmlv_is_secret(it->tag) && !(wr->flags & KMIP_XML_SHOW_SECRETS)) {
        char buf[40];
        snprintf(buf, sizeof buf, "%zu bytes", it->v.bytes.len);
        attr(wr, "redacted", buf);
        return;
    }
    if (it->v.bytes.len > (SIZE_MAX - 1) / 2) {
        track(wr, -1);
        return;
    }
    size_t cap = it->v.bytes.len * 2 + 1;
    char *hex = malloc(cap);
    if (hex == NULL) {
        track(wr, -1);
        return;
    }
    xmlv_hex(it->v.bytes.data, it->v.bytes.len, hex);
    attr(wr, "value", hex);
    kmip_secure_free(hex, cap);
}

static void write_value(writer *wr, const kmip_item *it, uint32_t value_tag)
{
    char buf[600];
    switch (it->type) {
    case KMIP_TYPE_INTEGER: {
        const kmip_enum_def *mask = kmip_mask_for_tag(value_tag);
        if (mask)
            xmlv_format_mask(mask, (uint32_t)it->v.i32, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "%" PRId32, it->v.i32);
        break;
    }
    case KMIP_TYPE_LONG_INTEGER:
        snprintf(buf, sizeof buf, "%" PRId64, it->v.i64);
        break;
    case KMIP_TYPE_INTERVAL:
        snprintf(buf, sizeof buf, "%" PRIu32, it->v.u32);
        break;
    case KMIP_TYPE_ENUMERATION:
        write_enum(wr, it, value_tag);
        return;
    case KMIP_TYPE_BOOLEAN:
        snprintf(buf, sizeof buf, "%s", it->v.boolean ? "true" : "false");
        break;
    case KMIP_TYPE_DATE_TIME:
        xmlv_format_time(it->v.i64, -1, buf);
        break;
    case KMIP_TYPE_DATE_TIME_EXTENDED: {
        int64_t s = it->v.i64 / 1000000, us = it->v.i64 % 1000000;
        if (us < 0) {
            us += 1000000;
            s--;
        }
        xmlv_format_time(s, (long)us, buf);
        break;
    }
    case KMIP_TYPE_TEXT_STRING: {
        if (xmlv_is_secret(it->tag) && !(wr->flags & KMIP_XML_SHOW_SECRETS)) {
            snprintf(buf, sizeof buf, "%zu bytes", it->v.bytes.len);
            attr(wr, "redacted", buf);
            return;
        }
        /* the value is not NUL-terminated in the tree */
        size_t n = it->v.bytes.len;
        char *s = malloc(n + 1);
        if (s == NULL) {
            track(wr, -1);
            return;
        }
        memcpy(s, it->v.bytes.data, n);
        s[n] = '\0';
        attr(wr, "value", s);
        kmip_secure_free(s, n + 1);
        return;
    }
    default: /* Byte String, Big Integer */
        write_bytes(wr, it);
        return;
    }
    attr(wr, "value", buf);
}

/* The text of a structure's Attribute Name child, for 1.x Attribute Value
 * names; NUL-terminated copy in buf, or NULL. */
static const char *attribute_name(const kmip_item *parent, char *buf, size_t cap)
{
    const kmip_item *n = kmip_item_child(parent, KMIP_TAG_ATTRIBUTE_NAME);
    if (n == NULL || n->type != KMIP_TYPE_TEXT_STRING || n->v.bytes.len >= cap)
        return NULL;
    memcpy(buf, n->v.bytes.data, n->v.bytes.len);
    buf[n->v.bytes.len] = '\0';
    return buf;
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
    writer wr = {w, flags, 0};
    track(&wr, xmlTextWriterSetIndent(w, 1));
    track(&wr, xmlTextWriterSetIndentString(w, BAD_CAST "  "));
    write_item(&wr, item, NULL, 0);
    track(&wr, xmlTextWriterFlush(w));
    xmlFreeTextWriter(w);
    kmip_err err = KMIP_OK;
    if (wr.rc < 0) {
        err = KMIP_E_NOMEM;
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

/* SPDX-License-Identifier: GPL-2.0-only */
/* KMIP XML text -> TTLV item tree. libxml2 parses (no network, no external
 * entities); this file maps elements to tags and value text to values. */
#include <inttypes.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_registry.h"
#include "kmip/kmip_xml.h"
#include "xml_values.h"

/* Text input larger than this is refused before parsing. */
#define XML_MAX_INPUT ((size_t)16 << 20)

struct kmip_xml_reader {
    long line;
    char detail[256];
    kmip_tree *tree;
};

kmip_xml_reader *kmip_xml_reader_new(void)
{
    return calloc(1, sizeof(kmip_xml_reader));
}

void kmip_xml_reader_free(kmip_xml_reader *r)
{
    free(r);
}

long kmip_xml_reader_error_line(const kmip_xml_reader *r)
{
    return r->line;
}

const char *kmip_xml_reader_error_detail(const kmip_xml_reader *r)
{
    return r->detail;
}

__attribute__((format(printf, 4, 5))) static kmip_err fail(kmip_xml_reader *r, kmip_err err,
                                                           const xmlNode *at, const char *fmt, ...)
{
    r->line = at ? xmlGetLineNo(at) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    return err;
}

/* An attribute's value as a C string (libxml2 memory: free with xmlFree). */
static char *get_attr(const xmlNode *n, const char *name)
{
    return (char *)xmlGetProp(n, BAD_CAST name);
}

static kmip_err element_tag(kmip_xml_reader *r, const xmlNode *n, uint32_t *tag)
{
    const char *name = (const char *)n->name;
    if (strcmp(name, "TTLV") != 0) {
        if (!kmip_tag_by_xml_name(name, tag))
            return fail(r, KMIP_E_UNKNOWN_NAME, n, "<%s> is not a KMIP tag name", name);
        return KMIP_OK;
    }
    char *t = get_attr(n, "tag");
    unsigned long long v = 0;
    bool ok = t && xmlv_parse_uint(t, 0xFFFFFF, &v) && ((v >> 16) == 0x42 || (v >> 16) == 0x54);
    xmlFree(t);
    if (!ok)
        return fail(r, KMIP_E_SYNTAX, n, "<TTLV> needs a tag=\"0x42xxxx\" or \"0x54xxxx\" attribute");
    *tag = (uint32_t)v;
    return KMIP_OK;
}

static kmip_err parse_enum(kmip_xml_reader *r, const xmlNode *n, kmip_item *it, uint32_t vtag,
                           const char *s)
{
    unsigned long long num;
    if (xmlv_parse_uint(s, UINT32_MAX, &num) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        it->v.u32 = (uint32_t)num;
        return KMIP_OK;
    }
    if (it->tag == KMIP_TAG_ATTRIBUTE_REFERENCE) {
        if (kmip_tag_by_xml_name(s, &it->v.u32))
            return KMIP_OK;
        return fail(r, KMIP_E_UNKNOWN_NAME, n, "AttributeReference \"%s\" is not a tag name", s);
    }
    const kmip_enum_def *e = kmip_enum_for_tag(vtag);
    if (e && kmip_enum_value_by_xml_name(e, s, &it->v.u32))
        return KMIP_OK;
    return fail(r, KMIP_E_UNKNOWN_NAME, n, "\"%s\" is not a value of enumeration %s", s,
                e ? e->name : "(none for this tag)");
}

static kmip_err parse_bytes(kmip_xml_reader *r, const xmlNode *n, kmip_item *it, const char *s)
{
    size_t cap = strlen(s) / 2 + 1, len = 0;
    uint8_t *bytes = malloc(cap);
    if (bytes == NULL)
        return fail(r, KMIP_E_NOMEM, n, "out of memory");
    kmip_err err = KMIP_OK;
    if (!kmip_hex_decode(s, strlen(s), 0, bytes, &len, NULL))
        err = fail(r, KMIP_E_SYNTAX, n, "value is not an even number of hex digits");
    else if (kmip_item_set_bytes(r->tree, it, bytes, len) != KMIP_OK)
        err = fail(r, KMIP_E_NOMEM, n, "out of memory");
    kmip_secure_free(bytes, cap);
    return err;
}

static kmip_err parse_time(kmip_xml_reader *r, const xmlNode *n, kmip_item *it, const char *s)
{
    int64_t secs;
    long micro;
    if (!xmlv_parse_time(s, &secs, &micro)) {
        int64_t v;
        if (xmlv_parse_int(s, 64, &v)) { /* a raw number is accepted too */
            it->v.i64 = v;
            return KMIP_OK;
        }
        return fail(r, KMIP_E_SYNTAX, n, "\"%s\" is not an ISO 8601 date-time", s);
    }
    it->v.i64 = it->type == KMIP_TYPE_DATE_TIME ? secs : secs * 1000000 + micro;
    return KMIP_OK;
}

static kmip_err parse_value(kmip_xml_reader *r, const xmlNode *n, kmip_item *it, uint32_t vtag,
                            const char *s)
{
    int64_t v;
    unsigned long long u;
    switch (it->type) {
    case KMIP_TYPE_INTEGER: {
        const kmip_enum_def *mask = kmip_mask_for_tag(vtag);
        uint32_t m;
        if (xmlv_parse_int(s, 32, &v)) {
            it->v.i32 = (int32_t)v;
        } else if (xmlv_parse_mask(mask, s, &m)) {
            it->v.i32 = (int32_t)m;
        } else {
            return fail(r, KMIP_E_SYNTAX, n, "\"%s\" is not a 32-bit integer%s", s,
                        mask ? " or mask names" : "");
        }
        return KMIP_OK;
    }
    case KMIP_TYPE_LONG_INTEGER:
        if (!xmlv_parse_int(s, 64, &v))
            return fail(r, KMIP_E_SYNTAX, n, "\"%s\" is not a 64-bit integer", s);
        it->v.i64 = v;
        return KMIP_OK;
    case KMIP_TYPE_INTERVAL:
        if (!xmlv_parse_uint(s, UINT32_MAX, &u))
            return fail(r, KMIP_E_SYNTAX, n, "\"%s\" is not an interval in seconds", s);
        it->v.u32 = (uint32_t)u;
        return KMIP_OK;
    case KMIP_TYPE_ENUMERATION:
        return parse_enum(r, n, it, vtag, s);
    case KMIP_TYPE_BOOLEAN:
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
            return fail(r, KMIP_E_SYNTAX, n, "Boolean value must be true or false, not \"%s\"", s);
        it->v.boolean = s[0] == 't';
        return KMIP_OK;
    case KMIP_TYPE_DATE_TIME:
    case KMIP_TYPE_DATE_TIME_EXTENDED:
        return parse_time(r, n, it, s);
    case KMIP_TYPE_TEXT_STRING:
        if (kmip_item_set_bytes(r->tree, it, s, strlen(s)) != KMIP_OK)
            return fail(r, KMIP_E_NOMEM, n, "out of memory");
        return KMIP_OK;
    default:
        return parse_bytes(r, n, it, s);
    }
}

/* The value of the Attribute Name child element of a structure, if any. */
static char *attribute_name_of(const xmlNode *n)
{
    for (const xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "AttributeName") == 0)
            return get_attr(c, "value");
    return NULL;
}

static kmip_err read_element(kmip_xml_reader *r, const xmlNode *n, kmip_item *parent,
                             const char *attr_name, unsigned depth);

static kmip_err read_children(kmip_xml_reader *r, const xmlNode *n, kmip_item *it, unsigned depth)
{
    char *an = attribute_name_of(n);
    kmip_err err = KMIP_OK;
    for (const xmlNode *c = n->children; c && err == KMIP_OK; c = c->next) {
        if (c->type == XML_ELEMENT_NODE) {
            err = read_element(r, c, it, an, depth + 1);
        } else if (c->type == XML_TEXT_NODE && !xmlIsBlankNode(c)) {
            err = fail(r, KMIP_E_SYNTAX, c, "unexpected text inside <%s>", (const char *)n->name);
        }
    }
    xmlFree(an);
    return err;
}

static kmip_err read_element(kmip_xml_reader *r, const xmlNode *n, kmip_item *parent,
                             const char *attr_name, unsigned depth)
{
    if (depth >= KMIP_ENCODER_MAX_DEPTH)
        return fail(r, KMIP_E_LIMIT_DEPTH, n, "elements nested deeper than %u",
                    KMIP_ENCODER_MAX_DEPTH);
    uint32_t tag;
    kmip_err err = element_tag(r, n, &tag);
    if (err != KMIP_OK)
        return err;
    char *type_s = get_attr(n, "type");
    kmip_type type = KMIP_TYPE_STRUCTURE;
    bool ok = type_s == NULL || kmip_type_from_name(type_s, &type);
    if (!ok)
        err = fail(r, KMIP_E_UNKNOWN_NAME, n, "<%s> has unknown type \"%s\"",
                   (const char *)n->name, type_s);
    xmlFree(type_s);
    if (err != KMIP_OK)
        return err;
    kmip_item *it = kmip_tree_add(r->tree, parent, tag, type);
    if (it == NULL)
        return fail(r, KMIP_E_NOMEM, n, "out of memory");
    if (type == KMIP_TYPE_STRUCTURE)
        return read_children(r, n, it, depth);
    char *value = get_attr(n, "value");
    if (value == NULL) {
        char *redacted = get_attr(n, "redacted");
        err = fail(r, KMIP_E_MISSING, n,
                   redacted ? "<%s> was redacted when printed; print it with secrets shown"
                            : "<%s> has no value attribute",
                   (const char *)n->name);
        xmlFree(redacted);
        return err;
    }
    err = parse_value(r, n, it, xmlv_value_tag(tag, attr_name), value);
    kmip_secure_zero(value, strlen(value));
    xmlFree(value);
    return err;
}

kmip_err kmip_xml_read(kmip_xml_reader *r, const char *text, size_t len, kmip_tree **out)
{
    if (r == NULL || out == NULL || (text == NULL && len))
        return KMIP_E_ARG;
    *out = NULL;
    r->line = 0;
    r->detail[0] = '\0';
    if (len > XML_MAX_INPUT || len > INT32_MAX)
        return fail(r, KMIP_E_LIMIT_SIZE, NULL, "XML input of %zu bytes exceeds %zu", len,
                    XML_MAX_INPUT);
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (ctxt == NULL)
        return fail(r, KMIP_E_NOMEM, NULL, "out of memory");
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    kmip_err err = KMIP_OK;
    xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (root == NULL) {
        const xmlError *e = xmlCtxtGetLastError(ctxt);
        r->line = e ? e->line : 0;
        snprintf(r->detail, sizeof r->detail, "not well-formed XML: %s",
                 e && e->message ? e->message : "no root element");
        size_t n = strlen(r->detail);
        if (n && r->detail[n - 1] == '\n')
            r->detail[n - 1] = '\0';
        err = KMIP_E_SYNTAX;
    } else {
        r->tree = kmip_tree_new();
        if (r->tree == NULL)
            err = fail(r, KMIP_E_NOMEM, NULL, "out of memory");
        else
            err = read_element(r, root, NULL, NULL, 0);
        if (err == KMIP_OK)
            *out = r->tree;
        else
            kmip_tree_free(r->tree);
        r->tree = NULL;
    }
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return err;
}

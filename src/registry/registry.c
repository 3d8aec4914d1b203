/* SPDX-License-Identifier: GPL-2.0-only */
/* Lookups over the generated registry tables: binary searches, no state. */
#include <stdlib.h>
#include <string.h>

#include "registry_data.h"

/* The one binary search: the index of the first of count sorted entries
 * that is not below the one sought (below(ctx, i): entry i sorts before
 * it), count when there is none. The first of equal entries, so a lookup
 * finds the same entry whatever the table's size. */
static size_t lower_bound(size_t count, bool (*below)(const void *ctx, size_t i), const void *ctx)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (below(ctx, mid))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool tag_below(const void *ctx, size_t i)
{
    return kmip_reg_tags[i].tag < *(const uint32_t *)ctx;
}

static const kmip_tag_def *tag_def(uint32_t tag)
{
    size_t i = lower_bound(kmip_reg_tag_count, tag_below, &tag);
    return i < kmip_reg_tag_count && kmip_reg_tags[i].tag == tag ? &kmip_reg_tags[i] : NULL;
}

const char *kmip_tag_name(uint32_t tag)
{
    const kmip_tag_def *d = tag_def(tag);
    return d ? d->name : NULL;
}

const char *kmip_tag_xml_name(uint32_t tag)
{
    const kmip_tag_def *d = tag_def(tag);
    return d ? d->xml_name : NULL;
}

/* A name sought in an index of the tags sorted by name (strcmp order). */
typedef struct name_in_index {
    const unsigned short *index;
    bool xml;
    const char *name;
} name_in_index;

static const char *indexed_name(const name_in_index *n, size_t i)
{
    const kmip_tag_def *d = &kmip_reg_tags[n->index[i]];
    return n->xml ? d->xml_name : d->name;
}

static bool name_below(const void *ctx, size_t i)
{
    const name_in_index *n = ctx;
    return strcmp(indexed_name(n, i), n->name) < 0;
}

static bool tag_by_index(const unsigned short *index, bool xml, const char *name, uint32_t *tag)
{
    name_in_index n = {index, xml, name};
    size_t i = lower_bound(kmip_reg_tag_count, name_below, &n);
    if (i == kmip_reg_tag_count || strcmp(indexed_name(&n, i), name) != 0)
        return false;
    *tag = kmip_reg_tags[index[i]].tag;
    return true;
}

bool kmip_tag_by_xml_name(const char *xml_name, uint32_t *tag)
{
    return xml_name && tag && tag_by_index(kmip_reg_tags_by_xml, true, xml_name, tag);
}

bool kmip_tag_by_name(const char *name, uint32_t *tag)
{
    return name && tag && tag_by_index(kmip_reg_tags_by_name, false, name, tag);
}

typedef struct tag_in_sets {
    const kmip_tag_set *sets;
    uint32_t tag;
} tag_in_sets;

static bool set_below(const void *ctx, size_t i)
{
    const tag_in_sets *t = ctx;
    return t->sets[i].tag < t->tag;
}

static const kmip_enum_def *set_for_tag(const kmip_tag_set *sets, size_t count,
                                        const kmip_enum_def *defs, uint32_t tag)
{
    tag_in_sets t = {sets, tag};
    size_t i = lower_bound(count, set_below, &t);
    return i < count && sets[i].tag == tag ? &defs[sets[i].set] : NULL;
}

const kmip_enum_def *kmip_enum_for_tag(uint32_t tag)
{
    return set_for_tag(kmip_reg_enums_by_tag, kmip_reg_enums_by_tag_count, kmip_reg_enums, tag);
}

const kmip_enum_def *kmip_mask_for_tag(uint32_t tag)
{
    return set_for_tag(kmip_reg_masks_by_tag, kmip_reg_masks_by_tag_count, kmip_reg_masks, tag);
}

typedef struct value_in_enum {
    const kmip_enum_def *e;
    uint32_t value;
    const char *xml_name;
} value_in_enum;

static bool value_below(const void *ctx, size_t i)
{
    const value_in_enum *v = ctx;
    return v->e->values[i].value < v->value;
}

static bool alias_below(const void *ctx, size_t i)
{
    const value_in_enum *v = ctx;
    return strcmp(v->e->aliases[i].xml_name, v->xml_name) < 0;
}

const kmip_value_def *kmip_enum_value(const kmip_enum_def *e, uint32_t value)
{
    if (e == NULL)
        return NULL;
    value_in_enum v = {e, value, NULL};
    size_t i = lower_bound(e->count, value_below, &v);
    return i < e->count && e->values[i].value == value ? &e->values[i] : NULL;
}

bool kmip_enum_value_by_xml_name(const kmip_enum_def *e, const char *xml_name, uint32_t *value)
{
    if (e == NULL || xml_name == NULL || value == NULL)
        return false;
    value_in_enum v = {e, 0, xml_name};
    size_t i = lower_bound(e->alias_count, alias_below, &v);
    if (i == e->alias_count || strcmp(e->aliases[i].xml_name, xml_name) != 0)
        return false;
    *value = e->aliases[i].value;
    return true;
}

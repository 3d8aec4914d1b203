/* SPDX-License-Identifier: GPL-2.0-only */
/* Lookups over the generated registry tables: binary searches, no state. */
#include <stdlib.h>
#include <string.h>

#include "registry_data.h"

static const kmip_tag_def *tag_def(uint32_t tag)
{
    size_t lo = 0, hi = kmip_reg_tag_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (kmip_reg_tags[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < kmip_reg_tag_count && kmip_reg_tags[lo].tag == tag)
        return &kmip_reg_tags[lo];
    return NULL;
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

/* Binary search of an index sorted by a name (strcmp order). */
static bool tag_by_index(const unsigned short *index, bool xml, const char *name, uint32_t *tag)
{
    size_t lo = 0, hi = kmip_reg_tag_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const kmip_tag_def *d = &kmip_reg_tags[index[mid]];
        int c = strcmp(xml ? d->xml_name : d->name, name);
        if (c == 0) {
            *tag = d->tag;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

bool kmip_tag_by_xml_name(const char *xml_name, uint32_t *tag)
{
    return xml_name && tag && tag_by_index(kmip_reg_tags_by_xml, true, xml_name, tag);
}

bool kmip_tag_by_name(const char *name, uint32_t *tag)
{
    return name && tag && tag_by_index(kmip_reg_tags_by_name, false, name, tag);
}

static const kmip_enum_def *set_for_tag(const kmip_tag_set *sets, size_t count,
                                        const kmip_enum_def *defs, uint32_t tag)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sets[mid].tag < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && sets[lo].tag == tag ? &defs[sets[lo].set] : NULL;
}

const kmip_enum_def *kmip_enum_for_tag(uint32_t tag)
{
    return set_for_tag(kmip_reg_enums_by_tag, kmip_reg_enums_by_tag_count, kmip_reg_enums, tag);
}

const kmip_enum_def *kmip_mask_for_tag(uint32_t tag)
{
    return set_for_tag(kmip_reg_masks_by_tag, kmip_reg_masks_by_tag_count, kmip_reg_masks, tag);
}

const kmip_value_def *kmip_enum_value(const kmip_enum_def *e, uint32_t value)
{
    if (e == NULL)
        return NULL;
    size_t lo = 0, hi = e->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->values[mid].value < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < e->count && e->values[lo].value == value ? &e->values[lo] : NULL;
}

bool kmip_enum_value_by_xml_name(const kmip_enum_def *e, const char *xml_name, uint32_t *value)
{
    if (e == NULL || xml_name == NULL || value == NULL)
        return false;
    size_t lo = 0, hi = e->alias_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e->aliases[mid].xml_name, xml_name);
        if (c == 0) {
            *value = e->aliases[mid].value;
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

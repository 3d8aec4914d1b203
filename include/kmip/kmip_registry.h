/* SPDX-License-Identifier: GPL-2.0-only */
/* KMIP tag, enumeration and mask registry, generated at build time from the
 * KMIP 1.4 tables, the 2.0 additions and our 2.1 additions
 * (src/registry/ JSON files). Gives names both ways for text rendering.
 * All returned pointers are static; lookups are binary searches. */
#ifndef KMIP_REGISTRY_H
#define KMIP_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip_export.h"
#include <kmip/kmip_tags.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kmip_value_def {
    uint32_t value;
    const char *name;     /* as the specification writes it: "Symmetric Key" */
    const char *xml_name; /* KMIP XML form: "SymmetricKey" */
} kmip_value_def;

typedef struct kmip_alias_def {
    const char *xml_name;
    uint32_t value;
} kmip_alias_def;

/* An enumeration or a mask: values sorted by value, aliases (every XML name
 * ever given to a value, 1.4 and 2.x spellings) sorted by name. */
typedef struct kmip_enum_def {
    const char *name;
    const kmip_value_def *values;
    size_t count;
    const kmip_alias_def *aliases;
    size_t alias_count;
} kmip_enum_def;

/* Specification name of a tag ("Unique Identifier"), NULL when unknown. */
KMIP_API const char *kmip_tag_name(uint32_t tag);
/* XML element name of a tag ("UniqueIdentifier"), NULL when unknown. */
KMIP_API const char *kmip_tag_xml_name(uint32_t tag);
KMIP_API bool kmip_tag_by_xml_name(const char *xml_name, uint32_t *tag);
/* By specification name: how KMIP 1.x Attribute Names refer to attributes. */
KMIP_API bool kmip_tag_by_name(const char *name, uint32_t *tag);

/* The enumeration whose values an item with this tag carries, or NULL. */
KMIP_API const kmip_enum_def *kmip_enum_for_tag(uint32_t tag);
/* The mask whose bits an Integer item with this tag carries, or NULL. */
KMIP_API const kmip_enum_def *kmip_mask_for_tag(uint32_t tag);
KMIP_API const kmip_value_def *kmip_enum_value(const kmip_enum_def *e, uint32_t value);
KMIP_API bool kmip_enum_value_by_xml_name(const kmip_enum_def *e, const char *xml_name,
                                          uint32_t *value);

#ifdef __cplusplus
}
#endif
#endif

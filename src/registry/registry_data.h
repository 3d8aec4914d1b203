/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: shapes of the generated registry tables. */
#ifndef KMIP_REGISTRY_DATA_H
#define KMIP_REGISTRY_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_registry.h"

typedef struct kmip_tag_def {
    uint32_t tag;
    const char *name;
    const char *xml_name;
} kmip_tag_def;

typedef struct kmip_tag_set {
    uint32_t tag;
    unsigned set; /* index into kmip_reg_enums or kmip_reg_masks */
} kmip_tag_set;

extern const kmip_tag_def kmip_reg_tags[];
extern const size_t kmip_reg_tag_count;
extern const unsigned short kmip_reg_tags_by_xml[];
extern const unsigned short kmip_reg_tags_by_name[];
extern const kmip_enum_def kmip_reg_enums[];
extern const kmip_tag_set kmip_reg_enums_by_tag[];
extern const size_t kmip_reg_enums_by_tag_count;
extern const kmip_enum_def kmip_reg_masks[];
extern const kmip_tag_set kmip_reg_masks_by_tag[];
extern const size_t kmip_reg_masks_by_tag_count;

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Item type names as used by the KMIP XML encoding (the "type" attribute). */
#include <string.h>

#include "kmip/kmip_ttlv.h"

static const char *const type_names[] = {
    NULL,           "Structure",   "Integer",    "LongInteger", "BigInteger", "Enumeration",
    "Boolean",      "TextString",  "ByteString", "DateTime",    "Interval",   "DateTimeExtended",
};

const char *kmip_type_name(unsigned type)
{
    if (type >= sizeof type_names / sizeof type_names[0])
        return NULL;
    return type_names[type];
}

bool kmip_type_from_name(const char *name, kmip_type *type)
{
    for (unsigned i = 1; i < sizeof type_names / sizeof type_names[0]; i++) {
        if (strcmp(name, type_names[i]) == 0) {
            *type = (kmip_type)i;
            return true;
        }
    }
    return false;
}

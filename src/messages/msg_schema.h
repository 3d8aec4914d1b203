/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the typed message layer is driven by tables. Each KMIP
 * structure the layer models is described by a struct_desc: its fields in
 * specification order, each with a tag, a kind, where it lives in the C
 * struct, and the protocol versions that define it. One generic decoder and
 * one generic encoder (msg_decode.c, msg_encode.c) walk these tables, so an operation costs
 * a table, not a pair of hand-written functions. */
#ifndef KMIP_MSG_SCHEMA_H
#define KMIP_MSG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_message.h"

typedef enum field_kind {
    K_INT,       /* int32_t */
    K_LONG,      /* int64_t */
    K_ENUM,      /* uint32_t */
    K_BOOL,      /* bool */
    K_TEXT,      /* kmip_bytes, Text String */
    K_BYTES,     /* kmip_bytes, Byte String */
    K_DATETIME,  /* int64_t seconds */
    K_UID,       /* kmip_uid: Text String or (2.x) Enumeration */
    K_ITEM,      /* const kmip_item *, any type, carried as is */
    K_STRUCT,    /* an inline struct described by `sub` */
    K_ATTR1,     /* one 1.x Attribute structure, appended to a kmip_attr_list */
    K_TEMPLATE,  /* a 1.x Template-Attribute: its Attributes go to a kmip_attr_list */
    K_ATTRS2,    /* a 2.x Attributes structure: each child is an attribute */
    K_ATTR_WRAP, /* a 2.x New/Current Attribute: one attribute inside */
    K_PAYLOAD    /* a batch item's payload, typed by its Operation */
} field_kind;

#define F_REQ 0x1u /* always encoded; decoding notes its absence */
#define F_REP 0x2u /* repeated: array at offset, size_t count at aux */
#define F_MSG 0x4u /* mandatory for decoding the message at all */
#define F_BYTAG 0x8u /* a slot shared by several tags: encoded by the field whose tag the item has */

#define F_VER 0x10u /* defined by some versions only (min_ver or max_ver set) */

#define NO_AUX SIZE_MAX

/* How the encoder knows that a field is there (derived from kind, flags and
 * aux by the table macros, so the walk tests one thing per field). */
enum field_presence {
    P_ALWAYS, /* written always (mandatory fields, payloads, attribute lists) */
    P_FLAG,   /* the bool has_ flag at aux */
    P_ITEM,   /* the const kmip_item * at offset is not NULL */
    P_REP     /* repeated: count at aux */
};
#define FIELD_PRESENCE(k, fl, a)                                                                   \
    ((fl) & F_REP ? P_REP : (k) == K_PAYLOAD ? P_ALWAYS : (a) != NO_AUX ? P_FLAG                   \
                                                      : (k) == K_ITEM ? P_ITEM : P_ALWAYS)

typedef struct struct_desc struct_desc;

typedef struct field_desc {
    uint32_t tag;
    uint8_t kind;
    uint8_t flags;
    uint8_t presence; /* enum field_presence */
    uint16_t min_ver; /* KMIP_VERSION; 0 = since 1.0 */
    uint16_t max_ver; /* KMIP_VERSION; 0 = still defined */
    size_t offset;
    size_t aux; /* has_ flag (bool) of an optional field, count of a repeated one */
    const struct_desc *sub;
} field_desc;

/* No described structure has more fields than this (DESC in msg_schema.c
 * refuses to compile one). */
#define MSG_MAX_FIELDS 32
#define MSG_TAG_SLOTS 64u /* the lookup below hashes a tag's low 6 bits */

/* What the walks need of a table, derived from it once (msg_schema_init)
 * so that they do not recompute it per message: the table stays the one
 * source of truth. */
typedef struct desc_cache {
    uint32_t required;            /* fields with F_REQ or F_MSG, bit i for field i */
    uint32_t versioned;           /* fields with F_VER, bit i for field i */
    uint8_t slot[MSG_TAG_SLOTS];  /* tag & 63 -> first field of that hash, + 1 (0: none) */
    uint8_t chain[MSG_MAX_FIELDS]; /* the next field of the same hash, + 1 */
    /* fields from i on that share field i's item slot (F_BYTAG: the managed
     * object's other kinds): when the slot is empty the encoder skips them
     * all at once */
    uint8_t run[MSG_MAX_FIELDS];
    uint8_t dop[MSG_MAX_FIELDS]; /* how the decoder stores field i (enum decode_op) */
    uint8_t eop[MSG_MAX_FIELDS]; /* how the encoder writes field i (enum encode_op) */
    uint8_t etype[MSG_MAX_FIELDS]; /* the item type of a scalar field */
    bool done;
} desc_cache;

/* How the decoder stores a single (not repeated) field: the kind and the
 * way its presence is recorded in one switch. D_HAS: a has_ flag at aux. */
enum decode_op {
    D_GENERIC, /* repeated fields, attribute lists, payloads: the general path */
    D_U32,     /* K_INT, K_ENUM */
    D_U64,     /* K_LONG, K_DATETIME */
    D_BOOL,
    D_BYTES, /* K_TEXT, K_BYTES */
    D_UID,
    D_ITEM,   /* present when the item pointer is set */
    D_STRUCT, /* K_STRUCT */
    D_HAS = 0x80
};

/* How the encoder writes a field defined by every version: its presence
 * test and its write in one switch (E_FLAG: present when the has_ flag at
 * aux is set). Others take the general path. */
enum encode_op {
    E_GENERIC,
    E_U32,   /* K_INT, K_ENUM: etype */
    E_U64,   /* K_LONG, K_DATETIME: etype */
    E_BYTES, /* K_TEXT, K_BYTES: etype */
    E_UID,
    E_ITEM,   /* present when the item pointer is set (F_BYTAG: and of its tag) */
    E_STRUCT, /* K_STRUCT */
    E_FLAG = 0x80
};

/* The item types each field kind accepts (bit n for type n): what the
 * decoder matches a child against (msg_decode.c and the fast paths that
 * msg_fastgen.c writes). */
#define MSG_TYPE_BIT(t) (1u << (t))
static const uint16_t msg_kind_types[] __attribute__((unused)) = {
    [K_INT] = MSG_TYPE_BIT(KMIP_TYPE_INTEGER),
    [K_LONG] = MSG_TYPE_BIT(KMIP_TYPE_LONG_INTEGER),
    [K_ENUM] = MSG_TYPE_BIT(KMIP_TYPE_ENUMERATION),
    [K_BOOL] = MSG_TYPE_BIT(KMIP_TYPE_BOOLEAN),
    [K_TEXT] = MSG_TYPE_BIT(KMIP_TYPE_TEXT_STRING),
    [K_BYTES] = MSG_TYPE_BIT(KMIP_TYPE_BYTE_STRING),
    [K_DATETIME] = MSG_TYPE_BIT(KMIP_TYPE_DATE_TIME),
    [K_UID] = MSG_TYPE_BIT(KMIP_TYPE_TEXT_STRING) | MSG_TYPE_BIT(KMIP_TYPE_ENUMERATION),
    [K_ITEM] = 0xFFFFu,
    [K_STRUCT] = MSG_TYPE_BIT(KMIP_TYPE_STRUCTURE),
    [K_ATTR1] = MSG_TYPE_BIT(KMIP_TYPE_STRUCTURE),
    [K_TEMPLATE] = MSG_TYPE_BIT(KMIP_TYPE_STRUCTURE),
    [K_ATTRS2] = MSG_TYPE_BIT(KMIP_TYPE_STRUCTURE),
    [K_ATTR_WRAP] = MSG_TYPE_BIT(KMIP_TYPE_STRUCTURE),
    [K_PAYLOAD] = MSG_TYPE_BIT(KMIP_TYPE_STRUCTURE),
};

/* Every described C struct starts with a kmip_extras member. */
struct struct_desc {
    const char *name;
    size_t size;
    const field_desc *fields;
    size_t nfields;
    desc_cache cache; /* filled by msg_schema_init */
};

/* Fills the caches of every table (once per process, thread-safe); the
 * decoder and the encoder call it before they walk. */
void msg_schema_init(void);

extern struct_desc kmip_desc_request_header;
extern struct_desc kmip_desc_response_header;
extern struct_desc kmip_desc_request_item;
extern struct_desc kmip_desc_response_item;

/* True when the protocol version defines the field. */
static inline bool msg_version_defines(unsigned version, const field_desc *f)
{
    return (f->min_ver == 0 || version >= f->min_ver) && (f->max_ver == 0 || version <= f->max_ver);
}

/* Bytes of one element of a repeated field (the C type its kind stores). */
size_t msg_elem_size(const field_desc *f);

/* The payload description for an operation, NULL when untyped. */
const struct_desc *kmip_payload_desc(uint32_t operation, bool response);

#endif

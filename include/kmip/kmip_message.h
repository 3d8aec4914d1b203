/* SPDX-License-Identifier: GPL-2.0-only */
/* KMIP messages: typed requests and responses, KMIP 1.0 to 2.1.
 *
 * A kmip_message is a request or a response: a header and any number of
 * batch items, each with an operation, an optional Unique Batch Item ID and a
 * payload. Payloads are typed (the structs below) for Discover Versions,
 * Query, Create, Register, Get, Get Attributes, Get Attribute List, Add
 * Attribute, Modify Attribute, Locate, Activate, Revoke and Destroy; any
 * other operation's payload is kept as a raw item.
 *
 * Decoding is lenient, as real servers differ: unknown tags are kept (as
 * `extras`, re-encoded after the known fields), unknown enumeration values
 * are kept, optional fields may be missing (a failed response batch item may
 * lack Operation). Encoding is conservative: only the fields the message's
 * protocol version defines are written (attributes as Template-Attribute /
 * Attribute in 1.x, as Attributes / Attribute Reference in 2.x).
 *
 * A server's Result Status / Result Reason / Result Message are fields of the
 * response batch items, never library errors.
 *
 * Memory: everything a message points to lives in the message's arena and is
 * wiped and freed by kmip_message_free. Decoding reads the bytes once (no
 * intermediate item tree) and copies each value the message keeps into the
 * arena once; the bytes passed in may be freed afterwards. Items are built
 * only where a field is an item (attribute values, `extras`, raw payloads,
 * fields carried as is): such an item is a standalone subtree (its `next` is
 * NULL; walk a list through the kmip_attr_list or the extras array). A
 * message and the first block of its arena are one allocation. Text fields
 * are UTF-8, not NUL-terminated (use the length). */
#ifndef KMIP_MESSAGE_H
#define KMIP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip_errors.h"
#include "kmip_export.h"
#include "kmip_registry.h"
#include "kmip_ttlv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Protocol versions as one number: major << 8 | minor (KMIP 1.4 = 0x0104). */
#define KMIP_VERSION(major, minor) ((unsigned)(major) << 8 | (unsigned)(minor))

typedef struct kmip_bytes {
    const uint8_t *data;
    size_t len;
} kmip_bytes;

/* Items of a structure that the typed layer does not model, in order. */
typedef struct kmip_extras {
    const kmip_item **items;
    size_t count;
} kmip_extras;

typedef struct kmip_protocol_version {
    kmip_extras extras;
    int32_t major;
    int32_t minor;
} kmip_protocol_version;

/* A Unique Identifier: a Text String, or in 2.x an enumerated ID
 * placeholder. In 1.x an absent identifier is the ID placeholder. */
typedef struct kmip_uid {
    kmip_bytes text;
    bool is_enum;
    uint32_t enum_value;
} kmip_uid;

/* One attribute. `tag` is the attribute's tag (KMIP_TAG_NAME, ...), or 0 for
 * a 1.x custom attribute known only by `name` ("x-..."). `value` is the
 * attribute's value item: in a decoded 1.x message its tag is Attribute
 * Value, in 2.x the attribute's own tag; the encoder re-tags as the version
 * requires. */
typedef struct kmip_attribute {
    struct kmip_attribute *next;
    uint32_t tag;
    kmip_bytes name; /* 1.x Attribute Name as received (may be empty) */
    bool has_index;
    int32_t index;
    const kmip_item *value;
} kmip_attribute;

typedef struct kmip_attr_list {
    kmip_attribute *first;
    kmip_attribute *last;
    size_t count;
    bool present; /* the container (Template-Attribute / Attributes) is sent */
} kmip_attr_list;

typedef struct kmip_request_header {
    kmip_extras extras;
    kmip_protocol_version protocol_version;
    bool has_maximum_response_size;
    int32_t maximum_response_size;
    bool has_client_correlation_value;
    kmip_bytes client_correlation_value;
    bool has_server_correlation_value;
    kmip_bytes server_correlation_value;
    bool has_asynchronous_indicator;
    bool asynchronous_indicator;
    bool has_attestation_capable_indicator;
    bool attestation_capable_indicator;
    const kmip_item *authentication; /* carried as is */
    bool has_batch_error_continuation_option;
    uint32_t batch_error_continuation_option;
    bool has_batch_order_option;
    bool batch_order_option;
    bool has_time_stamp;
    int64_t time_stamp;
    int32_t batch_count; /* set by the encoder from the batch items */
} kmip_request_header;

typedef struct kmip_response_header {
    kmip_extras extras;
    kmip_protocol_version protocol_version;
    int64_t time_stamp;
    const kmip_item *nonce;
    bool has_client_correlation_value;
    kmip_bytes client_correlation_value;
    bool has_server_correlation_value;
    kmip_bytes server_correlation_value;
    int32_t batch_count;
} kmip_response_header;

/* ---- managed objects ---- */

typedef struct kmip_key_value {
    kmip_extras extras;
    const kmip_item *key_material; /* Byte String, or a structure (transparent keys) */
    kmip_attr_list attributes;     /* 1.x only */
} kmip_key_value;

typedef struct kmip_key_block {
    kmip_extras extras;
    uint32_t key_format_type;
    bool has_key_compression_type;
    uint32_t key_compression_type;
    bool has_key_value;
    kmip_key_value key_value;
    bool has_wrapped_key_value; /* Key Value as a Byte String (wrapped key) */
    kmip_bytes wrapped_key_value;
    bool has_cryptographic_algorithm;
    uint32_t cryptographic_algorithm;
    bool has_cryptographic_length;
    int32_t cryptographic_length;
    const kmip_item *key_wrapping_data; /* carried as is */
} kmip_key_block;

typedef struct kmip_symmetric_key {
    kmip_extras extras;
    kmip_key_block key_block;
} kmip_symmetric_key;

typedef struct kmip_secret_data {
    kmip_extras extras;
    uint32_t secret_data_type;
    kmip_key_block key_block;
} kmip_secret_data;

typedef struct kmip_opaque_object {
    kmip_extras extras;
    uint32_t opaque_data_type;
    kmip_bytes opaque_data_value;
} kmip_opaque_object;

/* The managed object of Register requests and Get responses: one of the
 * typed objects, or `other` (certificates, key pairs, ...) as a raw item. */
typedef struct kmip_object {
    bool has_symmetric_key;
    kmip_symmetric_key symmetric_key;
    bool has_secret_data;
    kmip_secret_data secret_data;
    bool has_opaque_object;
    kmip_opaque_object opaque_object;
    const kmip_item *other;
} kmip_object;

/* The raw bytes of a Symmetric Key or Secret Data (a Byte String Key
 * Material, i.e. not wrapped nor in a structured format) or of an Opaque
 * Object. *p points into the message. False for any other object. */
KMIP_API bool kmip_object_key_material(const kmip_object *o, const uint8_t **p, size_t *len);

/* ---- payloads (KMIP 1.4 section 4, 2.1 section 6.1) ---- */

typedef struct kmip_discover_versions_request {
    kmip_extras extras;
    kmip_protocol_version *versions;
    size_t version_count;
} kmip_discover_versions_request;
typedef kmip_discover_versions_request kmip_discover_versions_response;

typedef struct kmip_query_request {
    kmip_extras extras;
    uint32_t *functions;
    size_t function_count;
} kmip_query_request;

typedef struct kmip_query_response {
    kmip_extras extras;
    uint32_t *operations;
    size_t operation_count;
    uint32_t *object_types;
    size_t object_type_count;
    bool has_vendor_identification;
    kmip_bytes vendor_identification;
    const kmip_item *server_information;
} kmip_query_response;

typedef struct kmip_create_request {
    kmip_extras extras;
    uint32_t object_type;
    kmip_attr_list attributes;
    const kmip_item *protection_storage_masks; /* 2.x */
} kmip_create_request;

typedef struct kmip_create_response {
    kmip_extras extras;
    uint32_t object_type;
    kmip_uid unique_identifier;
    kmip_attr_list attributes; /* 1.x: attributes the server set */
} kmip_create_response;

typedef struct kmip_register_request {
    kmip_extras extras;
    uint32_t object_type;
    kmip_attr_list attributes;
    kmip_object object;
    const kmip_item *protection_storage_masks; /* 2.x */
} kmip_register_request;

typedef struct kmip_register_response {
    kmip_extras extras;
    bool has_object_type; /* Vault sends it */
    uint32_t object_type;
    kmip_uid unique_identifier;
    kmip_attr_list attributes;
} kmip_register_response;

typedef struct kmip_get_request {
    kmip_extras extras;
    bool has_unique_identifier;
    kmip_uid unique_identifier;
    bool has_key_format_type;
    uint32_t key_format_type;
    bool has_key_wrap_type;
    uint32_t key_wrap_type;
    bool has_key_compression_type;
    uint32_t key_compression_type;
    const kmip_item *key_wrapping_specification; /* carried as is */
} kmip_get_request;

typedef struct kmip_get_response {
    kmip_extras extras;
    uint32_t object_type;
    kmip_uid unique_identifier;
    kmip_object object;
} kmip_get_response;

typedef struct kmip_get_attributes_request {
    kmip_extras extras;
    bool has_unique_identifier;
    kmip_uid unique_identifier;
    kmip_bytes *attribute_names; /* 1.x */
    size_t attribute_name_count;
    const kmip_item **attribute_references; /* 2.x: Enumeration (a tag) or structure */
    size_t attribute_reference_count;
} kmip_get_attributes_request;

typedef struct kmip_get_attributes_response {
    kmip_extras extras;
    kmip_uid unique_identifier;
    kmip_attr_list attributes;
} kmip_get_attributes_response;

typedef struct kmip_uid_request {
    kmip_extras extras;
    bool has_unique_identifier;
    kmip_uid unique_identifier;
} kmip_uid_request;

typedef struct kmip_uid_response {
    kmip_extras extras;
    kmip_uid unique_identifier;
} kmip_uid_response;

typedef kmip_uid_request kmip_get_attribute_list_request;
typedef kmip_get_attributes_request kmip_get_attribute_list_response;
typedef kmip_uid_request kmip_activate_request;
typedef kmip_uid_response kmip_activate_response;
typedef kmip_uid_request kmip_destroy_request;
typedef kmip_uid_response kmip_destroy_response;
typedef kmip_uid_response kmip_revoke_response;

/* Add Attribute (1.x: Attribute; 2.x: New Attribute) and Modify Attribute
 * (1.x: Attribute; 2.x: Current Attribute, New Attribute). */
typedef struct kmip_attribute_change_request {
    kmip_extras extras;
    bool has_unique_identifier;
    kmip_uid unique_identifier;
    kmip_attr_list current; /* 2.x Modify only, at most one */
    kmip_attr_list attribute;
} kmip_attribute_change_request;

typedef struct kmip_attribute_change_response {
    kmip_extras extras;
    kmip_uid unique_identifier;
    kmip_attr_list attribute; /* 1.x only */
} kmip_attribute_change_response;

typedef struct kmip_revocation_reason {
    kmip_extras extras;
    uint32_t code;
    bool has_message;
    kmip_bytes message;
} kmip_revocation_reason;

typedef struct kmip_revoke_request {
    kmip_extras extras;
    bool has_unique_identifier;
    kmip_uid unique_identifier;
    kmip_revocation_reason revocation_reason;
    bool has_compromise_occurrence_date;
    int64_t compromise_occurrence_date;
} kmip_revoke_request;

typedef struct kmip_locate_request {
    kmip_extras extras;
    bool has_maximum_items;
    int32_t maximum_items;
    bool has_offset_items;
    int32_t offset_items;
    bool has_storage_status_mask;
    int32_t storage_status_mask;
    bool has_object_group_member;
    uint32_t object_group_member;
    kmip_attr_list attributes; /* Name, Object Group, Object Type, State, ... */
} kmip_locate_request;

typedef struct kmip_locate_response {
    kmip_extras extras;
    bool has_located_items; /* PyKMIP omits it; do not trust it for paging */
    int32_t located_items;
    kmip_uid *unique_identifiers;
    size_t unique_identifier_count;
} kmip_locate_response;

/* ---- batch items and messages ---- */

typedef struct kmip_batch_item {
    kmip_extras extras;
    bool has_operation; /* may be missing in a failed response item */
    uint32_t operation;
    bool has_ephemeral;
    bool ephemeral;
    bool has_unique_batch_item_id;
    kmip_bytes unique_batch_item_id;
    /* responses only */
    bool has_result_status;
    uint32_t result_status;
    bool has_result_reason;
    uint32_t result_reason;
    bool has_result_message;
    kmip_bytes result_message;
    bool has_asynchronous_correlation_value;
    kmip_bytes asynchronous_correlation_value;
    /* The payload: `payload` points at the typed struct for `operation`
     * (kmip_get_request, kmip_locate_response, ...) or is NULL; an
     * operation without a typed payload keeps it in `raw_payload`. */
    void *payload;
    const kmip_item *raw_payload;
    const kmip_item *message_extension;
} kmip_batch_item;

typedef struct kmip_message {
    bool is_response;
    kmip_request_header request_header;
    kmip_response_header response_header;
    kmip_batch_item *items;
    size_t item_count;
    /* internal */
    kmip_tree *arena; /* all memory of the message (embedded in its allocation);
                         its root, made on first use, holds builders' items */
    kmip_tree *decoded; /* always NULL since decoding needs no item tree; kept
                           so that the 0.1.0 ABI (abi/) stays the same */
    bool untyped;
    size_t item_cap; /* room in items before it must move */
} kmip_message;

/* Where a message failed to decode: a library error (never a server's
 * result) with a sentence naming the field and what was expected. */
typedef struct kmip_msg_error {
    size_t offset; /* byte offset for TTLV errors */
    char detail[224];
} kmip_msg_error;

/* A new empty request or response for the given protocol version
 * (KMIP_VERSION(1, 4), ...). NULL when out of memory. */
KMIP_API KMIP_MUST_CHECK kmip_message *kmip_message_new(bool is_response, unsigned version);
/* Wipes and frees a message and everything it points to; m may be NULL. */
KMIP_API void kmip_message_free(kmip_message *m);
/* Memory from the message's arena, zeroed, freed with the message. */
KMIP_API KMIP_MUST_CHECK void *kmip_message_alloc(kmip_message *m, size_t size);
/* The message's protocol version as KMIP_VERSION(major, minor), each part
 * clamped to 0-255. */
KMIP_API unsigned kmip_message_version(const kmip_message *m);

/* Appends a batch item for `operation` with a zeroed typed payload of the
 * right struct (or none for an operation without one). NULL when out of
 * memory. The items array may move: a pointer to an earlier item is no
 * longer valid after this call (index m->items instead). */
KMIP_API KMIP_MUST_CHECK kmip_batch_item *kmip_message_add_item(kmip_message *m,
                                                                uint32_t operation);

/* Appends an attribute whose value is an item built in the message's arena
 * (kmip_message_arena). NULL when out of memory. */
KMIP_API KMIP_MUST_CHECK kmip_attribute *kmip_attr_append(kmip_message *m, kmip_attr_list *list,
                                                          uint32_t tag, const kmip_item *value);
/* The tree whose items a message's fields may point at (to build attribute
 * values and raw items). Items added as children of its root, which
 * kmip_message_arena_root makes on first use (NULL when out of memory);
 * use that function, not kmip_tree_root. */
KMIP_API kmip_tree *kmip_message_arena(kmip_message *m);
KMIP_API kmip_item *kmip_message_arena_root(kmip_message *m);
/* Copies len bytes into the arena and returns them as kmip_bytes
 * (data NULL on out-of-memory when len > 0). */
KMIP_API kmip_bytes kmip_message_copy_bytes(kmip_message *m, const void *data, size_t len);

/* Decodes a TTLV message (RequestMessage or ResponseMessage) with the
 * default limits. Errors: every kmip_decoder_decode error; KMIP_E_UNEXPECTED_TAG
 * (not a message), KMIP_E_UNEXPECTED_TYPE, KMIP_E_MISSING (a mandatory field
 * such as a header's Protocol Version, a request item's Operation, a
 * response item's Result Status), KMIP_E_NOMEM, KMIP_E_ARG. err (may be
 * NULL) says where. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_message_decode(const uint8_t *data, size_t len,
                                                      kmip_message **out, kmip_msg_error *err);
/* Decodes like kmip_message_decode, into a message that is reused: the
 * steady state of a connection that decodes one response after another
 * allocates nothing. *m is NULL (a message is made) or a message from this
 * function, kmip_message_decode or kmip_message_new; its old contents are
 * wiped first (kmip_message_reset), and when its first arena block is too
 * small for the new message (or far too large: one huge message does not
 * pin its memory) it is freed and *m replaced, so pointers into the old
 * contents are never valid afterwards. On failure *m stays a usable empty
 * message (NULL if *m was NULL or no memory), holding nothing of either
 * message. The caller owns *m: kmip_message_free. Same errors as
 * kmip_message_decode; KMIP_E_ARG when m is NULL. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_message_decode_into(kmip_message **m, const uint8_t *data,
                                                           size_t len, kmip_msg_error *err);
/* Like kmip_message_decode_into, with a limit of max_message bytes on the
 * message instead of the default KMIP_DEFAULT_MAX_MESSAGE (0: the default;
 * the other limits are the defaults): a client decodes with the largest
 * response it accepts (kmip_client_options_set_max_response). A longer
 * message is refused with KMIP_E_LIMIT_SIZE before anything is read. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_message_decode_into_max(kmip_message **m,
                                                               const uint8_t *data, size_t len,
                                                               size_t max_message,
                                                               kmip_msg_error *err);
/* Wipes everything the message holds (every byte its arena handed out,
 * the header, the items) and leaves it empty, keeping its first arena
 * block for the next kmip_message_decode_into. m may be NULL. */
KMIP_API void kmip_message_reset(kmip_message *m);
/* Decodes from an item tree already decoded (takes ownership of tree, also
 * on failure). The tree is encoded and read back by the same decoder as
 * kmip_message_decode, so both give the same message and the same errors;
 * the limits are only the encoder's (KMIP_ENCODER_MAX_DEPTH: deeper trees
 * give KMIP_E_LIMIT_DEPTH), as the tree's maker applied its own. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_message_from_tree(kmip_tree *tree, kmip_message **out,
                                                         kmip_msg_error *err);
/* Encodes into a fresh buffer the caller frees with kmip_secure_free.
 * Batch Count is computed. Errors: KMIP_E_NOMEM, KMIP_E_LIMIT_DEPTH,
 * KMIP_E_LIMIT_SIZE, KMIP_E_MISSING (a payload without its mandatory
 * fields), KMIP_E_UNSUPPORTED (a custom 1.x attribute in a 2.x message). */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_message_encode(const kmip_message *m, uint8_t **out,
                                                      size_t *out_len);
/* True when every field of the decoded message was understood by the typed
 * layer, in canonical order, and every operation has a typed payload: then
 * encoding gives back exactly the decoded bytes. */
KMIP_API bool kmip_message_fully_typed(const kmip_message *m);
/* True when the typed layer has payload structs for the operation. */
KMIP_API bool kmip_operation_is_typed(uint32_t operation);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The tables of the typed message layer. Field order is the order of the
 * specification's structure tables: KMIP 1.4 sections 2.1 (objects), 4
 * (operations) and 7 (message contents); KMIP 2.1 sections 2, 6 and 8. */
#include <pthread.h>

#include "msg_schema.h"

#define V(major, minor) ((uint16_t)KMIP_VERSION(major, minor))
#define V1_MAX V(1, 255)
#define FIELD(S, t, k, fl, m, a, lo, hi, s)                                                       \
    {                                                                                              \
        .tag = (t), .kind = (k), .flags = (uint8_t)((fl) | ((lo) || (hi) ? F_VER : 0u)),           \
        .presence = FIELD_PRESENCE(k, fl, a), .min_ver = (lo), .max_ver = (hi),                    \
        .offset = offsetof(S, m), .aux = (a), .sub = (s)                                           \
    }
/* optional scalar with a has_ flag */
#define OPT(S, t, k, m) FIELD(S, t, k, 0, m, offsetof(S, has_##m), 0, 0, NULL)
#define OPTV(S, t, k, m, lo, hi) FIELD(S, t, k, 0, m, offsetof(S, has_##m), lo, hi, NULL)
/* mandatory field */
#define REQ(S, t, k, m) FIELD(S, t, k, F_REQ, m, NO_AUX, 0, 0, NULL)
/* repeated field: array m, count c */
#define REP(S, t, k, m, c) FIELD(S, t, k, F_REP, m, offsetof(S, c), 0, 0, NULL)
#define REPV(S, t, k, m, c, lo, hi) FIELD(S, t, k, F_REP, m, offsetof(S, c), lo, hi, NULL)
/* raw item, present when non-NULL */
#define ITEM(S, t, m) FIELD(S, t, K_ITEM, 0, m, NO_AUX, 0, 0, NULL)
#define ITEMV(S, t, m, lo, hi) FIELD(S, t, K_ITEM, 0, m, NO_AUX, lo, hi, NULL)
/* attribute list forms */
#define ATTRS(S, t, k, m, lo, hi) FIELD(S, t, k, 0, m, NO_AUX, lo, hi, NULL)
/* The descriptions are not const: msg_schema_init fills their caches once,
 * everything else reads them through const pointers. */
#define NFIELDS(f) (sizeof(f) / sizeof(f[0]))
/* a table of more than MSG_MAX_FIELDS fields does not compile (the walks
 * track fields in 32-bit masks) */
#define DESC(S, f)                                                                                 \
    {#S, sizeof(S), f, NFIELDS(f) + 0 * sizeof(char[NFIELDS(f) <= MSG_MAX_FIELDS ? 1 : -1]), {0}}

/* ---- shared pieces ---- */

static const field_desc protocol_version_f[] = {
    REQ(kmip_protocol_version, KMIP_TAG_PROTOCOL_VERSION_MAJOR, K_INT, major),
    REQ(kmip_protocol_version, KMIP_TAG_PROTOCOL_VERSION_MINOR, K_INT, minor),
};
static struct_desc protocol_version_d = DESC(kmip_protocol_version, protocol_version_f);

#define VERSION_FIELD(S, m, fl)                                                                    \
    FIELD(S, KMIP_TAG_PROTOCOL_VERSION, K_STRUCT, fl, m, NO_AUX, 0, 0, &protocol_version_d)

/* ---- headers (1.4 section 7.2, 2.1 section 8) ---- */

#define S kmip_request_header
static const field_desc request_header_f[] = {
    VERSION_FIELD(S, protocol_version, F_REQ | F_MSG),
    OPT(S, KMIP_TAG_MAXIMUM_RESPONSE_SIZE, K_INT, maximum_response_size),
    OPTV(S, KMIP_TAG_CLIENT_CORRELATION_VALUE, K_TEXT, client_correlation_value, V(1, 4), 0),
    OPTV(S, KMIP_TAG_SERVER_CORRELATION_VALUE, K_TEXT, server_correlation_value, V(1, 4), 0),
    OPT(S, KMIP_TAG_ASYNCHRONOUS_INDICATOR, K_BOOL, asynchronous_indicator),
    OPTV(S, KMIP_TAG_ATTESTATION_CAPABLE_INDICATOR, K_BOOL, attestation_capable_indicator,
         V(1, 2), 0),
    ITEM(S, KMIP_TAG_AUTHENTICATION, authentication),
    OPT(S, KMIP_TAG_BATCH_ERROR_CONTINUATION_OPTION, K_ENUM, batch_error_continuation_option),
    OPT(S, KMIP_TAG_BATCH_ORDER_OPTION, K_BOOL, batch_order_option),
    OPT(S, KMIP_TAG_TIME_STAMP, K_DATETIME, time_stamp),
    FIELD(S, KMIP_TAG_BATCH_COUNT, K_INT, F_REQ | F_MSG, batch_count, NO_AUX, 0, 0, NULL),
};
#undef S
struct_desc kmip_desc_request_header = DESC(kmip_request_header, request_header_f);

#define S kmip_response_header
static const field_desc response_header_f[] = {
    VERSION_FIELD(S, protocol_version, F_REQ | F_MSG),
    REQ(S, KMIP_TAG_TIME_STAMP, K_DATETIME, time_stamp),
    ITEMV(S, KMIP_TAG_NONCE, nonce, V(1, 2), 0),
    OPTV(S, KMIP_TAG_CLIENT_CORRELATION_VALUE, K_TEXT, client_correlation_value, V(1, 4), 0),
    /* Vault sends it whatever the version: decoded always, encoded from 1.4 */
    OPTV(S, KMIP_TAG_SERVER_CORRELATION_VALUE, K_TEXT, server_correlation_value, V(1, 4), 0),
    FIELD(S, KMIP_TAG_BATCH_COUNT, K_INT, F_REQ | F_MSG, batch_count, NO_AUX, 0, 0, NULL),
};
#undef S
struct_desc kmip_desc_response_header = DESC(kmip_response_header, response_header_f);

/* ---- batch items (1.4 section 7.2, 2.1 section 8) ---- */

#define S kmip_batch_item
static const field_desc request_item_f[] = {
    FIELD(S, KMIP_TAG_OPERATION, K_ENUM, F_REQ | F_MSG, operation, offsetof(S, has_operation), 0,
          0, NULL),
    OPTV(S, KMIP_TAG_EPHEMERAL, K_BOOL, ephemeral, V(2, 0), 0),
    OPT(S, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, K_BYTES, unique_batch_item_id),
    FIELD(S, KMIP_TAG_REQUEST_PAYLOAD, K_PAYLOAD, F_REQ, payload, offsetof(S, raw_payload), 0, 0,
          NULL),
    ITEM(S, KMIP_TAG_MESSAGE_EXTENSION, message_extension),
};
static const field_desc response_item_f[] = {
    OPT(S, KMIP_TAG_OPERATION, K_ENUM, operation),
    OPT(S, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, K_BYTES, unique_batch_item_id),
    FIELD(S, KMIP_TAG_RESULT_STATUS, K_ENUM, F_REQ | F_MSG, result_status,
          offsetof(S, has_result_status), 0, 0, NULL),
    OPT(S, KMIP_TAG_RESULT_REASON, K_ENUM, result_reason),
    OPT(S, KMIP_TAG_RESULT_MESSAGE, K_TEXT, result_message),
    OPT(S, KMIP_TAG_ASYNCHRONOUS_CORRELATION_VALUE, K_BYTES, asynchronous_correlation_value),
    FIELD(S, KMIP_TAG_RESPONSE_PAYLOAD, K_PAYLOAD, 0, payload, offsetof(S, raw_payload), 0, 0,
          NULL),
    ITEM(S, KMIP_TAG_MESSAGE_EXTENSION, message_extension),
};
#undef S
struct_desc kmip_desc_request_item = DESC(kmip_batch_item, request_item_f);
struct_desc kmip_desc_response_item = DESC(kmip_batch_item, response_item_f);

/* ---- managed objects (1.4 section 2.2, 2.1 section 2.2) ---- */

#define S kmip_key_value
static const field_desc key_value_f[] = {
    ITEM(S, KMIP_TAG_KEY_MATERIAL, key_material),
    ATTRS(S, KMIP_TAG_ATTRIBUTE, K_ATTR1, attributes, 0, V1_MAX),
};
#undef S
static struct_desc key_value_d = DESC(kmip_key_value, key_value_f);

#define S kmip_key_block
static const field_desc key_block_f[] = {
    REQ(S, KMIP_TAG_KEY_FORMAT_TYPE, K_ENUM, key_format_type),
    OPT(S, KMIP_TAG_KEY_COMPRESSION_TYPE, K_ENUM, key_compression_type),
    FIELD(S, KMIP_TAG_KEY_VALUE, K_STRUCT, 0, key_value, offsetof(S, has_key_value), 0, 0,
          &key_value_d),
    OPT(S, KMIP_TAG_KEY_VALUE, K_BYTES, wrapped_key_value),
    OPT(S, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, K_ENUM, cryptographic_algorithm),
    OPT(S, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, K_INT, cryptographic_length),
    ITEM(S, KMIP_TAG_KEY_WRAPPING_DATA, key_wrapping_data),
};
#undef S
static struct_desc key_block_d = DESC(kmip_key_block, key_block_f);

#define KEY_BLOCK_FIELD(S, m)                                                                      \
    FIELD(S, KMIP_TAG_KEY_BLOCK, K_STRUCT, F_REQ, m, NO_AUX, 0, 0, &key_block_d)

static const field_desc symmetric_key_f[] = {KEY_BLOCK_FIELD(kmip_symmetric_key, key_block)};
static struct_desc symmetric_key_d = DESC(kmip_symmetric_key, symmetric_key_f);

static const field_desc secret_data_f[] = {
    REQ(kmip_secret_data, KMIP_TAG_SECRET_DATA_TYPE, K_ENUM, secret_data_type),
    KEY_BLOCK_FIELD(kmip_secret_data, key_block),
};
static struct_desc secret_data_d = DESC(kmip_secret_data, secret_data_f);

static const field_desc opaque_object_f[] = {
    REQ(kmip_opaque_object, KMIP_TAG_OPAQUE_DATA_TYPE, K_ENUM, opaque_data_type),
    REQ(kmip_opaque_object, KMIP_TAG_OPAQUE_DATA_VALUE, K_BYTES, opaque_data_value),
};
static struct_desc opaque_object_d = DESC(kmip_opaque_object, opaque_object_f);

#define OTHER(S, t) FIELD(S, t, K_ITEM, F_BYTAG, object.other, NO_AUX, 0, 0, NULL)

/* The managed object of a payload: typed objects, the rest carried as is. */
#define OBJECT_FIELDS(S)                                                                           \
    FIELD(S, KMIP_TAG_SYMMETRIC_KEY, K_STRUCT, 0, object.symmetric_key,                            \
          offsetof(S, object.has_symmetric_key), 0, 0, &symmetric_key_d),                          \
        FIELD(S, KMIP_TAG_SECRET_DATA, K_STRUCT, 0, object.secret_data,                            \
              offsetof(S, object.has_secret_data), 0, 0, &secret_data_d),                          \
        FIELD(S, KMIP_TAG_OPAQUE_OBJECT, K_STRUCT, 0, object.opaque_object,                        \
              offsetof(S, object.has_opaque_object), 0, 0, &opaque_object_d),                      \
        OTHER(S, KMIP_TAG_CERTIFICATE), OTHER(S, KMIP_TAG_PUBLIC_KEY),                             \
        OTHER(S, KMIP_TAG_PRIVATE_KEY), OTHER(S, KMIP_TAG_SPLIT_KEY), OTHER(S, KMIP_TAG_TEMPLATE), \
        OTHER(S, KMIP_TAG_PGP_KEY), OTHER(S, KMIP_TAG_CERTIFICATE_REQUEST)

/* Attributes as 1.x Template-Attribute or 2.x Attributes. */
#define TEMPLATE_OR_ATTRIBUTES(S, m)                                                               \
    ATTRS(S, KMIP_TAG_TEMPLATE_ATTRIBUTE, K_TEMPLATE, m, 0, V1_MAX),                               \
        ATTRS(S, KMIP_TAG_ATTRIBUTES, K_ATTRS2, m, V(2, 0), 0)

#define UID_OPT(S) OPT(S, KMIP_TAG_UNIQUE_IDENTIFIER, K_UID, unique_identifier)
#define UID_REQ(S) REQ(S, KMIP_TAG_UNIQUE_IDENTIFIER, K_UID, unique_identifier)

/* ---- payloads ---- */

#define S kmip_discover_versions_request
static const field_desc discover_f[] = {
    FIELD(S, KMIP_TAG_PROTOCOL_VERSION, K_STRUCT, F_REP, versions, offsetof(S, version_count), 0,
          0, &protocol_version_d),
};
#undef S
static struct_desc discover_d = DESC(kmip_discover_versions_request, discover_f);

#define S kmip_query_request
static const field_desc query_req_f[] = {
    REP(S, KMIP_TAG_QUERY_FUNCTION, K_ENUM, functions, function_count),
};
#undef S
static struct_desc query_req_d = DESC(kmip_query_request, query_req_f);

#define S kmip_query_response
static const field_desc query_resp_f[] = {
    REP(S, KMIP_TAG_OPERATION, K_ENUM, operations, operation_count),
    REP(S, KMIP_TAG_OBJECT_TYPE, K_ENUM, object_types, object_type_count),
    OPT(S, KMIP_TAG_VENDOR_IDENTIFICATION, K_TEXT, vendor_identification),
    ITEM(S, KMIP_TAG_SERVER_INFORMATION, server_information),
};
#undef S
static struct_desc query_resp_d = DESC(kmip_query_response, query_resp_f);

#define S kmip_create_request
static const field_desc create_req_f[] = {
    REQ(S, KMIP_TAG_OBJECT_TYPE, K_ENUM, object_type),
    TEMPLATE_OR_ATTRIBUTES(S, attributes),
    ITEMV(S, KMIP_TAG_PROTECTION_STORAGE_MASKS, protection_storage_masks, V(2, 0), 0),
};
#undef S
static struct_desc create_req_d = DESC(kmip_create_request, create_req_f);

#define S kmip_create_response
static const field_desc create_resp_f[] = {
    REQ(S, KMIP_TAG_OBJECT_TYPE, K_ENUM, object_type),
    UID_REQ(S),
    ATTRS(S, KMIP_TAG_TEMPLATE_ATTRIBUTE, K_TEMPLATE, attributes, 0, V1_MAX),
};
#undef S
static struct_desc create_resp_d = DESC(kmip_create_response, create_resp_f);

#define S kmip_register_request
static const field_desc register_req_f[] = {
    REQ(S, KMIP_TAG_OBJECT_TYPE, K_ENUM, object_type),
    TEMPLATE_OR_ATTRIBUTES(S, attributes),
    OBJECT_FIELDS(S),
    ITEMV(S, KMIP_TAG_PROTECTION_STORAGE_MASKS, protection_storage_masks, V(2, 0), 0),
};
#undef S
static struct_desc register_req_d = DESC(kmip_register_request, register_req_f);

#define S kmip_register_response
static const field_desc register_resp_f[] = {
    OPT(S, KMIP_TAG_OBJECT_TYPE, K_ENUM, object_type),
    UID_REQ(S),
    ATTRS(S, KMIP_TAG_TEMPLATE_ATTRIBUTE, K_TEMPLATE, attributes, 0, V1_MAX),
};
#undef S
static struct_desc register_resp_d = DESC(kmip_register_response, register_resp_f);

#define S kmip_get_request
static const field_desc get_req_f[] = {
    UID_OPT(S),
    OPT(S, KMIP_TAG_KEY_FORMAT_TYPE, K_ENUM, key_format_type),
    OPTV(S, KMIP_TAG_KEY_WRAP_TYPE, K_ENUM, key_wrap_type, V(1, 4), 0),
    OPT(S, KMIP_TAG_KEY_COMPRESSION_TYPE, K_ENUM, key_compression_type),
    ITEM(S, KMIP_TAG_KEY_WRAPPING_SPECIFICATION, key_wrapping_specification),
};
#undef S
static struct_desc get_req_d = DESC(kmip_get_request, get_req_f);

#define S kmip_get_response
static const field_desc get_resp_f[] = {
    REQ(S, KMIP_TAG_OBJECT_TYPE, K_ENUM, object_type),
    UID_REQ(S),
    OBJECT_FIELDS(S),
};
#undef S
static struct_desc get_resp_d = DESC(kmip_get_response, get_resp_f);

#define S kmip_get_attributes_request
static const field_desc get_attrs_req_f[] = {
    UID_OPT(S),
    REPV(S, KMIP_TAG_ATTRIBUTE_NAME, K_TEXT, attribute_names, attribute_name_count, 0, V1_MAX),
    REPV(S, KMIP_TAG_ATTRIBUTE_REFERENCE, K_ITEM, attribute_references, attribute_reference_count,
         V(2, 0), 0),
};
#undef S
static struct_desc get_attrs_req_d = DESC(kmip_get_attributes_request, get_attrs_req_f);

#define S kmip_get_attributes_response
static const field_desc get_attrs_resp_f[] = {
    UID_REQ(S),
    ATTRS(S, KMIP_TAG_ATTRIBUTE, K_ATTR1, attributes, 0, V1_MAX),
    ATTRS(S, KMIP_TAG_ATTRIBUTES, K_ATTRS2, attributes, V(2, 0), 0),
};
#undef S
static struct_desc get_attrs_resp_d = DESC(kmip_get_attributes_response, get_attrs_resp_f);

static const field_desc uid_req_f[] = {UID_OPT(kmip_uid_request)};
static struct_desc uid_req_d = DESC(kmip_uid_request, uid_req_f);
static const field_desc uid_resp_f[] = {UID_REQ(kmip_uid_response)};
static struct_desc uid_resp_d = DESC(kmip_uid_response, uid_resp_f);

#define S kmip_attribute_change_request
static const field_desc add_attr_req_f[] = {
    UID_OPT(S),
    ATTRS(S, KMIP_TAG_ATTRIBUTE, K_ATTR1, attribute, 0, V1_MAX),
    ATTRS(S, KMIP_TAG_NEW_ATTRIBUTE, K_ATTR_WRAP, attribute, V(2, 0), 0),
};
static const field_desc modify_attr_req_f[] = {
    UID_OPT(S),
    ATTRS(S, KMIP_TAG_ATTRIBUTE, K_ATTR1, attribute, 0, V1_MAX),
    ATTRS(S, KMIP_TAG_CURRENT_ATTRIBUTE, K_ATTR_WRAP, current, V(2, 0), 0),
    ATTRS(S, KMIP_TAG_NEW_ATTRIBUTE, K_ATTR_WRAP, attribute, V(2, 0), 0),
};
#undef S
static struct_desc add_attr_req_d = DESC(kmip_attribute_change_request, add_attr_req_f);
static struct_desc modify_attr_req_d =
    DESC(kmip_attribute_change_request, modify_attr_req_f);

#define S kmip_attribute_change_response
static const field_desc attr_change_resp_f[] = {
    UID_REQ(S),
    ATTRS(S, KMIP_TAG_ATTRIBUTE, K_ATTR1, attribute, 0, V1_MAX),
};
#undef S
static struct_desc attr_change_resp_d =
    DESC(kmip_attribute_change_response, attr_change_resp_f);

#define S kmip_revocation_reason
static const field_desc revocation_reason_f[] = {
    REQ(S, KMIP_TAG_REVOCATION_REASON_CODE, K_ENUM, code),
    OPT(S, KMIP_TAG_REVOCATION_MESSAGE, K_TEXT, message),
};
#undef S
static struct_desc revocation_reason_d = DESC(kmip_revocation_reason, revocation_reason_f);

#define S kmip_revoke_request
static const field_desc revoke_req_f[] = {
    UID_OPT(S),
    FIELD(S, KMIP_TAG_REVOCATION_REASON, K_STRUCT, F_REQ, revocation_reason, NO_AUX, 0, 0,
          &revocation_reason_d),
    OPT(S, KMIP_TAG_COMPROMISE_OCCURRENCE_DATE, K_DATETIME, compromise_occurrence_date),
};
#undef S
static struct_desc revoke_req_d = DESC(kmip_revoke_request, revoke_req_f);

#define S kmip_locate_request
static const field_desc locate_req_f[] = {
    OPT(S, KMIP_TAG_MAXIMUM_ITEMS, K_INT, maximum_items),
    OPTV(S, KMIP_TAG_OFFSET_ITEMS, K_INT, offset_items, V(1, 3), 0),
    OPT(S, KMIP_TAG_STORAGE_STATUS_MASK, K_INT, storage_status_mask),
    OPTV(S, KMIP_TAG_OBJECT_GROUP_MEMBER, K_ENUM, object_group_member, V(1, 1), 0),
    ATTRS(S, KMIP_TAG_ATTRIBUTE, K_ATTR1, attributes, 0, V1_MAX),
    ATTRS(S, KMIP_TAG_ATTRIBUTES, K_ATTRS2, attributes, V(2, 0), 0),
};
#undef S
static struct_desc locate_req_d = DESC(kmip_locate_request, locate_req_f);

#define S kmip_locate_response
static const field_desc locate_resp_f[] = {
    OPTV(S, KMIP_TAG_LOCATED_ITEMS, K_INT, located_items, V(1, 3), 0),
    REP(S, KMIP_TAG_UNIQUE_IDENTIFIER, K_UID, unique_identifiers, unique_identifier_count),
};
#undef S
static struct_desc locate_resp_d = DESC(kmip_locate_response, locate_resp_f);

size_t msg_elem_size(const field_desc *f)
{
    switch (f->kind) {
    case K_INT:
    case K_ENUM:
        return sizeof(uint32_t);
    case K_LONG:
    case K_DATETIME:
        return sizeof(int64_t);
    case K_BOOL:
        return sizeof(bool);
    case K_TEXT:
    case K_BYTES:
        return sizeof(kmip_bytes);
    case K_UID:
        return sizeof(kmip_uid);
    case K_STRUCT:
        return f->sub->size;
    default:
        return sizeof(const kmip_item *);
    }
}

typedef struct op_payloads {
    uint32_t operation;
    const struct_desc *request;
    const struct_desc *response;
} op_payloads;

static const op_payloads payloads[] = {
    {KMIP_OPERATION_CREATE, &create_req_d, &create_resp_d},
    {KMIP_OPERATION_REGISTER, &register_req_d, &register_resp_d},
    {KMIP_OPERATION_LOCATE, &locate_req_d, &locate_resp_d},
    {KMIP_OPERATION_GET, &get_req_d, &get_resp_d},
    {KMIP_OPERATION_GET_ATTRIBUTES, &get_attrs_req_d, &get_attrs_resp_d},
    {KMIP_OPERATION_GET_ATTRIBUTE_LIST, &uid_req_d, &get_attrs_req_d},
    {KMIP_OPERATION_ADD_ATTRIBUTE, &add_attr_req_d, &attr_change_resp_d},
    {KMIP_OPERATION_MODIFY_ATTRIBUTE, &modify_attr_req_d, &attr_change_resp_d},
    {KMIP_OPERATION_ACTIVATE, &uid_req_d, &uid_resp_d},
    {KMIP_OPERATION_REVOKE, &revoke_req_d, &uid_resp_d},
    {KMIP_OPERATION_DESTROY, &uid_req_d, &uid_resp_d},
    {KMIP_OPERATION_QUERY, &query_req_d, &query_resp_d},
    {KMIP_OPERATION_DISCOVER_VERSIONS, &discover_d, &discover_d},
};

const struct_desc *kmip_payload_desc(uint32_t operation, bool response)
{
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
        if (payloads[i].operation == operation)
            return response ? payloads[i].response : payloads[i].request;
    return NULL;
}

bool kmip_operation_is_typed(uint32_t operation)
{
    return kmip_payload_desc(operation, false) != NULL;
}

/* ---- the derived caches ---- */

static uint8_t decode_op_of(const field_desc *f)
{
    if (f->flags & F_REP)
        return D_GENERIC;
    unsigned op;
    switch (f->kind) {
    case K_INT:
    case K_ENUM:
        op = D_U32;
        break;
    case K_LONG:
    case K_DATETIME:
        op = D_U64;
        break;
    case K_BOOL:
        op = D_BOOL;
        break;
    case K_TEXT:
    case K_BYTES:
        op = D_BYTES;
        break;
    case K_UID:
        op = D_UID;
        break;
    case K_ITEM: /* its presence is the pointer */
        return f->aux == NO_AUX ? D_ITEM : D_GENERIC;
    case K_STRUCT:
        op = D_STRUCT;
        break;
    default:
        return D_GENERIC;
    }
    return (uint8_t)(f->aux != NO_AUX ? op | D_HAS : op);
}

static uint8_t scalar_type(uint8_t kind)
{
    switch (kind) {
    case K_INT:
        return KMIP_TYPE_INTEGER;
    case K_ENUM:
        return KMIP_TYPE_ENUMERATION;
    case K_LONG:
        return KMIP_TYPE_LONG_INTEGER;
    case K_DATETIME:
        return KMIP_TYPE_DATE_TIME;
    case K_TEXT:
        return KMIP_TYPE_TEXT_STRING;
    case K_BYTES:
        return KMIP_TYPE_BYTE_STRING;
    default:
        return 0;
    }
}

static uint8_t encode_op_of(const field_desc *f)
{
    if (f->flags & (F_REP | F_VER))
        return E_GENERIC;
    unsigned op;
    switch (f->kind) {
    case K_INT:
    case K_ENUM:
        op = E_U32;
        break;
    case K_LONG:
    case K_DATETIME:
        op = E_U64;
        break;
    case K_TEXT:
    case K_BYTES:
        op = E_BYTES;
        break;
    case K_UID:
        op = E_UID;
        break;
    case K_ITEM:
        return f->presence == P_ITEM ? E_ITEM : E_GENERIC;
    case K_STRUCT:
        op = E_STRUCT;
        break;
    default:
        return E_GENERIC; /* Booleans, attribute lists, payloads */
    }
    if (f->presence == P_FLAG)
        return (uint8_t)(op | E_FLAG);
    return f->presence == P_ALWAYS ? (uint8_t)op : E_GENERIC;
}

static void init_desc(const struct_desc *d)
{
    /* every description is defined without const (above) */
    desc_cache *c = (desc_cache *)&d->cache;
    if (c->done)
        return; /* a table shared by several (Protocol Version, Key Block) */
    c->done = true;
    for (size_t i = d->nfields; i-- > 0;) {
        const field_desc *f = &d->fields[i];
        if (f->flags & (F_REQ | F_MSG))
            c->required |= 1u << i;
        if (f->flags & F_VER)
            c->versioned |= 1u << i;
        /* chains in table order: built backwards */
        unsigned h = f->tag & (MSG_TAG_SLOTS - 1u);
        c->chain[i] = c->slot[h];
        c->slot[h] = (uint8_t)(i + 1);
        const field_desc *g = i + 1 < d->nfields ? &d->fields[i + 1] : NULL;
        bool same_slot = g != NULL && f->presence == P_ITEM && g->presence == P_ITEM &&
                         g->offset == f->offset;
        c->run[i] = (uint8_t)(same_slot ? c->run[i + 1] + 1u : 1u);
        c->dop[i] = decode_op_of(f);
        c->eop[i] = encode_op_of(f);
        c->etype[i] = scalar_type(f->kind);
    }
    for (size_t i = 0; i < d->nfields; i++)
        if (d->fields[i].sub != NULL)
            init_desc(d->fields[i].sub);
}

static void init_all(void)
{
    init_desc(&kmip_desc_request_header);
    init_desc(&kmip_desc_response_header);
    init_desc(&kmip_desc_request_item);
    init_desc(&kmip_desc_response_item);
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        init_desc(payloads[i].request);
        init_desc(payloads[i].response);
    }
}

void msg_schema_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_all);
}

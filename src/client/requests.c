/* SPDX-License-Identifier: GPL-2.0-only */
/* Request builders: one batch item each, attributes as items in the
 * message's arena (the message layer encodes them as the version needs). */
#include <stdio.h>
#include <string.h>

#include "client_internal.h"

/* KMIP leaves Opaque Data Type values to vendors (extension range);
 * 0x80000000 is the "None" that PyKMIP and others use. */
#define OPAQUE_DATA_TYPE_NONE 0x80000000u

typedef struct builder {
    kmip_message *m;
    kmip_tree *arena;
    kmip_item *holder;
    bool failed;
} builder;

static builder builder_of(kmip_message *m)
{
    builder b = {m, kmip_message_arena(m), kmip_message_arena_root(m), false};
    return b;
}

static kmip_item *check(builder *b, kmip_item *it)
{
    if (it == NULL)
        b->failed = true;
    return it;
}

static void attr(builder *b, kmip_attr_list *list, uint32_t tag, kmip_item *value)
{
    if (value == NULL || kmip_attr_append(b->m, list, tag, value) == NULL)
        b->failed = true;
}

static void attr_text(builder *b, kmip_attr_list *l, uint32_t tag, const char *s)
{
    if (s)
        attr(b, l, tag, kmip_add_text(b->arena, b->holder, tag, s, strlen(s)));
}

static void attr_enum(builder *b, kmip_attr_list *l, uint32_t tag, uint32_t v)
{
    attr(b, l, tag, kmip_add_enum(b->arena, b->holder, tag, v));
}

static void attr_int(builder *b, kmip_attr_list *l, uint32_t tag, int32_t v)
{
    attr(b, l, tag, kmip_add_int(b->arena, b->holder, tag, v));
}

static void attr_name(builder *b, kmip_attr_list *l, const char *name)
{
    if (name == NULL)
        return;
    kmip_item *n = check(b, kmip_add_struct(b->arena, b->holder, KMIP_TAG_NAME));
    if (n == NULL)
        return;
    check(b, kmip_add_text(b->arena, n, KMIP_TAG_NAME_VALUE, name, strlen(name)));
    check(b, kmip_add_enum(b->arena, n, KMIP_TAG_NAME_TYPE,
                           KMIP_NAME_TYPE_UNINTERPRETED_TEXT_STRING));
    attr(b, l, KMIP_TAG_NAME, n);
}

static void attr_app_info(builder *b, kmip_attr_list *l, const char *ns, const char *data)
{
    if (ns == NULL)
        return;
    kmip_item *s = check(b, kmip_add_struct(b->arena, b->holder,
                                            KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION));
    if (s == NULL)
        return;
    check(b, kmip_add_text(b->arena, s, KMIP_TAG_APPLICATION_NAMESPACE, ns, strlen(ns)));
    const char *d = data ? data : "";
    check(b, kmip_add_text(b->arena, s, KMIP_TAG_APPLICATION_DATA, d, strlen(d)));
    attr(b, l, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION, s);
}

/* Appends an item with a 4-byte Unique Batch Item ID (its position). */
static kmip_batch_item *add_item(builder *b, uint32_t op)
{
    kmip_batch_item *bi = kmip_message_add_item(b->m, op);
    if (bi == NULL) {
        b->failed = true;
        return NULL;
    }
    uint32_t n = (uint32_t)b->m->item_count;
    uint8_t id[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    bi->unique_batch_item_id = kmip_message_copy_bytes(b->m, id, sizeof id);
    bi->has_unique_batch_item_id = bi->unique_batch_item_id.data != NULL;
    b->failed |= !bi->has_unique_batch_item_id;
    return bi;
}

/* Starts a batch item for op in m: its typed payload, or NULL with *e
 * KMIP_CLIENT_E_ARG (no message, or !args_ok) or KMIP_CLIENT_E_NOMEM. */
static void *start_item(kmip_message *m, bool args_ok, uint32_t op, builder *b,
                        kmip_client_err *e)
{
    *e = m == NULL || !args_ok ? KMIP_CLIENT_E_ARG : KMIP_CLIENT_E_NOMEM;
    if (*e == KMIP_CLIENT_E_ARG)
        return NULL;
    *b = builder_of(m);
    kmip_batch_item *bi = add_item(b, op);
    return bi ? bi->payload : NULL;
}

static void set_uid(builder *b, bool *has, kmip_uid *u, const char *uid)
{
    *has = uid != NULL;
    if (uid) {
        u->text = kmip_message_copy_bytes(b->m, uid, strlen(uid));
        b->failed |= u->text.data == NULL;
    }
}

static int32_t default_mask(const kmip_key_spec *s)
{
    if (s->usage_mask)
        return s->usage_mask;
    /* Fortanix refuses Encrypt/Decrypt on Secret Data: use Derive Key |
     * Export there, which every server we know accepts */
    if (s->object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY)
        return (int32_t)(KMIP_CRYPTOGRAPHIC_USAGE_MASK_ENCRYPT | KMIP_CRYPTOGRAPHIC_USAGE_MASK_DECRYPT);
    return (int32_t)(KMIP_CRYPTOGRAPHIC_USAGE_MASK_DERIVE_KEY | KMIP_CRYPTOGRAPHIC_USAGE_MASK_EXPORT);
}

/* The attributes common to Create and Register. */
static void common_attrs(builder *b, kmip_attr_list *l, const kmip_key_spec *s, bool create)
{
    l->present = true;
    if (create || s->object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY) {
        if (create) {
            attr_enum(b, l, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, s->algorithm);
            attr_int(b, l, KMIP_TAG_CRYPTOGRAPHIC_LENGTH, s->length_bits);
        }
    }
    /* Opaque Objects have no usage (servers refuse the attribute on them) */
    if (s->object_type != KMIP_OBJECT_TYPE_OPAQUE_OBJECT)
        attr_int(b, l, KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK, default_mask(s));
    attr_name(b, l, s->name);
    attr_text(b, l, KMIP_TAG_OBJECT_GROUP, s->object_group);
    attr_app_info(b, l, s->app_namespace, s->app_data);
}

static kmip_client_err done(builder *b)
{
    return b->failed ? KMIP_CLIENT_E_NOMEM : KMIP_CLIENT_OK;
}

kmip_client_err kmip_req_add_create(kmip_message *m, const kmip_key_spec *spec)
{
    builder b;
    kmip_client_err e;
    kmip_create_request *r =
        start_item(m, spec && spec->object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY,
                   KMIP_OPERATION_CREATE, &b, &e);
    if (r == NULL)
        return e;
    r->object_type = spec->object_type;
    common_attrs(&b, &r->attributes, spec, true);
    return done(&b);
}

static void fill_key_block(builder *b, kmip_key_block *kb, const kmip_key_spec *s,
                           const uint8_t *material, size_t len)
{
    bool symmetric = s->object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    kb->key_format_type = symmetric ? KMIP_KEY_FORMAT_TYPE_RAW : KMIP_KEY_FORMAT_TYPE_OPAQUE;
    kb->has_key_value = true;
    kb->key_value.key_material =
        check(b, kmip_add_bytes(b->arena, b->holder, KMIP_TAG_KEY_MATERIAL, material, len));
    if (symmetric) {
        kb->has_cryptographic_algorithm = true;
        kb->cryptographic_algorithm = s->algorithm;
        kb->has_cryptographic_length = true;
        kb->cryptographic_length = s->length_bits ? s->length_bits : (int32_t)(len * 8);
    }
}

kmip_client_err kmip_req_add_register(kmip_message *m, const kmip_key_spec *spec,
                                      const uint8_t *material, size_t len)
{
    if (m == NULL || spec == NULL || (material == NULL && len) || len > INT32_MAX / 8)
        return KMIP_CLIENT_E_ARG;
    uint32_t type = spec->object_type;
    if (type != KMIP_OBJECT_TYPE_SYMMETRIC_KEY && type != KMIP_OBJECT_TYPE_SECRET_DATA &&
        type != KMIP_OBJECT_TYPE_OPAQUE_OBJECT)
        return KMIP_CLIENT_E_ARG;
    builder b = builder_of(m);
    kmip_batch_item *bi = add_item(&b, KMIP_OPERATION_REGISTER);
    if (bi == NULL)
        return KMIP_CLIENT_E_NOMEM;
    kmip_register_request *r = bi->payload;
    r->object_type = type;
    common_attrs(&b, &r->attributes, spec, false);
    kmip_object *o = &r->object;
    if (type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY) {
        o->has_symmetric_key = true;
        fill_key_block(&b, &o->symmetric_key.key_block, spec, material, len);
    } else if (type == KMIP_OBJECT_TYPE_SECRET_DATA) {
        o->has_secret_data = true;
        o->secret_data.secret_data_type =
            spec->secret_data_type ? spec->secret_data_type : KMIP_SECRET_DATA_TYPE_SEED;
        fill_key_block(&b, &o->secret_data.key_block, spec, material, len);
    } else {
        o->has_opaque_object = true;
        o->opaque_object.opaque_data_type = OPAQUE_DATA_TYPE_NONE;
        o->opaque_object.opaque_data_value = kmip_message_copy_bytes(m, material, len);
        b.failed |= len && o->opaque_object.opaque_data_value.data == NULL;
    }
    return done(&b);
}

kmip_client_err kmip_req_add_uid_op(kmip_message *m, uint32_t operation, const char *uid)
{
    if (m == NULL)
        return KMIP_CLIENT_E_ARG;
    builder b = builder_of(m);
    kmip_batch_item *bi = add_item(&b, operation);
    if (bi == NULL)
        return KMIP_CLIENT_E_NOMEM;
    if (bi->payload == NULL)
        return KMIP_CLIENT_E_ARG;
    switch (operation) {
    case KMIP_OPERATION_GET: {
        kmip_get_request *r = bi->payload;
        set_uid(&b, &r->has_unique_identifier, &r->unique_identifier, uid);
        break;
    }
    case KMIP_OPERATION_ACTIVATE:
    case KMIP_OPERATION_DESTROY:
    case KMIP_OPERATION_GET_ATTRIBUTE_LIST: {
        kmip_uid_request *r = bi->payload;
        set_uid(&b, &r->has_unique_identifier, &r->unique_identifier, uid);
        break;
    }
    default:
        return KMIP_CLIENT_E_ARG;
    }
    return done(&b);
}

kmip_client_err kmip_req_add_get(kmip_message *m, const char *uid, uint32_t key_format_type)
{
    kmip_client_err e = kmip_req_add_uid_op(m, KMIP_OPERATION_GET, uid);
    if (e != KMIP_CLIENT_OK || key_format_type == 0)
        return e;
    kmip_get_request *r = m->items[m->item_count - 1].payload;
    r->has_key_format_type = true;
    r->key_format_type = key_format_type;
    return KMIP_CLIENT_OK;
}

kmip_client_err kmip_req_add_revoke(kmip_message *m, const char *uid, uint32_t reason_code)
{
    builder b;
    kmip_client_err e;
    kmip_revoke_request *r = start_item(m, true, KMIP_OPERATION_REVOKE, &b, &e);
    if (r == NULL)
        return e;
    set_uid(&b, &r->has_unique_identifier, &r->unique_identifier, uid);
    r->revocation_reason.code = reason_code;
    return done(&b);
}

kmip_client_err kmip_req_add_get_attributes(kmip_message *m, const char *uid,
                                            const uint32_t *tags, size_t count)
{
    builder b;
    kmip_client_err e;
    kmip_get_attributes_request *r =
        start_item(m, tags != NULL || count == 0, KMIP_OPERATION_GET_ATTRIBUTES, &b, &e);
    if (r == NULL)
        return e;
    set_uid(&b, &r->has_unique_identifier, &r->unique_identifier, uid);
    if (count == 0)
        return done(&b);
    /* both forms are filled; the encoder writes the one the version has */
    r->attribute_names = kmip_message_alloc(m, count * sizeof *r->attribute_names);
    r->attribute_references = kmip_message_alloc(m, count * sizeof *r->attribute_references);
    if (r->attribute_names == NULL || r->attribute_references == NULL)
        return KMIP_CLIENT_E_NOMEM;
    for (size_t i = 0; i < count; i++) {
        const char *name = kmip_tag_name(tags[i]);
        if (name == NULL)
            return KMIP_CLIENT_E_ARG;
        r->attribute_names[i].data = (const uint8_t *)name;
        r->attribute_names[i].len = strlen(name);
        r->attribute_references[i] =
            check(&b, kmip_add_enum(b.arena, b.holder, KMIP_TAG_ATTRIBUTE_REFERENCE, tags[i]));
    }
    r->attribute_name_count = r->attribute_reference_count = count;
    return done(&b);
}

/* A Text String attribute value: by its tag when it has one; a custom name
 * ("x-...") is a 1.x Attribute Value under that name, and a 2.x Vendor
 * Attribute (vendor "x"). *tag is 0 for a 1.x custom attribute. */
static kmip_item *text_attribute(builder *b, const char *name, const char *value, uint32_t *tag)
{
    if (kmip_tag_by_name(name, tag))
        return kmip_add_text(b->arena, b->holder, *tag, value, strlen(value));
    if (kmip_message_version(b->m) < KMIP_VERSION(2, 0)) {
        *tag = 0;
        return kmip_add_text(b->arena, b->holder, KMIP_TAG_ATTRIBUTE_VALUE, value, strlen(value));
    }
    *tag = KMIP_TAG_ATTRIBUTE;
    kmip_item *v = kmip_add_struct(b->arena, b->holder, KMIP_TAG_ATTRIBUTE);
    if (v == NULL)
        return NULL;
    bool dash = (name[0] == 'x' || name[0] == 'y') && name[1] == '-';
    const char *bare = dash ? name + 2 : name;
    check(b, kmip_add_text(b->arena, v, KMIP_TAG_VENDOR_IDENTIFICATION, dash ? name : "x", 1));
    check(b, kmip_add_text(b->arena, v, KMIP_TAG_ATTRIBUTE_NAME, bare, strlen(bare)));
    check(b, kmip_add_text(b->arena, v, KMIP_TAG_ATTRIBUTE_VALUE, value, strlen(value)));
    return v;
}

static void append_text_attribute(builder *b, kmip_attr_list *list, const char *name,
                                  const char *value)
{
    uint32_t tag = 0;
    kmip_item *v = text_attribute(b, name, value, &tag);
    kmip_attribute *a = v ? kmip_attr_append(b->m, list, tag, v) : NULL;
    if (a == NULL) {
        b->failed = true;
        return;
    }
    if (tag == 0) {
        a->name = kmip_message_copy_bytes(b->m, name, strlen(name));
        b->failed |= a->name.data == NULL;
    }
}

/* Add Attribute / Modify Attribute with a Text String value. */
kmip_client_err kc_add_attribute_change(kmip_message *m, uint32_t op, const char *uid,
                                        const char *name, const char *current, const char *value)
{
    builder b;
    kmip_client_err e;
    kmip_attribute_change_request *r = start_item(m, true, op, &b, &e);
    if (r == NULL)
        return e;
    set_uid(&b, &r->has_unique_identifier, &r->unique_identifier, uid);
    if (current && op == KMIP_OPERATION_MODIFY_ATTRIBUTE &&
        kmip_message_version(m) >= KMIP_VERSION(2, 0))
        append_text_attribute(&b, &r->current, name, current);
    append_text_attribute(&b, &r->attribute, name, value);
    return done(&b);
}

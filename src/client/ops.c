/* SPDX-License-Identifier: GPL-2.0-only */
/* Single operations: each builds a request, calls, and extracts the answer.
 * Each request is made by a builder (kc_build_fn) that the call keeps, so
 * that a request going to a server of another version than the one it was
 * built at is built again there (kc_call_built). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

/* What the builders below put in a request. */
typedef struct what {
    uint32_t op;
    const char *uid;
    const kmip_key_spec *spec;
    uint32_t format, reason;
    const uint32_t *tags;
    size_t count;
    const char *name, *current, *value;
    bool destroy;
} what;

static kmip_client_err build_create(void *ctx, kmip_message *m)
{
    return kmip_req_add_create(m, ((const what *)ctx)->spec);
}

kmip_client_err kmip_client_create(kmip_client *c, const kmip_key_spec *spec, char *uid_out,
                                   size_t uid_cap)
{
    kmip_message *resp = NULL;
    what w = {.spec = spec};
    kmip_client_err e = kc_call_built(c, build_create, &w, &resp);
    if (e == KMIP_CLIENT_OK)
        e = kc_copy_uid(&c->core,
                        &((kmip_create_response *)resp->items[0].payload)->unique_identifier,
                        uid_out, uid_cap);
    kc_core_recycle(&c->core, resp); /* the next response is decoded into it */
    return e;
}

static kmip_client_err register_op(kmip_client *c, const kmip_key_spec *spec,
                                   const uint8_t *material, size_t len, bool activate,
                                   char *uid_out, size_t uid_cap)
{
    kc_op op;
    kc_op_register(&op, spec, material, len, activate, uid_out, uid_cap);
    return kc_run(c, &op);
}

kmip_client_err kmip_client_register(kmip_client *c, const kmip_key_spec *spec,
                                     const uint8_t *material, size_t len, char *uid_out,
                                     size_t uid_cap)
{
    return register_op(c, spec, material, len, false, uid_out, uid_cap);
}

/* One request message (Register, then Activate of the ID placeholder), or
 * two for a server that refuses placeholders (core_ops.c). If Register
 * succeeded and Activate failed, the object exists: its identifier is
 * returned with the error. */
kmip_client_err kmip_client_register_activate(kmip_client *c, const kmip_key_spec *spec,
                                              const uint8_t *material, size_t len, char *uid_out,
                                              size_t uid_cap)
{
    return register_op(c, spec, material, len, true, uid_out, uid_cap);
}

static kmip_client_err build_uid_op(void *ctx, kmip_message *m)
{
    const what *w = ctx;
    return kmip_req_add_uid_op(m, w->op, w->uid);
}

static kmip_client_err uid_op(kmip_client *c, uint32_t op, const char *uid, kmip_message **resp)
{
    *resp = NULL;
    if (uid == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a Unique Identifier is needed");
    what w = {.op = op, .uid = uid};
    return kc_call_built(c, build_uid_op, &w, resp);
}

static kmip_client_err uid_op_only(kmip_client *c, uint32_t op, const char *uid)
{
    kmip_message *resp = NULL;
    kmip_client_err e = uid_op(c, op, uid, &resp);
    kc_core_recycle(&c->core, resp); /* the next response is decoded into it */
    return e;
}

kmip_client_err kmip_client_get(kmip_client *c, const char *uid, kmip_message **response)
{
    return uid_op(c, KMIP_OPERATION_GET, uid, response);
}

kmip_client_err kmip_client_get_key(kmip_client *c, const char *uid, uint8_t **key, size_t *len,
                                    uint32_t *object_type)
{
    return kmip_client_get_key_as(c, uid, 0, key, len, object_type);
}

static kmip_client_err build_get(void *ctx, kmip_message *m)
{
    const what *w = ctx;
    return kmip_req_add_get(m, w->uid, w->format);
}

kmip_client_err kmip_client_get_key_as(kmip_client *c, const char *uid, uint32_t key_format_type,
                                       uint8_t **key, size_t *len, uint32_t *object_type)
{
    *key = NULL;
    *len = 0;
    kmip_message *resp = NULL;
    if (uid == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a Unique Identifier is needed");
    what w = {.uid = uid, .format = key_format_type};
    kmip_client_err e = kc_call_built(c, build_get, &w, &resp);
    if (e == KMIP_CLIENT_OK) {
        const kmip_get_response *g = resp->items[0].payload;
        e = kc_copy_key(&c->core, g, uid, key, len);
        if (e == KMIP_CLIENT_OK && object_type)
            *object_type = g->object_type;
    }
    kc_core_recycle(&c->core, resp); /* the next response is decoded into it */
    return e;
}

/* One request message (Create, Activate and Get of the ID placeholder),
 * or three for a server that refuses placeholders (core_ops.c). */
kmip_client_err kmip_client_create_activate_get(kmip_client *c, const kmip_key_spec *spec,
                                                char *uid_out, size_t uid_cap, uint8_t **key,
                                                size_t *len)
{
    kc_op op;
    kc_op_create_activate_get(&op, spec, uid_out, uid_cap, key, len);
    return kc_run(c, &op);
}

static kmip_client_err build_get_attributes(void *ctx, kmip_message *m)
{
    const what *w = ctx;
    return kmip_req_add_get_attributes(m, w->uid, w->tags, w->count);
}

kmip_client_err kmip_client_get_attributes(kmip_client *c, const char *uid, const uint32_t *tags,
                                           size_t count, kmip_message **response)
{
    what w = {.uid = uid, .tags = tags, .count = count};
    return kc_call_built(c, build_get_attributes, &w, response);
}

kmip_client_err kmip_client_get_attribute_list(kmip_client *c, const char *uid,
                                               kmip_message **response)
{
    return uid_op(c, KMIP_OPERATION_GET_ATTRIBUTE_LIST, uid, response);
}

/* The attribute's form (a custom one's above all) and Modify Attribute's
 * Current Attribute follow the version of m (kc_add_attribute_change). */
static kmip_client_err build_change(void *ctx, kmip_message *m)
{
    const what *w = ctx;
    return kc_add_attribute_change(m, w->op, w->uid, w->name, w->current, w->value);
}

static kmip_client_err change_attribute(kmip_client *c, uint32_t op, const char *uid,
                                        const char *name, const char *current,
                                        const char *value)
{
    if (uid == NULL || name == NULL || value == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "identifier, attribute name and value are needed");
    kmip_message *resp = NULL;
    what w = {.op = op, .uid = uid, .name = name, .current = current, .value = value};
    kmip_client_err e = kc_call_built(c, build_change, &w, &resp);
    kc_core_recycle(&c->core, resp); /* the next response is decoded into it */
    return e;
}

kmip_client_err kmip_client_add_attribute(kmip_client *c, const char *uid, const char *name,
                                          const char *value)
{
    return change_attribute(c, KMIP_OPERATION_ADD_ATTRIBUTE, uid, name, NULL, value);
}

kmip_client_err kmip_client_modify_attribute(kmip_client *c, const char *uid, const char *name,
                                             const char *current, const char *value)
{
    return change_attribute(c, KMIP_OPERATION_MODIFY_ATTRIBUTE, uid, name, current, value);
}

kmip_client_err kmip_client_activate(kmip_client *c, const char *uid)
{
    return uid_op_only(c, KMIP_OPERATION_ACTIVATE, uid);
}

kmip_client_err kmip_client_destroy(kmip_client *c, const char *uid)
{
    return uid_op_only(c, KMIP_OPERATION_DESTROY, uid);
}

static kmip_client_err build_revoke(void *ctx, kmip_message *m)
{
    const what *w = ctx;
    kmip_client_err e = kmip_req_add_revoke(m, w->uid, w->reason);
    if (e == KMIP_CLIENT_OK && w->destroy)
        e = kmip_req_add_uid_op(m, KMIP_OPERATION_DESTROY, w->uid);
    return e;
}

static kmip_client_err revoke(kmip_client *c, const char *uid, uint32_t reason, bool destroy)
{
    if (uid == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a Unique Identifier is needed");
    kmip_message *resp = NULL;
    what w = {.uid = uid, .reason = reason, .destroy = destroy};
    kmip_client_err e = kc_call_built(c, build_revoke, &w, &resp);
    kc_core_recycle(&c->core, resp); /* the next response is decoded into it */
    return e;
}

kmip_client_err kmip_client_revoke(kmip_client *c, const char *uid, uint32_t reason_code)
{
    return revoke(c, uid, reason_code, false);
}

kmip_client_err kmip_client_revoke_destroy(kmip_client *c, const char *uid)
{
    return revoke(c, uid, KMIP_REVOCATION_REASON_CODE_CESSATION_OF_OPERATION, true);
}

static kmip_client_err build_query(void *ctx, kmip_message *m)
{
    (void)ctx;
    kmip_batch_item *bi = kmip_message_add_item(m, KMIP_OPERATION_QUERY);
    kmip_query_request *q = bi ? bi->payload : NULL;
    static const uint32_t functions[] = {KMIP_QUERY_FUNCTION_QUERY_OPERATIONS,
                                         KMIP_QUERY_FUNCTION_QUERY_OBJECTS,
                                         KMIP_QUERY_FUNCTION_QUERY_SERVER_INFORMATION};
    if (q)
        q->functions = kmip_message_alloc(m, sizeof functions);
    if (q == NULL || q->functions == NULL)
        return KMIP_CLIENT_E_NOMEM;
    memcpy(q->functions, functions, sizeof functions);
    q->function_count = sizeof functions / sizeof functions[0];
    return KMIP_CLIENT_OK;
}

kmip_client_err kmip_client_query(kmip_client *c, kmip_message **response)
{
    return kc_call_built(c, build_query, NULL, response);
}

kmip_client_err kmip_client_locate(kmip_client *c, const kmip_locate_filter *filter,
                                   kmip_uid_fn fn, void *ctx)
{
    kc_clear(c);
    if (filter == NULL || fn == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a filter and a callback are needed");
    kc_op op;
    kc_op_locate(&op, filter, fn, ctx);
    return kc_run(c, &op);
}

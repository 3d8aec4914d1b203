/* SPDX-License-Identifier: GPL-2.0-only */
/* Single operations: each builds a request, calls, and extracts the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

static kmip_client_err build_failed(kmip_client *c, kmip_message *m, kmip_client_err e)
{
    kmip_message_free(m);
    return kc_fail(c, e, "cannot build the request: %s", kmip_client_strerror(e));
}

/* Calls and frees the request; keeps the response for the caller. */
static kmip_client_err call(kmip_client *c, kmip_message *req, kmip_message **resp)
{
    kmip_client_err e = kmip_client_call(c, req, resp);
    kmip_message_free(req);
    return e;
}

kmip_client_err kmip_client_create(kmip_client *c, const kmip_key_spec *spec, char *uid_out,
                                   size_t uid_cap)
{
    kmip_message *req, *resp = NULL;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kmip_req_add_create(req, spec)) != KMIP_CLIENT_OK)
        return build_failed(c, req, e);
    e = call(c, req, &resp);
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

static kmip_client_err uid_op(kmip_client *c, uint32_t op, const char *uid, kmip_message **resp)
{
    if (uid == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a Unique Identifier is needed");
    kmip_message *req;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kmip_req_add_uid_op(req, op, uid)) != KMIP_CLIENT_OK)
        return build_failed(c, req, e);
    return call(c, req, resp);
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

kmip_client_err kmip_client_get_key_as(kmip_client *c, const char *uid, uint32_t key_format_type,
                                       uint8_t **key, size_t *len, uint32_t *object_type)
{
    *key = NULL;
    *len = 0;
    kmip_message *resp = NULL, *req;
    kmip_client_err e = uid == NULL ? kc_fail(c, KMIP_CLIENT_E_ARG, "a Unique Identifier is needed")
                                    : kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kmip_req_add_get(req, uid, key_format_type)) != KMIP_CLIENT_OK)
        return build_failed(c, req, e);
    e = call(c, req, &resp);
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

kmip_client_err kmip_client_get_attributes(kmip_client *c, const char *uid, const uint32_t *tags,
                                           size_t count, kmip_message **response)
{
    kmip_message *req;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kmip_req_add_get_attributes(req, uid, tags, count)) != KMIP_CLIENT_OK)
        return build_failed(c, req, e);
    return call(c, req, response);
}

kmip_client_err kmip_client_get_attribute_list(kmip_client *c, const char *uid,
                                               kmip_message **response)
{
    return uid_op(c, KMIP_OPERATION_GET_ATTRIBUTE_LIST, uid, response);
}

static kmip_client_err change_attribute(kmip_client *c, uint32_t op, const char *uid,
                                        const char *name, const char *current,
                                        const char *value)
{
    if (uid == NULL || name == NULL || value == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "identifier, attribute name and value are needed");
    kmip_message *req, *resp = NULL;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kc_add_attribute_change(req, op, uid, name, current, value)) != KMIP_CLIENT_OK)
        return build_failed(c, req, e);
    e = call(c, req, &resp);
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

static kmip_client_err revoke(kmip_client *c, const char *uid, uint32_t reason, bool destroy)
{
    if (uid == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a Unique Identifier is needed");
    kmip_message *req, *resp = NULL;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kmip_req_add_revoke(req, uid, reason)) != KMIP_CLIENT_OK ||
        (destroy && (e = kmip_req_add_uid_op(req, KMIP_OPERATION_DESTROY, uid)) != KMIP_CLIENT_OK))
        return build_failed(c, req, e);
    e = call(c, req, &resp);
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

kmip_client_err kmip_client_query(kmip_client *c, kmip_message **response)
{
    kmip_message *req;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    kmip_batch_item *bi = kmip_message_add_item(req, KMIP_OPERATION_QUERY);
    kmip_query_request *q = bi ? bi->payload : NULL;
    static const uint32_t functions[] = {KMIP_QUERY_FUNCTION_QUERY_OPERATIONS,
                                         KMIP_QUERY_FUNCTION_QUERY_OBJECTS,
                                         KMIP_QUERY_FUNCTION_QUERY_SERVER_INFORMATION};
    if (q)
        q->functions = kmip_message_alloc(req, sizeof functions);
    if (q == NULL || q->functions == NULL)
        return build_failed(c, req, KMIP_CLIENT_E_NOMEM);
    memcpy(q->functions, functions, sizeof functions);
    q->function_count = sizeof functions / sizeof functions[0];
    return call(c, req, response);
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

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

/* The payload of a successful item i answering op, or NULL. The payload's
 * type follows the item's own Operation: after a mismatch (a protocol
 * error) it must not be read as op's. */
static const void *payload_of(const kmip_message *resp, size_t i, uint32_t op)
{
    if (resp == NULL || i >= resp->item_count)
        return NULL;
    const kmip_batch_item *bi = &resp->items[i];
    bool ok = bi->has_operation && bi->operation == op &&
              bi->result_status == KMIP_RESULT_STATUS_SUCCESS;
    return ok ? bi->payload : NULL;
}

static kmip_client_err copy_uid(kmip_client *c, const kmip_uid *u, char *out, size_t cap)
{
    if (out == NULL)
        return KMIP_CLIENT_OK;
    if (u->is_enum || u->text.len == 0)
        return kc_fail(c, KMIP_CLIENT_E_PROTOCOL, "the server's answer lacks a Unique Identifier");
    if (!kc_uid_text(u, out, cap))
        return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                       "the server's Unique Identifier (%zu bytes) does not fit the buffer",
                       u->text.len);
    return KMIP_CLIENT_OK;
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
        e = copy_uid(c, &((kmip_create_response *)resp->items[0].payload)->unique_identifier,
                     uid_out, uid_cap);
    kmip_message_free(resp);
    return e;
}

static kmip_client_err do_register(kmip_client *c, const kmip_key_spec *spec,
                                   const uint8_t *material, size_t len, bool activate,
                                   char *uid_out, size_t uid_cap, bool *whole_refused)
{
    kmip_message *req, *resp = NULL;
    *whole_refused = false;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kmip_req_add_register(req, spec, material, len)) != KMIP_CLIENT_OK ||
        (activate && (e = kmip_req_add_uid_op(req, KMIP_OPERATION_ACTIVATE, NULL)) != KMIP_CLIENT_OK))
        return build_failed(c, req, e);
    e = call(c, req, &resp);
    const kmip_register_response *reg = payload_of(resp, 0, KMIP_OPERATION_REGISTER);
    if (reg) {
        kmip_client_err ce = copy_uid(c, &reg->unique_identifier, uid_out, uid_cap);
        if (ce != KMIP_CLIENT_OK)
            e = ce;
    } else if (activate && resp && resp->item_count == 1 && e == KMIP_CLIENT_E_SERVER &&
               c->result_reason == KMIP_RESULT_REASON_INVALID_MESSAGE) {
        *whole_refused = true; /* nothing of the message was executed */
    }
    kmip_message_free(resp);
    return e;
}

static kmip_client_err register_then_activate(kmip_client *c, const kmip_key_spec *spec,
                                              const uint8_t *material, size_t len, char *uid_out,
                                              size_t uid_cap)
{
    char uid[256];
    bool refused;
    kmip_client_err e = do_register(c, spec, material, len, false, uid, sizeof uid, &refused);
    if (e == KMIP_CLIENT_OK)
        e = kmip_client_activate(c, uid);
    if (e == KMIP_CLIENT_OK && uid_out && snprintf(uid_out, uid_cap, "%s", uid) >= (int)uid_cap)
        e = kc_fail(c, KMIP_CLIENT_E_ARG, "the identifier buffer is too small");
    return e;
}

kmip_client_err kmip_client_register(kmip_client *c, const kmip_key_spec *spec,
                                     const uint8_t *material, size_t len, char *uid_out,
                                     size_t uid_cap)
{
    bool refused;
    return do_register(c, spec, material, len, false, uid_out, uid_cap, &refused);
}

/* One request message (Register, then Activate of the ID placeholder). A
 * server that refuses the whole message for the placeholder (PyKMIP 0.10)
 * executed nothing of it: the client then registers and activates in two
 * round trips, and remembers to do so from then on. If Register succeeded
 * and Activate failed, the object exists: its identifier is returned with
 * the error. */
kmip_client_err kmip_client_register_activate(kmip_client *c, const kmip_key_spec *spec,
                                              const uint8_t *material, size_t len, char *uid_out,
                                              size_t uid_cap)
{
    if (c->placeholders_rejected)
        return register_then_activate(c, spec, material, len, uid_out, uid_cap);
    bool refused = false;
    kmip_client_err e = do_register(c, spec, material, len, true, uid_out, uid_cap, &refused);
    if (!refused)
        return e;
    c->placeholders_rejected = true;
    kc_log(c, 2, "the KMIP server refuses ID placeholders; Register and Activate are sent "
                 "as two requests from now on");
    return register_then_activate(c, spec, material, len, uid_out, uid_cap);
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
    kmip_message_free(resp);
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
        const uint8_t *p;
        size_t n;
        if (!kmip_object_key_material(&g->object, &p, &n)) {
            e = kc_fail(c, KMIP_CLIENT_E_UNSUPPORTED,
                        "object %s is not a plain symmetric key, secret data or opaque object "
                        "(wrapped, or in a structured key format)", uid);
        } else if ((*key = malloc(n ? n : 1)) == NULL) {
            e = kc_fail(c, KMIP_CLIENT_E_NOMEM, "out of memory");
        } else {
            if (n > 0) /* an empty key may come with p == NULL */
                memcpy(*key, p, n);
            *len = n;
            if (object_type)
                *object_type = g->object_type;
        }
    }
    kmip_message_free(resp);
    return e;
}

static kmip_client_err copy_key(kmip_client *c, const kmip_get_response *g, uint8_t **key,
                                size_t *len)
{
    const uint8_t *p;
    size_t n;
    if (!kmip_object_key_material(&g->object, &p, &n))
        return kc_fail(c, KMIP_CLIENT_E_UNSUPPORTED, "the created key came back in a form "
                       "other than raw bytes");
    *key = malloc(n ? n : 1);
    if (*key == NULL)
        return kc_fail(c, KMIP_CLIENT_E_NOMEM, "out of memory");
    if (n > 0) /* an empty key may come with p == NULL */
        memcpy(*key, p, n);
    *len = n;
    return KMIP_CLIENT_OK;
}

static kmip_client_err create_in_steps(kmip_client *c, const kmip_key_spec *spec, char *uid_out,
                                       size_t uid_cap, uint8_t **key, size_t *len)
{
    char uid[256];
    kmip_client_err e = kmip_client_create(c, spec, uid, sizeof uid);
    if (e != KMIP_CLIENT_OK)
        return e;
    if (uid_out && snprintf(uid_out, uid_cap, "%s", uid) >= (int)uid_cap)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "the identifier buffer is too small");
    e = kmip_client_activate(c, uid);
    if (e == KMIP_CLIENT_OK)
        e = kmip_client_get_key(c, uid, key, len, NULL);
    return e;
}

kmip_client_err kmip_client_create_activate_get(kmip_client *c, const kmip_key_spec *spec,
                                                char *uid_out, size_t uid_cap, uint8_t **key,
                                                size_t *len)
{
    *key = NULL;
    *len = 0;
    if (uid_out && uid_cap)
        uid_out[0] = '\0';
    if (c->placeholders_rejected)
        return create_in_steps(c, spec, uid_out, uid_cap, key, len);
    kmip_message *req, *resp = NULL;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kmip_req_add_create(req, spec)) != KMIP_CLIENT_OK ||
        (e = kmip_req_add_uid_op(req, KMIP_OPERATION_ACTIVATE, NULL)) != KMIP_CLIENT_OK ||
        (e = kmip_req_add_uid_op(req, KMIP_OPERATION_GET, NULL)) != KMIP_CLIENT_OK)
        return build_failed(c, req, e);
    e = call(c, req, &resp);
    bool refused = e == KMIP_CLIENT_E_SERVER && resp && resp->item_count == 1 &&
                   c->result_reason == KMIP_RESULT_REASON_INVALID_MESSAGE;
    const kmip_create_response *created = payload_of(resp, 0, KMIP_OPERATION_CREATE);
    if (!refused && created) {
        kmip_client_err ce = copy_uid(c, &created->unique_identifier, uid_out, uid_cap);
        if (ce != KMIP_CLIENT_OK)
            e = ce;
    }
    if (e == KMIP_CLIENT_OK)
        e = copy_key(c, resp->items[2].payload, key, len);
    kmip_message_free(resp);
    if (!refused)
        return e;
    c->placeholders_rejected = true;
    kc_log(c, 2, "the KMIP server refuses ID placeholders; Create, Activate and Get are sent "
                 "as separate requests from now on");
    return create_in_steps(c, spec, uid_out, uid_cap, key, len);
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
    kmip_message_free(resp);
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
    kmip_message_free(resp);
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

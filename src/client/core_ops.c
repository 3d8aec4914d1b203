/* SPDX-License-Identifier: GPL-2.0-only */
/* The core's multi-step operations (no I/O): each is a program over
 * exchanges, giving its next request and taking its answer. Register +
 * Activate and Create + Activate + Get go as one batch using an ID
 * placeholder; a server that refuses the whole message for the
 * placeholder (PyKMIP 0.10) executed nothing of it, so the operation goes
 * on in separate requests, and the core remembers to do so from then on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

enum {
    STEP_BATCH,    /* the one-message form */
    STEP_REGISTER, /* Register alone */
    STEP_CREATE,   /* Create alone */
    STEP_ACTIVATE, /* Activate of op->uid */
    STEP_GET,      /* Get of op->uid */
};

/* An operation about a new object whose identifier goes to uid_out. */
static void new_object_op(kc_op *op, kc_op_kind kind, const kmip_key_spec *spec, char *uid_out,
                          size_t uid_cap)
{
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->spec = spec;
    op->uid_out = uid_out;
    op->uid_cap = uid_cap;
}

void kc_op_register(kc_op *op, const kmip_key_spec *spec, const uint8_t *material, size_t len,
                    bool activate, char *uid_out, size_t uid_cap)
{
    new_object_op(op, KC_OP_REGISTER, spec, uid_out, uid_cap);
    op->material = material;
    op->material_len = len;
    op->activate = activate;
    op->step = activate ? STEP_BATCH : STEP_REGISTER;
    if (uid_out && uid_cap)
        uid_out[0] = '\0';
}

void kc_op_create_activate_get(kc_op *op, const kmip_key_spec *spec, char *uid_out,
                               size_t uid_cap, uint8_t **key, size_t *len)
{
    new_object_op(op, KC_OP_CREATE_ACTIVATE_GET, spec, uid_out, uid_cap);
    op->key = key;
    op->key_len = len;
    op->step = STEP_BATCH;
    *key = NULL;
    *len = 0;
    if (uid_out && uid_cap)
        uid_out[0] = '\0';
}

void kc_op_free(kc_op *op)
{
    kc_locate_free(op);
    free(op->uid);
    op->uid = NULL;
}

static void finish(kc_op *op, kmip_client_err e)
{
    op->done = true;
    op->result = e;
}

/* The request of the current step (nothing sent yet), at m's version. */
static kmip_client_err build(kc_op *op, kmip_message *m)
{
    kmip_client_err e = KMIP_CLIENT_OK;
    switch (op->step) {
    case STEP_BATCH:
        if (op->kind == KC_OP_REGISTER) {
            if ((e = kmip_req_add_register(m, op->spec, op->material, op->material_len)) ==
                KMIP_CLIENT_OK)
                e = kmip_req_add_uid_op(m, KMIP_OPERATION_ACTIVATE, NULL);
            return e;
        }
        if ((e = kmip_req_add_create(m, op->spec)) == KMIP_CLIENT_OK &&
            (e = kmip_req_add_uid_op(m, KMIP_OPERATION_ACTIVATE, NULL)) == KMIP_CLIENT_OK)
            e = kmip_req_add_uid_op(m, KMIP_OPERATION_GET, NULL);
        return e;
    case STEP_REGISTER:
        return kmip_req_add_register(m, op->spec, op->material, op->material_len);
    case STEP_CREATE:
        return kmip_req_add_create(m, op->spec);
    case STEP_ACTIVATE:
        return kmip_req_add_uid_op(m, KMIP_OPERATION_ACTIVATE, op->uid);
    case STEP_GET:
        return kmip_req_add_get(m, op->uid, 0);
    default:
        return KMIP_CLIENT_E_ARG;
    }
}

kmip_client_err kc_op_build(void *ctx, kmip_message *m)
{
    kc_op *op = ctx;
    return op->kind == KC_OP_LOCATE ? kc_locate_build(op, m) : build(op, m);
}

bool kc_op_next(kc_core *k, kc_op *op, kmip_message **request)
{
    *request = NULL;
    if (op->done)
        return false;
    if (op->kind == KC_OP_LOCATE)
        return kc_locate_next(k, op, request);
    /* a server known to refuse placeholders gets the steps at once */
    if (op->step == STEP_BATCH && k->placeholders_rejected)
        op->step = op->kind == KC_OP_REGISTER ? STEP_REGISTER : STEP_CREATE;
    kmip_message *m = kmip_message_new(false, k->version);
    if (m == NULL) {
        finish(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
        return false;
    }
    kmip_client_err e = build(op, m);
    if (e != KMIP_CLIENT_OK) {
        kmip_message_free(m);
        finish(op, kc_status_fail(&k->st, e, "cannot build the request: %s",
                                  kmip_client_strerror(e)));
        return false;
    }
    *request = m;
    return true;
}

/* The whole message was refused for its placeholder: nothing of it ran.
 * Only a single failed item that check_response took as the whole
 * message's or its first item's (no Operation or Unique Batch Item ID of
 * a later item: PyKMIP 0.10 answers a message it cannot parse with one
 * item naming neither) says so; one answering the Activate said the
 * Register ran, and is a protocol error there, never a reason to send the
 * Register again. */
static bool whole_refused(const kc_core *k, kmip_client_err e, const kmip_message *resp)
{
    return e == KMIP_CLIENT_E_SERVER && resp && resp->item_count == 1 &&
           k->st.result_reason == KMIP_RESULT_REASON_INVALID_MESSAGE;
}

static void placeholders_refused(kc_core *k, kc_op *op)
{
    k->placeholders_rejected = true;
    if (k->log)
        k->log(k->log_ctx, 2,
               op->kind == KC_OP_REGISTER
                   ? "the KMIP server refuses ID placeholders; Register and Activate are sent "
                     "as two requests from now on"
                   : "the KMIP server refuses ID placeholders; Create, Activate and Get are "
                     "sent as separate requests from now on");
    op->step = op->kind == KC_OP_REGISTER ? STEP_REGISTER : STEP_CREATE;
}

/* The identifier of a step's answer into the caller's buffer; a Register
 * that succeeded is reported with the error of an Activate that failed:
 * the object exists. */
static kmip_client_err take_uid(kc_core *k, kc_op *op, kmip_client_err e, const kmip_uid *u)
{
    kmip_client_err ce = kc_copy_uid(k, u, op->uid_out, op->uid_cap);
    return ce != KMIP_CLIENT_OK ? ce : e;
}

/* Separate requests: the new object's identifier (any length the decoder
 * took, up to KC_MAX_UID) kept for the next steps and handed to the caller
 * at once, so that it names the object whatever a later step does. */
#define KC_MAX_UID 65536
static kmip_client_err keep_uid(kc_core *k, kc_op *op, const kmip_uid *u)
{
    if (u->is_enum || u->text.len == 0)
        return kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                              "the server's answer lacks a Unique Identifier");
    if (u->text.len > KC_MAX_UID)
        return kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                              "the server's Unique Identifier is %zu bytes (at most %d taken); "
                              "the object it made begins \"%.64s\"", u->text.len, KC_MAX_UID,
                              (const char *)u->text.data);
    free(op->uid);
    op->uid = malloc(u->text.len + 1);
    if (op->uid == NULL)
        return kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory");
    memcpy(op->uid, u->text.data, u->text.len);
    op->uid[u->text.len] = '\0';
    if (op->uid_out && !kmip_text_copy(u->text.data, u->text.len, op->uid_out, op->uid_cap))
        return kc_status_fail(&k->st, KMIP_CLIENT_E_ARG,
                              "the identifier buffer (%zu bytes) is too small for the new "
                              "object's identifier (%zu bytes): \"%.700s\"", op->uid_cap,
                              u->text.len, op->uid);
    return KMIP_CLIENT_OK;
}

static void answer_register(kc_core *k, kc_op *op, kmip_client_err e, const kmip_message *resp)
{
    const kmip_register_response *reg = kc_payload_of(resp, 0, KMIP_OPERATION_REGISTER);
    switch (op->step) {
    case STEP_BATCH:
        if (reg)
            finish(op, take_uid(k, op, e, &reg->unique_identifier));
        else if (whole_refused(k, e, resp))
            placeholders_refused(k, op);
        else
            finish(op, e);
        return;
    case STEP_REGISTER:
        if (reg)
            e = op->activate ? keep_uid(k, op, &reg->unique_identifier)
                             : take_uid(k, op, e, &reg->unique_identifier);
        if (e != KMIP_CLIENT_OK || !op->activate)
            finish(op, e);
        else
            op->step = STEP_ACTIVATE;
        return;
    default: /* STEP_ACTIVATE: uid_out names the object whatever e is */
        finish(op, e);
        return;
    }
}

static void answer_create(kc_core *k, kc_op *op, kmip_client_err e, const kmip_message *resp)
{
    const kmip_create_response *created = kc_payload_of(resp, 0, KMIP_OPERATION_CREATE);
    switch (op->step) {
    case STEP_BATCH:
        if (whole_refused(k, e, resp)) {
            placeholders_refused(k, op);
            return;
        }
        if (created)
            e = take_uid(k, op, e, &created->unique_identifier);
        if (e == KMIP_CLIENT_OK)
            e = kc_copy_key(k, resp->items[2].payload, NULL, op->key, op->key_len);
        finish(op, e);
        return;
    case STEP_CREATE:
        if (e == KMIP_CLIENT_OK) /* the typed payload of a checked answer */
            e = keep_uid(k, op,
                         &((const kmip_create_response *)resp->items[0].payload)->unique_identifier);
        if (e != KMIP_CLIENT_OK)
            finish(op, e);
        else
            op->step = STEP_ACTIVATE;
        return;
    case STEP_ACTIVATE:
        if (e != KMIP_CLIENT_OK)
            finish(op, e);
        else
            op->step = STEP_GET;
        return;
    default: /* STEP_GET */
        if (e == KMIP_CLIENT_OK)
            e = kc_copy_key(k, resp->items[0].payload, op->uid, op->key, op->key_len);
        finish(op, e);
        return;
    }
}

void kc_op_answer(kc_core *k, kc_op *op, kmip_client_err e, kmip_message *response)
{
    if (!op->done) {
        if (op->kind == KC_OP_LOCATE)
            kc_locate_answer(k, op, e, response);
        else if (op->kind == KC_OP_REGISTER)
            answer_register(k, op, e, response);
        else
            answer_create(k, op, e, response);
    }
    kc_core_recycle(k, response);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The client's sans-I/O core: one exchange at a time (encode, frame,
 * decode, match the answer to the request), the decision after a failed
 * attempt, and version negotiation. No sockets, no clock, no OpenSSL: the
 * drivers (client.c, fuzz/fuzz_core.c) move the bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Versions this client can speak, most preferred first. */
static const unsigned our_versions[] = {
    KMIP_VERSION(2, 1), KMIP_VERSION(2, 0), KMIP_VERSION(1, 4), KMIP_VERSION(1, 3),
    KMIP_VERSION(1, 2), KMIP_VERSION(1, 1), KMIP_VERSION(1, 0),
};

kmip_client_err kc_status_vfail(kc_status *s, kmip_client_err code, const char *fmt, va_list ap)
{
    s->err = code;
    vsnprintf(s->message, sizeof s->message, fmt, ap);
    return code;
}

kmip_client_err kc_status_fail(kc_status *s, kmip_client_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kc_status_vfail(s, code, fmt, ap);
    va_end(ap);
    return code;
}

void kc_status_clear(kc_status *s)
{
    s->err = KMIP_CLIENT_OK;
    s->message[0] = '\0';
    s->has_result = false;
}

static void core_log(const kc_core *k, int level, const char *message)
{
    if (k->log)
        k->log(k->log_ctx, level, message);
}

void kc_core_init(kc_core *k, unsigned pinned_version, size_t max_response, size_t server_count,
                  kmip_log_fn log, void *log_ctx)
{
    memset(k, 0, sizeof *k);
    k->pinned_version = pinned_version;
    k->max_response = max_response;
    k->server_count = server_count ? server_count : 1;
    k->log = log;
    k->log_ctx = log_ctx;
    k->peer = "(unknown)";
    k->ev = KC_EV_IDLE;
}

void kc_core_reset(kc_core *k)
{
    kmip_secure_free(k->out, k->out_len);
    k->out = NULL;
    k->out_len = 0;
    kmip_framer_free(k->framer);
    k->framer = NULL;
    kmip_message_free(k->resp);
    k->resp = NULL;
    k->req = NULL;
    k->build = NULL;
    k->build_ctx = NULL;
    k->version_resent = false;
    k->tied = false;
    k->ev = KC_EV_IDLE;
}

void kc_core_recycle(kc_core *k, kmip_message *m)
{
    if (m == NULL)
        return;
    if (k->spare != NULL || (uintptr_t)m != k->last || k->last_len > KC_SPARE_MAX_RESPONSE) {
        kmip_message_free(m);
        return;
    }
    kmip_message_reset(m);
    k->spare = m;
}

void kc_core_clear(kc_core *k)
{
    kc_core_reset(k);
    kmip_message_free(k->spare);
    k->spare = NULL;
    kmip_secure_zero(&k->st, sizeof k->st);
}

const char *kc_operation_name(uint32_t op)
{
    const kmip_value_def *v = kmip_enum_value(kmip_enum_for_tag(KMIP_TAG_OPERATION), op);
    return v ? v->name : "an unknown operation";
}

static const char *reason_name(uint32_t reason)
{
    const kmip_value_def *v = kmip_enum_value(kmip_enum_for_tag(KMIP_TAG_RESULT_REASON), reason);
    return v ? v->name : "unknown reason";
}

static bool idempotent(uint32_t op)
{
    return op == KMIP_OPERATION_GET || op == KMIP_OPERATION_GET_ATTRIBUTES ||
           op == KMIP_OPERATION_GET_ATTRIBUTE_LIST || op == KMIP_OPERATION_LOCATE ||
           op == KMIP_OPERATION_QUERY || op == KMIP_OPERATION_DISCOVER_VERSIONS;
}

static bool all_idempotent(const kmip_message *m)
{
    for (size_t i = 0; i < m->item_count; i++)
        if (!idempotent(m->items[i].operation))
            return false;
    return true;
}

/* Encodes request and arms the exchange; checked: match the answer. */
static kmip_client_err arm(kc_core *k, kmip_message *request, bool checked)
{
    kc_core_reset(k);
    uint8_t *bytes = NULL;
    size_t len = 0;
    kmip_err ee = kmip_message_encode(request, &bytes, &len);
    if (ee != KMIP_OK)
        return kc_status_fail(&k->st, ee == KMIP_E_NOMEM ? KMIP_CLIENT_E_NOMEM : KMIP_CLIENT_E_ARG,
                              "cannot encode %s: %s",
                              checked ? "the request" : "Discover Versions", kmip_strerror(ee));
    k->req = request;
    k->checked = checked;
    k->safe = all_idempotent(request);
    k->out = bytes;
    k->out_len = len;
    k->sent = false;
    k->attempt = 0;
    k->failovers_left = k->server_count - 1;
    k->ev = KC_EV_SEND;
    return KMIP_CLIENT_OK;
}

static unsigned version_of(const kmip_message *request)
{
    const kmip_protocol_version *pv = &request->request_header.protocol_version;
    return (unsigned)KMIP_VERSION(pv->major, pv->minor);
}

static void version_shown(unsigned v, char *buf, size_t cap)
{
    snprintf(buf, cap, "KMIP %u.%u", v >> 8, v & 0xFF);
}

/* What of a request made without a builder a change of version from
 * `from` to `to` alters, which the message layer cannot carry over (it
 * writes each version's own form of everything else), or NULL. */
static const char *version_bound(const kmip_message *request, unsigned from, unsigned to)
{
    bool across = (from < KMIP_VERSION(2, 0)) != (to < KMIP_VERSION(2, 0));
    for (size_t i = 0; i < request->item_count; i++) {
        const kmip_batch_item *bi = &request->items[i];
        const kmip_attr_list *lists[2] = {NULL, NULL};
        if (bi->payload == NULL)
            continue;
        switch (bi->operation) {
        case KMIP_OPERATION_CREATE:
            lists[0] = &((const kmip_create_request *)bi->payload)->attributes;
            break;
        case KMIP_OPERATION_REGISTER:
            lists[0] = &((const kmip_register_request *)bi->payload)->attributes;
            break;
        case KMIP_OPERATION_LOCATE: {
            const kmip_locate_request *l = bi->payload;
            if (l->has_offset_items && to < KMIP_VERSION(1, 3))
                return "Offset Items (KMIP 1.3 and later)";
            lists[0] = &l->attributes;
            break;
        }
        case KMIP_OPERATION_ADD_ATTRIBUTE:
        case KMIP_OPERATION_MODIFY_ATTRIBUTE: {
            const kmip_attribute_change_request *r = bi->payload;
            if (r->current.count > 0 && to < KMIP_VERSION(2, 0))
                return "a Current Attribute (KMIP 2.0 and later)";
            lists[0] = &r->attribute;
            lists[1] = &r->current;
            break;
        }
        default:
            break;
        }
        for (size_t l = 0; across && l < 2; l++)
            for (const kmip_attribute *a = lists[l] ? lists[l]->first : NULL; a; a = a->next)
                if (a->tag == 0 || a->tag == KMIP_TAG_ATTRIBUTE)
                    return "a custom attribute (a 1.x Attribute by name, a 2.x Vendor "
                           "Attribute)";
    }
    return NULL;
}

/* request, armed or being armed, made ready for k->version: built again
 * by its builder, or checked that nothing of it depends on the version;
 * its header then says k->version. */
static kmip_client_err to_version(kc_core *k, kmip_message *request)
{
    unsigned from = version_of(request), to = k->version;
    char was[32], now[32];
    version_shown(from, was, sizeof was);
    version_shown(to, now, sizeof now);
    if (k->version != 0 && from != to && k->build) {
        kmip_message_reset(request); /* wiped: key material of a Register too */
        request->request_header.protocol_version.major = (int32_t)(to >> 8);
        request->request_header.protocol_version.minor = (int32_t)(to & 0xFF);
        kmip_client_err e = k->build(k->build_ctx, request);
        if (e == KMIP_CLIENT_OK && request->item_count == 0)
            e = KMIP_CLIENT_E_ARG;
        if (e != KMIP_CLIENT_OK)
            return kc_status_fail(&k->st, e, "cannot build the request again in %s (the "
                                  "version of the KMIP server at %s, it was built for %s): %s",
                                  now, k->peer, was, kmip_client_strerror(e));
    } else if (k->version != 0 && from != to) {
        const char *bound = version_bound(request, from, to);
        if (bound)
            return kc_status_fail(&k->st, KMIP_CLIENT_E_UNSUPPORTED,
                                  "the request was built for %s and holds %s, which %s (the "
                                  "version of the KMIP server at %s) writes otherwise or not "
                                  "at all; build it again at the client's version "
                                  "(kmip_client_request) and send it again", was, bound, now,
                                  k->peer);
    }
    request->request_header.protocol_version.major = (int32_t)(to >> 8);
    request->request_header.protocol_version.minor = (int32_t)(to & 0xFF);
    return KMIP_CLIENT_OK;
}

kmip_client_err kc_core_begin(kc_core *k, kmip_message *request)
{
    return kc_core_begin_built(k, request, NULL, NULL);
}

/* The header options the core sets on every request it arms. */
static void stamp(kmip_message *request)
{
    /* Reads batched in one message are independent of each other: the
     * server is asked to answer every item even when one fails (KMIP 1.0
     * section 6.7, Batch Error Continuation Option; its default is Stop, and
     * a stopping server such as PyKMIP sends no answer at all for the items
     * after the failure: one object destroyed by another writer between a
     * Locate and the Gets of a load would fail the whole batch). Chained
     * writes (placeholders, Revoke then Destroy) keep Stop. */
    if (request->item_count > 1 && all_idempotent(request)) {
        request->request_header.has_batch_error_continuation_option = true;
        request->request_header.batch_error_continuation_option =
            KMIP_BATCH_ERROR_CONTINUATION_OPTION_CONTINUE;
    }
}

kmip_client_err kc_core_begin_built(kc_core *k, kmip_message *request, kc_build_fn build,
                                    void *ctx)
{
    if (request == NULL || request->is_response || request->item_count == 0)
        return kc_status_fail(&k->st, KMIP_CLIENT_E_ARG,
                              "a request with at least one batch item is needed");
    kc_core_reset(k);
    k->build = build;
    k->build_ctx = ctx;
    kmip_client_err e = to_version(k, request);
    if (e != KMIP_CLIENT_OK) {
        kc_core_reset(k);
        return e;
    }
    stamp(request);
    e = arm(k, request, true);
    if (e == KMIP_CLIENT_OK) {
        k->build = build; /* arm reset the exchange */
        k->build_ctx = ctx;
    }
    return e;
}

/* Encodes request into a, an exchange armed but not yet the core's (the
 * core's own exchange is left alone). */
static kmip_client_err encode_armed(kc_core *k, kmip_message *request, kc_armed *a)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    kmip_err ee = kmip_message_encode(request, &bytes, &len);
    if (ee != KMIP_OK)
        return kc_status_fail(&k->st, ee == KMIP_E_NOMEM ? KMIP_CLIENT_E_NOMEM : KMIP_CLIENT_E_ARG,
                              "cannot encode the request: %s", kmip_strerror(ee));
    *a = (kc_armed){.ev = KC_EV_SEND, .req = request, .checked = true,
                    .safe = all_idempotent(request), .sent = false, .attempt = 0,
                    .failovers_left = k->server_count - 1, .out = bytes, .out_len = len};
    return KMIP_CLIENT_OK;
}

/* An item whose answer can be told from another request's answer: it
 * must name the object asked for (check_response). Locate and Query
 * answers name nothing, and Unique Batch Item IDs are positions, the same
 * in every request: in a pipeline a skipped answer would pass as the next
 * request's (review s7 R7-6). */
static const kmip_uid *asked_uid(const kmip_batch_item *rq);

static bool tied_read(const kmip_batch_item *it)
{
    return (it->operation == KMIP_OPERATION_GET ||
            it->operation == KMIP_OPERATION_GET_ATTRIBUTES) &&
           asked_uid(it) != NULL;
}

kmip_client_err kc_core_prepare(kc_core *k, kmip_message *request, kc_armed *a)
{
    *a = (kc_armed){.ev = KC_EV_IDLE};
    if (request == NULL || request->is_response || request->item_count == 0)
        return kc_status_fail(&k->st, KMIP_CLIENT_E_ARG,
                              "a request with at least one batch item is needed");
    for (size_t i = 0; i < request->item_count; i++)
        if (!tied_read(&request->items[i]))
            return kc_status_fail(&k->st, KMIP_CLIENT_E_ARG,
                                  "only Get and Get Attributes of a named object (a Unique "
                                  "Identifier, no ID placeholder) may be pipelined: their "
                                  "answers name the object, so that an answer cannot pass for "
                                  "another request's; item %zu is %s%s", i + 1,
                                  kc_operation_name(request->items[i].operation),
                                  request->items[i].operation == KMIP_OPERATION_GET ||
                                          request->items[i].operation ==
                                              KMIP_OPERATION_GET_ATTRIBUTES
                                      ? " without a Unique Identifier"
                                      : "");
    /* the caller's request, without a builder: to_version must not use
     * the builder of the core's own (idle) exchange */
    kc_build_fn build = k->build;
    void *build_ctx = k->build_ctx;
    k->build = NULL;
    kmip_client_err e = to_version(k, request);
    k->build = build;
    k->build_ctx = build_ctx;
    if (e != KMIP_CLIENT_OK)
        return e;
    stamp(request);
    /* Unique Batch Item IDs of this request alone (the pipeline's sequence
     * number, then the item's position), which every answer item must
     * carry back (check_response): a failed item names no object, and with
     * the builder's positions, the same in every request, a refusal a
     * server sent twice or skipped passed for the next request's answer
     * ("Item Not Found" of an object that exists: the keyring's load skips
     * such keys as destroyed while it loaded) */
    uint32_t seq = k->pipe_seq++;
    for (size_t i = 0; i < request->item_count; i++) {
        uint32_t n = (uint32_t)i + 1;
        uint8_t id[8] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
                         (uint8_t)seq,         (uint8_t)(n >> 24),   (uint8_t)(n >> 16),
                         (uint8_t)(n >> 8),    (uint8_t)n};
        kmip_bytes b = kmip_message_copy_bytes(request, id, sizeof id);
        if (b.data == NULL)
            return kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory");
        request->items[i].unique_batch_item_id = b;
        request->items[i].has_unique_batch_item_id = true;
    }
    e = encode_armed(k, request, a);
    a->tied = e == KMIP_CLIENT_OK;
    return e;
}

void kc_armed_drop(kc_armed *a)
{
    kmip_secure_free(a->out, a->out_len);
    kmip_message_free(a->resp);
    *a = (kc_armed){.ev = KC_EV_IDLE};
}

kc_event kc_core_event(const kc_core *k)
{
    return k->ev;
}

void kc_core_output(const kc_core *k, const uint8_t **data, size_t *len)
{
    *data = k->ev == KC_EV_SEND ? k->out : NULL;
    *len = k->ev == KC_EV_SEND ? k->out_len : 0;
}

void kc_core_sent(kc_core *k)
{
    if (k->ev != KC_EV_SEND)
        return;
    k->sent = true;
    k->ev = KC_EV_RECV;
}

static kc_event failed(kc_core *k)
{
    kmip_framer_free(k->framer);
    k->framer = NULL;
    k->ev = KC_EV_FAILED;
    return k->ev;
}

/* A whole message: decode it; it must be a response. */
static kc_event decode(kc_core *k, const uint8_t *bytes, size_t n)
{
    kmip_msg_error merr;
    /* into the spare message when there is one (it stays the spare, empty,
     * if the bytes are refused) */
    kmip_message *m = k->spare;
    k->spare = NULL;
    /* within the same limit as the framer (review R1-2: the decoder's
     * default 1 MiB refused larger responses max_response allowed) */
    kmip_err de = kmip_message_decode_into_max(&m, bytes, n, k->max_response, &merr);
    k->resp = de == KMIP_OK ? m : NULL;
    k->last = (uintptr_t)m;
    k->last_len = n;
    if (de != KMIP_OK) {
        kc_core_recycle(k, m); /* empty: kept unless it grew large */
        kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                       "malformed response from the KMIP server at %s: %s (%s)", k->peer,
                       merr.detail, kmip_strerror(de));
        return failed(k);
    }
    if (!k->resp->is_response) {
        kc_core_recycle(k, k->resp);
        k->resp = NULL;
        kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                       "the KMIP server sent a request, not a response");
        return failed(k);
    }
    kmip_framer_free(k->framer);
    k->framer = NULL;
    k->ev = KC_EV_RESPONSE;
    return k->ev;
}

/* True when DATA is exactly one whole Response Message whose header the
 * framer would accept (tag, type Structure, length a multiple of 8 and
 * within max_response): the blocking client's transport hands over
 * messages it has framed already, and this lets the core decode them where
 * they are instead of framing them a second time into a copy. Anything else
 * (a part, several, a bad header) goes through the framer, which gives the
 * errors. KMIP 1.4 section 9.1.1: 3-byte tag, 1-byte type, 4-byte length. */
static bool whole_message(const kc_core *k, const uint8_t *data, size_t len)
{
    if (len < 8)
        return false;
    uint32_t tag = (uint32_t)data[0] << 16 | (uint32_t)data[1] << 8 | data[2];
    if (tag != KMIP_TAG_RESPONSE_MESSAGE || data[3] != KMIP_TYPE_STRUCTURE)
        return false;
    size_t body = (size_t)data[4] << 24 | (size_t)data[5] << 16 | (size_t)data[6] << 8 |
                  (size_t)data[7];
    return body % 8 == 0 && k->max_response >= 8 && body <= k->max_response - 8 &&
           body == len - 8;
}

kc_event kc_core_feed(kc_core *k, const uint8_t *data, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (k->ev != KC_EV_RECV)
        return k->ev;
    if (k->framer == NULL && whole_message(k, data, len)) {
        *consumed = len;
        return decode(k, data, len);
    }
    if (k->framer == NULL) {
        k->framer = kmip_framer_new();
        if (k->framer == NULL) {
            kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory");
            return failed(k);
        }
        kmip_framer_set_max_message_size(k->framer, k->max_response);
        kmip_framer_set_expected_tag(k->framer, KMIP_TAG_RESPONSE_MESSAGE);
    }
    kmip_err fe = kmip_framer_feed(k->framer, data, len, consumed);
    if (fe != KMIP_OK) {
        if (fe == KMIP_E_LIMIT_SIZE)
            kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                           "the KMIP server at %s announced a response larger than the limit "
                           "of %zu bytes", k->peer, k->max_response);
        else if (fe == KMIP_E_NOMEM)
            kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory");
        else
            kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                           "the KMIP server at %s sent something that is not a KMIP response "
                           "message (%s)", k->peer, kmip_strerror(fe));
        return failed(k);
    }
    if (!kmip_framer_ready(k->framer))
        return k->ev;
    uint8_t *msg = NULL;
    size_t n = 0;
    if (kmip_framer_take(k->framer, &msg, &n) != KMIP_OK) {
        kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory");
        return failed(k);
    }
    kc_event ev = decode(k, msg, n);
    kmip_secure_free(msg, n);
    return ev;
}

/* ---- matching an answer to its request ---- */

static void record_result(kc_core *k, const kmip_batch_item *ri, uint32_t op)
{
    kc_status *s = &k->st;
    s->has_result = true;
    s->result_status = ri->result_status;
    s->result_reason = ri->has_result_reason ? ri->result_reason : 0;
    size_t n = ri->has_result_message ? ri->result_message.len : 0;
    if (n >= sizeof s->result_message)
        n = sizeof s->result_message - 1;
    if (n)
        memcpy(s->result_message, ri->result_message.data, n);
    s->result_message[n] = '\0';
    kc_status_fail(s, s->result_reason == KMIP_RESULT_REASON_ITEM_NOT_FOUND
                          ? KMIP_CLIENT_E_NOT_FOUND
                          : KMIP_CLIENT_E_SERVER,
                   "the KMIP server refused %s: %s%s%s%s", kc_operation_name(op),
                   ri->has_result_reason ? reason_name(s->result_reason) : "no reason given",
                   n ? " (" : "", s->result_message, n ? ")" : "");
}

static bool same_id(const kmip_batch_item *a, const kmip_batch_item *b)
{
    return a->unique_batch_item_id.len == b->unique_batch_item_id.len &&
           memcmp(a->unique_batch_item_id.data, b->unique_batch_item_id.data,
                  a->unique_batch_item_id.len) == 0;
}

/* Where the Unique Identifier is in the payloads of the operations whose
 * answer must name the object asked for: the request's (its has_ flag and
 * value) and the response's. */
typedef struct uid_fields {
    uint32_t op;
    size_t asked_has, asked, answered;
} uid_fields;

#define UID_FIELDS(op, rq, rs)                                                                 \
    {op, offsetof(rq, has_unique_identifier), offsetof(rq, unique_identifier),                \
     offsetof(rs, unique_identifier)}

static const uid_fields uid_table[] = {
    UID_FIELDS(KMIP_OPERATION_GET, kmip_get_request, kmip_get_response),
    UID_FIELDS(KMIP_OPERATION_GET_ATTRIBUTES, kmip_get_attributes_request,
               kmip_get_attributes_response),
    UID_FIELDS(KMIP_OPERATION_ACTIVATE, kmip_uid_request, kmip_uid_response),
    UID_FIELDS(KMIP_OPERATION_DESTROY, kmip_uid_request, kmip_uid_response),
    UID_FIELDS(KMIP_OPERATION_REVOKE, kmip_revoke_request, kmip_uid_response),
};

static const uid_fields *uid_fields_of(uint32_t op)
{
    for (size_t i = 0; i < sizeof uid_table / sizeof uid_table[0]; i++)
        if (uid_table[i].op == op)
            return &uid_table[i];
    return NULL;
}

/* The Unique Identifier a request item names (NULL for none, or an ID
 * placeholder), and the one its answer names. */
static const kmip_uid *asked_uid(const kmip_batch_item *rq)
{
    const uid_fields *f = uid_fields_of(rq->operation);
    const char *p = rq->payload;
    if (f == NULL || p == NULL || !*(const bool *)(p + f->asked_has))
        return NULL;
    return (const kmip_uid *)(p + f->asked);
}

static const kmip_uid *answered_uid(uint32_t op, const void *payload)
{
    const uid_fields *f = uid_fields_of(op);
    return f ? (const kmip_uid *)((const char *)payload + f->answered) : NULL;
}

/* The object a successful item made, which the ID Placeholder stands for
 * in the items after it (the operations of ours that make one: Create,
 * Register). */
static const kmip_uid *made_uid(uint32_t op, const void *payload)
{
    if (op == KMIP_OPERATION_CREATE)
        return &((const kmip_create_response *)payload)->unique_identifier;
    if (op == KMIP_OPERATION_REGISTER)
        return &((const kmip_register_response *)payload)->unique_identifier;
    return NULL;
}

static bool same_uid(const kmip_uid *a, const kmip_uid *b)
{
    if (a->is_enum || b->is_enum)
        return a->is_enum == b->is_enum && a->enum_value == b->enum_value;
    return a->text.len == b->text.len &&
           (a->text.len == 0 || memcmp(a->text.data, b->text.data, a->text.len) == 0);
}

/* "\"uid\"" for messages (cut at the buffer), or "(none)". */
static void uid_shown(const kmip_uid *u, char *buf, size_t cap)
{
    if (u->is_enum)
        snprintf(buf, cap, "(placeholder %u)", u->enum_value);
    else if (u->text.len == 0)
        snprintf(buf, cap, "(none)");
    else
        snprintf(buf, cap, "\"%.*s\"", (int)(u->text.len < cap - 3 ? u->text.len : cap - 3),
                 (const char *)u->text.data);
}

/* A response item carries the Unique Batch Item ID its request item sent;
 * it may leave it out only when the request had one item (KMIP 1.4
 * section 7.2 requires it back when present), and it never carries one
 * that was not sent. */
/* A failed answer item for an operation that carries no Unique Batch Item
 * ID, answering a pipelined request (k->tied). A failed item names no
 * object, so only the ID, which no other request in flight has
 * (kc_core_prepare), tells it from another request's refusal (one a server
 * sent twice or in place of a skipped answer: "Item Not Found" of an object
 * that exists). A successful item names its object, which check_response
 * compares; a failure naming no operation is the whole message's. */
static bool untied_failure(const kc_core *k, const kmip_batch_item *rs)
{
    return k->tied && rs->has_operation && !rs->has_unique_batch_item_id &&
           rs->result_status != KMIP_RESULT_STATUS_SUCCESS;
}

static bool batch_id_matches(const kc_core *k, const kmip_message *req,
                             const kmip_batch_item *rq, const kmip_batch_item *rs)
{
    if (!rs->has_unique_batch_item_id)
        return (!rq->has_unique_batch_item_id || req->item_count == 1) &&
               !untied_failure(k, rs);
    return rq->has_unique_batch_item_id && same_id(rq, rs);
}

/* Every request item must be answered, in order, for its own operation,
 * and an answer about one object must name that object. */
static kmip_client_err check_response(kc_core *k, const kmip_message *req,
                                      const kmip_message *resp)
{
    kc_status *s = &k->st;
    if (resp->item_count != req->item_count) {
        /* a whole-message failure comes back as a single item: one that
         * names no other operation nor another item than the first
         * (PyKMIP's refusal of a message it cannot parse names neither);
         * one answering a later item says the first ran, so it is not the
         * whole message's, and its answer is missing */
        const kmip_batch_item *one = resp->item_count == 1 ? &resp->items[0] : NULL;
        if (one != NULL && one->result_status != KMIP_RESULT_STATUS_SUCCESS) {
            if ((one->has_operation && one->operation != req->items[0].operation) ||
                untied_failure(k, one) ||
                (one->has_unique_batch_item_id &&
                 !(req->items[0].has_unique_batch_item_id && same_id(&req->items[0], one)))) {
                record_result(k, one, one->has_operation ? one->operation
                                                         : req->items[0].operation);
                char was[sizeof s->message];
                memcpy(was, s->message, sizeof was);
                return kc_status_fail(s, KMIP_CLIENT_E_PROTOCOL,
                                      "the KMIP server answered a batch of %zu items with one "
                                      "failed item that is not for its first item (%s)",
                                      req->item_count, was);
            }
            record_result(k, one, req->items[0].operation);
            return s->err;
        }
        /* a server that stopped at a failed item (Stop, or Continue not
         * honoured): the answers after it are missing, which no caller can
         * read item by item */
        if (resp->item_count > 0 && resp->item_count < req->item_count &&
            resp->items[resp->item_count - 1].result_status != KMIP_RESULT_STATUS_SUCCESS) {
            record_result(k, &resp->items[resp->item_count - 1],
                          req->items[resp->item_count - 1].operation);
            char was[sizeof s->message]; /* the server's reason, not our buffer */
            memcpy(was, s->message, sizeof was);
            return kc_status_fail(s, KMIP_CLIENT_E_PROTOCOL,
                                  "the KMIP server stopped the batch at item %zu of %zu (%s) "
                                  "and answered none after it", resp->item_count,
                                  req->item_count, was);
        }
        return kc_status_fail(s, KMIP_CLIENT_E_PROTOCOL,
                              "the KMIP server answered %zu batch items to a request of %zu",
                              resp->item_count, req->item_count);
    }
    kmip_client_err first = KMIP_CLIENT_OK;
    const kmip_uid *placeholder = NULL; /* the object the batch made so far */
    for (size_t i = 0; i < req->item_count; i++) {
        const kmip_batch_item *rq = &req->items[i], *rs = &resp->items[i];
        if (!batch_id_matches(k, req, rq, rs))
            return kc_status_fail(s, KMIP_CLIENT_E_PROTOCOL, "response item %zu %s", i + 1,
                                  rs->has_unique_batch_item_id
                                      ? "carries a Unique Batch Item ID the request did not send"
                                  : req->item_count > 1
                                      ? "carries no Unique Batch Item ID in the answer to a "
                                        "batch"
                                      : "failed and carries no Unique Batch Item ID (pipelined "
                                        "requests: the failure cannot be told from another "
                                        "request's)");
        if (rs->has_operation && rs->operation != rq->operation)
            return kc_status_fail(s, KMIP_CLIENT_E_PROTOCOL,
                                  "response item %zu is for %s, the request was %s", i + 1,
                                  kc_operation_name(rs->operation),
                                  kc_operation_name(rq->operation));
        if (rs->result_status == KMIP_RESULT_STATUS_SUCCESS) {
            /* callers read the typed payload: it exists only when the item
             * named its Operation (before the payload) and the payload
             * decoded as that operation's */
            if (rs->payload == NULL && kmip_operation_is_typed(rq->operation))
                return kc_status_fail(s, KMIP_CLIENT_E_PROTOCOL,
                                      "response item %zu (%s) succeeded without a payload of "
                                      "that operation", i + 1, kc_operation_name(rq->operation));
            /* an item using the ID placeholder is about the object an
             * item before it made: its answer must name that one */
            const kmip_uid *asked = asked_uid(rq);
            const kmip_uid *named = rs->payload ? answered_uid(rq->operation, rs->payload) : NULL;
            if (asked == NULL && rq->payload && uid_fields_of(rq->operation))
                asked = placeholder;
            const kmip_uid *made = rs->payload ? made_uid(rq->operation, rs->payload) : NULL;
            if (made)
                placeholder = made;
            if (asked && named && !same_uid(asked, named)) {
                char want[130], got[130];
                uid_shown(asked, want, sizeof want);
                uid_shown(named, got, sizeof got);
                return kc_status_fail(s, KMIP_CLIENT_E_PROTOCOL,
                                      "response item %zu (%s) names object %s, the request "
                                      "asked for %s", i + 1, kc_operation_name(rq->operation),
                                      got, want);
            }
        } else if (first == KMIP_CLIENT_OK) {
            record_result(k, rs, rq->operation);
            first = s->err;
        }
    }
    return first;
}

kmip_client_err kc_core_finish(kc_core *k, kmip_message **response, bool *reset)
{
    *response = NULL;
    *reset = false;
    if (k->ev != KC_EV_RESPONSE) {
        kc_core_reset(k);
        return kc_status_fail(&k->st, KMIP_CLIENT_E_ARG, "no response to take");
    }
    kmip_client_err e = k->checked ? check_response(k, k->req, k->resp) : KMIP_CLIENT_OK;
    /* An answer that does not match its request (count, batch item id,
     * operation, object) may be another request's: the stream can no
     * longer be trusted to be in step, so the next request gets a new
     * connection instead of the answer meant for this one. */
    *reset = e == KMIP_CLIENT_E_PROTOCOL;
    *response = k->resp;
    k->resp = NULL;
    kc_core_reset(k);
    return e;
}

static bool broken(kmip_client_err e)
{
    return e == KMIP_CLIENT_E_CLOSED || e == KMIP_CLIENT_E_IO;
}

static bool server_failed(kmip_client_err e)
{
    return broken(e) || e == KMIP_CLIENT_E_TIMEOUT || e == KMIP_CLIENT_E_TLS;
}

/* A request that may go again: it did not leave, or every item is a read. */
static bool repeatable(const kc_core *k)
{
    return !k->sent || k->safe;
}

bool kc_core_blames_server(const kc_core *k, const kc_failure *f)
{
    kmip_client_err e = k->st.err;
    /* a kept connection the server closed while idle is no failure of
     * the server: the first retry goes to it again; a write whose answer
     * was lost is settled by the caller against the next server */
    return f->exchanged && server_failed(e) &&
           !(f->reused && k->attempt == 0 && broken(e) && repeatable(k));
}

kc_next kc_core_failed(kc_core *k, const kc_failure *f)
{
    kmip_client_err e = k->st.err;
    int attempt = k->attempt++;
    kmip_framer_free(k->framer);
    k->framer = NULL;
    kc_next next = KC_NEXT_GIVE_UP;
    if (k->out == NULL) {
        next = KC_NEXT_GIVE_UP; /* nothing armed */
    } else if (attempt == 0 && broken(e) && repeatable(k) && !f->out_of_time) {
        next = KC_NEXT_RETRY;
    } else if (f->exchanged && server_failed(e) && k->failovers_left > 0 && repeatable(k) &&
               !f->out_of_time) {
        k->failovers_left--;
        next = KC_NEXT_FAILOVER;
    } else if (k->sent && !k->safe && e != KMIP_CLIENT_E_PROTOCOL) {
        char was[sizeof k->st.message];
        memcpy(was, k->st.message, sizeof was);
        kc_status_fail(&k->st, KMIP_CLIENT_E_AMBIGUOUS,
                       "%s was sent but no response came back (%s); it may or may not have "
                       "taken effect: look the object up (Locate by its Name) before repeating it",
                       k->req ? kc_operation_name(k->req->items[0].operation)
                              : "Discover Versions", was);
    }
    if (next == KC_NEXT_GIVE_UP) {
        kc_core_reset(k);
        return next;
    }
    kmip_message_free(k->resp);
    k->resp = NULL;
    k->sent = false;
    k->ev = KC_EV_SEND;
    return next;
}

void kc_core_put_aside(kc_core *k, kc_armed *a)
{
    *a = (kc_armed){.ev = k->ev,
                    .req = k->req,
                    .build = k->build,
                    .build_ctx = k->build_ctx,
                    .resp = k->resp,
                    .version_resent = k->version_resent,
                    .checked = k->checked,
                    .safe = k->safe,
                    .tied = k->tied,
                    .sent = k->sent,
                    .attempt = k->attempt,
                    .failovers_left = k->failovers_left,
                    .out = k->out,
                    .out_len = k->out_len};
    k->out = NULL; /* now a's: kc_core_reset must not free them */
    k->out_len = 0;
    k->resp = NULL;
    kc_core_reset(k);
}

void kc_core_take_back(kc_core *k, kc_armed *a)
{
    kc_core_reset(k);
    k->ev = a->ev;
    k->req = a->req;
    k->build = a->build;
    k->build_ctx = a->build_ctx;
    k->resp = a->resp;
    k->version_resent = a->version_resent;
    k->checked = a->checked;
    k->safe = a->safe;
    k->tied = a->tied;
    k->sent = a->sent;
    k->attempt = a->attempt;
    k->failovers_left = a->failovers_left;
    k->out = a->out;
    k->out_len = a->out_len;
    *a = (kc_armed){.ev = KC_EV_IDLE};
}

kmip_client_err kc_core_follow_version(kc_core *k, kmip_message *request)
{
    if (k->out == NULL || k->req != request || k->version == 0 ||
        version_of(request) == k->version)
        return KMIP_CLIENT_OK;
    kmip_client_err e = to_version(k, request);
    if (e != KMIP_CLIENT_OK)
        return e;
    stamp(request);
    uint8_t *bytes = NULL;
    size_t len = 0;
    kmip_err ee = kmip_message_encode(request, &bytes, &len);
    if (ee != KMIP_OK)
        return kc_status_fail(&k->st, ee == KMIP_E_NOMEM ? KMIP_CLIENT_E_NOMEM : KMIP_CLIENT_E_ARG,
                              "cannot encode the request in KMIP %u.%u (the version of the "
                              "KMIP server at %s): %s", k->version >> 8, k->version & 0xFF,
                              k->peer, kmip_strerror(ee));
    kmip_secure_free(k->out, k->out_len);
    k->out = bytes;
    k->out_len = len;
    k->safe = all_idempotent(request);
    return KMIP_CLIENT_OK;
}

/* A refusal of the request's version: see core.h. */
static bool refuses_version(const kmip_batch_item *ri, bool whole)
{
    if (ri->result_status == KMIP_RESULT_STATUS_SUCCESS || !ri->has_result_reason)
        return false;
    return ri->result_reason == KMIP_RESULT_REASON_INVALID_MESSAGE ||
           (whole && ri->result_reason == KMIP_RESULT_REASON_OPERATION_NOT_SUPPORTED);
}

bool kc_core_version_refused(const kc_core *k)
{
    const kmip_message *req = k->req, *resp = k->resp;
    if (k->ev != KC_EV_RESPONSE || !k->checked || k->version_resent || req == NULL ||
        resp == NULL || resp->item_count == 0)
        return false;
    /* the whole message's answer: one item naming no operation, nor a
     * batch item of another request */
    const kmip_batch_item *one = &resp->items[0];
    if (resp->item_count == 1 && !one->has_operation &&
        (!one->has_unique_batch_item_id ||
         (req->items[0].has_unique_batch_item_id && same_id(&req->items[0], one))))
        return refuses_version(one, true);
    /* every item answered, each refused for the message's version */
    if (resp->item_count != req->item_count)
        return false;
    for (size_t i = 0; i < req->item_count; i++)
        if (!batch_id_matches(k, req, &req->items[i], &resp->items[i]) ||
            !refuses_version(&resp->items[i], false))
            return false;
    return true;
}

bool kc_core_resend_refused(kc_core *k)
{
    if (k->ev != KC_EV_RESPONSE || k->req == NULL || k->version == 0 ||
        version_of(k->req) == k->version)
        return false;
    kc_core_rearm_refused(k);
    return true;
}

void kc_core_rearm_refused(kc_core *k)
{
    /* Nothing of the refused request ran (kc_core_version_refused): a
     * write goes again as safely as a read. */
    kmip_message_free(k->resp);
    k->resp = NULL;
    kmip_framer_free(k->framer);
    k->framer = NULL;
    k->version_resent = true;
    k->sent = false;
    k->ev = KC_EV_SEND;
}

/* ---- version negotiation ---- */

bool kc_core_must_discover(kc_core *k)
{
    if (k->pinned_version) {
        k->version = k->pinned_version;
        return false;
    }
    return true;
}

static bool supported(unsigned v)
{
    for (size_t i = 0; i < sizeof our_versions / sizeof our_versions[0]; i++)
        if (our_versions[i] == v)
            return true;
    return false;
}

/* The Discover Versions request in flight (kept while it is exchanged). */
kmip_client_err kc_core_discover_begin(kc_core *k)
{
    kmip_message *req = kmip_message_new(false, KMIP_VERSION(1, 1));
    kmip_batch_item *bi = req ? kmip_message_add_item(req, KMIP_OPERATION_DISCOVER_VERSIONS) : NULL;
    size_t nv = sizeof our_versions / sizeof our_versions[0];
    kmip_discover_versions_request *dv = bi ? bi->payload : NULL;
    if (dv)
        dv->versions = kmip_message_alloc(req, nv * sizeof *dv->versions);
    if (dv == NULL || dv->versions == NULL) {
        kmip_message_free(req);
        return kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nv; i++) {
        dv->versions[i].major = (int32_t)(our_versions[i] >> 8);
        dv->versions[i].minor = (int32_t)(our_versions[i] & 0xFF);
    }
    dv->version_count = nv;
    kmip_client_err e = arm(k, req, false);
    /* the bytes are all the exchange needs of an unchecked request */
    kmip_message_free(req);
    k->req = NULL;
    if (e != KMIP_CLIENT_OK)
        k->st.err = e = KMIP_CLIENT_E_NOMEM;
    return e;
}

kmip_client_err kc_core_discover_end(kc_core *k)
{
    kmip_message *resp = NULL;
    bool reset;
    kmip_client_err e = kc_core_finish(k, &resp, &reset);
    if (e != KMIP_CLIENT_OK) {
        kc_core_recycle(k, resp);
        return e;
    }
    const kmip_batch_item *ri = resp->item_count == 1 ? &resp->items[0] : NULL;
    /* the payload is typed by the answer's own Operation: it must be ours */
    if (ri == NULL || (ri->has_operation && ri->operation != KMIP_OPERATION_DISCOVER_VERSIONS) ||
        (ri->result_status == KMIP_RESULT_STATUS_SUCCESS && !ri->has_operation)) {
        kc_core_recycle(k, resp);
        return kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                              "the KMIP server's answer to Discover Versions is not one "
                              "Discover Versions batch item");
    }
    /* a server of KMIP 1.0 does not know the operation (Operation Not
     * Supported, Invalid Message, Feature Not Supported, or no reason);
     * any other refusal (Permission Denied, a transient Operation Failed)
     * says nothing of its versions, and 1.0 would stay for the handle's
     * lifetime (no paged Locate, no 1.2+ attributes): the connection fails,
     * the next one negotiates again */
    uint32_t why = ri->has_result_reason ? ri->result_reason : 0;
    if (ri->result_status != KMIP_RESULT_STATUS_SUCCESS && why != 0 &&
        why != KMIP_RESULT_REASON_OPERATION_NOT_SUPPORTED &&
        why != KMIP_RESULT_REASON_INVALID_MESSAGE &&
        why != KMIP_RESULT_REASON_FEATURE_NOT_SUPPORTED) {
        record_result(k, ri, KMIP_OPERATION_DISCOVER_VERSIONS);
        kc_core_recycle(k, resp);
        return k->st.err;
    }
    k->version = KMIP_VERSION(1, 0);
    k->server_version_count = 0;
    if (ri->result_status == KMIP_RESULT_STATUS_SUCCESS && ri->payload) {
        const kmip_discover_versions_response *r = ri->payload;
        bool chosen = false;
        for (size_t i = 0; i < r->version_count; i++) {
            int32_t major = r->versions[i].major, minor = r->versions[i].minor;
            if (major < 0 || major > 255 || minor < 0 || minor > 255)
                continue; /* no version of KMIP: not masked into one */
            unsigned v = KMIP_VERSION((unsigned)major, (unsigned)minor);
            if (k->server_version_count < KMIP_CLIENT_MAX_VERSIONS)
                k->server_versions[k->server_version_count++] = v;
            if (!chosen && supported(v)) { /* the server lists its best first */
                k->version = v;
                chosen = true;
            }
        }
    } else {
        core_log(k, 2, "the KMIP server does not support Discover Versions; using KMIP 1.0");
    }
    kc_core_recycle(k, resp);
    return KMIP_CLIENT_OK;
}

/* ---- answers ---- */

const void *kc_payload_of(const kmip_message *resp, size_t i, uint32_t op)
{
    if (resp == NULL || i >= resp->item_count)
        return NULL;
    const kmip_batch_item *bi = &resp->items[i];
    bool ok = bi->has_operation && bi->operation == op &&
              bi->result_status == KMIP_RESULT_STATUS_SUCCESS;
    return ok ? bi->payload : NULL;
}

kmip_client_err kc_copy_uid(kc_core *k, const kmip_uid *u, char *out, size_t cap)
{
    if (out == NULL)
        return KMIP_CLIENT_OK;
    if (u->is_enum || u->text.len == 0)
        return kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                              "the server's answer lacks a Unique Identifier");
    if (!kmip_text_copy(u->text.data, u->text.len, out, cap))
        return kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                              "the server's Unique Identifier (%zu bytes) does not fit the buffer",
                              u->text.len);
    return KMIP_CLIENT_OK;
}

kmip_client_err kc_copy_key(kc_core *k, const kmip_get_response *g, const char *uid,
                            uint8_t **key, size_t *len)
{
    const uint8_t *p;
    size_t n;
    if (!kmip_object_key_material(&g->object, &p, &n)) {
        if (uid == NULL)
            return kc_status_fail(&k->st, KMIP_CLIENT_E_UNSUPPORTED,
                                  "the created key came back in a form other than raw bytes");
        return kc_status_fail(&k->st, KMIP_CLIENT_E_UNSUPPORTED,
                              "object %s is not a plain symmetric key, secret data or opaque "
                              "object (wrapped, or in a structured key format)", uid);
    }
    *key = malloc(n ? n : 1);
    if (*key == NULL)
        return kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory");
    if (n > 0) /* an empty key may come with p == NULL */
        memcpy(*key, p, n);
    *len = n;
    return KMIP_CLIENT_OK;
}

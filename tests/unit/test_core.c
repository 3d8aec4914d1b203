/* SPDX-License-Identifier: GPL-2.0-only */
/* The client's sans-I/O core (src/client/core.h) against a scripted server
 * in this file: the core's request bytes are decoded as the server would,
 * and the answers are encoded and fed back (whole, split, truncated,
 * oversized). Paged Locate (a server ignoring Offset Items, one omitting
 * Located Items, a page longer than Maximum Items), answers for another
 * batch item, operation or object, fewer or more items than asked, the
 * placeholder fallback of Register + Activate, negotiation and the
 * decisions after a failed attempt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* ---- building answers ---- */

static kmip_message *answer_new(void)
{
    kmip_message *m = kmip_message_new(true, KMIP_VERSION(1, 4));
    assert_non_null(m);
    m->response_header.time_stamp = 1764590400;
    return m;
}

/* An item of m answering op; ubi 0: no Unique Batch Item ID. */
static kmip_batch_item *answer_item(kmip_message *m, uint32_t op, uint32_t ubi, bool ok)
{
    kmip_batch_item *bi = kmip_message_add_item(m, op);
    assert_non_null(bi);
    bi->has_operation = true;
    bi->has_result_status = true;
    bi->result_status = ok ? KMIP_RESULT_STATUS_SUCCESS : KMIP_RESULT_STATUS_OPERATION_FAILED;
    if (!ok) {
        bi->payload = NULL;
        bi->has_result_reason = true;
        bi->result_reason = KMIP_RESULT_REASON_INVALID_MESSAGE;
    }
    if (ubi) {
        uint8_t id[4] = {(uint8_t)(ubi >> 24), (uint8_t)(ubi >> 16), (uint8_t)(ubi >> 8),
                         (uint8_t)ubi};
        bi->unique_batch_item_id = kmip_message_copy_bytes(m, id, sizeof id);
        bi->has_unique_batch_item_id = true;
    }
    return bi;
}

static void set_text(kmip_message *m, kmip_uid *u, const char *s)
{
    u->text = kmip_message_copy_bytes(m, s, strlen(s));
}

/* An item answering a Unique Identifier operation (Activate, Destroy, ...). */
static void answer_uid(kmip_message *m, uint32_t op, uint32_t ubi, const char *uid)
{
    kmip_batch_item *bi = answer_item(m, op, ubi, true);
    set_text(m, &((kmip_uid_response *)bi->payload)->unique_identifier, uid);
}

static uint8_t *encode(const kmip_message *m, size_t *len)
{
    uint8_t *bytes = NULL;
    assert_int_equal(kmip_message_encode(m, &bytes, len), KMIP_OK);
    return bytes;
}

/* The request the core wants sent, decoded as a server reads it. */
static kmip_message *sent_request(kc_core *k)
{
    assert_int_equal(kc_core_event(k), KC_EV_SEND);
    const uint8_t *out;
    size_t n;
    kc_core_output(k, &out, &n);
    kmip_message *req = NULL;
    kmip_msg_error merr;
    assert_int_equal(kmip_message_decode(out, n, &req, &merr), KMIP_OK);
    assert_false(req->is_response);
    kc_core_sent(k);
    assert_int_equal(kc_core_event(k), KC_EV_RECV);
    return req;
}

/* Feeds the whole answer (freed) in pieces of `piece` bytes (0: at once). */
static kc_event feed(kc_core *k, kmip_message *answer, size_t piece)
{
    size_t len;
    uint8_t *bytes = encode(answer, &len);
    kmip_message_free(answer);
    kc_event ev = KC_EV_RECV;
    size_t at = 0;
    while (at < len && ev == KC_EV_RECV) {
        size_t n = piece && len - at > piece ? piece : len - at, used = 0;
        ev = kc_core_feed(k, bytes + at, n, &used);
        assert_true(used <= n);
        at += used;
        if (used < n)
            break;
    }
    assert_int_equal(at, len);
    kmip_secure_free(bytes, len);
    return ev;
}

/* ---- a scripted server ---- */

typedef struct server {
    const char *const *ids; /* what Locate finds */
    size_t id_count;
    bool ignores_offset;
    size_t extra;           /* more identifiers than Maximum Items */
    bool refuses_placeholders;
    int requests;
    int32_t offsets[16];
    int32_t maxima[16];
    bool had_maximum[16];
} server;

static kmip_message *serve(server *s, const kmip_message *req)
{
    kmip_message *m = answer_new();
    int r = s->requests++;
    const kmip_batch_item *first = &req->items[0];
    if (first->operation == KMIP_OPERATION_LOCATE) {
        const kmip_locate_request *l = first->payload;
        int32_t off = l->has_offset_items && !s->ignores_offset ? l->offset_items : 0;
        size_t max = l->has_maximum_items ? (size_t)l->maximum_items + s->extra : s->id_count;
        if (r < 16) {
            s->offsets[r] = l->has_offset_items ? l->offset_items : -1;
            s->maxima[r] = l->maximum_items;
            s->had_maximum[r] = l->has_maximum_items;
        }
        kmip_batch_item *bi = answer_item(m, KMIP_OPERATION_LOCATE, 0, true);
        kmip_locate_response *p = bi->payload; /* no Located Items, as PyKMIP */
        size_t from = (size_t)off < s->id_count ? (size_t)off : s->id_count;
        size_t n = s->id_count - from < max ? s->id_count - from : max;
        p->unique_identifiers = kmip_message_alloc(m, (n ? n : 1) * sizeof *p->unique_identifiers);
        for (size_t i = 0; i < n; i++)
            set_text(m, &p->unique_identifiers[i], s->ids[from + i]);
        p->unique_identifier_count = n;
        return m;
    }
    if (s->refuses_placeholders && req->item_count > 1) {
        answer_item(m, first->operation, 0, false); /* the whole message refused */
        return m;
    }
    for (size_t i = 0; i < req->item_count; i++) {
        const kmip_batch_item *rq = &req->items[i];
        uint32_t ubi = rq->has_unique_batch_item_id ? (uint32_t)(i + 1) : 0;
        if (rq->operation == KMIP_OPERATION_REGISTER) {
            kmip_batch_item *bi = answer_item(m, rq->operation, ubi, true);
            set_text(m, &((kmip_register_response *)bi->payload)->unique_identifier, "new-1");
        } else {
            answer_uid(m, rq->operation, ubi, "new-1");
        }
    }
    return m;
}

/* Runs op against s to its end; every exchange whole or in pieces. */
static kmip_client_err run(kc_core *k, server *s, kc_op *op, size_t piece)
{
    for (int guard = 0; guard < 64; guard++) {
        kmip_message *req = NULL;
        if (!kc_op_next(k, op, &req))
            break;
        assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
        kmip_message *seen = sent_request(k);
        kc_event ev = feed(k, serve(s, seen), piece);
        kmip_message_free(seen);
        assert_int_equal(ev, KC_EV_RESPONSE);
        kmip_message *resp = NULL;
        bool reset;
        kmip_client_err e = kc_core_finish(k, &resp, &reset);
        kmip_message_free(req);
        kc_op_answer(k, op, e, resp);
    }
    assert_true(op->done);
    kc_op_free(op);
    assert_int_equal(kc_core_event(k), KC_EV_IDLE);
    return op->result;
}

static kc_core *core_new(unsigned version)
{
    kc_core *k = malloc(sizeof *k);
    assert_non_null(k);
    kc_core_init(k, version, KMIP_DEFAULT_MAX_MESSAGE, 1, NULL, NULL);
    k->version = version;
    k->peer = "test";
    return k;
}

static void core_free(kc_core *k)
{
    kc_core_clear(k);
    free(k);
}

typedef struct found {
    char ids[16][8];
    size_t n;
} found;

static bool collect(void *ctx, const char *uid, size_t len)
{
    found *f = ctx;
    if (f->n < 16 && len < 8) {
        memcpy(f->ids[f->n], uid, len);
        f->ids[f->n][len] = '\0';
    }
    f->n++;
    return true;
}

static const char *const five[] = {"a", "b", "c", "d", "e"};

/* ---- paged Locate ---- */

/* A Locate of pages of 2 at version against s, each answer fed in pieces
 * of `piece` bytes (0: whole); the error message goes to *message. */
static kmip_client_err locate(unsigned version, server *s, size_t piece, found *got,
                              char *message, size_t cap)
{
    kc_core *k = core_new(version);
    kmip_locate_filter f = {.object_group = "g", .page_size = 2};
    kc_op op;
    kc_op_locate(&op, &f, collect, got);
    kmip_client_err e = run(k, s, &op, piece);
    snprintf(message, cap, "%s", k->st.message);
    core_free(k);
    return e;
}

static void test_locate_pages(void **state)
{
    (void)state;
    server s = {.ids = five, .id_count = 5};
    found got = {0};
    char msg[1024];
    assert_int_equal(locate(KMIP_VERSION(1, 4), &s, 0, &got, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_int_equal(s.requests, 3); /* 2 + 2 + 1: the short page ends it */
    assert_int_equal(got.n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(got.ids[i], five[i]);
    assert_int_equal(s.offsets[0], -1); /* no Offset Items on the first page */
    assert_int_equal(s.offsets[1], 2);
    assert_int_equal(s.offsets[2], 4);
    assert_int_equal(s.maxima[2], 2);
}

static void test_locate_exact_pages(void **state)
{
    (void)state;
    server s = {.ids = five, .id_count = 4};
    found got = {0};
    char msg[1024];
    /* fed a few bytes at a time: the core frames what it is given */
    assert_int_equal(locate(KMIP_VERSION(2, 0), &s, 7, &got, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_int_equal(s.requests, 3); /* 2 + 2 + an empty page */
    assert_int_equal(got.n, 4);
}

static void test_locate_ignoring_offset(void **state)
{
    (void)state;
    server s = {.ids = five, .id_count = 5, .ignores_offset = true};
    found got = {0};
    char msg[1024];
    assert_int_equal(locate(KMIP_VERSION(1, 4), &s, 0, &got, msg, sizeof msg),
                     KMIP_CLIENT_E_PROTOCOL);
    assert_non_null(strstr(msg, "ignores Offset Items"));
    assert_int_equal(s.requests, 2);
    assert_int_equal(got.n, 2); /* the repeated page is not handed on */
}

static void test_locate_more_than_maximum(void **state)
{
    (void)state;
    server s = {.ids = five, .id_count = 5, .extra = 1};
    found got = {0};
    char msg[1024];
    assert_int_equal(locate(KMIP_VERSION(1, 4), &s, 0, &got, msg, sizeof msg),
                     KMIP_CLIENT_E_PROTOCOL);
    assert_string_equal(msg, "the server returned more identifiers than Maximum Items allows");
    assert_int_equal(got.n, 0);
}

static void test_locate_before_1_3(void **state)
{
    (void)state;
    server s = {.ids = five, .id_count = 5};
    found got = {0};
    char msg[1024];
    assert_int_equal(locate(KMIP_VERSION(1, 2), &s, 0, &got, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_int_equal(s.requests, 1); /* no Offset Items before 1.3: one request */
    assert_false(s.had_maximum[0]);
    assert_int_equal(got.n, 5);
}

/* ---- matching answers to requests ---- */

/* Exchanges req with answer; the response is handed over whatever the result. */
static kmip_client_err exchange(kc_core *k, kmip_message *req, kmip_message *answer, bool *reset)
{
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    assert_int_equal(feed(k, answer, 0), KC_EV_RESPONSE);
    kmip_message *resp = NULL;
    kmip_client_err e = kc_core_finish(k, &resp, reset);
    assert_non_null(resp); /* handed over whatever the result */
    kmip_message_free(resp);
    return e;
}

static kmip_message *two_activates(void)
{
    kmip_message *req = kmip_message_new(false, KMIP_VERSION(1, 4));
    assert_non_null(req);
    assert_int_equal(kmip_req_add_uid_op(req, KMIP_OPERATION_ACTIVATE, "a"), KMIP_CLIENT_OK);
    assert_int_equal(kmip_req_add_uid_op(req, KMIP_OPERATION_ACTIVATE, "b"), KMIP_CLIENT_OK);
    return req;
}

/* Answers to two Activates ("a" then "b", Unique Batch Item IDs 1 and 2). */
typedef struct answer_case {
    const char *what;
    struct {
        uint32_t op, ubi;
        const char *uid; /* NULL: a failed item (Invalid Message) */
    } items[3];
    size_t count;
    kmip_client_err want;
    const char *message; /* a part of the error message */
} answer_case;

#define ACT KMIP_OPERATION_ACTIVATE
static const answer_case answer_cases[] = {
    {"in order", {{ACT, 1, "a"}, {ACT, 2, "b"}}, 2, KMIP_CLIENT_OK, ""},
    {"another batch item", {{ACT, 1, "a"}, {ACT, 7, "b"}}, 2, KMIP_CLIENT_E_PROTOCOL,
     "response item 2 carries a Unique Batch Item ID the request did not send"},
    {"another operation", {{ACT, 1, "a"}, {KMIP_OPERATION_DESTROY, 2, "b"}}, 2,
     KMIP_CLIENT_E_PROTOCOL, "response item 2 is for Destroy, the request was Activate"},
    {"another object", {{ACT, 1, "a"}, {ACT, 2, "c"}}, 2, KMIP_CLIENT_E_PROTOCOL,
     "names object \"c\", the request asked for \"b\""},
    {"fewer items", {{ACT, 1, "a"}}, 1, KMIP_CLIENT_E_PROTOCOL,
     "the KMIP server answered 1 batch items to a request of 2"},
    {"more items", {{ACT, 1, "a"}, {ACT, 2, "b"}, {ACT, 3, "c"}}, 3, KMIP_CLIENT_E_PROTOCOL,
     "the KMIP server answered 3 batch items to a request of 2"},
    /* a failed single item is the whole message's failure: the server's */
    {"the whole message refused", {{ACT, 0, NULL}}, 1, KMIP_CLIENT_E_SERVER,
     "the KMIP server refused Activate: Invalid Message"},
    {"the second item refused", {{ACT, 1, "a"}, {ACT, 2, NULL}}, 2, KMIP_CLIENT_E_SERVER,
     "the KMIP server refused Activate: Invalid Message"},
};

static void test_answers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof answer_cases / sizeof answer_cases[0]; i++) {
        const answer_case *c = &answer_cases[i];
        kc_core *k = core_new(KMIP_VERSION(1, 4));
        kmip_message *req = two_activates(), *a = answer_new();
        for (size_t j = 0; j < c->count; j++) {
            if (c->items[j].uid)
                answer_uid(a, c->items[j].op, c->items[j].ubi, c->items[j].uid);
            else
                answer_item(a, c->items[j].op, c->items[j].ubi, false);
        }
        bool reset = false;
        kmip_client_err e = exchange(k, req, a, &reset);
        if (e != c->want || strstr(k->st.message, c->message) == NULL)
            fail_msg("%s: %d \"%s\"", c->what, (int)e, k->st.message);
        /* a mismatch may be another request's answer: drop the stream */
        assert_int_equal(reset, c->want == KMIP_CLIENT_E_PROTOCOL);
        if (c->want == KMIP_CLIENT_E_SERVER) {
            assert_true(k->st.has_result);
            assert_int_equal(k->st.result_reason, KMIP_RESULT_REASON_INVALID_MESSAGE);
        }
        kmip_message_free(req);
        core_free(k);
    }
}

/* ---- bytes: split, truncated, oversized, trailing ---- */

/* The encoded in-order answer to two_activates() (freed by the caller). */
static uint8_t *good_answer(size_t *len)
{
    kmip_message *a = answer_new();
    answer_uid(a, KMIP_OPERATION_ACTIVATE, 1, "a");
    answer_uid(a, KMIP_OPERATION_ACTIVATE, 2, "b");
    uint8_t *bytes = encode(a, len);
    kmip_message_free(a);
    return bytes;
}

static void test_truncated_answer(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_message *req = two_activates();
    size_t len;
    uint8_t *bytes = good_answer(&len);
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    size_t used = 0;
    assert_int_equal(kc_core_feed(k, bytes, len - 9, &used), KC_EV_RECV);
    assert_int_equal(used, len - 9);
    /* the connection ends there: Activate is a write that left */
    kc_status_fail(&k->st, KMIP_CLIENT_E_CLOSED, "the connection closed");
    kc_failure f = {.exchanged = true};
    assert_true(kc_core_blames_server(k, &f));
    assert_int_equal(kc_core_failed(k, &f), KC_NEXT_GIVE_UP);
    assert_int_equal(k->st.err, KMIP_CLIENT_E_AMBIGUOUS);
    assert_non_null(strstr(k->st.message, "Activate was sent but no response came back "
                                          "(the connection closed)"));
    assert_int_equal(kc_core_event(k), KC_EV_IDLE);
    kmip_secure_free(bytes, len);
    kmip_message_free(req);
    core_free(k);
}

static void test_oversized_answer(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    k->max_response = 64;
    kmip_message *req = two_activates();
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    /* a Response Message header announcing 4096 bytes */
    static const uint8_t header[8] = {0x42, 0x00, 0x7B, 0x01, 0x00, 0x00, 0x10, 0x00};
    size_t used = 0;
    assert_int_equal(kc_core_feed(k, header, sizeof header, &used), KC_EV_FAILED);
    assert_string_equal(k->st.message, "the KMIP server at test announced a response larger than "
                                       "the limit of 64 bytes");
    kc_failure f = {.exchanged = true};
    assert_int_equal(kc_core_failed(k, &f), KC_NEXT_GIVE_UP);
    assert_int_equal(k->st.err, KMIP_CLIENT_E_PROTOCOL); /* not ambiguous: it answered */
    kmip_message_free(req);
    core_free(k);
}

static void test_request_as_answer(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_message *req = two_activates();
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    const uint8_t *out;
    size_t n, used = 0;
    kc_core_output(k, &out, &n);
    uint8_t *echo = malloc(n);
    assert_non_null(echo);
    memcpy(echo, out, n);
    kc_core_sent(k);
    assert_int_equal(kc_core_feed(k, echo, n, &used), KC_EV_FAILED);
    assert_int_equal(k->st.err, KMIP_CLIENT_E_PROTOCOL);
    assert_non_null(strstr(k->st.message, "not a KMIP response message"));
    free(echo);
    kc_core_reset(k);
    kmip_message_free(req);
    core_free(k);
}

static void test_trailing_bytes_left(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_message *req = two_activates();
    size_t len;
    uint8_t *bytes = good_answer(&len);
    uint8_t *twice = malloc(2 * len);
    assert_non_null(twice);
    memcpy(twice, bytes, len);
    memcpy(twice + len, bytes, len);
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    size_t used = 0;
    assert_int_equal(kc_core_feed(k, twice, 2 * len, &used), KC_EV_RESPONSE);
    assert_int_equal(used, len); /* the second copy is nobody's answer */
    kc_core_reset(k);
    free(twice);
    kmip_secure_free(bytes, len);
    kmip_message_free(req);
    core_free(k);
}

/* ---- multi-step operations ---- */

static void test_register_activate_fallback(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    server s = {.refuses_placeholders = true};
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY,
                          .algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES,
                          .length_bits = 128};
    static const uint8_t key[16] = {1};
    char uid[32] = "";
    kc_op op;
    kc_op_register(&op, &spec, key, sizeof key, true, uid, sizeof uid);
    assert_int_equal(run(k, &s, &op, 0), KMIP_CLIENT_OK);
    assert_int_equal(s.requests, 3); /* the refused batch, Register, Activate */
    assert_string_equal(uid, "new-1");
    assert_true(k->placeholders_rejected);
    /* known from then on: two requests at once */
    s.requests = 0;
    uid[0] = '\0';
    kc_op_register(&op, &spec, key, sizeof key, true, uid, sizeof uid);
    assert_int_equal(run(k, &s, &op, 0), KMIP_CLIENT_OK);
    assert_int_equal(s.requests, 2);
    assert_string_equal(uid, "new-1");
    /* a server taking placeholders: one batch */
    kc_core *fresh = core_new(KMIP_VERSION(1, 4));
    server ok = {0};
    kc_op_register(&op, &spec, key, sizeof key, true, uid, sizeof uid);
    assert_int_equal(run(fresh, &ok, &op, 0), KMIP_CLIENT_OK);
    assert_int_equal(ok.requests, 1);
    core_free(fresh);
    core_free(k);
}

/* ---- negotiation and retries ---- */

static void test_negotiation(void **state)
{
    (void)state;
    kc_core *k = core_new(0);
    assert_true(kc_core_must_discover(k));
    assert_int_equal(kc_core_discover_begin(k), KMIP_CLIENT_OK);
    kmip_message *seen = sent_request(k);
    assert_int_equal(seen->items[0].operation, KMIP_OPERATION_DISCOVER_VERSIONS);
    kmip_message_free(seen);
    kmip_message *a = answer_new();
    kmip_batch_item *bi = answer_item(a, KMIP_OPERATION_DISCOVER_VERSIONS, 0, true);
    kmip_discover_versions_response *dv = bi->payload;
    dv->versions = kmip_message_alloc(a, 2 * sizeof *dv->versions);
    dv->versions[0].major = 3; /* one we do not speak */
    dv->versions[1].major = 1;
    dv->versions[1].minor = 3;
    dv->version_count = 2;
    assert_int_equal(feed(k, a, 5), KC_EV_RESPONSE);
    assert_int_equal(kc_core_discover_end(k), KMIP_CLIENT_OK);
    assert_int_equal(k->version, KMIP_VERSION(1, 3));
    assert_int_equal(k->server_version_count, 2);
    /* a server that does not know Discover Versions gets 1.0 */
    assert_int_equal(kc_core_discover_begin(k), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    a = answer_new();
    answer_item(a, KMIP_OPERATION_DISCOVER_VERSIONS, 0, false);
    assert_int_equal(feed(k, a, 0), KC_EV_RESPONSE);
    assert_int_equal(kc_core_discover_end(k), KMIP_CLIENT_OK);
    assert_int_equal(k->version, KMIP_VERSION(1, 0));
    /* pinned: nothing to discover */
    kc_core *p = core_new(0);
    p->pinned_version = KMIP_VERSION(2, 1);
    assert_false(kc_core_must_discover(p));
    assert_int_equal(p->version, KMIP_VERSION(2, 1));
    core_free(p);
    core_free(k);
}

static void test_retry_decisions(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    k->server_count = 3;
    kmip_message *reads = kmip_message_new(false, KMIP_VERSION(1, 4));
    assert_non_null(reads);
    assert_int_equal(kmip_req_add_get(reads, "a", 0), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_begin(k, reads), KMIP_CLIENT_OK);
    kc_failure f = {.exchanged = true, .reused = true};
    /* a kept connection closed while idle: again, the server not blamed */
    kmip_message_free(sent_request(k));
    kc_status_fail(&k->st, KMIP_CLIENT_E_CLOSED, "closed");
    assert_false(kc_core_blames_server(k, &f));
    assert_int_equal(kc_core_failed(k, &f), KC_NEXT_RETRY);
    /* then the next servers, two of them, for a read */
    f.reused = false;
    for (int i = 0; i < 2; i++) {
        kmip_message_free(sent_request(k));
        kc_status_fail(&k->st, KMIP_CLIENT_E_TIMEOUT, "timeout");
        assert_true(kc_core_blames_server(k, &f));
        assert_int_equal(kc_core_failed(k, &f), KC_NEXT_FAILOVER);
    }
    kmip_message_free(sent_request(k));
    kc_status_fail(&k->st, KMIP_CLIENT_E_TIMEOUT, "timeout");
    assert_int_equal(kc_core_failed(k, &f), KC_NEXT_GIVE_UP);
    assert_int_equal(k->st.err, KMIP_CLIENT_E_TIMEOUT);
    /* out of time: no retry */
    assert_int_equal(kc_core_begin(k, reads), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    kc_status_fail(&k->st, KMIP_CLIENT_E_CLOSED, "closed");
    f.out_of_time = true;
    assert_int_equal(kc_core_failed(k, &f), KC_NEXT_GIVE_UP);
    /* a write not yet sent may go to the next server */
    kmip_message *w = kmip_message_new(false, KMIP_VERSION(1, 4));
    assert_non_null(w);
    assert_int_equal(kmip_req_add_uid_op(w, KMIP_OPERATION_DESTROY, "a"), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_begin(k, w), KMIP_CLIENT_OK);
    f.out_of_time = false;
    kc_status_fail(&k->st, KMIP_CLIENT_E_TIMEOUT, "connect timeout");
    assert_int_equal(kc_core_failed(k, &f), KC_NEXT_FAILOVER);
    kmip_message_free(w);
    kmip_message_free(reads);
    kc_core_reset(k);
    core_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_locate_pages),
        cmocka_unit_test(test_locate_exact_pages),
        cmocka_unit_test(test_locate_ignoring_offset),
        cmocka_unit_test(test_locate_more_than_maximum),
        cmocka_unit_test(test_locate_before_1_3),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_truncated_answer),
        cmocka_unit_test(test_oversized_answer),
        cmocka_unit_test(test_request_as_answer),
        cmocka_unit_test(test_trailing_bytes_left),
        cmocka_unit_test(test_register_activate_fallback),
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_retry_decisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

#include "client_internal.h" /* kc_add_attribute_change: the client's own builder */
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
    const char *placeholder_uid; /* review S1: items after Register answer for this object */
    bool cycles;                 /* review S3: ignores Offset Items, alternates two pages */
    bool refuses_as_activate;    /* review S2: one failed item, for the batch's Activate */
    size_t cap;                  /* review S0: at most cap identifiers per page */
    bool located;                /* Locate answers carry Located Items */
    bool located_page_count;     /* ... saying the page's own count (review s4b R4-3) */
    bool reorders;               /* ignores Offset Items, every other page reversed */
    bool refuses_activate;       /* a lone Activate fails */
    const char *made_uid;        /* what Register names (default "new-1") */
    int registers;
    int requests;
    int32_t offsets[16];
    int32_t maxima[16];
    bool had_maximum[16];
    void (*on_request)(struct server *s, int r); /* review-s4b: another writer between pages */
} server;

/* An item naming its object is answered for it (what a server does);
 * false for an item using the ID placeholder. */
static bool asked_text(const kmip_batch_item *rq, kmip_message *m)
{
    const kmip_uid_request *u = rq->payload;
    if (rq->operation != KMIP_OPERATION_ACTIVATE || !u->has_unique_identifier)
        return false;
    uint32_t ubi = rq->has_unique_batch_item_id ? 1 : 0;
    kmip_batch_item *bi = answer_item(m, rq->operation, ubi, true);
    ((kmip_uid_response *)bi->payload)->unique_identifier.text =
        kmip_message_copy_bytes(m, u->unique_identifier.text.data, u->unique_identifier.text.len);
    return true;
}

static kmip_message *serve(server *s, const kmip_message *req)
{
    kmip_message *m = answer_new();
    int r = s->requests++;
    if (s->on_request)
        s->on_request(s, r);
    const kmip_batch_item *first = &req->items[0];
    if (first->operation == KMIP_OPERATION_LOCATE) {
        const kmip_locate_request *l = first->payload;
        int32_t off = l->has_offset_items && !s->ignores_offset ? l->offset_items : 0;
        if (s->cycles)
            off = (r % 2) * (int32_t)l->maximum_items;
        size_t max = l->has_maximum_items ? (size_t)l->maximum_items + s->extra : s->id_count;
        if (r < 16) {
            s->offsets[r] = l->has_offset_items ? l->offset_items : -1;
            s->maxima[r] = l->maximum_items;
            s->had_maximum[r] = l->has_maximum_items;
        }
        kmip_batch_item *bi = answer_item(m, KMIP_OPERATION_LOCATE, 0, true);
        kmip_locate_response *p = bi->payload; /* no Located Items, as PyKMIP */
        if (s->reorders)
            off = 0;
        size_t from = (size_t)off < s->id_count ? (size_t)off : s->id_count;
        size_t n = s->id_count - from < max ? s->id_count - from : max;
        if (s->cap && n > s->cap)
            n = s->cap;
        p->has_located_items = s->located;
        p->located_items = (int32_t)(s->located_page_count ? n : s->id_count);
        p->unique_identifiers = kmip_message_alloc(m, (n ? n : 1) * sizeof *p->unique_identifiers);
        for (size_t i = 0; i < n; i++)
            set_text(m, &p->unique_identifiers[i],
                     s->ids[from + (s->reorders && r % 2 ? n - 1 - i : i)]);
        p->unique_identifier_count = n;
        return m;
    }
    for (size_t i = 0; i < req->item_count; i++)
        s->registers += req->items[i].operation == KMIP_OPERATION_REGISTER;
    if (s->refuses_as_activate && req->item_count > 1) {
        const kmip_batch_item *last = &req->items[req->item_count - 1];
        answer_item(m, last->operation, last->has_unique_batch_item_id ? 2 : 0, false);
        return m;
    }
    if (s->refuses_activate && req->item_count == 1 && first->operation == KMIP_OPERATION_ACTIVATE) {
        answer_item(m, first->operation, 0, false);
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
            set_text(m, &((kmip_register_response *)bi->payload)->unique_identifier,
                     s->made_uid ? s->made_uid : "new-1");
        } else if (!asked_text(rq, m)) {
            answer_uid(m, rq->operation, ubi, s->placeholder_uid ? s->placeholder_uid : "new-1");
        }
    }
    return m;
}

/* Runs op against s to its end; every exchange whole or in pieces. */
static kmip_client_err run(kc_core *k, server *s, kc_op *op, size_t piece)
{
    for (int guard = 0; guard < 4096; guard++) {
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
    char ids[64][8];
    size_t n;
} found;

static bool collect(void *ctx, const char *uid, size_t len)
{
    found *f = ctx;
    if (f->n < 64 && len < 8) {
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
    /* a,b + b,c,d + d,e + e: pages overlap by their anchor (the last
     * identifier of the page before, asked again one item longer); without
     * Located Items (PyKMIP) a short page may be a server's cap, only the
     * page holding the anchor alone ends it: as many requests as offset
     * paging with its empty last page */
    assert_int_equal(s.requests, 4);
    assert_int_equal(got.n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(got.ids[i], five[i]);
    assert_int_equal(s.offsets[0], -1); /* no Offset Items on the first page */
    assert_int_equal(s.offsets[1], 1);
    assert_int_equal(s.offsets[2], 3);
    assert_int_equal(s.offsets[3], 4);
    assert_int_equal(s.maxima[0], 2);
    assert_int_equal(s.maxima[2], 3);
    /* with Located Items too: it ends nothing (review s5b S5-3), the
     * page holding the anchor alone does */
    server told = {.ids = five, .id_count = 5, .located = true};
    found again = {0};
    assert_int_equal(locate(KMIP_VERSION(1, 4), &told, 0, &again, msg, sizeof msg),
                     KMIP_CLIENT_OK);
    assert_int_equal(told.requests, 4);
    assert_int_equal(again.n, 5);
}

/* Vault answers Locate in pages of 16 whatever Maximum Items says: the
 * next page is at offset + what came back, a short page is not the end
 * (review S0) */
static void test_locate_capped_pages(void **state)
{
    (void)state;
    static char names[40][8];
    const char *ids[40];
    for (size_t i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "k%zu", i);
        ids[i] = names[i];
    }
    for (int located = 0; located < 2; located++) {
        kc_core *k = core_new(KMIP_VERSION(1, 4));
        server s = {.ids = ids, .id_count = 40, .cap = 16, .located = located};
        kmip_locate_filter f = {.object_group = "g"}; /* Maximum Items 256 */
        found got = {0};
        kc_op op;
        kc_op_locate(&op, &f, collect, &got);
        assert_int_equal(run(k, &s, &op, 0), KMIP_CLIENT_OK);
        assert_int_equal(got.n, 40);
        for (size_t i = 0; i < 40; i++)
            assert_string_equal(got.ids[i], names[i]); /* each once, in order */
        /* anchored pages of 16 bring 15 new each: 0-15, 15-30, 30-39,
         * and the anchor alone at 39 (Located Items ends nothing) */
        assert_int_equal(s.offsets[1], 15);
        assert_int_equal(s.offsets[2], 30);
        assert_int_equal(s.maxima[0], 256);
        assert_int_equal(s.maxima[1], 257);
        assert_int_equal(s.requests, 4);
        if (!located)
            assert_int_equal(s.offsets[3], 39);
        core_free(k);
    }
}

/* the cost docs/ARCHITECTURE.md gives: 1,000 objects in Vault's pages of 16
 * take 67 pages with Located Items (63 with offset paging), 68 without
 * (64); a server honouring Maximum Items, pages of 16: 63 and 64, as before */
static void test_locate_capped_cost(void **state)
{
    (void)state;
    static char names[1000][24];
    static const char *ids[1000];
    for (size_t i = 0; i < 1000; i++) {
        snprintf(names[i], sizeof names[i], "k%zu", i);
        ids[i] = names[i];
    }
    static const struct {
        size_t cap;
        bool located;
        int32_t page;
        int requests;
    } cases[] = {{16, true, 0, 68}, {16, false, 0, 68}, {0, true, 16, 64}, {0, false, 16, 64}};
    for (size_t c = 0; c < 4; c++) {
        kc_core *k = core_new(KMIP_VERSION(1, 4));
        server s = {.ids = ids, .id_count = 1000, .cap = cases[c].cap,
                    .located = cases[c].located};
        kmip_locate_filter f = {.object_group = "g", .page_size = cases[c].page};
        found got = {0};
        kc_op op;
        kc_op_locate(&op, &f, collect, &got);
        assert_int_equal(run(k, &s, &op, 0), KMIP_CLIENT_OK);
        assert_int_equal(got.n, 1000);
        assert_int_equal(s.requests, cases[c].requests);
        core_free(k);
    }
}

/* a server ignoring Offset Items that reverses every other page: nothing
 * is handed on twice and the Locate ends (review S3) */
static void test_locate_reordered_pages(void **state)
{
    (void)state;
    server s = {.ids = five, .id_count = 5, .reorders = true};
    found got = {0};
    char msg[1024];
    assert_int_equal(locate(KMIP_VERSION(1, 4), &s, 0, &got, msg, sizeof msg),
                     KMIP_CLIENT_E_PROTOCOL);
    assert_non_null(strstr(msg, "ignores Offset Items"));
    /* a,b; then a,b,c (reversed), the anchor b further on: objects made
     * before it, c is new; then a,b,c twice more: no anchor moves, the
     * repeats outnumber what was handed on */
    assert_int_equal(s.requests, 4);
    assert_int_equal(got.n, 3);
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
    /* a,b; a,b,c (b further on: objects made before it, c new); then
     * a,b,c again and again, the anchor c last and never moving: refused
     * after KC_LOCATE_MAX_STALLS such pages; the repeats not handed on */
    assert_int_equal(s.requests, 2 + KC_LOCATE_MAX_STALLS + 1);
    assert_int_equal(got.n, 3);
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

/* review s5b S5-8: anchoring takes an identifier for one place in the
 * list, so a page that names one twice is refused, naming the identifier
 * and the page's offset (before, the second copy became the anchor and
 * the Locate went on). Without Offset Items (before 1.3: one answer, no
 * anchors) a repeat is only handed on once. */
static void test_locate_duplicate_in_page(void **state)
{
    (void)state;
    static const char *const twice[] = {"a", "b", "c", "b", "d"};
    server s = {.ids = twice, .id_count = 5};
    found got = {0};
    char msg[1024];
    /* a,b then b,c,b: the page at offset 1 names b twice */
    assert_int_equal(locate(KMIP_VERSION(1, 4), &s, 0, &got, msg, sizeof msg),
                     KMIP_CLIENT_E_PROTOCOL);
    assert_string_equal(msg, "Locate stopped: the KMIP server returned identifier \"b\" twice in "
                             "one Locate page at offset 1 (a server bug: a Locate lists each "
                             "object once)");
    assert_int_equal(s.requests, 2);
    assert_int_equal(got.n, 2); /* a and b, from the first page; nothing of the refused one */
    /* twice on the first page (offset 0), the identifier cut at 128 bytes */
    static char longer[200];
    memset(longer, 'x', sizeof longer - 1);
    static const char *twice_first[3];
    twice_first[0] = longer;
    twice_first[1] = longer;
    twice_first[2] = "c";
    server f = {.ids = twice_first, .id_count = 3};
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_locate_filter lf = {.object_group = "g", .page_size = 2};
    kc_op op;
    found none = {0};
    kc_op_locate(&op, &lf, collect, &none);
    assert_int_equal(run(k, &f, &op, 0), KMIP_CLIENT_E_PROTOCOL);
    char want[400];
    snprintf(want, sizeof want, "Locate stopped: the KMIP server returned identifier \"%.128s\"... "
             "twice in one Locate page at offset 0 (a server bug: a Locate lists each object "
             "once)", longer);
    assert_string_equal(k->st.message, want);
    assert_int_equal(none.n, 0);
    core_free(k);
    /* one answer before 1.3: b handed on once */
    server old = {.ids = twice, .id_count = 5};
    found all = {0};
    assert_int_equal(locate(KMIP_VERSION(1, 2), &old, 0, &all, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_int_equal(all.n, 4);
    assert_string_equal(all.ids[3], "d");
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

/* ---- pipelined exchanges: armed records kept outside the core ---- */

static kmip_message *one_get(const char *uid)
{
    kmip_message *m = kmip_message_new(false, KMIP_VERSION(1, 4));
    assert_non_null(m);
    assert_int_equal(kmip_req_add_get(m, uid, 0), KMIP_CLIENT_OK);
    return m;
}

/* The answer to a Get of uid carrying the Unique Batch Item ID of the
 * first item of rq (NULL: none), succeeded or refused (Item Not Found). */
static kmip_message *get_answer_to(const kmip_message *rq, const char *uid, bool ok)
{
    kmip_message *a = answer_new();
    kmip_batch_item *bi = answer_item(a, KMIP_OPERATION_GET, 0, ok);
    if (ok) {
        set_text(a, &((kmip_get_response *)bi->payload)->unique_identifier, uid);
    } else {
        bi->result_reason = KMIP_RESULT_REASON_ITEM_NOT_FOUND;
    }
    if (rq != NULL) {
        const kmip_bytes *id = &rq->items[0].unique_batch_item_id;
        bi->unique_batch_item_id = kmip_message_copy_bytes(a, id->data, id->len);
        bi->has_unique_batch_item_id = true;
    }
    return a;
}

/* Two Gets prepared while the core is idle: the core stays idle; each is
 * taken back in turn and answered; an answer naming the other request's
 * object is refused (the stream dropped), never taken as this one's. A
 * write is refused and nothing is armed. */
static void test_pipelined_exchanges(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_message *ra = one_get("a"), *rb = one_get("b"), *w = two_activates();
    kc_armed a, b, none;
    assert_int_equal(kc_core_prepare(k, w, &none), KMIP_CLIENT_E_ARG);
    assert_non_null(strstr(k->st.message, "Activate"));
    assert_null(none.out);
    assert_int_equal(kc_core_prepare(k, ra, &a), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_prepare(k, rb, &b), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_event(k), KC_EV_IDLE);
    assert_int_equal(a.ev, KC_EV_SEND);
    assert_true(a.safe);
    assert_int_equal(ra->request_header.protocol_version.minor, 4);
    kc_core_take_back(k, &a);
    kmip_message *seen = sent_request(k);
    assert_int_equal(seen->item_count, 1);
    kmip_message_free(seen);
    assert_int_equal(feed(k, get_answer_to(ra, "a", true), 0), KC_EV_RESPONSE);
    kmip_message *resp = NULL;
    bool reset = true;
    assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_OK);
    assert_false(reset);
    kmip_message_free(resp);
    kc_core_take_back(k, &b);
    seen = sent_request(k);
    kmip_message_free(seen);
    assert_int_equal(feed(k, get_answer_to(rb, "a", true), 0), KC_EV_RESPONSE);
    assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_E_PROTOCOL);
    assert_true(reset);
    assert_non_null(strstr(k->st.message, "names object \"a\""));
    kmip_message_free(resp);
    /* the two requests carry different Unique Batch Item IDs, and a
     * refusal, which names no object, is tied to its request by them: a's
     * refusal (sent twice, or b's skipped) is not b's answer, nor one
     * without an ID */
    assert_false(ra->items[0].unique_batch_item_id.len == rb->items[0].unique_batch_item_id.len &&
                 memcmp(ra->items[0].unique_batch_item_id.data,
                        rb->items[0].unique_batch_item_id.data,
                        ra->items[0].unique_batch_item_id.len) == 0);
    const kmip_message *wrong[2] = {ra, NULL};
    for (size_t i = 0; i < 2; i++) {
        kc_armed d;
        assert_int_equal(kc_core_prepare(k, rb, &d), KMIP_CLIENT_OK);
        kc_core_take_back(k, &d);
        seen = sent_request(k);
        kmip_message_free(seen);
        assert_int_equal(feed(k, get_answer_to(wrong[i], "b", false), 0), KC_EV_RESPONSE);
        assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_E_PROTOCOL);
        assert_true(reset);
        kmip_message_free(resp);
    }
    /* its own refusal is taken */
    kc_armed d;
    assert_int_equal(kc_core_prepare(k, rb, &d), KMIP_CLIENT_OK);
    kc_core_take_back(k, &d);
    seen = sent_request(k);
    kmip_message_free(seen);
    assert_int_equal(feed(k, get_answer_to(rb, "b", false), 0), KC_EV_RESPONSE);
    assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_E_NOT_FOUND);
    assert_false(reset);
    kmip_message_free(resp);
    /* one never taken back: its bytes dropped (wiped) */
    kc_armed c;
    assert_int_equal(kc_core_prepare(k, ra, &c), KMIP_CLIENT_OK);
    kc_armed_drop(&c);
    assert_null(c.out);
    kmip_message_free(ra);
    kmip_message_free(rb);
    kmip_message_free(w);
    core_free(k);
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


/* ---- review of s4 (S1-S3): these fail on 4b01cc3 ---- */

static const char *const six[] = {"a", "b", "c", "d", "e", "f"};

static void test_review_locate_cycling_pages(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    server s = {.ids = six, .id_count = 6, .cycles = true};
    kmip_locate_filter f = {.object_group = "g", .page_size = 2};
    found got = {0};
    kc_op op;
    kc_op_locate(&op, &f, collect, &got);
    /* pages that do not line up with their anchors: stepping back and
     * beginning again are bounded, then it fails loudly; each identifier
     * is handed on once */
    assert_int_equal(run(k, &s, &op, 0), KMIP_CLIENT_E_PROTOCOL);
    assert_true(strstr(k->st.message, "ignores Offset Items") ||
                strstr(k->st.message, "kept changing"));
    assert_true(got.n <= 6);
    for (size_t i = 0; i < got.n; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(got.ids[i], got.ids[j]);
    assert_true(s.requests < 64);
    core_free(k);
}

static void test_review_locate_capped_pages(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    server s = {.ids = six, .id_count = 6, .cap = 4}; /* Maximum Items 256, pages of 4 */
    kmip_locate_filter f = {.object_group = "g"};
    found got = {0};
    kc_op op;
    kc_op_locate(&op, &f, collect, &got);
    assert_int_equal(run(k, &s, &op, 0), KMIP_CLIENT_OK);
    assert_int_equal(got.n, 6); /* every object, the server's page size notwithstanding */
    core_free(k);
}

static void test_review_placeholder_answer_other_object(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    server s = {.placeholder_uid = "other-7"};
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY,
                          .algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES, .length_bits = 128};
    static const uint8_t key[16] = {1};
    char uid[32] = "";
    kc_op op;
    kc_op_register(&op, &spec, key, sizeof key, true, uid, sizeof uid);
    /* the Activate of the placeholder names another object than Register made */
    assert_int_equal(run(k, &s, &op, 0), KMIP_CLIENT_E_PROTOCOL);
    core_free(k);
}

static void test_review_refusal_for_activate_is_not_a_placeholder_refusal(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    server s = {.refuses_as_activate = true};
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY,
                          .algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES, .length_bits = 128};
    static const uint8_t key[16] = {1};
    char uid[32] = "";
    kc_op op;
    kc_op_register(&op, &spec, key, sizeof key, true, uid, sizeof uid);
    (void)run(k, &s, &op, 0);
    assert_int_equal(s.registers, 1); /* never a second Register */
    core_free(k);
}

/* separate Register and Activate: a failed Activate hands over the new
 * object's identifier with its error, and an identifier longer than 256
 * bytes is kept whole (review S4) */
static void test_register_then_activate_keeps_uid(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    k->placeholders_rejected = true;
    server s = {.refuses_activate = true};
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY,
                          .algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES, .length_bits = 128};
    static const uint8_t key[16] = {1};
    char uid[1024] = "stale";
    kc_op op;
    kc_op_register(&op, &spec, key, sizeof key, true, uid, sizeof uid);
    assert_int_equal(run(k, &s, &op, 0), KMIP_CLIENT_E_SERVER);
    assert_int_equal(s.requests, 2);
    assert_string_equal(uid, "new-1"); /* the object exists: named with the error */
    char long_uid[301];
    memset(long_uid, 'u', 300);
    long_uid[300] = '\0';
    server l = {.made_uid = long_uid};
    kc_op_register(&op, &spec, key, sizeof key, true, uid, sizeof uid);
    assert_int_equal(run(k, &l, &op, 0), KMIP_CLIENT_OK);
    assert_int_equal(l.requests, 2);
    assert_string_equal(uid, long_uid);
    /* a caller's buffer too small: the error names the object */
    char small[8];
    server again = {.made_uid = long_uid};
    kc_op_register(&op, &spec, key, sizeof key, true, small, sizeof small);
    assert_int_equal(run(k, &again, &op, 0), KMIP_CLIENT_E_ARG);
    assert_non_null(strstr(k->st.message, "uuuuuuuuuuuuuuuuuuuu"));
    core_free(k);
}

static kmip_message *gets(size_t n)
{
    kmip_message *req = kmip_message_new(false, KMIP_VERSION(1, 4));
    assert_non_null(req);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(kmip_req_add_get(req, five[i], 0), KMIP_CLIENT_OK);
    return req;
}

/* one failed item answering a batch for another operation or a later item
 * is not a whole-message failure: the stream is out of step (review S5) */
static void test_one_failed_item_of_another_request(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_message *req = gets(2), *a = answer_new();
    answer_item(a, KMIP_OPERATION_LOCATE, 77, false);
    bool reset = false;
    assert_int_equal(exchange(k, req, a, &reset), KMIP_CLIENT_E_PROTOCOL);
    assert_true(reset);
    a = answer_new();
    answer_item(a, KMIP_OPERATION_GET, 2, false); /* the second Get's */
    assert_int_equal(exchange(k, req, a, &reset), KMIP_CLIENT_E_PROTOCOL);
    assert_true(reset);
    a = answer_new();
    answer_item(a, KMIP_OPERATION_GET, 1, false); /* the first's: the server's failure */
    assert_int_equal(exchange(k, req, a, &reset), KMIP_CLIENT_E_SERVER);
    assert_false(reset);
    kmip_message_free(req);
    core_free(k);
}

/* "stopped the batch" keeps the server's reason (review S8) */
static void test_stopped_batch_message(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_message *req = gets(3), *a = answer_new();
    answer_item(a, KMIP_OPERATION_GET, 1, true);
    answer_item(a, KMIP_OPERATION_GET, 2, false);
    bool reset = false;
    assert_int_equal(exchange(k, req, a, &reset), KMIP_CLIENT_E_PROTOCOL);
    assert_string_equal(k->st.message, "the KMIP server stopped the batch at item 2 of 3 (the "
                                       "KMIP server refused Get: Invalid Message) and answered "
                                       "none after it");
    kmip_message_free(req);
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
    /* refused for another reason: no downgrade, the connection fails
     * (review S7) */
    k->version = 0;
    assert_int_equal(kc_core_discover_begin(k), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    a = answer_new();
    bi = answer_item(a, KMIP_OPERATION_DISCOVER_VERSIONS, 0, false);
    bi->result_reason = KMIP_RESULT_REASON_PERMISSION_DENIED;
    assert_int_equal(feed(k, a, 0), KC_EV_RESPONSE);
    assert_int_equal(kc_core_discover_end(k), KMIP_CLIENT_E_SERVER);
    assert_int_equal(k->version, 0);
    assert_non_null(strstr(k->st.message, "refused Discover Versions: Permission Denied"));
    /* a major version of 257 is none, not 1 */
    assert_int_equal(kc_core_discover_begin(k), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    a = answer_new();
    bi = answer_item(a, KMIP_OPERATION_DISCOVER_VERSIONS, 0, true);
    dv = bi->payload;
    dv->versions = kmip_message_alloc(a, 2 * sizeof *dv->versions);
    dv->versions[0].major = 257;
    dv->versions[0].minor = 4;
    dv->versions[1].major = 1;
    dv->versions[1].minor = 2;
    dv->version_count = 2;
    assert_int_equal(feed(k, a, 0), KC_EV_RESPONSE);
    assert_int_equal(kc_core_discover_end(k), KMIP_CLIENT_OK);
    assert_int_equal(k->version, KMIP_VERSION(1, 2));
    assert_int_equal(k->server_version_count, 1);
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

/* The core decodes a whole framed message where it is (whole_message) and
 * anything else through the framer: both must give the same event, the
 * same bytes consumed and the same error for the same bytes (review s5a
 * C1-1). The framer path is forced by feeding one byte first. */
static void diff_one(const uint8_t *buf, size_t n, size_t maxr, unsigned long *cases)
{
    kc_event ev[2];
    size_t used[2];
    char msg[2][1100];
    int err[2];
    for (int path = 0; path < 2; path++) {
        kc_core *k = core_new(KMIP_VERSION(1, 4));
        k->max_response = maxr;
        kmip_message *req = two_activates();
        assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
        kmip_message_free(sent_request(k));
        size_t u = 0, total = 0;
        kc_event e;
        if (path == 0) {
            e = kc_core_feed(k, buf, n, &u);
            total = u;
        } else {
            e = kc_core_feed(k, buf, 1, &u);
            total = u;
            if (e == KC_EV_RECV && n > 1) {
                e = kc_core_feed(k, buf + 1, n - 1, &u);
                total += u;
            }
        }
        ev[path] = e;
        used[path] = total;
        err[path] = (int)k->st.err;
        snprintf(msg[path], sizeof msg[path], "%s", e == KC_EV_FAILED ? k->st.message : "");
        kc_core_reset(k);
        kmip_message_free(req);
        core_free(k);
    }
    (*cases)++;
    if (ev[0] != ev[1] || used[0] != used[1] || err[0] != err[1] || strcmp(msg[0], msg[1]) != 0)
        fail_msg("n=%zu max=%zu: whole ev=%d used=%zu err=%d \"%s\" / split ev=%d used=%zu err=%d "
                 "\"%s\"", n, maxr, ev[0], used[0], err[0], msg[0], ev[1], used[1], err[1], msg[1]);
}

static void test_fast_path_matches_framer(void **state)
{
    (void)state;
    size_t len;
    uint8_t *good = good_answer(&len);
    uint8_t *buf = calloc(1, 2 * len + 64); /* room for two messages (below) */
    assert_non_null(buf);
    static const uint8_t vals[] = {0x00, 0x01, 0x07, 0x08, 0x10, 0x42, 0x7A, 0x7B, 0x7C, 0x80, 0xFF};
    const size_t maxes[] = {KMIP_DEFAULT_MAX_MESSAGE, len, len - 1, len - 8, len + 8, 8, 7, 0};
    unsigned long cases = 0;
    for (size_t mi = 0; mi < sizeof maxes / sizeof maxes[0]; mi++) {
        for (size_t n = 1; n <= len + 24; n++) { /* truncated, exact, trailing */
            memset(buf, 0, len + 64);
            memcpy(buf, good, n < len ? n : len);
            diff_one(buf, n, maxes[mi], &cases);
        }
        for (size_t at = 0; at < 8; at++)
            for (size_t v = 0; v < sizeof vals; v++) {
                memcpy(buf, good, len);
                buf[at] = vals[v];
                diff_one(buf, len, maxes[mi], &cases);
            }
        for (size_t extra = 0; extra <= 24; extra += 8) { /* header length covering trailing */
            memset(buf, 0, len + 64);
            memcpy(buf, good, len);
            uint32_t b = (uint32_t)(len - 8 + extra);
            buf[4] = (uint8_t)(b >> 24); buf[5] = (uint8_t)(b >> 16);
            buf[6] = (uint8_t)(b >> 8); buf[7] = (uint8_t)b;
            diff_one(buf, len + extra, maxes[mi], &cases);
            memcpy(buf + len, good, len); /* two messages, the first header covering both */
            b = (uint32_t)(2 * len - 8);
            buf[4] = (uint8_t)(b >> 24); buf[5] = (uint8_t)(b >> 16);
            buf[6] = (uint8_t)(b >> 8); buf[7] = (uint8_t)b;
            diff_one(buf, 2 * len < len + 64 ? 2 * len : len + 64, maxes[mi], &cases);
        }
        /* an empty body: 8 bytes */
        static const uint8_t empty[8] = {0x42, 0x00, 0x7B, 0x01, 0, 0, 0, 0};
        diff_one(empty, 8, maxes[mi], &cases);
    }
    print_message("fast path vs framer: %lu cases agree\n", cases);
    free(buf);
    kmip_secure_free(good, len);
}

/* ---- review R1-2: the decoder's limit is max_response ---- */

/* An encoded answer to one Locate: n identifiers of 100 characters
 * (112 bytes each on the wire). */
static uint8_t *locate_answer_of(size_t n, size_t *len)
{
    kmip_message *m = answer_new();
    kmip_batch_item *bi = answer_item(m, KMIP_OPERATION_LOCATE, 0, true);
    kmip_locate_response *p = bi->payload;
    p->unique_identifiers = kmip_message_alloc(m, (n ? n : 1) * sizeof *p->unique_identifiers);
    assert_non_null(p->unique_identifiers);
    for (size_t i = 0; i < n; i++) {
        char id[101];
        snprintf(id, sizeof id, "%0100zu", i);
        set_text(m, &p->unique_identifiers[i], id);
    }
    p->unique_identifier_count = n;
    uint8_t *bytes = encode(m, len);
    kmip_message_free(m);
    return bytes;
}

/* The answer to a Locate fed to a core whose max_response is maxr, whole
 * (decoded where it is) or first one byte (through the framer); the
 * event, the error message in *message. */
static kc_event answer_within(size_t maxr, const uint8_t *bytes, size_t len, bool split,
                              char *message, size_t cap)
{
    kc_core *k = malloc(sizeof *k);
    assert_non_null(k);
    kc_core_init(k, KMIP_VERSION(1, 4), maxr, 1, NULL, NULL);
    k->version = KMIP_VERSION(1, 4);
    k->peer = "test";
    kmip_message *req = kmip_message_new(false, KMIP_VERSION(1, 4));
    assert_non_null(req);
    assert_non_null(kmip_message_add_item(req, KMIP_OPERATION_LOCATE));
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    size_t used = 0, first = split ? 1 : len;
    kc_event ev = kc_core_feed(k, bytes, first, &used);
    if (ev == KC_EV_RECV && split) {
        assert_int_equal(used, 1);
        ev = kc_core_feed(k, bytes + 1, len - 1, &used);
    }
    snprintf(message, cap, "%s", ev == KC_EV_FAILED ? k->st.message : "");
    if (ev == KC_EV_RESPONSE) {
        kmip_message *resp = NULL;
        bool reset;
        assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_OK);
        const kmip_locate_response *l = kc_payload_of(resp, 0, KMIP_OPERATION_LOCATE);
        assert_non_null(l);
        assert_int_equal(l->unique_identifier_count, (len - 136) / 112);
        kc_core_recycle(k, resp);
    } else {
        kc_core_reset(k);
    }
    kmip_message_free(req);
    kc_core_clear(k);
    free(k);
    return ev;
}

/* A response larger than max_response is refused, one within it is
 * accepted, whole or framed, whatever max_response is: above the
 * decoder's default of 1 MiB (refused as "malformed" before), a small
 * one, and the default itself (unchanged). */
static void test_max_response_decode_limit(void **state)
{
    (void)state;
    char msg[1100];
    size_t len1;
    uint8_t *one = locate_answer_of(1, &len1);
    kmip_secure_free(one, len1);
    assert_int_equal(len1, 136 + 112); /* 136 bytes around the identifiers */
    const struct {
        size_t max, ids; /* the response: 136 + 112 * ids bytes */
        bool ok;
    } cases[] = {
        {(size_t)2 << 20, 14000, true},                              /* 1.5 MiB under 2 MiB */
        {(size_t)2 << 20, ((size_t)2 << 20) / 112, false},           /* just over 2 MiB */
        {4096, 20, true},                                            /* 2,376 bytes */
        {4096, 36, false},                                           /* 4,168 bytes */
        {KMIP_DEFAULT_MAX_MESSAGE, (KMIP_DEFAULT_MAX_MESSAGE - 136) / 112, true},
        {KMIP_DEFAULT_MAX_MESSAGE, (KMIP_DEFAULT_MAX_MESSAGE - 136) / 112 + 1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *bytes = locate_answer_of(cases[i].ids, &len);
        assert_int_equal(len, 136 + 112 * cases[i].ids);
        assert_true(cases[i].ok ? len <= cases[i].max : len > cases[i].max);
        for (int split = 0; split < 2; split++) {
            kc_event ev = answer_within(cases[i].max, bytes, len, split, msg, sizeof msg);
            if (cases[i].ok && ev != KC_EV_RESPONSE)
                fail_msg("case %zu (%zu bytes, max %zu, split %d): %s", i, len, cases[i].max,
                         split, msg);
            if (!cases[i].ok) {
                assert_int_equal(ev, KC_EV_FAILED);
                char want[160];
                snprintf(want, sizeof want,
                         "the KMIP server at test announced a response larger than the limit "
                         "of %zu bytes", cases[i].max);
                assert_string_equal(msg, want);
            }
        }
        kmip_secure_free(bytes, len);
    }
}

/* One exchange of two_activates answered by bytes (freed by the caller). */
static kc_event exchange_bytes(kc_core *k, kmip_message *req, uint8_t *bytes, size_t len)
{
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    size_t used = 0;
    return kc_core_feed(k, bytes, len, &used);
}

/* A response handed back (kc_core_recycle) is wiped and the next response
 * is decoded into it; a refused response leaves it empty and kept. */
static void test_response_reuse(void **state)
{
    (void)state;
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_message *req = two_activates();
    size_t len;
    uint8_t *bytes = good_answer(&len);
    kmip_message *first = NULL;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(exchange_bytes(k, req, bytes, len), KC_EV_RESPONSE);
        kmip_message *resp;
        bool reset;
        assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_OK);
        if (first == NULL)
            first = resp;
        assert_ptr_equal(resp, first);
        assert_null(k->spare);
        const kmip_uid_response *b = kc_payload_of(resp, 1, KMIP_OPERATION_ACTIVATE);
        assert_non_null(b);
        assert_int_equal(b->unique_identifier.text.len, 1);
        assert_memory_equal(b->unique_identifier.text.data, "b", 1);
        kc_core_recycle(k, resp);
        assert_ptr_equal(k->spare, first);
        assert_int_equal(first->item_count, 0); /* wiped at once */
    }
    /* a malformed response (a bad tag inside): refused, the spare kept empty */
    uint8_t *bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, bytes, len);
    bad[8] = 0x00;
    assert_int_equal(exchange_bytes(k, req, bad, len), KC_EV_FAILED);
    assert_non_null(strstr(k->st.message, "malformed response"));
    assert_ptr_equal(k->spare, first);
    assert_int_equal(first->item_count, 0);
    kc_core_reset(k);
    assert_int_equal(exchange_bytes(k, req, bytes, len), KC_EV_RESPONSE);
    kmip_message *resp;
    bool reset;
    assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_OK);
    assert_ptr_equal(resp, first);
    assert_int_equal(resp->item_count, 2);
    /* a second message handed back while one is kept is freed */
    kc_core_recycle(k, resp);
    kmip_message *other = kmip_message_new(true, KMIP_VERSION(1, 4));
    assert_non_null(other);
    kc_core_recycle(k, other);
    assert_ptr_equal(k->spare, first);
    kc_core_recycle(k, NULL);
    /* kept only when it is the last response and that was not large */
    kc_core_clear(k);
    kc_core_init(k, KMIP_VERSION(1, 4), KMIP_DEFAULT_MAX_MESSAGE, 1, NULL, NULL);
    kmip_message *stranger = kmip_message_new(true, KMIP_VERSION(1, 4));
    assert_non_null(stranger);
    kc_core_recycle(k, stranger); /* not a response of this core: freed */
    assert_null(k->spare);
    kmip_message *large = kmip_message_new(true, KMIP_VERSION(1, 4));
    assert_non_null(large);
    k->last = (uintptr_t)large;
    k->last_len = KC_SPARE_MAX_RESPONSE + 1;
    kc_core_recycle(k, large); /* a large page would stay pinned: freed */
    assert_null(k->spare);
    free(bad);
    kmip_secure_free(bytes, len);
    kmip_message_free(req);
    core_free(k); /* frees the spare */
}

/* review-s4b R4-1: another writer destroys an object of an already-read
 * page between two pages (newest first, as PyKMIP orders): every object
 * still there must be handed on. */
static const char *r41_ids[5];
static void r41_destroy_first(server *s, int r)
{
    if (r == 1) { /* after the first page: "a" destroyed */
        for (size_t i = 0; i + 1 < s->id_count; i++)
            r41_ids[i] = r41_ids[i + 1];
        s->id_count--;
    }
}
static void test_review_s4b_destroy_between_pages(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        r41_ids[i] = five[i];
    server s = {.ids = r41_ids, .id_count = 5, .on_request = r41_destroy_first};
    found got = {0};
    char msg[1024];
    assert_int_equal(locate(KMIP_VERSION(1, 4), &s, 0, &got, msg, sizeof msg), KMIP_CLIENT_OK);
    bool has_c = false;
    for (size_t i = 0; i < got.n; i++)
        has_c |= strcmp(got.ids[i], "c") == 0;
    printf("R4-1: handed on %zu of the 4 objects that exist, \"c\" %s\n", got.n,
           has_c ? "seen" : "MISSED");
    assert_true(has_c);
}

/* review-s4b R4-2: another writer makes two objects (newest first) between
 * two pages of 2: the next page is all repeats and the Locate fails. */
static const char *r42_ids[8];
static void r42_create_two(server *s, int r)
{
    if (r == 1) {
        for (size_t i = s->id_count; i-- > 0;)
            r42_ids[i + 2] = r42_ids[i];
        r42_ids[0] = "y";
        r42_ids[1] = "x";
        s->id_count += 2;
    }
}
static void test_review_s4b_create_between_pages(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++)
        r42_ids[i] = five[i];
    server s = {.ids = r42_ids, .id_count = 5, .on_request = r42_create_two};
    found got = {0};
    char msg[1024];
    kmip_client_err e = locate(KMIP_VERSION(1, 4), &s, 0, &got, msg, sizeof msg);
    printf("R4-2: result %d after %zu ids: %s\n", (int)e, got.n, msg);
    assert_int_equal(e, KMIP_CLIENT_OK);
}

/* ---- another writer between pages (review s4b R4-1..R4-4) ---- */

/* A list the server finds (newest first unless said otherwise) that a
 * script or a seeded generator changes before chosen requests. */
typedef struct world {
    char names[256][24];
    const char *list[128];
    size_t count, made;
    bool original[256]; /* on the list before the Locate */
    bool removed[256];  /* destroyed during it */
    bool handed[256];
    size_t handed_count, twice;
    uint32_t rng;
} world;

static world w;

static size_t name_index(const char *uid) { return (size_t)atoi(uid + 1); }

static void world_new(size_t n)
{
    memset(&w, 0, sizeof w);
    for (size_t i = 0; i < n; i++) {
        snprintf(w.names[i], sizeof w.names[i], "o%zu", i);
        w.list[n - 1 - i] = w.names[i]; /* newest first: o0 is the oldest */
        w.original[i] = true;
    }
    w.count = w.made = n;
}

static void world_destroy(server *s, size_t pos)
{
    if (pos >= w.count)
        return;
    w.removed[name_index(w.list[pos])] = true;
    memmove(&w.list[pos], &w.list[pos + 1], (w.count - pos - 1) * sizeof w.list[0]);
    s->id_count = --w.count;
}

static void world_create(server *s, size_t pos)
{
    if (w.made >= 256 || w.count >= 128)
        return;
    snprintf(w.names[w.made], sizeof w.names[w.made], "o%zu", w.made);
    if (pos > w.count)
        pos = w.count;
    memmove(&w.list[pos + 1], &w.list[pos], (w.count - pos) * sizeof w.list[0]);
    w.list[pos] = w.names[w.made++];
    s->id_count = ++w.count;
}

static bool world_collect(void *ctx, const char *uid, size_t len)
{
    (void)ctx;
    assert_true(len > 1 && len < 8 && uid[0] == 'o');
    size_t i = name_index(uid);
    assert_true(i < w.made); /* an object that existed */
    w.twice += w.handed[i];
    w.handed[i] = true;
    w.handed_count++;
    return true;
}

/* Every object on the list before the Locate and not destroyed during it
 * was handed on; none twice. */
static void assert_none_missed(void)
{
    assert_int_equal(w.twice, 0);
    for (size_t i = 0; i < w.made; i++)
        if (w.original[i] && !w.removed[i] && !w.handed[i])
            fail_msg("\"o%zu\" exists and was not handed on", i);
}

static kmip_client_err world_locate(server *s, int32_t page, char *message, size_t cap)
{
    kc_core *k = core_new(KMIP_VERSION(1, 4));
    kmip_locate_filter f = {.object_group = "g", .page_size = page};
    s->ids = w.list;
    s->id_count = w.count;
    kc_op op;
    kc_op_locate(&op, &f, world_collect, NULL);
    kmip_client_err e = run(k, s, &op, 0);
    snprintf(message, cap, "%s", k->st.message);
    core_free(k);
    return e;
}

/* a script: before request `at`, destroy (or create) at a position */
typedef struct change {
    int at;
    bool create;
    size_t pos;
} change;
static const change *script;
static size_t script_len;

static void run_script(server *s, int r)
{
    for (size_t i = 0; i < script_len; i++)
        if (script[i].at == r) {
            if (script[i].create)
                world_create(s, script[i].pos);
            else
                world_destroy(s, script[i].pos);
        }
}

static kmip_client_err scripted(size_t n, const change *c, size_t len, server *s, int32_t page,
                                char *msg, size_t cap)
{
    world_new(n);
    script = c;
    script_len = len;
    s->on_request = run_script;
    return world_locate(s, page, msg, cap);
}

static void test_locate_destroyed_before_anchor(void **state)
{
    (void)state;
    char msg[1024];
    /* after the first page (o7 o6), o7 destroyed: o5 moves to offset 1,
     * where offset paging asked for the anchor's place + 1 */
    static const change one[] = {{1, false, 0}};
    server s = {0};
    assert_int_equal(scripted(8, one, 1, &s, 2, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
    /* the anchor o6 missing at offset 1: the page further back (widest
     * page 3: two places back, so offset 0) finds it at 0 */
    assert_int_equal(s.offsets[1], 1);
    assert_int_equal(s.offsets[2], -1);
    assert_int_equal(s.offsets[3], 2);
    /* deeper in the list, the step back does not go to 0 */
    static const change deep[] = {{3, false, 0}};
    server sd = {0};
    assert_int_equal(scripted(12, deep, 1, &sd, 2, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
    assert_int_equal(sd.offsets[2], 3);
    assert_int_equal(sd.offsets[3], 5); /* o6 not found at 5 */
    assert_int_equal(sd.offsets[4], 3); /* found at 4, two places back */
    /* the anchor itself destroyed, and two objects of the first page */
    static const change anchor[] = {{2, false, 2}};
    server s2 = {0};
    assert_int_equal(scripted(8, anchor, 1, &s2, 2, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
    static const change two[] = {{1, false, 0}, {1, false, 0}, {3, false, 3}};
    server s3 = {0};
    assert_int_equal(scripted(8, two, 3, &s3, 2, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
    /* the anchor itself (o4, after the pages o7 o6 | o6 o5 o4) destroyed:
     * the page further back finds the one before it, o5, and goes on from
     * there: no new enumeration from offset 0 */
    static const change itself[] = {{2, false, 3}};
    server s5 = {0};
    assert_int_equal(scripted(8, itself, 1, &s5, 2, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
    assert_int_equal(s5.offsets[2], 3);
    assert_int_equal(s5.offsets[3], 1);
    for (int i = 1; i < s5.requests && i < 16; i++)
        assert_int_not_equal(s5.offsets[i], -1);
    /* the last object destroyed while the anchor-only page is asked */
    static const change last[] = {{4, false, 7}};
    server s4 = {0};
    assert_int_equal(scripted(8, last, 1, &s4, 3, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
}

static void test_locate_created_before_anchor(void **state)
{
    (void)state;
    char msg[1024];
    /* two new objects (a whole page of 2) before the anchor: the next page
     * is repeats only, and that is no server ignoring Offset Items */
    static const change page[] = {{1, true, 0}, {1, true, 0}};
    server s = {0};
    assert_int_equal(scripted(6, page, 2, &s, 2, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
    /* five: more than a page, the anchor out of the page: begins again */
    static const change more[] = {{1, true, 0}, {1, true, 0}, {1, true, 0}, {1, true, 0},
                                  {1, true, 0}, {2, true, 0}};
    server s2 = {0};
    assert_int_equal(scripted(6, more, 6, &s2, 2, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
    /* one made at the end of the list between the last pages, twice */
    static const change end[] = {{3, true, 0}, {4, true, 0}};
    server s3 = {0};
    assert_int_equal(scripted(4, end, 2, &s3, 2, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
}

static void test_locate_created_and_destroyed(void **state)
{
    (void)state;
    char msg[1024];
    /* before each of pages 2-4: one destroyed on a page read, two made */
    static const change both[] = {{1, false, 1}, {1, true, 0}, {1, true, 0},
                                  {2, false, 3}, {2, true, 0}, {2, true, 0},
                                  {3, true, 0},  {3, false, 5}, {3, true, 2}};
    for (int32_t page = 1; page <= 4; page++) {
        server s = {0};
        assert_int_equal(scripted(10, both, 9, &s, page, msg, sizeof msg), KMIP_CLIENT_OK);
        assert_none_missed();
    }
}

/* another writer destroying the first object before every page: the
 * Locate cannot finish and says so, never a short list */
static void destroy_first(server *s, int r)
{
    if (r > 0)
        world_destroy(s, 0);
}

/* review-s5b S5-1: a steady writer, one object made (newest first) before
 * each page from the third on: the anchor is last on every page after the
 * list's end ("stalled"), never alone: refused as a server ignoring Offset
 * Items although nothing is wrong with the server and nothing was missed */
static void test_review_s5b_steady_creation(void **state)
{
    (void)state;
    static const change c[] = {{2, true, 0}, {3, true, 0}, {4, true, 0}, {5, true, 0},
                               {6, true, 0}, {7, true, 0}, {8, true, 0}, {9, true, 0},
                               {10, true, 0}, {11, true, 0}};
    char msg[1024];
    server s = {0};
    kmip_client_err e = scripted(5, c, 10, &s, 4, msg, sizeof msg);
    printf("S5-1: result %d after %d requests: %s\n", (int)e, s.requests, msg);
    assert_none_missed();
    assert_int_equal(e, KMIP_CLIENT_OK);
}

static void test_locate_restart_bound(void **state)
{
    (void)state;
    world_new(40);
    server s = {.on_request = destroy_first};
    char msg[1024];
    assert_int_equal(world_locate(&s, 2, msg, sizeof msg), KMIP_CLIENT_E_PROTOCOL);
    assert_non_null(strstr(msg, "the object list kept changing during the Locate"));
    assert_non_null(strstr(msg, "retry later"));
    assert_int_equal(w.twice, 0);
    /* a page, its check, the page further back, five times */
    assert_int_equal(s.requests, 3 * (KC_LOCATE_MAX_RESTARTS + 1));
}

/* pages capped below Maximum Items (Vault: 16) while another writer
 * destroys: with and without Located Items */
static void test_locate_capped_destroyed(void **state)
{
    (void)state;
    char msg[1024];
    static const change c[] = {{1, false, 2}, {2, false, 0}, {3, true, 0}};
    for (int located = 0; located < 2; located++) {
        server s = {.cap = 4, .located = located};
        assert_int_equal(scripted(20, c, 3, &s, 0, msg, sizeof msg), KMIP_CLIENT_OK);
        assert_none_missed();
        assert_int_equal(s.maxima[0], 256);
    }
}

/* review s4b R4-3: a capping server whose Located Items is the page's own
 * count: not the end */
static void test_locate_located_items_lying(void **state)
{
    (void)state;
    char msg[1024];
    for (size_t cap = 2; cap <= 5; cap++) {
        world_new(10);
        server s = {.cap = cap, .located = true, .located_page_count = true};
        assert_int_equal(world_locate(&s, 0, msg, sizeof msg), KMIP_CLIENT_OK);
        assert_int_equal(w.handed_count, 10);
        assert_none_missed();
    }
    /* pages capped at one cannot hold an anchor and a new identifier:
     * refused, not taken for a list of one */
    world_new(10);
    server one_each = {.cap = 1, .located = true, .located_page_count = true};
    assert_int_equal(world_locate(&one_each, 0, msg, sizeof msg), KMIP_CLIENT_E_PROTOCOL);
    assert_non_null(strstr(msg, "one identifier per page"));
    world_new(1); /* a real list of one: the page after it is empty, as before */
    server single = {0};
    assert_int_equal(world_locate(&single, 0, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_int_equal(single.requests, 2);
    assert_int_equal(single.offsets[1], 1);
    assert_int_equal(w.handed_count, 1);
    /* a list of one while another writer makes an object before it (newest
     * first) and then after it: both found */
    static const change grow[] = {{1, true, 0}, {2, true, 2}};
    server growing = {0};
    assert_int_equal(scripted(1, grow, 2, &growing, 0, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_none_missed();
    assert_int_equal(w.handed_count, 3);
    /* an honest Located Items ends nothing either (review s5b S5-3): 0-3,
     * 3-6, 6-9 short, the anchor alone at 9; a one-page list costs the
     * anchor page */
    world_new(10);
    server honest = {.located = true};
    assert_int_equal(world_locate(&honest, 4, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_int_equal(honest.requests, 4);
    world_new(3);
    server one = {.located = true};
    assert_int_equal(world_locate(&one, 4, msg, sizeof msg), KMIP_CLIENT_OK);
    assert_int_equal(one.requests, 2);
    assert_int_equal(w.handed_count, 3);
}

/* review s4b R4-4: the cap on identifiers counts objects, not repeats
 * (every anchored page repeats one) */
static void test_locate_cap_counts_new_ids(void **state)
{
    (void)state;
    for (size_t max = 4; max <= 5; max++) {
        kc_core *k = core_new(KMIP_VERSION(1, 4));
        server s = {.ids = five, .id_count = 5};
        kmip_locate_filter f = {.object_group = "g", .page_size = 2};
        found got = {0};
        kc_op op;
        kc_op_locate(&op, &f, collect, &got);
        op.max_ids = max; /* KC_LOCATE_MAX_IDS at a small scale */
        kmip_client_err e = run(k, &s, &op, 0);
        if (max == 5) {
            assert_int_equal(e, KMIP_CLIENT_OK);
            assert_int_equal(got.n, 5);
        } else {
            assert_int_equal(e, KMIP_CLIENT_E_PROTOCOL);
            assert_non_null(strstr(k->st.message, "more than 4 identifiers"));
            assert_int_equal(got.n, 4);
        }
        core_free(k);
    }
}

/* Seeded rounds of another writer making and destroying objects at any
 * place between pages (newest first, appended, or at a random place, as
 * a server ordering by identifier would): every object that existed
 * during the whole Locate is handed on, or the Locate fails saying the
 * list kept changing. */
static int churn_mode;
static uint32_t churn_rate;

static uint32_t next_rand(void)
{
    w.rng = w.rng * 1103515245u + 12345u;
    return w.rng >> 16;
}

static void churn(server *s, int r)
{
    if (r == 0)
        return;
    uint32_t n = next_rand() % (churn_rate + 1);
    for (uint32_t i = 0; i < n; i++) {
        if (next_rand() % 2 && w.count > 0) {
            world_destroy(s, next_rand() % w.count);
        } else {
            size_t pos = churn_mode == 0 ? 0 : churn_mode == 1 ? w.count : next_rand() % (w.count + 1);
            world_create(s, pos);
        }
    }
}

static void test_locate_churn(void **state)
{
    (void)state;
    int ok = 0, failed = 0;
    char msg[1024];
    for (uint32_t round = 0; round < 3000; round++) {
        world_new(5 + round % 30);
        w.rng = round * 2654435761u;
        churn_mode = (int)(round % 3);
        churn_rate = 1 + round % 3;
        server s = {.on_request = churn, .cap = round % 4 == 0 ? 3 : 0, .located = round % 5 == 0};
        kmip_client_err e = world_locate(&s, (int32_t)(1 + round % 5), msg, sizeof msg);
        if (e == KMIP_CLIENT_OK) {
            assert_none_missed();
            ok++;
        } else {
            assert_int_equal(e, KMIP_CLIENT_E_PROTOCOL);
            if (strstr(msg, "kept changing") == NULL && strstr(msg, "keeps making") == NULL)
                fail_msg("round %u: %s", round, msg);
            assert_int_equal(w.twice, 0);
            failed++;
        }
    }
    printf("churn: %d Locates complete, %d refused as a list that kept changing\n", ok, failed);
    assert_true(ok > 1000);
}


/* ---- versions per server (review s6 R6-2, R6-3) ---- */

/* The Discover Versions exchange of a driver negotiating again: the
 * server lists `speaks` only. */
static void negotiate_to(kc_core *k, unsigned speaks)
{
    assert_int_equal(kc_core_discover_begin(k), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    kmip_message *a = answer_new();
    kmip_batch_item *bi = answer_item(a, KMIP_OPERATION_DISCOVER_VERSIONS, 0, true);
    kmip_discover_versions_response *dv = bi->payload;
    dv->versions = kmip_message_alloc(a, sizeof *dv->versions);
    dv->versions[0].major = (int32_t)(speaks >> 8);
    dv->versions[0].minor = (int32_t)(speaks & 0xFF);
    dv->version_count = 1;
    assert_int_equal(feed(k, a, 0), KC_EV_RESPONSE);
    assert_int_equal(kc_core_discover_end(k), KMIP_CLIENT_OK);
    assert_int_equal(k->version, speaks);
}

typedef struct attr_change {
    uint32_t op;
    const char *name, *current, *value;
    int builds;
} attr_change;

static kmip_client_err build_change(void *ctx, kmip_message *m)
{
    attr_change *c = ctx;
    c->builds++;
    return kc_add_attribute_change(m, c->op, "obj-1", c->name, c->current, c->value);
}

/* The attribute the server reads in the sent request's first item:
 * the 1.x Attribute's name (and whether it has a value), or the 2.x tag. */
static void sent_attribute(kc_core *k, unsigned version, kmip_attribute *got, size_t *current)
{
    kmip_message *seen = sent_request(k);
    assert_int_equal(kmip_message_version(seen), version);
    const kmip_attribute_change_request *r = seen->items[0].payload;
    assert_non_null(r);
    assert_int_equal(r->attribute.count, 1);
    *got = *r->attribute.first;
    got->name.data = NULL; /* the name's bytes are the message's: copied below */
    if (r->attribute.first->name.len) {
        static char name[64];
        size_t n = r->attribute.first->name.len < 63 ? r->attribute.first->name.len : 63;
        memcpy(name, r->attribute.first->name.data, n);
        name[n] = '\0';
        got->name.data = (const uint8_t *)name;
        got->name.len = n;
    }
    got->value = NULL;
    *current = r->current.count;
    kmip_message_free(seen);
}

/* R6-2: a request the client's own operation built (a custom attribute:
 * a 2.x Vendor Attribute, a 1.x Attribute by name) goes to a server of
 * another version built again in that version's form; a caller's request
 * holding one is refused before it is sent, one that only holds what the
 * message layer writes per version (Get Attributes' both forms) goes. */
static void test_rebuilt_at_another_version(void **state)
{
    (void)state;
    kc_core *k = core_new(0);
    k->version = KMIP_VERSION(2, 1);
    attr_change add = {KMIP_OPERATION_ADD_ATTRIBUTE, "x-note", NULL, "v", 0};
    kmip_message *req = kmip_message_new(false, KMIP_VERSION(2, 1));
    assert_non_null(req);
    assert_int_equal(build_change(&add, req), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_begin_built(k, req, build_change, &add), KMIP_CLIENT_OK);
    assert_int_equal(add.builds, 1); /* its own version: not built again */
    /* failed over to a 1.4 server: built again, a 1.x Attribute by name */
    k->version = KMIP_VERSION(1, 4);
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_OK);
    assert_int_equal(add.builds, 2);
    kmip_attribute a;
    size_t current;
    sent_attribute(k, KMIP_VERSION(1, 4), &a, &current);
    assert_int_equal(a.name.len, strlen("x-note"));
    assert_memory_equal(a.name.data, "x-note", a.name.len);
    kc_core_reset(k);
    kmip_message_free(req);
    /* and back: a 1.4 Modify with its value replaced becomes 2.1's, with
     * the Current Attribute 2.x has, as a Vendor Attribute */
    attr_change mod = {KMIP_OPERATION_MODIFY_ATTRIBUTE, "x-note", "old", "new", 0};
    k->version = KMIP_VERSION(1, 4);
    req = kmip_message_new(false, KMIP_VERSION(1, 4));
    assert_non_null(req);
    assert_int_equal(build_change(&mod, req), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_begin_built(k, req, build_change, &mod), KMIP_CLIENT_OK);
    k->version = KMIP_VERSION(2, 1);
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_OK);
    sent_attribute(k, KMIP_VERSION(2, 1), &a, &current);
    assert_int_equal(a.tag, KMIP_TAG_ATTRIBUTE);
    assert_int_equal(current, 1);
    kc_core_reset(k);
    kmip_message_free(req);
    /* the same requests from a caller (no builder): refused, not sent in
     * a form the other version reads as something else */
    k->version = KMIP_VERSION(2, 1);
    req = kmip_message_new(false, KMIP_VERSION(2, 1));
    assert_non_null(req);
    assert_int_equal(build_change(&add, req), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    k->version = KMIP_VERSION(1, 4);
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_E_UNSUPPORTED);
    assert_non_null(strstr(k->st.message, "custom attribute"));
    assert_non_null(strstr(k->st.message, "KMIP 1.4"));
    kc_core_reset(k);
    kmip_message_free(req);
    k->version = KMIP_VERSION(2, 1);
    req = kmip_message_new(false, KMIP_VERSION(2, 1));
    assert_non_null(req);
    assert_int_equal(build_change(&mod, req), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    k->version = KMIP_VERSION(2, 0); /* within 2.x: the same form */
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_OK);
    k->version = KMIP_VERSION(1, 4);
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_E_UNSUPPORTED);
    assert_non_null(strstr(k->st.message, "Current Attribute"));
    kc_core_reset(k);
    kmip_message_free(req);
    /* a caller's request at another version than the core's from the start */
    req = kmip_message_new(false, KMIP_VERSION(2, 1));
    assert_non_null(req);
    assert_int_equal(build_change(&add, req), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_E_UNSUPPORTED);
    assert_int_equal(kc_core_event(k), KC_EV_IDLE);
    kmip_message_free(req);
    /* the public builders' requests go: Get Attributes by reference (2.x)
     * and by name (1.x) from one request */
    static const uint32_t tags[] = {KMIP_TAG_NAME, KMIP_TAG_STATE};
    k->version = KMIP_VERSION(2, 1);
    req = kmip_message_new(false, KMIP_VERSION(2, 1));
    assert_non_null(req);
    assert_int_equal(kmip_req_add_get_attributes(req, "obj-1", tags, 2), KMIP_CLIENT_OK);
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    k->version = KMIP_VERSION(1, 4);
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_OK);
    kmip_message *seen = sent_request(k);
    assert_int_equal(kmip_message_version(seen), KMIP_VERSION(1, 4));
    const kmip_get_attributes_request *g = seen->items[0].payload;
    assert_int_equal(g->attribute_name_count, 2);
    kmip_message_free(seen);
    kc_core_reset(k);
    kmip_message_free(req);
    core_free(k);
}

/* An answer refusing every item of req for its version (as our test
 * server started with --max-version answers), or with `reason`. */
static kmip_message *refusal(const kmip_message *req, uint32_t reason, size_t ok_items)
{
    kmip_message *a = answer_new();
    for (size_t i = 0; i < req->item_count; i++) {
        kmip_batch_item *bi = answer_item(a, req->items[i].operation, (uint32_t)(i + 1),
                                          i < ok_items);
        if (i < ok_items) /* the Unique Identifier where the operation's answer has it */
            set_text(a, req->items[i].operation == KMIP_OPERATION_REGISTER
                            ? &((kmip_register_response *)bi->payload)->unique_identifier
                            : &((kmip_uid_response *)bi->payload)->unique_identifier,
                     "new-1");
        else
            bi->result_reason = reason;
    }
    return a;
}

/* R6-3: a write refused as a whole for its version (a server restarted
 * at an older one) is recognised, kept while the driver negotiates, and
 * armed again once when the version changed; the same version, another
 * reason or an item that ran leave the refusal as it is. */
static void test_refused_version(void **state)
{
    (void)state;
    kc_core *k = core_new(0);
    k->version = KMIP_VERSION(2, 1);
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SECRET_DATA, .name = "n"};
    static const uint8_t secret[4] = {1, 2, 3, 4};
    kc_op op;
    kc_op_register(&op, &spec, secret, sizeof secret, true, NULL, 0);
    kmip_message *req = NULL;
    assert_true(kc_op_next(k, &op, &req));
    assert_int_equal(kc_core_begin_built(k, req, kc_op_build, &op), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    assert_int_equal(feed(k, refusal(req, KMIP_RESULT_REASON_INVALID_MESSAGE, 0), 0),
                     KC_EV_RESPONSE);
    assert_true(kc_core_version_refused(k));
    /* the driver negotiates on the same connection, the refusal aside */
    kc_armed armed;
    kc_core_put_aside(k, &armed);
    negotiate_to(k, KMIP_VERSION(1, 4));
    kc_core_take_back(k, &armed);
    assert_true(kc_core_resend_refused(k));
    assert_int_equal(kc_core_event(k), KC_EV_SEND);
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_OK);
    kmip_message *seen = sent_request(k);
    assert_int_equal(kmip_message_version(seen), KMIP_VERSION(1, 4));
    assert_int_equal(seen->item_count, 2); /* Register + Activate, built again */
    assert_int_equal(seen->items[0].operation, KMIP_OPERATION_REGISTER);
    kmip_message_free(seen);
    /* refused again: once per request, the refusal stands */
    assert_int_equal(feed(k, refusal(req, KMIP_RESULT_REASON_INVALID_MESSAGE, 0), 0),
                     KC_EV_RESPONSE);
    assert_false(kc_core_version_refused(k));
    kmip_message *resp = NULL;
    bool reset;
    assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_E_SERVER);
    kmip_message_free(resp);
    /* negotiated again to the same version: the refusal stands, handed out */
    k->version = KMIP_VERSION(1, 4);
    assert_int_equal(kc_core_begin_built(k, req, kc_op_build, &op), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    assert_int_equal(feed(k, refusal(req, KMIP_RESULT_REASON_INVALID_MESSAGE, 0), 0),
                     KC_EV_RESPONSE);
    assert_true(kc_core_version_refused(k));
    kc_core_put_aside(k, &armed);
    negotiate_to(k, KMIP_VERSION(1, 4));
    kc_core_take_back(k, &armed);
    assert_false(kc_core_resend_refused(k));
    assert_int_equal(kc_core_finish(k, &resp, &reset), KMIP_CLIENT_E_SERVER);
    assert_non_null(resp);
    assert_int_equal(resp->item_count, 2);
    kmip_message_free(resp);
    /* another reason, or the first item ran: no refusal of the version */
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    assert_int_equal(feed(k, refusal(req, KMIP_RESULT_REASON_PERMISSION_DENIED, 0), 0),
                     KC_EV_RESPONSE);
    assert_false(kc_core_version_refused(k));
    kc_core_reset(k);
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    assert_int_equal(feed(k, refusal(req, KMIP_RESULT_REASON_INVALID_MESSAGE, 1), 0),
                     KC_EV_RESPONSE);
    assert_false(kc_core_version_refused(k));
    kc_core_reset(k);
    /* PyKMIP's whole-message refusal: one item naming no operation */
    assert_int_equal(kc_core_begin(k, req), KMIP_CLIENT_OK);
    kmip_message_free(sent_request(k));
    kmip_message *a = answer_new();
    kmip_batch_item *bi = answer_item(a, KMIP_OPERATION_REGISTER, 0, false);
    bi->has_operation = false;
    assert_int_equal(feed(k, a, 0), KC_EV_RESPONSE);
    assert_true(kc_core_version_refused(k));
    kc_core_reset(k);
    kmip_message_free(req);
    kc_op_free(&op);
    core_free(k);
}


/* R6-2: a Locate's first page going to a server below 1.3 is built again
 * unpaged (one request, as such a server gets); once pages were answered
 * it cannot go on there (no Offset Items) and says so, instead of losing
 * its Offset Items. */
static void test_locate_rebuilt_below_1_3(void **state)
{
    (void)state;
    kc_core *k = core_new(0);
    k->version = KMIP_VERSION(1, 4);
    kmip_locate_filter f = {.object_group = "g", .page_size = 2};
    found got = {0};
    kc_op op;
    kc_op_locate(&op, &f, collect, &got);
    kmip_message *req = NULL;
    assert_true(kc_op_next(k, &op, &req));
    assert_int_equal(kc_core_begin_built(k, req, kc_op_build, &op), KMIP_CLIENT_OK);
    k->version = KMIP_VERSION(1, 2);
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_OK);
    kmip_message *seen = sent_request(k);
    assert_int_equal(kmip_message_version(seen), KMIP_VERSION(1, 2));
    const kmip_locate_request *l = seen->items[0].payload;
    assert_false(l->has_maximum_items);
    kmip_message_free(seen);
    kc_core_reset(k);
    /* a later page (white box: as after answered pages) */
    k->version = KMIP_VERSION(1, 4);
    op.paged = true;
    op.pages = 1;
    op.offset = 2;
    assert_int_equal(kc_core_begin_built(k, req, kc_op_build, &op), KMIP_CLIENT_OK);
    k->version = KMIP_VERSION(1, 2);
    assert_int_equal(kc_core_follow_version(k, req), KMIP_CLIENT_E_UNSUPPORTED);
    assert_non_null(strstr(k->st.message, "KMIP 1.2"));
    kc_core_reset(k);
    kmip_message_free(req);
    kc_op_free(&op);
    core_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_reuse),
        cmocka_unit_test(test_pipelined_exchanges),
        cmocka_unit_test(test_review_s4b_destroy_between_pages),
        cmocka_unit_test(test_review_s4b_create_between_pages),
        cmocka_unit_test(test_locate_pages),
        cmocka_unit_test(test_locate_destroyed_before_anchor),
        cmocka_unit_test(test_locate_created_before_anchor),
        cmocka_unit_test(test_locate_created_and_destroyed),
        cmocka_unit_test(test_locate_restart_bound),
        cmocka_unit_test(test_review_s5b_steady_creation),
        cmocka_unit_test(test_locate_capped_destroyed),
        cmocka_unit_test(test_locate_located_items_lying),
        cmocka_unit_test(test_locate_cap_counts_new_ids),
        cmocka_unit_test(test_locate_churn),
        cmocka_unit_test(test_locate_capped_pages),
        cmocka_unit_test(test_locate_capped_cost),
        cmocka_unit_test(test_locate_reordered_pages),
        cmocka_unit_test(test_register_then_activate_keeps_uid),
        cmocka_unit_test(test_one_failed_item_of_another_request),
        cmocka_unit_test(test_stopped_batch_message),
        cmocka_unit_test(test_locate_exact_pages),
        cmocka_unit_test(test_locate_ignoring_offset),
        cmocka_unit_test(test_locate_more_than_maximum),
        cmocka_unit_test(test_locate_before_1_3),
        cmocka_unit_test(test_locate_duplicate_in_page),
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_truncated_answer),
        cmocka_unit_test(test_oversized_answer),
        cmocka_unit_test(test_request_as_answer),
        cmocka_unit_test(test_trailing_bytes_left),
        cmocka_unit_test(test_register_activate_fallback),
        cmocka_unit_test(test_review_locate_cycling_pages),
        cmocka_unit_test(test_review_locate_capped_pages),
        cmocka_unit_test(test_review_placeholder_answer_other_object),
        cmocka_unit_test(test_review_refusal_for_activate_is_not_a_placeholder_refusal),
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_rebuilt_at_another_version),
        cmocka_unit_test(test_refused_version),
        cmocka_unit_test(test_locate_rebuilt_below_1_3),
        cmocka_unit_test(test_retry_decisions),
        cmocka_unit_test(test_fast_path_matches_framer),
        cmocka_unit_test(test_max_response_decode_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

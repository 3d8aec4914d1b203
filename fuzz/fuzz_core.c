/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target: the client's sans-I/O core (src/client/core.h) through
 * multi-step exchanges. The input is a configuration byte and then a
 * sequence of events "from the server", each
 *
 *     [kind] [length, 2 bytes big-endian] [length bytes]
 *
 * kind & 3: 0 the bytes arrive (a response may be split over several such
 * events; bytes after a whole response are an answer nobody asked for),
 * 1 the connection breaks after the request left, 2 the answer times out,
 * 3 the connection cannot be made (nothing sent); kind & 4: the failed
 * connection was a kept one; kind & 8: the operation's time is spent. An
 * exhausted input breaks every later connection.
 *
 * Configuration byte: & 7 the scenario (a paged Locate, Register +
 * Activate, Create + Activate + Get, a batch of reads, Revoke + Destroy,
 * and sessions of several operations); & 8 the version is negotiated
 * (Discover Versions) instead of pinned (& 16: 2.0, else 1.4); & 0x60 the
 * number of servers minus one (failover decisions); & 0x80 the server is
 * known to refuse ID placeholders (for scenario 0: the Locate pages
 * through a model server that another writer changes, scripted by the
 * input, see locate_model).
 *
 * The driver below does what the blocking client does with the core (the
 * core's bytes out, the server's in, the core's decision after a failure)
 * without sockets. Properties: no crash, no leak, no endless loop; every
 * request the core produces decodes as a request; an answer the core
 * accepts answers that request (item count, order, operations, Unique
 * Batch Item IDs, the object each item names, and for items using the ID
 * placeholder the object the batch made); a write that left is never
 * re-armed (retry or failover), and a Register or Create goes again only
 * after an answer saying the whole message was refused; a Locate never
 * hands on more identifiers than its pages allow, nor one identifier
 * twice, and ends within a bound of pages; against the model server, a
 * Locate that succeeds handed on every object there during the whole
 * Locate; every failure comes with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

typedef struct input {
    const uint8_t *p, *end;
    bool fresh; /* the next connection is a new one (not kept) */
} input;

enum { EV_BYTES, EV_BROKEN, EV_TIMEOUT, EV_REFUSED, EV_END };

static int next_event(input *in, const uint8_t **data, size_t *len, uint8_t *flags)
{
    *data = NULL;
    *len = 0;
    *flags = 0;
    if (in->end - in->p < 3) {
        in->p = in->end;
        return EV_END;
    }
    uint8_t kind = in->p[0];
    size_t n = (size_t)in->p[1] << 8 | in->p[2];
    in->p += 3;
    if (n > (size_t)(in->end - in->p))
        n = (size_t)(in->end - in->p);
    *data = in->p;
    *len = n;
    in->p += n;
    *flags = kind;
    return kind & 3;
}

static bool peek_bytes(const input *in)
{
    return in->end - in->p >= 3 && (in->p[0] & 3) == EV_BYTES;
}

static void need_message(const kc_core *k)
{
    if (k->st.message[0] == '\0')
        abort(); /* every failure explains itself */
}

/* The bytes the core wants sent decode as a request. */
static void check_output(const kc_core *k)
{
    const uint8_t *out;
    size_t n;
    kc_core_output(k, &out, &n);
    if (out == NULL || n == 0)
        abort();
    kmip_message *m = NULL;
    kmip_msg_error merr;
    if (kmip_message_decode(out, n, &m, &merr) != KMIP_OK || m->is_response)
        abort();
    kmip_message_free(m);
}

static bool reads_only(const kmip_message *req)
{
    for (size_t i = 0; i < req->item_count; i++) {
        uint32_t op = req->items[i].operation;
        if (op != KMIP_OPERATION_GET && op != KMIP_OPERATION_GET_ATTRIBUTES &&
            op != KMIP_OPERATION_GET_ATTRIBUTE_LIST && op != KMIP_OPERATION_LOCATE &&
            op != KMIP_OPERATION_QUERY && op != KMIP_OPERATION_DISCOVER_VERSIONS)
            return false;
    }
    return true;
}

/* The object a request item names: *asked (false: none, or the ID
 * placeholder) and the one its answer names, for the operations whose
 * answer names one (the oracle's own table, apart from the core's). */
static bool named(const kmip_batch_item *rq, const kmip_batch_item *rs, const kmip_uid **asked,
                  const kmip_uid **answered)
{
    *asked = NULL;
    *answered = NULL;
    if (rq->payload == NULL || rs->payload == NULL)
        return false;
    switch (rq->operation) {
    case KMIP_OPERATION_GET: {
        const kmip_get_request *q = rq->payload;
        *asked = q->has_unique_identifier ? &q->unique_identifier : NULL;
        *answered = &((const kmip_get_response *)rs->payload)->unique_identifier;
        return true;
    }
    case KMIP_OPERATION_GET_ATTRIBUTES: {
        const kmip_get_attributes_request *q = rq->payload;
        *asked = q->has_unique_identifier ? &q->unique_identifier : NULL;
        *answered = &((const kmip_get_attributes_response *)rs->payload)->unique_identifier;
        return true;
    }
    case KMIP_OPERATION_ACTIVATE:
    case KMIP_OPERATION_DESTROY: {
        const kmip_uid_request *q = rq->payload;
        *asked = q->has_unique_identifier ? &q->unique_identifier : NULL;
        *answered = &((const kmip_uid_response *)rs->payload)->unique_identifier;
        return true;
    }
    case KMIP_OPERATION_REVOKE: {
        const kmip_revoke_request *q = rq->payload;
        *asked = q->has_unique_identifier ? &q->unique_identifier : NULL;
        *answered = &((const kmip_uid_response *)rs->payload)->unique_identifier;
        return true;
    }
    default:
        return false;
    }
}

static bool uid_equal(const kmip_uid *a, const kmip_uid *b)
{
    return a->is_enum == b->is_enum && a->text.len == b->text.len &&
           (a->is_enum ? a->enum_value == b->enum_value
                       : a->text.len == 0 || memcmp(a->text.data, b->text.data, a->text.len) == 0);
}

/* An answer the core accepted answers req. */
static void check_accepted(const kmip_message *req, const kmip_message *resp)
{
    if (resp == NULL || resp->item_count != req->item_count)
        abort();
    const kmip_uid *made = NULL; /* what the ID placeholder stands for */
    for (size_t i = 0; i < req->item_count; i++) {
        const kmip_batch_item *rq = &req->items[i], *rs = &resp->items[i];
        if (rs->has_operation && rs->operation != rq->operation)
            abort();
        if (rs->has_unique_batch_item_id &&
            (!rq->has_unique_batch_item_id ||
             rs->unique_batch_item_id.len != rq->unique_batch_item_id.len ||
             memcmp(rs->unique_batch_item_id.data, rq->unique_batch_item_id.data,
                    rq->unique_batch_item_id.len) != 0))
            abort();
        if (rs->result_status != KMIP_RESULT_STATUS_SUCCESS)
            abort();
        const kmip_uid *asked, *answered;
        if (named(rq, rs, &asked, &answered)) {
            const kmip_uid *want = asked ? asked : made;
            if (want && !uid_equal(want, answered))
                abort(); /* an answer about another object accepted */
        }
        if (rs->payload && rq->operation == KMIP_OPERATION_REGISTER)
            made = &((const kmip_register_response *)rs->payload)->unique_identifier;
        if (rs->payload && rq->operation == KMIP_OPERATION_CREATE)
            made = &((const kmip_create_response *)rs->payload)->unique_identifier;
    }
}

/* Per operation: the Registers and Creates sent, and whether the last
 * answer to one said nothing of its message ran (one failed item naming
 * no later item nor another operation), which alone allows another. */
static struct {
    int makers_sent;
    bool may_repeat;
} track;

static bool makes_object(const kmip_message *req)
{
    return req->items[0].operation == KMIP_OPERATION_REGISTER ||
           req->items[0].operation == KMIP_OPERATION_CREATE;
}

static void maker_sent(const kmip_message *req)
{
    if (!makes_object(req))
        return;
    if (track.makers_sent > 0 && !track.may_repeat)
        abort(); /* a Register or Create repeated after one that may have run */
    track.makers_sent++;
    track.may_repeat = false;
}

static void maker_answered(const kmip_message *req, const kmip_message *resp)
{
    if (!makes_object(req) || resp == NULL || resp->item_count != 1 || req->item_count < 2)
        return;
    const kmip_batch_item *one = &resp->items[0];
    track.may_repeat = one->result_status != KMIP_RESULT_STATUS_SUCCESS &&
                       (!one->has_operation || one->operation == req->items[0].operation) &&
                       (!one->has_unique_batch_item_id ||
                        (req->items[0].has_unique_batch_item_id &&
                         one->unique_batch_item_id.len == req->items[0].unique_batch_item_id.len &&
                         memcmp(one->unique_batch_item_id.data,
                                req->items[0].unique_batch_item_id.data,
                                one->unique_batch_item_id.len) == 0));
}

/* One exchange armed in the core, to its end: KMIP_CLIENT_OK with the core
 * holding a whole response (KC_EV_RESPONSE), or a failure the core gives
 * up on. retry: the core decides after a failure (a request); negotiation
 * gets one attempt. */
static kmip_client_err exchange(kc_core *k, input *in, bool retry, const kmip_message *req)
{
    bool write_left = false; /* a request with a write was sent */
    for (int guard = 0;; guard++) {
        if (guard > 16)
            abort(); /* the core must stop retrying */
        if (kc_core_event(k) != KC_EV_SEND)
            abort();
        check_output(k);
        bool reused = !in->fresh;
        const uint8_t *data;
        size_t len;
        uint8_t flags;
        int ev = next_event(in, &data, &len, &flags);
        kc_failure f = {.exchanged = true, .reused = reused && (flags & 4), .out_of_time = false};
        f.out_of_time = (flags & 8) != 0;
        if (ev != EV_REFUSED) {
            kc_core_sent(k);
            if (req && !reads_only(req))
                write_left = true;
            if (req)
                maker_sent(req);
        }
        switch (ev) {
        case EV_BYTES: {
            kc_event e = KC_EV_RECV;
            for (;;) {
                size_t used = 0;
                e = kc_core_feed(k, data, len, &used);
                if (used > len)
                    abort();
                if (e != KC_EV_RECV) {
                    if (e == KC_EV_RESPONSE && used < len)
                        in->fresh = true; /* unasked bytes: the connection is stale */
                    break;
                }
                if (used != len)
                    abort(); /* a framer that wants more takes all it is given */
                if (!peek_bytes(in))
                    break;
                next_event(in, &data, &len, &flags);
            }
            if (e == KC_EV_RESPONSE)
                return KMIP_CLIENT_OK;
            if (e == KC_EV_RECV) /* the input ended inside the response */
                kc_status_fail(&k->st, KMIP_CLIENT_E_CLOSED, "the connection closed");
            need_message(k);
            break;
        }
        case EV_BROKEN:
        case EV_END:
            kc_status_fail(&k->st, KMIP_CLIENT_E_CLOSED, "the connection closed");
            break;
        case EV_TIMEOUT:
            kc_status_fail(&k->st, KMIP_CLIENT_E_TIMEOUT, "no answer in time");
            break;
        default:
            f.exchanged = false;
            kc_status_fail(&k->st, KMIP_CLIENT_E_CONNECT, "connection refused");
            break;
        }
        in->fresh = true;
        if (!retry) {
            kc_core_reset(k);
            return k->st.err;
        }
        (void)kc_core_blames_server(k, &f);
        if (kc_core_failed(k, &f) == KC_NEXT_GIVE_UP) {
            need_message(k);
            if (kc_core_event(k) != KC_EV_IDLE)
                abort();
            return k->st.err;
        }
        if (write_left)
            abort(); /* a write that left is re-armed: it may run twice */
        in->fresh = false; /* the retry's new connection */
    }
}

/* Discover Versions on each server in turn, as the blocking client's
 * connect does, until one answers. */
static bool negotiate(kc_core *k, input *in)
{
    if (!kc_core_must_discover(k))
        return true;
    for (size_t s = 0; s < k->server_count; s++) {
        if (kc_core_discover_begin(k) != KMIP_CLIENT_OK)
            return false;
        kmip_client_err e = exchange(k, in, false, NULL);
        if (e == KMIP_CLIENT_OK)
            e = kc_core_discover_end(k);
        if (e == KMIP_CLIENT_OK)
            return k->version != 0;
        in->fresh = true;
    }
    need_message(k);
    return false;
}

/* One request through the core, checked by the oracle when accepted. */
static kmip_client_err call(kc_core *k, input *in, kmip_message *req, kmip_message **resp)
{
    kc_status_clear(&k->st);
    *resp = NULL;
    kmip_client_err e = kc_core_begin(k, req);
    if (e == KMIP_CLIENT_OK)
        e = exchange(k, in, true, req);
    if (e == KMIP_CLIENT_OK) {
        bool reset = false;
        e = kc_core_finish(k, resp, &reset);
        if (reset)
            in->fresh = true;
        maker_answered(req, *resp);
    }
    if (e == KMIP_CLIENT_OK)
        check_accepted(req, *resp);
    if (e != KMIP_CLIENT_OK)
        need_message(k);
    return e;
}

static void run_op(kc_core *k, input *in, kc_op *op)
{
    track.makers_sent = 0;
    track.may_repeat = false;
    for (int steps = 0; !op->done; steps++) {
        if (steps > 100000)
            abort(); /* an operation that never ends */
        kc_status_clear(&k->st);
        if (k->version == 0 && !negotiate(k, in)) {
            op->done = true;
            op->result = k->st.err;
            break;
        }
        kmip_message *req = NULL;
        if (!kc_op_next(k, op, &req))
            break;
        kmip_message *resp = NULL;
        kmip_client_err e = call(k, in, req, &resp);
        kmip_message_free(req);
        kc_op_answer(k, op, e, resp);
    }
    kc_op_free(op);
    if (op->result != KMIP_CLIENT_OK)
        need_message(k);
    if (kc_core_event(k) != KC_EV_IDLE)
        abort(); /* an operation leaves no exchange behind */
}

typedef struct located {
    size_t count;
    size_t kept;
    char *ids[512]; /* the first ones, to find one handed on twice */
} located;

static bool on_uid(void *ctx, const char *uid, size_t len)
{
    located *l = ctx;
    for (size_t i = 0; i < l->kept; i++)
        if (strlen(l->ids[i]) == len && memcmp(l->ids[i], uid, len) == 0)
            abort(); /* an identifier handed on twice */
    if (l->kept < sizeof l->ids / sizeof l->ids[0]) {
        char *copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, uid, len);
            copy[len] = '\0';
            l->ids[l->kept++] = copy;
        }
    }
    l->count++;
    return true;
}

static void locate(kc_core *k, input *in, int32_t page)
{
    kmip_locate_filter f = {0};
    f.object_group = "g";
    f.page_size = page;
    located got = {0};
    kc_op op;
    kc_op_locate(&op, &f, on_uid, &got);
    run_op(k, in, &op);
    /* pages of at most Maximum Items (one more on an anchored page) */
    if (op.paged && got.count > (size_t)op.pages * ((size_t)page + 1))
        abort();
    /* pages that bring nothing new are bounded: in a row, each passes an
     * identifier handed on before or leaves the anchor where it was (at
     * most KC_LOCATE_MAX_STALLS times in a row), a page further back after
     * each missing anchor; such runs end at a new identifier or at one of
     * the bounded restarts */
    size_t run_of = (got.count + 1) * 2 * (KC_LOCATE_MAX_STALLS + 1) + 4;
    if ((size_t)op.pages > (got.count + KC_LOCATE_MAX_RESTARTS + 2) * run_of)
        abort();
    for (size_t i = 0; i < got.kept; i++)
        free(got.ids[i]);
}

/* ---- a paged Locate against a model server and another writer ----
 *
 * The input scripts a server holding a list (Maximum Items honoured, maybe
 * capped, Located Items absent, true or the page's own count) and, before
 * each page after the first, another writer creating and destroying
 * objects at any place. Oracle: no identifier handed on twice, each names
 * an object the list held; a Locate that succeeds handed on every object
 * that was on the list during the whole Locate. */

#define MODEL_MAX 256

typedef struct model {
    uint16_t list[MODEL_MAX]; /* object numbers, in the server's order */
    size_t count, made;
    bool original[MODEL_MAX * 4], removed[MODEL_MAX * 4], handed[MODEL_MAX * 4];
} model;

static uint8_t take_byte(input *in)
{
    return in->p < in->end ? *in->p++ : 0;
}

static bool model_uid(void *ctx, const char *uid, size_t len)
{
    model *m = ctx;
    char s[16];
    if (len < 2 || len >= sizeof s || uid[0] != 'o')
        abort(); /* not an identifier the server listed */
    memcpy(s, uid, len);
    s[len] = '\0';
    size_t i = (size_t)strtoul(s + 1, NULL, 10);
    if (i >= m->made || m->handed[i])
        abort(); /* never made, or handed on twice */
    m->handed[i] = true;
    return true;
}

static void model_change(model *m, input *in)
{
    uint8_t ops = take_byte(in) % 4;
    for (uint8_t i = 0; i < ops; i++) {
        uint8_t b = take_byte(in);
        size_t pos = m->count ? (size_t)take_byte(in) % (m->count + 1) : 0;
        if (b & 1) {
            if (m->count == 0)
                continue;
            if (pos == m->count)
                pos--;
            m->removed[m->list[pos]] = true;
            memmove(&m->list[pos], &m->list[pos + 1], (m->count - pos - 1) * sizeof m->list[0]);
            m->count--;
        } else if (m->count < MODEL_MAX && m->made < MODEL_MAX * 4) {
            memmove(&m->list[pos + 1], &m->list[pos], (m->count - pos) * sizeof m->list[0]);
            m->list[pos] = (uint16_t)m->made++;
            m->count++;
        }
    }
}

static kmip_message *model_answer(const model *m, const kmip_message *req, unsigned version,
                                  size_t cap, int located)
{
    const kmip_locate_request *r = req->items[0].payload;
    size_t off = r->has_offset_items && r->offset_items > 0 ? (size_t)r->offset_items : 0;
    size_t max = r->has_maximum_items && r->maximum_items > 0 ? (size_t)r->maximum_items
                                                              : m->count;
    if (cap && max > cap)
        max = cap;
    size_t from = off < m->count ? off : m->count;
    size_t n = m->count - from < max ? m->count - from : max;
    kmip_message *a = kmip_message_new(true, version);
    kmip_batch_item *bi = a ? kmip_message_add_item(a, KMIP_OPERATION_LOCATE) : NULL;
    kmip_locate_response *p = bi ? bi->payload : NULL;
    if (p == NULL) {
        kmip_message_free(a);
        return NULL;
    }
    bi->has_operation = true;
    bi->has_result_status = true;
    bi->result_status = KMIP_RESULT_STATUS_SUCCESS;
    p->unique_identifiers = kmip_message_alloc(a, (n ? n : 1) * sizeof *p->unique_identifiers);
    if (p->unique_identifiers == NULL) {
        kmip_message_free(a);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char s[16];
        int len = snprintf(s, sizeof s, "o%u", (unsigned)m->list[from + i]);
        p->unique_identifiers[i].text = kmip_message_copy_bytes(a, s, (size_t)len);
    }
    p->unique_identifier_count = n;
    p->has_located_items = located > 0;
    p->located_items = (int32_t)(located == 2 ? n : m->count);
    return a;
}

static void locate_model(kc_core *k, input *in)
{
    static model m;
    memset(&m, 0, sizeof m);
    m.count = m.made = take_byte(in) % 48;
    for (size_t i = 0; i < m.count; i++) {
        m.list[i] = (uint16_t)i;
        m.original[i] = true;
    }
    uint8_t b = take_byte(in);
    int32_t page = 1 + (b & 3);
    /* 0: not capped. A server capping its pages at one identifier is
     * refused when the list holds still (core.h); with another writer
     * between its pages it cannot be told from a list of one */
    size_t cap = (b >> 2) % 5;
    if (cap == 1)
        cap = 0;
    int located = (b >> 5) % 3;
    if (k->version == 0)
        k->version = KMIP_VERSION(1, 4);
    kmip_locate_filter f = {0};
    f.object_group = "g";
    f.page_size = page;
    kc_op op;
    kc_op_locate(&op, &f, model_uid, &m);
    for (int steps = 0; !op.done; steps++) {
        if (steps > 100000)
            abort(); /* a Locate that never ends */
        kmip_message *req = NULL;
        if (!kc_op_next(k, &op, &req))
            break;
        if (steps > 0)
            model_change(&m, in);
        kmip_message *resp = model_answer(&m, req, k->version, cap, located);
        kmip_message_free(req);
        if (resp == NULL) {
            kc_op_answer(k, &op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"),
                         NULL);
            continue;
        }
        kc_op_answer(k, &op, KMIP_CLIENT_OK, resp);
    }
    kc_op_free(&op);
    if (op.result != KMIP_CLIENT_OK) {
        need_message(k);
        return;
    }
    for (size_t i = 0; i < m.made; i++)
        if (m.original[i] && !m.removed[i] && !m.handed[i])
            abort(); /* an object there all along, missed: a silent short list */
}

static const uint8_t key[32] = {1, 2, 3};

static kmip_key_spec spec_of(void)
{
    kmip_key_spec s = {0};
    s.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    s.algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    s.length_bits = 256;
    s.name = "fuzz";
    return s;
}

static void register_activate(kc_core *k, input *in, bool activate)
{
    kmip_key_spec s = spec_of();
    char uid[64];
    kc_op op;
    kc_op_register(&op, &s, key, sizeof key, activate, uid, sizeof uid);
    run_op(k, in, &op);
    if (op.result == KMIP_CLIENT_OK && uid[0] == '\0')
        abort(); /* success names the object */
}

static void create_activate_get(kc_core *k, input *in)
{
    kmip_key_spec s = spec_of();
    char uid[64];
    uint8_t *bytes = NULL;
    size_t len = 0;
    kc_op op;
    kc_op_create_activate_get(&op, &s, uid, sizeof uid, &bytes, &len);
    run_op(k, in, &op);
    if (op.result == KMIP_CLIENT_OK && uid[0] == '\0')
        abort();
    kmip_secure_free(bytes, len);
}

/* A request message of one or more items, exchanged once. */
static void batch(kc_core *k, input *in, bool writes)
{
    kc_status_clear(&k->st);
    if (k->version == 0 && !negotiate(k, in))
        return;
    kmip_message *req = kmip_message_new(false, k->version);
    if (req == NULL)
        return;
    static const uint32_t tags[] = {KMIP_TAG_NAME, KMIP_TAG_STATE};
    kmip_client_err e =
        writes ? kmip_req_add_revoke(req, "uid-1", KMIP_REVOCATION_REASON_CODE_CESSATION_OF_OPERATION)
               : kmip_req_add_uid_op(req, KMIP_OPERATION_GET, "uid-1");
    if (e == KMIP_CLIENT_OK)
        e = writes ? kmip_req_add_uid_op(req, KMIP_OPERATION_DESTROY, "uid-1")
                   : kmip_req_add_get_attributes(req, "uid-2", tags, 2);
    if (e == KMIP_CLIENT_OK && !writes)
        e = kmip_req_add_uid_op(req, KMIP_OPERATION_GET_ATTRIBUTE_LIST, "uid-3");
    kmip_message *resp = NULL;
    if (e == KMIP_CLIENT_OK)
        (void)call(k, in, req, &resp);
    kmip_message_free(resp);
    kmip_message_free(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t cfg = data[0];
    unsigned pinned = 0;
    if ((cfg & 8) == 0)
        pinned = (cfg & 16) ? KMIP_VERSION(2, 0) : KMIP_VERSION(1, 4);
    size_t servers = 1 + (size_t)((cfg >> 5) & 3);
    kc_core k;
    kc_core_init(&k, pinned, KMIP_DEFAULT_MAX_MESSAGE, servers, NULL, NULL);
    k.peer = "fuzz.invalid";
    k.placeholders_rejected = (cfg & 0x80) != 0;
    input in = {data + 1, data + size, true};
    switch (cfg & 7) {
    case 0:
        if (cfg & 0x80) /* the scripted model server with another writer */
            locate_model(&k, &in);
        else
            locate(&k, &in, 2);
        break;
    case 1:
        register_activate(&k, &in, true);
        break;
    case 2:
        create_activate_get(&k, &in);
        break;
    case 3:
        batch(&k, &in, false);
        break;
    case 4:
        batch(&k, &in, true);
        break;
    case 5: /* one session: the state (version, placeholders) carries over */
        locate(&k, &in, 1);
        register_activate(&k, &in, true);
        locate(&k, &in, 3);
        break;
    case 6:
        register_activate(&k, &in, false);
        create_activate_get(&k, &in);
        break;
    default:
        locate(&k, &in, 2);
        register_activate(&k, &in, true);
        create_activate_get(&k, &in);
        batch(&k, &in, false);
        batch(&k, &in, true);
        break;
    }
    kc_core_clear(&k);
    return 0;
}

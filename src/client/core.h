/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the client's sans-I/O core (in the manner of nghttp2). It holds
 * the protocol state of one logical connection (the negotiated version,
 * whether the server takes ID placeholders, the error state) and turns
 * requests into bytes and received bytes into checked responses; it never
 * opens a socket, reads a clock, sleeps or calls OpenSSL. Its drivers do
 * the I/O: the blocking client (client.c: the core's bytes through
 * kt_send/kt_recv) and the fuzz target fuzz/fuzz_core.c (the fuzz input's
 * bytes as the server's answers).
 *
 * One exchange (one request message, one response message):
 *
 *     kc_core_begin(k, request)         encodes; event KC_EV_SEND
 *     kc_core_output(k, &data, &len)    the bytes to send
 *     kc_core_sent(k)                   all of them left; event KC_EV_RECV
 *     kc_core_feed(k, bytes, n, &used)  any split; KC_EV_RECV until a whole
 *                                       message arrived, then KC_EV_RESPONSE
 *                                       (or KC_EV_FAILED: k->st says why)
 *     kc_core_finish(k, &resp, &reset)  the response, checked against the
 *                                       request (count, order, Unique Batch
 *                                       Item IDs, operations, objects)
 *
 * A transport failure is recorded in k->st by the driver and, like
 * KC_EV_FAILED, handed to kc_core_failed, which decides (KC_NEXT_RETRY on a new connection to the
 * same server, KC_NEXT_FAILOVER to the next one, KC_NEXT_GIVE_UP) from what
 * the core knows: whether the request left, whether every item may be
 * repeated, the attempts so far. A write that left and got no answer is
 * given up as KMIP_CLIENT_E_AMBIGUOUS. After KC_EV_FAILED, and when
 * kc_core_finish says so (*reset), the stream cannot be trusted to be in
 * step with the requests: the driver drops the connection.
 *
 * Multi-step operations (kc_op: a paged Locate, Register + Activate,
 * Create + Activate + Get with the fallback for servers refusing ID
 * placeholders) are programs over exchanges: kc_op_next gives the next
 * request (or says the operation is done), the driver exchanges it, and
 * kc_op_answer takes the result. Version negotiation (Discover Versions) is
 * kc_core_discover_begin, an exchange, kc_core_discover_end.
 *
 * Nothing here is thread-safe: one core per client handle. The header is
 * internal (no KMIP_API): its structs carry the message layer's types and
 * may change with them, so it is no ABI; the fuzz target and the unit test
 * (tests/unit/test_core.c) build against it from the tree. */
#ifndef KMIP_CLIENT_CORE_H
#define KMIP_CLIENT_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_client.h"

#define KMIP_CLIENT_MAX_VERSIONS 16

/* The error state of a handle: the library's error and message, the
 * server's Result Status/Reason/Message kept apart. */
typedef struct kc_status {
    kmip_client_err err;
    char message[1024];
    bool has_result;
    uint32_t result_status;
    uint32_t result_reason;
    char result_message[256];
} kc_status;

/* Records an error and returns its code. */
kmip_client_err kc_status_vfail(kc_status *s, kmip_client_err code, const char *fmt,
                                va_list ap) __attribute__((format(printf, 3, 0)));
__attribute__((format(printf, 3, 4))) kmip_client_err kc_status_fail(kc_status *s,
                                                                     kmip_client_err code,
                                                                     const char *fmt, ...);
void kc_status_clear(kc_status *s);

typedef enum kc_event {
    KC_EV_IDLE,     /* no exchange in progress */
    KC_EV_SEND,     /* kc_core_output has the request; kc_core_sent once it left */
    KC_EV_RECV,     /* response bytes wanted: kc_core_feed */
    KC_EV_RESPONSE, /* a whole response decoded: kc_core_finish */
    KC_EV_FAILED,   /* the exchange failed (k->st); drop the connection */
} kc_event;

typedef enum kc_next {
    KC_NEXT_GIVE_UP,  /* the error in k->st is the operation's */
    KC_NEXT_RETRY,    /* again on a new connection (same server first) */
    KC_NEXT_FAILOVER, /* again, on the next server */
} kc_next;

/* What the driver knows about a failed attempt (the error is in k->st). */
typedef struct kc_failure {
    bool exchanged;   /* a connection was up: the server failed the exchange */
    bool reused;      /* the connection was kept from an earlier request */
    bool out_of_time; /* the operation's budget is spent */
} kc_failure;

/* Builds a request's batch items into m: an empty request whose header
 * holds the version it is to be sent at. The client's own operations arm
 * their requests with one (kc_core_begin_built), so that a request going
 * at another version than it was built for (a failover to a server of
 * another version, a server that refused its version) is built again at
 * that version, not only encoded again: what a builder writes may depend
 * on the version (a custom attribute is a 1.x Attribute by name and a 2.x
 * Vendor Attribute, Modify Attribute's Current Attribute is 2.x, Offset
 * Items of a paged Locate 1.3). Errors as kc_core_begin's. */
typedef kmip_client_err (*kc_build_fn)(void *ctx, kmip_message *m);

typedef struct kc_core {
    /* configuration (kc_core_init) */
    unsigned pinned_version; /* 0: negotiate */
    size_t max_response;
    size_t server_count;
    kmip_log_fn log;
    void *log_ctx;
    const char *peer; /* the server's name in messages (the driver sets it) */
    /* protocol state of the logical connection */
    unsigned version; /* 0 until negotiated */
    unsigned server_versions[KMIP_CLIENT_MAX_VERSIONS];
    size_t server_version_count;
    /* the server refused a request using an ID placeholder as a whole
     * (PyKMIP 0.10 parses Activate only with a Unique Identifier) */
    bool placeholders_rejected;
    /* pipelined requests prepared so far (kc_core_prepare): their Unique
     * Batch Item IDs, so that no two in flight carry the same */
    uint32_t pipe_seq;
    kc_status st;
    /* the exchange in progress */
    kc_event ev;
    kmip_message *req;       /* borrowed until kc_core_finish */
    kc_build_fn build;       /* builds req again at another version, or NULL */
    void *build_ctx;
    bool version_resent;     /* req was sent again after a refusal of its version */
    bool checked;            /* the answer is matched to req (not negotiation) */
    bool safe;               /* every item may be repeated */
    bool tied;               /* pipelined: every answer item must carry its own batch ID */
    bool sent;
    int attempt;
    size_t failovers_left;
    uint8_t *out;
    size_t out_len;
    kmip_framer *framer;
    kmip_message *resp;
    /* an empty message handed back (kc_core_recycle): the next response is
     * decoded into it, so the steady state allocates no message */
    kmip_message *spare;
    uintptr_t last;  /* the last response decoded (its address, only compared) */
    size_t last_len; /* and its length in bytes */
} kc_core;

/* A response longer than this is not kept as the spare once handed back:
 * an idle handle holds no more than about twice this after a large Locate
 * page. */
#define KC_SPARE_MAX_RESPONSE (64u * 1024u)

void kc_core_init(kc_core *k, unsigned pinned_version, size_t max_response, size_t server_count,
                  kmip_log_fn log, void *log_ctx);
/* Ends any exchange in progress (its request and response are dropped). */
void kc_core_reset(kc_core *k);
/* kc_core_reset, the spare message freed, and the error state wiped. */
void kc_core_clear(kc_core *k);
/* Takes back a response that kc_core_finish handed out and its taker is
 * done with: wiped now (kmip_message_reset) and kept as the message the
 * next response is decoded into; freed instead if one is already kept, if
 * it is not the last response decoded, or if that response was longer than
 * KC_SPARE_MAX_RESPONSE. m may be NULL. */
void kc_core_recycle(kc_core *k, kmip_message *m);

/* ---- one exchange ---- */

/* Starts the exchange of request (borrowed until kc_core_finish or
 * kc_core_reset): the negotiated version goes into its header, a batch of
 * reads asks the server to continue after a failed item, and it is
 * encoded. Errors: KMIP_CLIENT_E_NOMEM, KMIP_CLIENT_E_ARG (not encodable). */
kmip_client_err kc_core_begin(kc_core *k, kmip_message *request);
/* kc_core_begin of a request that build (ctx) made: when it must go at
 * another version than its header's (kc_core_follow_version, or k->version
 * already another), it is built again in place at that version
 * (kmip_message_reset, then build). A request armed without a builder
 * (kmip_client_call of a caller's message) is only encoded again at the
 * other version, which the message layer does exactly for what the public
 * kmip_req_add_* builders make (standard attributes in Template-Attribute
 * or Attributes, both forms of Get Attributes' names); one holding what a
 * version change alters (a custom attribute across 1.x and 2.x, a Current
 * Attribute for 1.x, Offset Items before 1.3) is refused with
 * KMIP_CLIENT_E_UNSUPPORTED: built again at the client's version by the
 * caller, it goes. */
kmip_client_err kc_core_begin_built(kc_core *k, kmip_message *request, kc_build_fn build,
                                    void *ctx);
kc_event kc_core_event(const kc_core *k);
void kc_core_output(const kc_core *k, const uint8_t **data, size_t *len);
void kc_core_sent(kc_core *k);
/* Takes received bytes; *consumed says how many (bytes after a whole
 * response stay with the caller: nobody asked for them). */
kc_event kc_core_feed(kc_core *k, const uint8_t *data, size_t len, size_t *consumed);
/* After KC_EV_RESPONSE: hands over the response (the caller frees it with
 * kmip_message_free; it is there with KMIP_CLIENT_E_SERVER and
 * KMIP_CLIENT_E_NOT_FOUND too, and after a mismatch) and returns the
 * result of matching it to the request. *reset: the answer may be another
 * request's, so the stream is out of step; drop the connection. */
kmip_client_err kc_core_finish(kc_core *k, kmip_message **response, bool *reset);
/* After a failure of the attempt in progress (k->st holds it): whether the
 * server is to blame (for the health table; a kept connection the server
 * closed while idle is not its failure). Ask before kc_core_failed. */
bool kc_core_blames_server(const kc_core *k, const kc_failure *f);
/* What next. KC_NEXT_RETRY and KC_NEXT_FAILOVER re-arm the same request
 * (KC_EV_SEND); KC_NEXT_GIVE_UP ends the exchange, the error in k->st
 * (rewritten as KMIP_CLIENT_E_AMBIGUOUS for a write that left). */
kc_next kc_core_failed(kc_core *k, const kc_failure *f);

/* An armed exchange put aside (kc_core_put_aside) while the driver
 * negotiates the version with a server it failed over to. */
typedef struct kc_armed {
    kc_event ev;
    kmip_message *req;
    kc_build_fn build;
    void *build_ctx;
    kmip_message *resp; /* a refusal kept while negotiating (kc_core_version_refused) */
    bool version_resent;
    bool checked, safe, sent, tied;
    int attempt;
    size_t failovers_left;
    uint8_t *out;
    size_t out_len;
} kc_armed;

/* Moves the armed request (its encoded bytes included) into a, leaving
 * the core idle; kc_core_take_back returns it to the core, dropping
 * whatever exchange ran in between. */
void kc_core_put_aside(kc_core *k, kc_armed *a);
void kc_core_take_back(kc_core *k, kc_armed *a);
/* The armed request, if it is request and was encoded at another version
 * than k->version (the driver connected to a server that speaks another,
 * or negotiated again after kc_core_resend_refused): built again at
 * k->version with its builder, or encoded again (kc_core_begin_built says
 * when that is refused), its attempts and failovers kept. Errors:
 * KMIP_CLIENT_E_NOMEM, KMIP_CLIENT_E_ARG (not encodable at that version),
 * KMIP_CLIENT_E_UNSUPPORTED (a caller's request a version change alters). */
kmip_client_err kc_core_follow_version(kc_core *k, kmip_message *request);

/* ---- pipelined exchanges ----
 * Several requests in flight on one connection (kmip_client_send and
 * kmip_client_receive): each is encoded into an armed record of its own
 * (kc_core_prepare) that the driver keeps, in order, until its answer
 * comes; the oldest is taken back into the core (kc_core_take_back) to
 * receive and check its answer as any exchange, and, after a failure, to
 * let kc_core_failed decide for it. Only reads may be pipelined: after a
 * broken connection every request in flight is sent again on the next
 * one, which is harmless for a read and never done for a write. */

/* Encodes request (borrowed until its answer is taken or it is dropped)
 * as kc_core_begin does, into a instead of the core: the core's own
 * exchange is untouched. Errors: KMIP_CLIENT_E_ARG (no items, an item that
 * is not a read, not encodable), KMIP_CLIENT_E_NOMEM. */
kmip_client_err kc_core_prepare(kc_core *k, kmip_message *request, kc_armed *a);
/* Frees (wiping) the bytes of an armed record that is not the core's. */
void kc_armed_drop(kc_armed *a);
/* After KC_EV_RESPONSE: whether the server refused the request as a whole
 * for its protocol version, which the driver then negotiates again with
 * that server (its version there may have changed: a server restarted at
 * an older version, backends of several versions behind one address):
 * every item of the request answered Operation Failed with Invalid Message
 * (KMIP 1.4 section 11.1, protocol version mismatch; our test server), or
 * one item naming no operation, Invalid Message or Operation Not Supported
 * (a whole-message refusal: PyKMIP 0.10 answers an unsupported version or
 * a request it cannot parse so). Nothing of such a request ran (a failed
 * item did nothing, and no item succeeded), so a write may go again. False
 * once the request was sent again for it (kc_core_resend_refused). */
bool kc_core_version_refused(const kc_core *k);
/* After kc_core_version_refused, the refusal put aside (kc_core_put_aside
 * keeps it) while the driver negotiated: true when k->version is another
 * than the refused request's: the request is armed again (KC_EV_SEND, once
 * per exchange, built again by kc_core_follow_version); false: the refusal
 * stands (KC_EV_RESPONSE, kc_core_finish hands it out). */
bool kc_core_resend_refused(kc_core *k);
/* After kc_core_version_refused, whatever the version now: the request
 * armed again (KC_EV_SEND, its encoded bytes kept for
 * kc_core_follow_version), once per exchange. For a driver that must drop
 * the connection before it can negotiate (pipeline.c: Discover Versions
 * cannot go behind answers in flight). */
void kc_core_rearm_refused(kc_core *k);

/* ---- version negotiation ---- */

/* False when the version is pinned (it is then k->version). */
bool kc_core_must_discover(kc_core *k);
/* Discover Versions (1.1 header, our versions in preference order). */
kmip_client_err kc_core_discover_begin(kc_core *k);
/* After KC_EV_RESPONSE of kc_core_discover_begin's exchange: the first
 * version of the server's answer that we speak (1.0 for a server that does
 * not know the operation: Operation Not Supported, Invalid Message,
 * Feature Not Supported or no reason; any other refusal is
 * KMIP_CLIENT_E_SERVER and the version stays unknown). */
kmip_client_err kc_core_discover_end(kc_core *k);

/* ---- answers ---- */

/* The payload of a successful item i answering op, or NULL. */
const void *kc_payload_of(const kmip_message *resp, size_t i, uint32_t op);
/* The Unique Identifier u into out (NULL: nothing to copy). */
kmip_client_err kc_copy_uid(kc_core *k, const kmip_uid *u, char *out, size_t cap);
/* The key bytes of a Get answer (malloc'd; uid names it in the message). */
kmip_client_err kc_copy_key(kc_core *k, const kmip_get_response *g, const char *uid,
                            uint8_t **key, size_t *len);
/* The name of an operation for messages. */
const char *kc_operation_name(uint32_t op);

/* ---- multi-step operations ---- */

typedef enum kc_op_kind { KC_OP_LOCATE, KC_OP_REGISTER, KC_OP_CREATE_ACTIVATE_GET } kc_op_kind;

typedef struct kc_op {
    kc_op_kind kind;
    int step;
    bool done;
    kmip_client_err result;
    /* Locate */
    const kmip_locate_filter *filter;
    kmip_uid_fn fn;
    void *fn_ctx;
    bool paged, stopped;
    int32_t page, offset;
    int32_t asked;           /* Maximum Items of the page asked for */
    int pages;               /* pages answered so far */
    struct kc_seen *seen;    /* the identifiers handed on (core_locate.c) */
    char *anchor;            /* the last identifier of the page before (malloc'd) */
    size_t anchor_len;
    char *spare;             /* the one before it on that page (malloc'd), or NULL */
    size_t spare_len;
    int restarts;            /* enumerations begun again from offset 0 */
    int stalls;              /* pages in a row that did not move the anchor */
    size_t barren;           /* identifiers passed on pages in a row with nothing new */
    size_t max_ids;          /* KC_LOCATE_MAX_IDS (a test may lower it) */
    size_t widest;           /* the longest page so far */
    bool probing;            /* asking after an anchor no page held more than */
    bool stepped_back;       /* asking before the page that missed the anchor */
    /* Register, Create */
    const kmip_key_spec *spec;
    const uint8_t *material;
    size_t material_len;
    bool activate;
    char *uid_out;
    size_t uid_cap;
    char *uid; /* the new object's identifier (malloc'd, the answer's length) */
    uint8_t **key;
    size_t *key_len;
} kc_op;

/* Locate page after page (Maximum Items, Offset Items from KMIP 1.3; one
 * request before), fn called for each identifier until it returns false.
 * Pages overlap by one and are anchored: after a page whose last
 * identifier L stood at offset + got - 1, the next page is asked there,
 * one item longer, and must hold L again (another writer may create or
 * destroy objects between two pages; PyKMIP lists newest first, so a
 * Destroy shifts every later object down):
 *  - L first, or further on (objects made before L): nothing existing
 *    was skipped, the page goes on from L;
 *  - L missing, or the page empty: objects before L were removed (or the
 *    order changed): the page ending where that one began (as long as the
 *    widest page so far) is asked; holding L, it goes on from L (L itself
 *    destroyed, the identifier before it on its page serves); missing
 *    it too, the enumeration begins again at offset 0, what was handed on
 *    is not handed on again; after KC_LOCATE_MAX_RESTARTS such restarts
 *    KMIP_CLIENT_E_PROTOCOL ("the object list kept changing"), never a
 *    silent short list.
 * The Locate ends at an empty first page or at a page holding L alone (a
 * server may cap its pages below Maximum Items: Vault answers 16, so a
 * short page is not the end; a page of one identifier when no page held
 * more is followed by the page after it, which must be empty or go on
 * from L: a server capping its pages at one cannot be checked and is
 * refused after the bounded restarts); or at a page ending with L that is
 * shorter than asked and than the widest page the server gave. Located
 * Items ends nothing (a server capping its pages may put the page's own
 * count there). Every identifier is handed on once. A server
 * ignoring Offset Items (more than KC_LOCATE_MAX_STALLS pages in a row
 * that do not move L, or pages of nothing new in a row passing more
 * identifiers than were ever handed on), a page longer
 * than Maximum Items, an ID placeholder in the list, a page that names
 * one identifier twice (anchoring takes an identifier for one place in
 * the list; review s5b S5-8), more than
 * KC_LOCATE_MAX_IDS distinct identifiers or KC_LOCATE_MAX_BYTES bytes of
 * them end it with KMIP_CLIENT_E_PROTOCOL. */
#define KC_LOCATE_MAX_IDS 1000000u
#define KC_LOCATE_MAX_BYTES (128u * 1024u * 1024u)
#define KC_LOCATE_MAX_RESTARTS 4
#define KC_LOCATE_MAX_STALLS 8
void kc_op_locate(kc_op *op, const kmip_locate_filter *f, kmip_uid_fn fn, void *ctx);
/* Register, and with activate the Activate of the new object: one batch
 * with an ID placeholder, or two requests for a server that refuses it. */
void kc_op_register(kc_op *op, const kmip_key_spec *spec, const uint8_t *material, size_t len,
                    bool activate, char *uid_out, size_t uid_cap);
/* Create, Activate and Get of a new key (one batch, or three requests). */
void kc_op_create_activate_get(kc_op *op, const kmip_key_spec *spec, char *uid_out,
                               size_t uid_cap, uint8_t **key, size_t *len);
/* The next request (built at k->version, which must be negotiated), or
 * false when the operation is done: its result is op->result, its error
 * in k->st. */
bool kc_op_next(kc_core *k, kc_op *op, kmip_message **request);
/* The result of exchanging the request kc_op_next gave: e and response as
 * the exchange ended (response may be NULL; it is freed here). */
void kc_op_answer(kc_core *k, kc_op *op, kmip_client_err e, kmip_message *response);
/* A kc_build_fn (ctx: the kc_op): the request kc_op_next gave, built again
 * into m at m's version (the step unchanged). A paged Locate cannot go on
 * below KMIP 1.3 once a page was answered (KMIP_CLIENT_E_UNSUPPORTED: no
 * Offset Items); its first page decides again whether to page. */
kmip_client_err kc_op_build(void *op, kmip_message *m);
/* Frees what the operation holds (call once it is done or abandoned). */
void kc_op_free(kc_op *op);
/* The paged Locate's steps (core_locate.c), for kc_op_next/kc_op_answer. */
bool kc_locate_next(kc_core *k, kc_op *op, kmip_message **request);
kmip_client_err kc_locate_build(kc_op *op, kmip_message *m);
void kc_locate_answer(kc_core *k, kc_op *op, kmip_client_err e, const kmip_message *resp);
void kc_locate_free(kc_op *op);

#endif

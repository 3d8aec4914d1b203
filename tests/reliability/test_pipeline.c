/* SPDX-License-Identifier: GPL-2.0-only */
/* Pipelining (kmip_client_send, kmip_client_receive) against the test
 * server, straight and through the fault proxy: every answer is the one of
 * its own request, in order, with the right bytes; the limits and the
 * refusals of the API; and what a broken connection, a lost answer, an
 * answer that names another request and a server that never answers do to
 * the requests in flight behind them.
 * Usage: test_pipeline FIXTURE_DIR TEST_SERVER FAULT_PROXY */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_env.h"
#include "kmip/kmip_client.h"

#define KEYS 40
#define TIMEOUT_MS 1500

static const char *fixture, *server_bin, *proxy_bin;
static fenv E;
static fenv older; /* test_refused_version_renegotiated's 1.4 server */
static char uids[KEYS][128];

static void secret_of(int i, uint8_t out[24])
{
    snprintf((char *)out, 24, "pipelined secret %05d", i);
}

/* The fixture's TLS settings and the test's timeouts, for port. */
static kmip_client_options *options_to(unsigned port)
{
    kmip_client_options *o = kmip_client_options_new();
    assert_non_null(o);
    assert_int_equal(kmip_client_options_set_server(o, "127.0.0.1", port), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_ca(o, E.ca), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_cert(o, E.cert, E.key), KMIP_CLIENT_OK);
    kmip_client_options_set_timeouts(o, TIMEOUT_MS, TIMEOUT_MS);
    kmip_client_options_set_operation_timeout(o, TIMEOUT_MS);
    return o;
}

static kmip_client *client_to(unsigned port)
{
    kmip_client_options *o = options_to(port);
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    assert_non_null(c);
    return c;
}

/* A request of n Gets of the keys from first on (wrapping). */
static kmip_message *gets(kmip_client *c, int first, int n)
{
    kmip_message *m = NULL;
    assert_int_equal(kmip_client_request(c, &m), KMIP_CLIENT_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(kmip_req_add_get(m, uids[(first + i) % KEYS], 0), KMIP_CLIENT_OK);
    return m;
}

/* The answer to gets(c, first, n): every item the key asked for. */
static void check_answer(const kmip_message *resp, int first, int n)
{
    assert_non_null(resp);
    assert_int_equal(resp->item_count, (size_t)n);
    for (int i = 0; i < n; i++) {
        const kmip_batch_item *bi = &resp->items[i];
        assert_int_equal(bi->result_status, KMIP_RESULT_STATUS_SUCCESS);
        const kmip_get_response *g = bi->payload;
        assert_non_null(g);
        const char *want = uids[(first + i) % KEYS];
        assert_int_equal(g->unique_identifier.text.len, strlen(want));
        assert_memory_equal(g->unique_identifier.text.data, want, strlen(want));
        const uint8_t *p;
        size_t len;
        assert_true(kmip_object_key_material(&g->object, &p, &len));
        uint8_t secret[24];
        secret_of((first + i) % KEYS, secret);
        assert_int_equal(len, strlen((char *)secret));
        assert_memory_equal(p, secret, len);
    }
}

typedef struct flight {
    kmip_message *req[KMIP_CLIENT_MAX_IN_FLIGHT];
    int first[KMIP_CLIENT_MAX_IN_FLIGHT], n[KMIP_CLIENT_MAX_IN_FLIGHT];
    size_t count;
} flight;

static void send_gets(kmip_client *c, flight *f, int first, int n)
{
    kmip_message *m = gets(c, first, n);
    kmip_client_err e = kmip_client_send(c, m);
    if (e != KMIP_CLIENT_OK)
        fail_msg("send: %s", kmip_client_error_message(c));
    f->req[f->count] = m;
    f->first[f->count] = first;
    f->n[f->count++] = n;
}

/* Receives the oldest: the request it names must be the oldest sent. */
static kmip_client_err receive_oldest(kmip_client *c, flight *f, size_t k, kmip_message **resp)
{
    kmip_message *req = NULL;
    kmip_client_err e = kmip_client_receive(c, &req, resp);
    assert_ptr_equal(req, f->req[k]);
    return e;
}

static void free_flight(flight *f)
{
    for (size_t i = 0; i < f->count; i++)
        kmip_message_free(f->req[i]);
    f->count = 0;
}

/* A full pipeline, many rounds: each answer is its own request's. */
static void test_answers_in_order(void **state)
{
    (void)state;
    kmip_client *c = client_to(E.server_port);
    kmip_client_stats before, after;
    kmip_client_get_stats(c, &before);
    for (int round = 0; round < 20; round++) {
        flight f = {0};
        for (int i = 0; i < KMIP_CLIENT_MAX_IN_FLIGHT; i++)
            send_gets(c, &f, (round * 7 + i * 3) % KEYS, 1 + (i + round) % 5);
        assert_int_equal(kmip_client_in_flight(c), KMIP_CLIENT_MAX_IN_FLIGHT);
        for (size_t k = 0; k < f.count; k++) {
            kmip_message *resp = NULL;
            assert_int_equal(receive_oldest(c, &f, k, &resp), KMIP_CLIENT_OK);
            check_answer(resp, f.first[k], f.n[k]);
            kmip_client_release(c, resp);
        }
        assert_int_equal(kmip_client_in_flight(c), 0);
        free_flight(&f);
    }
    kmip_client_get_stats(c, &after);
    /* one connection for all of it, no retry */
    assert_int_equal(after.connections - before.connections, 1);
    assert_int_equal(after.retries, before.retries);
    kmip_client_free(c);
}

/* The API's refusals: a write, a full pipeline, a blocking call while
 * answers are pending, nothing to receive. None of them changes what is
 * in flight. */
static void test_refusals(void **state)
{
    (void)state;
    kmip_client *c = client_to(E.server_port);
    kmip_message *req = NULL, *resp = NULL;
    assert_int_equal(kmip_client_receive(c, &req, &resp), KMIP_CLIENT_E_ARG);
    assert_null(req);
    kmip_message *w = NULL;
    assert_int_equal(kmip_client_request(c, &w), KMIP_CLIENT_OK);
    assert_int_equal(kmip_req_add_uid_op(w, KMIP_OPERATION_DESTROY, uids[0]), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_send(c, w), KMIP_CLIENT_E_ARG);
    assert_non_null(strstr(kmip_client_error_message(c), "Destroy"));
    assert_int_equal(kmip_client_in_flight(c), 0);
    /* reads whose answers name nothing (review s7 R7-6): a Locate, a Get
     * of the ID placeholder */
    kmip_message *loc = NULL, *ph = NULL;
    assert_int_equal(kmip_client_request(c, &loc), KMIP_CLIENT_OK);
    assert_non_null(kmip_message_add_item(loc, KMIP_OPERATION_LOCATE));
    assert_int_equal(kmip_client_send(c, loc), KMIP_CLIENT_E_ARG);
    assert_non_null(strstr(kmip_client_error_message(c), "Locate"));
    assert_int_equal(kmip_client_request(c, &ph), KMIP_CLIENT_OK);
    assert_int_equal(kmip_req_add_get(ph, NULL, 0), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_send(c, ph), KMIP_CLIENT_E_ARG);
    assert_non_null(strstr(kmip_client_error_message(c), "without a Unique Identifier"));
    assert_int_equal(kmip_client_in_flight(c), 0);
    kmip_message_free(loc);
    kmip_message_free(ph);
    /* nor a connect, which would replace the connection under them (R7-1) */
    flight f = {0};
    for (int i = 0; i < KMIP_CLIENT_MAX_IN_FLIGHT; i++)
        send_gets(c, &f, i, 1);
    kmip_message *more = gets(c, 0, 1);
    assert_int_equal(kmip_client_send(c, more), KMIP_CLIENT_E_ARG);
    assert_int_equal(kmip_client_call(c, more, &resp), KMIP_CLIENT_E_ARG);
    assert_null(resp);
    uint8_t *k = NULL;
    size_t len = 0;
    uint32_t type = 0;
    assert_int_equal(kmip_client_get_key(c, uids[0], &k, &len, &type), KMIP_CLIENT_E_ARG);
    assert_int_equal(kmip_client_connect(c), KMIP_CLIENT_E_ARG);
    assert_int_equal(kmip_client_in_flight(c), KMIP_CLIENT_MAX_IN_FLIGHT);
    for (size_t i = 0; i < f.count; i++) {
        assert_int_equal(receive_oldest(c, &f, i, &resp), KMIP_CLIENT_OK);
        check_answer(resp, f.first[i], f.n[i]);
        kmip_client_release(c, resp);
    }
    /* and the handle works as before */
    assert_int_equal(kmip_client_call(c, more, &resp), KMIP_CLIENT_OK);
    check_answer(resp, 0, 1);
    kmip_client_release(c, resp);
    kmip_message_free(more);
    kmip_message_free(w);
    free_flight(&f);
    kmip_client_free(c);
}

/* Requests larger together than KMIP_CLIENT_IN_FLIGHT_BYTES: the later
 * ones are written as answers make room; all are answered. */
static void test_byte_window(void **state)
{
    (void)state;
    kmip_client *c = client_to(E.server_port);
    flight f = {0};
    int per = 400; /* items of about 100 bytes: some 40 KB a request */
    kmip_message *probe = gets(c, 0, per);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(kmip_message_encode(probe, &bytes, &len), KMIP_OK);
    kmip_secure_free(bytes, len);
    kmip_message_free(probe);
    size_t fit = KMIP_CLIENT_IN_FLIGHT_BYTES / len; /* written before any answer */
    assert_true(fit >= 2 && fit < KMIP_CLIENT_MAX_IN_FLIGHT);
    kmip_client_stats before, st;
    kmip_client_get_stats(c, &before);
    for (int i = 0; i < KMIP_CLIENT_MAX_IN_FLIGHT; i++)
        send_gets(c, &f, i, per);
    kmip_client_get_stats(c, &st);
    assert_int_equal(st.requests - before.requests, fit);
    for (size_t k = 0; k < f.count; k++) {
        kmip_message *resp = NULL;
        assert_int_equal(receive_oldest(c, &f, k, &resp), KMIP_CLIENT_OK);
        check_answer(resp, f.first[k], f.n[k]);
        kmip_client_release(c, resp);
    }
    free_flight(&f);
    kmip_client_free(c);
}

/* A fault in the middle of a pipeline, through the proxy; then the
 * requests behind it as the fault says. */
static void run_fault(const char *command, kmip_client_err oldest_gets, bool rest_answered)
{
    kmip_client *c = client_to(E.proxy_port);
    assert_true(fenv_quiesce(&E)); /* resets what goes through the proxy: before connecting */
    /* a first exchange connects and negotiates before the fault is armed */
    flight f = {0};
    send_gets(c, &f, 0, 1);
    kmip_message *resp = NULL;
    assert_int_equal(receive_oldest(c, &f, 0, &resp), KMIP_CLIENT_OK);
    kmip_client_release(c, resp);
    free_flight(&f);
    char out[256];
    assert_true(fenv_ctl(E.server_ctl, command, out, sizeof out));
    kmip_client_stats before, after;
    kmip_client_get_stats(c, &before);
    for (int i = 0; i < 8; i++)
        send_gets(c, &f, i * 5, 3);
    for (size_t k = 0; k < f.count; k++) {
        resp = NULL;
        kmip_client_err e = receive_oldest(c, &f, k, &resp);
        kmip_client_err want = k == 0 ? oldest_gets : rest_answered ? KMIP_CLIENT_OK : oldest_gets;
        if (e != want)
            fail_msg("%s: request %zu of 8: %d (%s), expected %d", command, k + 1, e,
                     kmip_client_error_message(c), want);
        if (e == KMIP_CLIENT_OK)
            check_answer(resp, f.first[k], f.n[k]);
        kmip_client_release(c, resp);
        if (k == 0) /* the fault has hit: the rest run without it */
            assert_true(fenv_clear(&E));
    }
    assert_int_equal(kmip_client_in_flight(c), 0);
    kmip_client_get_stats(c, &after);
    /* the requests behind the fault went again on a new connection: all 8
     * written twice at most (the first, retried, and those after it) */
    if (rest_answered) {
        print_message("%s: %lu connections, %lu requests, %lu retries\n", command,
                      (unsigned long)(after.connections - before.connections),
                      (unsigned long)(after.requests - before.requests),
                      (unsigned long)(after.retries - before.retries));
        assert_int_equal(after.connections - before.connections, 1);
        assert_true(after.requests - before.requests > 8);
        assert_true(after.requests - before.requests <= 16);
    }
    /* the handle carries on */
    send_gets(c, &f, 1, 2);
    assert_int_equal(receive_oldest(c, &f, 8, &resp), KMIP_CLIENT_OK);
    check_answer(resp, 1, 2);
    kmip_client_release(c, resp);
    free_flight(&f);
    kmip_client_free(c);
}

/* The connection breaks under the first answer: every read in flight is
 * sent again on a new connection, and answered. */
static void test_broken_connection_resends(void **state)
{
    (void)state;
    run_fault("fault truncate op=Get times=1", KMIP_CLIENT_OK, true);
    run_fault("fault lose op=Get times=1", KMIP_CLIENT_OK, true);
}

/* An answer naming another request (a wrong Unique Batch Item ID): that
 * request fails, the connection is dropped, and the others are asked
 * again on a new one and answered, never given another's answer. */
static void test_mismatched_answer(void **state)
{
    (void)state;
    run_fault("fault wrong_batch_id op=Get times=1", KMIP_CLIENT_E_PROTOCOL, true);
}

/* A server that never answers: the oldest times out, the pipeline gives
 * up, and every request in flight gets the error; the handle works again
 * afterwards. */
static void test_silent_server(void **state)
{
    (void)state;
    run_fault("fault silent op=Get times=0", KMIP_CLIENT_E_TIMEOUT, false);
}

static int refusals_logged;

static void count_refusals(void *ctx, int level, const char *message)
{
    (void)ctx;
    (void)level;
    if (strstr(message, "refused KMIP") != NULL)
        refusals_logged++;
}

/* A server that speaks an older version than the handle was told (a hint
 * from another handle, or a cluster upgraded behind one address): every
 * pipelined request is refused for its version. The first refusal drops
 * the connection, the server is asked its version on a new one, and all
 * of them go again in it: each gets its own keys, nothing is lost. Many
 * rounds: the version learnt is kept, so later rounds are not refused. */
static void test_refused_version_renegotiated(void **state)
{
    (void)state;
    /* the version our client speaks with the current server */
    kmip_client *probe = client_to(E.server_port);
    kmip_message *m = gets(probe, 0, 1);
    kmip_message *resp = NULL;
    assert_int_equal(kmip_client_call(probe, m, &resp), KMIP_CLIENT_OK);
    kmip_client_release(probe, resp);
    kmip_message_free(m);
    unsigned newest = 0;
    assert_int_equal(kmip_client_known_versions(probe, &newest, 1), 1);
    kmip_client_free(probe);
    assert_true(newest > KMIP_VERSION(1, 4));

    /* stopped by teardown too: a failed assertion leaves no server behind */
    assert_true(fenv_init(&older, fixture, "pipeline-older", server_bin, proxy_bin));
    char from[1100], to[1100];
    snprintf(from, sizeof from, "%s/state", E.dir);
    snprintf(to, sizeof to, "%s/state", older.dir);
    assert_true(fenv_copy_file(from, to)); /* the same objects, the same identifiers */
    snprintf(older.max_version, sizeof older.max_version, "1.4");
    assert_true(fenv_server_start(&older));

    kmip_client_options *o = options_to(older.server_port);
    kmip_client_options_set_known_versions(o, &newest, 1);
    refusals_logged = 0;
    kmip_client_options_set_log(o, count_refusals, NULL);
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    assert_non_null(c);
    kmip_client_stats before, after;
    kmip_client_get_stats(c, &before);
    for (int round = 0; round < 10; round++) {
        flight f = {0};
        for (int i = 0; i < KMIP_CLIENT_MAX_IN_FLIGHT; i++)
            send_gets(c, &f, (round * 5 + i * 3) % KEYS, 1 + (i + round) % 4);
        for (size_t k = 0; k < f.count; k++) {
            resp = NULL;
            kmip_client_err e = receive_oldest(c, &f, k, &resp);
            if (e != KMIP_CLIENT_OK)
                fail_msg("round %d, request %zu: %s", round, k, kmip_client_error_message(c));
            assert_int_equal(resp->response_header.protocol_version.major, 1);
            assert_int_equal(resp->response_header.protocol_version.minor, 4);
            check_answer(resp, f.first[k], f.n[k]);
            kmip_client_release(c, resp);
        }
        assert_int_equal(kmip_client_in_flight(c), 0);
        free_flight(&f);
    }
    kmip_client_get_stats(c, &after);
    unsigned known = 0;
    assert_int_equal(kmip_client_known_versions(c, &known, 1), 1);
    assert_int_equal(known, KMIP_VERSION(1, 4));
    /* refused once, on the first connection; the second served the rest */
    assert_int_equal(refusals_logged, 1);
    assert_int_equal(after.connections - before.connections, 2);
    kmip_client_free(c);

    /* a pinned version is the caller's: its refusal stands for every
     * request in flight, and nothing goes again in another version */
    o = options_to(older.server_port);
    kmip_client_options_pin_version(o, newest);
    c = kmip_client_new(o);
    kmip_client_options_free(o);
    assert_non_null(c);
    kmip_client_get_stats(c, &before);
    flight f = {0};
    for (int i = 0; i < 4; i++)
        send_gets(c, &f, i, 2);
    for (size_t k = 0; k < f.count; k++) {
        resp = NULL;
        kmip_client_err e = receive_oldest(c, &f, k, &resp);
        assert_int_equal(e, KMIP_CLIENT_E_SERVER);
        assert_non_null(resp); /* the server's refusal, item by item */
        for (size_t i = 0; i < resp->item_count; i++)
            assert_int_equal(resp->items[i].result_reason, KMIP_RESULT_REASON_INVALID_MESSAGE);
        kmip_client_release(c, resp);
    }
    free_flight(&f);
    kmip_client_get_stats(c, &after);
    assert_int_equal(after.connections - before.connections, 1);
    assert_int_equal(after.requests - before.requests, 4);
    kmip_client_free(c);
    fenv_stop(&older);
}

/* A server that answers a request twice (the test server's fault
 * "duplicate"), the answer a failure: a failed item names no object, so
 * only the Unique Batch Item IDs can tell it from the next request's
 * answer. Taken for the next one, it says "Item Not Found" of objects
 * that exist, and the keyring's load skips such keys as destroyed while
 * it loaded (load.c take): a key lost with no error. The next request
 * must get its own answer or an error, never another's refusal. */
static void run_duplicate_refusal(bool with_attributes)
{
    kmip_client *c = client_to(E.server_port);
    kmip_message *resp = NULL;
    /* connected and negotiated before the fault is armed */
    flight f = {0};
    send_gets(c, &f, 0, 1);
    assert_int_equal(receive_oldest(c, &f, 0, &resp), KMIP_CLIENT_OK);
    kmip_client_release(c, resp);
    free_flight(&f);
    char out[256];
    assert_true(fenv_ctl(E.server_ctl, "fault duplicate op=Get times=1", out, sizeof out));
    kmip_message *missing = NULL;
    assert_int_equal(kmip_client_request(c, &missing), KMIP_CLIENT_OK);
    assert_int_equal(kmip_req_add_get(missing, "no-such-object-0000", 0), KMIP_CLIENT_OK);
    kmip_message *present = gets(c, 3, 1);
    if (with_attributes) {
        assert_int_equal(kmip_req_add_get_attributes(missing, "no-such-object-0000", NULL, 0),
                         KMIP_CLIENT_OK);
        assert_int_equal(kmip_req_add_get_attributes(present, uids[3], NULL, 0), KMIP_CLIENT_OK);
    }
    assert_int_equal(kmip_client_send(c, missing), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_send(c, present), KMIP_CLIENT_OK);
    kmip_message *req = NULL;
    assert_int_equal(kmip_client_receive(c, &req, &resp), KMIP_CLIENT_E_NOT_FOUND);
    assert_ptr_equal(req, missing);
    kmip_client_release(c, resp);
    resp = NULL;
    kmip_client_err e = kmip_client_receive(c, &req, &resp);
    assert_ptr_equal(req, present);
    if (e != KMIP_CLIENT_OK && e != KMIP_CLIENT_E_PROTOCOL)
        fail_msg("the answer to a Get of an existing object: %d (%s): the duplicated refusal "
                 "of the request before it was taken for its answer", e,
                 kmip_client_error_message(c));
    if (e == KMIP_CLIENT_OK) {
        assert_non_null(resp);
        assert_int_equal(resp->items[0].result_status, KMIP_RESULT_STATUS_SUCCESS);
        const kmip_get_response *g = resp->items[0].payload;
        assert_non_null(g);
        assert_int_equal(g->unique_identifier.text.len, strlen(uids[3]));
        assert_memory_equal(g->unique_identifier.text.data, uids[3], strlen(uids[3]));
    }
    kmip_client_release(c, resp);
    assert_true(fenv_clear(&E));
    /* the handle carries on */
    send_gets(c, &f, 1, 2);
    assert_int_equal(receive_oldest(c, &f, 0, &resp), KMIP_CLIENT_OK);
    check_answer(resp, 1, 2);
    kmip_client_release(c, resp);
    free_flight(&f);
    kmip_message_free(missing);
    kmip_message_free(present);
    kmip_client_free(c);
}

static void test_duplicate_refusal(void **state)
{
    (void)state;
    run_duplicate_refusal(false);
    run_duplicate_refusal(true); /* the keyring's load: Get + Get Attributes */
}

/* A server that echoes no Unique Batch Item IDs (a batch's answer needs
 * them, check_response): the successful answers to one-Get requests name
 * their objects and are taken, each checked against its request; a failure
 * without an ID cannot be told from another request's and is a protocol
 * error, never a "not found" of the request it reached. */
static void test_server_without_batch_ids(void **state)
{
    (void)state;
    kmip_client *c = client_to(E.server_port);
    char out[256];
    assert_true(fenv_ctl(E.server_ctl, "fault no_batch_id op=Get times=0", out, sizeof out));
    flight f = {0};
    for (int i = 0; i < 8; i++)
        send_gets(c, &f, i * 3, 1);
    for (size_t k = 0; k < f.count; k++) {
        kmip_message *got = NULL;
        assert_int_equal(receive_oldest(c, &f, k, &got), KMIP_CLIENT_OK);
        check_answer(got, f.first[k], 1);
        kmip_client_release(c, got);
    }
    free_flight(&f);
    kmip_message *missing = NULL;
    assert_int_equal(kmip_client_request(c, &missing), KMIP_CLIENT_OK);
    assert_int_equal(kmip_req_add_get(missing, "no-such-object-0001", 0), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_send(c, missing), KMIP_CLIENT_OK);
    kmip_message *req = NULL, *resp = NULL;
    assert_int_equal(kmip_client_receive(c, &req, &resp), KMIP_CLIENT_E_PROTOCOL);
    assert_ptr_equal(req, missing);
    kmip_client_release(c, resp);
    assert_true(fenv_clear(&E));
    kmip_message_free(missing);
    kmip_client_free(c);
}

static int setup(void **state)
{
    (void)state;
    if (!fenv_init(&E, fixture, "pipeline", server_bin, proxy_bin) || !fenv_server_start(&E) ||
        !fenv_proxy_start(&E))
        return -1;
    kmip_client *c = client_to(E.server_port);
    for (int i = 0; i < KEYS; i++) {
        kmip_key_spec s = {0};
        s.object_type = KMIP_OBJECT_TYPE_SECRET_DATA;
        s.secret_data_type = KMIP_SECRET_DATA_TYPE_PASSWORD;
        s.object_group = "pipeline";
        uint8_t secret[24];
        secret_of(i, secret);
        if (kmip_client_register_activate(c, &s, secret, strlen((char *)secret), uids[i],
                                          sizeof uids[i]) != KMIP_CLIENT_OK)
            return -1;
    }
    kmip_client_free(c);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fenv_stop(&E);
    fenv_stop(&older);
    return 0;
}

int main(int argc, char **argv)
{
    if (!fenv_args(argc, argv, &fixture, &server_bin, &proxy_bin))
        return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_in_order),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_byte_window),
        cmocka_unit_test(test_broken_connection_resends),
        cmocka_unit_test(test_mismatched_answer),
        cmocka_unit_test(test_silent_server),
        cmocka_unit_test(test_refused_version_renegotiated),
        cmocka_unit_test(test_duplicate_refusal),
        cmocka_unit_test(test_server_without_batch_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

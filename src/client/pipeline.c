/* SPDX-License-Identifier: GPL-2.0-only */
/* Pipelining: several read requests in flight on one connection
 * (kmip_client_send, kmip_client_receive). Each request is encoded by the
 * core into an armed record of its own (kc_core_prepare), kept in the
 * handle's ring in the order sent; the oldest is taken back into the core
 * to receive and check its answer like any exchange, and after a failure
 * the core decides for it (kc_core_failed: again on a new connection, on
 * the next server, or give up), the requests behind it following it. */
#include <stdio.h>
#include <string.h>

#include "client_internal.h"

/* Bytes of the requests written and not answered yet. */
static size_t unanswered_bytes(kmip_client *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->pipe_count; i++)
        if (kc_pipe_slot(c, i)->ev == KC_EV_RECV)
            n += kc_pipe_slot(c, i)->out_len;
    return n;
}

/* Drops the connection: what went out on it goes out again on the next. */
static void drop_connection(kmip_client *c)
{
    kt_close(c->conn);
    c->conn = NULL;
    kc_pipe_unsend(c);
}

/* Writes the requests not written yet, in order, while the unanswered ones
 * hold at most KMIP_CLIENT_IN_FLIGHT_BYTES (the oldest always). With no
 * connection it connects first (nothing is then in flight on a connection:
 * the staleness check may run), and requests encoded at another version
 * than the server's are encoded again. A failure is in the core's status;
 * the connection is dropped. *up: a connection was up (the server failed
 * the attempt, not the connect). */
static kmip_client_err write_pending(kmip_client *c, bool *up)
{
    kc_core *k = &c->core;
    if (c->conn == NULL) {
        kmip_client_err e = kc_ensure_connected(c);
        if (e != KMIP_CLIENT_OK)
            return e;
        *up = true;
        c->pipe_reused = false;
        for (size_t i = c->pipe_failed_n; i < c->pipe_count; i++) {
            kc_armed *a = kc_pipe_slot(c, i);
            kmip_message *req = (kmip_message *)(uintptr_t)a->req; /* the caller's, lent */
            kc_core_take_back(k, a);
            e = kc_core_follow_version(k, req);
            kc_core_put_aside(k, a);
            if (e != KMIP_CLIENT_OK)
                return e;
        }
    }
    *up = true;
    size_t held = unanswered_bytes(c);
    for (size_t i = c->pipe_failed_n; i < c->pipe_count; i++) {
        kc_armed *a = kc_pipe_slot(c, i);
        if (a->ev != KC_EV_SEND)
            continue;
        /* behind unanswered requests only within the window and when the
         * socket has room: a write that waited would keep us from the
         * answers (they come when answers make room) */
        if (held > 0 && (held + a->out_len > KMIP_CLIENT_IN_FLIGHT_BYTES ||
                         !kt_room_for(c->conn, a->out_len)))
            break;
        kt_error te = {KMIP_CLIENT_OK, ""};
        k->peer = kc_server_name(c);
        /* the answers to the requests before it may keep the socket full
         * for longer than io_ms: each one arriving starts the wait again,
         * the operation's budget bounding it */
        if (kt_send(c->conn, a->out, a->out_len, c->opt.io_ms, c->deadline_ms, &te) !=
            KMIP_CLIENT_OK) {
            kc_fail(c, te.code, "%s", te.message);
            drop_connection(c);
            return te.code;
        }
        a->ev = KC_EV_RECV;
        a->sent = true;
        *kc_pipe_sent_at(c, i) = kmip_monotonic_us();
        held += a->out_len;
        c->stats.requests++;
    }
    return KMIP_CLIENT_OK;
}

kmip_client_err kmip_client_send(kmip_client *c, kmip_message *request)
{
    kc_clear(c);
    kc_start_operation(c);
    if (c->pipe_count == KMIP_CLIENT_MAX_IN_FLIGHT)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "%d requests are in flight already: receive an "
                       "answer first", KMIP_CLIENT_MAX_IN_FLIGHT);
    if (request == NULL || request->is_response || request->item_count == 0)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a request with at least one batch item is needed");
    bool first = c->pipe_count == 0;
    if (first) {
        /* a connection, checked for a stale one as before any request */
        bool kept = c->conn != NULL;
        uint64_t made = c->stats.connections;
        kmip_client_err e = kc_ensure_connected(c);
        if (e != KMIP_CLIENT_OK)
            return e;
        /* kept from before, not replaced because it was stale (R7-5) */
        c->pipe_reused = kept && c->stats.connections == made;
    }
    kc_armed *a = kc_pipe_slot(c, c->pipe_count);
    kmip_client_err e = kc_core_prepare(&c->core, request, a);
    if (e != KMIP_CLIENT_OK)
        return e;
    c->pipe_count++;
    if (c->conn == NULL)
        return KMIP_CLIENT_OK; /* written by kmip_client_receive */
    /* a failure to write it is the pipeline's, settled when its answers
     * are received (the core decides there whether to send again) */
    bool up;
    if (write_pending(c, &up) != KMIP_CLIENT_OK)
        c->stats.retries++; /* written again by kmip_client_receive (R7-2) */
    kc_clear(c);
    return KMIP_CLIENT_OK;
}

/* After a failure of the oldest request's attempt (the core holds it, its
 * error in the core's status): the core's decision, which the requests
 * behind it follow. Returns false when the pipeline gives up. */
static bool recover(kmip_client *c, bool exchanged)
{
    kc_core *k = &c->core;
    bool reused = c->pipe_reused;
    drop_connection(c);
    c->pipe_reused = false;
    kc_failure f = {.exchanged = exchanged, .reused = reused, .out_of_time = kc_out_of_time(c)};
    if (kc_core_blames_server(k, &f))
        kh_failed(c, c->cur, k->st.message);
    kc_next next = kc_core_failed(k, &f);
    if (next == KC_NEXT_GIVE_UP)
        return false;
    c->stats.retries++;
    if (next == KC_NEXT_RETRY)
        kc_log(c, 2, "KMIP connection broken; sending the pipelined requests again on a new "
               "connection");
    return true;
}

/* The oldest request refused for the version it went in (a server behind
 * the address speaks an older one than it was known to: a hint from
 * another handle, or a cluster being upgraded behind one name). Discover
 * Versions cannot go behind answers in flight, so the connection is
 * dropped with the answers behind it (refusals too: they went in the same
 * version), the server's version forgotten, and every request goes again on
 * a new connection, which asks the server's version (write_pending), in the
 * version it speaks. Once per request: a request refused again, or one
 * that was in flight behind this one, keeps its refusal. False when the
 * refusal stands (the version is pinned, or it was sent again already). */
static bool renegotiate_pipeline(kmip_client *c, const kmip_message *req)
{
    kc_core *k = &c->core;
    if (!kc_core_version_refused(k) || !kc_core_must_discover(k))
        return false;
    kc_core_rearm_refused(k);
    for (size_t i = 1; i < c->pipe_count; i++)
        kc_pipe_slot(c, i)->version_resent = true;
    const kmip_protocol_version *pv = &req->request_header.protocol_version;
    char line[400];
    snprintf(line, sizeof line, "the KMIP server %s refused KMIP %d.%d for pipelined requests: "
             "its version is asked again on a new connection and %zu request(s) go again in "
             "the version it speaks", kc_server_name(c), (int)pv->major, (int)pv->minor,
             c->pipe_count);
    kc_log(c, 1, line);
    kc_forget_version(c, c->cur);
    drop_connection(c);
    c->stats.retries++;
    return true;
}

kmip_client_err kmip_client_receive(kmip_client *c, kmip_message **request,
                                    kmip_message **response)
{
    *request = NULL;
    *response = NULL;
    kc_clear(c);
    if (c->pipe_count == 0)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "no pipelined request is in flight");
    kc_start_operation(c);
    kc_core *k = &c->core;
    /* the core's exchange is the oldest request's from here; the slot,
     * emptied by kc_core_take_back, only keeps its place */
    const kmip_message *req = kc_pipe_slot(c, 0)->req;
    *request = (kmip_message *)(uintptr_t)req; /* the caller's, lent */
    if (c->pipe_failed_n > 0) { /* the pipeline gave up on it before */
        k->st = c->pipe_failed;
        c->pipe_failed_n--;
        kc_pipe_pop(c);
        return k->st.err;
    }
    kmip_client_err e;
    for (;;) {
        bool up = false;
        e = write_pending(c, &up);
        kc_core_take_back(k, kc_pipe_slot(c, 0));
        if (e == KMIP_CLIENT_OK) {
            e = kc_receive_armed(c);
            if (e == KMIP_CLIENT_OK) {
                kh_exchanged(c, (unsigned)(kmip_monotonic_us() - *kc_pipe_sent_at(c, 0)));
                /* the server answered on it: a break from now on is not a
                 * kept connection it closed while idle (R7-5) */
                c->pipe_reused = false;
                if (renegotiate_pipeline(c, req)) {
                    kc_core_put_aside(k, kc_pipe_slot(c, 0)); /* armed again */
                    continue;
                }
                break;
            }
        }
        if (e != KMIP_CLIENT_E_NOMEM && e != KMIP_CLIENT_E_ARG && recover(c, up)) {
            kc_core_put_aside(k, kc_pipe_slot(c, 0)); /* armed again, to be written */
            continue;
        }
        /* given up (or a local failure no new connection mends): this
         * request's error, and that of every one behind it */
        kc_core_reset(k);
        if (c->conn)
            drop_connection(c);
        kc_pipe_pop(c);
        c->pipe_failed = k->st;
        c->pipe_failed_n = c->pipe_count;
        return k->st.err;
    }
    bool reset;
    e = kc_core_finish(k, response, &reset);
    kc_pipe_pop(c);
    if (reset && c->conn) /* out of step: the rest go again on a new connection */
        drop_connection(c);
    return e;
}

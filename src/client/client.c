/* SPDX-License-Identifier: GPL-2.0-only */
/* The KMIP client: one persistent TLS connection, version negotiation,
 * request/response exchange with matching, retry of safe operations, and
 * error state kept in the handle. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

#define DEFAULT_CONNECT_MS 1000u
#define DEFAULT_IO_MS 30000u

kmip_client_err kc_fail(kmip_client *c, kmip_client_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kc_status_vfail(&c->core.st, code, fmt, ap);
    va_end(ap);
    return code;
}

void kc_clear(kmip_client *c)
{
    kc_status_clear(&c->core.st);
}

void kc_log(const kmip_client *c, int level, const char *message)
{
    if (c->opt.log)
        c->opt.log(c->opt.log_ctx, level, message);
}

kmip_client *kmip_client_new(const kmip_client_options *o)
{
    if (o == NULL || o->host == NULL)
        return NULL;
    kmip_client *c = calloc(1, sizeof *c);
    if (c == NULL || !kmip_options_copy(&c->opt, o)) {
        free(c);
        return NULL;
    }
    if (c->opt.connect_ms == 0)
        c->opt.connect_ms = DEFAULT_CONNECT_MS;
    if (c->opt.io_ms == 0)
        c->opt.io_ms = DEFAULT_IO_MS;
    if (c->opt.max_response == 0)
        c->opt.max_response = KMIP_DEFAULT_MAX_MESSAGE;
    /* With several servers one exchange may use at most budget / (servers +
     * 1): a stalled server (hung, paused, a load balancer's dead backend)
     * then leaves time in the same budget for the next server and for the
     * caller's check of an uncertain write (a Locate). Without the cap the
     * keyring's combination (read timeout == operation budget) lets a stall
     * use the whole budget: no failover, and a lost Register is unsettled. */
    if (c->opt.server_count > 1 && c->opt.operation_ms > 0) {
        unsigned cap = c->opt.operation_ms / (unsigned)(c->opt.server_count + 1);
        if (cap == 0)
            cap = 1;
        if (c->opt.io_ms > cap)
            c->opt.io_ms = cap;
    }
    kc_core_init(&c->core, c->opt.pinned_version, c->opt.max_response, c->opt.server_count,
                 c->opt.log, c->opt.log_ctx);
    for (size_t i = 0; i < c->opt.server_count && i < KMIP_MAX_SERVERS; i++)
        c->server_version[i] = c->opt.known_version[i];
    /* the switch exists from the start: an abort may come from another
     * thread before the first connection, and must not race its creation */
    if (c->opt.server_count == 0 || (c->abort = kt_abort_new()) == NULL || !kh_attach(c)) {
        kt_abort_free(c->abort);
        kmip_options_clear(&c->opt);
        free(c);
        return NULL;
    }
    return c;
}

void kmip_client_free(kmip_client *c)
{
    if (c == NULL)
        return;
    kc_pipe_clear(c);
    kt_close(c->conn);
    kt_ctx_free(c->ctx);
    kt_abort_free(c->abort);
    kh_detach(c);
    kc_core_clear(&c->core);
    kmip_options_clear(&c->opt);
    kmip_secure_zero(c, sizeof *c);
    free(c);
}

void kmip_client_abort(kmip_client *c)
{
    if (c != NULL)
        kt_abort_fire(c->abort);
}

const char *kmip_client_error_message(const kmip_client *c)
{
    return c->core.st.message;
}

bool kmip_client_result(const kmip_client *c, uint32_t *status, uint32_t *reason,
                        const char **message)
{
    const kc_status *st = &c->core.st;
    if (!st->has_result)
        return false;
    if (status)
        *status = st->result_status;
    if (reason)
        *reason = st->result_reason;
    if (message)
        *message = st->result_message;
    return true;
}

unsigned kmip_client_version(const kmip_client *c)
{
    return c->core.version;
}

size_t kmip_client_server_versions(const kmip_client *c, unsigned *out, size_t cap)
{
    if (!c->has_cur)
        return 0;
    size_t count = c->server_versions_count[c->cur];
    size_t n = count < cap ? count : cap;
    if (n)
        memcpy(out, c->server_versions[c->cur], n * sizeof *out);
    return count;
}

size_t kmip_client_known_versions(const kmip_client *c, unsigned *out, size_t cap)
{
    size_t n = c->opt.server_count < cap ? c->opt.server_count : cap;
    if (n)
        memcpy(out, c->server_version, n * sizeof *out);
    return c->opt.server_count;
}

/* What negotiation just learnt of server i: its version and its list. */
static void learnt_version(kmip_client *c, size_t i)
{
    if (i >= KMIP_MAX_SERVERS)
        return;
    c->server_version[i] = c->core.version;
    c->server_versions_count[i] = c->core.server_version_count;
    memcpy(c->server_versions[i], c->core.server_versions, sizeof c->server_versions[i]);
}

kmip_client_err kmip_client_tls(const kmip_client *c, kmip_client_tls_info *info)
{
    if (c->conn == NULL)
        return KMIP_CLIENT_E_ARG;
    kt_info(c->conn, info);
    return KMIP_CLIENT_OK;
}

void kmip_client_get_stats(const kmip_client *c, kmip_client_stats *s)
{
    *s = c->stats;
}

void kmip_client_disconnect(kmip_client *c)
{
    kc_pipe_clear(c);
    kt_close(c->conn);
    c->conn = NULL;
}

/* Starts the time budget of one public operation. */
static void start_operation(kmip_client *c)
{
    c->deadline_ms = c->opt.operation_ms ? kmip_monotonic_ms() + c->opt.operation_ms : 0;
    if (c->task_deadline_ms && (c->deadline_ms == 0 || c->task_deadline_ms < c->deadline_ms))
        c->deadline_ms = c->task_deadline_ms;
}

void kmip_client_begin_deadline(kmip_client *c, unsigned ms)
{
    c->task_deadline_ms = kmip_monotonic_ms() + ms;
}

void kmip_client_end_deadline(kmip_client *c)
{
    c->task_deadline_ms = 0;
}

/* A step's timeout, cut down to what is left of the operation's budget. */
static unsigned budget(const kmip_client *c, unsigned step_ms)
{
    if (c->deadline_ms == 0)
        return step_ms;
    int64_t left = c->deadline_ms - kmip_monotonic_ms();
    if (left < 1)
        left = 1;
    return left < (int64_t)step_ms ? (unsigned)left : step_ms;
}

static bool out_of_time(const kmip_client *c)
{
    return c->deadline_ms != 0 && kmip_monotonic_ms() >= c->deadline_ms;
}

/* The server of the current (or last) connection. */
static const char *kc_host(const kmip_client *c)
{
    return c->has_cur ? c->opt.servers[c->cur].host : c->opt.host;
}

static kt_config config_of(const kmip_client *c, size_t server)
{
    kt_config k = {.host = c->opt.servers[server].host,
                   .port = c->opt.servers[server].port,
                   .ca_file = c->opt.ca_file,
                   .cert_file = c->opt.cert_file,
                   .key_file = c->opt.key_file,
                   .connect_ms = budget(c, c->opt.connect_ms),
                   .io_ms = budget(c, c->opt.io_ms),
                   .max_response = c->opt.max_response,
                   .skip_verify = c->opt.skip_verify,
                   .skip_hostname = c->opt.skip_hostname,
                   .log = c->opt.log,
                   .log_ctx = c->opt.log_ctx,
                   .key_password_file = c->opt.key_password_file,
                   .cipher_list = c->opt.cipher_list,
                   .ciphersuites = c->opt.ciphersuites,
                   .abort = c->abort};
    return k;
}

/* Drives the exchange armed in the core over the open connection: its
 * bytes out through kt_send, the answer's bytes in through kt_recv (one
 * whole message, framed and size-checked by the transport), decoded by the
 * core. A failure is in the core's status. */
static kmip_client_err roundtrip(kmip_client *c)
{
    kc_core *k = &c->core;
    kt_error e = {KMIP_CLIENT_OK, ""};
    k->peer = kc_host(c);
    const uint8_t *out;
    size_t out_len;
    kc_core_output(k, &out, &out_len);
    if (kt_send(c->conn, out, out_len, budget(c, c->opt.io_ms), 0, &e) != KMIP_CLIENT_OK)
        return kc_fail(c, e.code, "%s", e.message);
    kc_core_sent(k);
    c->stats.requests++;
    return kc_receive_armed(c);
}

kmip_client_err kc_receive_armed(kmip_client *c)
{
    kc_core *k = &c->core;
    kt_error e = {KMIP_CLIENT_OK, ""};
    k->peer = kc_host(c);
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (kt_recv(c->conn, &bytes, &n, budget(c, c->opt.io_ms), c->opt.max_response, &e) !=
        KMIP_CLIENT_OK)
        return kc_fail(c, e.code, "%s", e.message);
    size_t used = 0;
    kc_event ev = kc_core_feed(k, bytes, n, &used);
    kmip_secure_free(bytes, n);
    if (ev == KC_EV_RESPONSE)
        return KMIP_CLIENT_OK;
    if (ev == KC_EV_RECV) /* the transport's framer and the core's disagree */
        return kc_fail(c, KMIP_CLIENT_E_PROTOCOL, "the KMIP server at %s sent a truncated "
                       "response", kc_host(c));
    return k->st.err;
}

/* Discover Versions through the core (kc_core_discover_*): the first
 * version of the server's answer is the highest both support. A server
 * that does not know the operation gets 1.0. */
static kmip_client_err negotiate(kmip_client *c)
{
    if (!kc_core_must_discover(&c->core))
        return KMIP_CLIENT_OK;
    kmip_client_err e = kc_core_discover_begin(&c->core);
    if (e == KMIP_CLIENT_OK)
        e = roundtrip(c);
    if (e == KMIP_CLIENT_OK)
        return kc_core_discover_end(&c->core);
    kc_core_reset(&c->core);
    return e;
}

/* The version to speak with server: the one negotiated at its last
 * connection, or Discover Versions now. Each server has its own (review
 * s4 S9: a handle that failed over to the older server of a cluster being
 * upgraded kept the first server's version, and every request was
 * refused). Negotiation uses the core's exchange: a request armed there (a
 * failover within a call) is put aside meanwhile, and call_in_budget
 * encodes it again at the version agreed here. */
static kmip_client_err agree_version(kmip_client *c, size_t server)
{
    if (!kc_core_must_discover(&c->core))
        return KMIP_CLIENT_OK; /* pinned */
    if (c->server_version[server] != 0) {
        c->core.version = c->server_version[server];
        return KMIP_CLIENT_OK;
    }
    unsigned was = c->core.version;
    kc_armed armed;
    kc_core_put_aside(&c->core, &armed);
    kmip_client_err e = negotiate(c);
    kc_core_take_back(&c->core, &armed);
    if (e == KMIP_CLIENT_OK)
        learnt_version(c, server);
    else if (was != 0)
        c->core.version = was; /* the request stays as it was encoded */
    return e;
}

/* TCP, TLS and version negotiation with one server (agree_version). */
static kmip_client_err connect_to(kmip_client *c, size_t server, const size_t *failed,
                                  size_t failed_count)
{
    kt_config cfg = config_of(c, server);
    kt_error e = {KMIP_CLIENT_OK, ""};
    if (c->ctx == NULL && kt_ctx_new(&cfg, &c->ctx, &e) != KMIP_CLIENT_OK)
        return kc_fail(c, e.code, "%s", e.message);
    if (kt_connect(c->ctx, &cfg, &c->conn, &e) != KMIP_CLIENT_OK)
        return kc_fail(c, e.code, "%s", e.message);
    c->stats.connections++;
    kmip_client_tls_info tls;
    kt_info(c->conn, &tls);
    kh_connected(c, server, failed, failed_count, tls.peer_not_after);
    kmip_client_err ne = agree_version(c, server);
    if (ne != KMIP_CLIENT_OK) {
        kt_close(c->conn);
        c->conn = NULL;
    }
    return ne;
}

/* Every request, read or write, checks the connection first: a record
 * waiting on an idle connection (a close_notify, a response nobody asked
 * for) must never be sent into or taken as the next answer (review of
 * issue 17, F4 and F8: a 100 ms unchecked window before reads let a
 * duplicate Locate answer become the next Locate's). */
static kmip_client_err ensure_connected(kmip_client *c)
{
    if (kt_abort_fired(c->abort)) /* for good: not even the kept connection */
        return kc_fail(c, KMIP_CLIENT_E_ABORTED, "the KMIP client was aborted "
                       "(kmip_client_abort): it cannot be used any more");
    /* answers to requests in flight are not stale data: never checked
     * then (review s7 R7-1; pipeline.c connects only with nothing in
     * flight on a connection) */
    if (c->conn && c->pipe_count == 0 && kt_stale(c->conn)) {
        kt_close(c->conn);
        c->conn = NULL;
    }
    if (c->conn)
        return KMIP_CLIENT_OK;
    /* several servers: in order, skipping those backing off (servers.c);
     * each costs at most the connect timeout */
    size_t order[KMIP_MAX_SERVERS];
    size_t n = kh_order(c, order);
    char all[sizeof c->core.st.message] = "";
    size_t used = 0;
    kmip_client_err e = KMIP_CLIENT_E_CONNECT;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && out_of_time(c))
            break;
        e = connect_to(c, order[k], order, k);
        /* connected, or a local problem no other server solves; an abort
         * is no failure of the server (its health stays as it was) */
        if (e == KMIP_CLIENT_OK || e == KMIP_CLIENT_E_CONFIG || e == KMIP_CLIENT_E_NOMEM ||
            e == KMIP_CLIENT_E_ARG || e == KMIP_CLIENT_E_ABORTED)
            return e;
        kh_failed(c, order[k], c->core.st.message);
        char name[272];
        kh_name(&c->opt.servers[order[k]], name, sizeof name);
        int w = snprintf(all + used, sizeof all - used, "%s%s: %.*s", k ? "; " : "", name,
                         (int)(600 / c->opt.server_count), c->core.st.message);
        if (w > 0)
            used = used + (size_t)w < sizeof all ? used + (size_t)w : sizeof all - 1;
    }
    if (c->opt.server_count > 1) {
        char was[sizeof all];
        memcpy(was, all, sizeof was);
        kc_fail(c, e, "no KMIP server could be reached (%zu configured, %zu tried%s, connect "
                "timeout %u ms): %s", c->opt.server_count, n,
                n < c->opt.server_count ? ", the others backing off after failing" : "",
                c->opt.connect_ms, was);
    }
    return e;
}

/* TLS and Discover Versions with one server on a connection of its own,
 * with TLS context x (NULL: the client's); record: the result goes to the
 * health table. */
static kmip_client_err probe_with(kmip_client *c, kt_ctx *x, size_t server, bool record)
{
    /* a connection of its own: the kept connection, the current server and
     * the negotiated version stay as they are */
    kt_conn *kept = c->conn;
    size_t cur = c->cur;
    bool has_cur = c->has_cur;
    unsigned version = c->core.version;
    unsigned versions[KMIP_CLIENT_MAX_VERSIONS];
    size_t version_count = c->core.server_version_count;
    memcpy(versions, c->core.server_versions, sizeof versions);
    int64_t deadline = c->deadline_ms;
    c->conn = NULL;
    c->deadline_ms = kmip_monotonic_ms() + 2 * (int64_t)c->opt.connect_ms;
    kt_config cfg = config_of(c, server);
    cfg.io_ms = cfg.connect_ms; /* the round trip too: the connect timeout */
    kt_error te = {KMIP_CLIENT_OK, ""};
    kmip_client_err e = KMIP_CLIENT_OK;
    if (x == NULL && c->ctx == NULL && kt_ctx_new(&cfg, &c->ctx, &te) != KMIP_CLIENT_OK)
        e = kc_fail(c, te.code, "%s", te.message);
    else if (kt_connect(x ? x : c->ctx, &cfg, &c->conn, &te) != KMIP_CLIENT_OK)
        e = kc_fail(c, te.code, "%s", te.message);
    if (e == KMIP_CLIENT_OK) {
        c->stats.connections++;
        kmip_client_tls_info tls;
        kt_info(c->conn, &tls);
        c->cur = server;
        c->has_cur = true;
        c->core.version = 0;
        int64_t t0 = kmip_monotonic_us();
        bool asks = kc_core_must_discover(&c->core);
        e = negotiate(c); /* Discover Versions: the server answers KMIP */
        if (e == KMIP_CLIENT_OK && asks) /* what it speaks now, for its next connection */
            learnt_version(c, server);
        if (e == KMIP_CLIENT_OK && record)
            kh_probed(c, server, (unsigned)(kmip_monotonic_us() - t0), tls.peer_not_after);
    }
    if (record && e != KMIP_CLIENT_OK && e != KMIP_CLIENT_E_NOMEM && e != KMIP_CLIENT_E_CONFIG &&
        e != KMIP_CLIENT_E_ABORTED)
        kh_failed(c, server, c->core.st.message);
    kt_close(c->conn);
    c->conn = kept;
    c->cur = cur;
    c->has_cur = has_cur;
    c->core.version = version;
    c->core.server_version_count = version_count;
    memcpy(c->core.server_versions, versions, sizeof versions);
    c->deadline_ms = deadline;
    return e;
}

kmip_client_err kmip_client_probe(kmip_client *c, size_t server)
{
    kc_clear(c);
    if (server >= c->opt.server_count)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "no server %zu to probe", server + 1);
    return probe_with(c, NULL, server, true);
}

bool kmip_client_cert_not_after(const kmip_client *c, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0)
        return false;
    buf[0] = '\0';
    if (c->ctx == NULL)
        return false;
    kt_ctx_cert_not_after(c->ctx, buf, cap);
    return buf[0] != '\0' && strcmp(buf, "(unknown)") != 0;
}

kmip_client_err kmip_client_reload_credentials(kmip_client *c)
{
    kc_clear(c);
    kt_config cfg = config_of(c, c->has_cur ? c->cur : 0);
    kt_error e = {KMIP_CLIENT_OK, ""};
    kt_ctx *fresh = NULL;
    if (kt_ctx_new(&cfg, &fresh, &e) != KMIP_CLIENT_OK)
        return kc_fail(c, e.code, "%s", e.message); /* the old context stays */
    /* a server must accept the new credentials before they go into service
     * (another CA, a revoked, expired or not yet valid certificate, another
     * CN: the old ones keep working); the servers in order, the first that
     * answers decides */
    size_t order[KMIP_MAX_SERVERS];
    size_t n = kh_order(c, order);
    kmip_client_err pe = KMIP_CLIENT_E_CONNECT;
    char why[sizeof c->core.st.message] = "";
    for (size_t k = 0; k < n && pe != KMIP_CLIENT_OK; k++) {
        pe = probe_with(c, fresh, order[k], false);
        if (pe != KMIP_CLIENT_OK) {
            char name[272];
            kh_name(&c->opt.servers[order[k]], name, sizeof name);
            size_t used = strlen(why);
            snprintf(why + used, sizeof why - used, "%s%s: %.300s", used ? "; " : "", name,
                     c->core.st.message);
        }
    }
    if (pe != KMIP_CLIENT_OK) {
        kt_ctx_free(fresh);
        return kc_fail(c, pe, "no KMIP server accepted the new credentials (%s)", why);
    }
    kc_clear(c);
    kt_close(c->conn);
    c->conn = NULL;
    kc_pipe_unsend(c); /* sent again, on a connection with the new credentials */
    kt_ctx_free(c->ctx);
    c->ctx = fresh;
    return KMIP_CLIENT_OK;
}

/* The refusal of a call that would connect or exchange while pipelined
 * requests wait for their answers (they would be taken as its own, or
 * the connection replaced under them: review s7 R7-1). */
static kmip_client_err refuse_in_flight(kmip_client *c)
{
    return kc_fail(c, KMIP_CLIENT_E_ARG, "%zu pipelined request%s in flight on this handle: "
                   "receive %s answers first (kmip_client_receive)", c->pipe_count,
                   c->pipe_count == 1 ? " is" : "s are", c->pipe_count == 1 ? "its" : "their");
}

kmip_client_err kmip_client_connect(kmip_client *c)
{
    kc_clear(c);
    if (c->pipe_count > 0) /* review s7 R7-1: it replaced the connection under them */
        return refuse_in_flight(c);
    start_operation(c);
    return ensure_connected(c);
}

/* The start of every request: error state cleared, the request's own time
 * budget, a connection and a version. */
static kmip_client_err prepare(kmip_client *c)
{
    kc_clear(c);
    start_operation(c);
    return c->core.version == 0 ? ensure_connected(c) : KMIP_CLIENT_OK;
}

kmip_client_err kmip_client_request(kmip_client *c, kmip_message **request)
{
    *request = NULL;
    kmip_client_err e = prepare(c);
    if (e != KMIP_CLIENT_OK)
        return e;
    *request = kmip_message_new(false, c->core.version);
    return *request ? KMIP_CLIENT_OK : kc_fail(c, KMIP_CLIENT_E_NOMEM, "out of memory");
}

/* One exchange of request within the operation's budget (started by the
 * caller: a multi-step operation has one budget for all its steps). */
/* The server refused the request for its version (kc_core_version_refused):
 * what was known of its version is forgotten and it is asked again on
 * this connection, the refusal put aside meanwhile (agree_version). False
 * when that failed: the connection is dropped and the refusal stands. A
 * pinned version is the caller's: never asked. */
static bool renegotiate(kmip_client *c)
{
    if (!kc_core_must_discover(&c->core))
        return false;
    kc_forget_version(c, c->cur);
    if (agree_version(c, c->cur) == KMIP_CLIENT_OK)
        return true;
    kt_close(c->conn);
    c->conn = NULL;
    return false;
}

static kmip_client_err call_in_budget(kmip_client *c, kmip_message *request,
                                      kmip_message **response, kc_build_fn build, void *ctx)
{
    kc_clear(c);
    *response = NULL;
    if (request == NULL || request->is_response || request->item_count == 0)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a request with at least one batch item is needed");
    if (c->pipe_count > 0)
        return refuse_in_flight(c);
    if (out_of_time(c))
        return kc_fail(c, KMIP_CLIENT_E_TIMEOUT, "no time left for %s: the deadline has passed",
                       kc_operation_name(request->items[0].operation));
    kmip_client_err e = c->core.version == 0 ? ensure_connected(c) : KMIP_CLIENT_OK;
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = kc_core_begin_built(&c->core, request, build, ctx)) != KMIP_CLIENT_OK)
        return e;
    for (;;) {
        bool reused = c->conn != NULL;
        e = ensure_connected(c);
        if (e == KMIP_CLIENT_OK) /* a server speaking another version */
            e = kc_core_follow_version(&c->core, request);
        bool exchanged = e == KMIP_CLIENT_OK;
        int64_t t0 = kmip_monotonic_us();
        if (e == KMIP_CLIENT_OK)
            e = roundtrip(c);
        if (e == KMIP_CLIENT_OK) {
            kh_exchanged(c, (unsigned)(kmip_monotonic_us() - t0));
            /* refused for its version: asked again, and once more in the
             * version the server speaks now (nothing of it ran) */
            const kmip_protocol_version *pv = &request->request_header.protocol_version;
            unsigned was = (unsigned)KMIP_VERSION(pv->major, pv->minor);
            if (kc_core_version_refused(&c->core) && renegotiate(c) &&
                kc_core_resend_refused(&c->core)) {
                char line[400];
                snprintf(line, sizeof line, "the KMIP server %s refused KMIP %u.%u; it speaks "
                         "KMIP %u.%u now: the request goes again in that version", kc_host(c),
                         was >> 8, was & 0xFF, c->core.version >> 8, c->core.version & 0xFF);
                kc_log(c, 1, line);
                continue;
            }
            break;
        }
        if (c->conn) { /* the stream's state is unknown after any failure */
            kt_close(c->conn);
            c->conn = NULL;
        }
        /* the core decides: again on a new connection, on the next server
         * (logged there), or the error stands */
        kc_failure f = {.exchanged = exchanged, .reused = reused, .out_of_time = out_of_time(c)};
        if (kc_core_blames_server(&c->core, &f))
            kh_failed(c, c->cur, c->core.st.message);
        kc_next next = kc_core_failed(&c->core, &f);
        if (next == KC_NEXT_GIVE_UP)
            return c->core.st.err;
        c->stats.retries++;
        if (next == KC_NEXT_RETRY)
            kc_log(c, 2, "KMIP connection broken; retrying on a new connection");
    }
    bool reset;
    e = kc_core_finish(&c->core, response, &reset);
    if (reset && c->conn) {
        kt_close(c->conn);
        c->conn = NULL;
    }
    return e;
}

void kmip_client_release(kmip_client *c, kmip_message *response)
{
    if (c == NULL) {
        kmip_message_free(response);
        return;
    }
    kc_core_recycle(&c->core, response);
}

kmip_client_err kmip_client_call(kmip_client *c, kmip_message *request, kmip_message **response)
{
    start_operation(c);
    return call_in_budget(c, request, response, NULL, NULL);
}

kmip_client_err kc_call_built(kmip_client *c, kc_build_fn build, void *ctx,
                              kmip_message **response)
{
    *response = NULL;
    kmip_message *req;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    if ((e = build(ctx, req)) != KMIP_CLIENT_OK) {
        kmip_message_free(req);
        return kc_fail(c, e, "cannot build the request: %s", kmip_client_strerror(e));
    }
    start_operation(c);
    e = call_in_budget(c, req, response, build, ctx);
    kmip_message_free(req);
    return e;
}

/* A multi-step operation (every page of a Locate, Register then Activate)
 * under one time budget: a server that keeps answering cannot stretch it
 * page after page. Within a task deadline (kmip_client_begin_deadline: the
 * keyring's load, check and writes) each step has the operation budget and
 * the task deadline bounds them all, so that a load pages through a large
 * group (pages of 16 with Vault) within load_timeout_ms, not
 * kmip_timeout_ms. */
kmip_client_err kc_run(kmip_client *c, kc_op *op)
{
    kmip_client_err e = prepare(c);
    if (e != KMIP_CLIENT_OK) {
        op->done = true;
        op->result = e;
    }
    for (bool first = true; !op->done; first = false) {
        if (!first && c->task_deadline_ms)
            start_operation(c);
        e = c->core.version == 0 ? ensure_connected(c) : KMIP_CLIENT_OK;
        if (e != KMIP_CLIENT_OK) {
            op->done = true;
            op->result = e;
            break;
        }
        kmip_message *req = NULL;
        if (!kc_op_next(&c->core, op, &req))
            break;
        kmip_message *resp = NULL;
        e = call_in_budget(c, req, &resp, kc_op_build, op);
        kmip_message_free(req);
        kc_op_answer(&c->core, op, e, resp);
    }
    kc_op_free(op);
    return op->result;
}

/* ---- for pipeline.c ---- */

void kc_start_operation(kmip_client *c)
{
    start_operation(c);
}

unsigned kc_budget(const kmip_client *c, unsigned step_ms)
{
    return budget(c, step_ms);
}

bool kc_out_of_time(const kmip_client *c)
{
    return out_of_time(c);
}

kmip_client_err kc_ensure_connected(kmip_client *c)
{
    return ensure_connected(c);
}

const char *kc_server_name(const kmip_client *c)
{
    return kc_host(c);
}

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

/* Versions this client can speak, most preferred first. */
static const unsigned our_versions[] = {
    KMIP_VERSION(2, 1), KMIP_VERSION(2, 0), KMIP_VERSION(1, 4), KMIP_VERSION(1, 3),
    KMIP_VERSION(1, 2), KMIP_VERSION(1, 1), KMIP_VERSION(1, 0),
};

kmip_client_err kc_fail(kmip_client *c, kmip_client_err code, const char *fmt, ...)
{
    c->err = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    return code;
}

void kc_clear(kmip_client *c)
{
    c->err = KMIP_CLIENT_OK;
    c->message[0] = '\0';
    c->has_result = false;
}

void kc_log(const kmip_client *c, int level, const char *message)
{
    if (c->opt.log)
        c->opt.log(c->opt.log_ctx, level, message);
}

bool kc_uid_text(const kmip_uid *u, char *buf, size_t cap)
{
    return !u->is_enum && kmip_text_copy(u->text.data, u->text.len, buf, cap);
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
    if (c->opt.server_count == 0 || !kh_attach(c)) {
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
    kt_close(c->conn);
    kt_ctx_free(c->ctx);
    kh_detach(c);
    kmip_options_clear(&c->opt);
    kmip_secure_zero(c, sizeof *c);
    free(c);
}

const char *kmip_client_error_message(const kmip_client *c)
{
    return c->message;
}

bool kmip_client_result(const kmip_client *c, uint32_t *status, uint32_t *reason,
                        const char **message)
{
    if (!c->has_result)
        return false;
    if (status)
        *status = c->result_status;
    if (reason)
        *reason = c->result_reason;
    if (message)
        *message = c->result_message;
    return true;
}

unsigned kmip_client_version(const kmip_client *c)
{
    return c->version;
}

size_t kmip_client_server_versions(const kmip_client *c, unsigned *out, size_t cap)
{
    size_t n = c->server_version_count < cap ? c->server_version_count : cap;
    memcpy(out, c->server_versions, n * sizeof *out);
    return c->server_version_count;
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
                   .ciphersuites = c->opt.ciphersuites};
    return k;
}

static const char *operation_name(uint32_t op)
{
    const kmip_value_def *v = kmip_enum_value(kmip_enum_for_tag(KMIP_TAG_OPERATION), op);
    return v ? v->name : "an unknown operation";
}

static const char *reason_name(uint32_t reason)
{
    const kmip_value_def *v = kmip_enum_value(kmip_enum_for_tag(KMIP_TAG_RESULT_REASON), reason);
    return v ? v->name : "unknown reason";
}

/* Sends one encoded request on the open connection and decodes the reply.
 * *sent tells whether the whole request left. */
static kmip_client_err roundtrip(kmip_client *c, const uint8_t *req, size_t len,
                                 kmip_message **resp, bool *sent)
{
    kt_error e = {KMIP_CLIENT_OK, ""};
    *sent = false;
    *resp = NULL;
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (c->exchange) {
        *sent = true;
        c->stats.requests++;
        if (!c->exchange(c->exchange_ctx, req, len, &bytes, &n))
            return kc_fail(c, KMIP_CLIENT_E_CLOSED, "the exchange ended");
        if (n > c->opt.max_response) {
            free(bytes);
            return kc_fail(c, KMIP_CLIENT_E_PROTOCOL, "response larger than the limit");
        }
    } else {
        if (kt_send(c->conn, req, len, budget(c, c->opt.io_ms), &e) != KMIP_CLIENT_OK)
            return kc_fail(c, e.code, "%s", e.message);
        *sent = true;
        c->stats.requests++;
        if (kt_recv(c->conn, &bytes, &n, budget(c, c->opt.io_ms), c->opt.max_response, &e) !=
            KMIP_CLIENT_OK)
            return kc_fail(c, e.code, "%s", e.message);
    }
    kmip_msg_error merr;
    kmip_err de = kmip_message_decode(bytes, n, resp, &merr);
    kmip_secure_free(bytes, n);
    if (de != KMIP_OK)
        return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                       "malformed response from the KMIP server at %s: %s (%s)", kc_host(c),
                       merr.detail, kmip_strerror(de));
    if (!(*resp)->is_response) {
        kmip_message_free(*resp);
        *resp = NULL;
        return kc_fail(c, KMIP_CLIENT_E_PROTOCOL, "the KMIP server sent a request, not a response");
    }
    return KMIP_CLIENT_OK;
}

static bool supported(unsigned v)
{
    for (size_t i = 0; i < sizeof our_versions / sizeof our_versions[0]; i++)
        if (our_versions[i] == v)
            return true;
    return false;
}

/* Discover Versions (1.1 header, our versions in preference order); the
 * first version of the server's answer is the highest both support. A
 * server that does not know the operation gets 1.0. */
static kmip_client_err negotiate(kmip_client *c)
{
    if (c->opt.pinned_version) {
        c->version = c->opt.pinned_version;
        return KMIP_CLIENT_OK;
    }
    kmip_message *req = kmip_message_new(false, KMIP_VERSION(1, 1));
    kmip_batch_item *bi = req ? kmip_message_add_item(req, KMIP_OPERATION_DISCOVER_VERSIONS) : NULL;
    size_t nv = sizeof our_versions / sizeof our_versions[0];
    kmip_discover_versions_request *dv = bi ? bi->payload : NULL;
    if (dv)
        dv->versions = kmip_message_alloc(req, nv * sizeof *dv->versions);
    if (dv == NULL || dv->versions == NULL) {
        kmip_message_free(req);
        return kc_fail(c, KMIP_CLIENT_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nv; i++) {
        dv->versions[i].major = (int32_t)(our_versions[i] >> 8);
        dv->versions[i].minor = (int32_t)(our_versions[i] & 0xFF);
    }
    dv->version_count = nv;
    uint8_t *bytes = NULL;
    size_t len = 0;
    kmip_err ee = kmip_message_encode(req, &bytes, &len);
    kmip_message_free(req);
    if (ee != KMIP_OK)
        return kc_fail(c, KMIP_CLIENT_E_NOMEM, "cannot encode Discover Versions: %s",
                       kmip_strerror(ee));
    kmip_message *resp = NULL;
    bool sent;
    kmip_client_err e = roundtrip(c, bytes, len, &resp, &sent);
    kmip_secure_free(bytes, len);
    if (e != KMIP_CLIENT_OK)
        return e;
    const kmip_batch_item *ri = resp->item_count == 1 ? &resp->items[0] : NULL;
    /* the payload is typed by the answer's own Operation: it must be ours */
    if (ri == NULL || (ri->has_operation && ri->operation != KMIP_OPERATION_DISCOVER_VERSIONS) ||
        (ri->result_status == KMIP_RESULT_STATUS_SUCCESS && !ri->has_operation)) {
        kmip_message_free(resp);
        return kc_fail(c, KMIP_CLIENT_E_PROTOCOL, "the KMIP server's answer to Discover Versions "
                       "is not one Discover Versions batch item");
    }
    c->version = KMIP_VERSION(1, 0);
    c->server_version_count = 0;
    if (ri->result_status == KMIP_RESULT_STATUS_SUCCESS && ri->payload) {
        const kmip_discover_versions_response *r = ri->payload;
        bool chosen = false;
        for (size_t i = 0; i < r->version_count; i++) {
            unsigned v = KMIP_VERSION(r->versions[i].major & 0xFF, r->versions[i].minor & 0xFF);
            if (c->server_version_count < KMIP_CLIENT_MAX_VERSIONS)
                c->server_versions[c->server_version_count++] = v;
            if (!chosen && supported(v)) { /* the server lists its best first */
                c->version = v;
                chosen = true;
            }
        }
    } else {
        kc_log(c, 2, "the KMIP server does not support Discover Versions; using KMIP 1.0");
    }
    kmip_message_free(resp);
    return KMIP_CLIENT_OK;
}

void kc_set_exchange(kmip_client *c,
                     bool (*fn)(void *ctx, const uint8_t *req, size_t len, uint8_t **resp,
                                size_t *resp_len),
                     void *ctx)
{
    c->exchange = fn;
    c->exchange_ctx = ctx;
}

/* TCP, TLS and (once) version negotiation with one server. */
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
    if (c->version != 0)
        return KMIP_CLIENT_OK;
    kmip_client_err ne = negotiate(c);
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
    if (c->exchange)
        return c->version ? KMIP_CLIENT_OK : negotiate(c);
    if (c->conn && kt_stale(c->conn)) {
        kt_close(c->conn);
        c->conn = NULL;
    }
    if (c->conn)
        return KMIP_CLIENT_OK;
    /* several servers: in order, skipping those backing off (servers.c);
     * each costs at most the connect timeout */
    size_t order[KMIP_MAX_SERVERS];
    size_t n = kh_order(c, order);
    char all[sizeof c->message] = "";
    size_t used = 0;
    kmip_client_err e = KMIP_CLIENT_E_CONNECT;
    for (size_t k = 0; k < n; k++) {
        if (k > 0 && out_of_time(c))
            break;
        e = connect_to(c, order[k], order, k);
        if (e == KMIP_CLIENT_OK || e == KMIP_CLIENT_E_CONFIG || e == KMIP_CLIENT_E_NOMEM ||
            e == KMIP_CLIENT_E_ARG)
            return e; /* connected, or a local problem no other server solves */
        kh_failed(c, order[k], c->message);
        char name[272];
        kh_name(&c->opt.servers[order[k]], name, sizeof name);
        int w = snprintf(all + used, sizeof all - used, "%s%s: %.*s", k ? "; " : "", name,
                         (int)(600 / c->opt.server_count), c->message);
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
    unsigned version = c->version;
    unsigned versions[KMIP_CLIENT_MAX_VERSIONS];
    size_t version_count = c->server_version_count;
    memcpy(versions, c->server_versions, sizeof versions);
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
        c->version = 0;
        int64_t t0 = kmip_monotonic_us();
        e = negotiate(c); /* Discover Versions: the server answers KMIP */
        if (e == KMIP_CLIENT_OK && record)
            kh_probed(c, server, (unsigned)(kmip_monotonic_us() - t0), tls.peer_not_after);
    }
    if (record && e != KMIP_CLIENT_OK && e != KMIP_CLIENT_E_NOMEM && e != KMIP_CLIENT_E_CONFIG)
        kh_failed(c, server, c->message);
    kt_close(c->conn);
    c->conn = kept;
    c->cur = cur;
    c->has_cur = has_cur;
    c->version = version;
    c->server_version_count = version_count;
    memcpy(c->server_versions, versions, sizeof versions);
    c->deadline_ms = deadline;
    return e;
}

kmip_client_err kmip_client_probe(kmip_client *c, size_t server)
{
    kc_clear(c);
    if (c->exchange || server >= c->opt.server_count)
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
    if (c->exchange)
        return KMIP_CLIENT_OK;
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
    char why[sizeof c->message] = "";
    for (size_t k = 0; k < n && pe != KMIP_CLIENT_OK; k++) {
        pe = probe_with(c, fresh, order[k], false);
        if (pe != KMIP_CLIENT_OK) {
            char name[272];
            kh_name(&c->opt.servers[order[k]], name, sizeof name);
            size_t used = strlen(why);
            snprintf(why + used, sizeof why - used, "%s%s: %.300s", used ? "; " : "", name,
                     c->message);
        }
    }
    if (pe != KMIP_CLIENT_OK) {
        kt_ctx_free(fresh);
        return kc_fail(c, pe, "no KMIP server accepted the new credentials (%s)", why);
    }
    kc_clear(c);
    kt_close(c->conn);
    c->conn = NULL;
    kt_ctx_free(c->ctx);
    c->ctx = fresh;
    return KMIP_CLIENT_OK;
}

kmip_client_err kmip_client_connect(kmip_client *c)
{
    kc_clear(c);
    start_operation(c);
    return ensure_connected(c);
}

kmip_client_err kmip_client_request(kmip_client *c, kmip_message **request)
{
    kc_clear(c);
    *request = NULL;
    start_operation(c);
    if (c->version == 0) {
        kmip_client_err e = ensure_connected(c);
        if (e != KMIP_CLIENT_OK)
            return e;
    }
    *request = kmip_message_new(false, c->version);
    return *request ? KMIP_CLIENT_OK : kc_fail(c, KMIP_CLIENT_E_NOMEM, "out of memory");
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

static void record_result(kmip_client *c, const kmip_batch_item *ri, uint32_t op)
{
    c->has_result = true;
    c->result_status = ri->result_status;
    c->result_reason = ri->has_result_reason ? ri->result_reason : 0;
    size_t n = ri->has_result_message ? ri->result_message.len : 0;
    if (n >= sizeof c->result_message)
        n = sizeof c->result_message - 1;
    if (n)
        memcpy(c->result_message, ri->result_message.data, n);
    c->result_message[n] = '\0';
    kc_fail(c, c->result_reason == KMIP_RESULT_REASON_ITEM_NOT_FOUND ? KMIP_CLIENT_E_NOT_FOUND
                                                                     : KMIP_CLIENT_E_SERVER,
            "the KMIP server refused %s: %s%s%s%s", operation_name(op),
            ri->has_result_reason ? reason_name(c->result_reason) : "no reason given",
            n ? " (" : "", c->result_message, n ? ")" : "");
}

static bool same_id(const kmip_batch_item *a, const kmip_batch_item *b)
{
    return a->unique_batch_item_id.len == b->unique_batch_item_id.len &&
           memcmp(a->unique_batch_item_id.data, b->unique_batch_item_id.data,
                  a->unique_batch_item_id.len) == 0;
}

/* The Unique Identifier a request item names (NULL for none, or an ID
 * placeholder), and the one its answer names, for the operations whose
 * answer must name the object asked for. */
static const kmip_uid *asked_uid(const kmip_batch_item *rq)
{
    const void *p = rq->payload;
    if (p == NULL)
        return NULL;
    switch (rq->operation) {
    case KMIP_OPERATION_GET: {
        const kmip_get_request *g = p;
        return g->has_unique_identifier ? &g->unique_identifier : NULL;
    }
    case KMIP_OPERATION_GET_ATTRIBUTES: {
        const kmip_get_attributes_request *g = p;
        return g->has_unique_identifier ? &g->unique_identifier : NULL;
    }
    case KMIP_OPERATION_ACTIVATE:
    case KMIP_OPERATION_DESTROY: {
        const kmip_uid_request *u = p;
        return u->has_unique_identifier ? &u->unique_identifier : NULL;
    }
    case KMIP_OPERATION_REVOKE: {
        const kmip_revoke_request *r = p;
        return r->has_unique_identifier ? &r->unique_identifier : NULL;
    }
    default:
        return NULL;
    }
}

static const kmip_uid *answered_uid(uint32_t op, const void *p)
{
    switch (op) {
    case KMIP_OPERATION_GET:
        return &((const kmip_get_response *)p)->unique_identifier;
    case KMIP_OPERATION_GET_ATTRIBUTES:
        return &((const kmip_get_attributes_response *)p)->unique_identifier;
    case KMIP_OPERATION_ACTIVATE:
    case KMIP_OPERATION_DESTROY:
    case KMIP_OPERATION_REVOKE:
        return &((const kmip_uid_response *)p)->unique_identifier;
    default:
        return NULL;
    }
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
static bool batch_id_matches(const kmip_message *req, const kmip_batch_item *rq,
                             const kmip_batch_item *rs)
{
    if (!rs->has_unique_batch_item_id)
        return !rq->has_unique_batch_item_id || req->item_count == 1;
    return rq->has_unique_batch_item_id && same_id(rq, rs);
}

/* Every request item must be answered, in order, for its own operation,
 * and an answer about one object must name that object. */
static kmip_client_err check_response(kmip_client *c, const kmip_message *req,
                                      const kmip_message *resp)
{
    if (resp->item_count != req->item_count) {
        /* a whole-message failure comes back as a single item */
        if (resp->item_count == 1 && resp->items[0].result_status != KMIP_RESULT_STATUS_SUCCESS) {
            record_result(c, &resp->items[0], req->items[0].operation);
            return c->err;
        }
        /* a server that stopped at a failed item (Stop, or Continue not
         * honoured): the answers after it are missing, which no caller can
         * read item by item */
        if (resp->item_count > 0 && resp->item_count < req->item_count &&
            resp->items[resp->item_count - 1].result_status != KMIP_RESULT_STATUS_SUCCESS) {
            record_result(c, &resp->items[resp->item_count - 1],
                          req->items[resp->item_count - 1].operation);
            return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                           "the KMIP server stopped the batch at item %zu of %zu (%s) and "
                           "answered none after it", resp->item_count, req->item_count,
                           c->message);
        }
        return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                       "the KMIP server answered %zu batch items to a request of %zu",
                       resp->item_count, req->item_count);
    }
    kmip_client_err first = KMIP_CLIENT_OK;
    for (size_t i = 0; i < req->item_count; i++) {
        const kmip_batch_item *rq = &req->items[i], *rs = &resp->items[i];
        if (!batch_id_matches(req, rq, rs))
            return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                           "response item %zu %s", i + 1,
                           rs->has_unique_batch_item_id
                               ? "carries a Unique Batch Item ID the request did not send"
                               : "carries no Unique Batch Item ID in the answer to a batch");
        if (rs->has_operation && rs->operation != rq->operation)
            return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                           "response item %zu is for %s, the request was %s", i + 1,
                           operation_name(rs->operation), operation_name(rq->operation));
        if (rs->result_status == KMIP_RESULT_STATUS_SUCCESS) {
            /* callers read the typed payload: it exists only when the item
             * named its Operation (before the payload) and the payload
             * decoded as that operation's */
            if (rs->payload == NULL && kmip_operation_is_typed(rq->operation))
                return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                               "response item %zu (%s) succeeded without a payload of that "
                               "operation", i + 1, operation_name(rq->operation));
            const kmip_uid *asked = asked_uid(rq);
            const kmip_uid *named = rs->payload ? answered_uid(rq->operation, rs->payload) : NULL;
            if (asked && named && !same_uid(asked, named)) {
                char want[130], got[130];
                uid_shown(asked, want, sizeof want);
                uid_shown(named, got, sizeof got);
                return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                               "response item %zu (%s) names object %s, the request asked for "
                               "%s", i + 1, operation_name(rq->operation), got, want);
            }
        } else if (first == KMIP_CLIENT_OK) {
            record_result(c, rs, rq->operation);
            first = c->err;
        }
    }
    return first;
}

kmip_client_err kmip_client_call(kmip_client *c, kmip_message *request, kmip_message **response)
{
    kc_clear(c);
    *response = NULL;
    if (request == NULL || request->is_response || request->item_count == 0)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a request with at least one batch item is needed");
    start_operation(c);
    if (out_of_time(c))
        return kc_fail(c, KMIP_CLIENT_E_TIMEOUT, "no time left for %s: the deadline has passed",
                       operation_name(request->items[0].operation));
    kmip_client_err e = c->version == 0 ? ensure_connected(c) : KMIP_CLIENT_OK;
    if (e != KMIP_CLIENT_OK)
        return e;
    request->request_header.protocol_version.major = (int32_t)(c->version >> 8);
    request->request_header.protocol_version.minor = (int32_t)(c->version & 0xFF);
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
    uint8_t *bytes = NULL;
    size_t len = 0;
    kmip_err ee = kmip_message_encode(request, &bytes, &len);
    if (ee != KMIP_OK)
        return kc_fail(c, ee == KMIP_E_NOMEM ? KMIP_CLIENT_E_NOMEM : KMIP_CLIENT_E_ARG,
                       "cannot encode the request: %s", kmip_strerror(ee));
    bool safe = all_idempotent(request);
    size_t failovers_left = c->opt.server_count - 1;
    for (int attempt = 0;; attempt++) {
        bool reused = c->conn != NULL;
        e = ensure_connected(c);
        bool sent = false, exchanged = e == KMIP_CLIENT_OK;
        int64_t t0 = kmip_monotonic_us();
        if (e == KMIP_CLIENT_OK)
            e = roundtrip(c, bytes, len, response, &sent);
        if (e == KMIP_CLIENT_OK) {
            kh_exchanged(c, (unsigned)(kmip_monotonic_us() - t0));
            break;
        }
        if (c->conn) { /* the stream's state is unknown after any failure */
            kt_close(c->conn);
            c->conn = NULL;
        }
        bool broken = e == KMIP_CLIENT_E_CLOSED || e == KMIP_CLIENT_E_IO;
        bool server_failed = broken || e == KMIP_CLIENT_E_TIMEOUT || e == KMIP_CLIENT_E_TLS;
        /* a kept connection the server closed while idle is no failure of
         * the server: the first retry goes to it again; a write whose answer
         * was lost is settled by the caller against the next server */
        if (exchanged && server_failed && !(reused && attempt == 0 && broken && (!sent || safe)))
            kh_failed(c, c->cur, c->message);
        if (attempt == 0 && broken && (!sent || safe) && !out_of_time(c)) {
            c->stats.retries++;
            kc_log(c, 2, "KMIP connection broken; retrying on a new connection");
            continue;
        }
        if (exchanged && server_failed && failovers_left > 0 && (!sent || safe) &&
            !out_of_time(c)) {
            failovers_left--;
            c->stats.retries++;
            continue; /* the next connection goes to the next server (logged there) */
        }
        if (sent && !safe && e != KMIP_CLIENT_E_PROTOCOL) {
            char was[sizeof c->message];
            memcpy(was, c->message, sizeof was);
            kc_fail(c, KMIP_CLIENT_E_AMBIGUOUS,
                    "%s was sent but no response came back (%s); it may or may not have "
                    "taken effect: look the object up (Locate by its Name) before repeating it",
                    operation_name(request->items[0].operation), was);
        }
        break;
    }
    kmip_secure_free(bytes, len);
    if (e != KMIP_CLIENT_OK)
        return c->err;
    e = check_response(c, request, *response);
    /* An answer that does not match its request (count, batch item id,
     * operation, object) may be another request's: the stream can no
     * longer be trusted to be in step, so the next request gets a new
     * connection instead of the answer meant for this one. */
    if (e == KMIP_CLIENT_E_PROTOCOL && c->conn) {
        kt_close(c->conn);
        c->conn = NULL;
    }
    return e;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the client's state. */
#ifndef KMIP_CLIENT_INTERNAL_H
#define KMIP_CLIENT_INTERNAL_H

#include "core.h"
#include "kmip/kmip_client.h"
#include "servers.h"
#include "transport.h"

struct kmip_client_options {
    char *host; /* the first server (kept for messages and old callers) */
    unsigned port;
    kmip_server_addr *servers; /* every server, in order; servers[0] is host:port */
    size_t server_count;
    unsigned backoff_base_ms, backoff_cap_ms; /* 0: defaults */
    kmip_health *health;                      /* a reference, or NULL */
    char *ca_file;
    char *cert_file;
    char *key_file;
    char *key_password_file;
    char *cipher_list;  /* TLS 1.2; NULL: the default policy */
    char *ciphersuites; /* TLS 1.3; NULL: the default policy */
    unsigned connect_ms;
    unsigned io_ms;
    unsigned operation_ms; /* 0: no overall bound */
    size_t max_response;
    unsigned pinned_version;
    /* kmip_client_options_set_known_versions: per server, 0 none */
    unsigned known_version[KMIP_MAX_SERVERS];
    bool skip_verify;
    bool skip_hostname;
    kmip_log_fn log;
    void *log_ctx;
};

struct kmip_client {
    kmip_client_options opt;
    kt_ctx *ctx;
    kt_conn *conn;
    kt_abort *abort; /* kmip_client_abort's switch, thrown from any thread */
    kc_core core; /* protocol state and the error state (core.st) */
    kmip_client_stats stats;
    kmip_health *health; /* shared with other clients, or its own */
    size_t cur;          /* the server of the current (or last) connection */
    bool has_cur;
    int64_t deadline_ms; /* end of the current operation (monotonic ms), 0: none */
    int64_t task_deadline_ms; /* kmip_client_begin_deadline, 0: none */
    /* the version negotiated with each server at its last connection or
     * probe (or known from another handle: kmip_client_options_set_known_
     * versions), 0: not yet, or forgotten since: the server failed
     * (kh_failed) or refused a request for its version; asked again, it
     * may have been upgraded or downgraded meanwhile */
    unsigned server_version[KMIP_MAX_SERVERS];
    /* requests in flight (kmip_client_send: pipeline.c), oldest first, a
     * ring of KMIP_CLIENT_MAX_IN_FLIGHT; each one's sent flag says whether
     * it went out on the current connection */
    kc_armed pipe[KMIP_CLIENT_MAX_IN_FLIGHT];
    int64_t pipe_sent_us[KMIP_CLIENT_MAX_IN_FLIGHT];
    size_t pipe_head, pipe_count;
    bool pipe_reused; /* the oldest went out on a connection kept from before */
    /* the pipeline gave up: the pipe_failed_n oldest requests in flight
     * get this error (those sent after get their chance) */
    kc_status pipe_failed;
    size_t pipe_failed_n;
    /* and the versions its last Discover Versions listed (count 0: none
     * since it was forgotten, or its version came from another handle) */
    unsigned server_versions[KMIP_MAX_SERVERS][KMIP_CLIENT_MAX_VERSIONS];
    size_t server_versions_count[KMIP_MAX_SERVERS];
};

/* Forgets what is known of server i's version (kh_failed, a refusal).
 * Here, not in client.c: servers.c calls it, and client.c calls servers.c. */
static inline void kc_forget_version(kmip_client *c, size_t i)
{
    if (i >= KMIP_MAX_SERVERS)
        return;
    c->server_version[i] = 0;
    c->server_versions_count[i] = 0;
}

/* A request built by build (ctx) at the client's version, exchanged in the
 * budget of one operation, and built again by it when it must go at
 * another version (kc_core_begin_built); the request is freed. */
kmip_client_err kc_call_built(kmip_client *c, kc_build_fn build, void *ctx,
                              kmip_message **response);

/* Copies every string of src into dst (dst zeroed first). */
bool kmip_options_copy(kmip_client_options *dst, const kmip_client_options *src);
void kmip_options_clear(kmip_client_options *o);

/* Records an error in the client and returns its code. */
__attribute__((format(printf, 3, 4))) kmip_client_err kc_fail(kmip_client *c,
                                                              kmip_client_err code,
                                                              const char *fmt, ...);
/* Clears the error state at the start of a call. */
void kc_clear(kmip_client *c);
void kc_log(const kmip_client *c, int level, const char *message);

/* For pipeline.c, from client.c: the operation's budget started (as every
 * public call does), a step's timeout cut to what is left of it, whether
 * it is spent, a connection (checked for staleness: callers make sure
 * nothing is in flight on it), the current server's name. */
void kc_start_operation(kmip_client *c);
unsigned kc_budget(const kmip_client *c, unsigned step_ms);
bool kc_out_of_time(const kmip_client *c);
kmip_client_err kc_ensure_connected(kmip_client *c);
const char *kc_server_name(const kmip_client *c);
/* The answer of the exchange armed in the core, after its bytes left:
 * kt_recv and the core's decoding. */
kmip_client_err kc_receive_armed(kmip_client *c);
/* The ring of requests in flight (pipe_ring.c): the i-th oldest's armed
 * record and the time it was written; the oldest leaving (its bytes
 * wiped), which returns its request. */
kc_armed *kc_pipe_slot(kmip_client *c, size_t i);
int64_t *kc_pipe_sent_at(kmip_client *c, size_t i);
const kmip_message *kc_pipe_pop(kmip_client *c);
/* Abandons the requests in flight (their bytes wiped). */
void kc_pipe_clear(kmip_client *c);
/* The connection was closed: the requests in flight went out on it and
 * are sent again on the next one. */
void kc_pipe_unsend(kmip_client *c);

/* Runs a multi-step operation of the core to its end over the connection
 * (each step a kmip_client_call with its own time budget); frees op. */
kmip_client_err kc_run(kmip_client *c, kc_op *op);

/* Appends an Add Attribute (op KMIP_OPERATION_ADD_ATTRIBUTE) or Modify Attribute
 * batch item to m setting the Text String attribute name of uid to value
 * (current: the value replaced, 2.x Modify only; NULL otherwise). */
kmip_client_err kc_add_attribute_change(kmip_message *m, uint32_t op, const char *uid,
                                        const char *name, const char *current,
                                        const char *value);

#endif

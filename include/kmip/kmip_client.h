/* SPDX-License-Identifier: GPL-2.0-only */
/* KMIP client over mutually authenticated TLS (libkmip_client).
 *
 * A kmip_client owns one persistent TLS connection to one KMIP server. It
 * connects on first use, negotiates the protocol version (Discover Versions,
 * highest version both sides support; 1.0 when the server does not support
 * Discover Versions; or a pinned version), and reconnects on the next call
 * after the connection broke.
 *
 * Security defaults: TLS 1.2 or newer; the server certificate is verified
 * against the configured CA file and against the host name or IP address
 * (IP SANs for addresses); SNI is sent for names. A zero-initialised
 * options object means "verify". Turning a check off takes an explicit
 * setter and is logged as a warning on every connection.
 *
 * Errors: every fallible call returns a kmip_client_err and leaves the
 * details in the client: kmip_client_error_message() says what happened
 * and what to do; when the server answered with a failure,
 * kmip_client_result() gives its Result Status, Result Reason and Result
 * Message, kept apart from library errors. Nothing is global.
 *
 * Retries: Get, Get Attributes, Get Attribute List, Locate, Query and
 * Discover Versions are safe to repeat and are retried once on a fresh
 * connection when the connection fails before a response arrives. Create,
 * Register, Activate, Revoke, Destroy and attribute changes are never
 * retried: if the connection fails after the request was sent, the call
 * returns KMIP_CLIENT_E_AMBIGUOUS ("sent, outcome unknown"); the caller
 * reconciles, e.g. by Locate on the Name it gave the object.
 *
 * Threads: a kmip_client is used by one thread at a time; only
 * kmip_client_abort may come from another thread meanwhile. kmip_pool hands
 * out clients to many threads.
 *
 * Memory: strings passed in are copied. Messages returned to the caller
 * (kmip_message) are freed with kmip_message_free; key bytes returned are
 * freed with kmip_secure_free. */
#ifndef KMIP_CLIENT_H
#define KMIP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip_common.h"
#include "kmip_export.h"
#include "kmip_message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- options ---- */

typedef struct kmip_client_options kmip_client_options;

KMIP_API KMIP_MUST_CHECK kmip_client_options *kmip_client_options_new(void);
KMIP_API void kmip_client_options_free(kmip_client_options *o);
/* Host name, IPv4 or IPv6 address, and port (default 5696). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_options_set_server(kmip_client_options *o,
                                                                        const char *host,
                                                                        unsigned port);
/* PEM files: the CA that signs the server certificate, the client
 * certificate (chain) and its private key (RSA or EC, any curve OpenSSL
 * knows, P-521 included). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_options_set_ca(kmip_client_options *o,
                                                                    const char *ca_file);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_options_set_cert(kmip_client_options *o,
                                                                      const char *cert_file,
                                                                      const char *key_file);
/* A file holding the pass phrase of an encrypted client key (its first
 * line; the file is checked like the key). There is never a prompt: an
 * encrypted key without a pass phrase is a KMIP_CLIENT_E_CONFIG error. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_options_set_key_password_file(
    kmip_client_options *o, const char *path);
/* Cipher policy, in OpenSSL's syntax: tls12_list for TLS 1.2
 * (SSL_CTX_set_cipher_list), tls13_suites for TLS 1.3
 * (SSL_CTX_set_ciphersuites); NULL keeps the default: TLS 1.3's suites,
 * and for TLS 1.2 ECDHE and DHE key exchange only, AEAD suites first, then
 * the ECDHE CBC-SHA256/384 suites (PyKMIP offers no AEAD ECDHE suite for
 * RSA certificates). A list that allows a key exchange without forward
 * secrecy (static RSA) is logged as a warning on every connection setup. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_options_set_ciphers(kmip_client_options *o,
                                                                         const char *tls12_list,
                                                                         const char *tls13_suites);
/* Milliseconds; 0 keeps the default (connect 1000, read/write 30000). The
 * connect timeout bounds the TCP connect and the TLS handshake with one
 * server: a dead server costs at most that long. */
KMIP_API void kmip_client_options_set_timeouts(kmip_client_options *o, unsigned connect_ms,
                                               unsigned io_ms);
/* Upper bound for one whole operation (kmip_client_call, _connect and every
 * operation built on them): connecting, negotiating, sending, receiving and
 * a retry all share it; each step also keeps its own timeout above. When it
 * runs out the operation fails with KMIP_CLIENT_E_TIMEOUT. An operation of
 * several requests (a paged Locate, Register then Activate) shares one
 * budget; within a task deadline (kmip_client_begin_deadline) each of its
 * requests has the budget and the task deadline bounds them all. 0 (the
 * default): no overall bound. With more than one server configured, the read/write
 * timeout of one exchange is capped at this budget / (servers + 1), so that
 * a stalled server leaves room for the next one and for a check of an
 * uncertain write within the same budget. */
KMIP_API void kmip_client_options_set_operation_timeout(kmip_client_options *o, unsigned ms);
/* Largest response accepted, framed and decoded (default 1 MiB); a longer
 * one fails with KMIP_CLIENT_E_PROTOCOL ("announced a response larger than
 * the limit of N bytes"). */
KMIP_API void kmip_client_options_set_max_response(kmip_client_options *o, size_t bytes);
/* Use exactly this version (KMIP_VERSION(1, 4)) instead of negotiating. */
KMIP_API void kmip_client_options_pin_version(kmip_client_options *o, unsigned version);
/* The versions other handles found each server speaking
 * (kmip_client_known_versions of one with the same server list):
 * versions[i], 0 for none, is spoken at the first connection to server i
 * (0-based, in the configured order) without asking it (Discover
 * Versions); any other server is asked. A server that refuses a request
 * for its version is asked again (see kmip_client_call), so a stale entry
 * costs one round trip, not the request. A pinned version wins. */
KMIP_API void kmip_client_options_set_known_versions(kmip_client_options *o,
                                                     const unsigned *versions, size_t count);
/* Explicitly turn verification off. Each is logged as a warning. */
KMIP_API void kmip_client_options_insecure_skip_verify(kmip_client_options *o, bool skip);
KMIP_API void kmip_client_options_insecure_skip_hostname(kmip_client_options *o, bool skip);
KMIP_API void kmip_client_options_set_log(kmip_client_options *o, kmip_log_fn fn, void *ctx);

/* ---- several servers ----
 *
 * A client may know several servers of one cluster (servers sharing their
 * objects), all with the same TLS settings. They are tried in the configured
 * order, skipping a server that failed within its back-off window (the
 * window doubles with every failure in a row, from the base to the cap; a
 * success ends it). A connection is kept to the server that answered; when
 * it breaks, the next connection starts again from the first server, so the
 * client returns to a higher-priority server once it has recovered. When
 * every server is in its back-off window, the one whose window ends first is
 * tried anyway (one connect timeout). On a connect, TLS or I/O failure an
 * idempotent operation moves on to the next server within its own budget; a
 * non-idempotent one returns KMIP_CLIENT_E_AMBIGUOUS (the caller settles it
 * against whichever server answers next). Each failover, back-off and
 * recovery goes to the log callback with the server's name and the cause. */

#define KMIP_MAX_SERVERS 16
#define KMIP_DEFAULT_BACKOFF_BASE_MS 1000u
#define KMIP_DEFAULT_BACKOFF_CAP_MS 30000u

typedef struct kmip_server_addr {
    char host[256]; /* name or address, IPv6 without brackets */
    unsigned port;
} kmip_server_addr;

/* Parses a server list: entries "host", "host:port" or "[v6addr]:port"
 * ("[v6addr]" or a bare IPv6 address alone too) separated by commas (blanks around entries are
 * ignored); an entry without a port gets default_port (0: 5696). At most
 * KMIP_MAX_SERVERS entries, at least one. KMIP_CLIENT_E_ARG with msg naming
 * the entry and what is wrong (empty, bad port, unclosed bracket, too many). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_server_list_parse(const char *list,
                                                                unsigned default_port,
                                                                kmip_server_addr *out, size_t cap,
                                                                size_t *count, char *msg,
                                                                size_t msg_cap);
/* Sets the servers from such a list (replacing kmip_client_options_set_server). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_options_set_server_list(
    kmip_client_options *o, const char *list, unsigned default_port, char *msg, size_t msg_cap);
/* Back-off after a server failed (0 keeps a default: base 1000 ms, cap 30000 ms). */
KMIP_API void kmip_client_options_set_backoff(kmip_client_options *o, unsigned base_ms,
                                              unsigned cap_ms);

/* Health of the servers: shared by every client made from options that
 * carry it (a keyring's writer client, its lookup client, a pool), so that
 * they also share what they learn about failed servers. Thread-safe (its
 * own lock): a status reader may take a snapshot while operations run.
 * Reference counted: options and clients hold a reference; kmip_health_free
 * drops the caller's. Without one, each client keeps its own. */
typedef struct kmip_health kmip_health;
KMIP_API KMIP_MUST_CHECK kmip_health *kmip_health_new(void);
KMIP_API void kmip_health_free(kmip_health *h);
/* Another reference to h (NULL stays NULL), dropped with kmip_health_free. */
KMIP_API kmip_health *kmip_health_ref(kmip_health *h);
KMIP_API void kmip_client_options_set_health(kmip_client_options *o, kmip_health *h);

typedef enum kmip_server_state {
    KMIP_SERVER_UNTRIED = 0, /* not contacted yet */
    KMIP_SERVER_UP,          /* its last exchange succeeded */
    KMIP_SERVER_BACKING_OFF, /* failed; skipped until its window ends */
    KMIP_SERVER_DOWN         /* failed; window over, tried again at the next connection */
} kmip_server_state;
KMIP_API const char *kmip_server_state_name(kmip_server_state s); /* "up", "backing off", ... */

typedef struct kmip_server_health {
    char name[272];         /* "host:port" ("[v6]:port") */
    kmip_server_state state;
    bool current;           /* the server the last connection went to */
    long long last_success; /* Unix seconds, 0: never */
    long long last_failure; /* Unix seconds, 0: never */
    char last_error[512];   /* "" when none */
    unsigned rtt_us;        /* round trip of its last request, 0: none yet */
    unsigned long long requests;
    unsigned long long failures;  /* failed connections or exchanges */
    unsigned long long failovers; /* times a client left it for another server */
    unsigned backoff_left_ms;     /* while backing off */
    char cert_not_after[32];      /* its certificate's end of validity, "" unknown */
} kmip_server_health;

/* Copies up to cap servers' health into out; returns how many servers there are. */
KMIP_API size_t kmip_health_snapshot(kmip_health *h, kmip_server_health *out, size_t cap);
/* ---- client ---- */

typedef struct kmip_client kmip_client;

/* Copies the options; does not connect yet. NULL when out of memory, or
 * of file descriptors (each client holds one, an eventfd, for
 * kmip_client_abort). */
KMIP_API KMIP_MUST_CHECK kmip_client *kmip_client_new(const kmip_client_options *o);
KMIP_API void kmip_client_free(kmip_client *c);

/* Connects (and negotiates) now instead of at the first call. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_connect(kmip_client *c);
/* Closes the connection; the next call reconnects. */
KMIP_API void kmip_client_disconnect(kmip_client *c);
/* Aborts the client, for good: the one call of this API that another
 * thread may make while a thread uses c. The call under way (a TCP connect,
 * a TLS handshake, a send or a wait for an answer, on any server) ends at
 * once, and that call and every later one fail with KMIP_CLIENT_E_ABORTED
 * (later ones at once: nothing sent, no connection made); nothing else is
 * left to do but kmip_client_free. A request that had left (a Create, a Register) when the
 * abort came fails as any lost answer does: KMIP_CLIENT_E_AMBIGUOUS, its
 * message saying it was aborted. An abort is no failure of a server: the
 * health table (kmip_client_health) is left as it was. It neither blocks
 * nor waits for the other thread (it shuts the client's sockets down and
 * wakes its waits through a descriptor of its own, no signal); calling it
 * again is harmless. Name resolution (getaddrinfo) cannot be interrupted:
 * an abort during it takes effect when it returns. The caller makes sure c
 * is not freed while kmip_client_abort runs (e.g. both under one lock).
 * For a thread that must be joined without waiting for a connect timeout:
 * a keyring's load helpers when the keyring closes. */
KMIP_API void kmip_client_abort(kmip_client *c);
/* Reads the CA, certificate and key files again (renewed certificates)
 * and has a server accept them first (a connection of its own: TLS and
 * Discover Versions, the servers in order, the first that answers decides).
 * On success the connection is closed and the next call connects with the
 * new credentials; on failure (KMIP_CLIENT_E_CONFIG and the like, the
 * message naming the file; or the server's refusal, or no server reached)
 * the previous credentials stay in service. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_reload_credentials(kmip_client *c);

/* The last error's description ("" after success); owned by c. */
KMIP_API const char *kmip_client_error_message(const kmip_client *c);
/* The server's result for the last failed batch item: false when the last
 * error did not come from the server. message may be NULL. */
KMIP_API bool kmip_client_result(const kmip_client *c, uint32_t *status, uint32_t *reason,
                                 const char **message);

/* The version spoken with the server of the current (or last)
 * connection, negotiated or pinned; 0 before the first connection. Each
 * server has its own: a failover to a server of another version (a
 * cluster being upgraded) speaks that server's. */
KMIP_API unsigned kmip_client_version(const kmip_client *c);
/* What the server of the current (or last) connection supports, from its
 * last Discover Versions (at a connection, a probe, or after it refused a
 * request's version); count 0 if unknown: not asked since it failed, its
 * version known from another handle (kmip_client_options_set_known_
 * versions) or pinned, or a KMIP 1.0 server. Returns the count (up to
 * 16), of which at most cap go to out. */
KMIP_API size_t kmip_client_server_versions(const kmip_client *c, unsigned *out, size_t cap);
/* The version last spoken with each configured server: out[i] for server
 * i (0: not known, or forgotten since it failed or refused its version),
 * from connections and probes (kmip_client_probe). Returns the server
 * count, of which at most cap go to out. */
KMIP_API size_t kmip_client_known_versions(const kmip_client *c, unsigned *out, size_t cap);

/* Details of the current connection; KMIP_CLIENT_E_ARG when not connected. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_tls(const kmip_client *c,
                                                         kmip_client_tls_info *info);

typedef struct kmip_client_stats {
    uint64_t requests;    /* request messages sent */
    uint64_t connections; /* TLS connections opened */
    uint64_t retries;     /* idempotent requests repeated after a broken connection */
} kmip_client_stats;
KMIP_API void kmip_client_get_stats(const kmip_client *c, kmip_client_stats *s);
/* The client's server health (shared through its options or its own;
 * never NULL; see kmip_health_snapshot). */
KMIP_API kmip_health *kmip_client_health(const kmip_client *c);
/* Probes configured server `server` (0-based) on a connection of its own:
 * TLS and a Discover Versions round trip, each bounded by the connect
 * timeout. The result goes to the health table (up, or failed and backing
 * off, with its certificate end); the kept connection, the current server
 * and the negotiated version are left alone. KMIP_CLIENT_E_ARG: no such
 * server; otherwise the connect/TLS/exchange error. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_probe(kmip_client *c, size_t server);
/* The end of the client certificate in service (the one the next
 * connection presents), OpenSSL's time text; false (buf "") before the
 * first connection made the TLS context. */
KMIP_API bool kmip_client_cert_not_after(const kmip_client *c, char *buf, size_t cap);

/* ---- requests and batches ---- */

/* A new request at the client's version (connecting to learn it if needed).
 * Add items with the kmip_req_* helpers or kmip_message_add_item, then
 * kmip_client_call. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_request(kmip_client *c,
                                                             kmip_message **request);

/* Sends a request (any number of batch items) as one message and returns
 * the response. Every response item must answer the request item with the
 * same Unique Batch Item ID (or position) and operation. On success every
 * item succeeded; with KMIP_CLIENT_E_SERVER (or _NOT_FOUND) *response still
 * holds all per-item results and kmip_client_result() the first failure.
 *
 * Versions: the request goes at the version of the server it reaches
 * (its header is set to it), which may differ from the one it was built
 * at after a failover or when the server refused its version. The message
 * layer writes each version's form of what the kmip_req_add_* builders
 * make, so such a request goes as it is; one holding what another version
 * writes otherwise or not at all (a custom attribute across KMIP 1.x and
 * 2.x, a Current Attribute below 2.0, Offset Items below 1.3) fails with
 * KMIP_CLIENT_E_UNSUPPORTED before it is sent: build it again with
 * kmip_client_request and call again. (The client's own operations build
 * their requests again at the other version.) A request refused as a
 * whole for its version (Invalid Message, or a whole-message Operation
 * Not Supported: a server restarted at an older version, backends of
 * several versions behind one address) has the version asked again on the
 * same connection and, when it changed, goes once more at the new one:
 * nothing of a refused message ran, so this holds for writes too. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_call(kmip_client *c, kmip_message *request,
                                                          kmip_message **response);
/* Hands back a response this handle returned (kmip_client_call,
 * kmip_client_get, kmip_client_query, ...) once the caller is done with it:
 * wiped now, as kmip_message_free would, and kept by the handle, which
 * decodes its next response into it, so that a caller that releases its
 * responses costs no allocation per response. response may be NULL and
 * must not be used afterwards; kmip_message_free remains correct. */
KMIP_API void kmip_client_release(kmip_client *c, kmip_message *response);

/* ---- pipelining: several requests in flight on one connection ----
 * kmip_client_send writes a request and returns without waiting for its
 * answer; kmip_client_receive waits for the answer to the oldest request
 * in flight. A KMIP server answers the requests of one connection in order
 * (PyKMIP reads one request message at a time and keeps what follows), so
 * a load of many batches costs about one round trip per
 * KMIP_CLIENT_MAX_IN_FLIGHT batches instead of one per batch, on one TLS
 * connection.
 *
 * Only Gets and Get Attributes of named objects may be pipelined (every
 * item one of them, with a Unique Identifier): when the connection breaks,
 * every request in flight is sent again on a new one, as kmip_client_call
 * retries a read (once on the same server, then on the next ones), which
 * a read allows and a write would not; and their answers name the object
 * asked for, so that an answer the server skipped or repeated cannot pass
 * for the next request's (a Locate's or a Query's answer names nothing,
 * and Unique Batch Item IDs are the same in every request). At most KMIP_CLIENT_MAX_IN_FLIGHT
 * requests are in flight; they are written at once as long as the
 * requests not yet answered hold at most KMIP_CLIENT_IN_FLIGHT_BYTES (the
 * first is always written), the others as answers make room, within
 * kmip_client_receive. While the handle waits for room to write it reads
 * the answers that arrive, so a pipeline cannot stall with both sides
 * writing; the answers arriving meanwhile start the write's wait for room
 * again (the server is at work on the requests before it), within the
 * operation's budget. While requests are in flight the handle's calls that
 * connect or exchange (kmip_client_connect, kmip_client_call and every
 * operation) fail with KMIP_CLIENT_E_ARG;
 * building requests (kmip_client_request) is allowed. kmip_client_disconnect
 * and kmip_client_free abandon the requests in flight. */
#define KMIP_CLIENT_MAX_IN_FLIGHT 16
#define KMIP_CLIENT_IN_FLIGHT_BYTES ((size_t)256 * 1024)

/* Puts request in flight (borrowed until kmip_client_receive names it):
 * its header gets the client's version as with kmip_client_call. Errors:
 * KMIP_CLIENT_E_ARG (no items, an item other than those above,
 * KMIP_CLIENT_MAX_IN_FLIGHT in flight already), KMIP_CLIENT_E_NOMEM, and,
 * with nothing in flight, the errors of connecting: the request is then
 * not in flight. A failure writing it is not one of send's: the request
 * stays in flight and kmip_client_receive sends it again. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_send(kmip_client *c, kmip_message *request);
/* The answer to the oldest request in flight, which *request names (it is
 * no longer in flight), with the results kmip_client_call would give:
 * *response is there with KMIP_CLIENT_E_SERVER and _NOT_FOUND too (hand it
 * back with kmip_client_release). Each call has the operation's time
 * budget (within a task deadline, kmip_client_begin_deadline). When the
 * pipeline cannot go on (its retries spent, no server left, the budget
 * spent), the oldest request gets the error, and every request still in
 * flight gets it too, each at its own kmip_client_receive. An answer that
 * does not match its request (KMIP_CLIENT_E_PROTOCOL) drops the connection:
 * the requests after it are sent again on a new one. An answer that
 * refuses the oldest request for its version (as kmip_client_call's)
 * drops the connection too: the server's version is asked again on a new
 * one, and every request in flight goes again in the version it speaks,
 * once (a pinned version's refusal stands). KMIP_CLIENT_E_ARG with
 * *request NULL: nothing in flight. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_receive(kmip_client *c,
                                                             kmip_message **request,
                                                             kmip_message **response);
/* How many requests are waiting for kmip_client_receive: sent, waiting
 * for room, or given up (their error still to be received). */
KMIP_API size_t kmip_client_in_flight(const kmip_client *c);

/* Request builders: each appends one batch item with a Unique Batch Item
 * ID. A NULL uid leaves the Unique Identifier out: the ID placeholder,
 * the object created by the previous item. */
typedef struct kmip_key_spec {
    uint32_t object_type;          /* KMIP_OBJECT_TYPE_SYMMETRIC_KEY, _SECRET_DATA, _OPAQUE_OBJECT */
    uint32_t algorithm;            /* symmetric keys: KMIP_CRYPTOGRAPHIC_ALGORITHM_AES, ... */
    int32_t length_bits;           /* symmetric keys */
    uint32_t secret_data_type;     /* secret data: KMIP_SECRET_DATA_TYPE_PASSWORD or _SEED */
    int32_t usage_mask;            /* 0: Encrypt|Decrypt for keys, Derive Key|Export for secrets */
    const char *name;              /* Name attribute, or NULL */
    const char *object_group;      /* Object Group attribute, or NULL */
    const char *app_namespace;     /* Application Specific Information, or NULL */
    const char *app_data;
} kmip_key_spec;

KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_req_add_create(kmip_message *m,
                                                             const kmip_key_spec *spec);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_req_add_register(kmip_message *m,
                                                               const kmip_key_spec *spec,
                                                               const uint8_t *material,
                                                               size_t len);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_req_add_uid_op(kmip_message *m, uint32_t operation,
                                                             const char *uid);
/* Get asking for a Key Format Type (0: the server's default). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_req_add_get(kmip_message *m, const char *uid,
                                                          uint32_t key_format_type);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_req_add_revoke(kmip_message *m, const char *uid,
                                                             uint32_t reason_code);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_req_add_get_attributes(kmip_message *m,
                                                                     const char *uid,
                                                                     const uint32_t *tags,
                                                                     size_t count);

/* A common deadline for a task made of several operations (a write and
 * the check of its outcome): until kmip_client_end_deadline, every
 * operation ends by now + ms, whatever its own timeouts. */
KMIP_API void kmip_client_begin_deadline(kmip_client *c, unsigned ms);
KMIP_API void kmip_client_end_deadline(kmip_client *c);

/* ---- single operations ---- */

/* uid_out receives the new object's identifier (NUL-terminated). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_create(kmip_client *c,
                                                            const kmip_key_spec *spec,
                                                            char *uid_out, size_t uid_cap);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_register(kmip_client *c,
                                                              const kmip_key_spec *spec,
                                                              const uint8_t *material, size_t len,
                                                              char *uid_out, size_t uid_cap);
/* Register + Activate in one request message (the Activate names the ID
 * placeholder). A server that refuses such a message as a whole (PyKMIP
 * 0.10 parses Activate only with a Unique Identifier) executed none of it;
 * the client then uses two requests, for this and every later call.
 * uid_out is set ("" otherwise) whenever the server made the object, also
 * with the error of an Activate that failed; an answer whose Activate
 * names another object than the Register made is KMIP_CLIENT_E_PROTOCOL. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_register_activate(
    kmip_client *c, const kmip_key_spec *spec, const uint8_t *material, size_t len, char *uid_out,
    size_t uid_cap);
/* Server-side generation: Create + Activate + Get in one request message
 * (ID placeholders), with the same fallback as kmip_client_register_activate
 * (three requests) for servers that refuse placeholders. The key bytes are
 * returned in *key (kmip_secure_free(*key, *len)). If Create succeeded but
 * a later step failed, uid_out names the object with the error; Activate
 * or Get answers naming another object than the Create made are
 * KMIP_CLIENT_E_PROTOCOL, and no key is returned. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_create_activate_get(
    kmip_client *c, const kmip_key_spec *spec, char *uid_out, size_t uid_cap, uint8_t **key,
    size_t *len);
/* Key bytes of a Symmetric Key, Secret Data or Opaque Object (Raw or
 * Opaque format); *key freed with kmip_secure_free(*key, *len). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_get_key(kmip_client *c, const char *uid,
                                                             uint8_t **key, size_t *len,
                                                             uint32_t *object_type);
/* The same asking for a Key Format Type (KMIP_KEY_FORMAT_TYPE_RAW; 0: the
 * server's default). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_get_key_as(kmip_client *c, const char *uid,
                                                                uint32_t key_format_type,
                                                                uint8_t **key, size_t *len,
                                                                uint32_t *object_type);
/* The whole Get response (for other objects and formats). */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_get(kmip_client *c, const char *uid,
                                                         kmip_message **response);
/* tags NULL/count 0: all attributes. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_get_attributes(kmip_client *c,
                                                                    const char *uid,
                                                                    const uint32_t *tags,
                                                                    size_t count,
                                                                    kmip_message **response);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_get_attribute_list(kmip_client *c,
                                                                        const char *uid,
                                                                        kmip_message **response);
/* Adds or modifies a Text String attribute: a custom one ("x-name") or
 * Object Group, Contact Information, Description and the like. For Modify,
 * `current` names the instance to change (2.x Current Attribute; a
 * multi-valued attribute needs it there); 1.x changes the first instance and
 * ignores it. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_add_attribute(kmip_client *c,
                                                                   const char *uid,
                                                                   const char *name,
                                                                   const char *value);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_modify_attribute(kmip_client *c,
                                                                      const char *uid,
                                                                      const char *name,
                                                                      const char *current,
                                                                      const char *value);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_activate(kmip_client *c, const char *uid);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_revoke(kmip_client *c, const char *uid,
                                                            uint32_t reason_code);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_destroy(kmip_client *c, const char *uid);
/* Revoke (Cessation of Operation) + Destroy in one request message. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_revoke_destroy(kmip_client *c,
                                                                    const char *uid);

/* Locate filter: any field left 0/NULL is not part of the filter. */
typedef struct kmip_locate_filter {
    const char *name;
    const char *object_group;
    uint32_t object_type;
    uint32_t state;
    const char *app_namespace;
    const char *app_data;
    int32_t page_size; /* Maximum Items per request; 0: 256 */
} kmip_locate_filter;

/* Calls fn for every identifier found, asking page after page (Offset
 * Items) until a short page comes back; Located Items is not trusted.
 * fn returns false to stop early. Needs KMIP 1.3+ for more than one page;
 * on older versions one request without Maximum Items is sent. */
typedef bool (*kmip_uid_fn)(void *ctx, const char *uid, size_t len);
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_locate(kmip_client *c,
                                                            const kmip_locate_filter *filter,
                                                            kmip_uid_fn fn, void *ctx);

/* Query: operations and object types the server supports, its vendor id. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_client_query(kmip_client *c,
                                                           kmip_message **response);

/* ---- pool ---- */

typedef struct kmip_pool kmip_pool;

/* Up to `size` clients created from the options on demand. Thread-safe:
 * acquire blocks until a client is free (at most timeout_ms, 0 = wait). */
KMIP_API KMIP_MUST_CHECK kmip_pool *kmip_pool_new(const kmip_client_options *o, size_t size);
KMIP_API void kmip_pool_free(kmip_pool *p);
KMIP_API KMIP_MUST_CHECK kmip_client *kmip_pool_acquire(kmip_pool *p, unsigned timeout_ms);
KMIP_API void kmip_pool_release(kmip_pool *p, kmip_client *c);

#ifdef __cplusplus
}
#endif
#endif

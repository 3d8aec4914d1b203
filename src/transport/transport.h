/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: TCP + TLS transport for the KMIP client (OpenSSL 3). OpenSSL
 * types stay inside src/transport; the client sees opaque handles. */
#ifndef KMIP_TRANSPORT_H
#define KMIP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_common.h"

/* An abort switch (the client's, kmip_client_abort): once thrown, from any
 * thread, kt_connect and every wait of kt_connect, kt_send, kt_recv and
 * kt_stale on a connection made with it (kt_config.abort) end at once with
 * KMIP_CLIENT_E_ABORTED, and so does every later call: it is never reset.
 * A thrown switch also shuts the sockets of those connections down. Name
 * resolution (getaddrinfo) is not interrupted: an abort during it takes
 * effect when it returns. kt_abort_new: NULL when out of memory or file
 * descriptors. kt_abort_free: once no connection made with it is open and
 * no thread can throw it any more. */
typedef struct kt_abort kt_abort;
kt_abort *kt_abort_new(void);
void kt_abort_free(kt_abort *a);
void kt_abort_fire(kt_abort *a);
bool kt_abort_fired(const kt_abort *a);

typedef struct kt_config {
    const char *host;
    unsigned port;
    const char *ca_file;
    const char *cert_file;
    const char *key_file;
    unsigned connect_ms;
    unsigned io_ms;
    size_t max_response;
    bool skip_verify;
    bool skip_hostname;
    kmip_log_fn log;
    void *log_ctx;
    const char *key_password_file;
    const char *cipher_list;  /* NULL: default policy */
    const char *ciphersuites; /* NULL: default policy */
    kt_abort *abort;          /* NULL: the waits cannot be aborted */
} kt_config;

typedef struct kt_error {
    kmip_client_err code;
    char message[512];
} kt_error;

typedef struct kt_ctx kt_ctx;
typedef struct kt_conn kt_conn;

/* Loads the CA, certificate and key into a TLS context (TLS 1.2 minimum). */
kmip_client_err kt_ctx_new(const kt_config *cfg, kt_ctx **out, kt_error *err);
void kt_ctx_free(kt_ctx *ctx);
/* The end of the context's own (client) certificate, OpenSSL's time text
 * ("Dec  1 12:00:00 2026 GMT"); "" when there is none. */
void kt_ctx_cert_not_after(const kt_ctx *ctx, char *out, size_t cap);

/* TCP connect (connect timeout) and TLS handshake with verification. */
kmip_client_err kt_connect(kt_ctx *ctx, const kt_config *cfg, kt_conn **out, kt_error *err);
void kt_close(kt_conn *c);
/* The most requests a client keeps in flight on one connection
 * (KMIP_CLIENT_MAX_IN_FLIGHT, checked equal in the client): kt_send keeps
 * as many answers as arrive while it writes. */
#define KT_MAX_IN_FLIGHT 16
/* Writes all of data, waiting at most io_ms for room at a time and never
 * past until (monotonic ms, 0: no bound). While it waits for room it reads what
 * the server sends (the answers to requests in flight before this one)
 * and keeps it for kt_recv, so that a pipeline cannot stall with both
 * sides writing; the server sending more than KT_MAX_IN_FLIGHT + 1 whole
 * answers of the largest size meanwhile is KMIP_CLIENT_E_PROTOCOL. Answers
 * arriving start the io_ms wait again: the server is at work on the
 * requests before this one. */
kmip_client_err kt_send(kt_conn *c, const uint8_t *data, size_t len, unsigned io_ms,
                        int64_t until, kt_error *err);
/* True when len bytes of application data would fit the socket's send
 * buffer now (what is queued in it and TLS's overhead counted), so that a
 * kt_send of them does not wait for the server to read: a pipeline
 * writes a request behind unanswered ones only then, so that waiting for
 * room never keeps it from taking the answer it waits for (review s7
 * R7-2: on a slow link with small buffers, writing the next requests took
 * the oldest answer's whole budget). Two system calls. */
bool kt_room_for(kt_conn *c, size_t len);
/* Reads one whole TTLV message within io_ms (framer, size limit); the
 * caller frees *msg with kmip_secure_free. The wait for the answer is the
 * first read itself (a blocking recv bounded by SO_RCVTIMEO, at most
 * io_ms); any later wait is a poll up to the same deadline. Whatever
 * arrived behind the message stays buffered: for the next kt_recv (a
 * pipeline's next answer) or kt_stale. Bytes kt_send read come first. */
kmip_client_err kt_recv(kt_conn *c, uint8_t **msg, size_t *len, unsigned io_ms, size_t max,
                        kt_error *err);
/* How long kt_stale waits for the rest of a TLS record that arrived in
 * part (a session ticket split across segments) before it calls the
 * connection stale. */
#define KT_PARTIAL_RECORD_WAIT_MS 20
/* True when the peer has closed, sent an alert, or sent application data
 * while idle (a response nobody asked for: the stream can no longer be
 * matched to requests); looks at the bytes the transport read ahead and
 * OpenSSL's buffered records first (no system call), then, only when both
 * are empty, the socket (one recv with MSG_DONTWAIT). TLS records without
 * application data (TLS 1.3 session tickets, KeyUpdate) are consumed and
 * do not make a connection stale. Called before every request. */
bool kt_stale(kt_conn *c);
void kt_info(const kt_conn *c, kmip_client_tls_info *info);

#endif

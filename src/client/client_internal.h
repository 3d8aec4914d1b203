/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the client's state. */
#ifndef KMIP_CLIENT_INTERNAL_H
#define KMIP_CLIENT_INTERNAL_H

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
    bool skip_verify;
    bool skip_hostname;
    kmip_log_fn log;
    void *log_ctx;
};

#define KMIP_CLIENT_MAX_VERSIONS 16

struct kmip_client {
    kmip_client_options opt;
    kt_ctx *ctx;
    kt_conn *conn;
    unsigned version; /* 0 until negotiated */
    unsigned server_versions[KMIP_CLIENT_MAX_VERSIONS];
    size_t server_version_count;
    kmip_client_stats stats;
    kmip_health *health; /* shared with other clients, or its own */
    size_t cur;          /* the server of the current (or last) connection */
    bool has_cur;
    int64_t deadline_ms; /* end of the current operation (monotonic ms), 0: none */
    int64_t task_deadline_ms; /* kmip_client_begin_deadline, 0: none */
    /* fuzzing and unit tests only: answers requests instead of a server */
    bool (*exchange)(void *ctx, const uint8_t *req, size_t len, uint8_t **resp, size_t *resp_len);
    void *exchange_ctx;
    /* the server refused a request using an ID placeholder as a whole
     * (PyKMIP 0.10 parses Activate only with a Unique Identifier) */
    bool placeholders_rejected;
    /* last error */
    kmip_client_err err;
    char message[1024];
    bool has_result;
    uint32_t result_status;
    uint32_t result_reason;
    char result_message[256];
};

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

/* For the fuzz target (fuzz/fuzz_client.c): requests are handed to fn,
 * which returns the response bytes (malloc'd; false: the connection broke)
 * instead of a TLS connection. Not part of the public API. */
void kc_set_exchange(kmip_client *c,
                     bool (*fn)(void *ctx, const uint8_t *req, size_t len, uint8_t **resp,
                                size_t *resp_len),
                     void *ctx);

/* Text of a kmip_uid into buf (NUL-terminated); false if it does not fit. */
bool kc_uid_text(const kmip_uid *u, char *buf, size_t cap);
/* Appends an Add Attribute (op KMIP_OPERATION_ADD_ATTRIBUTE) or Modify Attribute
 * batch item to m setting the Text String attribute name of uid to value
 * (current: the value replaced, 2.x Modify only; NULL otherwise). */
kmip_client_err kc_add_attribute_change(kmip_message *m, uint32_t op, const char *uid,
                                        const char *name, const char *current,
                                        const char *value);

#endif

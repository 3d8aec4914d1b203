/* SPDX-License-Identifier: GPL-2.0-only */
/* What the transport and the client share (libkmip_client): the error
 * codes, the log callback, the TLS details of a connection and the checked
 * file reader. The transport (below the client) includes only this header,
 * so no arrow points from src/transport up to the client; kmip_client.h
 * includes it, so callers of the client see the same names as before.
 * The contract of each error code is in kmip_client.h. */
#ifndef KMIP_COMMON_H
#define KMIP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip_export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kmip_client_err {
    KMIP_CLIENT_OK = 0,
    KMIP_CLIENT_E_NOMEM,
    KMIP_CLIENT_E_ARG,        /* invalid argument or option */
    KMIP_CLIENT_E_CONFIG,     /* certificate, key or CA file unusable */
    KMIP_CLIENT_E_CONNECT,    /* cannot reach the server (DNS, refused, unreachable) */
    KMIP_CLIENT_E_TIMEOUT,    /* connect, read or write took longer than allowed */
    KMIP_CLIENT_E_TLS,        /* TLS handshake refused by either side */
    KMIP_CLIENT_E_TLS_VERIFY, /* the server's certificate failed verification */
    KMIP_CLIENT_E_CLOSED,     /* the server closed the connection */
    KMIP_CLIENT_E_IO,         /* read or write failed */
    KMIP_CLIENT_E_PROTOCOL,   /* the server's response is malformed or does not match */
    KMIP_CLIENT_E_SERVER,     /* the server answered with a failure result */
    KMIP_CLIENT_E_AMBIGUOUS,  /* request sent, response lost: outcome unknown */
    KMIP_CLIENT_E_NOT_FOUND,  /* the server holds no such object (Item Not Found) */
    KMIP_CLIENT_E_UNSUPPORTED,
    KMIP_CLIENT_E_TLS_PROTOCOL, /* the server offers no TLS version we accept (1.2 or newer) */
    KMIP_CLIENT_E_ABORTED,      /* kmip_client_abort was called: the client is done */
    KMIP_CLIENT_E__COUNT
} kmip_client_err;

KMIP_API const char *kmip_client_strerror(kmip_client_err err);

/* Log callback: level 0 error, 1 warning, 2 info. */
typedef void (*kmip_log_fn)(void *ctx, int level, const char *message);

/* Details of one TLS connection (kmip_client_tls). */
typedef struct kmip_client_tls_info {
    char protocol[16];     /* "TLSv1.2" */
    char cipher[64];
    char peer_subject[256];
    char peer_not_after[32]; /* "2026-11-29 12:00:00 UTC" */
} kmip_client_tls_info;

/* ---- files ---- */

/* A whole file read by kmip_file_read: data is NUL-terminated (len bytes
 * before the NUL); mode and owner come from the descriptor it was read
 * through. kmip_file_free wipes data (keys, pass phrases) and frees it. */
typedef struct kmip_file {
    uint8_t *data;
    size_t len, cap;
    unsigned mode;  /* st_mode */
    unsigned owner; /* st_uid */
    int error;      /* errno when the file could not be opened (ENOENT, ...) */
} kmip_file;

/* Opens path once without blocking (O_NONBLOCK: a FIFO does not wait for a
 * writer), checks through the descriptor that it is a regular file of at
 * most max bytes, and reads it. Errors: KMIP_CLIENT_E_CONFIG (missing,
 * unreadable, a FIFO, device, directory or socket, too large: msg names the
 * file and says which), KMIP_CLIENT_E_NOMEM, KMIP_CLIENT_E_ARG. This is how
 * the client reads the CA, certificate, key and pass phrase files. */
KMIP_API KMIP_MUST_CHECK kmip_client_err kmip_file_read(const char *path, size_t max,
                                                        kmip_file *f, char *msg, size_t cap);
KMIP_API void kmip_file_free(kmip_file *f);

/* ---- client key ---- */

/* What a client key file is, as the TLS context finds it when it loads
 * the key (kmip_key_check). */
typedef enum kmip_key_verdict {
    KMIP_KEY_OK = 0,          /* a private key (the certificate's, when one was given) */
    KMIP_KEY_ENCRYPTED,       /* encrypted, and no pass phrase was given */
    KMIP_KEY_BAD_PASS_PHRASE, /* the pass phrase given does not decrypt it */
    KMIP_KEY_NONE,            /* it holds no PEM private key */
    KMIP_KEY_NO_CERTIFICATE,  /* the certificate file holds no PEM certificate */
    KMIP_KEY_MISMATCH,        /* the key is not the certificate's */
    KMIP_KEY_NOMEM,
} kmip_key_verdict;

/* The checks the client makes of its key when it connects, made ahead of
 * it (a configuration reader): key (a PEM file's bytes) decrypted with the
 * pass phrase pass/pass_len (pass NULL: none given; nothing ever prompts)
 * and, when cert is not NULL, compared with the first PEM certificate of
 * cert (does the key belong to it). Nothing is kept; OpenSSL's error queue
 * is left for the caller. */
KMIP_API KMIP_MUST_CHECK kmip_key_verdict kmip_key_check(const kmip_file *key, const char *pass,
                                                         size_t pass_len, const kmip_file *cert);

#ifdef __cplusplus
}
#endif

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the KMIP client options a keyring configuration sets beyond
 * server, CA and certificate (the client key's pass phrase file, the
 * cipher policy), and where the client's log messages go: into the diag
 * while a keyring state opens (the front end shows them with the other
 * open diagnostics), to the front end's logger afterwards (krk_config.log;
 * stderr, the database server's error log, when there is none). */
#ifndef KRK_CLIENT_OPTS_H
#define KRK_CLIENT_OPTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "keyring_kmip/krk_config.h"
#include "kmip/kmip_client.h"

typedef struct krk_log_sink {
    krk_log_fn fn;
    void *ctx;
    krk_diag *diag; /* while opening; NULL afterwards */
    /* Held around every write to diag when not NULL: while a load runs, its
     * helper threads write the same diag under the load's lock (review of
     * issue 17 s4, R3-4: two writers could pass krk_warn's count check
     * together and write past the warnings array). */
    pthread_mutex_t *diag_lock;
} krk_log_sink;

/* Sets the pass phrase file, the cipher policy and the log callback (to
 * sink, which must outlive the client). False when out of memory. */
bool krk_client_tls_options(kmip_client_options *o, const krk_config *cfg, krk_log_sink *sink);

/* At the start of an open or reload: repeats the configuration reader's
 * warnings in d (they must reach the operator at every open); returns a
 * mark for krk_open_diag_end. */
uint64_t krk_open_diag_begin(const krk_config *cfg, krk_diag *d);
/* At its end: a warning when keys had to go to ordinary memory since. */
void krk_open_diag_end(uint64_t mark, krk_diag *d);

/* KRK_E_TLS_IDENTITY when the client refused the server's identity
 * (certificate, name, TLS version), else KRK_E_KMIP. */
krk_err krk_kmip_code(kmip_client_err e);

/* For status: "certificate and host name verified", or what is off. */
const char *krk_verification_text(const krk_config *cfg);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The keyring configuration's TLS options handed to the KMIP client, and
 * the route of the client's log messages to the operator. */
#include "client_opts.h"

#include <stdio.h>

#include "diag.h"
#include "secure.h"

static void client_log(void *ctx, int level, const char *message)
{
    krk_log_sink *s = ctx;
    if (s->diag && level <= 1) {
        if (s->diag_lock)
            pthread_mutex_lock(s->diag_lock);
        krk_warn(s->diag, "%s", message);
        if (s->diag_lock)
            pthread_mutex_unlock(s->diag_lock);
    } else if (s->fn) {
        s->fn(s->ctx, level, message);
    } else if (level <= 1) {
        fprintf(stderr, "keyring_kmip: %s: %s\n", level == 0 ? "error" : "warning", message);
    }
}

bool krk_client_tls_options(kmip_client_options *o, const krk_config *cfg, krk_log_sink *sink)
{
    const char *pw = cfg->client_key_password_file[0] ? cfg->client_key_password_file : NULL;
    const char *list = cfg->tls_cipher_list[0] ? cfg->tls_cipher_list : NULL;
    const char *suites = cfg->tls_ciphersuites[0] ? cfg->tls_ciphersuites : NULL;
    kmip_client_options_set_log(o, client_log, sink);
    return (pw == NULL || kmip_client_options_set_key_password_file(o, pw) == KMIP_CLIENT_OK) &&
           kmip_client_options_set_ciphers(o, list, suites) == KMIP_CLIENT_OK;
}

uint64_t krk_open_diag_begin(const krk_config *cfg, krk_diag *d)
{
    size_t n = cfg->warning_count < KRK_DIAG_WARNINGS ? cfg->warning_count : KRK_DIAG_WARNINGS;
    for (size_t i = 0; i < n; i++)
        krk_warn(d, "%s", cfg->warnings[i]);
    krk_secure_status s;
    krk_secure_status_get(&s);
    return s.ordinary_allocations;
}

void krk_open_diag_end(uint64_t mark, krk_diag *d)
{
    krk_secure_status s;
    krk_secure_status_get(&s);
    if (s.ordinary_allocations > mark)
        krk_warn(d, "%llu keys are held in ordinary memory, wiped on free but not excluded from "
                 "core dumps nor locked: the keyring's arena (%zu MiB) is full or could not be "
                 "mapped", (unsigned long long)(s.ordinary_allocations - mark),
                 (size_t)(KRK_ARENA_MAX_BYTES >> 20));
}

const char *krk_verification_text(const krk_config *cfg)
{
    if (!cfg->tls_peer_verification)
        return "OFF: the server's certificate is not verified (tls_peer_verification false)";
    if (!cfg->tls_hostname_verification)
        return "partly off: certificate verified, host name not (tls_hostname_verification "
               "false)";
    return "certificate and host name verified";
}

krk_err krk_kmip_code(kmip_client_err e)
{
    return e == KMIP_CLIENT_E_TLS_VERIFY || e == KMIP_CLIENT_E_TLS_PROTOCOL ? KRK_E_TLS_IDENTITY
                                                                           : KRK_E_KMIP;
}

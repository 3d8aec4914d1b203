/* SPDX-License-Identifier: GPL-2.0-only */
/* Client options: an opaque object configured through setters. Zeroed
 * means secure: verification on, TLS 1.2 minimum, default timeouts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

kmip_client_options *kmip_client_options_new(void)
{
    kmip_client_options *o = calloc(1, sizeof *o);
    if (o)
        o->port = 5696;
    return o;
}

void kmip_options_clear(kmip_client_options *o)
{
    free(o->host);
    free(o->ca_file);
    free(o->cert_file);
    free(o->key_file);
    free(o->key_password_file);
    free(o->cipher_list);
    free(o->ciphersuites);
    free(o->servers);
    kmip_health_free(o->health);
    memset(o, 0, sizeof *o);
}

void kmip_client_options_free(kmip_client_options *o)
{
    if (o == NULL)
        return;
    kmip_options_clear(o);
    free(o);
}

static bool dup_into(char **dst, const char *src)
{
    char *copy = NULL;
    if (src && (copy = strdup(src)) == NULL)
        return false;
    free(*dst);
    *dst = copy;
    return true;
}

bool kmip_options_copy(kmip_client_options *dst, const kmip_client_options *src)
{
    memset(dst, 0, sizeof *dst);
    *dst = *src;
    dst->host = dst->ca_file = dst->cert_file = dst->key_file = NULL;
    dst->key_password_file = dst->cipher_list = dst->ciphersuites = NULL;
    dst->servers = NULL;
    dst->health = kh_options_ref(src->health);
    if (src->server_count) {
        dst->servers = malloc(src->server_count * sizeof *dst->servers);
        if (dst->servers == NULL) {
            kmip_options_clear(dst);
            return false;
        }
        memcpy(dst->servers, src->servers, src->server_count * sizeof *dst->servers);
    }
    if (!dup_into(&dst->host, src->host) || !dup_into(&dst->ca_file, src->ca_file) ||
        !dup_into(&dst->cert_file, src->cert_file) || !dup_into(&dst->key_file, src->key_file) ||
        !dup_into(&dst->key_password_file, src->key_password_file) ||
        !dup_into(&dst->cipher_list, src->cipher_list) ||
        !dup_into(&dst->ciphersuites, src->ciphersuites)) {
        kmip_options_clear(dst);
        return false;
    }
    return true;
}

kmip_client_err kmip_client_options_set_server(kmip_client_options *o, const char *host,
                                               unsigned port)
{
    if (o == NULL || host == NULL || host[0] == '\0' || strlen(host) > 253 || port > 65535)
        return KMIP_CLIENT_E_ARG;
    /* "[::1]" is accepted for an IPv6 address */
    size_t n = strlen(host);
    char plain[256];
    if (host[0] == '[' && host[n - 1] == ']' && n > 2) {
        memcpy(plain, host + 1, n - 2);
        plain[n - 2] = '\0';
        host = plain;
    }
    kmip_server_addr *one = calloc(1, sizeof *one);
    if (one == NULL || !dup_into(&o->host, host)) {
        free(one);
        return KMIP_CLIENT_E_NOMEM;
    }
    o->port = port ? port : 5696;
    snprintf(one->host, sizeof one->host, "%s", host);
    one->port = o->port;
    free(o->servers);
    o->servers = one;
    o->server_count = 1;
    return KMIP_CLIENT_OK;
}

kmip_client_err kmip_client_options_set_ca(kmip_client_options *o, const char *ca_file)
{
    if (o == NULL)
        return KMIP_CLIENT_E_ARG;
    return dup_into(&o->ca_file, ca_file) ? KMIP_CLIENT_OK : KMIP_CLIENT_E_NOMEM;
}

kmip_client_err kmip_client_options_set_cert(kmip_client_options *o, const char *cert_file,
                                             const char *key_file)
{
    if (o == NULL || (cert_file == NULL) != (key_file == NULL))
        return KMIP_CLIENT_E_ARG;
    return dup_into(&o->cert_file, cert_file) && dup_into(&o->key_file, key_file)
               ? KMIP_CLIENT_OK
               : KMIP_CLIENT_E_NOMEM;
}

kmip_client_err kmip_client_options_set_key_password_file(kmip_client_options *o,
                                                          const char *path)
{
    if (o == NULL || (path && path[0] == '\0'))
        return KMIP_CLIENT_E_ARG;
    return dup_into(&o->key_password_file, path) ? KMIP_CLIENT_OK : KMIP_CLIENT_E_NOMEM;
}

kmip_client_err kmip_client_options_set_ciphers(kmip_client_options *o, const char *tls12_list,
                                                const char *tls13_suites)
{
    if (o == NULL || (tls12_list && tls12_list[0] == '\0') ||
        (tls13_suites && tls13_suites[0] == '\0'))
        return KMIP_CLIENT_E_ARG;
    return dup_into(&o->cipher_list, tls12_list) && dup_into(&o->ciphersuites, tls13_suites)
               ? KMIP_CLIENT_OK
               : KMIP_CLIENT_E_NOMEM;
}

void kmip_client_options_set_timeouts(kmip_client_options *o, unsigned connect_ms, unsigned io_ms)
{
    o->connect_ms = connect_ms;
    o->io_ms = io_ms;
}

void kmip_client_options_set_operation_timeout(kmip_client_options *o, unsigned ms)
{
    o->operation_ms = ms;
}

void kmip_client_options_set_max_response(kmip_client_options *o, size_t bytes)
{
    o->max_response = bytes;
}

void kmip_client_options_pin_version(kmip_client_options *o, unsigned version)
{
    o->pinned_version = version;
}

void kmip_client_options_set_known_versions(kmip_client_options *o, const unsigned *versions,
                                            size_t count)
{
    memset(o->known_version, 0, sizeof o->known_version);
    for (size_t i = 0; versions && i < count && i < KMIP_MAX_SERVERS; i++)
        o->known_version[i] = versions[i];
}

void kmip_client_options_insecure_skip_verify(kmip_client_options *o, bool skip)
{
    o->skip_verify = skip;
}

void kmip_client_options_insecure_skip_hostname(kmip_client_options *o, bool skip)
{
    o->skip_hostname = skip;
}

void kmip_client_options_set_log(kmip_client_options *o, kmip_log_fn fn, void *ctx)
{
    o->log = fn;
    o->log_ctx = ctx;
}

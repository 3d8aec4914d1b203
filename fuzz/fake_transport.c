/* SPDX-License-Identifier: GPL-2.0-only */
/* A transport without sockets for fuzz_client (src/transport/transport.h's
 * functions): every connection succeeds, and every kt_recv answers with
 * the fuzz input's canned response, at most four times per input; then
 * the connection breaks. It replaces src/transport in that target only,
 * so the blocking client runs unchanged above it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "transport.h"

struct kt_ctx {
    int unused;
};

struct kt_conn {
    int unused;
};

static const uint8_t *canned;
static size_t canned_len;
static int answers_left;

void fake_transport_answer(const uint8_t *data, size_t len, int times)
{
    canned = data;
    canned_len = len;
    answers_left = times;
}

static kmip_client_err fail(kt_error *err, kmip_client_err code, const char *message)
{
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", message);
    return code;
}

kmip_client_err kt_ctx_new(const kt_config *cfg, kt_ctx **out, kt_error *err)
{
    (void)cfg;
    *out = calloc(1, sizeof **out);
    return *out ? KMIP_CLIENT_OK : fail(err, KMIP_CLIENT_E_NOMEM, "out of memory");
}

void kt_ctx_free(kt_ctx *ctx)
{
    free(ctx);
}

void kt_ctx_cert_not_after(const kt_ctx *ctx, char *out, size_t cap)
{
    (void)ctx;
    if (cap)
        out[0] = '\0';
}

kmip_client_err kt_connect(kt_ctx *ctx, const kt_config *cfg, kt_conn **out, kt_error *err)
{
    (void)ctx;
    (void)cfg;
    *out = calloc(1, sizeof **out);
    return *out ? KMIP_CLIENT_OK : fail(err, KMIP_CLIENT_E_NOMEM, "out of memory");
}

void kt_close(kt_conn *c)
{
    free(c);
}

kmip_client_err kt_send(kt_conn *c, const uint8_t *data, size_t len, unsigned io_ms,
                        int64_t until, kt_error *err)
{
    (void)c;
    (void)data;
    (void)len;
    (void)io_ms;
    (void)until;
    (void)err;
    return KMIP_CLIENT_OK;
}

/* Every write fits: a pipeline writes its requests at once. */
bool kt_room_for(kt_conn *c, size_t len)
{
    (void)c;
    (void)len;
    return true;
}

kmip_client_err kt_recv(kt_conn *c, uint8_t **msg, size_t *len, unsigned io_ms, size_t max,
                        kt_error *err)
{
    (void)c;
    (void)io_ms;
    *msg = NULL;
    *len = 0;
    if (answers_left-- <= 0)
        return fail(err, KMIP_CLIENT_E_CLOSED, "the fuzz input has no more answers");
    if (canned_len > max)
        return fail(err, KMIP_CLIENT_E_PROTOCOL, "response larger than the limit");
    *msg = malloc(canned_len ? canned_len : 1);
    if (*msg == NULL)
        return fail(err, KMIP_CLIENT_E_NOMEM, "out of memory");
    if (canned_len)
        memcpy(*msg, canned, canned_len);
    *len = canned_len;
    return KMIP_CLIENT_OK;
}

bool kt_stale(kt_conn *c)
{
    (void)c;
    return false;
}

void kt_info(const kt_conn *c, kmip_client_tls_info *info)
{
    (void)c;
    memset(info, 0, sizeof *info);
}

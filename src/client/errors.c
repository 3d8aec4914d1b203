/* SPDX-License-Identifier: GPL-2.0-only */
#include <stddef.h>

#include "kmip/kmip_client.h"

static const char *const messages[KMIP_CLIENT_E__COUNT] = {
    [KMIP_CLIENT_OK] = "success",
    [KMIP_CLIENT_E_NOMEM] = "out of memory",
    [KMIP_CLIENT_E_ARG] = "invalid argument",
    [KMIP_CLIENT_E_CONFIG] = "certificate, key or CA file unusable",
    [KMIP_CLIENT_E_CONNECT] = "cannot connect to the KMIP server",
    [KMIP_CLIENT_E_TIMEOUT] = "timed out",
    [KMIP_CLIENT_E_TLS] = "TLS handshake refused",
    [KMIP_CLIENT_E_TLS_VERIFY] = "server certificate verification failed",
    [KMIP_CLIENT_E_CLOSED] = "connection closed by the KMIP server",
    [KMIP_CLIENT_E_IO] = "network I/O error",
    [KMIP_CLIENT_E_PROTOCOL] = "malformed or mismatched response from the KMIP server",
    [KMIP_CLIENT_E_SERVER] = "the KMIP server reported a failure",
    [KMIP_CLIENT_E_AMBIGUOUS] = "request sent but no response: outcome unknown",
    [KMIP_CLIENT_E_NOT_FOUND] = "no such object on the KMIP server",
    [KMIP_CLIENT_E_UNSUPPORTED] = "not supported",
    [KMIP_CLIENT_E_TLS_PROTOCOL] = "the KMIP server offers no TLS version we accept",
    [KMIP_CLIENT_E_ABORTED] = "aborted by the application (kmip_client_abort)",
};

const char *kmip_client_strerror(kmip_client_err err)
{
    if ((unsigned)err >= (unsigned)KMIP_CLIENT_E__COUNT || messages[err] == NULL)
        return "unknown error";
    return messages[err];
}

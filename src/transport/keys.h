/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: reading the client's private key and checking it against its
 * certificate, the one implementation the TLS context (tls.c) and the
 * exported kmip_key_check (kmip_common.h, for the keyring's configuration
 * check) share. */
#ifndef KT_KEYS_H
#define KT_KEYS_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_common.h"

/* The private key of PEM bytes, decrypted with pass/pass_len (pass NULL:
 * none given; OpenSSL never prompts). *out is the key (the caller frees it)
 * on KMIP_KEY_OK, NULL otherwise: KMIP_KEY_ENCRYPTED, _BAD_PASS_PHRASE,
 * _NONE or _NOMEM. OpenSSL's error queue says more about _NONE. */
kmip_key_verdict kt_key_read(const uint8_t *pem, size_t len, const char *pass, size_t pass_len,
                             EVP_PKEY **out);

/* KMIP_KEY_OK when key is the private key of cert's public key, else
 * KMIP_KEY_MISMATCH. */
kmip_key_verdict kt_key_matches(X509 *cert, EVP_PKEY *key);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* AES with keyring keys, MySQL's keyring_aes semantics: block size 256
 * only, modes cbc, cfb1, cfb8, cfb128 and ofb, a 16-byte IV, PKCS#7
 * padding for cbc when asked for, and the AES-256 key being the SHA-256 of
 * the stored key (so any stored length works). Only keys of type AES. */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "handle.h"
#include "keyring_kmip/krk.h"
#include "kmip/kmip_ttlv.h"

static const EVP_CIPHER *cipher_for(const char *mode, size_t block_size)
{
    if (mode == NULL || block_size != 256)
        return NULL;
    if (strcasecmp(mode, "cbc") == 0)
        return EVP_aes_256_cbc();
    if (strcasecmp(mode, "cfb1") == 0)
        return EVP_aes_256_cfb1();
    if (strcasecmp(mode, "cfb8") == 0)
        return EVP_aes_256_cfb8();
    if (strcasecmp(mode, "cfb128") == 0)
        return EVP_aes_256_cfb128();
    if (strcasecmp(mode, "ofb") == 0)
        return EVP_aes_256_ofb();
    return NULL;
}

static bool is_cbc(const char *mode)
{
    return strcasecmp(mode, "cbc") == 0;
}

krk_err krk_aes_get_size(size_t input_length, const char *mode, size_t block_size,
                         size_t *out_size)
{
    if (cipher_for(mode, block_size) == NULL || out_size == NULL)
        return KRK_E_ARG;
    /* cbc with padding may add a whole block; stream modes keep the length */
    *out_size = is_cbc(mode) ? (input_length / 16 + 1) * 16 : input_length;
    return KRK_OK;
}

/* The SHA-256 of the AES key data_id/auth_id, or an error code (not found,
 * in conflict, not AES). */
static krk_err aes_key(krk_keyring *k, const char *data_id, const char *auth_id,
                       uint8_t digest[32])
{
    krk_err e = krk_begin_key_op(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    pthread_rwlock_rdlock(&k->lock);
    const krk_key *key = krk_cache_find(&k->state->cache, data_id, auth_id);
    if (key == NULL)
        e = KRK_E_NOT_FOUND;
    else if (key->conflict_uid)
        e = krk_conflict_error(k, key);
    else if (key->type != KRK_TYPE_AES)
        e = KRK_E_TYPE;
    else
        SHA256(key->material, key->material_len, digest);
    pthread_rwlock_unlock(&k->lock);
    if (e == KRK_E_TYPE)
        krk_set_error(k, e, "key %s is not of type AES", data_id);
    return e;
}

static krk_err run(krk_keyring *k, bool encrypt, const char *data_id, const char *auth_id,
                   const char *mode, size_t block_size, const uint8_t *iv, bool padding,
                   const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                   size_t *out_len)
{
    const EVP_CIPHER *cipher = cipher_for(mode, block_size);
    if (cipher == NULL || iv == NULL || (in == NULL && in_len) || out_len == NULL ||
        in_len > INT32_MAX - 32)
        return KRK_E_ARG;
    if (is_cbc(mode) && !padding && in_len % 16 != 0)
        return KRK_E_ARG; /* cbc without padding needs whole blocks */
    size_t need;
    if (krk_aes_get_size(in_len, mode, block_size, &need) != KRK_OK)
        return KRK_E_ARG;
    if (encrypt && is_cbc(mode) && !padding)
        need = in_len;
    if (out == NULL || out_cap < (encrypt ? need : in_len))
        return KRK_E_BUFFER;
    uint8_t key[32];
    krk_err e = aes_key(k, data_id, auth_id, key);
    if (e != KRK_OK)
        return e;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    bool ok = ctx && EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, encrypt ? 1 : 0) == 1 &&
              EVP_CIPHER_CTX_set_padding(ctx, is_cbc(mode) && padding) == 1 &&
              EVP_CipherUpdate(ctx, out, &n1, in, (int)in_len) == 1 &&
              EVP_CipherFinal_ex(ctx, out + n1, &n2) == 1;
    EVP_CIPHER_CTX_free(ctx);
    OPENSSL_cleanse(key, sizeof key);
    if (!ok)
        return KRK_E_ARG; /* bad padding on decryption, or a cipher failure */
    *out_len = (size_t)n1 + (size_t)n2;
    return KRK_OK;
}

krk_err krk_aes_encrypt(krk_keyring *k, const char *data_id, const char *auth_id,
                        const char *mode, size_t block_size, const uint8_t *iv, bool padding,
                        const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    return run(k, true, data_id, auth_id, mode, block_size, iv, padding, in, in_len, out,
               out_cap, out_len);
}

krk_err krk_aes_decrypt(krk_keyring *k, const char *data_id, const char *auth_id,
                        const char *mode, size_t block_size, const uint8_t *iv, bool padding,
                        const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                        size_t *out_len)
{
    return run(k, false, data_id, auth_id, mode, block_size, iv, padding, in, in_len, out,
               out_cap, out_len);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The client's private key: decrypted with the configured pass phrase and
 * never a prompt, told apart as encrypted without a pass phrase, a wrong
 * pass phrase, or no key at all; and checked against its certificate. */
#include <openssl/pem.h>
#include <stdbool.h>
#include <string.h>

#include "keys.h"

typedef struct pass_phrase {
    const char *data; /* NULL: none given */
    size_t len;
    bool asked;       /* the key turned out to be encrypted */
} pass_phrase;

/* OpenSSL's PEM callback: hands over the configured pass phrase, or fails.
 * It never prompts (OpenSSL's default reads the terminal, or /dev/tty). */
static int pem_password(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    pass_phrase *p = u;
    if (p == NULL)
        return -1;
    p->asked = true;
    if (p->data == NULL || size < 0 || p->len > (size_t)size)
        return -1;
    memcpy(buf, p->data, p->len);
    return (int)p->len;
}

kmip_key_verdict kt_key_read(const uint8_t *pem, size_t len, const char *pass, size_t pass_len,
                             EVP_PKEY **out)
{
    *out = NULL;
    if (len > INT32_MAX)
        return KMIP_KEY_NONE;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (b == NULL)
        return KMIP_KEY_NOMEM;
    pass_phrase pw = {pass, pass_len, false};
    *out = PEM_read_bio_PrivateKey(b, NULL, pem_password, &pw);
    BIO_free(b);
    if (*out)
        return KMIP_KEY_OK;
    if (pw.asked)
        return pass == NULL ? KMIP_KEY_ENCRYPTED : KMIP_KEY_BAD_PASS_PHRASE;
    return KMIP_KEY_NONE;
}

kmip_key_verdict kt_key_matches(X509 *cert, EVP_PKEY *key)
{
    return cert && key && X509_check_private_key(cert, key) == 1 ? KMIP_KEY_OK
                                                                 : KMIP_KEY_MISMATCH;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

kmip_key_verdict kmip_key_check(const kmip_file *key, const char *pass, size_t pass_len,
                                const kmip_file *cert)
{
    if (key == NULL || key->data == NULL)
        return KMIP_KEY_NONE;
    EVP_PKEY *k = NULL;
    kmip_key_verdict v = kt_key_read(key->data, key->len, pass, pass_len, &k);
    if (v == KMIP_KEY_OK && cert) {
        BIO *b = NULL;
        X509 *x = NULL;
        if (cert->data == NULL || cert->len > INT32_MAX)
            v = KMIP_KEY_NO_CERTIFICATE;
        else if ((b = BIO_new_mem_buf(cert->data, (int)cert->len)) == NULL)
            v = KMIP_KEY_NOMEM;
        else if ((x = PEM_read_bio_X509(b, NULL, no_password, NULL)) == NULL)
            v = KMIP_KEY_NO_CERTIFICATE;
        else
            v = kt_key_matches(x, k);
        X509_free(x);
        BIO_free(b);
    }
    EVP_PKEY_free(k);
    return v;
}

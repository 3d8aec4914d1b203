/* SPDX-License-Identifier: GPL-2.0-only */
/* The keyring services of component_keyring_kmip over the keyring API
 * (krk.h), with keyring_common's conventions: every call fails while the
 * component is Disabled (no successful load), the reader tells error from
 * not found, a too-small buffer fails and receives nothing, the keys
 * iterator's lengths exclude the NUL. */
#include <string.h>

#include "component.h"

/* A write that the KMIP server or the connection failed is the operator's
 * business (the error log); a caller's mistake (exists, not found, a bad
 * type) is only the caller's. */
static int write_failed(krk_err e, krk_keyring *k, const char *what, const char *data_id,
                        const char *auth_id)
{
    int r = comp_fail_keyring(e, k);
    if (e == KRK_E_KMIP || e == KRK_E_TLS_IDENTITY || e == KRK_E_CONFLICT || e == KRK_E_NOMEM)
        comp_log(KRK_LOG_ERROR_LEVEL, "%s of key \"%s\" (auth_id \"%s\") failed: %s", what,
                 data_id ? data_id : "", auth_id ? auth_id : "", krk_last_error(k));
    return r;
}

/* ---- keyring_reader_with_status ---- */

static mysql_service_status_t reader_init(const char *data_id, const char *auth_id,
                                          my_h_keyring_reader_object *out)
{
    if (out == NULL)
        return comp_fail(KRK_E_ARG, "keyring_reader_with_status.init: no reader_object");
    *out = NULL;
    krk_keyring *k = comp_keyring();
    if (k == NULL)
        return 1;
    krk_reader *r = NULL;
    krk_err e = krk_reader_init(k, data_id, auth_id ? auth_id : "", &r);
    if (e == KRK_E_NOT_FOUND)
        return 0; /* not found: success with no object */
    if (e != KRK_OK)
        return comp_fail_keyring(e, k);
    *out = (my_h_keyring_reader_object)r;
    return 0;
}

static mysql_service_status_t reader_deinit(my_h_keyring_reader_object r)
{
    krk_reader_deinit((krk_reader *)r);
    return 0;
}

static mysql_service_status_t reader_fetch_length(my_h_keyring_reader_object r,
                                                  size_t *data_size, size_t *type_size)
{
    if (r == NULL || data_size == NULL || type_size == NULL)
        return comp_fail(KRK_E_ARG, "keyring_reader_with_status.fetch_length: NULL argument");
    krk_reader_fetch_length((const krk_reader *)r, data_size, type_size);
    return 0;
}

static mysql_service_status_t reader_fetch(my_h_keyring_reader_object r, unsigned char *data,
                                           size_t data_cap, size_t *data_size, char *type,
                                           size_t type_cap, size_t *type_size)
{
    if (r == NULL || data == NULL || data_size == NULL || type == NULL || type_size == NULL)
        return comp_fail(KRK_E_ARG, "keyring_reader_with_status.fetch: NULL argument");
    krk_err e = krk_reader_fetch((const krk_reader *)r, data, data_cap, data_size, type,
                                 type_cap, type_size);
    if (e == KRK_E_BUFFER)
        return comp_fail(e, "keyring_reader_with_status.fetch: a buffer is too small (key "
                            "buffer %zu bytes, type buffer %zu)", data_cap, type_cap);
    return e == KRK_OK ? 0 : comp_fail(e, "keyring_reader_with_status.fetch: %s",
                                       krk_strerror(e));
}

const mysql_service_keyring_reader_with_status_t comp_reader = {
    reader_init, reader_deinit, reader_fetch_length, reader_fetch,
};

/* ---- keyring_writer, keyring_generator ---- */

static mysql_service_status_t writer_store(const char *data_id, const char *auth_id,
                                           const unsigned char *data, size_t size,
                                           const char *type)
{
    krk_keyring *k = comp_keyring();
    if (k == NULL)
        return 1;
    krk_err e = krk_store(k, data_id, auth_id ? auth_id : "", data, size, type);
    return e == KRK_OK ? 0 : write_failed(e, k, "store", data_id, auth_id);
}

static mysql_service_status_t writer_remove(const char *data_id, const char *auth_id)
{
    krk_keyring *k = comp_keyring();
    if (k == NULL)
        return 1;
    krk_err e = krk_remove(k, data_id, auth_id ? auth_id : "");
    /* absent: fails, as keyring_common */
    return e == KRK_OK ? 0 : write_failed(e, k, "remove", data_id, auth_id);
}

const mysql_service_keyring_writer_t comp_writer = {writer_store, writer_remove};

static mysql_service_status_t generator_generate(const char *data_id, const char *auth_id,
                                                 const char *type, size_t size)
{
    krk_keyring *k = comp_keyring();
    if (k == NULL)
        return 1;
    krk_err e = krk_generate(k, data_id, auth_id ? auth_id : "", type, size);
    return e == KRK_OK ? 0 : write_failed(e, k, "generate", data_id, auth_id);
}

const mysql_service_keyring_generator_t comp_generator = {generator_generate};

/* ---- keyring_keys_metadata_iterator ---- */

static mysql_service_status_t iter_init(my_h_keyring_keys_metadata_iterator *out)
{
    if (out == NULL)
        return comp_fail(KRK_E_ARG, "keyring_keys_metadata_iterator.init: no iterator");
    *out = NULL;
    krk_keyring *k = comp_keyring();
    if (k == NULL)
        return 1;
    krk_iter *it = NULL;
    krk_err e = krk_iter_init(k, &it);
    if (e != KRK_OK)
        return comp_fail_keyring(e, k);
    *out = (my_h_keyring_keys_metadata_iterator)it;
    return 0;
}

static mysql_service_status_t iter_deinit(my_h_keyring_keys_metadata_iterator it)
{
    krk_iter_deinit((krk_iter *)it);
    return 0;
}

static mysql_service_status_t iter_is_valid(my_h_keyring_keys_metadata_iterator it)
{
    return it != NULL && krk_iter_is_valid((const krk_iter *)it) ? 1 : 0; /* non-zero: valid */
}

static mysql_service_status_t iter_next(my_h_keyring_keys_metadata_iterator it)
{
    if (it == NULL)
        return 1;
    krk_err e = krk_iter_next((krk_iter *)it);
    return e == KRK_OK && krk_iter_is_valid((const krk_iter *)it) ? 0 : 1;
}

static mysql_service_status_t iter_get_length(my_h_keyring_keys_metadata_iterator it,
                                              size_t *data_id_len, size_t *auth_id_len)
{
    if (it == NULL || data_id_len == NULL || auth_id_len == NULL)
        return comp_fail(KRK_E_ARG, "keyring_keys_metadata_iterator.get_length: NULL argument");
    krk_err e = krk_iter_get_length((const krk_iter *)it, data_id_len, auth_id_len);
    return e == KRK_OK ? 0 : comp_fail(e, "keyring_keys_metadata_iterator: %s",
                                       krk_strerror(e));
}

static mysql_service_status_t iter_get(my_h_keyring_keys_metadata_iterator it, char *data_id,
                                       size_t data_id_cap, char *auth_id, size_t auth_id_cap)
{
    if (it == NULL)
        return comp_fail(KRK_E_ARG, "keyring_keys_metadata_iterator.get: no iterator");
    krk_err e = krk_iter_get((const krk_iter *)it, data_id, data_id_cap, auth_id, auth_id_cap);
    return e == KRK_OK ? 0 : comp_fail(e, "keyring_keys_metadata_iterator.get: %s",
                                       krk_strerror(e));
}

const mysql_service_keyring_keys_metadata_iterator_t comp_keys_iterator = {
    iter_init, iter_deinit, iter_is_valid, iter_next, iter_get_length, iter_get,
};

/* ---- keyring_aes ---- */

static mysql_service_status_t aes_get_size(size_t input_length, const char *mode,
                                           size_t block_size, size_t *out_size)
{
    /* keyring_common's get_size needs no keys and works while Disabled */
    krk_err e = krk_aes_get_size(input_length, mode, block_size, out_size);
    return e == KRK_OK ? 0 : comp_fail(e, "keyring_aes.get_size: %s", krk_strerror(e));
}

static mysql_service_status_t aes_crypt(bool encrypt, const char *data_id, const char *auth_id,
                                        const char *mode, size_t block_size,
                                        const unsigned char *iv, int padding,
                                        const unsigned char *in, size_t in_len,
                                        unsigned char *out, size_t out_cap, size_t *out_len)
{
    krk_keyring *k = comp_keyring();
    if (k == NULL)
        return 1;
    krk_err e = encrypt ? krk_aes_encrypt(k, data_id, auth_id ? auth_id : "", mode, block_size,
                                          iv, padding != 0, in, in_len, out, out_cap, out_len)
                        : krk_aes_decrypt(k, data_id, auth_id ? auth_id : "", mode, block_size,
                                          iv, padding != 0, in, in_len, out, out_cap, out_len);
    return e == KRK_OK ? 0 : comp_fail_keyring(e, k);
}

static mysql_service_status_t aes_encrypt(const char *data_id, const char *auth_id,
                                          const char *mode, size_t block_size,
                                          const unsigned char *iv, int padding,
                                          const unsigned char *in, size_t in_len,
                                          unsigned char *out, size_t out_cap, size_t *out_len)
{
    return aes_crypt(true, data_id, auth_id, mode, block_size, iv, padding, in, in_len, out,
                     out_cap, out_len);
}

static mysql_service_status_t aes_decrypt(const char *data_id, const char *auth_id,
                                          const char *mode, size_t block_size,
                                          const unsigned char *iv, int padding,
                                          const unsigned char *in, size_t in_len,
                                          unsigned char *out, size_t out_cap, size_t *out_len)
{
    return aes_crypt(false, data_id, auth_id, mode, block_size, iv, padding, in, in_len, out,
                     out_cap, out_len);
}

const mysql_service_keyring_aes_t comp_aes = {aes_get_size, aes_encrypt, aes_decrypt};

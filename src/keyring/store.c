/* SPDX-License-Identifier: GPL-2.0-only */
/* Storing and generating keys: the write protocol of write.h under the
 * writers' lock; the cache changes only after the server confirmed. */
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>

#include "handle.h"
#include "write.h"

static krk_err publish(krk_keyring *k, const char *data_id, const char *auth_id,
                       krk_key_type type, const uint8_t *data, size_t size, const char *uid)
{
    krk_key *key = krk_key_new(data_id, auth_id, type, data, size, uid);
    pthread_rwlock_wrlock(&k->lock);
    /* a lookup may have brought the same object in meanwhile */
    bool there = key && krk_cache_find(&k->state->cache, data_id, auth_id) != NULL;
    if (there)
        krk_key_free(key);
    bool ok = there || (key && krk_cache_insert(&k->state->cache, key));
    pthread_rwlock_unlock(&k->lock);
    return ok ? KRK_OK
              : krk_set_error(k, KRK_E_NOMEM, "out of memory: key %s stored on the server as %s "
                              "but not cached; reload to see it", data_id, uid);
}

/* A write with the protocol of write.h. On KRK_E_EXISTS the other object
 * is adopted into the cache when it is Active (the cache then agrees with
 * the server); a Pre-Active one is not adopted before it is Active. */
static krk_err write_locked(krk_keyring *k, const char *data_id, const char *auth_id,
                            const uint8_t *data, size_t size, krk_key_type type)
{
    if (krk_cached(k, data_id, auth_id))
        return krk_set_error(k, KRK_E_EXISTS, "key %s (auth_id \"%s\") exists already", data_id,
                             auth_id);
    krk_write_result *r = malloc(sizeof *r);
    if (r == NULL)
        return krk_set_error(k, KRK_E_NOMEM, "out of memory");
    krk_err e = krk_write_key(k->state, type, data_id, auth_id, data, size, r);
    if (e == KRK_OK) {
        e = publish(k, data_id, auth_id, type, data ? data : r->key, data ? size : r->key_len,
                    r->uid);
    } else {
        krk_set_error(k, e, "%s", r->message);
        if (e == KRK_E_EXISTS && r->other_key &&
            publish(k, data_id, auth_id, r->other_type, r->other_key, r->other_len,
                    r->other_uid) != KRK_OK)
            krk_set_error(k, e, "%s", r->message);
    }
    krk_write_result_free(r);
    free(r);
    return e;
}

/* write_locked with the writers' lock held, within the write's deadline. */
static krk_err write_serialized(krk_keyring *k, const char *data_id, const char *auth_id,
                                const uint8_t *data, size_t size, krk_key_type type)
{
    pthread_mutex_lock(&k->write_lock);
    krk_begin_write(k);
    krk_err e = write_locked(k, data_id, auth_id, data, size, type);
    krk_end_write(k);
    pthread_mutex_unlock(&k->write_lock);
    return e;
}

/* The key type named by the caller; false (the error set) when unknown. */
static bool parse_type(krk_keyring *k, const char *type, krk_key_type *t)
{
    if (krk_type_parse(type, t))
        return true;
    krk_set_error(k, KRK_E_TYPE, "unknown key type \"%s\": use AES, RSA, DSA or SECRET",
                  type ? type : "(null)");
    return false;
}

krk_err krk_store(krk_keyring *k, const char *data_id, const char *auth_id, const uint8_t *data,
                  size_t size, const char *type)
{
    krk_key_type t;
    krk_err e = krk_begin_key_op(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    if (!parse_type(k, type, &t))
        return KRK_E_TYPE;
    if (data == NULL || size == 0 || size > KRK_MAX_KEY_BYTES)
        return krk_set_error(k, size > KRK_MAX_KEY_BYTES ? KRK_E_TOO_BIG : KRK_E_ARG,
                             "a key has 1 to %d bytes, not %zu", KRK_MAX_KEY_BYTES, size);
    return write_serialized(k, data_id, auth_id, data, size, t);
}

/* AES keys of 128, 192 and 256 bits are created by the server (Create,
 * Get, then Activate once shown to be the only object of the identity);
 * other keys are random bytes from OpenSSL's CSPRNG, stored like any key. */
krk_err krk_generate(krk_keyring *k, const char *data_id, const char *auth_id, const char *type,
                     size_t size)
{
    if (!krk_is_initialized(k))
        return KRK_E_NOT_INITIALIZED;
    krk_key_type t;
    if (size == 0 || size > KRK_MAX_KEY_BYTES)
        return krk_set_error(k, KRK_E_TOO_BIG, "a key has 1 to %d bytes, not %zu",
                             KRK_MAX_KEY_BYTES, size);
    if (!parse_type(k, type, &t))
        return KRK_E_TYPE;
    if (t == KRK_TYPE_AES && (size == 16 || size == 24 || size == 32)) {
        krk_err e = krk_begin_key_op(k, data_id, &auth_id);
        if (e != KRK_OK)
            return e;
        return write_serialized(k, data_id, auth_id, NULL, size, KRK_TYPE_AES);
    }
    uint8_t *data = malloc(size);
    if (data == NULL)
        return krk_set_error(k, KRK_E_NOMEM, "out of memory");
    krk_err e = RAND_bytes(data, (int)size) == 1
                    ? krk_store(k, data_id, auth_id, data, size, type)
                    : krk_set_error(k, KRK_E_NOMEM, "the random generator failed");
    kmip_secure_free(data, size);
    return e;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The keyring handle's shared pieces: errors (per thread, and the last one
 * for metadata), the checks every operation on a key starts with, the
 * bracket of a write. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "handle.h"

/* krk_last_error: the calling thread's last error, never a buffer other
 * threads overwrite */
static _Thread_local char thread_error[KRK_ERROR_CAP];

krk_err krk_set_error(krk_keyring *k, krk_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(thread_error, sizeof thread_error, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&k->err_lock);
    memcpy(k->last_error, thread_error, sizeof k->last_error);
    pthread_mutex_unlock(&k->err_lock);
    return code;
}

const char *krk_last_error(const krk_keyring *k)
{
    (void)k;
    return thread_error;
}

bool krk_is_initialized(const krk_keyring *k)
{
    if (k == NULL)
        return false;
    krk_keyring *m = (krk_keyring *)k;
    pthread_rwlock_rdlock(&m->lock);
    bool up = k->state != NULL;
    pthread_rwlock_unlock(&m->lock);
    return up;
}

static krk_err check_ids(krk_keyring *k, const char *data_id, const char *auth_id)
{
    if (data_id == NULL || data_id[0] == '\0')
        return krk_set_error(k, KRK_E_ARG, "the key id (data_id) is empty: a key needs one");
    size_t dl = strlen(data_id), al = auth_id ? strlen(auth_id) : 0;
    if (dl > KRK_MAX_ID_BYTES || al > KRK_MAX_ID_BYTES)
        return krk_set_error(k, KRK_E_TOO_BIG, "the %s has %zu bytes, more than the %d allowed",
                             dl > KRK_MAX_ID_BYTES ? "key id (data_id)" : "auth_id",
                             dl > KRK_MAX_ID_BYTES ? dl : al, KRK_MAX_ID_BYTES);
    return KRK_OK;
}

/* The checks every operation on one key starts with; an absent auth_id is
 * the empty one. */
krk_err krk_begin_key_op(krk_keyring *k, const char *data_id, const char **auth_id)
{
    if (!krk_is_initialized(k))
        return KRK_E_NOT_INITIALIZED;
    if (*auth_id == NULL)
        *auth_id = "";
    return check_ids(k, data_id, *auth_id);
}

/* A write and the check of its outcome together take at most the
 * configured timeout (kmip_timeout_ms). Called with the write lock held. */
void krk_begin_write(krk_keyring *k)
{
    kmip_client_begin_deadline(k->state->client, k->state->cfg.timeout_ms);
}

void krk_end_write(krk_keyring *k)
{
    kmip_client_end_deadline(k->state->client);
    pthread_rwlock_wrlock(&k->lock);
    krk_state_note_connection(k->state);
    pthread_rwlock_unlock(&k->lock);
}

bool krk_cached(krk_keyring *k, const char *data_id, const char *auth_id)
{
    pthread_rwlock_rdlock(&k->lock);
    bool found = krk_cache_find(&k->state->cache, data_id, auth_id) != NULL;
    pthread_rwlock_unlock(&k->lock);
    return found;
}

/* The message for a key in conflict (called with the lock held). */
krk_err krk_conflict_error(krk_keyring *k, const krk_key *key)
{
    return krk_set_error(k, KRK_E_CONFLICT, "key %s (auth_id \"%s\") is in conflict: objects %s "
                         "and %s on the KMIP server hold it with different bytes; it is not "
                         "served until an operator removes the wrong one (`keyring-kmip check` "
                         "lists them)", key->data_id, key->auth_id, key->uid, key->conflict_uid);
}

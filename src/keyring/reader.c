/* SPDX-License-Identifier: GPL-2.0-only */
/* Readers: a key's bytes copied out of the cache, lock-free on the hot
 * path (rcu.h), under the read lock otherwise. Readers never wait for the
 * network. */
#include <stdlib.h>
#include <string.h>

#include "handle.h"
#include "rcu.h"

struct krk_reader {
    krk_key_type type;
    bool spare; /* in the thread's RCU slot (krk_rcu_spare_take), else malloc'd */
    uint8_t *data; /* small: held, large: its own block */
    size_t len;
    uint8_t held[64];
};
_Static_assert(sizeof(krk_reader) <= KRK_RCU_SPARE_BYTES, "a reader fits an RCU spare block");

/* The reader object itself, once its copy is wiped. */
static void reader_free(krk_reader *r)
{
    if (r->spare)
        krk_rcu_spare_give_back(r);
    else
        free(r);
}

/* r's copy of the bytes (nothing else set yet but r->spare): no heap block
 * for the usual key sizes. */
static bool reader_copy(krk_reader *r, const krk_key *key)
{
    size_t n = key->material_len;
    r->data = n <= sizeof r->held ? r->held : malloc(n);
    if (r->data == NULL)
        return false;
    memcpy(r->data, key->material, n);
    r->len = n;
    r->type = key->type;
    return true;
}

/* The hot path (every key read of the database): no lock. Inside an RCU
 * read section, the state and the key are found through atomically
 * published pointers and the bytes copied out; a key removed is unlinked
 * and freed only after every such section that could see it has ended
 * (krk_cache_remove), so once krk_remove returns no reader serves it.
 * Anything else (not found, in conflict, bad ids, no memory) takes the
 * locked path below, which gives the answer and the message. */
static krk_reader *read_lock_free(krk_keyring *k, const char *data_id, const char *auth_id)
{
    /* a NULL handle (krk_open failed) and ids the locked path refuses
     * never reach the fast path: begin()/check_ids give the one answer
     * (krk_cache_find_rcu never finds ids longer than KRK_MAX_ID_BYTES) */
    if (k == NULL || data_id == NULL || data_id[0] == '\0')
        return NULL;
    krk_rcu_thread *t = krk_rcu_read_lock();
    if (t == NULL)
        return NULL;
    /* the reader object: the thread's spare block, no malloc and free per
     * read (a thread holding two readers gets the second from malloc) */
    krk_reader *r = krk_rcu_spare_take(t);
    bool spare = r != NULL;
    if (!spare && (r = malloc(sizeof *r)) == NULL) {
        krk_rcu_read_unlock(t);
        return NULL;
    }
    r->spare = spare;
    const krk_state *s = __atomic_load_n(&k->state, __ATOMIC_SEQ_CST);
    const krk_key *key = s ? krk_cache_find_rcu(&s->cache, data_id, auth_id) : NULL;
    /* the ordinary heap: short-lived, wiped (the secure heap's one lock
     * would serialize all readers) */
    bool ok = key && krk_key_conflict(key) == NULL && reader_copy(r, key);
    krk_rcu_read_unlock(t);
    if (!ok) {
        reader_free(r); /* nothing copied into it */
        return NULL;
    }
    return r;
}

krk_err krk_reader_init(krk_keyring *k, const char *data_id, const char *auth_id,
                        krk_reader **out)
{
    *out = NULL;
    if (k == NULL)
        return KRK_E_NOT_INITIALIZED;
    *out = read_lock_free(k, data_id, auth_id ? auth_id : "");
    if (*out)
        return KRK_OK;
    krk_err e = krk_begin_key_op(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    krk_reader *r = calloc(1, sizeof *r); /* data NULL until copied */
    if (r == NULL)
        return krk_set_error(k, KRK_E_NOMEM, "out of memory");
    pthread_rwlock_rdlock(&k->lock);
    const krk_key *key = krk_cache_find(&k->state->cache, data_id, auth_id);
    if (key && key->conflict_uid) {
        krk_conflict_error(k, key);
        pthread_rwlock_unlock(&k->lock);
        krk_reader_deinit(r);
        return KRK_E_CONFLICT;
    }
    if (key) {
        /* the reader's copy is short-lived and wiped: the ordinary heap,
         * because the secure heap's one lock would serialize all readers */
        if (!reader_copy(r, key))
            r->data = NULL;
    }
    pthread_rwlock_unlock(&k->lock);
    if (key == NULL || r->data == NULL) {
        krk_reader_deinit(r);
        return key ? krk_set_error(k, KRK_E_NOMEM, "out of memory") : KRK_E_NOT_FOUND;
    }
    *out = r;
    return KRK_OK;
}

void krk_reader_fetch_length(const krk_reader *r, size_t *data_len, size_t *type_len)
{
    if (data_len)
        *data_len = r->len;
    if (type_len)
        *type_len = strlen(krk_type_name(r->type));
}

krk_err krk_reader_fetch(const krk_reader *r, uint8_t *data, size_t data_cap, size_t *data_len,
                         char *type, size_t type_cap, size_t *type_len)
{
    const char *t = krk_type_name(r->type);
    size_t tl = strlen(t);
    /* As MySQL's keyring_common: the type needs type_len bytes, the NUL only
     * when there is room for it. mysqld's own reader (mysys
     * keyring_operations_helper::read_secret) passes exactly the type's
     * length for a buffer of length + 1, and takes a failure as "no such
     * key". Both sizes are checked before either buffer is written. */
    if (data == NULL || type == NULL || data_cap < r->len || type_cap < tl)
        return KRK_E_BUFFER;
    memcpy(data, r->data, r->len);
    memcpy(type, t, tl);
    if (type_cap > tl)
        type[tl] = '\0';
    if (data_len)
        *data_len = r->len;
    if (type_len)
        *type_len = tl;
    return KRK_OK;
}

void krk_reader_deinit(krk_reader *r)
{
    if (r == NULL)
        return;
    if (r->data == r->held)
        kmip_secure_zero(r->held, r->len);
    else
        kmip_secure_free(r->data, r->len);
    reader_free(r);
}

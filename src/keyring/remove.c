/* SPDX-License-Identifier: GPL-2.0-only */
/* Removing a key: Revoke + Destroy on the server, then the cache; an
 * unknown outcome is settled with the server (reconcile.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "handle.h"
#include "reconcile.h"

typedef enum removal { REMOVAL_KEPT, REMOVAL_DONE, REMOVAL_UNKNOWN, REMOVAL_REVOKED } removal;

/* Revoke + Destroy (Destroy alone for a key no longer Active); when the
 * answer was lost, the server is asked whether the object is still Active
 * (reconcile.h). When even that fails the key leaves the keyring anyway:
 * serving a key the server may have destroyed could let data be encrypted
 * with a key that is gone, while a key dropped from the cache but kept by
 * the server only comes back at the next load. A server that revoked the
 * key but refused to destroy it (Destroy needing an approval) leaves it
 * Deactivated: REMOVAL_REVOKED, *state says so, and the cache shows it
 * Deactivated as the server does (still readable, as a load would have
 * it). */
static removal remove_on_server(krk_keyring *k, const char *data_id, const char *uid,
                                uint32_t *state)
{
    krk_state *s = k->state;
    kmip_client_err ce = *state == KMIP_STATE_ACTIVE ? kmip_client_revoke_destroy(s->client, uid)
                                                     : kmip_client_destroy(s->client, uid);
    if (ce == KMIP_CLIENT_OK)
        return REMOVAL_DONE;
    krk_set_error(k, KRK_E_KMIP, "removing key %s (object %s) failed: %s", data_id, uid,
                  kmip_client_error_message(s->client));
    char was[KRK_ERROR_CAP], why[512];
    memcpy(was, krk_last_error(k), sizeof was);
    if (!krk_outcome_unknown(ce)) {
        uint32_t now = 0;
        if (krk_object_state(s, uid, &now) && now != *state &&
            (now == KMIP_STATE_DEACTIVATED || now == KMIP_STATE_COMPROMISED)) {
            *state = now;
            krk_set_error(k, KRK_E_KMIP, "%s; the server revoked it (now %s) but did not destroy "
                          "it: the keyring shows it as the server holds it, still readable; remove "
                          "it again once the server allows it", was,
                          now == KMIP_STATE_DEACTIVATED ? "Deactivated" : "Compromised");
            return REMOVAL_REVOKED;
        }
        return REMOVAL_KEPT;
    }
    krk_outcome o = krk_reconcile_remove(s, uid, why, sizeof why);
    if (o == KRK_OUTCOME_ABSENT)
        return REMOVAL_DONE;
    if (o == KRK_OUTCOME_ADOPTED) {
        krk_set_error(k, KRK_E_KMIP, "%s; the key is still Active on the server (checked) and "
                      "stays in the keyring", was);
        return REMOVAL_KEPT;
    }
    krk_set_error(k, KRK_E_KMIP, "%s; whether the server removed it could not be checked (%s): "
                  "the key is taken out of the keyring, a reload brings it back if the server "
                  "kept it", was, why);
    return REMOVAL_UNKNOWN;
}

krk_err krk_remove(krk_keyring *k, const char *data_id, const char *auth_id)
{
    krk_err e = krk_begin_key_op(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    pthread_mutex_lock(&k->write_lock);
    krk_begin_write(k);
    removal r;
    char *uid = NULL;
    pthread_rwlock_rdlock(&k->lock);
    const krk_key *key = krk_cache_find(&k->state->cache, data_id, auth_id);
    bool found = key != NULL, conflict = key && key->conflict_uid;
    if (conflict)
        e = krk_conflict_error(k, key);
    else if (key)
        uid = strdup(key->uid);
    uint32_t state = key ? key->state : 0;
    pthread_rwlock_unlock(&k->lock);
    if (conflict) {
        /* which object to remove is the operator's decision */
    } else if (!found) {
        e = krk_set_error(k, KRK_E_NOT_FOUND, "no key %s (auth_id \"%s\")", data_id, auth_id);
    } else if (uid == NULL) {
        e = krk_set_error(k, KRK_E_NOMEM, "out of memory");
    } else if ((r = remove_on_server(k, data_id, uid, &state)) == REMOVAL_KEPT) {
        e = KRK_E_KMIP;
    } else if (r == REMOVAL_REVOKED) {
        e = KRK_E_KMIP;
        pthread_rwlock_wrlock(&k->lock);
        krk_key *held = krk_cache_find(&k->state->cache, data_id, auth_id);
        if (held) {
            held->state = state;
            k->state->cache.generation++;
        }
        pthread_rwlock_unlock(&k->lock);
    } else {
        e = r == REMOVAL_DONE ? KRK_OK : KRK_E_KMIP;
        pthread_rwlock_wrlock(&k->lock);
        krk_key *held = krk_cache_find(&k->state->cache, data_id, auth_id);
        if (held)
            krk_cache_remove(&k->state->cache, held);
        pthread_rwlock_unlock(&k->lock);
    }
    krk_end_write(k);
    pthread_mutex_unlock(&k->write_lock);
    free(uid);
    return e;
}

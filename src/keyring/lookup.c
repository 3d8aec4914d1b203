/* SPDX-License-Identifier: GPL-2.0-only */
/* Lookup (the MariaDB plugin): one key missing from the cache is asked of
 * the server on the lookup's own client, never waiting for a writer. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "handle.h"
#include "write.h"

#define LOOKUP_RETRY_MS 2000

/* The lookup's own client, so that a lookup never waits for a writer (nor
 * a writer for it): made from the current configuration, again after a
 * reload swapped the state. Called with lookup_lock held. */
static kmip_client *lookup_client(krk_keyring *k, krk_config *cfg)
{
    pthread_rwlock_rdlock(&k->lock);
    uint64_t epoch = k->epoch;
    *cfg = k->state->cfg;
    /* the state's server health: the lookups learn from the writers'
     * failures and count in its figures (a reference: it outlives a
     * reload's swap until this client is replaced) */
    kmip_health *h = kmip_health_ref(k->state->health);
    pthread_rwlock_unlock(&k->lock);
    if (k->lookup && k->lookup_epoch == epoch) {
        kmip_health_free(h);
        return k->lookup;
    }
    kmip_client_free(k->lookup);
    k->lookup_sink = (krk_log_sink){cfg->log, cfg->log_ctx, NULL, NULL};
    k->lookup = krk_client_with_health(cfg, &k->lookup_sink, h);
    kmip_health_free(h);
    k->lookup_epoch = epoch;
    return k->lookup;
}

krk_err krk_lookup(krk_keyring *k, const char *data_id, const char *auth_id)
{
    krk_err e = krk_begin_key_op(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    if (krk_cached(k, data_id, auth_id))
        return KRK_OK;
    pthread_mutex_lock(&k->lookup_lock);
    /* a server that just failed is not asked again for a while: while it
     * is down, every missing key would cost the whole timeout, one caller
     * after the other */
    long long now = kmip_monotonic_ms();
    if (k->lookup_failed_ms && now - k->lookup_failed_ms < LOOKUP_RETRY_MS) {
        e = krk_set_error(k, KRK_E_KMIP, "looking up key %s: not asked, the KMIP server failed "
                          "%lld ms ago (%s)", data_id, now - k->lookup_failed_ms,
                          k->lookup_failure);
        pthread_mutex_unlock(&k->lookup_lock);
        return e;
    }
    krk_state tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.client = lookup_client(k, &tmp.cfg);
    if (tmp.client == NULL) {
        pthread_mutex_unlock(&k->lookup_lock);
        return krk_set_error(k, KRK_E_NOMEM, "cannot create the KMIP client");
    }
    kmip_client_begin_deadline(tmp.client, tmp.cfg.timeout_ms);
    krk_survey sv;
    char why[1024];
    if (!krk_survey_identity(&tmp, data_id, auth_id, NULL, &sv, why, sizeof why)) {
        e = krk_set_error(k, KRK_E_KMIP, "looking up key %s on the KMIP server failed: %s", data_id,
                          why);
    } else {
        e = KRK_E_NOT_FOUND;
        uint8_t *first = NULL;
        size_t first_len = 0;
        const krk_candidate *used = NULL;
        for (size_t i = 0; i < sv.count && e != KRK_E_KMIP; i++) {
            const krk_candidate *c = &sv.items[i];
            if (c->state == KMIP_STATE_PRE_ACTIVE)
                continue; /* never served */
            uint8_t *b = NULL;
            size_t len = 0;
            uint32_t ot = 0;
            kmip_client_err ce = kmip_client_get_key_as(
                tmp.client, c->uid,
                c->object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY ? KMIP_KEY_FORMAT_TYPE_RAW : 0,
                &b, &len, &ot);
            if (ce == KMIP_CLIENT_E_NOT_FOUND)
                continue;
            if (ce != KMIP_CLIENT_OK) {
                e = krk_set_error(k, KRK_E_KMIP, "looking up key %s: Get of object %s: %s", data_id,
                                  c->uid, kmip_client_error_message(tmp.client));
            } else if (used == NULL) {
                first = b;
                first_len = len;
                used = c;
                e = KRK_OK;
                continue;
            } else if (len != first_len || !kmip_ct_equal(b, first, len)) {
                e = krk_set_error(k, KRK_E_CONFLICT, "key %s (auth_id \"%s\") is in conflict: "
                                  "objects %s and %s on the KMIP server hold it with different "
                                  "bytes", data_id, auth_id, used->uid, c->uid);
            }
            kmip_secure_free(b, len);
        }
        if (e == KRK_OK) {
            krk_key *key = krk_key_new(data_id, auth_id, used->type, first, first_len, used->uid);
            pthread_rwlock_wrlock(&k->lock);
            if (key && krk_cache_find(&k->state->cache, data_id, auth_id) == NULL) {
                key->state = used->state;
                if (!krk_cache_insert(&k->state->cache, key))
                    e = krk_set_error(k, KRK_E_NOMEM, "out of memory");
            } else {
                krk_key_free(key);
            }
            pthread_rwlock_unlock(&k->lock);
        }
        kmip_secure_free(first, first_len);
        krk_survey_free(&sv);
    }
    kmip_client_end_deadline(tmp.client);
    if (e == KRK_E_KMIP) {
        k->lookup_failed_ms = kmip_monotonic_ms();
        snprintf(k->lookup_failure, sizeof k->lookup_failure, "%s", krk_last_error(k));
    } else {
        k->lookup_failed_ms = 0;
    }
    pthread_mutex_unlock(&k->lookup_lock);
    return e;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Refresh (the MariaDB plugin): the objects of the group that the cache
 * does not hold yet are fetched and merged in, under the writers' lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "handle.h"
#include "health.h"

typedef struct uid_snap {
    char **v;
    size_t n;
    bool failed;
} uid_snap;

static void take_uid_of(void *ctx, const krk_key *key)
{
    uid_snap *u = ctx;
    if ((u->v[u->n] = strdup(key->uid)) == NULL)
        u->failed = true;
    else
        u->n++;
}

/* Merges a fetched key into the cache (lock held): a new identity is
 * added; the same bytes again are nothing new; other bytes a conflict. */
static void merge_key(void *ctx, const krk_key *add)
{
    krk_cache *c = ctx;
    krk_key *held = krk_cache_find(c, add->data_id, add->auth_id);
    if (held == NULL) {
        krk_key *k = krk_key_new(add->data_id, add->auth_id, add->type, add->material,
                                 add->material_len, add->uid);
        if (k) {
            k->state = add->state;
            if (add->conflict_uid)
                k->conflict_uid = strdup(add->conflict_uid);
            krk_cache_insert(c, k);
        }
    } else if (held->conflict_uid == NULL) {
        /* another object with other bytes: add itself, or the conflict the
         * fetch found between add and a second new object (add holding the
         * held bytes came first; dropping it would serve one of two keys by
         * order of arrival, invariant 3) */
        bool same = held->material_len == add->material_len &&
                    kmip_ct_equal(held->material, add->material, add->material_len);
        const char *other = !same ? add->uid : add->conflict_uid;
        if (other != NULL) {
            krk_key_set_conflict(held, strdup(other)); /* lock-free readers see it at once */
            c->generation++;
        }
    }
}

krk_err krk_refresh(krk_keyring *k, size_t *added, krk_diag *d)
{
    krk_diag_clear(d);
    if (added)
        *added = 0;
    if (!krk_is_initialized(k))
        return KRK_E_NOT_INITIALIZED;
    pthread_mutex_lock(&k->write_lock);
    krk_state *s = k->state;
    uid_snap u = {NULL, 0, false};
    pthread_rwlock_rdlock(&k->lock);
    u.v = calloc(s->cache.count + 1, sizeof *u.v);
    if (u.v)
        krk_cache_each(&s->cache, take_uid_of, &u);
    pthread_rwlock_unlock(&k->lock);
    krk_state fresh;
    memset(&fresh, 0, sizeof fresh);
    krk_err e = u.v == NULL || u.failed ? krk_fail(d, KRK_E_NOMEM, "out of memory") : KRK_OK;
    /* renewed certificate files are taken up here (a MariaDB refresh has
     * no reload); files that cannot be used leave the old ones in service */
    unsigned long long stamp[4];
    krk_cred_stamp(&s->cfg, stamp);
    if (e == KRK_OK && memcmp(stamp, s->cred_stamp, sizeof stamp) != 0) {
        if (kmip_client_reload_credentials(s->client) == KMIP_CLIENT_OK)
            memcpy(s->cred_stamp, stamp, sizeof stamp);
        else
            krk_warn(d, "the certificate files were changed but cannot be used, the previous "
                     "credentials stay in service: %s", kmip_client_error_message(s->client));
    }
    long long cert_end = s->client_cert_not_after;
    char cert_warning[sizeof s->cert_warning];
    krk_health_cert_fields(s, &cert_end, cert_warning, sizeof cert_warning, s->cert_warning, d);
    if (e == KRK_OK) {
        kmip_client_begin_deadline(s->client, s->cfg.load_timeout_ms);
        e = krk_state_fetch_new(s, u.v, u.n, &fresh, d);
        kmip_client_end_deadline(s->client);
    }
    for (size_t i = 0; i < u.n; i++)
        free(u.v[i]);
    free(u.v);
    if (e == KRK_OK) {
        pthread_rwlock_wrlock(&k->lock);
        size_t before = s->cache.count;
        krk_cache_each(&fresh.cache, merge_key, &s->cache);
        if (added)
            *added = s->cache.count - before;
        s->load_requests = fresh.load_requests;
        krk_state_note_connection(s);
        s->client_cert_not_after = cert_end;
        memcpy(s->cert_warning, cert_warning, sizeof cert_warning);
        pthread_rwlock_unlock(&k->lock);
    } else {
        krk_set_error(k, e, "refresh failed, the keys in memory stay in service: %s", d->error);
    }
    krk_cache_clear(&fresh.cache);
    pthread_mutex_unlock(&k->write_lock);
    return e;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The keyring: readers work on the in-memory cache under a read lock and
 * never wait for the network; writers are serialized by a write mutex, do
 * their KMIP round trip without holding the read/write lock, and change
 * the cache only after the server confirmed. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "diag.h"
#include "health.h"
#include "layout.h"
#include "rcu.h"
#include "reconcile.h"
#include "secure.h"
#include "state.h"
#include "write.h"

struct krk_keyring {
    pthread_rwlock_t lock;      /* the state pointer and the cache */
    pthread_mutex_t write_lock; /* one writer (or reload) at a time */
    pthread_mutex_t err_lock;
    krk_state *state;
    uint64_t epoch;         /* changes with every swap of the state */
    pthread_mutex_t lookup_lock; /* krk_lookup, one at a time, on its own client */
    kmip_client *lookup;
    krk_log_sink lookup_sink; /* outlives the lookup client */
    uint64_t lookup_epoch;
    long long lookup_failed_ms; /* when the server last failed a lookup (monotonic), 0: never */
    char lookup_failure[768];
    char last_error[768];   /* the keyring's last error, for metadata (err_lock) */
};

/* krk_last_error: the calling thread's last error, never a buffer other
 * threads overwrite */
static _Thread_local char thread_error[768];

static const char *const type_names[] = {"AES", "RSA", "DSA", "SECRET"};

const char *krk_type_name(krk_key_type t)
{
    return (unsigned)t < 4 ? type_names[t] : "UNKNOWN";
}

bool krk_type_parse(const char *s, krk_key_type *t)
{
    for (unsigned i = 0; s && i < 4; i++) {
        if (strcasecmp(s, type_names[i]) == 0) {
            *t = (krk_key_type)i;
            return true;
        }
    }
    return false;
}

__attribute__((format(printf, 3, 4))) static krk_err set_error(krk_keyring *k, krk_err code,
                                                               const char *fmt, ...)
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

krk_err krk_open(const krk_config *cfg, krk_keyring **out, krk_diag *d)
{
    return krk_open_progress(cfg, NULL, NULL, out, d);
}

krk_err krk_open_progress(const krk_config *cfg, krk_progress_fn fn, void *ctx, krk_keyring **out,
                          krk_diag *d)
{
    krk_diag_clear(d);
    if (cfg == NULL || out == NULL)
        return KRK_E_ARG;
    *out = NULL;
    krk_keyring *k = calloc(1, sizeof *k);
    if (k == NULL)
        return krk_fail(d, KRK_E_NOMEM, "out of memory");
    krk_err e = krk_state_open(cfg, fn, ctx, &k->state, d);
    if (e != KRK_OK) {
        free(k);
        return e;
    }
    /* writers first: with glibc's default a steady stream of readers can
     * keep a writer (store, remove, reload) waiting indefinitely */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&k->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&k->write_lock, NULL);
    pthread_mutex_init(&k->err_lock, NULL);
    pthread_mutex_init(&k->lookup_lock, NULL);
    *out = k;
    return KRK_OK;
}

void krk_close(krk_keyring *k)
{
    if (k == NULL)
        return;
    krk_state_free(k->state);
    kmip_client_free(k->lookup);
    pthread_mutex_destroy(&k->lookup_lock);
    pthread_rwlock_destroy(&k->lock);
    pthread_mutex_destroy(&k->write_lock);
    pthread_mutex_destroy(&k->err_lock);
    free(k);
}

krk_err krk_reload(krk_keyring *k, const char *plugin_dir, const char *datadir, krk_diag *d)
{
    krk_config cfg;
    krk_err e = krk_config_find(plugin_dir, datadir, &cfg, d);
    if (e != KRK_OK)
        return set_error(k, e, "reload failed, the previous keys stay in service: %s", d->error);
    return krk_reload_with(k, &cfg, d);
}

/* The whole load runs under the writers' lock: a write acknowledged before
 * the reload is on the server when the load reads it, and none can land
 * between the load and the swap (which would lose it, or bring back a
 * removed key). Readers keep reading the old state until the swap. */
krk_err krk_reload_with(krk_keyring *k, const krk_config *cfg, krk_diag *d)
{
    krk_diag_clear(d);
    krk_state *fresh = NULL;
    pthread_mutex_lock(&k->write_lock);
    krk_err e = krk_state_open(cfg, NULL, NULL, &fresh, d);
    if (e != KRK_OK) {
        pthread_mutex_unlock(&k->write_lock);
        return set_error(k, e, "reload failed, the previous keys stay in service: %s", d->error);
    }
    pthread_rwlock_wrlock(&k->lock);
    krk_state *old = k->state;
    __atomic_store_n(&k->state, fresh, __ATOMIC_SEQ_CST); /* lock-free readers too */
    k->epoch++;
    pthread_rwlock_unlock(&k->lock);
    pthread_mutex_unlock(&k->write_lock);
    krk_rcu_synchronize(); /* no reader holds a key of the old state any more */
    krk_state_free(old);
    return KRK_OK;
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
        return set_error(k, KRK_E_ARG, "the key id (data_id) is empty: a key needs one");
    size_t dl = strlen(data_id), al = auth_id ? strlen(auth_id) : 0;
    if (dl > KRK_MAX_ID_BYTES || al > KRK_MAX_ID_BYTES)
        return set_error(k, KRK_E_TOO_BIG, "the %s has %zu bytes, more than the %d allowed",
                         dl > KRK_MAX_ID_BYTES ? "key id (data_id)" : "auth_id",
                         dl > KRK_MAX_ID_BYTES ? dl : al, KRK_MAX_ID_BYTES);
    return KRK_OK;
}

/* The checks every operation on one key starts with; an absent auth_id is
 * the empty one. */
static krk_err begin(krk_keyring *k, const char *data_id, const char **auth_id)
{
    if (!krk_is_initialized(k))
        return KRK_E_NOT_INITIALIZED;
    if (*auth_id == NULL)
        *auth_id = "";
    return check_ids(k, data_id, *auth_id);
}

/* A write and the check of its outcome together take at most the
 * configured timeout (kmip_timeout_ms). Called with the write lock held. */
static void begin_write(krk_keyring *k)
{
    kmip_client_begin_deadline(k->state->client, k->state->cfg.timeout_ms);
}

static void end_write(krk_keyring *k)
{
    kmip_client_end_deadline(k->state->client);
    pthread_rwlock_wrlock(&k->lock);
    krk_state_note_connection(k->state);
    pthread_rwlock_unlock(&k->lock);
}

static bool exists(krk_keyring *k, const char *data_id, const char *auth_id)
{
    pthread_rwlock_rdlock(&k->lock);
    bool found = krk_cache_find(&k->state->cache, data_id, auth_id) != NULL;
    pthread_rwlock_unlock(&k->lock);
    return found;
}

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
              : set_error(k, KRK_E_NOMEM, "out of memory: key %s stored on the server as %s but "
                          "not cached; reload to see it", data_id, uid);
}

/* A write with the protocol of write.h. On KRK_E_EXISTS the other object
 * is adopted into the cache when it is Active (the cache then agrees with
 * the server); a Pre-Active one is not adopted before it is Active. */
static krk_err write_locked(krk_keyring *k, const char *data_id, const char *auth_id,
                            const uint8_t *data, size_t size, krk_key_type type)
{
    if (exists(k, data_id, auth_id))
        return set_error(k, KRK_E_EXISTS, "key %s (auth_id \"%s\") exists already", data_id,
                         auth_id);
    krk_write_result *r = malloc(sizeof *r);
    if (r == NULL)
        return set_error(k, KRK_E_NOMEM, "out of memory");
    krk_err e = krk_write_key(k->state, type, data_id, auth_id, data, size, r);
    if (e == KRK_OK) {
        e = publish(k, data_id, auth_id, type, data ? data : r->key, data ? size : r->key_len,
                    r->uid);
    } else {
        set_error(k, e, "%s", r->message);
        if (e == KRK_E_EXISTS && r->other_key &&
            publish(k, data_id, auth_id, r->other_type, r->other_key, r->other_len,
                    r->other_uid) != KRK_OK)
            set_error(k, e, "%s", r->message);
    }
    krk_write_result_free(r);
    free(r);
    return e;
}

krk_err krk_store(krk_keyring *k, const char *data_id, const char *auth_id, const uint8_t *data,
                  size_t size, const char *type)
{
    krk_key_type t;
    krk_err e = begin(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    if (!krk_type_parse(type, &t))
        return set_error(k, KRK_E_TYPE, "unknown key type \"%s\": use AES, RSA, DSA or SECRET",
                         type ? type : "(null)");
    if (data == NULL || size == 0 || size > KRK_MAX_KEY_BYTES)
        return set_error(k, size > KRK_MAX_KEY_BYTES ? KRK_E_TOO_BIG : KRK_E_ARG,
                         "a key has 1 to %d bytes, not %zu", KRK_MAX_KEY_BYTES, size);
    pthread_mutex_lock(&k->write_lock);
    begin_write(k);
    e = write_locked(k, data_id, auth_id, data, size, t);
    end_write(k);
    pthread_mutex_unlock(&k->write_lock);
    return e;
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
        return set_error(k, KRK_E_TOO_BIG, "a key has 1 to %d bytes, not %zu", KRK_MAX_KEY_BYTES,
                         size);
    if (!krk_type_parse(type, &t))
        return set_error(k, KRK_E_TYPE, "unknown key type \"%s\": use AES, RSA, DSA or SECRET",
                         type ? type : "(null)");
    if (t == KRK_TYPE_AES && (size == 16 || size == 24 || size == 32)) {
        krk_err e = begin(k, data_id, &auth_id);
        if (e != KRK_OK)
            return e;
        pthread_mutex_lock(&k->write_lock);
        begin_write(k);
        e = write_locked(k, data_id, auth_id, NULL, size, KRK_TYPE_AES);
        end_write(k);
        pthread_mutex_unlock(&k->write_lock);
        return e;
    }
    uint8_t *data = malloc(size);
    if (data == NULL)
        return set_error(k, KRK_E_NOMEM, "out of memory");
    krk_err e = RAND_bytes(data, (int)size) == 1
                    ? krk_store(k, data_id, auth_id, data, size, type)
                    : set_error(k, KRK_E_NOMEM, "the random generator failed");
    kmip_secure_free(data, size);
    return e;
}

static krk_err conflict_error(krk_keyring *k, const krk_key *key);

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
    set_error(k, KRK_E_KMIP, "removing key %s (object %s) failed: %s", data_id, uid,
              kmip_client_error_message(s->client));
    char was[sizeof thread_error], why[512];
    memcpy(was, thread_error, sizeof was);
    if (!krk_outcome_unknown(ce)) {
        uint32_t now = 0;
        if (krk_object_state(s, uid, &now) && now != *state &&
            (now == KMIP_STATE_DEACTIVATED || now == KMIP_STATE_COMPROMISED)) {
            *state = now;
            set_error(k, KRK_E_KMIP, "%s; the server revoked it (now %s) but did not destroy "
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
        set_error(k, KRK_E_KMIP, "%s; the key is still Active on the server (checked) and "
                  "stays in the keyring", was);
        return REMOVAL_KEPT;
    }
    set_error(k, KRK_E_KMIP, "%s; whether the server removed it could not be checked (%s): "
              "the key is taken out of the keyring, a reload brings it back if the server "
              "kept it", was, why);
    return REMOVAL_UNKNOWN;
}

krk_err krk_remove(krk_keyring *k, const char *data_id, const char *auth_id)
{
    krk_err e = begin(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    pthread_mutex_lock(&k->write_lock);
    begin_write(k);
    removal r;
    char *uid = NULL;
    pthread_rwlock_rdlock(&k->lock);
    const krk_key *key = krk_cache_find(&k->state->cache, data_id, auth_id);
    bool found = key != NULL, conflict = key && key->conflict_uid;
    if (conflict)
        e = conflict_error(k, key);
    else if (key)
        uid = strdup(key->uid);
    uint32_t state = key ? key->state : 0;
    pthread_rwlock_unlock(&k->lock);
    if (conflict) {
        /* which object to remove is the operator's decision */
    } else if (!found) {
        e = set_error(k, KRK_E_NOT_FOUND, "no key %s (auth_id \"%s\")", data_id, auth_id);
    } else if (uid == NULL) {
        e = set_error(k, KRK_E_NOMEM, "out of memory");
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
    end_write(k);
    pthread_mutex_unlock(&k->write_lock);
    free(uid);
    return e;
}

/* ---- refresh and lookup (the MariaDB plugin) ---- */

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
    } else if (held->conflict_uid == NULL &&
               (held->material_len != add->material_len ||
                !kmip_ct_equal(held->material, add->material, add->material_len))) {
        krk_key_set_conflict(held, strdup(add->uid)); /* lock-free readers see it at once */
        c->generation++;
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
        set_error(k, e, "refresh failed, the keys in memory stay in service: %s", d->error);
    }
    krk_cache_clear(&fresh.cache);
    pthread_mutex_unlock(&k->write_lock);
    return e;
}

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
    k->lookup_sink = (krk_log_sink){cfg->log, cfg->log_ctx, NULL};
    k->lookup = krk_client_with_health(cfg, &k->lookup_sink, h);
    kmip_health_free(h);
    k->lookup_epoch = epoch;
    return k->lookup;
}

krk_err krk_lookup(krk_keyring *k, const char *data_id, const char *auth_id)
{
    krk_err e = begin(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    if (exists(k, data_id, auth_id))
        return KRK_OK;
    pthread_mutex_lock(&k->lookup_lock);
    /* a server that just failed is not asked again for a while: while it
     * is down, every missing key would cost the whole timeout, one caller
     * after the other */
    long long now = kmip_monotonic_ms();
    if (k->lookup_failed_ms && now - k->lookup_failed_ms < LOOKUP_RETRY_MS) {
        e = set_error(k, KRK_E_KMIP, "looking up key %s: not asked, the KMIP server failed %lld "
                      "ms ago (%s)", data_id, now - k->lookup_failed_ms, k->lookup_failure);
        pthread_mutex_unlock(&k->lookup_lock);
        return e;
    }
    krk_state tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.client = lookup_client(k, &tmp.cfg);
    if (tmp.client == NULL) {
        pthread_mutex_unlock(&k->lookup_lock);
        return set_error(k, KRK_E_NOMEM, "cannot create the KMIP client");
    }
    kmip_client_begin_deadline(tmp.client, tmp.cfg.timeout_ms);
    krk_survey sv;
    char why[1024];
    if (!krk_survey_identity(&tmp, data_id, auth_id, NULL, &sv, why, sizeof why)) {
        e = set_error(k, KRK_E_KMIP, "looking up key %s on the KMIP server failed: %s", data_id,
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
                e = set_error(k, KRK_E_KMIP, "looking up key %s: Get of object %s: %s", data_id,
                              c->uid, kmip_client_error_message(tmp.client));
            } else if (used == NULL) {
                first = b;
                first_len = len;
                used = c;
                e = KRK_OK;
                continue;
            } else if (len != first_len || !kmip_ct_equal(b, first, len)) {
                e = set_error(k, KRK_E_CONFLICT, "key %s (auth_id \"%s\") is in conflict: "
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
                    e = set_error(k, KRK_E_NOMEM, "out of memory");
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
        snprintf(k->lookup_failure, sizeof k->lookup_failure, "%s", thread_error);
    } else {
        k->lookup_failed_ms = 0;
    }
    pthread_mutex_unlock(&k->lookup_lock);
    return e;
}

/* ---- reader ---- */

/* The message for a key in conflict (called with the lock held). */
static krk_err conflict_error(krk_keyring *k, const krk_key *key)
{
    return set_error(k, KRK_E_CONFLICT, "key %s (auth_id \"%s\") is in conflict: objects %s and "
                     "%s on the KMIP server hold it with different bytes; it is not served "
                     "until an operator removes the wrong one (`keyring-kmip check` lists them)",
                     key->data_id, key->auth_id, key->uid, key->conflict_uid);
}

struct krk_reader {
    krk_key_type type;
    uint8_t *data; /* small: held, large: its own block */
    size_t len;
    uint8_t held[64];
};

/* r's copy of the bytes (r from malloc, nothing else set yet): one heap
 * block for the usual key sizes. */
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
     * never reach the fast path: begin()/check_ids give the one answer */
    if (k == NULL || data_id == NULL || data_id[0] == '\0' ||
        strnlen(data_id, KRK_MAX_ID_BYTES + 1) > KRK_MAX_ID_BYTES ||
        strnlen(auth_id, KRK_MAX_ID_BYTES + 1) > KRK_MAX_ID_BYTES)
        return NULL;
    krk_reader *r = malloc(sizeof *r);
    if (r == NULL || !krk_rcu_read_lock()) {
        free(r);
        return NULL;
    }
    const krk_state *s = __atomic_load_n(&k->state, __ATOMIC_SEQ_CST);
    const krk_key *key = s ? krk_cache_find_rcu(&s->cache, data_id, auth_id) : NULL;
    /* the ordinary heap: short-lived, wiped (the secure heap's one lock
     * would serialize all readers) */
    bool ok = key && krk_key_conflict(key) == NULL && reader_copy(r, key);
    krk_rcu_read_unlock();
    if (!ok) {
        free(r); /* nothing copied into it */
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
    krk_err e = begin(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    krk_reader *r = calloc(1, sizeof *r); /* data NULL until copied */
    if (r == NULL)
        return set_error(k, KRK_E_NOMEM, "out of memory");
    pthread_rwlock_rdlock(&k->lock);
    const krk_key *key = krk_cache_find(&k->state->cache, data_id, auth_id);
    if (key && key->conflict_uid) {
        conflict_error(k, key);
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
        return key ? set_error(k, KRK_E_NOMEM, "out of memory") : KRK_E_NOT_FOUND;
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
    free(r);
}

/* ---- AES key material (aes.c) ---- */

krk_err krk_aes_key(krk_keyring *k, const char *data_id, const char *auth_id, uint8_t digest[32])
{
    krk_err e = begin(k, data_id, &auth_id);
    if (e != KRK_OK)
        return e;
    pthread_rwlock_rdlock(&k->lock);
    const krk_key *key = krk_cache_find(&k->state->cache, data_id, auth_id);
    if (key == NULL)
        e = KRK_E_NOT_FOUND;
    else if (key->conflict_uid)
        e = conflict_error(k, key);
    else if (key->type != KRK_TYPE_AES)
        e = KRK_E_TYPE;
    else
        SHA256(key->material, key->material_len, digest);
    pthread_rwlock_unlock(&k->lock);
    if (e == KRK_E_TYPE)
        set_error(k, e, "key %s is not of type AES", data_id);
    return e;
}

/* ---- iterator ---- */

struct krk_iter {
    krk_keyring *k;
    uint64_t epoch;
    uint64_t generation;
    char **data_ids;
    char **auth_ids;
    krk_key_state *states;
    size_t count, pos;
};

static krk_key_state state_of_key(const krk_key *key)
{
    if (key->conflict_uid)
        return KRK_KEY_CONFLICT;
    if (key->state == KMIP_STATE_DEACTIVATED)
        return KRK_KEY_DEACTIVATED;
    if (key->state == KMIP_STATE_COMPROMISED)
        return KRK_KEY_COMPROMISED;
    return KRK_KEY_ACTIVE;
}

const char *krk_key_state_name(krk_key_state st)
{
    static const char *const names[] = {"Active", "Deactivated", "Compromised", "Conflict"};
    return (unsigned)st < 4 ? names[st] : "unknown";
}

typedef struct snap {
    krk_iter *it;
    bool failed;
} snap;

static void take_ids(void *ctx, const krk_key *key)
{
    snap *s = ctx;
    krk_iter *it = s->it;
    it->data_ids[it->count] = strdup(key->data_id);
    it->auth_ids[it->count] = strdup(key->auth_id);
    it->states[it->count] = state_of_key(key);
    if (it->data_ids[it->count] == NULL || it->auth_ids[it->count] == NULL)
        s->failed = true;
    it->count++;
}

krk_err krk_iter_init(krk_keyring *k, krk_iter **out)
{
    *out = NULL;
    if (!krk_is_initialized(k))
        return KRK_E_NOT_INITIALIZED;
    krk_iter *it = calloc(1, sizeof *it);
    if (it == NULL)
        return set_error(k, KRK_E_NOMEM, "out of memory");
    it->k = k;
    pthread_rwlock_rdlock(&k->lock);
    const krk_cache *c = &k->state->cache;
    it->epoch = k->epoch;
    it->generation = c->generation;
    it->data_ids = calloc(c->count + 1, sizeof(char *));
    it->auth_ids = calloc(c->count + 1, sizeof(char *));
    it->states = calloc(c->count + 1, sizeof *it->states);
    snap s = {it, it->data_ids == NULL || it->auth_ids == NULL || it->states == NULL};
    if (!s.failed)
        krk_cache_each(c, take_ids, &s);
    pthread_rwlock_unlock(&k->lock);
    if (s.failed) {
        krk_iter_deinit(it);
        return set_error(k, KRK_E_NOMEM, "out of memory");
    }
    *out = it;
    return KRK_OK;
}

static bool unchanged(const krk_iter *it)
{
    pthread_rwlock_rdlock(&it->k->lock);
    bool same = it->k->epoch == it->epoch && it->k->state->cache.generation == it->generation;
    pthread_rwlock_unlock(&it->k->lock);
    return same;
}

bool krk_iter_is_valid(const krk_iter *it)
{
    return it != NULL && it->pos < it->count && unchanged(it);
}

krk_err krk_iter_next(krk_iter *it)
{
    if (!unchanged(it))
        return KRK_E_INVALIDATED;
    if (it->pos >= it->count)
        return KRK_E_NOT_FOUND;
    it->pos++;
    return KRK_OK;
}

krk_err krk_iter_get_length(const krk_iter *it, size_t *data_id_len, size_t *auth_id_len)
{
    if (!krk_iter_is_valid(it))
        return unchanged(it) ? KRK_E_NOT_FOUND : KRK_E_INVALIDATED;
    *data_id_len = strlen(it->data_ids[it->pos]);
    *auth_id_len = strlen(it->auth_ids[it->pos]);
    return KRK_OK;
}

krk_err krk_iter_get(const krk_iter *it, char *data_id, size_t data_id_cap, char *auth_id,
                     size_t auth_id_cap)
{
    size_t dl, al;
    krk_err e = krk_iter_get_length(it, &dl, &al);
    if (e != KRK_OK)
        return e;
    if (data_id == NULL || auth_id == NULL || data_id_cap <= dl || auth_id_cap <= al)
        return KRK_E_BUFFER;
    memcpy(data_id, it->data_ids[it->pos], dl + 1);
    memcpy(auth_id, it->auth_ids[it->pos], al + 1);
    return KRK_OK;
}

krk_err krk_iter_get_state(const krk_iter *it, krk_key_state *state)
{
    size_t dl, al;
    krk_err e = krk_iter_get_length(it, &dl, &al);
    if (e == KRK_OK)
        *state = it->states[it->pos];
    return e;
}

void krk_iter_deinit(krk_iter *it)
{
    if (it == NULL)
        return;
    for (size_t i = 0; i < it->count; i++) {
        free(it->data_ids[i]);
        free(it->auth_ids[i]);
    }
    free(it->data_ids);
    free(it->auth_ids);
    free(it->states);
    free(it);
}

/* ---- status ---- */

size_t krk_key_count(const krk_keyring *k)
{
    krk_keyring *m = (krk_keyring *)k;
    pthread_rwlock_rdlock(&m->lock);
    size_t n = k->state ? k->state->cache.count : 0;
    pthread_rwlock_unlock(&m->lock);
    return n;
}

void krk_health_get(const krk_keyring *k, krk_health *out)
{
    krk_keyring *m = (krk_keyring *)k;
    pthread_rwlock_rdlock(&m->lock);
    krk_health_summary(k->state, out);
    pthread_rwlock_unlock(&m->lock);
}

size_t krk_probe_servers(krk_keyring *k)
{
    size_t probed = 0;
    pthread_mutex_lock(&k->write_lock); /* the writers' client */
    kmip_client *c = k->state ? k->state->client : NULL;
    kmip_server_health h[KMIP_MAX_SERVERS];
    size_t n = c ? kmip_health_snapshot(kmip_client_health(c), h, KMIP_MAX_SERVERS) : 0;
    for (size_t i = 0; i < n && i < KMIP_MAX_SERVERS; i++) {
        if (h[i].state != KMIP_SERVER_UNTRIED)
            continue; /* this run has a result for it */
        kmip_client_err e = kmip_client_probe(c, i); /* the result is in the health table */
        probed += e == KMIP_CLIENT_OK || e != KMIP_CLIENT_E_ARG;
    }
    pthread_mutex_unlock(&k->write_lock);
    return probed;
}

uint64_t krk_load_requests(const krk_keyring *k)
{
    krk_keyring *m = (krk_keyring *)k;
    pthread_rwlock_rdlock(&m->lock);
    uint64_t n = k->state ? k->state->load_requests : 0;
    pthread_rwlock_unlock(&m->lock);
    return n;
}

static void count_state(void *ctx, const krk_key *key)
{
    ((size_t *)ctx)[state_of_key(key)]++;
}

size_t krk_metadata(const krk_keyring *k, krk_metadata_item *items, size_t cap)
{
    krk_keyring *m = (krk_keyring *)k;
    size_t n = 0;
#define PUT(key_, ...)                                                                             \
    do {                                                                                           \
        if (n < cap) {                                                                             \
            snprintf(items[n].key, sizeof items[n].key, "%s", key_);                               \
            snprintf(items[n].value, sizeof items[n].value, __VA_ARGS__);                          \
            n++;                                                                                   \
        }                                                                                          \
    } while (0)
    PUT("Component_name", "component_keyring_kmip");
    PUT("Author", "keyring_kmip developers");
    PUT("License", "GPL-2.0-only");
    PUT("Implementation_name", "component_keyring_kmip");
    PUT("Version", "%s", KRK_VERSION);
    pthread_rwlock_rdlock(&m->lock);
    const krk_state *s = k->state;
    PUT("Component_status", "%s", s ? "Active" : "Disabled");
    if (s) {
        PUT("Server_addr", "%s", s->cfg.server_addr);
        PUT("Server_port", "%u", s->cfg.server_port);
        PUT("Client_ca", "%s", s->cfg.client_cert);
        PUT("Client_key", "%s", s->cfg.client_key);
        PUT("Server_ca", "%s", s->cfg.server_ca);
        PUT("Object_group", "%s", s->cfg.object_group);
        PUT("TLS_verification", "%s", krk_verification_text(&s->cfg));
        /* copies the writers made under the lock: the client itself is the
         * writers' (it may be reconnecting right now) */
        PUT("KMIP_version", "%s", s->kmip_version);
        PUT("TLS_version", "%s", s->tls_version);
        PUT("Key_count", "%zu", s->cache.count);
        size_t n_state[4] = {0};
        krk_cache_each(&s->cache, count_state, n_state);
        PUT("Key_states", "%zu Active, %zu Deactivated, %zu Compromised, %zu in conflict "
            "(not served)", n_state[KRK_KEY_ACTIVE], n_state[KRK_KEY_DEACTIVATED],
            n_state[KRK_KEY_COMPROMISED], n_state[KRK_KEY_CONFLICT]);
    }
    if (s)
        n = krk_health_rows(s, items, n, cap);
    char where[300];
    krk_secure_describe(where, sizeof where);
    PUT("Key_memory", "%s", where);
    pthread_rwlock_unlock(&m->lock);
    pthread_mutex_lock(&m->err_lock);
    PUT("Last_error", "%s", k->last_error);
    pthread_mutex_unlock(&m->err_lock);
#undef PUT
    return n;
}

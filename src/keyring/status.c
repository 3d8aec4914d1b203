/* SPDX-License-Identifier: GPL-2.0-only */
/* Status and metadata of a keyring: key counts, the servers' health, the
 * rows of the component's status and metadata. */
#include <pthread.h>
#include <stdio.h>

#include "client_opts.h"
#include "handle.h"
#include "health.h"
#include "secure.h"
#include "types.h"

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
    ((size_t *)ctx)[krk_key_state_of(key)]++;
}

size_t krk_metadata(const krk_keyring *k, krk_metadata_item *items, size_t cap)
{
    krk_keyring *m = (krk_keyring *)k;
    size_t n = 0;
#define PUT(key_, ...) (n = krk_metadata_row(items, n, cap, key_, __VA_ARGS__))
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

/* SPDX-License-Identifier: GPL-2.0-only */
/* Opening, closing and reloading a keyring: a reload builds a new state
 * (load.c) under the writers' lock and swaps it in; readers keep reading
 * the old one until the swap. */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "diag.h"
#include "handle.h"
#include "rcu.h"

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
    k->pid = getpid();
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
    if (getpid() != k->pid) {
        /* a child forked from the process that opened it: its copy of every
         * lock may have been taken by a thread that does not exist here
         * (helpers, writers, status readers: review s5a F5-1, 35 of 200
         * children hung in the health table's mutex), so nothing is
         * released; memory and descriptors go with the child's exit or exec
         * (the sockets are close-on-exec) */
        return;
    }
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
        return krk_set_error(k, e, "reload failed, the previous keys stay in service: %s",
                             d->error);
    return krk_reload_with(k, &cfg, d);
}

/* The whole load runs under the writers' lock: a write acknowledged before
 * the reload is on the server when the load reads it, and none can land
 * between the load and the swap (which would lose it, or bring back a
 * removed key). Readers keep reading the old state until the swap. */
krk_err krk_reload_with(krk_keyring *k, const krk_config *cfg, krk_diag *d)
{
    krk_diag_clear(d);
    krk_state *fresh = NULL, *leftover = NULL;
    pthread_mutex_lock(&k->write_lock);
    krk_err e = krk_state_open_leaving(cfg, NULL, NULL, &fresh, &leftover, d);
    if (e != KRK_OK) {
        pthread_mutex_unlock(&k->write_lock);
        /* its helpers may still be in a handshake: waiting for them here,
         * not under the writers' lock */
        krk_state_free(leftover);
        return krk_set_error(k, e, "reload failed, the previous keys stay in service: %s",
                             d->error);
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

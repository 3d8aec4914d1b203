/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip migrate: the KMIP keyring as migrate sees it (open, list,
 * read one key, store, close), in one place, through the CLI's one door to
 * the keyring (keyring_services.c): the component loaded through the chassis
 * as mysqld loads it, or linked in for --config, and its MySQL keyring
 * services. Writes go through keyring_writer, that is the keyring's write
 * protocol (one object per identity, docs/RELIABILITY.md invariant 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyring_services.h"
#include "kmip/kmip_ttlv.h"
#include "migrate.h"

struct mig_kmip {
    ks_keyring *k;
    char error[1024];
};

int mig_kmip_exit_for(int err)
{
    return ks_exit_for((krk_err)err, true);
}

int mig_kmip_open(const mig_kmip_where *w, mig_kmip **out)
{
    *out = NULL;
    mig_kmip *k = calloc(1, sizeof *k);
    if (k == NULL) {
        fputs("keyring-kmip migrate: out of memory\n", stderr);
        return CLI_BAD_INPUT;
    }
    ks_where where = {w->config, w->basedir, w->datadir, w->plugin_dir,
                      isatty(STDERR_FILENO) != 0, false};
    krk_diag d;
    memset(&d, 0, sizeof d);
    krk_err e = ks_open(&where, &k->k, &d);
    for (size_t i = 0; i < d.warning_count; i++)
        fprintf(stderr, "keyring-kmip: warning: %s\n", d.warnings[i]);
    if (e != KRK_OK) {
        fprintf(stderr, "keyring-kmip migrate: the KMIP keyring: %s\n",
                d.error[0] ? d.error : krk_strerror(e));
        free(k);
        return mig_kmip_exit_for((int)e);
    }
    *out = k;
    return -1;
}

int mig_kmip_read(mig_kmip *k, const char *data_id, const char *auth_id, uint8_t *data,
                  size_t cap, size_t *len, char *type, size_t type_cap)
{
    *len = 0;
    krk_err e = ks_get(k->k, data_id, auth_id, data, cap, len, type, type_cap);
    if (e != KRK_OK)
        snprintf(k->error, sizeof k->error, "%s",
                 e == KRK_E_NOT_FOUND ? "no such key" : ks_error(k->k));
    return (int)e;
}

typedef struct id_list {
    char **ids; /* data_id, auth_id pairs */
    size_t n, cap;
    bool failed;
} id_list;

static bool collect(void *ctx, const char *data_id, const char *auth_id, krk_key_state state,
                    const char *state_name)
{
    (void)state;
    (void)state_name;
    id_list *l = ctx;
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 128;
        char **ids = realloc(l->ids, cap * sizeof *ids);
        if (ids == NULL) {
            l->failed = true;
            return false;
        }
        l->ids = ids;
        l->cap = cap;
    }
    l->ids[l->n] = strdup(data_id);
    l->ids[l->n + 1] = strdup(auth_id);
    l->n += 2;
    if (l->ids[l->n - 2] == NULL || l->ids[l->n - 1] == NULL)
        l->failed = true;
    return !l->failed;
}

int mig_kmip_list(mig_kmip *k, mig_keys *out, size_t *unreadable)
{
    *unreadable = 0;
    id_list l = {0};
    krk_err e = ks_each_key(k->k, collect, &l);
    int rc = -1;
    if (e != KRK_OK || l.failed) {
        fprintf(stderr, "keyring-kmip migrate: listing the KMIP keyring: %s\n",
                l.failed ? "out of memory" : ks_error(k->k));
        rc = l.failed ? CLI_BAD_INPUT : mig_kmip_exit_for((int)e);
    }
    uint8_t *data = rc < 0 ? malloc(KRK_MAX_KEY_BYTES) : NULL;
    if (rc < 0 && data == NULL) {
        fputs("keyring-kmip migrate: out of memory\n", stderr);
        rc = CLI_BAD_INPUT;
    }
    for (size_t i = 0; rc < 0 && i < l.n; i += 2) {
        char type[16];
        size_t len = 0;
        if (mig_kmip_read(k, l.ids[i], l.ids[i + 1], data, KRK_MAX_KEY_BYTES, &len, type,
                          sizeof type) != KRK_OK) {
            /* a key in conflict on the server (two objects, other bytes) */
            fprintf(stderr, "keyring-kmip migrate: key %s (auth_id \"%s\") cannot be read: %s\n",
                    l.ids[i], l.ids[i + 1], k->error);
            ++*unreadable;
        } else if (!mig_keys_add(out, l.ids[i], l.ids[i + 1], type, data, len)) {
            fputs("keyring-kmip migrate: out of memory\n", stderr);
            rc = CLI_BAD_INPUT;
        }
        kmip_secure_zero(data, len);
    }
    free(data);
    for (size_t i = 0; i < l.n; i++)
        free(l.ids[i]);
    free(l.ids);
    return rc;
}

int mig_kmip_store(mig_kmip *k, const mig_key *key)
{
    krk_err e = ks_store(k->k, key->data_id, key->auth_id, key->data, key->len, key->type);
    if (e != KRK_OK)
        snprintf(k->error, sizeof k->error, "%s", ks_error(k->k));
    return (int)e;
}

const char *mig_kmip_error(mig_kmip *k)
{
    return k->error;
}

void mig_kmip_close(mig_kmip *k)
{
    if (k == NULL)
        return;
    ks_close(k->k);
    free(k);
}

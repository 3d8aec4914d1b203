/* SPDX-License-Identifier: GPL-2.0-only */
/* The CLI's keyring through the chassis and the services (see
 * keyring_services.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "component_builtin.h"
#include "keyring_kmip/krk_chassis.h"
#include "keyring_kmip/krk_loader.h"
#include "keyring_services.h"

struct ks_keyring {
    krk_loaded loaded;
    char config_path[4096];
    char error[1024];
};

/* the host log's sink; errors during a call are the call's to report */
static bool in_call;

static void log_sink(void *ctx, int level, const char *message)
{
    (void)ctx;
    if (level >= 2 || (level == 0 && in_call))
        return;
    /* the host log says which component; here there is only ours */
    size_t n = strlen(KRK_COMPONENT_NAME ": ");
    if (strncmp(message, KRK_COMPONENT_NAME ": ", n) == 0)
        message += n;
    fprintf(stderr, "keyring-kmip: %s: %s\n", level == 0 ? "error" : "warning", message);
}

/* "loading keys: 500/1000" while a large keyring loads */
static void show_progress(void *ctx, size_t loaded, size_t total)
{
    (void)ctx;
    fprintf(stderr, "\rloading keys: %zu/%zu", loaded, total);
    if (loaded == total)
        fputs("\r\033[K", stderr);
}

krk_err ks_open(const ks_where *w, ks_keyring **out, krk_diag *d)
{
    *out = NULL;
    ks_keyring *k = calloc(1, sizeof *k);
    if (k == NULL)
        return KRK_E_NOMEM;
    krk_loader_options o = {0};
    o.migrate_keyring = w->migrate_keyring;
    o.log = log_sink;
    o.progress = w->progress ? show_progress : NULL;
    in_call = true;
    krk_err e = w->config ? krk_loader_open_file(krk_component_builtin, w->config, &o, &k->loaded, d)
                          : krk_loader_open(w->basedir, w->datadir, w->plugin_dir, &o, &k->loaded,
                                            d);
    in_call = false;
    if (e != KRK_OK) {
        free(k);
        return e;
    }
    if (k->loaded.svc.admin == NULL ||
        k->loaded.svc.admin->config_path(k->config_path, sizeof k->config_path) != 0)
        k->config_path[0] = '\0';
    *out = k;
    return KRK_OK;
}

void ks_close(ks_keyring *k)
{
    if (k == NULL)
        return;
    krk_loader_close(&k->loaded);
    free(k);
}

/* A service's status to a krk_err, the message kept for ks_error. */
static krk_err result(ks_keyring *k, int status)
{
    in_call = false;
    if (status == 0)
        return KRK_OK;
    const keyring_kmip_admin_t *a = k->loaded.svc.admin;
    krk_err e = a ? a->last_error(k->error, sizeof k->error) : KRK_E_KMIP;
    if (e == KRK_OK || a == NULL) {
        snprintf(k->error, sizeof k->error, "the keyring service failed");
        e = KRK_E_KMIP;
    }
    return e;
}

const char *ks_error(ks_keyring *k)
{
    return k->error;
}

krk_err ks_store(ks_keyring *k, const char *data_id, const char *auth_id, const uint8_t *data,
                 size_t len, const char *type)
{
    in_call = true;
    return result(k, k->loaded.svc.writer->store(data_id, auth_id, data, len, type));
}

krk_err ks_generate(ks_keyring *k, const char *data_id, const char *auth_id, const char *type,
                    size_t len)
{
    in_call = true;
    return result(k, k->loaded.svc.generator->generate(data_id, auth_id, type, len));
}

krk_err ks_remove(ks_keyring *k, const char *data_id, const char *auth_id)
{
    in_call = true;
    return result(k, k->loaded.svc.writer->remove(data_id, auth_id));
}

krk_err ks_get(ks_keyring *k, const char *data_id, const char *auth_id, uint8_t *data,
               size_t cap, size_t *len, char *type, size_t type_cap)
{
    const mysql_service_keyring_reader_with_status_t *r = k->loaded.svc.reader;
    my_h_keyring_reader_object h = NULL;
    in_call = true;
    krk_err e = result(k, r->init(data_id, auth_id, &h));
    if (e != KRK_OK)
        return e;
    if (h == NULL) { /* not found */
        snprintf(k->error, sizeof k->error, "no key %s (auth_id \"%s\")", data_id, auth_id);
        return KRK_E_NOT_FOUND;
    }
    size_t tl = 0;
    in_call = true;
    e = result(k, r->fetch(h, data, cap, len, type, type_cap, &tl));
    (void)r->deinit(h);
    return e;
}

krk_err ks_each_key(ks_keyring *k, ks_key_fn fn, void *ctx)
{
    const mysql_service_keyring_keys_metadata_iterator_t *s = k->loaded.svc.keys;
    const keyring_kmip_admin_t *a = k->loaded.svc.admin;
    my_h_keyring_keys_metadata_iterator it = NULL;
    in_call = true;
    krk_err e = result(k, s->init(&it));
    if (e != KRK_OK)
        return e;
    static char d[KRK_MAX_ID_BYTES + 1], au[KRK_MAX_ID_BYTES + 1];
    for (; e == KRK_OK && s->is_valid(it); (void)s->next(it)) {
        in_call = true;
        e = result(k, s->get(it, d, sizeof d, au, sizeof au));
        if (e != KRK_OK)
            break;
        krk_key_state st = KRK_KEY_ACTIVE;
        if (a && a->iterator_state(it, &st) != 0)
            st = KRK_KEY_ACTIVE;
        if (!fn(ctx, d, au, st, a ? a->key_state_name(st) : "Active"))
            break;
    }
    (void)s->deinit(it);
    return e;
}

krk_err ks_each_status(ks_keyring *k, ks_row_fn fn, void *ctx)
{
    const mysql_service_keyring_component_metadata_query_t *m = k->loaded.svc.metadata;
    my_h_keyring_component_metadata_iterator it = NULL;
    in_call = true;
    krk_err e = result(k, m->init(&it));
    if (e != KRK_OK)
        return e;
    for (; e == KRK_OK && m->is_valid(it); (void)m->next(it)) {
        size_t kl, vl;
        in_call = true;
        e = result(k, m->get_length(it, &kl, &vl));
        char *key = e == KRK_OK ? malloc(kl) : NULL, *value = key ? malloc(vl) : NULL;
        if (e == KRK_OK && value == NULL)
            e = KRK_E_NOMEM;
        if (e == KRK_OK) {
            in_call = true;
            e = result(k, m->get(it, key, kl, value, vl));
        }
        if (e == KRK_OK)
            fn(ctx, key, value);
        free(key);
        free(value);
    }
    (void)m->deinit(it);
    return e;
}

typedef struct find_row {
    const char *key;
    char *buf;
    size_t cap;
    bool found;
} find_row;

static void match_row(void *ctx, const char *key, const char *value)
{
    find_row *f = ctx;
    if (!f->found && strcmp(key, f->key) == 0) {
        snprintf(f->buf, f->cap, "%s", value);
        f->found = true;
    }
}

bool ks_status_value(ks_keyring *k, const char *key, char *buf, size_t cap)
{
    find_row f = {key, buf, cap, false};
    if (cap)
        buf[0] = '\0';
    return ks_each_status(k, match_row, &f) == KRK_OK && f.found;
}

krk_err ks_check_server(ks_keyring *k, bool repair, krk_check_fn fn, void *ctx,
                        krk_check_result *out)
{
    const keyring_kmip_admin_t *a = k->loaded.svc.admin;
    if (a == NULL) {
        snprintf(k->error, sizeof k->error, "the keyring component has no %s service",
                 KRK_ADMIN_SERVICE);
        return KRK_E_ARG;
    }
    in_call = true;
    krk_err e = a->check_server(repair, fn, ctx, out);
    in_call = false;
    if (e != KRK_OK && a->last_error(k->error, sizeof k->error) == KRK_OK)
        snprintf(k->error, sizeof k->error, "%s", krk_strerror(e));
    return e;
}

size_t ks_probe_servers(ks_keyring *k)
{
    /* the v2 admin service of the same implementation, acquired for this
     * call only (an older component lacks it: nothing probed) */
    const mysql_service_registry_t *r = krk_chassis_registry();
    char name[256];
    snprintf(name, sizeof name, "%s.%s", KRK_ADMIN_V2_SERVICE, k->loaded.svc.implementation);
    my_h_service h = NULL;
    if (r == NULL || r->acquire(name, &h) != 0)
        return 0;
    const keyring_kmip_admin_v2_t *a = (const void *)h;
    size_t n = 0;
    if (a->version() >= 1) {
        in_call = true;
        n = a->probe_servers();
        in_call = false;
    }
    (void)r->release(h);
    return n;
}

uint64_t ks_load_requests(ks_keyring *k)
{
    const keyring_kmip_admin_t *a = k->loaded.svc.admin;
    return a ? a->load_requests() : 0;
}

const char *ks_config_path(ks_keyring *k)
{
    return k->config_path;
}

const krk_manifest *ks_manifest(ks_keyring *k)
{
    return &k->loaded.manifest;
}

int ks_exit_for(krk_err e, bool conflict_status)
{
    switch (e) {
    case KRK_OK:
        return CLI_OK;
    case KRK_E_KMIP:
        return CLI_SERVER;
    case KRK_E_TLS_IDENTITY:
        return CLI_IDENTITY;
    case KRK_E_NO_MANIFEST:
    case KRK_E_MANIFEST:
    case KRK_E_CONFIG:
        return CLI_CONFIG;
    case KRK_E_NOT_FOUND:
        return CLI_NOT_FOUND;
    case KRK_E_EXISTS:
        return CLI_EXISTS;
    case KRK_E_CONFLICT:
        return conflict_status ? CLI_CONFLICT : CLI_BAD_INPUT;
    default:
        return CLI_BAD_INPUT;
    }
}

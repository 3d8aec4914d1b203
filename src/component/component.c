/* SPDX-License-Identifier: GPL-2.0-only */
/* component_keyring_kmip: the MySQL component. list_components is the one
 * symbol the module exports; it returns one mysql_component_t providing the
 * eight keyring services, the fallback log services and keyring_kmip_admin,
 * each as "<service>.component_keyring_kmip", and requiring registry,
 * log_builtins and log_builtins_string (nothing else: the component loads
 * in mysql_migrate_keyring's minimal chassis too).
 *
 * As keyring_common: init() does no I/O and reads no configuration;
 * keyring_load.load(component_path, instance_path) does (the server calls
 * it after loading the manifest, and for ALTER INSTANCE RELOAD KEYRING).
 * Until a load succeeds the component is Disabled: every keyring call
 * fails and the metadata says Disabled. A failed reload leaves the keys
 * and configuration in service as they were. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "component.h"
#include "log_items.h"

/* ---- placeholders the loader fills before init ---- */

static const mysql_service_registry_t *svc_registry;
static const mysql_service_log_builtins_t *svc_log;
static const mysql_service_log_builtins_string_t *svc_log_string;

/* ---- state ---- */

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER; /* one load at a time */
static pthread_rwlock_t state_lock = PTHREAD_RWLOCK_INITIALIZER; /* held briefly, never over I/O */
static krk_keyring *keyring;    /* state_lock; NULL: Disabled */
static krk_config config;       /* state_lock: the configuration in service */
static char load_error[768];    /* state_lock: why the last load failed ("" after a success) */
static krk_progress_fn progress_fn;
static void *progress_ctx;
static atomic_bool initialized; /* init ran and deinit did not; read by logging threads */

static _Thread_local krk_err thread_err;
static _Thread_local char thread_msg[1024];

int comp_fail(krk_err e, const char *fmt, ...)
{
    if (e == KRK_OK)
        return 0;
    thread_err = e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(thread_msg, sizeof thread_msg, fmt, ap);
    va_end(ap);
    return 1;
}

int comp_fail_keyring(krk_err e, krk_keyring *k)
{
    const char *m = krk_last_error(k);
    return comp_fail(e, "%s", m && m[0] ? m : krk_strerror(e));
}

krk_keyring *comp_keyring(void)
{
    pthread_rwlock_rdlock(&state_lock);
    krk_keyring *k = keyring;
    pthread_rwlock_unlock(&state_lock);
    if (k == NULL) {
        pthread_rwlock_rdlock(&state_lock);
        comp_fail(KRK_E_NOT_INITIALIZED, "%s is not initialized (Disabled)%s%s", COMP_NAME,
                  load_error[0] ? ": " : ": no successful keyring_load yet", load_error);
        pthread_rwlock_unlock(&state_lock);
    }
    return k;
}

void comp_log(int prio, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const mysql_service_log_builtins_t *log = atomic_load(&initialized) ? svc_log : NULL;
    if (log != NULL && log->message != NULL) {
        log->message(KRK_LOG_TYPE_ERROR, KRK_LOG_ITEM_LOG_PRIO, (long long)prio,
                     KRK_LOG_ITEM_SRV_COMPONENT, COMP_NAME, KRK_LOG_ITEM_LOG_MESSAGE, "%s", msg);
        return;
    }
    /* outside init..deinit: our fallback's format, straight to stderr */
    krk_log_record r = {prio, COMP_NAME, ""};
    snprintf(r.message, sizeof r.message, "%s", msg);
    krk_log_to_stderr(&r);
}

/* The keyring's messages after a load (reconnects, a write's retries). */
static void keyring_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    comp_log(level == 0 ? KRK_LOG_ERROR_LEVEL
             : level == 1 ? KRK_LOG_WARNING_LEVEL
                          : KRK_LOG_INFORMATION_LEVEL,
             "%s", message);
}

/* ---- keyring_load ---- */

/* config_file: that file; else component_path's configuration, with
 * read_local_config -> instance_path (NULL: the current directory). */
static mysql_service_status_t load(const char *config_file, const char *component_path,
                                   const char *instance_path)
{
    if (config_file == NULL && component_path == NULL)
        return comp_fail(KRK_E_ARG, "keyring_load.load: no component_path");
    pthread_mutex_lock(&load_lock);
    krk_config cfg;
    krk_diag d;
    memset(&d, 0, sizeof d);
    /* NULL: the current directory, made absolute now (the paths in service
     * must not change meaning when the process changes directory) */
    char cwd[4096];
    if (config_file == NULL && instance_path == NULL)
        instance_path = getcwd(cwd, sizeof cwd) ? cwd : ".";
    krk_err e = config_file ? krk_config_read(config_file, &cfg, &d)
                            : krk_config_find(component_path, instance_path, &cfg, &d);
    pthread_rwlock_rdlock(&state_lock);
    krk_keyring *k = keyring;
    pthread_rwlock_unlock(&state_lock);
    krk_keyring *opened = NULL;
    if (e == KRK_OK) {
        cfg.log = keyring_log;
        cfg.log_ctx = NULL;
        memset(&d, 0, sizeof d);
        e = k ? krk_reload_with(k, &cfg, &d)
              : krk_open_progress(&cfg, progress_fn, progress_ctx, &opened, &d);
    }
    for (size_t i = 0; i < d.warning_count && i < KRK_DIAG_WARNINGS; i++)
        comp_log(KRK_LOG_WARNING_LEVEL, "%s", d.warnings[i]);
    if (e != KRK_OK) {
        const char *why = d.error[0] ? d.error : krk_strerror(e);
        comp_log(KRK_LOG_ERROR_LEVEL, "%s%s", why,
                 k ? " (the keys and configuration loaded before stay in service)"
                   : " (the keyring is Disabled: every keyring call fails until a load succeeds)");
        pthread_rwlock_wrlock(&state_lock);
        snprintf(load_error, sizeof load_error, "%s", why);
        pthread_rwlock_unlock(&state_lock);
        comp_fail(e, "%s", why);
        pthread_mutex_unlock(&load_lock);
        return 1;
    }
    pthread_rwlock_wrlock(&state_lock);
    if (opened)
        keyring = opened;
    config = cfg;
    load_error[0] = '\0';
    pthread_rwlock_unlock(&state_lock);
    comp_log(KRK_LOG_INFORMATION_LEVEL, "%s %zu keys from %s:%u (object group \"%s\"), "
             "configuration %s", opened ? "loaded" : "reloaded", krk_key_count(k ? k : opened),
             cfg.server_addr, cfg.server_port, cfg.object_group, cfg.path);
    pthread_mutex_unlock(&load_lock);
    return 0;
}

static mysql_service_status_t load_load(const char *component_path, const char *instance_path)
{
    return load(NULL, component_path, instance_path);
}

const mysql_service_keyring_load_t comp_load = {load_load};

/* ---- keyring_component_status ---- */

static mysql_service_status_t status_is_initialized(void)
{
    pthread_rwlock_rdlock(&state_lock);
    int up = keyring != NULL && krk_is_initialized(keyring);
    pthread_rwlock_unlock(&state_lock);
    return up; /* non-zero: initialized */
}

const mysql_service_keyring_component_status_t comp_status = {status_is_initialized};

/* ---- keyring_component_metadata_query ---- */

/* A snapshot taken at init: Percona's rows, then ours. */
typedef struct meta_iter {
    size_t count, pos;
    krk_metadata_item rows[];
} meta_iter;

#define NOT_APPLICABLE "<NOT APPLICABLE>"
#define NONE "<NONE>"

static const char *const percona_rows[] = {
    "Component_name", "Author",      "License",      "Implementation_name",
    "Version",        "Component_status",
    "Server_addr",    "Server_port", "Client_ca",    "Client_key",
    "Server_ca",      "Object_group", "Max_objects", "Kmip_timeout_ms",
    "Tls_peer_verification", "Tls_hostname_verification",
};
#define PERCONA_ROWS (sizeof percona_rows / sizeof percona_rows[0])

static bool is_percona_row(const char *key)
{
    for (size_t i = 0; i < PERCONA_ROWS; i++)
        if (strcmp(percona_rows[i], key) == 0)
            return true;
    return false;
}

static void put(meta_iter *it, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put(meta_iter *it, const char *key, const char *fmt, ...)
{
    krk_metadata_item *row = &it->rows[it->count++];
    snprintf(row->key, sizeof row->key, "%s", key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(row->value, sizeof row->value, fmt, ap);
    va_end(ap);
    if (row->value[0] == '\0')
        snprintf(row->value, sizeof row->value, NONE);
}

static const char *value_of(const krk_metadata_item *items, size_t n, const char *key,
                            const char *otherwise)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(items[i].key, key) == 0)
            return items[i].value;
    return otherwise;
}

static mysql_service_status_t meta_init(my_h_keyring_component_metadata_iterator *out)
{
    if (out == NULL)
        return comp_fail(KRK_E_ARG, "keyring_component_metadata_query.init: no iterator");
    *out = NULL;
    meta_iter *it = calloc(1, sizeof *it + (PERCONA_ROWS + KRK_METADATA_MAX + 1) *
                                               sizeof(krk_metadata_item));
    krk_metadata_item *ours = calloc(KRK_METADATA_MAX, sizeof *ours);
    if (it == NULL || ours == NULL) {
        free(it);
        free(ours);
        return comp_fail(KRK_E_NOMEM, "keyring_component_metadata_query.init: out of memory");
    }
    pthread_rwlock_rdlock(&state_lock);
    size_t n = keyring ? krk_metadata(keyring, ours, KRK_METADATA_MAX) : 0;
    bool up = keyring != NULL && krk_is_initialized(keyring);
    const krk_config *c = &config;
    put(it, "Component_name", "%s", value_of(ours, n, "Component_name", COMP_NAME));
    put(it, "Author", "%s", value_of(ours, n, "Author", "keyring_kmip developers"));
    put(it, "License", "%s", value_of(ours, n, "License", "GPL-2.0-only"));
    put(it, "Implementation_name", "%s", value_of(ours, n, "Implementation_name", COMP_NAME));
    put(it, "Version", "%s", value_of(ours, n, "Version", KRK_VERSION));
    put(it, "Component_status", "%s", up ? "Active" : "Disabled");
    if (up) {
        put(it, "Server_addr", "%s", c->server_addr);
        put(it, "Server_port", "%u", c->server_port);
        put(it, "Client_ca", "%s", c->client_cert);
        put(it, "Client_key", "%s", c->client_key);
        put(it, "Server_ca", "%s", c->server_ca);
        put(it, "Object_group", "%s", c->object_group);
        put(it, "Max_objects", "%zu", c->max_objects);
        put(it, "Kmip_timeout_ms", "%u", c->timeout_ms);
        put(it, "Tls_peer_verification", "%s", c->tls_peer_verification ? "true" : "false");
        put(it, "Tls_hostname_verification", "%s",
            c->tls_hostname_verification ? "true" : "false");
    } else {
        for (size_t i = 6; i < PERCONA_ROWS; i++)
            put(it, percona_rows[i], NOT_APPLICABLE);
    }
    for (size_t i = 0; i < n; i++) /* ours: every row of krk_metadata Percona has not */
        if (!is_percona_row(ours[i].key))
            put(it, ours[i].key, "%s", ours[i].value);
    if (keyring == NULL)
        put(it, "Last_error", "%s", load_error);
    pthread_rwlock_unlock(&state_lock);
    free(ours);
    *out = (my_h_keyring_component_metadata_iterator)it;
    return 0;
}

static mysql_service_status_t meta_deinit(my_h_keyring_component_metadata_iterator h)
{
    free(h);
    return 0;
}

static mysql_service_status_t meta_is_valid(my_h_keyring_component_metadata_iterator h)
{
    const meta_iter *it = (const meta_iter *)h;
    return it != NULL && it->pos < it->count ? 1 : 0; /* non-zero: valid */
}

static mysql_service_status_t meta_next(my_h_keyring_component_metadata_iterator h)
{
    meta_iter *it = (meta_iter *)h;
    if (it == NULL || it->pos >= it->count)
        return 1;
    it->pos++;
    return it->pos < it->count ? 0 : 1;
}

static mysql_service_status_t meta_get_length(my_h_keyring_component_metadata_iterator h,
                                              size_t *key_len, size_t *value_len)
{
    const meta_iter *it = (const meta_iter *)h;
    if (!meta_is_valid(h) || key_len == NULL || value_len == NULL)
        return comp_fail(KRK_E_ARG, "keyring_component_metadata_query.get_length: %s",
                         meta_is_valid(h) ? "NULL argument" : "iterator at its end");
    *key_len = strlen(it->rows[it->pos].key) + 1; /* with the NUL, as keyring_common */
    *value_len = strlen(it->rows[it->pos].value) + 1;
    return 0;
}

static mysql_service_status_t meta_get(my_h_keyring_component_metadata_iterator h, char *key,
                                       size_t key_cap, char *value, size_t value_cap)
{
    size_t kl, vl;
    if (meta_get_length(h, &kl, &vl) != 0)
        return 1;
    if (key == NULL || value == NULL || key_cap < kl || value_cap < vl)
        return comp_fail(KRK_E_BUFFER, "keyring_component_metadata_query.get: a buffer is too "
                                       "small (%zu and %zu bytes needed)", kl, vl);
    const meta_iter *it = (const meta_iter *)h;
    memcpy(key, it->rows[it->pos].key, kl);
    memcpy(value, it->rows[it->pos].value, vl);
    return 0;
}

const mysql_service_keyring_component_metadata_query_t comp_metadata = {
    meta_init, meta_deinit, meta_is_valid, meta_next, meta_get_length, meta_get,
};

/* ---- keyring_kmip_admin ---- */

static unsigned admin_version(void)
{
    return 1;
}

static mysql_service_status_t admin_load_file(const char *path)
{
    if (path == NULL)
        return comp_fail(KRK_E_ARG, "keyring_kmip_admin.load_file: no path");
    return load(path, NULL, NULL);
}

static void admin_set_progress(krk_progress_fn fn, void *ctx)
{
    pthread_mutex_lock(&load_lock);
    progress_fn = fn;
    progress_ctx = ctx;
    pthread_mutex_unlock(&load_lock);
}

static krk_err admin_last_error(char *buf, size_t cap)
{
    if (buf && cap)
        snprintf(buf, cap, "%s", thread_err == KRK_OK ? "" : thread_msg);
    return thread_err;
}

static krk_err admin_check_server(bool repair, krk_check_fn fn, void *ctx, krk_check_result *out)
{
    if (comp_keyring() == NULL)
        return KRK_E_NOT_INITIALIZED;
    pthread_rwlock_rdlock(&state_lock);
    krk_config cfg = config;
    pthread_rwlock_unlock(&state_lock);
    krk_diag d;
    memset(&d, 0, sizeof d);
    krk_err e = krk_check_server(&cfg, repair, fn, ctx, out, &d);
    if (e != KRK_OK)
        comp_fail(e, "%s", d.error[0] ? d.error : krk_strerror(e));
    return e;
}

static uint64_t admin_load_requests(void)
{
    krk_keyring *k = comp_keyring();
    return k ? krk_load_requests(k) : 0;
}

static mysql_service_status_t admin_config_path(char *buf, size_t cap)
{
    if (buf == NULL || cap == 0 || comp_keyring() == NULL)
        return 1;
    pthread_rwlock_rdlock(&state_lock);
    snprintf(buf, cap, "%s", config.path);
    pthread_rwlock_unlock(&state_lock);
    return 0;
}

static size_t admin_probe_servers(void)
{
    krk_keyring *k = comp_keyring();
    return k ? krk_probe_servers(k) : 0;
}

/* The admin service's iterator_state: the state of the key an iterator
 * of keyring_keys_metadata_iterator is at. */
static mysql_service_status_t iterator_state(my_h_keyring_keys_metadata_iterator it,
                                             krk_key_state *state)
{
    if (it == NULL || state == NULL)
        return comp_fail(KRK_E_ARG, "keyring_kmip_admin.iterator_state: NULL argument");
    krk_err e = krk_iter_get_state((const krk_iter *)it, state);
    return e == KRK_OK ? 0 : comp_fail(e, "keyring_kmip_admin.iterator_state: %s",
                                       krk_strerror(e));
}

const keyring_kmip_admin_t comp_admin = {
    admin_version,      admin_load_file,     admin_set_progress,
    admin_last_error,   iterator_state,      krk_key_state_name,
    admin_check_server, admin_load_requests, admin_config_path,
};

const keyring_kmip_admin_v2_t comp_admin_v2 = {admin_version, admin_probe_servers};

/* ---- init, deinit ---- */

mysql_service_status_t comp_init(void)
{
    /* no I/O, no configuration: keyring_load.load does that */
    pthread_rwlock_wrlock(&state_lock);
    keyring = NULL;
    memset(&config, 0, sizeof config);
    load_error[0] = '\0';
    pthread_rwlock_unlock(&state_lock);
    atomic_store(&initialized, svc_registry != NULL);
    return atomic_load(&initialized) ? 0 : 1;
}

mysql_service_status_t comp_deinit(void)
{
    pthread_mutex_lock(&load_lock);
    pthread_rwlock_wrlock(&state_lock);
    krk_keyring *k = keyring;
    keyring = NULL;
    memset(&config, 0, sizeof config);
    load_error[0] = '\0';
    pthread_rwlock_unlock(&state_lock);
    progress_fn = NULL;
    progress_ctx = NULL;
    pthread_mutex_unlock(&load_lock);
    krk_close(k);
    atomic_store(&initialized, false);
    return 0;
}

/* ---- what the component requires (the loader fills these placeholders) ---- */

mysql_service_placeholder_ref_t comp_requires[] = {
    {"registry", (void **)&svc_registry},
    {"log_builtins", (void **)&svc_log},
    {"log_builtins_string", (void **)&svc_log_string},
    {NULL, NULL},
};

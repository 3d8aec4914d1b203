/* SPDX-License-Identifier: GPL-2.0-only */
/* The loader: what mysqld does at startup, on the chassis (krk_chassis.h),
 * for the CLI and the tests. Reads the manifest (krk_manifest_read), loads
 * the URN naming component_keyring_kmip as mysqld's path filter maps it
 * (file://NAME -> file://PLUGIN_DIR/NAME; the seed's file:///NAME is taken
 * as NAME, with a warning: mysqld itself refuses it), then, as mysqld does
 * after the manifest: takes the first keyring_reader_with_status
 * implementation in name order that is not the server's (".mysql_server"),
 * acquire_related()s the other seven keyring services and
 * keyring_kmip_admin from it, and calls keyring_load.load(plugin_dir,
 * datadir).
 *
 * Unless migrate_keyring is set, the chassis's own log_builtins are
 * registered first (the defaults, as the server's are), writing to log
 * (NULL: stderr); with migrate_keyring none are, as in
 * mysql_migrate_keyring, and the component's fallback logs to stderr. */
#ifndef KRK_LOADER_H
#define KRK_LOADER_H

#include "krk_admin.h"
#include "krk_config.h"
#include "krk_mysql_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The eight keyring services under one implementation name, and ours. */
typedef struct krk_keyring_services {
    char implementation[128]; /* "component_keyring_kmip" */
    const mysql_service_keyring_reader_with_status_t *reader;
    const mysql_service_keyring_writer_t *writer;
    const mysql_service_keyring_generator_t *generator;
    const mysql_service_keyring_keys_metadata_iterator_t *keys;
    const mysql_service_keyring_component_status_t *status;
    const mysql_service_keyring_component_metadata_query_t *metadata;
    const mysql_service_keyring_load_t *load;
    const mysql_service_keyring_aes_t *aes;
    const keyring_kmip_admin_t *admin; /* NULL: not our component */
} krk_keyring_services;

/* What mysqld does after the manifest: the first non-server
 * keyring_reader_with_status and its related services (KRK_E_NOT_FOUND:
 * no keyring component is loaded; KRK_E_MANIFEST: one is incomplete). */
KRK_API KRK_MUST_CHECK krk_err krk_keyring_services_acquire(krk_keyring_services *out,
                                                            krk_diag *diag);
KRK_API void krk_keyring_services_release(krk_keyring_services *s);

typedef struct krk_loader_options {
    bool migrate_keyring;   /* register no log services (mysql_migrate_keyring) */
    krk_log_fn log;         /* the host log's sink (NULL: stderr) */
    void *log_ctx;
    krk_progress_fn progress; /* load progress (NULL: none) */
    void *progress_ctx;
} krk_loader_options;

typedef struct krk_loaded {
    krk_manifest manifest;   /* empty for krk_loader_open_file */
    char urn[4300];          /* what the chassis loaded */
    krk_keyring_services svc;
} krk_loaded;

/* Manifest, chassis, component, services, load. The chassis is brought up
 * here and down by krk_loader_close: one krk_loaded per process at a time.
 * Errors: KRK_E_NO_MANIFEST, KRK_E_MANIFEST (also: the component cannot be
 * loaded, lacks a service), or the load's error (admin last_error), diag
 * saying why. The manifest's warnings are in diag. On failure nothing
 * stays loaded. */
KRK_API KRK_MUST_CHECK krk_err krk_loader_open(const char *basedir, const char *datadir,
                                               const char *plugin_dir,
                                               const krk_loader_options *options,
                                               krk_loaded *out, krk_diag *diag);
/* The component linked into the program (builtin: its list_components)
 * loaded through the chassis as builtin://component_keyring_kmip, and
 * loaded from one configuration file (keyring_kmip_admin.load_file). */
KRK_API KRK_MUST_CHECK krk_err krk_loader_open_file(krk_list_components_fn builtin,
                                                    const char *config_path,
                                                    const krk_loader_options *options,
                                                    krk_loaded *out, krk_diag *diag);
KRK_API void krk_loader_close(krk_loaded *l);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The loader: what the database server does at startup, for the CLI and
 * the tests. Reads the manifest (krk_manifest_read), loads
 * component_keyring_kmip.so from the plugin directory with dlopen, finds the
 * configuration (global, or local with "read_local_config") and opens the
 * keyring through the component's table (progress may be NULL). */
#ifndef KRK_LOADER_H
#define KRK_LOADER_H

#include "krk_component.h"
#include "krk_config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct krk_loaded {
    void *module;                  /* dlopen handle */
    const krk_component_v1 *api;   /* the component's table */
    krk_keyring *keyring;
    krk_manifest manifest;
    krk_config config;
    const krk_component_ext1 *ext; /* NULL: the component predates it */
} krk_loaded;

/* Errors: KRK_E_NO_MANIFEST, KRK_E_MANIFEST (also: the module cannot be
 * loaded or lacks the table), KRK_E_CONFIG, and whatever opening the
 * keyring returns. diag says which file and why. */
KRK_API KRK_MUST_CHECK krk_err krk_loader_open(const char *basedir, const char *datadir,
                                               const char *plugin_dir, krk_progress_fn progress,
                                               void *progress_ctx, krk_loaded *out,
                                               krk_diag *diag);
/* The same, with the logger for messages after the open (krk_config.log);
 * the manifest's warnings are kept in diag after the open's. */
KRK_API KRK_MUST_CHECK krk_err krk_loader_open_log(const char *basedir, const char *datadir,
                                                   const char *plugin_dir,
                                                   krk_progress_fn progress, void *progress_ctx,
                                                   krk_log_fn log, void *log_ctx,
                                                   krk_loaded *out, krk_diag *diag);
KRK_API void krk_loader_close(krk_loaded *l);

#ifdef __cplusplus
}
#endif
#endif

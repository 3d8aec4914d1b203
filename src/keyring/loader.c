/* SPDX-License-Identifier: GPL-2.0-only */
/* The loader (see krk_loader.h): manifest, dlopen, configuration, open. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "keyring_kmip/krk_loader.h"

/* The manifest's warnings, which reading the configuration and opening
 * would otherwise clear, added again. */
static krk_err with_manifest_warnings(krk_err e, const krk_diag *manifest, krk_diag *d)
{
    for (size_t i = 0; i < manifest->warning_count && i < KRK_DIAG_WARNINGS; i++)
        krk_warn(d, "%s", manifest->warnings[i]);
    return e;
}

krk_err krk_loader_open(const char *basedir, const char *datadir, const char *plugin_dir,
                        krk_progress_fn progress, void *progress_ctx, krk_loaded *out, krk_diag *d)
{
    return krk_loader_open_log(basedir, datadir, plugin_dir, progress, progress_ctx, NULL, NULL,
                               out, d);
}

krk_err krk_loader_open_log(const char *basedir, const char *datadir, const char *plugin_dir,
                            krk_progress_fn progress, void *progress_ctx, krk_log_fn log,
                            void *log_ctx, krk_loaded *out, krk_diag *d)
{
    if (out == NULL || basedir == NULL || plugin_dir == NULL)
        return KRK_E_ARG;
    memset(out, 0, sizeof *out);
    krk_err e = krk_manifest_read(basedir, datadir, &out->manifest, d);
    if (e != KRK_OK)
        return e;
    krk_diag manifest = *d;
    char path[4200];
    if (!krk_join(path, sizeof path, plugin_dir, KRK_COMPONENT_NAME ".so"))
        return krk_fail(d, KRK_E_ARG, "%s: path too long", plugin_dir);
    out->module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (out->module == NULL)
        return krk_fail(d, KRK_E_MANIFEST, "%s names %s, but %s cannot be loaded: %s",
                        out->manifest.path, out->manifest.component_url, path, dlerror());
    const krk_component_v1 *const *sym = dlsym(out->module, KRK_COMPONENT_SYMBOL_V1);
    if (sym == NULL || *sym == NULL || (*sym)->abi != KRK_COMPONENT_ABI_V1) {
        e = krk_fail(d, KRK_E_MANIFEST, "%s is not a keyring_kmip component of ABI %u", path,
                     KRK_COMPONENT_ABI_V1);
        krk_loader_close(out);
        return e;
    }
    out->api = *sym;
    const krk_component_ext1 *const *ext = dlsym(out->module, KRK_COMPONENT_SYMBOL_EXT1);
    out->ext = ext && *ext && (*ext)->size >= sizeof(krk_component_ext1) ? *ext : NULL;
    e = out->api->config_find(plugin_dir, datadir, &out->config, d);
    out->config.log = log;
    out->config.log_ctx = log_ctx;
    if (e == KRK_OK)
        e = out->api->open_progress(&out->config, progress, progress_ctx, &out->keyring, d);
    if (e != KRK_OK)
        krk_loader_close(out);
    return with_manifest_warnings(e, &manifest, d);
}

void krk_loader_close(krk_loaded *l)
{
    if (l == NULL)
        return;
    if (l->api && l->keyring)
        l->api->close(l->keyring);
    if (l->module)
        dlclose(l->module);
    memset(l, 0, sizeof *l);
}

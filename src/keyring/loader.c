/* SPDX-License-Identifier: GPL-2.0-only */
/* The loader (see krk_loader.h): manifest, chassis, the keyring services,
 * keyring_load.load. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"
#include "keyring_kmip/krk_chassis.h"
#include "keyring_kmip/krk_loader.h"

/* ---- the keyring services, as mysqld finds them ---- */

typedef struct first_reader {
    char name[256];
} first_reader;

static void take_first(void *ctx, const char *name)
{
    first_reader *f = ctx;
    if (f->name[0] == '\0' && strstr(name, "keyring_reader_with_status") != NULL &&
        strstr(name, "mysql_server") == NULL)
        snprintf(f->name, sizeof f->name, "%s", name);
}

static const char *const related[] = {
    "keyring_writer",           "keyring_generator",
    "keyring_keys_metadata_iterator", "keyring_component_status",
    "keyring_component_metadata_query", "keyring_load",
    "keyring_aes",
};

krk_err krk_keyring_services_acquire(krk_keyring_services *out, krk_diag *d)
{
    memset(out, 0, sizeof *out);
    first_reader f = {{0}};
    (void)krk_chassis_each("keyring_reader_with_status", take_first, &f);
    if (f.name[0] == '\0')
        return krk_fail(d, KRK_E_NOT_FOUND, "no keyring component is loaded (no "
                        "keyring_reader_with_status implementation)");
    const mysql_service_registry_t *r = krk_chassis_registry();
    my_h_service h = NULL;
    if (r->acquire(f.name, &h) != 0)
        return krk_fail(d, KRK_E_MANIFEST, "cannot acquire %s", f.name);
    snprintf(out->implementation, sizeof out->implementation, "%s", strchr(f.name, '.') + 1);
    out->reader = (const void *)h;
    const void **slots[] = {
        (const void **)&out->writer, (const void **)&out->generator,
        (const void **)&out->keys,   (const void **)&out->status,
        (const void **)&out->metadata, (const void **)&out->load,
        (const void **)&out->aes,
    };
    for (size_t i = 0; i < sizeof related / sizeof related[0]; i++) {
        my_h_service s = NULL;
        if (r->acquire_related(related[i], h, &s) != 0) {
            krk_err e = krk_fail(d, KRK_E_MANIFEST, "the keyring %s provides no %s",
                                 out->implementation, related[i]);
            krk_keyring_services_release(out);
            return e;
        }
        *slots[i] = (const void *)s;
    }
    /* ours only when it is the same implementation (acquire_related would
     * give another component's default otherwise) */
    char admin[256];
    snprintf(admin, sizeof admin, "%s.%s", KRK_ADMIN_SERVICE, out->implementation);
    my_h_service a = NULL;
    if (r->acquire(admin, &a) == 0) {
        const keyring_kmip_admin_t *ad = (const void *)a;
        if (ad->version() >= 1)
            out->admin = ad;
        else
            (void)r->release(a);
    }
    return KRK_OK;
}

void krk_keyring_services_release(krk_keyring_services *s)
{
    const mysql_service_registry_t *r = krk_chassis_registry();
    const void *all[] = {s->reader, s->writer,   s->generator, s->keys, s->status,
                         s->metadata, s->load, s->aes,       s->admin};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            (void)r->release((my_h_service)(void *)(uintptr_t)all[i]);
    memset(s, 0, sizeof *s);
}

/* ---- open, close ---- */

static void add_warnings(krk_diag *to, const krk_diag *from)
{
    for (size_t i = 0; i < from->warning_count && i < KRK_DIAG_WARNINGS; i++)
        krk_warn(to, "%s", from->warnings[i]);
}

/* Chassis up, log services (unless migrate), the batch, the services. */
static krk_err bring_up(const char *urn, krk_list_components_fn builtin,
                        const krk_loader_options *o, krk_loaded *out, krk_diag *d)
{
    krk_err e = krk_chassis_init(d);
    if (e != KRK_OK)
        return e;
    if (!o->migrate_keyring && (e = krk_chassis_register_log(o->log, o->log_ctx)) != KRK_OK) {
        krk_chassis_deinit();
        return krk_fail(d, e, "cannot register the host's log services: %s", krk_strerror(e));
    }
    if (builtin != NULL && (e = krk_chassis_add_builtin(KRK_COMPONENT_NAME, builtin)) != KRK_OK) {
        krk_chassis_deinit();
        return krk_fail(d, e, "cannot add the built-in component: %s", krk_strerror(e));
    }
    snprintf(out->urn, sizeof out->urn, "%s", urn);
    const char *urns[] = {out->urn};
    if ((e = krk_chassis_load(urns, 1, d)) == KRK_OK)
        e = krk_keyring_services_acquire(&out->svc, d);
    if (e == KRK_OK && out->svc.admin)
        out->svc.admin->set_progress(o->progress, o->progress_ctx);
    if (e != KRK_OK)
        krk_chassis_deinit();
    return e;
}

/* The load's verdict (the server ignores it; we report it). */
static krk_err load_result(int status, krk_loaded *out, krk_diag *d)
{
    if (status == 0 && out->svc.status->is_initialized())
        return KRK_OK;
    char why[768] = "";
    krk_err e = out->svc.admin ? out->svc.admin->last_error(why, sizeof why) : KRK_E_CONFIG;
    if (e == KRK_OK)
        e = KRK_E_CONFIG;
    e = krk_fail(d, e, "%s", why[0] ? why : "keyring_load.load failed");
    krk_loader_close(out);
    return e;
}

static const krk_loader_options no_options;

krk_err krk_loader_open(const char *basedir, const char *datadir, const char *plugin_dir,
                        const krk_loader_options *o, krk_loaded *out, krk_diag *d)
{
    if (out == NULL || basedir == NULL || plugin_dir == NULL)
        return KRK_E_ARG;
    memset(out, 0, sizeof *out);
    if (o == NULL)
        o = &no_options;
    krk_err e = krk_manifest_read(basedir, datadir, &out->manifest, d);
    if (e != KRK_OK)
        return e;
    krk_diag manifest = *d;
    /* mysqld's path filter: the name after file://, in plugin_dir */
    const char *name = out->manifest.component_url + strlen("file://");
    if (*name == '/')
        name++;
    char urn[4300];
    if (snprintf(urn, sizeof urn, "file://%s/%s", plugin_dir, name) >= (int)sizeof urn)
        return krk_fail(d, KRK_E_ARG, "%s: path too long", plugin_dir);
    e = bring_up(urn, NULL, o, out, d);
    if (e != KRK_OK) {
        add_warnings(d, &manifest);
        return e;
    }
    int status = out->svc.load->load(plugin_dir, datadir);
    krk_diag_clear(d);
    e = load_result(status, out, d);
    add_warnings(d, &manifest);
    return e;
}

krk_err krk_loader_open_file(krk_list_components_fn builtin, const char *config_path,
                             const krk_loader_options *o, krk_loaded *out, krk_diag *d)
{
    if (out == NULL || config_path == NULL || builtin == NULL)
        return KRK_E_ARG;
    memset(out, 0, sizeof *out);
    if (o == NULL)
        o = &no_options;
    krk_diag_clear(d);
    krk_err e = bring_up("builtin://" KRK_COMPONENT_NAME, builtin, o, out, d);
    if (e != KRK_OK)
        return e;
    if (out->svc.admin == NULL) {
        krk_loader_close(out);
        return krk_fail(d, KRK_E_MANIFEST, "the built-in component has no %s service",
                        KRK_ADMIN_SERVICE);
    }
    int status = out->svc.admin->load_file(config_path);
    return load_result(status, out, d);
}

void krk_loader_close(krk_loaded *l)
{
    if (l == NULL)
        return;
    if (l->svc.reader)
        krk_keyring_services_release(&l->svc);
    krk_chassis_deinit();
    memset(l, 0, sizeof *l);
}

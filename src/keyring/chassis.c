/* SPDX-License-Identifier: GPL-2.0-only */
/* The minimal chassis (see krk_chassis.h): registry, file:// and builtin://
 * schemes, batch load with rollback, unload. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "keyring_kmip/krk_chassis.h"
#include "log_items.h"

/* ---- the registry ---- */

typedef struct reg_entry {
    char *name; /* "service.implementation" */
    void *impl;
    long refs;
    bool is_default;
} reg_entry;

static pthread_rwlock_t reg_lock = PTHREAD_RWLOCK_INITIALIZER;
static reg_entry *reg;
static size_t reg_count, reg_cap;

static size_t service_len(const char *name)
{
    const char *dot = strchr(name, '.');
    return dot ? (size_t)(dot - name) : strlen(name);
}

static bool same_service(const char *name, const char *service, size_t len)
{
    return service_len(name) == len && strncmp(name, service, len) == 0;
}

static long find_exact(const char *name)
{
    for (size_t i = 0; i < reg_count; i++)
        if (strcmp(reg[i].name, name) == 0)
            return (long)i;
    return -1;
}

static long find_default(const char *service, size_t len)
{
    for (size_t i = 0; i < reg_count; i++)
        if (reg[i].is_default && same_service(reg[i].name, service, len))
            return (long)i;
    return -1;
}

/* "svc": the default; "svc.impl": exact */
static long find_service(const char *name)
{
    return strchr(name, '.') ? find_exact(name) : find_default(name, strlen(name));
}

static long find_impl(const void *impl)
{
    for (size_t i = 0; i < reg_count; i++)
        if (reg[i].impl == impl)
            return (long)i;
    return -1;
}

static krk_err reg_add(const char *name, void *impl)
{
    if (name == NULL || impl == NULL || strchr(name, '.') == NULL || name[0] == '.')
        return KRK_E_ARG;
    if (find_exact(name) >= 0)
        return KRK_E_EXISTS;
    if (reg_count == reg_cap) {
        size_t cap = reg_cap ? 2 * reg_cap : 32;
        reg_entry *n = realloc(reg, cap * sizeof *n);
        if (n == NULL)
            return KRK_E_NOMEM;
        reg = n;
        reg_cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return KRK_E_NOMEM;
    size_t at = 0;
    while (at < reg_count && strcmp(reg[at].name, name) < 0)
        at++;
    memmove(&reg[at + 1], &reg[at], (reg_count - at) * sizeof *reg);
    size_t len = service_len(name);
    reg[at] = (reg_entry){copy, impl, 0, find_default(name, len) < 0};
    reg_count++;
    return KRK_OK;
}

static krk_err reg_remove(const char *name)
{
    long i = find_exact(name);
    if (i < 0)
        return KRK_E_NOT_FOUND;
    if (reg[i].refs > 0)
        return KRK_E_EXISTS;
    bool was_default = reg[i].is_default;
    size_t len = service_len(name);
    char *service = reg[i].name;
    memmove(&reg[i], &reg[i + 1], (reg_count - (size_t)i - 1) * sizeof *reg);
    reg_count--;
    if (was_default) /* the first remaining one in name order */
        for (size_t j = 0; j < reg_count; j++)
            if (same_service(reg[j].name, service, len)) {
                reg[j].is_default = true;
                break;
            }
    free(service);
    return KRK_OK;
}

static mysql_service_status_t r_acquire(const char *name, my_h_service *out)
{
    if (name == NULL || out == NULL)
        return 1;
    pthread_rwlock_wrlock(&reg_lock);
    long i = find_service(name);
    if (i >= 0) {
        reg[i].refs++;
        *out = (my_h_service)reg[i].impl;
    }
    pthread_rwlock_unlock(&reg_lock);
    return i >= 0 ? 0 : 1;
}

static mysql_service_status_t r_acquire_related(const char *name, my_h_service service,
                                                my_h_service *out)
{
    if (name == NULL || out == NULL || strchr(name, '.'))
        return 1;
    pthread_rwlock_wrlock(&reg_lock);
    long i = -1, of = service ? find_impl(service) : -1;
    if (service != NULL && of < 0) {
        /* as MySQL's registry: a handle it did not hand out is an error,
         * not a request for the default */
        pthread_rwlock_unlock(&reg_lock);
        return 1;
    }
    if (of >= 0) {
        const char *impl = strchr(reg[of].name, '.');
        char related[512];
        if (snprintf(related, sizeof related, "%s%s", name, impl) < (int)sizeof related)
            i = find_exact(related);
    }
    if (i < 0)
        i = find_default(name, strlen(name));
    if (i >= 0) {
        reg[i].refs++;
        *out = (my_h_service)reg[i].impl;
    }
    pthread_rwlock_unlock(&reg_lock);
    return i >= 0 ? 0 : 1;
}

static mysql_service_status_t r_release(my_h_service service)
{
    pthread_rwlock_wrlock(&reg_lock);
    long i = -1;
    for (size_t j = 0; j < reg_count && i < 0; j++)
        if (reg[j].impl == (void *)service && reg[j].refs > 0)
            i = (long)j;
    if (i >= 0)
        reg[i].refs--;
    pthread_rwlock_unlock(&reg_lock);
    return i >= 0 ? 0 : 1;
}

static mysql_service_status_t r_register(const char *name, my_h_service impl)
{
    pthread_rwlock_wrlock(&reg_lock);
    krk_err e = reg_add(name, impl);
    pthread_rwlock_unlock(&reg_lock);
    return e == KRK_OK ? 0 : 1;
}

static mysql_service_status_t r_unregister(const char *name)
{
    if (name == NULL)
        return 1;
    pthread_rwlock_wrlock(&reg_lock);
    krk_err e = reg_remove(name);
    pthread_rwlock_unlock(&reg_lock);
    return e == KRK_OK ? 0 : 1;
}

static mysql_service_status_t r_set_default(const char *name)
{
    if (name == NULL)
        return 1;
    pthread_rwlock_wrlock(&reg_lock);
    long i = find_exact(name);
    if (i >= 0) {
        size_t len = service_len(name);
        for (size_t j = 0; j < reg_count; j++)
            if (same_service(reg[j].name, name, len))
                reg[j].is_default = false;
        reg[i].is_default = true;
    }
    pthread_rwlock_unlock(&reg_lock);
    return i >= 0 ? 0 : 1;
}

static const mysql_service_registry_t registry_svc = {r_acquire, r_acquire_related, r_release};
static const mysql_service_registry_registration_t registration_svc = {r_register, r_unregister,
                                                                       r_set_default};

const mysql_service_registry_t *krk_chassis_registry(void)
{
    return &registry_svc;
}

const mysql_service_registry_registration_t *krk_chassis_registration(void)
{
    return &registration_svc;
}

size_t krk_chassis_each(const char *service, void (*fn)(void *, const char *), void *ctx)
{
    size_t n = 0, len = strlen(service);
    pthread_rwlock_rdlock(&reg_lock);
    for (size_t i = 0; i < reg_count; i++)
        if (same_service(reg[i].name, service, len)) {
            n++;
            if (fn)
                fn(ctx, reg[i].name);
        }
    pthread_rwlock_unlock(&reg_lock);
    return n;
}

long krk_chassis_refs(const char *name)
{
    pthread_rwlock_rdlock(&reg_lock);
    long i = find_exact(name);
    long refs = i >= 0 ? reg[i].refs : -1;
    pthread_rwlock_unlock(&reg_lock);
    return refs;
}

/* ---- the loader ---- */

typedef struct loaded {
    char *urn;
    void *dl; /* NULL for builtin:// */
    krk_list_components_fn entry;
    mysql_component_t *c;
    size_t batch;
    size_t acquired;    /* requirements acquired (rollback) */
    size_t registered;  /* provides registered (rollback) */
    bool initialized;
} loaded;

typedef struct builtin {
    char *name;
    krk_list_components_fn fn;
} builtin;

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static bool up;
static loaded *comps;
static size_t comp_count;
static size_t batches;
static builtin *builtins;
static size_t builtin_count;

static void free_loaded(loaded *l)
{
    if (l->dl)
        dlclose(l->dl);
    free(l->urn);
    memset(l, 0, sizeof *l);
}

static krk_err open_urn(const char *urn, loaded *out, krk_diag *d)
{
    memset(out, 0, sizeof *out);
    if (strncmp(urn, "builtin://", 10) == 0) {
        for (size_t i = 0; i < builtin_count; i++)
            if (strcmp(builtins[i].name, urn + 10) == 0)
                out->entry = builtins[i].fn;
        if (out->entry == NULL)
            return krk_fail(d, KRK_E_MANIFEST, "%s: no such built-in component", urn);
    } else if (strncmp(urn, "file://", 7) == 0 && urn[7] != '\0') {
        char path[4200];
        if (snprintf(path, sizeof path, "%s.so", urn + 7) >= (int)sizeof path)
            return krk_fail(d, KRK_E_ARG, "%s: path too long", urn);
        out->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (out->dl == NULL)
            return krk_fail(d, KRK_E_MANIFEST, "%s: cannot load %s: %s", urn, path, dlerror());
        void *sym = dlsym(out->dl, KRK_MYSQL_COMPONENT_ENTRY);
        if (sym == NULL) {
            free_loaded(out);
            return krk_fail(d, KRK_E_MANIFEST, "%s: %s exports no %s: not a MySQL component", urn,
                            path, KRK_MYSQL_COMPONENT_ENTRY);
        }
        /* POSIX: a function's address as an object pointer from dlsym */
        memcpy(&out->entry, &sym, sizeof out->entry);
    } else {
        return krk_fail(d, KRK_E_MANIFEST, "%s: unknown scheme (expected file:// or builtin://)",
                        urn);
    }
    out->c = out->entry();
    if (out->c == NULL || out->c->name == NULL || out->c->provides == NULL ||
        out->c->requires_service == NULL || out->c->metadata == NULL) {
        free_loaded(out);
        return krk_fail(d, KRK_E_MANIFEST, "%s: %s returned no valid component", urn,
                        KRK_MYSQL_COMPONENT_ENTRY);
    }
    out->urn = strdup(urn);
    if (out->urn == NULL) {
        free_loaded(out);
        return KRK_E_NOMEM;
    }
    return KRK_OK;
}

static bool provided_in(const loaded *b, size_t n, const char *service)
{
    size_t len = strlen(service);
    for (size_t i = 0; i < n; i++)
        for (const mysql_service_ref_t *p = b[i].c->provides; p->implementation; p++)
            if (p->name && same_service(p->name, service, len))
                return true;
    return false;
}

/* Undoes what the batch did, last component first: deinit, release the
 * requirements, unregister the provided services, dlclose. */
static void rollback(loaded *b, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (b[i].initialized && b[i].c->deinit)
            (void)b[i].c->deinit();
    for (size_t i = n; i-- > 0;) {
        mysql_service_placeholder_ref_t *r = b[i].c->requires_service;
        for (size_t j = b[i].acquired; j-- > 0;) {
            (void)r_release((my_h_service)*r[j].implementation);
            *r[j].implementation = NULL;
        }
    }
    for (size_t i = n; i-- > 0;) {
        const mysql_service_ref_t *p = b[i].c->provides;
        for (size_t j = b[i].registered; j-- > 0;)
            (void)r_unregister(p[j].name);
    }
    for (size_t i = n; i-- > 0;)
        free_loaded(&b[i]);
}

krk_err krk_chassis_load(const char *const *urns, size_t n, krk_diag *d)
{
    krk_diag_clear(d);
    if (urns == NULL || n == 0)
        return krk_fail(d, KRK_E_ARG, "no component to load");
    pthread_mutex_lock(&load_lock);
    krk_err e = up ? KRK_OK : krk_fail(d, KRK_E_ARG, "the chassis is not initialized");
    loaded *b = e == KRK_OK ? calloc(n, sizeof *b) : NULL;
    if (e == KRK_OK && b == NULL)
        e = KRK_E_NOMEM;
    size_t opened = 0;
    /* 1. load each library */
    while (e == KRK_OK && opened < n) {
        e = open_urn(urns[opened], &b[opened], d);
        for (size_t j = 0; e == KRK_OK && j < comp_count + opened; j++) {
            const loaded *o = j < comp_count ? &comps[j] : &b[j - comp_count];
            if (strcmp(o->urn, urns[opened]) == 0 || o->entry == b[opened].entry) {
                e = krk_fail(d, KRK_E_EXISTS, "%s: already loaded (as %s)", urns[opened], o->urn);
                free_loaded(&b[opened]);
            }
        }
        if (e == KRK_OK)
            opened++;
    }
    /* 2, 3. every requirement provided in the batch or registered */
    for (size_t i = 0; e == KRK_OK && i < n; i++)
        for (const mysql_service_placeholder_ref_t *r = b[i].c->requires_service;
             e == KRK_OK && r->name; r++) {
            pthread_rwlock_rdlock(&reg_lock);
            bool found = find_service(r->name) >= 0;
            pthread_rwlock_unlock(&reg_lock);
            if (!found && !(strchr(r->name, '.') == NULL && provided_in(b, n, r->name)))
                e = krk_fail(d, KRK_E_MANIFEST, "%s: component %s requires service \"%s\", "
                             "which nothing provides", b[i].urn, b[i].c->name, r->name);
        }
    /* 4. register the provided services */
    for (size_t i = 0; e == KRK_OK && i < n; i++)
        for (const mysql_service_ref_t *p = b[i].c->provides; e == KRK_OK && p->implementation;
             p++) {
            pthread_rwlock_wrlock(&reg_lock);
            krk_err r = reg_add(p->name, p->implementation);
            pthread_rwlock_unlock(&reg_lock);
            if (r != KRK_OK)
                e = krk_fail(d, KRK_E_MANIFEST, "%s: cannot register %s: %s", b[i].urn,
                             p->name ? p->name : "(no name)",
                             r == KRK_E_EXISTS ? "registered already" : krk_strerror(r));
            else
                b[i].registered++;
        }
    /* 5. acquire the requirements into their placeholders */
    for (size_t i = 0; e == KRK_OK && i < n; i++)
        for (mysql_service_placeholder_ref_t *r = b[i].c->requires_service; e == KRK_OK && r->name;
             r++) {
            my_h_service h = NULL;
            if (r->implementation == NULL || r_acquire(r->name, &h) != 0)
                e = krk_fail(d, KRK_E_MANIFEST, "%s: cannot acquire \"%s\" for %s", b[i].urn,
                             r->name, b[i].c->name);
            else {
                *r->implementation = (void *)h;
                b[i].acquired++;
            }
        }
    /* 6. init, in order */
    for (size_t i = 0; e == KRK_OK && i < n; i++) {
        if (b[i].c->init && b[i].c->init() != 0)
            e = krk_fail(d, KRK_E_MANIFEST, "%s: component %s failed to initialize", b[i].urn,
                         b[i].c->name);
        else
            b[i].initialized = true;
    }
    /* 7. commit */
    loaded *grown = NULL;
    if (e == KRK_OK) {
        grown = realloc(comps, (comp_count + n) * sizeof *comps);
        if (grown == NULL)
            e = KRK_E_NOMEM;
    }
    if (e != KRK_OK) {
        if (b)
            rollback(b, opened);
    } else {
        comps = grown;
        batches++;
        for (size_t i = 0; i < n; i++) {
            b[i].batch = batches;
            comps[comp_count++] = b[i];
        }
    }
    free(b);
    pthread_mutex_unlock(&load_lock);
    return e;
}

static long find_loaded(const char *urn)
{
    for (size_t i = 0; i < comp_count; i++)
        if (strcmp(comps[i].urn, urn) == 0)
            return (long)i;
    return -1;
}

/* Unloads comps[idx[0..n)]; force skips the check for outside references. */
static krk_err unload_locked(const size_t *idx, size_t n, bool force, krk_diag *d)
{
    if (!force)
        for (size_t i = 0; i < n; i++)
            for (const mysql_service_ref_t *p = comps[idx[i]].c->provides; p->implementation;
                 p++) {
                long own = 0; /* references the batch itself holds */
                for (size_t j = 0; j < n; j++)
                    for (const mysql_service_placeholder_ref_t *r =
                             comps[idx[j]].c->requires_service;
                         r->name; r++)
                        own += *r->implementation == p->implementation;
                long refs = krk_chassis_refs(p->name);
                if (refs > own)
                    return krk_fail(d, KRK_E_EXISTS, "%s: cannot unload: %s has %ld references "
                                    "from outside", comps[idx[i]].urn, p->name, refs - own);
            }
    loaded *b = calloc(n, sizeof *b);
    if (b == NULL)
        return KRK_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        b[i] = comps[idx[i]];
    for (size_t i = 0; i < n; i++)
        comps[idx[i]].urn = NULL; /* taken; compacted below */
    size_t w = 0;
    for (size_t i = 0; i < comp_count; i++)
        if (comps[i].urn)
            comps[w++] = comps[i];
    comp_count = w;
    rollback(b, n); /* deinit, release, unregister, dlclose */
    free(b);
    return KRK_OK;
}

krk_err krk_chassis_unload(const char *const *urns, size_t n, krk_diag *d)
{
    krk_diag_clear(d);
    if (urns == NULL || n == 0)
        return KRK_E_ARG;
    size_t *idx = calloc(n, sizeof *idx);
    if (idx == NULL)
        return KRK_E_NOMEM;
    pthread_mutex_lock(&load_lock);
    krk_err e = KRK_OK;
    for (size_t i = 0; i < n && e == KRK_OK; i++) {
        long at = find_loaded(urns[i]);
        if (at < 0)
            e = krk_fail(d, KRK_E_NOT_FOUND, "%s: not loaded", urns[i]);
        else
            idx[i] = (size_t)at;
    }
    if (e == KRK_OK)
        e = unload_locked(idx, n, false, d);
    pthread_mutex_unlock(&load_lock);
    free(idx);
    return e;
}

const mysql_component_t *krk_chassis_component(const char *urn)
{
    pthread_mutex_lock(&load_lock);
    long at = find_loaded(urn);
    const mysql_component_t *c = at >= 0 ? comps[at].c : NULL;
    pthread_mutex_unlock(&load_lock);
    return c;
}

krk_err krk_chassis_add_builtin(const char *name, krk_list_components_fn fn)
{
    if (name == NULL || fn == NULL)
        return KRK_E_ARG;
    pthread_mutex_lock(&load_lock);
    krk_err e = KRK_OK;
    for (size_t i = 0; i < builtin_count && e == KRK_OK; i++)
        if (strcmp(builtins[i].name, name) == 0)
            e = KRK_E_EXISTS;
    builtin *n = e == KRK_OK ? realloc(builtins, (builtin_count + 1) * sizeof *n) : NULL;
    char *copy = n ? strdup(name) : NULL;
    if (e == KRK_OK && (n == NULL || copy == NULL)) {
        if (n)
            builtins = n;
        e = KRK_E_NOMEM;
    } else if (e == KRK_OK) {
        builtins = n;
        builtins[builtin_count++] = (builtin){copy, fn};
    }
    pthread_mutex_unlock(&load_lock);
    return e;
}

/* ---- the host's log services ---- */

static krk_log_fn host_fn;
static void *host_ctx;
static mysql_service_log_builtins_t host_log;            /* copies: their own addresses */
static mysql_service_log_builtins_string_t host_log_string;

static int host_message(int log_type, ...)
{
    krk_log_record r;
    KRK_LOG_READ_ARGS(log_type, &r);
    if (host_fn == NULL) {
        krk_log_to_stderr(&r);
        return 0;
    }
    char text[2300];
    snprintf(text, sizeof text, "%s%s%s", r.component, r.component[0] ? ": " : "", r.message);
    host_fn(host_ctx,
            r.prio == KRK_LOG_ERROR_LEVEL     ? 0
            : r.prio == KRK_LOG_WARNING_LEVEL ? 1
                                              : 2,
            text);
    return 0;
}

krk_err krk_chassis_register_log(krk_log_fn fn, void *ctx)
{
    pthread_mutex_lock(&load_lock);
    host_fn = fn;
    host_ctx = ctx;
    host_log = krk_log_builtins_inert;
    host_log.message = host_message;
    host_log_string = krk_log_builtins_string_libc;
    pthread_rwlock_wrlock(&reg_lock);
    krk_err e = reg_add("log_builtins." KRK_CHASSIS_IMPL, &host_log);
    if (e == KRK_OK && (e = reg_add("log_builtins_string." KRK_CHASSIS_IMPL, &host_log_string)) !=
                           KRK_OK)
        (void)reg_remove("log_builtins." KRK_CHASSIS_IMPL);
    pthread_rwlock_unlock(&reg_lock);
    pthread_mutex_unlock(&load_lock);
    return e;
}

/* ---- up and down ---- */

krk_err krk_chassis_init(krk_diag *d)
{
    krk_diag_clear(d);
    pthread_mutex_lock(&load_lock);
    krk_err e = up ? krk_fail(d, KRK_E_EXISTS, "the chassis is initialized already") : KRK_OK;
    if (e == KRK_OK) {
        pthread_rwlock_wrlock(&reg_lock);
        e = reg_add("registry." KRK_CHASSIS_IMPL, (void *)&registry_svc);
        if (e == KRK_OK &&
            (e = reg_add("registry_registration." KRK_CHASSIS_IMPL, (void *)&registration_svc)) !=
                KRK_OK)
            (void)reg_remove("registry." KRK_CHASSIS_IMPL);
        pthread_rwlock_unlock(&reg_lock);
        up = e == KRK_OK;
    }
    pthread_mutex_unlock(&load_lock);
    return e;
}

void krk_chassis_deinit(void)
{
    pthread_mutex_lock(&load_lock);
    while (comp_count > 0) { /* the last batch first */
        size_t last = comps[comp_count - 1].batch, n = 0;
        size_t idx[64];
        for (size_t i = 0; i < comp_count && n < 64; i++)
            if (comps[i].batch == last)
                idx[n++] = i;
        krk_diag d;
        (void)unload_locked(idx, n, true, &d);
    }
    free(comps);
    comps = NULL;
    for (size_t i = 0; i < builtin_count; i++)
        free(builtins[i].name);
    free(builtins);
    builtins = NULL;
    builtin_count = 0;
    pthread_rwlock_wrlock(&reg_lock);
    for (size_t i = 0; i < reg_count; i++)
        free(reg[i].name);
    free(reg);
    reg = NULL;
    reg_count = reg_cap = 0;
    pthread_rwlock_unlock(&reg_lock);
    host_fn = NULL;
    host_ctx = NULL;
    up = false;
    pthread_mutex_unlock(&load_lock);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* A minimal component chassis in C: what mysqld and mysql_migrate_keyring
 * do with a component (docs/MYSQL.md, "The chassis"), for the CLI and the
 * tests. Process-wide, like MySQL's (the registry's functions take no
 * context); every function is thread-safe.
 *
 * Registry: "service.implementation" names in strcmp order; the first
 * implementation registered for a service is its default (until it is
 * unregistered: then the first remaining one in name order); acquire("svc")
 * gives the default, acquire("svc.impl") that one; acquire_related("svc2",
 * h) gives "svc2.<h's implementation>", else svc2's default; a registered
 * implementation cannot be unregistered while references are held.
 *
 * Loading a batch of URNs ("file://PATH" loads PATH.so; "builtin://NAME" a
 * descriptor added with krk_chassis_add_builtin): load each library, check
 * every requirement (a bare service provided in the batch or registered; a
 * "svc.impl" registered already), register every provided service,
 * acquire every requirement into its placeholder, call each init in order;
 * any failure undoes all of it (no deinit for the component whose init
 * failed; deinit for those of the batch initialized before it). Unloading:
 * refused while a provided service has references from outside the batch;
 * else deinit, release the requirements, unregister, dlclose.
 *
 * Errors: KRK_E_ARG, KRK_E_NOMEM, KRK_E_MANIFEST (a library cannot be
 * loaded or is not a component, a requirement not met, a registration or
 * an init failed), KRK_E_EXISTS (a URN or name already there),
 * KRK_E_NOT_FOUND; the diag says which component and service. */
#ifndef KRK_CHASSIS_H
#define KRK_CHASSIS_H

#include "krk_config.h"
#include "krk_mysql_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The registry's own implementation name: "registry.krk_chassis", ... */
#define KRK_CHASSIS_IMPL "krk_chassis"

/* Registers registry and registry_registration. KRK_E_EXISTS when up. */
KRK_API KRK_MUST_CHECK krk_err krk_chassis_init(krk_diag *diag);
/* Unloads what is still loaded (last batch first), forgets everything. */
KRK_API void krk_chassis_deinit(void);

KRK_API const mysql_service_registry_t *krk_chassis_registry(void);
KRK_API const mysql_service_registry_registration_t *krk_chassis_registration(void);

/* The host's own log_builtins and log_builtins_string
 * ("log_builtins.krk_chassis"), registered before any component (so they
 * are the defaults, as the server's are in mysqld): messages go to fn(ctx,
 * level 0 error / 1 warning / 2 note, text prefixed "component: "), or to
 * stderr with a timestamp and level when fn is NULL. Not registered in
 * mysql_migrate_keyring's situation: then a component's fallback is used. */
KRK_API KRK_MUST_CHECK krk_err krk_chassis_register_log(krk_log_fn fn, void *ctx);

/* "builtin://name" loads fn's descriptor (a component linked in). */
KRK_API KRK_MUST_CHECK krk_err krk_chassis_add_builtin(const char *name,
                                                       krk_list_components_fn fn);

KRK_API KRK_MUST_CHECK krk_err krk_chassis_load(const char *const *urns, size_t count,
                                                krk_diag *diag);
KRK_API KRK_MUST_CHECK krk_err krk_chassis_unload(const char *const *urns, size_t count,
                                                  krk_diag *diag);

/* The descriptor of a loaded URN (NULL: not loaded). */
KRK_API const mysql_component_t *krk_chassis_component(const char *urn);
/* Calls fn for every registered name of service ("svc.impl") in name
 * order; returns how many. */
KRK_API size_t krk_chassis_each(const char *service, void (*fn)(void *ctx, const char *name),
                                void *ctx);
/* References held on name (-1: not registered). */
KRK_API long krk_chassis_refs(const char *name);

#ifdef __cplusplus
}
#endif
#endif

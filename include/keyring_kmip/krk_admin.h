/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring_kmip_admin: the one service of component_keyring_kmip beyond
 * MySQL's eight keyring services, for our own tools (keyring-kmip). It is in
 * the component's provides list as "keyring_kmip_admin.component_keyring_kmip"
 * and is acquired like the others (acquire_related from the keyring reader);
 * mysqld registers it and never uses it. It offers what the eight services
 * cannot express: a configuration file named directly, load progress, the
 * reason and krk_err code of the calling thread's last failure, key states,
 * the server check (and repair), load figures.
 *
 * A new function means a new service name (keyring_kmip_admin_v2): a
 * service never changes once shipped. Return values: mysql_service_status_t,
 * 0 success, except where noted. */
#ifndef KRK_ADMIN_H
#define KRK_ADMIN_H

#include "krk.h"
#include "krk_mysql_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KRK_ADMIN_SERVICE "keyring_kmip_admin"

typedef struct s_keyring_kmip_admin {
    /* 1 for this layout */
    unsigned (*version)(void);
    /* keyring_load.load with one named configuration file (no
     * read_local_config indirection); same semantics otherwise */
    mysql_service_status_t (*load_file)(const char *config_path);
    /* progress of the next loads (fn(ctx, loaded, total)); NULL: none */
    void (*set_progress)(krk_progress_fn fn, void *ctx);
    /* the calling thread's last failure in any service of the component:
     * its krk_err (KRK_OK: none) and message copied into buf (may be NULL) */
    krk_err (*last_error)(char *buf, size_t cap);
    /* the state of the key the keys iterator is at */
    mysql_service_status_t (*iterator_state)(my_h_keyring_keys_metadata_iterator it,
                                             krk_key_state *state);
    const char *(*key_state_name)(krk_key_state state);
    /* krk_check_server on the loaded configuration; its krk_err */
    krk_err (*check_server)(bool repair, krk_check_fn fn, void *ctx, krk_check_result *out);
    /* the request messages the last load took */
    uint64_t (*load_requests)(void);
    /* the configuration file of the keyring in service; 0 when loaded */
    mysql_service_status_t (*config_path)(char *buf, size_t cap);
} keyring_kmip_admin_t;

/* keyring_kmip_admin_v2: what was added after keyring_kmip_admin shipped,
 * acquired by name ("keyring_kmip_admin_v2.component_keyring_kmip") when
 * wanted; a component without it simply lacks these functions. */
#define KRK_ADMIN_V2_SERVICE "keyring_kmip_admin_v2"

typedef struct s_keyring_kmip_admin_v2 {
    /* 1 for this layout */
    unsigned (*version)(void);
    /* krk_probe_servers on the keyring in service (waits for the network:
     * each server not contacted yet, bounded by the connect timeout);
     * the number probed, 0 when none or nothing is loaded */
    size_t (*probe_servers)(void);
} keyring_kmip_admin_v2_t;

#ifdef __cplusplus
}
#endif
#endif

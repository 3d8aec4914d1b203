/* SPDX-License-Identifier: GPL-2.0-only */
/* component_keyring_kmip's insides: the state every service shares
 * (component.c) and the service tables (component_services.c,
 * component_log.c), put together by component_descriptor.c. A front end
 * above the keyring layer. */
#ifndef KRK_COMPONENT_INTERNAL_H
#define KRK_COMPONENT_INTERNAL_H

#include "keyring_kmip/krk.h"
#include "keyring_kmip/krk_admin.h"
#include "keyring_kmip/krk_mysql_abi.h"

#define COMP_NAME KRK_COMPONENT_NAME

/* The keyring in service, or NULL (never loaded, or every load failed:
 * the component is Disabled). Set by the first successful load, freed by
 * deinit only, so a pointer taken here stays valid while any service is
 * in use. Sets the thread's error (KRK_E_NOT_INITIALIZED) when NULL. */
krk_keyring *comp_keyring(void);
/* Records the calling thread's failure (admin last_error) and returns 1
 * (the services' "failed"); KRK_OK records nothing and returns 0. */
int comp_fail(krk_err e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The keyring's own message of the thread's last failed call. */
int comp_fail_keyring(krk_err e, krk_keyring *k);
/* To log_builtins->message (the host's, or our fallback). */
void comp_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern const mysql_service_keyring_reader_with_status_t comp_reader;
extern const mysql_service_keyring_writer_t comp_writer;
extern const mysql_service_keyring_generator_t comp_generator;
extern const mysql_service_keyring_keys_metadata_iterator_t comp_keys_iterator;
extern const mysql_service_keyring_aes_t comp_aes;
/* the fallback log_builtins: filled by comp_fallback_fill (before the
 * descriptor is handed out) */
extern mysql_service_log_builtins_t comp_fallback_log_builtins;
void comp_fallback_fill(void);
/* component.c: keyring_load, the status and metadata services, the admin
 * service, init and deinit, and the placeholders of the required services */
extern const mysql_service_keyring_load_t comp_load;
extern const mysql_service_keyring_component_status_t comp_status;
extern const mysql_service_keyring_component_metadata_query_t comp_metadata;
extern const keyring_kmip_admin_t comp_admin;
extern const keyring_kmip_admin_v2_t comp_admin_v2;
extern mysql_service_placeholder_ref_t comp_requires[];
mysql_service_status_t comp_init(void);
mysql_service_status_t comp_deinit(void);

#endif

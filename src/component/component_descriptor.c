/* SPDX-License-Identifier: GPL-2.0-only */
/* component_keyring_kmip's descriptor: what it provides (the services of
 * component.c, component_services.c and component_log.c) and requires,
 * and list_components, the one symbol the module exports. Above the files
 * it names, so that none of them needs another's tables. */
#include <stddef.h>

#include "component.h"
#include "component_builtin.h"
#include "log_items.h"

#define IMPL(svc) svc "." COMP_NAME
static mysql_service_ref_t provides[] = {
    {IMPL("keyring_aes"), (void *)&comp_aes},
    {IMPL("keyring_generator"), (void *)&comp_generator},
    {IMPL("keyring_load"), (void *)&comp_load},
    {IMPL("keyring_keys_metadata_iterator"), (void *)&comp_keys_iterator},
    {IMPL("keyring_component_status"), (void *)&comp_status},
    {IMPL("keyring_component_metadata_query"), (void *)&comp_metadata},
    {IMPL("keyring_reader_with_status"), (void *)&comp_reader},
    {IMPL("keyring_writer"), (void *)&comp_writer},
    {IMPL("log_builtins"), (void *)&comp_fallback_log_builtins},
    {IMPL("log_builtins_string"), (void *)&krk_log_builtins_string_libc},
    {IMPL(KRK_ADMIN_SERVICE), (void *)&comp_admin},
    {IMPL(KRK_ADMIN_V2_SERVICE), (void *)&comp_admin_v2},
    {NULL, NULL},
};

static mysql_metadata_ref_t metadata[] = {
    {"mysql.author", "keyring_kmip developers"},
    {"mysql.license", "GPL"},
    {"component_keyring_kmip_service", "1"},
    {NULL, NULL},
};

static mysql_component_t component = {
    COMP_NAME, provides, comp_requires, metadata, comp_init, comp_deinit,
};

#ifndef KRK_BUILDING_COMPONENT
mysql_component_t *krk_component_builtin(void)
{
    comp_fallback_fill();
    return &component;
}
#else
/* The one symbol of ours the module exports. */
__attribute__((visibility("default"))) mysql_component_t *list_components(void);
mysql_component_t *list_components(void)
{
    comp_fallback_fill();
    return &component;
}
#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The component's function table. Built into libkeyring_kmip (for programs
 * that link the keyring) and exported by component_keyring_kmip.so as the
 * symbol keyring_kmip_component_v1 (for the loader, as the server loads it). */
#include "keyring_kmip/krk_component.h"

static const krk_component_v1 table = {
    KRK_COMPONENT_ABI_V1,
    "component_keyring_kmip",
    KRK_VERSION,
    krk_config_find,
    krk_config_read,
    krk_open,
    krk_close,
    krk_reload,
    krk_is_initialized,
    krk_last_error,
    krk_store,
    krk_remove,
    krk_generate,
    krk_reader_init,
    krk_reader_fetch_length,
    krk_reader_fetch,
    krk_reader_deinit,
    krk_iter_init,
    krk_iter_is_valid,
    krk_iter_next,
    krk_iter_get_length,
    krk_iter_get,
    krk_iter_deinit,
    krk_metadata,
    krk_key_count,
    krk_load_requests,
    krk_strerror,
    krk_aes_get_size,
    krk_aes_encrypt,
    krk_aes_decrypt,
    krk_open_progress,
};

const krk_component_v1 *krk_component_table(void)
{
    return &table;
}

static const krk_component_ext1 ext1 = {
    sizeof(krk_component_ext1), krk_iter_get_state, krk_key_state_name, krk_lookup, krk_refresh,
};

const krk_component_ext1 *krk_component_ext1_table(void)
{
    return &ext1;
}

#ifdef KRK_BUILDING_COMPONENT
/* The one symbol the component module exports. */
__attribute__((visibility("default"))) const krk_component_v1 *const keyring_kmip_component_v1 = &table;
__attribute__((visibility("default"))) const krk_component_ext1 *const keyring_kmip_component_ext1 =
    &ext1;
#endif

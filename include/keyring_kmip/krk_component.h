/* SPDX-License-Identifier: GPL-2.0-only */
/* component_keyring_kmip.so: the loadable keyring component. It exports
 * one symbol, keyring_kmip_component_v1, a versioned table of function pointers
 * over the keyring API of krk.h (see there for the contract of each).
 * A new ABI gets a new table type and symbol; this one never changes. */
#ifndef KRK_COMPONENT_H
#define KRK_COMPONENT_H

#include "krk.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KRK_COMPONENT_ABI_V1 1u
#define KRK_COMPONENT_SYMBOL_V1 "keyring_kmip_component_v1"

typedef struct krk_component_v1 {
    unsigned abi; /* KRK_COMPONENT_ABI_V1 */
    const char *name;
    const char *version;
    krk_err (*config_find)(const char *plugin_dir, const char *datadir, krk_config *out,
                           krk_diag *diag);
    krk_err (*config_read)(const char *path, krk_config *out, krk_diag *diag);
    krk_err (*open)(const krk_config *cfg, krk_keyring **out, krk_diag *diag);
    void (*close)(krk_keyring *k);
    krk_err (*reload)(krk_keyring *k, const char *plugin_dir, const char *datadir, krk_diag *d);
    bool (*is_initialized)(const krk_keyring *k);
    const char *(*last_error)(const krk_keyring *k);
    krk_err (*store)(krk_keyring *k, const char *data_id, const char *auth_id,
                     const uint8_t *data, size_t size, const char *type);
    krk_err (*remove)(krk_keyring *k, const char *data_id, const char *auth_id);
    krk_err (*generate)(krk_keyring *k, const char *data_id, const char *auth_id,
                        const char *type, size_t size);
    krk_err (*reader_init)(krk_keyring *k, const char *data_id, const char *auth_id,
                           krk_reader **out);
    void (*reader_fetch_length)(const krk_reader *r, size_t *data_len, size_t *type_len);
    krk_err (*reader_fetch)(const krk_reader *r, uint8_t *data, size_t data_cap,
                            size_t *data_len, char *type, size_t type_cap, size_t *type_len);
    void (*reader_deinit)(krk_reader *r);
    krk_err (*iter_init)(krk_keyring *k, krk_iter **out);
    bool (*iter_is_valid)(const krk_iter *it);
    krk_err (*iter_next)(krk_iter *it);
    krk_err (*iter_get_length)(const krk_iter *it, size_t *data_id_len, size_t *auth_id_len);
    krk_err (*iter_get)(const krk_iter *it, char *data_id, size_t data_id_cap, char *auth_id,
                        size_t auth_id_cap);
    void (*iter_deinit)(krk_iter *it);
    size_t (*metadata)(const krk_keyring *k, krk_metadata_item *items, size_t cap);
    size_t (*key_count)(const krk_keyring *k);
    uint64_t (*load_requests)(const krk_keyring *k);
    const char *(*strerror)(krk_err err);
    krk_err (*aes_get_size)(size_t input_length, const char *mode, size_t block_size,
                            size_t *out_size);
    krk_err (*aes_encrypt)(krk_keyring *k, const char *data_id, const char *auth_id,
                           const char *mode, size_t block_size, const uint8_t *iv, bool padding,
                           const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                           size_t *out_len);
    krk_err (*aes_decrypt)(krk_keyring *k, const char *data_id, const char *auth_id,
                           const char *mode, size_t block_size, const uint8_t *iv, bool padding,
                           const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                           size_t *out_len);
    krk_err (*open_progress)(const krk_config *cfg, krk_progress_fn fn, void *ctx,
                             krk_keyring **out, krk_diag *diag);
} krk_component_v1;

/* The table of the keyring this binary is linked with (the same table the
 * component exports). */
KRK_API const krk_component_v1 *krk_component_table(void);

/* Functions added after ABI 1, exported by the component as a second,
 * optional symbol (an older component lacks it): key states, the MariaDB
 * plugin's incremental reads. `size` is sizeof the struct the component was
 * built with; a field is there when it lies within it. */
#define KRK_COMPONENT_SYMBOL_EXT1 "keyring_kmip_component_ext1"
typedef struct krk_component_ext1 {
    size_t size;
    krk_err (*iter_get_state)(const krk_iter *it, krk_key_state *state);
    const char *(*key_state_name)(krk_key_state state);
    krk_err (*lookup)(krk_keyring *k, const char *data_id, const char *auth_id);
    krk_err (*refresh)(krk_keyring *k, size_t *added, krk_diag *diag);
} krk_component_ext1;
KRK_API const krk_component_ext1 *krk_component_ext1_table(void);

#ifdef __cplusplus
}
#endif
#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* MySQL's component ABI (8.0.24+ / 8.4) written for C from the facts in
 * docs/MYSQL.md and the reference (mysql-component-abi.md): the component
 * descriptor list_components returns, the registry services, the eight
 * keyring services, log_builtins (8.0/8.4 layout) and log_builtins_string.
 * Our own declarations; no MySQL header is used or copied.
 *
 * Every service is a struct of function pointers; the ORDER of the members
 * is the ABI and must never change. mysql_service_status_t: 0 is success,
 * non-zero failure, except where a comment says otherwise (is_valid,
 * is_initialized: non-zero is "yes"). */
#ifndef KRK_MYSQL_ABI_H
#define KRK_MYSQL_ABI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int mysql_service_status_t;
typedef struct my_h_service_imp *my_h_service; /* a service implementation */

/* ---- the component descriptor (dynamic_loader.h) ---- */

typedef struct mysql_service_ref_t {
    const char *name;     /* "service.implementation" */
    void *implementation; /* NULL ends the list */
} mysql_service_ref_t;

typedef struct mysql_service_placeholder_ref_t {
    const char *name;      /* "service" or "service.implementation"; NULL ends the list */
    void **implementation; /* the loader writes the acquired service here */
} mysql_service_placeholder_ref_t;

typedef struct mysql_metadata_ref_t {
    const char *key; /* NULL ends the list */
    const char *value;
} mysql_metadata_ref_t;

typedef struct mysql_component_t {
    const char *name;
    mysql_service_ref_t *provides;
    mysql_service_placeholder_ref_t *requires_service; /* "requires" in older trees */
    mysql_metadata_ref_t *metadata;
    mysql_service_status_t (*init)(void);   /* may be NULL */
    mysql_service_status_t (*deinit)(void); /* may be NULL */
} mysql_component_t;

/* The one symbol a component library exports: ONE component, not a list. */
#define KRK_MYSQL_COMPONENT_ENTRY "list_components"
typedef mysql_component_t *(*krk_list_components_fn)(void);

/* ---- registry (registry.h) ---- */

typedef struct s_mysql_registry {
    /* "svc": the default implementation; "svc.impl": that one */
    mysql_service_status_t (*acquire)(const char *service_name, my_h_service *out_service);
    /* service_name + the ".impl" of service's name, else service_name's default */
    mysql_service_status_t (*acquire_related)(const char *service_name, my_h_service service,
                                              my_h_service *out_service);
    mysql_service_status_t (*release)(my_h_service service);
} mysql_service_registry_t;

typedef struct s_mysql_registry_registration {
    mysql_service_status_t (*register_service)(const char *service_implementation_name,
                                               my_h_service ptr);
    mysql_service_status_t (*unregister)(const char *service_implementation_name);
    mysql_service_status_t (*set_default)(const char *service_implementation_name);
} mysql_service_registry_registration_t;

/* ---- the keyring services ---- */

typedef struct my_h_keyring_reader_object_imp *my_h_keyring_reader_object;
typedef struct my_h_keyring_keys_metadata_iterator_imp *my_h_keyring_keys_metadata_iterator;
typedef struct my_h_keyring_component_metadata_iterator_imp
    *my_h_keyring_component_metadata_iterator;

/* init: non-zero = error; 0 and *reader_object NULL = not found; 0 and
 * non-NULL = found. Lengths exclude the NUL; fetch fails (writing nothing)
 * when a buffer is too small (the type buffer needs type length + 1). */
typedef struct s_mysql_keyring_reader_with_status {
    mysql_service_status_t (*init)(const char *data_id, const char *auth_id,
                                   my_h_keyring_reader_object *reader_object);
    mysql_service_status_t (*deinit)(my_h_keyring_reader_object reader_object);
    mysql_service_status_t (*fetch_length)(my_h_keyring_reader_object reader_object,
                                           size_t *data_size, size_t *data_type_size);
    mysql_service_status_t (*fetch)(my_h_keyring_reader_object reader_object,
                                    unsigned char *data_buffer, size_t data_buffer_length,
                                    size_t *data_size, char *data_type,
                                    size_t data_type_buffer_length, size_t *data_type_size);
} mysql_service_keyring_reader_with_status_t;

typedef struct s_mysql_keyring_writer {
    mysql_service_status_t (*store)(const char *data_id, const char *auth_id,
                                    const unsigned char *data, size_t data_size,
                                    const char *data_type);
    mysql_service_status_t (*remove)(const char *data_id, const char *auth_id);
} mysql_service_keyring_writer_t;

typedef struct s_mysql_keyring_generator {
    mysql_service_status_t (*generate)(const char *data_id, const char *auth_id,
                                       const char *data_type, size_t data_size);
} mysql_service_keyring_generator_t;

/* is_valid: NON-ZERO = valid. next: 0 = moved, non-zero = at the end or an
 * error. get_length EXCLUDES the NUL; get needs buffers longer than it. */
typedef struct s_mysql_keyring_keys_metadata_iterator {
    mysql_service_status_t (*init)(my_h_keyring_keys_metadata_iterator *forward_iterator);
    mysql_service_status_t (*deinit)(my_h_keyring_keys_metadata_iterator forward_iterator);
    mysql_service_status_t (*is_valid)(my_h_keyring_keys_metadata_iterator forward_iterator);
    mysql_service_status_t (*next)(my_h_keyring_keys_metadata_iterator forward_iterator);
    mysql_service_status_t (*get_length)(my_h_keyring_keys_metadata_iterator forward_iterator,
                                         size_t *data_id_length, size_t *auth_id_length);
    mysql_service_status_t (*get)(my_h_keyring_keys_metadata_iterator forward_iterator,
                                  char *data_id, size_t data_id_length, char *auth_id,
                                  size_t auth_id_length);
} mysql_service_keyring_keys_metadata_iterator_t;

/* is_initialized: NON-ZERO = initialized (a successful keyring_load). */
typedef struct s_mysql_keyring_component_status {
    mysql_service_status_t (*is_initialized)(void);
} mysql_service_keyring_component_status_t;

/* is_valid: NON-ZERO = valid. get_length INCLUDES the NUL. */
typedef struct s_mysql_keyring_component_metadata_query {
    mysql_service_status_t (*init)(my_h_keyring_component_metadata_iterator *metadata_iterator);
    mysql_service_status_t (*deinit)(my_h_keyring_component_metadata_iterator metadata_iterator);
    mysql_service_status_t (*is_valid)(my_h_keyring_component_metadata_iterator
                                           metadata_iterator);
    mysql_service_status_t (*next)(my_h_keyring_component_metadata_iterator metadata_iterator);
    mysql_service_status_t (*get_length)(my_h_keyring_component_metadata_iterator
                                             metadata_iterator,
                                         size_t *key_buffer_length, size_t *value_buffer_length);
    mysql_service_status_t (*get)(my_h_keyring_component_metadata_iterator metadata_iterator,
                                  char *key_buffer, size_t key_buffer_len, char *value_buffer,
                                  size_t value_buffer_len);
} mysql_service_keyring_component_metadata_query_t;

/* instance_path may be NULL (mysql_migrate_keyring): the current directory. */
typedef struct s_mysql_keyring_load {
    mysql_service_status_t (*load)(const char *component_path, const char *instance_path);
} mysql_service_keyring_load_t;

typedef struct s_mysql_keyring_aes {
    mysql_service_status_t (*get_size)(size_t input_length, const char *mode, size_t block_size,
                                       size_t *out_size);
    mysql_service_status_t (*encrypt)(const char *data_id, const char *auth_id, const char *mode,
                                      size_t block_size, const unsigned char *iv, int padding,
                                      const unsigned char *data_buffer,
                                      size_t data_buffer_length, unsigned char *out_buffer,
                                      size_t out_buffer_length, size_t *out_length);
    mysql_service_status_t (*decrypt)(const char *data_id, const char *auth_id, const char *mode,
                                      size_t block_size, const unsigned char *iv, int padding,
                                      const unsigned char *data_buffer,
                                      size_t data_buffer_length, unsigned char *out_buffer,
                                      size_t out_buffer_length, size_t *out_length);
} mysql_service_keyring_aes_t;

/* ---- logging (log_builtins.h, log_shared.h), 8.0.2x-8.4 layout ---- */

enum {
    KRK_LOG_SYSTEM_LEVEL = 0,
    KRK_LOG_ERROR_LEVEL = 1,
    KRK_LOG_WARNING_LEVEL = 2,
    KRK_LOG_INFORMATION_LEVEL = 3,
};
#define KRK_LOG_TYPE_ERROR 1
#define KRK_LOG_ITEM_SRV_COMPONENT (1 << 10) /* C string */
#define KRK_LOG_ITEM_LOG_PRIO (1 << 16)      /* long long */
#define KRK_LOG_ITEM_LOG_MESSAGE (1 << 19)   /* printf format + its arguments; ends the list */

/* Opaque in this ABI: we never look inside the server's log lines. */
typedef struct krk_log_item krk_log_item;
typedef struct krk_log_item_data krk_log_item_data;
typedef struct krk_log_line krk_log_line;
typedef struct krk_log_item_iter krk_log_item_iter;
typedef int krk_log_item_type;
typedef int krk_log_item_class;
typedef uint64_t krk_log_item_type_mask;
typedef int krk_log_service_error;

typedef struct s_mysql_log_builtins {
    int (*wellknown_by_type)(krk_log_item_type t);                              /* 0 */
    int (*wellknown_by_name)(const char *key, size_t length);                   /* 1 */
    krk_log_item_type (*wellknown_get_type)(unsigned idx);                      /* 2 */
    const char *(*wellknown_get_name)(unsigned idx);                            /* 3 */
    int (*item_inconsistent)(krk_log_item *li);                                 /* 4 */
    bool (*item_generic_type)(krk_log_item_type t);                             /* 5 */
    bool (*item_string_class)(krk_log_item_class c);                            /* 6 */
    bool (*item_numeric_class)(krk_log_item_class c);                           /* 7 */
    bool (*item_set_int)(krk_log_item_data *lid, long long i);                  /* 8 */
    bool (*item_set_float)(krk_log_item_data *lid, double f);                   /* 9 */
    bool (*item_set_lexstring)(krk_log_item_data *lid, const char *s, size_t len); /* 10 */
    bool (*item_set_cstring)(krk_log_item_data *lid, const char *s);            /* 11 */
    krk_log_item_data *(*item_set_with_key)(krk_log_item *li, krk_log_item_type t,
                                            const char *key, uint32_t alloc);   /* 12 */
    krk_log_item_data *(*item_set)(krk_log_item *li, krk_log_item_type t);      /* 13 */
    krk_log_item_data *(*line_item_set_with_key)(krk_log_line *ll, krk_log_item_type t,
                                                 const char *key, uint32_t alloc); /* 14 */
    krk_log_item_data *(*line_item_set)(krk_log_line *ll, krk_log_item_type t); /* 15 */
    krk_log_line *(*line_init)(void);                                           /* 16 */
    void (*line_exit)(krk_log_line *ll);                                        /* 17 */
    int (*line_item_count)(krk_log_line *ll);                                   /* 18 */
    krk_log_item_type_mask (*line_item_types_seen)(krk_log_line *ll,
                                                   krk_log_item_type_mask m);   /* 19 */
    krk_log_item *(*line_get_output_buffer)(krk_log_line *ll);                  /* 20 */
    krk_log_item_iter *(*line_item_iter_acquire)(krk_log_line *ll);             /* 21 */
    void (*line_item_iter_release)(krk_log_item_iter *it);                      /* 22 */
    krk_log_item *(*line_item_iter_first)(krk_log_item_iter *it);               /* 23 */
    krk_log_item *(*line_item_iter_next)(krk_log_item_iter *it);                /* 24 */
    krk_log_item *(*line_item_iter_current)(krk_log_item_iter *it);             /* 25 */
    int (*line_submit)(krk_log_line *ll);                                       /* 26 */
    int (*message)(int log_type, ...);                                          /* 27 */
    int (*sanitize)(krk_log_item *li);                                          /* 28 */
    const char *(*errmsg_by_errcode)(int mysql_errcode);                        /* 29 */
    long long (*errcode_by_errsymbol)(const char *sym);                         /* 30 */
    const char *(*label_from_prio)(int prio);                                   /* 31 */
    unsigned long long (*parse_iso8601_timestamp)(const char *timestamp, size_t len); /* 32 */
    krk_log_service_error (*open_errstream)(const char *name_or_ext, void **my_errstream); /* 33 */
    krk_log_service_error (*write_errstream)(void *my_errstream, const char *buffer,
                                             size_t length);                    /* 34 */
    int (*dedicated_errstream)(void *my_errstream);                             /* 35 */
    krk_log_service_error (*close_errstream)(void **my_errstream);              /* 36 */
    krk_log_service_error (*reopen_errstream)(const char *file, void **my_errstream); /* 37 */
} mysql_service_log_builtins_t;

typedef struct s_mysql_log_builtins_string {
    void *(*malloc)(size_t len);
    char *(*strndup)(const char *fm, size_t len);
    void (*free)(void *ptr);
    size_t (*length)(const char *s);
    char *(*find_first)(const char *s, int c);
    char *(*find_last)(const char *s, int c);
    int (*compare)(const char *a, const char *b, size_t len, bool case_insensitive);
    size_t (*substitutev)(char *to, size_t n, const char *fmt, va_list ap);
    size_t (*substitute)(char *to, size_t n, const char *fmt, ...);
} mysql_service_log_builtins_string_t;

#ifdef __cplusplus
}
#endif
#endif

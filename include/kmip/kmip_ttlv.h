/* SPDX-License-Identifier: GPL-2.0-only */
/* KMIP TTLV codec: items, trees, a streaming encoder, a bounded decoder and an
 * incremental framer. KMIP 1.4 spec section 9.1 ("TTLV Encoding"), KMIP 2.1
 * section 9.1.
 *
 * This layer does no I/O and links nothing but libc: feed it bytes, get items;
 * give it items, get bytes.
 *
 * Ownership in one paragraph: every object returned by a *_new function is
 * owned by the caller and released with the matching *_free, which wipes all
 * memory that held item values (they may be key material). Items belong to
 * their tree and live until kmip_tree_free; never free an item. Byte and text
 * values passed in are copied.
 *
 * Thread-safety: handles are not shared-safe; use one per thread. Distinct
 * handles may be used concurrently. */
#ifndef KMIP_TTLV_H
#define KMIP_TTLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip_errors.h"
#include "kmip_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Item types, KMIP 1.4 section 9.1.1.2 (Date-Time Extended: 2.0, 9.1.1.2). */
typedef enum kmip_type {
    KMIP_TYPE_STRUCTURE = 0x01,
    KMIP_TYPE_INTEGER = 0x02,
    KMIP_TYPE_LONG_INTEGER = 0x03,
    KMIP_TYPE_BIG_INTEGER = 0x04,
    KMIP_TYPE_ENUMERATION = 0x05,
    KMIP_TYPE_BOOLEAN = 0x06,
    KMIP_TYPE_TEXT_STRING = 0x07,
    KMIP_TYPE_BYTE_STRING = 0x08,
    KMIP_TYPE_DATE_TIME = 0x09,
    KMIP_TYPE_INTERVAL = 0x0A,
    KMIP_TYPE_DATE_TIME_EXTENDED = 0x0B
} kmip_type;

/* The XML type name ("TextString"), or NULL for a byte KMIP does not define. */
KMIP_API const char *kmip_type_name(unsigned type);
/* Inverse of kmip_type_name; false when name is not a type name. */
KMIP_API bool kmip_type_from_name(const char *name, kmip_type *type);

/* ---- secure memory helpers (libsodium style) ---- */

/* Overwrites len bytes at p with zeros in a way the compiler cannot drop. */
KMIP_API void kmip_secure_zero(void *p, size_t len);
/* Wipes then frees; p may be NULL. */
KMIP_API void kmip_secure_free(void *p, size_t len);
/* Constant-time comparison of two equal-length buffers: true when equal.
 * The time depends on len only. */
KMIP_API bool kmip_ct_equal(const void *a, const void *b, size_t len);

/* ---- hex (base 16), one codec for the whole project ---- */

/* Writes 2*n lowercase hex digits and a NUL at out (room for 2*n + 1). */
KMIP_API void kmip_hex_encode(const uint8_t *p, size_t n, char *out);

#define KMIP_HEX_LOWER_ONLY 1u /* refuse 'A'-'F' (canonical names) */
#define KMIP_HEX_SKIP_SPACE 2u /* ignore space, tab, CR and LF between digits */

/* Value of the hex digit c (0-15), or -1 when c is not one under flags. */
KMIP_API int kmip_hex_digit(int c, unsigned flags);
/* Decodes the len characters at s into out, which has room for len / 2
 * bytes and may be s itself (in place). True with *out_len set on success.
 * False when a character is not a digit (*bad = its offset) or the digits
 * are odd in number (*bad = len); out may then hold partial output, which
 * the caller wipes if it is secret. bad may be NULL. */
KMIP_API KMIP_MUST_CHECK bool kmip_hex_decode(const char *s, size_t len, unsigned flags,
                                              uint8_t *out, size_t *out_len, size_t *bad);

/* ---- text as C strings ---- */

/* Copies len bytes of text and a NUL into buf; false (buf untouched) when
 * they do not fit in cap bytes with the NUL. */
KMIP_API KMIP_MUST_CHECK bool kmip_text_copy(const void *text, size_t len, char *buf, size_t cap);

/* ---- one clock ---- */

/* Milliseconds of CLOCK_MONOTONIC: every deadline, back-off and duration in
 * the project is measured with it (never the wall clock, which can jump). */
KMIP_API int64_t kmip_monotonic_ms(void);
/* The same clock in microseconds (round trips of a request). */
KMIP_API int64_t kmip_monotonic_us(void);

/* ---- item trees ---- */

typedef struct kmip_tree kmip_tree;
typedef struct kmip_item kmip_item;

/* One TTLV item. Read the fields freely; change them only through the API.
 * `v.bytes` holds Text String (UTF-8, not NUL-terminated), Byte String and
 * Big Integer (big-endian two's complement, as on the wire) values.
 * Date-Time and Date-Time Extended are in `v.i64` (seconds resp.
 * microseconds since the epoch); Interval in `v.u32`. */
struct kmip_item {
    uint32_t tag;
    uint8_t type;
    union {
        int32_t i32;
        int64_t i64;
        uint32_t u32; /* Enumeration, Interval */
        bool boolean;
        struct {
            uint8_t *data;
            size_t len;
        } bytes;
    } v;
    kmip_item *first_child; /* structures only */
    kmip_item *last_child;
    kmip_item *next; /* next sibling */
    size_t child_count;
};

KMIP_API KMIP_MUST_CHECK kmip_tree *kmip_tree_new(void);
/* Wipes every value and frees the tree; t may be NULL. */
KMIP_API void kmip_tree_free(kmip_tree *t);
/* The top-level item, NULL while the tree is empty. */
KMIP_API kmip_item *kmip_tree_root(const kmip_tree *t);
/* n bytes from the tree's arena, 8-byte aligned and zeroed, wiped and freed
 * with the tree; NULL when out of memory. */
KMIP_API KMIP_MUST_CHECK void *kmip_tree_alloc(kmip_tree *t, size_t n);
/* Number of items in the tree. */
KMIP_API size_t kmip_tree_item_count(const kmip_tree *t);

/* Appends a new item as the last child of parent, or as the root when parent
 * is NULL (a tree has one root; a second one gives NULL). Scalar values are
 * zero until set. Returns NULL when out of memory or parent is not a
 * structure. */
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_tree_add(kmip_tree *t, kmip_item *parent, uint32_t tag,
                                                  kmip_type type);
/* Copies len bytes as the value of a Text String, Byte String or Big Integer
 * item. Text is not validated here (the encoder does not need to trust it;
 * the decoder validates UTF-8). */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_item_set_bytes(kmip_tree *t, kmip_item *item,
                                                      const void *data, size_t len);

/* Shorthands: add and set in one call; NULL when out of memory. */
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_add_struct(kmip_tree *t, kmip_item *parent, uint32_t tag);
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_add_int(kmip_tree *t, kmip_item *parent, uint32_t tag,
                                                 int32_t v);
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_add_long(kmip_tree *t, kmip_item *parent, uint32_t tag,
                                                  int64_t v);
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_add_enum(kmip_tree *t, kmip_item *parent, uint32_t tag,
                                                  uint32_t v);
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_add_bool(kmip_tree *t, kmip_item *parent, uint32_t tag,
                                                  bool v);
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_add_text(kmip_tree *t, kmip_item *parent, uint32_t tag,
                                                  const char *s, size_t len);
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_add_bytes(kmip_tree *t, kmip_item *parent, uint32_t tag,
                                                   const void *data, size_t len);
KMIP_API KMIP_MUST_CHECK kmip_item *kmip_add_datetime(kmip_tree *t, kmip_item *parent,
                                                      uint32_t tag, int64_t seconds);

/* The first child of `parent` with `tag`, or NULL. */
KMIP_API kmip_item *kmip_item_child(const kmip_item *parent, uint32_t tag);
/* The next sibling after `item` with the same tag, or NULL. */
KMIP_API kmip_item *kmip_item_next_same(const kmip_item *item);
/* Deep equality of two items: tag, type and value, children in order. Byte
 * values are compared in constant time per item. */
KMIP_API bool kmip_item_equal(const kmip_item *a, const kmip_item *b);

/* The value of the Text String item it as a C string in buf (see
 * kmip_text_copy); false when it is NULL, not a Text String, or too long. */
KMIP_API KMIP_MUST_CHECK bool kmip_item_text_copy(const kmip_item *it, char *buf, size_t cap);
/* A new malloc'd C string of the Text String item it (free with free()), or
 * NULL when it is NULL, not a Text String, or memory runs out. */
KMIP_API char *kmip_item_text_dup(const kmip_item *it);

/* The value of the Text String item it as a C string in buf (see
 * kmip_text_copy); false when it is NULL, not a Text String, or too long. */
KMIP_API KMIP_MUST_CHECK bool kmip_item_text_copy(const kmip_item *it, char *buf, size_t cap);
/* A new malloc'd C string of the Text String item it (free with free()), or
 * NULL when it is NULL, not a Text String, or memory runs out. */
KMIP_API char *kmip_item_text_dup(const kmip_item *it);

/* ---- encoder ---- */

typedef struct kmip_encoder kmip_encoder;

/* Structures may nest at most this deep when encoding. */
#define KMIP_ENCODER_MAX_DEPTH 64

KMIP_API KMIP_MUST_CHECK kmip_encoder *kmip_encoder_new(void);
/* Wipes the buffer and frees; e may be NULL. */
KMIP_API void kmip_encoder_free(kmip_encoder *e);
/* Wipes the output and clears the error so the encoder can be reused. */
KMIP_API void kmip_encoder_reset(kmip_encoder *e);

/* The encoding calls below never fail on their own: the first error
 * (KMIP_E_NOMEM, KMIP_E_LIMIT_DEPTH, KMIP_E_LIMIT_SIZE, KMIP_E_ARG) is kept
 * and later calls do nothing, so a caller writes a whole message and checks
 * once with kmip_encoder_finish. Structure lengths are back-patched at
 * kmip_enc_end; values are padded to a multiple of 8 with zeros. */
KMIP_API void kmip_enc_begin(kmip_encoder *e, uint32_t tag);
KMIP_API void kmip_enc_end(kmip_encoder *e);
KMIP_API void kmip_enc_int(kmip_encoder *e, uint32_t tag, int32_t v);
KMIP_API void kmip_enc_long(kmip_encoder *e, uint32_t tag, int64_t v);
KMIP_API void kmip_enc_enum(kmip_encoder *e, uint32_t tag, uint32_t v);
KMIP_API void kmip_enc_bool(kmip_encoder *e, uint32_t tag, bool v);
KMIP_API void kmip_enc_text(kmip_encoder *e, uint32_t tag, const char *s, size_t len);
KMIP_API void kmip_enc_bytes(kmip_encoder *e, uint32_t tag, const void *data, size_t len);
/* Big-endian two's complement of any length; sign-extended to a multiple of
 * 8 bytes (an empty value stays empty, as the decoder accepts it). */
KMIP_API void kmip_enc_bigint(kmip_encoder *e, uint32_t tag, const void *data, size_t len);
KMIP_API void kmip_enc_datetime(kmip_encoder *e, uint32_t tag, int64_t seconds);
KMIP_API void kmip_enc_datetime_ext(kmip_encoder *e, uint32_t tag, int64_t microseconds);
KMIP_API void kmip_enc_interval(kmip_encoder *e, uint32_t tag, uint32_t seconds);
/* Encodes an item and, for a structure, all its descendants. */
KMIP_API void kmip_enc_item(kmip_encoder *e, const kmip_item *item);
/* The same with the top-level item's tag replaced by `tag` (a 1.x Attribute
 * Value becomes a 2.x attribute and back). */
KMIP_API void kmip_enc_item_tagged(kmip_encoder *e, uint32_t tag, const kmip_item *item);

/* Ends encoding. On success *data and *len point at the encoded bytes, owned by
 * the encoder and valid until the next call on it. Returns the first error,
 * or KMIP_E_ARG when a structure is still open. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_encoder_finish(kmip_encoder *e, const uint8_t **data,
                                                      size_t *len);

/* Like kmip_encoder_finish, but hands the encoded bytes over: the caller
 * releases *out with kmip_secure_free(*out, *out_len); the encoder is empty
 * afterwards. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_encoder_take(kmip_encoder *e, uint8_t **out,
                                                    size_t *out_len);

/* Encodes a whole tree into a fresh malloc'ed buffer the caller releases
 * with kmip_secure_free(*out, *out_len). */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_encode_tree(const kmip_item *root, uint8_t **out,
                                                   size_t *out_len);

/* ---- decoder ---- */

typedef struct kmip_decoder kmip_decoder;

#define KMIP_DEFAULT_MAX_MESSAGE ((size_t)1 << 20) /* 1 MiB */
#define KMIP_DEFAULT_MAX_DEPTH 32u
#define KMIP_DEFAULT_MAX_ITEMS 100000u
#define KMIP_DEFAULT_MAX_STRING ((size_t)64 << 10) /* 64 KiB */
#define KMIP_HARD_MAX_DEPTH 256u                     /* setters clamp to this */

KMIP_API KMIP_MUST_CHECK kmip_decoder *kmip_decoder_new(void);
KMIP_API void kmip_decoder_free(kmip_decoder *d);
KMIP_API void kmip_decoder_set_max_message_size(kmip_decoder *d, size_t bytes);
KMIP_API void kmip_decoder_set_max_depth(kmip_decoder *d, unsigned depth);
KMIP_API void kmip_decoder_set_max_items(kmip_decoder *d, size_t items);
KMIP_API void kmip_decoder_set_max_string(kmip_decoder *d, size_t bytes);

/* Decodes exactly one top-level item spanning all of data[0..len) into a new
 * tree (*out, caller frees). Checks every length against what remains
 * before using it, requires each structure's length to be consumed exactly,
 * fixed-size types to have their exact length, zero padding, Booleans 0/1,
 * UTF-8 text and the configured limits. Nothing of a claimed size is
 * allocated before the bytes are there.
 * Errors: KMIP_E_TRUNCATED, KMIP_E_BAD_TAG, KMIP_E_BAD_TYPE, KMIP_E_BAD_LENGTH,
 * KMIP_E_OVERRUN, KMIP_E_PADDING, KMIP_E_BAD_BOOLEAN, KMIP_E_BAD_UTF8,
 * KMIP_E_TRAILING, KMIP_E_LIMIT_SIZE, KMIP_E_LIMIT_DEPTH, KMIP_E_LIMIT_COUNT,
 * KMIP_E_LIMIT_STRING, KMIP_E_NOMEM, KMIP_E_ARG. On error *out is NULL and
 * the offset and detail below describe it. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_decoder_decode(kmip_decoder *d, const uint8_t *data,
                                                      size_t len, kmip_tree **out);
/* Byte offset (from the start of data) of the item header where the last
 * error was found. */
KMIP_API size_t kmip_decoder_error_offset(const kmip_decoder *d);
/* A sentence describing the last error ("" after success); owned by d. */
KMIP_API const char *kmip_decoder_error_detail(const kmip_decoder *d);

/* ---- framer ---- */

typedef struct kmip_framer kmip_framer;

/* The framer cuts a byte stream into whole TTLV messages. Each message
 * starts with an 8-byte header (tag, type, length) which is validated
 * (expected tag if set, type Structure, length a multiple of 8 and within
 * the maximum) before anything is allocated for the body. */
KMIP_API KMIP_MUST_CHECK kmip_framer *kmip_framer_new(void);
KMIP_API void kmip_framer_free(kmip_framer *f);
KMIP_API void kmip_framer_set_max_message_size(kmip_framer *f, size_t bytes);
/* 0 (the default) accepts any tag in the KMIP ranges. */
KMIP_API void kmip_framer_set_expected_tag(kmip_framer *f, uint32_t tag);
/* Consumes bytes up to the end of at most one message; *consumed says how
 * many. Call again with the rest after taking the message. Errors are
 * sticky: KMIP_E_BAD_TAG, KMIP_E_UNEXPECTED_TAG, KMIP_E_UNEXPECTED_TYPE,
 * KMIP_E_BAD_LENGTH, KMIP_E_LIMIT_SIZE, KMIP_E_NOMEM, KMIP_E_ARG. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_framer_feed(kmip_framer *f, const uint8_t *data, size_t len,
                                                   size_t *consumed);
/* True when a complete message can be taken. */
KMIP_API bool kmip_framer_ready(const kmip_framer *f);
/* Bytes still needed to complete the current message (8 before a header). */
KMIP_API size_t kmip_framer_needed(const kmip_framer *f);
/* Hands over the complete message: caller frees with kmip_secure_free. */
KMIP_API KMIP_MUST_CHECK kmip_err kmip_framer_take(kmip_framer *f, uint8_t **msg, size_t *len);
/* Stream offset of the header that caused the sticky error. */
KMIP_API size_t kmip_framer_error_offset(const kmip_framer *f);

#ifdef __cplusplus
}
#endif
#endif

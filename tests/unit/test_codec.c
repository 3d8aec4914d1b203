/* SPDX-License-Identifier: GPL-2.0-only */
/* TTLV encoder and decoder: the encoding examples of KMIP 1.4 section 9.1.2,
 * every item type both ways, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_probe.h"
#include "kmip/kmip_ttlv.h"
#include "test_util.h"

#define TAG 0x420020u

static void expect_bytes(const uint8_t *got, size_t got_len, const char *hex)
{
    uint8_t want[256];
    size_t n = unhex(hex, want, sizeof want);
    assert_int_equal(got_len, n);
    assert_memory_equal(got, want, n);
}

/* Encodes with fn, compares with the specification's bytes, decodes back. */
static void check_example(void (*fn)(kmip_encoder *), const char *hex)
{
    kmip_encoder *e = kmip_encoder_new();
    assert_non_null(e);
    fn(e);
    const uint8_t *data;
    size_t len;
    assert_int_equal(kmip_encoder_finish(e, &data, &len), KMIP_OK);
    expect_bytes(data, len, hex);
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *t = NULL;
    assert_int_equal(kmip_decoder_decode(d, data, len, &t), KMIP_OK);
    uint8_t *again;
    size_t again_len;
    assert_int_equal(kmip_encode_tree(kmip_tree_root(t), &again, &again_len), KMIP_OK);
    expect_bytes(again, again_len, hex);
    kmip_secure_free(again, again_len);
    kmip_tree_free(t);
    kmip_decoder_free(d);
    kmip_encoder_free(e);
}

static void enc_integer(kmip_encoder *e) { kmip_enc_int(e, TAG, 8); }
static void enc_long(kmip_encoder *e) { kmip_enc_long(e, TAG, 123456789000000000LL); }
static void enc_bigint(kmip_encoder *e)
{
    /* 1234567890000000000000000000 */
    static const uint8_t v[] = {0x03, 0xFD, 0x35, 0xEB, 0x6B, 0xC2, 0xDF, 0x46, 0x18, 0x08, 0x00, 0x00};
    kmip_enc_bigint(e, TAG, v, sizeof v);
}
static void enc_enum(kmip_encoder *e) { kmip_enc_enum(e, TAG, 255); }
static void enc_bool(kmip_encoder *e) { kmip_enc_bool(e, TAG, true); }
static void enc_text(kmip_encoder *e) { kmip_enc_text(e, TAG, "Hello World", 11); }
static void enc_bytes(kmip_encoder *e) { kmip_enc_bytes(e, TAG, "\x01\x02\x03", 3); }
static void enc_datetime(kmip_encoder *e) { kmip_enc_datetime(e, TAG, 0x47DA67F8); }
static void enc_interval(kmip_encoder *e) { kmip_enc_interval(e, TAG, 10 * 86400); }
static void enc_structure(kmip_encoder *e)
{
    kmip_enc_begin(e, TAG);
    kmip_enc_enum(e, 0x420004, 254);
    kmip_enc_int(e, 0x420005, 255);
    kmip_enc_end(e);
}
static void enc_datetime_ext(kmip_encoder *e) { kmip_enc_datetime_ext(e, TAG, 1); }
static void enc_negative_bigint(kmip_encoder *e) { kmip_enc_bigint(e, TAG, "\xFF\x00", 2); }

static void test_spec_examples(void **state)
{
    (void)state;
    check_example(enc_integer, "420020 02 00000004 00000008 00000000");
    check_example(enc_long, "420020 03 00000008 01B69B4BA5749200");
    check_example(enc_bigint, "420020 04 00000010 0000000003FD35EB 6BC2DF4618080000");
    check_example(enc_enum, "420020 05 00000004 000000FF 00000000");
    check_example(enc_bool, "420020 06 00000008 0000000000000001");
    check_example(enc_text, "420020 07 0000000B 48656C6C6F20576F 726C640000000000");
    check_example(enc_bytes, "420020 08 00000003 0102030000000000");
    check_example(enc_datetime, "420020 09 00000008 0000000047DA67F8");
    check_example(enc_interval, "420020 0A 00000004 000D2F00 00000000");
    check_example(enc_structure, "420020 01 00000020 420004 05 00000004 000000FE 00000000"
                                 " 420005 02 00000004 000000FF 00000000");
    check_example(enc_datetime_ext, "420020 0B 00000008 0000000000000001");
    /* negative Big Integers are sign-extended with 0xFF */
    check_example(enc_negative_bigint, "420020 04 00000008 FFFFFFFFFFFFFF00");
}

static kmip_err decode_hex(const char *hex, kmip_decoder *d, kmip_tree **t)
{
    uint8_t buf[4096];
    size_t n = unhex(hex, buf, sizeof buf);
    return kmip_decoder_decode(d, buf, n, t);
}

static void expect_error(const char *hex, kmip_err want, size_t offset)
{
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *t = (kmip_tree *)1;
    assert_int_equal(decode_hex(hex, d, &t), want);
    assert_null(t);
    assert_int_equal(kmip_decoder_error_offset(d), offset);
    assert_true(strlen(kmip_decoder_error_detail(d)) > 0);
    kmip_decoder_free(d);
}

static void test_hostile_4gib_text(void **state)
{
    (void)state;
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *t = NULL;
    probe_largest = 0;
    /* 16 bytes claiming a 4 GiB Text String */
    assert_int_equal(decode_hex("420020 07 FFFFFFFF 4142434445464748", d, &t), KMIP_E_LIMIT_STRING);
    assert_true(probe_largest < 65536);
    /* with the string limit lifted, it is simply truncated */
    kmip_decoder_set_max_string(d, SIZE_MAX);
    assert_int_equal(decode_hex("420020 07 FFFFFFFF 4142434445464748", d, &t), KMIP_E_TRUNCATED);
    assert_int_equal(kmip_decoder_error_offset(d), 0);
    assert_true(probe_largest < 65536);
    kmip_decoder_free(d);
}

static void test_hostile_overrun(void **state)
{
    (void)state;
    /* a structure of 16 bytes whose child claims 16 value bytes */
    expect_error("420020 01 00000010 420004 08 00000010 0000000000000000", KMIP_E_OVERRUN, 8);
    /* a structure whose length is not filled exactly by its children */
    expect_error("420020 01 00000018 420004 05 00000004 000000FE 00000000 0000000000000000",
                 KMIP_E_BAD_TAG, 24);
    /* a structure length that is not a multiple of 8 */
    expect_error("420020 01 00000004 00000000", KMIP_E_BAD_LENGTH, 4);
    /* header cut short */
    expect_error("420020 02 0000", KMIP_E_TRUNCATED, 0);
    /* trailing bytes */
    expect_error("420020 02 00000004 00000008 00000000 00", KMIP_E_TRAILING, 16);
}

static void test_hostile_depth_bomb(void **state)
{
    (void)state;
    /* 40 nested structures, each claiming the rest */
    enum { DEPTH = 40 };
    uint8_t buf[DEPTH * 8];
    for (unsigned i = 0; i < DEPTH; i++) {
        uint32_t len = (uint32_t)((DEPTH - 1 - i) * 8);
        uint8_t *p = buf + i * 8;
        p[0] = 0x42; p[1] = 0x00; p[2] = 0x20; p[3] = 0x01;
        p[4] = (uint8_t)(len >> 24); p[5] = (uint8_t)(len >> 16);
        p[6] = (uint8_t)(len >> 8); p[7] = (uint8_t)len;
    }
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *t = NULL;
    assert_int_equal(kmip_decoder_decode(d, buf, sizeof buf, &t), KMIP_E_LIMIT_DEPTH);
    assert_int_equal(kmip_decoder_error_offset(d), KMIP_DEFAULT_MAX_DEPTH * 8);
    kmip_decoder_set_max_depth(d, 64);
    assert_int_equal(kmip_decoder_decode(d, buf, sizeof buf, &t), KMIP_OK);
    kmip_tree_free(t);
    kmip_decoder_free(d);
}

static void test_hostile_values(void **state)
{
    (void)state;
    expect_error("420020 02 00000004 00000008 00000001", KMIP_E_PADDING, 12);
    expect_error("420020 07 00000001 4101000000000000", KMIP_E_PADDING, 9);
    expect_error("420020 06 00000008 0000000000000002", KMIP_E_BAD_BOOLEAN, 0);
    expect_error("420020 07 00000002 C0AF000000000000", KMIP_E_BAD_UTF8, 8);     /* overlong */
    expect_error("420020 07 00000003 EDA0800000000000", KMIP_E_BAD_UTF8, 8);     /* surrogate */
    expect_error("420020 07 00000003 6100620000000000", KMIP_E_BAD_UTF8, 9);     /* NUL */
    expect_error("420020 02 00000008 0000000000000008", KMIP_E_BAD_LENGTH, 4);
    expect_error("420020 09 00000004 0000000000000000", KMIP_E_BAD_LENGTH, 4);
    expect_error("420020 04 00000004 0000000100000000", KMIP_E_BAD_LENGTH, 4);
    expect_error("430020 02 00000004 00000008 00000000", KMIP_E_BAD_TAG, 0);
    expect_error("420020 0C 00000004 00000008 00000000", KMIP_E_BAD_TYPE, 3);
    expect_error("420020 00 00000004 00000008 00000000", KMIP_E_BAD_TYPE, 3);
    expect_error("", KMIP_E_TRUNCATED, 0);
}

static void test_limits(void **state)
{
    (void)state;
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *t = NULL;
    const char *two = "420020 01 00000020 420004 05 00000004 000000FE 00000000"
                      " 420005 02 00000004 000000FF 00000000";
    kmip_decoder_set_max_items(d, 2);
    assert_int_equal(decode_hex(two, d, &t), KMIP_E_LIMIT_COUNT);
    assert_int_equal(kmip_decoder_error_offset(d), 24);
    kmip_decoder_set_max_items(d, 3);
    assert_int_equal(decode_hex(two, d, &t), KMIP_OK);
    kmip_tree_free(t);
    kmip_decoder_set_max_message_size(d, 32);
    assert_int_equal(decode_hex(two, d, &t), KMIP_E_LIMIT_SIZE);
    kmip_decoder_set_max_message_size(d, 1 << 20);
    kmip_decoder_set_max_string(d, 10);
    assert_int_equal(decode_hex("420020 07 0000000B 48656C6C6F20576F 726C640000000000", d, &t),
                     KMIP_E_LIMIT_STRING);
    kmip_decoder_free(d);
}

static void test_tree_values(void **state)
{
    (void)state;
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *t = NULL;
    assert_int_equal(decode_hex("420020 01 00000030 420004 02 00000004 FFFFFFFF 00000000"
                                " 420005 07 00000003 E282AC0000000000"
                                " 420006 03 00000008 8000000000000000",
                                d, &t),
                     KMIP_OK);
    const kmip_item *root = kmip_tree_root(t);
    assert_int_equal(root->child_count, 3);
    assert_int_equal(kmip_item_child(root, 0x420004)->v.i32, -1);
    const kmip_item *text = kmip_item_child(root, 0x420005);
    assert_int_equal(text->v.bytes.len, 3);
    assert_memory_equal(text->v.bytes.data, "\xE2\x82\xAC", 3);
    assert_true(kmip_item_child(root, 0x420006)->v.i64 == INT64_MIN);
    assert_null(kmip_item_child(root, 0x420007));
    assert_int_equal(kmip_tree_item_count(t), 4);
    kmip_tree_free(t);
    kmip_decoder_free(d);
}

static void test_encoder_errors(void **state)
{
    (void)state;
    kmip_encoder *e = kmip_encoder_new();
    const uint8_t *data;
    size_t len;
    for (int i = 0; i <= KMIP_ENCODER_MAX_DEPTH; i++)
        kmip_enc_begin(e, TAG);
    assert_int_equal(kmip_encoder_finish(e, &data, &len), KMIP_E_LIMIT_DEPTH);
    kmip_encoder_reset(e);
    kmip_enc_begin(e, TAG);
    assert_int_equal(kmip_encoder_finish(e, &data, &len), KMIP_E_ARG);
    kmip_encoder_reset(e);
    kmip_enc_int(e, 0x430000, 1);
    assert_int_equal(kmip_encoder_finish(e, &data, &len), KMIP_E_BAD_TAG);
    kmip_encoder_reset(e);
    kmip_enc_end(e);
    assert_int_equal(kmip_encoder_finish(e, &data, &len), KMIP_E_ARG);
    kmip_encoder_free(e);
}

static void test_builder_and_equal(void **state)
{
    (void)state;
    kmip_tree *a = kmip_tree_new();
    kmip_item *root = kmip_add_struct(a, NULL, TAG);
    assert_non_null(root);
    assert_null(kmip_add_struct(a, NULL, TAG)); /* one root only */
    assert_non_null(kmip_add_text(a, root, 0x420004, "abc", 3));
    assert_non_null(kmip_add_bytes(a, root, 0x420005, "\x00\x01", 2));
    kmip_item *leaf = kmip_add_int(a, root, 0x420006, 7);
    assert_null(kmip_add_int(a, leaf, 0x420007, 1)); /* not a structure */
    uint8_t *bytes;
    size_t len;
    assert_int_equal(kmip_encode_tree(root, &bytes, &len), KMIP_OK);
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *b = NULL;
    assert_int_equal(kmip_decoder_decode(d, bytes, len, &b), KMIP_OK);
    assert_true(kmip_item_equal(root, kmip_tree_root(b)));
    leaf->v.i32 = 8;
    assert_false(kmip_item_equal(root, kmip_tree_root(b)));
    kmip_secure_free(bytes, len);
    kmip_tree_free(a);
    kmip_tree_free(b);
    kmip_decoder_free(d);
}

/* Sizes near SIZE_MAX must fail, not wrap to a tiny block when rounded up
 * to a multiple of 8. */
static void test_tree_alloc_overflow(void **state)
{
    (void)state;
    kmip_tree *t = kmip_tree_new();
    assert_non_null(t);
    assert_null(kmip_tree_alloc(t, SIZE_MAX));
    assert_null(kmip_tree_alloc(t, SIZE_MAX - 6));
    assert_non_null(kmip_tree_alloc(t, 24));
    kmip_tree_free(t);
}

static void test_secure_helpers(void **state)
{
    (void)state;
    uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 4};
    assert_true(kmip_ct_equal(a, b, 4));
    b[3] = 5;
    assert_false(kmip_ct_equal(a, b, 4));
    kmip_secure_zero(a, sizeof a);
    assert_memory_equal(a, "\0\0\0\0", 4);
    assert_string_equal(kmip_strerror(KMIP_E_PADDING), "non-zero padding");
    assert_string_equal(kmip_strerror((kmip_err)999), "unknown error");
    for (int i = 0; i < KMIP_E__COUNT; i++)
        assert_string_not_equal(kmip_strerror((kmip_err)i), "unknown error");
}

/* The one hex codec: lowercase out, both cases in unless LOWER_ONLY, spaces
 * only with SKIP_SPACE, the offset of the first bad character, odd counts
 * reported as the length, in-place decoding. */
static void test_hex_codec(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x00, 0x7f, 0xab, 0xff};
    char text[9];
    kmip_hex_encode(bytes, sizeof bytes, text);
    assert_string_equal(text, "007fabff");
    kmip_hex_encode(bytes, 0, text);
    assert_string_equal(text, "");

    uint8_t out[8];
    size_t n = 99, bad = 99;
    assert_true(kmip_hex_decode("007FabfF", 8, 0, out, &n, &bad));
    assert_int_equal(n, 4);
    assert_memory_equal(out, bytes, 4);
    assert_false(kmip_hex_decode("007Fab", 6, KMIP_HEX_LOWER_ONLY, out, &n, &bad));
    assert_int_equal(bad, 3);
    assert_false(kmip_hex_decode("00 7f", 5, 0, out, &n, &bad));
    assert_int_equal(bad, 2);
    assert_true(kmip_hex_decode(" 00\n7f\r\t", 8, KMIP_HEX_SKIP_SPACE, out, &n, &bad));
    assert_int_equal(n, 2);
    assert_false(kmip_hex_decode("abc", 3, 0, out, &n, &bad));
    assert_int_equal(bad, 3);
    assert_false(kmip_hex_decode("ab c", 4, KMIP_HEX_SKIP_SPACE, out, &n, &bad));
    assert_int_equal(bad, 4);
    assert_false(kmip_hex_decode("0g", 2, 0, out, &n, NULL));
    assert_true(kmip_hex_decode("", 0, 0, out, &n, &bad));
    assert_int_equal(n, 0);
    /* the length is what is read, not strlen: "abcd" read as two digits */
    assert_true(kmip_hex_decode("abcd", 2, 0, out, &n, &bad));
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 0xab);

    char inplace[] = "41 42\n43";
    assert_true(kmip_hex_decode(inplace, strlen(inplace), KMIP_HEX_SKIP_SPACE,
                                (uint8_t *)inplace, &n, &bad));
    assert_int_equal(n, 3);
    assert_memory_equal(inplace, "ABC", 3);

    assert_int_equal(kmip_hex_digit('F', 0), 15);
    assert_int_equal(kmip_hex_digit('F', KMIP_HEX_LOWER_ONLY), -1);
    assert_int_equal(kmip_hex_digit('/', 0), -1);
    assert_int_equal(kmip_hex_digit(':', 0), -1);
    assert_int_equal(kmip_hex_digit('g', 0), -1);
}

/* The one clock never goes back. */
static void test_monotonic_clock(void **state)
{
    (void)state;
    int64_t a = kmip_monotonic_ms();
    int64_t b = kmip_monotonic_ms();
    assert_true(a >= 0);
    assert_true(b >= a);
}

/* The one text accessor: bounded copies, only of Text Strings. */
static void test_text_accessors(void **state)
{
    (void)state;
    char buf[4] = "xyz";
    assert_false(kmip_text_copy("abcd", 4, buf, sizeof buf));
    assert_string_equal(buf, "xyz"); /* untouched */
    assert_true(kmip_text_copy("abc", 3, buf, sizeof buf));
    assert_string_equal(buf, "abc");
    assert_true(kmip_text_copy(NULL, 0, buf, 1));
    assert_string_equal(buf, "");

    kmip_tree *t = kmip_tree_new();
    assert_non_null(t);
    kmip_item *root = kmip_add_struct(t, NULL, 0x420008U);
    kmip_item *text = kmip_add_text(t, root, 0x42000BU, "Name", 4);
    kmip_item *num = kmip_add_int(t, root, 0x42000AU, 1);
    assert_non_null(text);
    assert_non_null(num);
    char name[8];
    assert_true(kmip_item_text_copy(text, name, sizeof name));
    assert_string_equal(name, "Name");
    assert_false(kmip_item_text_copy(text, name, 4));
    assert_false(kmip_item_text_copy(num, name, sizeof name));
    assert_false(kmip_item_text_copy(NULL, name, sizeof name));
    char *dup = kmip_item_text_dup(text);
    assert_string_equal(dup, "Name");
    free(dup);
    assert_null(kmip_item_text_dup(num));
    assert_null(kmip_item_text_dup(NULL));
    kmip_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_examples),   cmocka_unit_test(test_hostile_4gib_text),
        cmocka_unit_test(test_hostile_overrun), cmocka_unit_test(test_hostile_depth_bomb),
        cmocka_unit_test(test_hostile_values),  cmocka_unit_test(test_limits),
        cmocka_unit_test(test_tree_values),     cmocka_unit_test(test_encoder_errors),
        cmocka_unit_test(test_builder_and_equal), cmocka_unit_test(test_secure_helpers), cmocka_unit_test(test_hex_codec),
        cmocka_unit_test(test_monotonic_clock), cmocka_unit_test(test_text_accessors),
        cmocka_unit_test(test_tree_alloc_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

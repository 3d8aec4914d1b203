/* SPDX-License-Identifier: GPL-2.0-only */
/* The incremental framer: any split of the stream gives the same messages,
 * and the header is judged before anything is allocated for the body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_probe.h"
#include "kmip/kmip_tags.h"
#include "kmip/kmip_ttlv.h"
#include "test_util.h"

/* Two response messages back to back. */
static const char *STREAM = "42007B 01 00000010 420020 02 00000004 00000001 00000000"
                            "42007B 01 00000000";

static void feed_in_chunks(size_t chunk)
{
    uint8_t buf[64];
    size_t n = unhex(STREAM, buf, sizeof buf);
    kmip_framer *f = kmip_framer_new();
    kmip_framer_set_expected_tag(f, KMIP_TAG_RESPONSE_MESSAGE);
    size_t pos = 0, messages = 0;
    size_t lens[2] = {0};
    while (pos < n) {
        size_t len = n - pos < chunk ? n - pos : chunk;
        size_t used;
        assert_int_equal(kmip_framer_feed(f, buf + pos, len, &used), KMIP_OK);
        pos += used;
        if (kmip_framer_ready(f)) {
            uint8_t *msg;
            size_t msg_len;
            assert_int_equal(kmip_framer_take(f, &msg, &msg_len), KMIP_OK);
            lens[messages++] = msg_len;
            kmip_secure_free(msg, msg_len);
        }
    }
    assert_int_equal(messages, 2);
    assert_int_equal(lens[0], 24);
    assert_int_equal(lens[1], 8);
    assert_int_equal(kmip_framer_needed(f), 8);
    kmip_framer_free(f);
}

static void test_any_split(void **state)
{
    (void)state;
    for (size_t chunk = 1; chunk <= 40; chunk++)
        feed_in_chunks(chunk);
}

static kmip_err feed_hex(kmip_framer *f, const char *hex)
{
    uint8_t buf[64];
    size_t n = unhex(hex, buf, sizeof buf), used;
    return kmip_framer_feed(f, buf, n, &used);
}

static void test_header_checks(void **state)
{
    (void)state;
    struct {
        const char *hex;
        kmip_err err;
    } cases[] = {
        {"42007B 02 00000004", KMIP_E_UNEXPECTED_TYPE},
        {"42007B 01 00000004", KMIP_E_BAD_LENGTH},
        {"42007B 01 FFFFFFF8", KMIP_E_LIMIT_SIZE},
        {"420078 01 00000008", KMIP_E_UNEXPECTED_TAG},
        {"FF007B 01 00000008", KMIP_E_BAD_TAG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kmip_framer *f = kmip_framer_new();
        kmip_framer_set_expected_tag(f, KMIP_TAG_RESPONSE_MESSAGE);
        probe_largest = 0;
        assert_int_equal(feed_hex(f, cases[i].hex), cases[i].err);
        assert_true(probe_largest < 4096); /* nothing of the claimed size */
        /* errors are sticky */
        assert_int_equal(feed_hex(f, "42007B 01 00000000"), cases[i].err);
        assert_false(kmip_framer_ready(f));
        kmip_framer_free(f);
    }
}

static void test_limit_and_offset(void **state)
{
    (void)state;
    kmip_framer *f = kmip_framer_new();
    kmip_framer_set_max_message_size(f, 24);
    assert_int_equal(feed_hex(f, "42007B 01 00000010 420020 02 00000004 00000001 00000000"),
                     KMIP_OK);
    uint8_t *msg;
    size_t len;
    assert_int_equal(kmip_framer_take(f, &msg, &len), KMIP_OK);
    kmip_secure_free(msg, len);
    assert_int_equal(kmip_framer_take(f, &msg, &len), KMIP_E_ARG); /* nothing ready */
    assert_int_equal(feed_hex(f, "42007B 01 00000018"), KMIP_E_LIMIT_SIZE);
    assert_int_equal(kmip_framer_error_offset(f), 24);
    kmip_framer_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_any_split),
        cmocka_unit_test(test_header_checks),
        cmocka_unit_test(test_limit_and_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The generated registry: names both ways, the XML name normalisation, and
 * the additions beyond KMIP 1.4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_probe.h"
#include "kmip/kmip_registry.h"

static void test_tags(void **state)
{
    (void)state;
    assert_string_equal(kmip_tag_name(KMIP_TAG_UNIQUE_IDENTIFIER), "Unique Identifier");
    assert_string_equal(kmip_tag_xml_name(0x420094), "UniqueIdentifier");
    assert_string_equal(kmip_tag_xml_name(KMIP_TAG_TEMPLATE_ATTRIBUTE), "TemplateAttribute");
    assert_string_equal(kmip_tag_xml_name(KMIP_TAG_IV_COUNTER_NONCE), "IVCounterNonce");
    assert_string_equal(kmip_tag_xml_name(KMIP_TAG_PKCS_11_FUNCTION), "PKCS_11Function");
    uint32_t tag;
    assert_true(kmip_tag_by_xml_name("ResponseMessage", &tag));
    assert_int_equal(tag, 0x42007B);
    assert_true(kmip_tag_by_name("Cryptographic Usage Mask", &tag));
    assert_int_equal(tag, KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK);
    assert_true(kmip_tag_by_xml_name("Attributes", &tag)); /* 2.0 addition */
    assert_int_equal(tag, 0x420125);
    assert_false(kmip_tag_by_xml_name("NoSuchTag", &tag));
    assert_null(kmip_tag_name(0x54FFFF));
}

static void test_enums(void **state)
{
    (void)state;
    const kmip_enum_def *ot = kmip_enum_for_tag(KMIP_TAG_OBJECT_TYPE);
    assert_non_null(ot);
    assert_string_equal(kmip_enum_value(ot, 2)->xml_name, "SymmetricKey");
    assert_string_equal(kmip_enum_value(ot, 2)->name, "Symmetric Key");
    uint32_t v;
    assert_true(kmip_enum_value_by_xml_name(ot, "SecretData", &v));
    assert_int_equal(v, KMIP_OBJECT_TYPE_SECRET_DATA);
    assert_null(kmip_enum_value(ot, 0x80000001));
    const kmip_enum_def *state_e = kmip_enum_for_tag(KMIP_TAG_STATE);
    assert_true(kmip_enum_value_by_xml_name(state_e, "PreActive", &v));
    assert_int_equal(v, 1);
    const kmip_enum_def *op = kmip_enum_for_tag(KMIP_TAG_OPERATION);
    assert_true(kmip_enum_value_by_xml_name(op, "ReKey", &v));
    assert_true(kmip_enum_value_by_xml_name(op, "DiscoverVersions", &v));
    assert_int_equal(v, KMIP_OPERATION_DISCOVER_VERSIONS);
    const kmip_enum_def *kft = kmip_enum_for_tag(KMIP_TAG_KEY_FORMAT_TYPE);
    assert_true(kmip_enum_value_by_xml_name(kft, "PKCS_1", &v));
    assert_true(kmip_enum_value_by_xml_name(kft, "X_509", &v));
    const kmip_enum_def *alg = kmip_enum_for_tag(KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM);
    assert_true(kmip_enum_value_by_xml_name(alg, "DES3", &v)); /* "3DES" */
    assert_true(kmip_enum_value_by_xml_name(alg, "HMAC_SHA256", &v));
    /* 2.1 additions the test cases need */
    const kmip_enum_def *fn = kmip_enum_for_tag(KMIP_TAG_PKCS_11_FUNCTION);
    assert_true(kmip_enum_value_by_xml_name(fn, "C_Initialize", &v));
    assert_null(kmip_enum_for_tag(KMIP_TAG_UNIQUE_BATCH_ITEM_ID));
}

static void test_masks(void **state)
{
    (void)state;
    const kmip_enum_def *m = kmip_mask_for_tag(KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK);
    assert_non_null(m);
    uint32_t v;
    assert_true(kmip_enum_value_by_xml_name(m, "MACGenerate", &v));
    assert_int_equal(v, 0x80);
    assert_non_null(kmip_mask_for_tag(KMIP_TAG_PROTECTION_STORAGE_MASK));
    assert_null(kmip_mask_for_tag(KMIP_TAG_CRYPTOGRAPHIC_LENGTH));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_masks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

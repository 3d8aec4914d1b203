/* SPDX-License-Identifier: GPL-2.0-only */
/* KMIP XML both ways: names, value forms, context rules, redaction and
 * bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_probe.h"
#include "kmip/kmip_registry.h"
#include "kmip/kmip_xml.h"
#include "test_util.h"

static kmip_tree *read_ok(const char *xml)
{
    kmip_xml_reader *r = kmip_xml_reader_new();
    kmip_tree *t = NULL;
    kmip_err err = kmip_xml_read(r, xml, strlen(xml), &t);
    if (err != KMIP_OK)
        fail_msg("%s", kmip_xml_reader_error_detail(r));
    kmip_xml_reader_free(r);
    return t;
}

static void read_fails(const char *xml, kmip_err want, long line, const char *needle)
{
    kmip_xml_reader *r = kmip_xml_reader_new();
    kmip_tree *t = (kmip_tree *)1;
    assert_int_equal(kmip_xml_read(r, xml, strlen(xml), &t), want);
    assert_null(t);
    assert_int_equal(kmip_xml_reader_error_line(r), line);
    if (strstr(kmip_xml_reader_error_detail(r), needle) == NULL)
        fail_msg("'%s' lacks '%s'", kmip_xml_reader_error_detail(r), needle);
    kmip_xml_reader_free(r);
}

static char *write_ok(const kmip_tree *t, unsigned flags)
{
    char *out;
    size_t len;
    assert_int_equal(kmip_xml_write(kmip_tree_root(t), flags, &out, &len), KMIP_OK);
    assert_int_equal(strlen(out), len);
    return out;
}

static void test_values_round_trip(void **state)
{
    (void)state;
    const char *xml =
        "<TTLV tag=\"0x540001\">\n"
        "  <CryptographicUsageMask type=\"Integer\" value=\"Decrypt Encrypt\"/>\n"
        "  <CryptographicLength type=\"Integer\" value=\"-5\"/>\n"
        "  <UsageLimitsTotal type=\"LongInteger\" value=\"-9223372036854775808\"/>\n"
        "  <Modulus type=\"BigInteger\" value=\"00000000000000FF\"/>\n"
        "  <ObjectType type=\"Enumeration\" value=\"SymmetricKey\"/>\n"
        "  <State type=\"Enumeration\" value=\"0x80000001\"/>\n"
        "  <Sensitive type=\"Boolean\" value=\"true\"/>\n"
        "  <Description type=\"TextString\" value=\"a &lt;b&gt; &amp; &#x20AC;\"/>\n"
        "  <Nonce type=\"ByteString\" value=\"00FFab\"/>\n"
        "  <InitialDate type=\"DateTime\" value=\"2008-03-14T11:56:40Z\"/>\n"
        "  <LeaseTime type=\"Interval\" value=\"864000\"/>\n"
        "  <LastChangeDate type=\"DateTimeExtended\" value=\"1970-01-01T00:00:01.5+00:00\"/>\n"
        "  <TTLV tag=\"0x540002\" type=\"Integer\" value=\"0x7FFFFFFF\"/>\n"
        "</TTLV>\n";
    kmip_tree *t = read_ok(xml);
    const kmip_item *root = kmip_tree_root(t);
    assert_int_equal(root->tag, 0x540001);
    assert_int_equal(kmip_item_child(root, KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK)->v.i32, 12);
    assert_int_equal(kmip_item_child(root, KMIP_TAG_STATE)->v.u32, 0x80000001);
    assert_int_equal(kmip_item_child(root, KMIP_TAG_INITIAL_DATE)->v.i64, 0x47DA67F8);
    assert_int_equal(kmip_item_child(root, KMIP_TAG_LAST_CHANGE_DATE)->v.i64, 1500000);
    const kmip_item *d = kmip_item_child(root, KMIP_TAG_DESCRIPTION);
    assert_int_equal(d->v.bytes.len, 11);
    char *out = write_ok(t, 0);
    /* canonical forms */
    assert_non_null(strstr(out, "value=\"Encrypt Decrypt\""));
    assert_non_null(strstr(out, "value=\"0x80000001\""));
    assert_non_null(strstr(out, "value=\"2008-03-14T11:56:40+00:00\""));
    assert_non_null(strstr(out, "value=\"00ffab\""));
    assert_non_null(strstr(out, "<TTLV tag=\"0x540002\" type=\"Integer\" value=\"2147483647\"/>"));
    kmip_tree *again = read_ok(out);
    assert_true(kmip_item_equal(kmip_tree_root(t), kmip_tree_root(again)));
    free(out);
    kmip_tree_free(again);
    kmip_tree_free(t);
}

/* Date-Time Extended at the ends of its range: written as the number it
 * is (no year of four digits), without overflow (INT64_MIN overflowed
 * when microseconds were rebuilt from floored seconds: found by fuzz_ttlv). */
static void test_extreme_datetime_extended(void **state)
{
    (void)state;
    static const int64_t values[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX, -1000001};
    static const char *const shown[] = {"-9223372036854775808", "-9223372036854775807",
                                        "9223372036854775807",
                                        "1969-12-31T23:59:58.999999+00:00"};
    for (size_t i = 0; i < 4; i++) {
        kmip_tree *t = kmip_tree_new();
        kmip_item *root = kmip_add_struct(t, NULL, 0x540001);
        kmip_item *it = kmip_add_int(t, root, KMIP_TAG_LAST_CHANGE_DATE, 0);
        assert_non_null(it);
        it->type = KMIP_TYPE_DATE_TIME_EXTENDED;
        it->v.i64 = values[i];
        char *out = write_ok(t, 0);
        if (strstr(out, shown[i]) == NULL)
            fail_msg("%lld written as %s", (long long)values[i], out);
        kmip_tree *again = read_ok(out);
        assert_int_equal(kmip_item_child(kmip_tree_root(again), KMIP_TAG_LAST_CHANGE_DATE)->v.i64,
                         values[i]);
        free(out);
        kmip_tree_free(again);
        kmip_tree_free(t);
    }
}

static void test_attribute_context(void **state)
{
    (void)state;
    /* 1.x: the Attribute Value's names follow the Attribute Name */
    kmip_tree *t = read_ok("<Attribute>"
                           "<AttributeName type=\"TextString\" value=\"Object Type\"/>"
                           "<AttributeValue type=\"Enumeration\" value=\"SecretData\"/>"
                           "</Attribute>");
    assert_int_equal(kmip_item_child(kmip_tree_root(t), KMIP_TAG_ATTRIBUTE_VALUE)->v.u32, 7);
    char *out = write_ok(t, 0);
    assert_non_null(strstr(out, "value=\"SecretData\""));
    free(out);
    kmip_tree_free(t);
    /* 2.x: an Attribute Reference names a tag */
    t = read_ok("<AttributeReference type=\"Enumeration\" value=\"ActivationDate\"/>");
    assert_int_equal(kmip_tree_root(t)->v.u32, KMIP_TAG_ACTIVATION_DATE);
    out = write_ok(t, 0);
    assert_non_null(strstr(out, "value=\"ActivationDate\""));
    free(out);
    kmip_tree_free(t);
}

static void test_redaction(void **state)
{
    (void)state;
    kmip_tree *t = read_ok("<KeyValue><KeyMaterial type=\"ByteString\" value=\"0011223344\"/>"
                           "</KeyValue>");
    char *out = write_ok(t, 0);
    assert_null(strstr(out, "0011223344"));
    assert_non_null(strstr(out, "redacted=\"5 bytes\""));
    read_fails(out, KMIP_E_MISSING, 2, "redacted");
    free(out);
    out = write_ok(t, KMIP_XML_SHOW_SECRETS);
    assert_non_null(strstr(out, "value=\"0011223344\""));
    free(out);
    FILE *f = tmpfile();
    assert_int_equal(kmip_text_write(kmip_tree_root(t), 0, f), KMIP_OK);
    rewind(f);
    char line[256], all[1024] = "";
    while (fgets(line, sizeof line, f))
        strncat(all, line, sizeof all - strlen(all) - 1);
    fclose(f);
    assert_non_null(strstr(all, "KeyMaterial (ByteString): [redacted, 5 bytes]"));
    kmip_tree_free(t);
}

static void test_bad_input(void **state)
{
    (void)state;
    read_fails("<RequestMessage>\n<NoSuchTag/>\n</RequestMessage>", KMIP_E_UNKNOWN_NAME, 2,
               "NoSuchTag");
    read_fails("<ObjectType type=\"Enumeration\" value=\"Banana\"/>", KMIP_E_UNKNOWN_NAME, 1,
               "Object Type");
    read_fails("<ObjectType type=\"Float\" value=\"1\"/>", KMIP_E_UNKNOWN_NAME, 1, "Float");
    read_fails("<CryptographicLength type=\"Integer\" value=\"4294967296\"/>", KMIP_E_SYNTAX, 1,
               "32-bit");
    read_fails("<Nonce type=\"ByteString\" value=\"abc\"/>", KMIP_E_SYNTAX, 1, "hex");
    read_fails("<InitialDate type=\"DateTime\" value=\"yesterday\"/>", KMIP_E_SYNTAX, 1, "ISO");
    read_fails("<Sensitive type=\"Boolean\" value=\"1\"/>", KMIP_E_SYNTAX, 1, "true or false");
    read_fails("<RequestMessage>\n<RequestHeader>", KMIP_E_SYNTAX, 2, "well-formed");
    read_fails("<TTLV type=\"Integer\" value=\"1\"/>", KMIP_E_SYNTAX, 1, "tag=");
    read_fails("<Name>text<NameValue type=\"TextString\" value=\"a\"/></Name>", KMIP_E_SYNTAX, 1,
               "unexpected text");
    /* no external entities */
    read_fails("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
               "<Description type=\"TextString\" value=\"&e;\"/>",
               KMIP_E_SYNTAX, 1, "well-formed");
    /* nesting deeper than the encoder allows */
    char deep[64 * 40 + 64] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "<Name>");
    for (int i = 0; i < 70; i++)
        strcat(deep, "</Name>");
    read_fails(deep, KMIP_E_LIMIT_DEPTH, 1, "deeper");
}

static void test_unrepresentable_text(void **state)
{
    (void)state;
    kmip_tree *t = kmip_tree_new();
    assert_non_null(kmip_add_text(t, NULL, KMIP_TAG_DESCRIPTION, "a\x01b", 3));
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(kmip_xml_write(kmip_tree_root(t), 0, &out, &len), KMIP_E_UNSUPPORTED);
    assert_null(out);
    kmip_tree_free(t);
    /* tab, newline and carriage return survive a round trip */
    t = kmip_tree_new();
    assert_non_null(kmip_add_text(t, NULL, KMIP_TAG_DESCRIPTION, "a\tb\nc\rd  ", 9));
    out = write_ok(t, 0);
    kmip_tree *back = read_ok(out);
    assert_true(kmip_item_equal(kmip_tree_root(t), kmip_tree_root(back)));
    free(out);
    kmip_tree_free(back);
    kmip_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_round_trip),
        cmocka_unit_test(test_extreme_datetime_extended),
        cmocka_unit_test(test_attribute_context),
        cmocka_unit_test(test_redaction),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_unrepresentable_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The typed message layer: building, encoding per version, lenient
 * decoding, and the errors that must not be lenient. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alloc_probe.h"
#include "kmip/kmip_message.h"
#include "kmip/kmip_xml.h"
#include "test_util.h"

static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static kmip_message *build_register_activate(unsigned version)
{
    kmip_message *m = kmip_message_new(false, version);
    assert_non_null(m);
    kmip_tree *a = kmip_message_arena(m);
    kmip_item *holder = kmip_message_arena_root(m);
    kmip_batch_item *bi = kmip_message_add_item(m, KMIP_OPERATION_REGISTER);
    assert_non_null(bi);
    bi->has_unique_batch_item_id = true;
    bi->unique_batch_item_id = kmip_message_copy_bytes(m, "\x01", 1);
    kmip_register_request *reg = bi->payload;
    reg->object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    reg->attributes.present = true;
    assert_non_null(kmip_attr_append(m, &reg->attributes, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM,
                                     kmip_add_enum(a, holder, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM,
                                                   KMIP_CRYPTOGRAPHIC_ALGORITHM_AES)));
    assert_non_null(kmip_attr_append(
        m, &reg->attributes, KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK,
        kmip_add_int(a, holder, KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK,
                     KMIP_CRYPTOGRAPHIC_USAGE_MASK_ENCRYPT | KMIP_CRYPTOGRAPHIC_USAGE_MASK_DECRYPT)));
    kmip_item *name = kmip_add_struct(a, holder, KMIP_TAG_NAME);
    assert_non_null(kmip_add_text(a, name, KMIP_TAG_NAME_VALUE, "key-1", 5));
    assert_non_null(
        kmip_add_enum(a, name, KMIP_TAG_NAME_TYPE, KMIP_NAME_TYPE_UNINTERPRETED_TEXT_STRING));
    assert_non_null(kmip_attr_append(m, &reg->attributes, KMIP_TAG_NAME, name));
    reg->object.has_symmetric_key = true;
    kmip_key_block *kb = &reg->object.symmetric_key.key_block;
    kb->key_format_type = KMIP_KEY_FORMAT_TYPE_RAW;
    kb->has_key_value = true;
    kb->key_value.key_material = kmip_add_bytes(a, holder, KMIP_TAG_KEY_MATERIAL, KEY, sizeof KEY);
    kb->has_cryptographic_algorithm = true;
    kb->cryptographic_algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    kb->has_cryptographic_length = true;
    kb->cryptographic_length = 256;
    /* Activate the object registered above: no Unique Identifier is the ID
     * placeholder */
    assert_non_null(kmip_message_add_item(m, KMIP_OPERATION_ACTIVATE));
    return m;
}

static char *to_xml(const uint8_t *bytes, size_t len)
{
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *t = NULL;
    assert_int_equal(kmip_decoder_decode(d, bytes, len, &t), KMIP_OK);
    char *xml;
    size_t xml_len;
    assert_int_equal(kmip_xml_write(kmip_tree_root(t), KMIP_XML_SHOW_SECRETS, &xml, &xml_len),
                     KMIP_OK);
    kmip_tree_free(t);
    kmip_decoder_free(d);
    return xml;
}

static void check_register(unsigned version, const char *must, const char *must_not)
{
    kmip_message *m = build_register_activate(version);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(kmip_message_encode(m, &bytes, &len), KMIP_OK);
    char *xml = to_xml(bytes, len);
    if (strstr(xml, must) == NULL || strstr(xml, must_not) != NULL)
        fail_msg("version %x:\n%s", version, xml);
    assert_non_null(strstr(xml, "<BatchCount type=\"Integer\" value=\"2\"/>"));
    /* and back through the typed layer, byte for byte */
    kmip_message *back;
    kmip_msg_error err;
    assert_int_equal(kmip_message_decode(bytes, len, &back, &err), KMIP_OK);
    assert_true(kmip_message_fully_typed(back));
    assert_int_equal(back->item_count, 2);
    const kmip_register_request *reg = back->items[0].payload;
    assert_int_equal(reg->attributes.count, 3);
    assert_int_equal(reg->attributes.first->tag, KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM);
    const kmip_item *km = reg->object.symmetric_key.key_block.key_value.key_material;
    assert_memory_equal(km->v.bytes.data, KEY, sizeof KEY);
    const kmip_uid_request *act = back->items[1].payload;
    assert_false(act->has_unique_identifier);
    uint8_t *again;
    size_t again_len;
    assert_int_equal(kmip_message_encode(back, &again, &again_len), KMIP_OK);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, bytes, len);
    kmip_secure_free(again, again_len);
    kmip_message_free(back);
    free(xml);
    kmip_secure_free(bytes, len);
    kmip_message_free(m);
}

static void test_register_per_version(void **state)
{
    (void)state;
    check_register(KMIP_VERSION(1, 4),
                   "<AttributeName type=\"TextString\" value=\"Cryptographic Algorithm\"/>",
                   "<Attributes>");
    check_register(KMIP_VERSION(1, 0), "<TemplateAttribute>", "<Attributes>");
    check_register(KMIP_VERSION(2, 1),
                   "<Attributes>\n        <CryptographicAlgorithm type=\"Enumeration\" "
                   "value=\"AES\"/>",
                   "TemplateAttribute");
}

static kmip_err decode_hex(const char *hex, kmip_message **m, kmip_msg_error *err)
{
    static uint8_t buf[2048];
    size_t n = unhex(hex, buf, sizeof buf);
    return kmip_message_decode(buf, n, m, err);
}

/* Test messages are written in KMIP XML and encoded by the (separately
 * tested) XML reader and TTLV encoder. */
static kmip_err decode_xml(const char *xml, kmip_message **m, kmip_msg_error *err)
{
    kmip_xml_reader *r = kmip_xml_reader_new();
    kmip_tree *t = NULL;
    if (kmip_xml_read(r, xml, strlen(xml), &t) != KMIP_OK)
        fail_msg("%s", kmip_xml_reader_error_detail(r));
    kmip_xml_reader_free(r);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(kmip_encode_tree(kmip_tree_root(t), &bytes, &len), KMIP_OK);
    kmip_tree_free(t);
    kmip_err e = kmip_message_decode(bytes, len, m, err);
    kmip_secure_free(bytes, len);
    return e;
}

#define VERSION_10 "<ProtocolVersion><ProtocolVersionMajor type=\"Integer\" value=\"1\"/>" \
                   "<ProtocolVersionMinor type=\"Integer\" value=\"0\"/></ProtocolVersion>"
#define STAMP "<TimeStamp type=\"DateTime\" value=\"2008-03-14T11:56:40+00:00\"/>"
#define COUNT(n) "<BatchCount type=\"Integer\" value=\"" #n "\"/>"

static void test_failed_item_without_operation(void **state)
{
    (void)state;
    /* KMIP 1.0 response with a Server Correlation Value (as Vault sends), one
     * failed batch item without Operation */
    const char *xml =
        "<ResponseMessage><ResponseHeader>" VERSION_10 STAMP
        "<ServerCorrelationValue type=\"TextString\" value=\"x\"/>" COUNT(1) "</ResponseHeader>"
        "<BatchItem><ResultStatus type=\"Enumeration\" value=\"OperationFailed\"/>"
        "<ResultReason type=\"Enumeration\" value=\"ItemNotFound\"/>"
        "<ResultMessage type=\"TextString\" value=\"not found\"/></BatchItem></ResponseMessage>";
    kmip_message *m;
    kmip_msg_error err;
    assert_int_equal(decode_xml(xml, &m, &err), KMIP_OK);
    assert_true(m->is_response);
    assert_true(m->response_header.has_server_correlation_value);
    assert_int_equal(kmip_message_version(m), KMIP_VERSION(1, 0));
    const kmip_batch_item *bi = &m->items[0];
    assert_false(bi->has_operation);
    assert_int_equal(bi->result_status, KMIP_RESULT_STATUS_OPERATION_FAILED);
    assert_int_equal(bi->result_reason, KMIP_RESULT_REASON_ITEM_NOT_FOUND);
    assert_int_equal(bi->result_message.len, 9);
    assert_null(bi->payload);
    /* KMIP 1.0 does not define Server Correlation Value: kept on decoding,
     * left out when encoding a 1.0 message, hence not "fully typed" */
    assert_false(kmip_message_fully_typed(m));
    uint8_t *bytes;
    size_t len;
    assert_int_equal(kmip_message_encode(m, &bytes, &len), KMIP_OK);
    char *out = to_xml(bytes, len);
    assert_null(strstr(out, "ServerCorrelationValue"));
    free(out);
    kmip_secure_free(bytes, len);
    kmip_message_free(m);
}

static void test_strict_errors(void **state)
{
    (void)state;
    kmip_message *m = (kmip_message *)1;
    kmip_msg_error err;
    assert_int_equal(decode_xml("<ResponseMessage><ResponseHeader>" VERSION_10 STAMP COUNT(2)
                                "</ResponseHeader><BatchItem><ResultStatus type=\"Enumeration\" "
                                "value=\"Success\"/></BatchItem></ResponseMessage>",
                                &m, &err),
                     KMIP_E_RANGE);
    assert_null(m);
    assert_non_null(strstr(err.detail, "Batch Count is 2"));
    assert_int_equal(decode_xml("<ResponseMessage><ResponseHeader>" VERSION_10 STAMP COUNT(1)
                                "</ResponseHeader><BatchItem/></ResponseMessage>",
                                &m, &err),
                     KMIP_E_MISSING);
    assert_non_null(strstr(err.detail, "Result Status"));
    assert_int_equal(decode_xml("<ResponseMessage><ResponseHeader>" STAMP COUNT(0)
                                "</ResponseHeader></ResponseMessage>",
                                &m, &err),
                     KMIP_E_MISSING);
    assert_non_null(strstr(err.detail, "Protocol Version"));
    assert_int_equal(decode_xml("<ResponseMessage><BatchItem/></ResponseMessage>", &m, &err),
                     KMIP_E_MISSING);
    assert_int_equal(decode_xml("<CryptographicLength type=\"Integer\" value=\"1\"/>", &m, &err),
                     KMIP_E_UNEXPECTED_TAG);
    /* a single field twice (found by fuzzing: it re-encoded differently) */
    assert_int_equal(decode_xml("<ResponseMessage><ResponseHeader>" VERSION_10 STAMP COUNT(1)
                                "</ResponseHeader><BatchItem><Operation type=\"Enumeration\" "
                                "value=\"Get\"/><ResultStatus type=\"Enumeration\" "
                                "value=\"Success\"/><ResponsePayload><ObjectType "
                                "type=\"Enumeration\" value=\"SymmetricKey\"/>"
                                "<UniqueIdentifier type=\"TextString\" value=\"1\"/>"
                                "<SymmetricKey><KeyBlock>"
                                "<KeyFormatType type=\"Enumeration\" value=\"Raw\"/>"
                                "<KeyFormatType type=\"Enumeration\" value=\"Raw\"/>"
                                "</KeyBlock></SymmetricKey></ResponsePayload></BatchItem>"
                                "</ResponseMessage>",
                                &m, &err),
                     KMIP_E_UNEXPECTED_TAG);
    assert_non_null(strstr(err.detail, "Key Format Type appears twice"));
    /* TTLV errors come through with their byte offset */
    assert_int_equal(decode_hex("42007B 01 00000010 420020 07 00000008 4142434445464748 00",
                                &m, &err),
                     KMIP_E_TRAILING);
    assert_int_equal(err.offset, 24);
}

static void test_lenient_locate(void **state)
{
    (void)state;
    /* Locate response without Located Items (PyKMIP), with an unknown
     * extension tag holding an unknown enumeration value */
    const char *xml =
        "<ResponseMessage><ResponseHeader>" VERSION_10 STAMP COUNT(1) "</ResponseHeader>"
        "<BatchItem><Operation type=\"Enumeration\" value=\"Locate\"/>"
        "<ResultStatus type=\"Enumeration\" value=\"Success\"/><ResponsePayload>"
        "<UniqueIdentifier type=\"TextString\" value=\"a\"/>"
        "<UniqueIdentifier type=\"TextString\" value=\"b\"/>"
        "<UniqueIdentifier type=\"TextString\" value=\"c\"/>"
        "<TTLV tag=\"0x540001\" type=\"Enumeration\" value=\"0x80000001\"/>"
        "<UniqueIdentifier type=\"TextString\" value=\"d\"/>"
        "</ResponsePayload></BatchItem></ResponseMessage>";
    kmip_message *m;
    kmip_msg_error err;
    assert_int_equal(decode_xml(xml, &m, &err), KMIP_OK);
    const kmip_locate_response *loc = m->items[0].payload;
    assert_false(loc->has_located_items);
    assert_int_equal(loc->unique_identifier_count, 4);
    assert_memory_equal(loc->unique_identifiers[3].text.data, "d", 1);
    assert_int_equal(loc->extras.count, 1);
    assert_int_equal(loc->extras.items[0]->v.u32, 0x80000001);
    assert_false(kmip_message_fully_typed(m)); /* the extra moves to the end */
    uint8_t *bytes;
    size_t len;
    assert_int_equal(kmip_message_encode(m, &bytes, &len), KMIP_OK);
    char *out = to_xml(bytes, len);
    assert_non_null(strstr(out, "<TTLV tag=\"0x540001\" type=\"Enumeration\" value=\"0x80000001\"/>"));
    free(out);
    kmip_secure_free(bytes, len);
    kmip_message_free(m);
}

static void test_custom_attribute_versions(void **state)
{
    (void)state;
    kmip_message *m = kmip_message_new(false, KMIP_VERSION(2, 0));
    kmip_batch_item *bi = kmip_message_add_item(m, KMIP_OPERATION_LOCATE);
    kmip_locate_request *loc = bi->payload;
    kmip_attribute *a = kmip_attr_append(
        m, &loc->attributes, 0,
        kmip_add_text(kmip_message_arena(m), kmip_message_arena_root(m), KMIP_TAG_ATTRIBUTE_VALUE,
                      "v", 1));
    a->name = kmip_message_copy_bytes(m, "x-custom", 8);
    uint8_t *bytes;
    size_t len;
    assert_int_equal(kmip_message_encode(m, &bytes, &len), KMIP_E_UNSUPPORTED);
    m->request_header.protocol_version.major = 1;
    m->request_header.protocol_version.minor = 2;
    assert_int_equal(kmip_message_encode(m, &bytes, &len), KMIP_OK);
    char *xml = to_xml(bytes, len);
    assert_non_null(strstr(xml, "value=\"x-custom\""));
    free(xml);
    kmip_secure_free(bytes, len);
    kmip_message_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_per_version),
        cmocka_unit_test(test_failed_item_without_operation),
        cmocka_unit_test(test_strict_errors),
        cmocka_unit_test(test_lenient_locate),
        cmocka_unit_test(test_custom_attribute_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

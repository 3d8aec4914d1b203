/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target: the client's handling of server responses. The input's
 * first byte picks an operation (and whether the version is negotiated
 * first); the rest is what "the server" answers, to every request of that
 * operation (at most 4 exchanges, then the connection breaks). The target
 * links the client over a socketless transport (fake_transport.c) instead
 * of src/transport, so everything after the bytes arrive runs as in
 * production: the sans-I/O core's decoding and matching of the response to
 * the request (count, operation, batch item ids, result status), retries,
 * and extracting identifiers, key bytes, attributes, versions and Locate
 * pages.
 * Property: no crash, no leak, no hang; an error always comes with a
 * message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fake_transport.h"
#include "kmip/kmip_client.h"

static bool count_uid(void *ctx, const char *uid, size_t len)
{
    (void)uid;
    (*(size_t *)ctx) += len;
    return true;
}

static void check(kmip_client *c, kmip_client_err e)
{
    if (e != KMIP_CLIENT_OK && kmip_client_error_message(c)[0] == '\0')
        abort(); /* every failure explains itself */
}

static void run(kmip_client *c, unsigned scenario)
{
    kmip_key_spec spec = {0};
    spec.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    spec.algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    spec.length_bits = 256;
    spec.name = "fuzz";
    static const uint8_t key[32] = {1};
    char uid[128];
    uint8_t *bytes = NULL;
    size_t len = 0;
    uint32_t type = 0;
    kmip_message *resp = NULL;
    switch (scenario) {
    case 0:
        check(c, kmip_client_get_key(c, "uid-1", &bytes, &len, &type));
        kmip_secure_free(bytes, len);
        break;
    case 1:
        check(c, kmip_client_register_activate(c, &spec, key, sizeof key, uid, sizeof uid));
        break;
    case 2:
        check(c, kmip_client_create_activate_get(c, &spec, uid, sizeof uid, &bytes, &len));
        kmip_secure_free(bytes, len);
        break;
    case 3: {
        kmip_locate_filter f = {0};
        f.object_group = "g";
        f.page_size = 2;
        size_t total = 0;
        check(c, kmip_client_locate(c, &f, count_uid, &total));
        break;
    }
    case 4: {
        static const uint32_t tags[] = {KMIP_TAG_NAME, KMIP_TAG_STATE};
        check(c, kmip_client_get_attributes(c, "uid-1", tags, 2, &resp));
        kmip_message_free(resp);
        break;
    }
    case 5:
        check(c, kmip_client_revoke_destroy(c, "uid-1"));
        break;
    case 6:
        check(c, kmip_client_query(c, &resp));
        kmip_message_free(resp);
        break;
    default: {
        kmip_message *req = NULL;
        if (kmip_client_request(c, &req) == KMIP_CLIENT_OK &&
            kmip_req_add_uid_op(req, KMIP_OPERATION_GET, "a") == KMIP_CLIENT_OK &&
            kmip_req_add_get_attributes(req, "a", NULL, 0) == KMIP_CLIENT_OK)
            check(c, kmip_client_call(c, req, &resp));
        kmip_message_free(req);
        kmip_message_free(resp);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL)
        return 0;
    if (kmip_client_options_set_server(o, "fuzz.invalid", 5696) != KMIP_CLIENT_OK) {
        kmip_client_options_free(o);
        return 0;
    }
    if ((data[0] & 8) == 0) /* else the first answer goes to Discover Versions */
        kmip_client_options_pin_version(o, (data[0] & 16) ? KMIP_VERSION(2, 0)
                                                         : KMIP_VERSION(1, 4));
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    if (c == NULL)
        return 0;
    fake_transport_answer(data + 1, size - 1, 4);
    run(c, data[0] & 7);
    kmip_client_free(c);
    return 0;
}

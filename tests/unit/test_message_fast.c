/* SPDX-License-Identifier: GPL-2.0-only */
/* The typed decoder's generated fast paths (msg_fast.inc, written by
 * src/messages/msg_fastgen.c from the message tables) against the table
 * walk alone (msg_decode_walk), differentially: over the messages the
 * client and the keyring send and receive, every single-byte mutation and
 * truncation of them, seeded random multi-byte mutations, and the peer
 * vectors of the corpus (KMIP_CORPUS_DIR) when it is there. For each input
 * both must give the same verdict, error code, byte offset and detail and,
 * on success, the same fully-typed flag, batch item count and re-encoded
 * bytes; decoding into a reused message (what the client core does) must
 * agree too. The encoder's generated fast paths (msg_fast_enc.inc) are
 * compared with its walk (msg_encode_walk) on every decoded message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the four above first */
#include <cmocka.h>

#include "kmip/kmip_client.h"
#include "kmip/kmip_message.h"
#include "message_internal.h"
#include "test_util.h"

static const uint8_t KEY[32] = {0x11, 0x22, 0x33};

static uint8_t *encode_free(kmip_message *m, size_t *len)
{
    uint8_t *out = NULL;
    assert_int_equal(kmip_message_encode(m, &out, len), KMIP_OK);
    kmip_message_free(m);
    return out;
}

static kmip_message *response(uint32_t op, unsigned version)
{
    kmip_message *m = kmip_message_new(true, version);
    assert_non_null(m);
    kmip_batch_item *bi = kmip_message_add_item(m, op);
    assert_non_null(bi);
    m->response_header.time_stamp = 1767225600;
    bi->has_result_status = true;
    bi->result_status = KMIP_RESULT_STATUS_SUCCESS;
    return m;
}

/* The bench's Get response: 312 bytes in 1.4, a 32-byte AES key. */
static uint8_t *get_response(unsigned version, size_t *len)
{
    kmip_message *m = response(KMIP_OPERATION_GET, version);
    kmip_get_response *g = m->items[0].payload;
    g->object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    g->unique_identifier.text =
        kmip_message_copy_bytes(m, "1f165d65-cbbd-4bd6-9867-80e0b390acf9", 36);
    g->object.has_symmetric_key = true;
    kmip_key_block *kb = &g->object.symmetric_key.key_block;
    kb->key_format_type = KMIP_KEY_FORMAT_TYPE_RAW;
    kb->has_key_value = true;
    kb->key_value.key_material = kmip_add_bytes(kmip_message_arena(m), kmip_message_arena_root(m),
                                                KMIP_TAG_KEY_MATERIAL, KEY, sizeof KEY);
    kb->has_cryptographic_algorithm = true;
    kb->cryptographic_algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    kb->has_cryptographic_length = true;
    kb->cryptographic_length = 256;
    return encode_free(m, len);
}

/* The keyring's Register + Activate (template attributes, an ID
 * placeholder). */
static uint8_t *register_request(unsigned version, size_t *len)
{
    kmip_message *m = kmip_message_new(false, version);
    assert_non_null(m);
    kmip_key_spec spec = {0};
    spec.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    spec.algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    spec.length_bits = 256;
    spec.name = "percona_binlog";
    spec.object_group = "mysql-prod";
    spec.app_namespace = "keyring_kmip";
    spec.app_data = "v1;AES;;70657263";
    assert_int_equal(kmip_req_add_register(m, &spec, KEY, sizeof KEY), KMIP_CLIENT_OK);
    assert_int_equal(kmip_req_add_uid_op(m, KMIP_OPERATION_ACTIVATE, NULL), KMIP_CLIENT_OK);
    return encode_free(m, len);
}

/* A Locate page (a repeated field: the walk's own path). */
static uint8_t *locate_response(size_t *len)
{
    kmip_message *m = response(KMIP_OPERATION_LOCATE, KMIP_VERSION(1, 4));
    kmip_locate_response *l = m->items[0].payload;
    l->unique_identifier_count = 3;
    l->unique_identifiers = kmip_message_alloc(m, 3 * sizeof(kmip_uid));
    assert_non_null(l->unique_identifiers);
    for (int i = 0; i < 3; i++) {
        char id[8];
        int n = snprintf(id, sizeof id, "id-%d", i);
        l->unique_identifiers[i].text = kmip_message_copy_bytes(m, id, (size_t)n);
    }
    return encode_free(m, len);
}

/* A refusal: Result Reason and Message, no payload. */
static uint8_t *failed_response(size_t *len)
{
    kmip_message *m = response(KMIP_OPERATION_DESTROY, KMIP_VERSION(1, 2));
    kmip_batch_item *bi = &m->items[0];
    bi->result_status = KMIP_RESULT_STATUS_OPERATION_FAILED;
    bi->has_result_reason = true;
    bi->result_reason = KMIP_RESULT_REASON_PERMISSION_DENIED;
    bi->has_result_message = true;
    bi->result_message = kmip_message_copy_bytes(m, "Active objects cannot be destroyed", 34);
    bi->payload = NULL;
    return encode_free(m, len);
}

/* Two Gets in one response (a batch of items). */
static uint8_t *two_gets(size_t *len)
{
    kmip_message *m = response(KMIP_OPERATION_GET, KMIP_VERSION(1, 4));
    kmip_batch_item *bi = kmip_message_add_item(m, KMIP_OPERATION_ACTIVATE);
    assert_non_null(bi);
    bi->has_result_status = true;
    bi->result_status = KMIP_RESULT_STATUS_SUCCESS;
    kmip_get_response *g = m->items[0].payload;
    g->object_type = KMIP_OBJECT_TYPE_SECRET_DATA;
    g->unique_identifier.text = kmip_message_copy_bytes(m, "7", 1);
    kmip_uid_response *u = m->items[1].payload;
    u->unique_identifier.text = kmip_message_copy_bytes(m, "8", 1);
    return encode_free(m, len);
}

static size_t compared, fast_accepted;

/* One input through both decoders (fresh and reused messages). */
static void differ(const uint8_t *data, size_t len, kmip_message **reused)
{
    kmip_message *walk = NULL, *fast = NULL;
    kmip_msg_error werr, ferr, rerr;
    kmip_err we = msg_decode_walk(data, len, &walk, &werr);
    kmip_err fe = kmip_message_decode(data, len, &fast, &ferr);
    kmip_err re = kmip_message_decode_into(reused, data, len, &rerr);
    assert_int_equal(fe, we);
    assert_int_equal(re, we);
    compared++;
    if (we != KMIP_OK) {
        assert_null(walk);
        assert_null(fast);
        assert_int_equal(ferr.offset, werr.offset);
        assert_string_equal(ferr.detail, werr.detail);
        assert_int_equal(rerr.offset, werr.offset);
        assert_string_equal(rerr.detail, werr.detail);
        return;
    }
    fast_accepted++;
    bool typed = kmip_message_fully_typed(walk);
    assert_int_equal(kmip_message_fully_typed(fast), typed);
    assert_int_equal(kmip_message_fully_typed(*reused), typed);
    assert_int_equal(fast->item_count, walk->item_count);
    assert_int_equal((*reused)->item_count, walk->item_count);
    uint8_t *wb = NULL, *fb = NULL, *rb = NULL;
    size_t wl = 0, fl = 0, rl = 0;
    kmip_err wenc = kmip_message_encode(walk, &wb, &wl);
    assert_int_equal(kmip_message_encode(fast, &fb, &fl), wenc);
    assert_int_equal(kmip_message_encode(*reused, &rb, &rl), wenc);
    /* the encoder's fast paths against its walk, on the walk's message */
    uint8_t *eb = NULL;
    size_t el = 0;
    assert_int_equal(msg_encode_walk(walk, &eb, &el), wenc);
    if (wenc == KMIP_OK) {
        assert_int_equal(el, wl);
        assert_memory_equal(eb, wb, wl);
    }
    kmip_secure_free(eb, el);
    if (wenc == KMIP_OK) {
        assert_int_equal(fl, wl);
        assert_int_equal(rl, wl);
        assert_memory_equal(fb, wb, wl);
        assert_memory_equal(rb, wb, wl);
        if (typed) {
            assert_int_equal(wl, len);
            assert_memory_equal(wb, data, len);
        }
    }
    kmip_secure_free(wb, wl);
    kmip_secure_free(fb, fl);
    kmip_secure_free(rb, rl);
    kmip_message_free(walk);
    kmip_message_free(fast);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* The message, then each byte replaced by a few values, each truncation
 * (with the top-level length made to fit, so that the inner structures
 * are what is cut), and random multi-byte mutations. */
static void mutate_all(const uint8_t *msg, size_t len)
{
    kmip_message *reused = NULL;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    differ(msg, len, &reused);
    static const uint8_t values[] = {0x00, 0x01, 0x07, 0x08, 0x42, 0x54, 0x80, 0xFF};
    for (size_t i = 0; i < len; i++) {
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(buf, msg, len);
            if (buf[i] == values[v])
                continue;
            buf[i] = values[v];
            differ(buf, len, &reused);
        }
        memcpy(buf, msg, len);
        buf[i] ^= 0x10;
        differ(buf, len, &reused);
    }
    for (size_t cut = 8; cut < len; cut += 8) {
        memcpy(buf, msg, cut);
        uint32_t inner = (uint32_t)(cut - 8);
        buf[4] = (uint8_t)(inner >> 24);
        buf[5] = (uint8_t)(inner >> 16);
        buf[6] = (uint8_t)(inner >> 8);
        buf[7] = (uint8_t)inner;
        differ(buf, cut, &reused);
    }
    for (int round = 0; round < 3000; round++) {
        memcpy(buf, msg, len);
        unsigned n = 1 + rnd() % 4;
        for (unsigned k = 0; k < n; k++) {
            size_t at = rnd() % len;
            switch (rnd() % 3) {
            case 0: /* a random byte */
                buf[at] = (uint8_t)rnd();
                break;
            case 1: { /* two aligned 8-byte words swapped (reordered children) */
                size_t a = (rnd() % (len / 8)) * 8, b = (rnd() % (len / 8)) * 8;
                uint8_t t[8];
                memcpy(t, buf + a, 8);
                memcpy(buf + a, buf + b, 8);
                memcpy(buf + b, t, 8);
                break;
            }
            default: /* a length or type byte nudged */
                buf[at] = (uint8_t)(buf[at] + (rnd() % 2 ? 1 : 0xFF));
                break;
            }
        }
        differ(buf, len, &reused);
    }
    kmip_message_free(reused);
    free(buf);
}

static void fast_paths_are_on(void **state)
{
    (void)state;
    /* the generated code's numbers match the tables: else every test below
     * would compare the walk with itself */
    assert_true(msg_decode_fast_enabled());
}

typedef uint8_t *(*maker)(size_t *len);

static uint8_t *get14(size_t *len)
{
    return get_response(KMIP_VERSION(1, 4), len);
}
static uint8_t *get21(size_t *len)
{
    return get_response(KMIP_VERSION(2, 1), len);
}
static uint8_t *get10(size_t *len)
{
    return get_response(KMIP_VERSION(1, 0), len);
}
static uint8_t *reg14(size_t *len)
{
    return register_request(KMIP_VERSION(1, 4), len);
}
static uint8_t *reg21(size_t *len)
{
    return register_request(KMIP_VERSION(2, 1), len);
}

static void mutations(void **state)
{
    (void)state;
    static const maker makers[] = {get14, get21, get10, reg14, reg21, locate_response,
                                   failed_response, two_gets};
    for (size_t i = 0; i < sizeof makers / sizeof makers[0]; i++) {
        size_t len;
        uint8_t *msg = makers[i](&len);
        mutate_all(msg, len);
        kmip_secure_free(msg, len);
    }
    /* the fast paths took the mutations the walk accepted too */
    assert_true(fast_accepted > 100);
    printf("# %zu inputs compared, %zu accepted\n", compared, fast_accepted);
}

/* The corpus's peer vectors (name, then hex, one a line), whole and
 * truncated. Skipped with a note when the corpus is not there. */
static void peer_vectors(void **state)
{
    (void)state;
    const char *root = getenv("KMIP_CORPUS_DIR");
    if (root == NULL)
        root = KMIP_TEST_CORPUS;
    static const char *files[] = {"valid.txt", "invalid.txt", "informational.txt"};
    size_t before = compared;
    kmip_message *reused = NULL;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/peer-vectors/%s", root, files[f]);
        FILE *in = fopen(path, "r");
        if (in == NULL)
            continue;
        static char line[1 << 17];
        static uint8_t bytes[1 << 16];
        while (fgets(line, sizeof line, in) != NULL) {
            char *hex = strrchr(line, ' ');
            if (hex == NULL || strlen(hex) / 2 > sizeof bytes)
                continue;
            size_t n = unhex(hex, bytes, sizeof bytes);
            differ(bytes, n, &reused);
            for (size_t cut = 8; cut < n; cut += 8)
                differ(bytes, cut, &reused);
        }
        fclose(in);
    }
    kmip_message_free(reused);
    if (compared == before)
        printf("# no peer vectors under %s: only the built messages were compared\n", root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_paths_are_on),
        cmocka_unit_test(mutations),
        cmocka_unit_test(peer_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

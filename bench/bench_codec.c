/* SPDX-License-Identifier: GPL-2.0-only */
/* Codec throughput on three typical messages: a Get response carrying a
 * 32-byte AES key, the Register request the keyring sends for a 32-byte
 * key (Name, Object Group, Application Specific Information, usage mask,
 * plus the Activate of its ID placeholder), and a Locate response with
 * 10,000 identifiers. For each: TTLV -> item tree (decode), TTLV -> typed
 * message into a new message each time (kmip_message_decode, then
 * kmip_message_free), TTLV -> typed message into one reused message
 * (kmip_message_decode_into, then kmip_message_reset, which wipes what the
 * message held: what the client core does with each response in its steady
 * state), typed message -> TTLV (encode, then kmip_secure_free of the
 * bytes), in messages per second and MB/s, median of RUNS runs.
 * Usage: bench_codec [iterations-per-run] */
#include "bench_util.h"
#include "kmip/kmip_client.h"
#include "kmip/kmip_message.h"

#define RUNS 5
#define SECTION "codec"

static kmip_message *response(uint32_t op)
{
    kmip_message *m = kmip_message_new(true, KMIP_VERSION(1, 4));
    kmip_batch_item *bi = m ? kmip_message_add_item(m, op) : NULL;
    if (bi == NULL)
        exit(1);
    m->response_header.time_stamp = 1767225600;
    bi->has_result_status = true;
    bi->result_status = KMIP_RESULT_STATUS_SUCCESS;
    return m;
}

static uint8_t *encode(kmip_message *m, size_t *len)
{
    uint8_t *out;
    if (kmip_message_encode(m, &out, len) != KMIP_OK)
        exit(1);
    kmip_message_free(m);
    return out;
}

static uint8_t *get_response(size_t *len)
{
    kmip_message *m = response(KMIP_OPERATION_GET);
    kmip_get_response *g = m->items[0].payload;
    static const uint8_t key[32] = {0x11, 0x22, 0x33};
    g->object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    g->unique_identifier.text =
        kmip_message_copy_bytes(m, "1f165d65-cbbd-4bd6-9867-80e0b390acf9", 36);
    g->object.has_symmetric_key = true;
    kmip_key_block *kb = &g->object.symmetric_key.key_block;
    kb->key_format_type = KMIP_KEY_FORMAT_TYPE_RAW;
    kb->has_key_value = true;
    kb->key_value.key_material = kmip_add_bytes(kmip_message_arena(m), kmip_message_arena_root(m),
                                                KMIP_TAG_KEY_MATERIAL, key, sizeof key);
    kb->has_cryptographic_algorithm = true;
    kb->cryptographic_algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    kb->has_cryptographic_length = true;
    kb->cryptographic_length = 256;
    return encode(m, len);
}

static uint8_t *register_request(size_t *len)
{
    kmip_message *m = kmip_message_new(false, KMIP_VERSION(1, 4));
    kmip_key_spec spec = {0};
    spec.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    spec.algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    spec.length_bits = 256;
    spec.name = "percona_binlog";
    spec.object_group = "mysql-prod";
    spec.app_namespace = "keyring_kmip";
    spec.app_data = "v1;AES;;70657263";
    static const uint8_t key[32] = {0x11, 0x22, 0x33};
    if (m == NULL || kmip_req_add_register(m, &spec, key, sizeof key) != KMIP_CLIENT_OK ||
        kmip_req_add_uid_op(m, KMIP_OPERATION_ACTIVATE, NULL) != KMIP_CLIENT_OK)
        exit(1);
    return encode(m, len);
}

static uint8_t *locate_response(size_t *len, int ids)
{
    kmip_message *m = response(KMIP_OPERATION_LOCATE);
    kmip_locate_response *l = m->items[0].payload;
    l->unique_identifier_count = (size_t)ids;
    l->unique_identifiers = kmip_message_alloc(m, (size_t)ids * sizeof(kmip_uid));
    for (int i = 0; i < ids; i++) {
        char id[40];
        int n = snprintf(id, sizeof id, "%08d-cbbd-4bd6-9867-80e0b390acf9", i);
        l->unique_identifiers[i].text = kmip_message_copy_bytes(m, id, (size_t)n);
    }
    return encode(m, len);
}

static void rows(const char *name, const char *what, double *rate, size_t len)
{
    char label[160];
    double mbs[RUNS];
    for (int r = 0; r < RUNS; r++)
        mbs[r] = rate[r] * (double)len / 1e6;
    snprintf(label, sizeof label, "%s: %s", name, what);
    bench_row(SECTION, label, rate, RUNS, "msg/s");
    snprintf(label, sizeof label, "%s: %s", name, what);
    bench_row(SECTION "-mbs", label, mbs, RUNS, "MB/s");
}

static void bench(const char *name, const uint8_t *msg, size_t len, long iters)
{
    double tree[RUNS], typed[RUNS], reused[RUNS], enc[RUNS];
    kmip_message *keep = NULL;
    kmip_decoder *d = kmip_decoder_new();
    kmip_decoder_set_max_message_size(d, 16u << 20);
    kmip_decoder_set_max_items(d, 1u << 20);
    for (int r = 0; r < RUNS; r++) {
        double t0 = bench_now();
        for (long i = 0; i < iters; i++) {
            kmip_tree *t;
            if (kmip_decoder_decode(d, msg, len, &t) != KMIP_OK)
                exit(1);
            kmip_tree_free(t);
        }
        double t1 = bench_now();
        for (long i = 0; i < iters; i++) {
            kmip_message *m;
            if (kmip_message_decode(msg, len, &m, NULL) != KMIP_OK)
                exit(1);
            kmip_message_free(m);
        }
        double t2 = bench_now();
        for (long i = 0; i < iters; i++) {
            if (kmip_message_decode_into(&keep, msg, len, NULL) != KMIP_OK)
                exit(1);
            kmip_message_reset(keep);
        }
        double t2b = bench_now();
        kmip_message *m;
        if (kmip_message_decode(msg, len, &m, NULL) != KMIP_OK)
            exit(1);
        double t3 = bench_now();
        for (long i = 0; i < iters; i++) {
            uint8_t *out;
            size_t out_len;
            if (kmip_message_encode(m, &out, &out_len) != KMIP_OK || out_len != len)
                exit(1);
            kmip_secure_free(out, out_len);
        }
        double t4 = bench_now();
        kmip_message_free(m);
        tree[r] = (double)iters / (t1 - t0);
        typed[r] = (double)iters / (t2 - t1);
        reused[r] = (double)iters / (t2b - t2);
        enc[r] = (double)iters / (t4 - t3);
    }
    kmip_decoder_free(d);
    kmip_message_free(keep);
    char full[128];
    snprintf(full, sizeof full, "%s (%zu B)", name, len);
    rows(full, "decode to items", tree, len);
    rows(full, "decode to typed message, a new message each time", typed, len);
    rows(full, "decode into a reused typed message", reused, len);
    rows(full, "encode typed message", enc, len);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 20000;
    size_t get_len, reg_len, loc_len;
    uint8_t *get = get_response(&get_len);
    uint8_t *reg = register_request(&reg_len);
    uint8_t *loc = locate_response(&loc_len, 10000);
    bench("Get response, 32-byte key", get, get_len, iters);
    bench("Register + Activate request, 32-byte key", reg, reg_len, iters);
    bench("Locate response, 10,000 ids", loc, loc_len, iters / 1000 > 0 ? iters / 1000 : 1);
    free(get);
    free(reg);
    free(loc);
    return 0;
}

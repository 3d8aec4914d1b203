/* Codec throughput on two typical messages: a Get response carrying a
 * 32-byte AES key, and a Locate response with 1,000 identifiers.
 * For each: TTLV -> item tree (decode), TTLV -> typed message (decode +
 * message layer), typed message -> TTLV (encode). Prints messages per
 * second, the median of 5 runs with min and max.
 * Usage: bench_codec [iterations-per-run] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmip/kmip_message.h"

#define RUNS 5

typedef struct sample {
    double rate[RUNS];
} sample;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(const char *what, sample *s)
{
    qsort(s->rate, RUNS, sizeof s->rate[0], cmp_double);
    printf("| %-44s | %12.0f | %12.0f | %12.0f |\n", what, s->rate[RUNS / 2], s->rate[0],
           s->rate[RUNS - 1]);
}

static kmip_message *response(uint32_t op)
{
    kmip_message *m = kmip_message_new(true, KMIP_VERSION(1, 4));
    if (m == NULL)
        exit(1);
    m->response_header.time_stamp = 1767225600;
    kmip_batch_item *bi = kmip_message_add_item(m, op);
    if (bi == NULL)
        exit(1);
    bi->has_result_status = true;
    bi->result_status = KMIP_RESULT_STATUS_SUCCESS;
    return m;
}

static uint8_t *get_response(size_t *len)
{
    kmip_message *m = response(KMIP_OPERATION_GET);
    kmip_get_response *g = m->items[0].payload;
    static const uint8_t key[32] = {0x11, 0x22, 0x33};
    g->object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    g->unique_identifier.text = kmip_message_copy_bytes(m, "1f165d65-cbbd-4bd6-9867-80e0b390acf9", 36);
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
    uint8_t *out;
    if (kmip_message_encode(m, &out, len) != KMIP_OK)
        exit(1);
    kmip_message_free(m);
    return out;
}

static uint8_t *locate_response(size_t *len)
{
    kmip_message *m = response(KMIP_OPERATION_LOCATE);
    kmip_locate_response *l = m->items[0].payload;
    l->unique_identifier_count = 1000;
    l->unique_identifiers = kmip_message_alloc(m, 1000 * sizeof(kmip_uid));
    for (int i = 0; i < 1000; i++) {
        char id[40];
        int n = snprintf(id, sizeof id, "%08d-cbbd-4bd6-9867-80e0b390acf9", i);
        l->unique_identifiers[i].text = kmip_message_copy_bytes(m, id, (size_t)n);
    }
    uint8_t *out;
    if (kmip_message_encode(m, &out, len) != KMIP_OK)
        exit(1);
    kmip_message_free(m);
    return out;
}

static void bench(const char *name, const uint8_t *msg, size_t len, long iters)
{
    sample tree = {{0}}, typed = {{0}}, encode = {{0}};
    kmip_decoder *d = kmip_decoder_new();
    for (int r = 0; r < RUNS; r++) {
        double t0 = now();
        for (long i = 0; i < iters; i++) {
            kmip_tree *t;
            if (kmip_decoder_decode(d, msg, len, &t) != KMIP_OK)
                exit(1);
            kmip_tree_free(t);
        }
        double t1 = now();
        for (long i = 0; i < iters; i++) {
            kmip_message *m;
            if (kmip_message_decode(msg, len, &m, NULL) != KMIP_OK)
                exit(1);
            kmip_message_free(m);
        }
        double t2 = now();
        kmip_message *m;
        if (kmip_message_decode(msg, len, &m, NULL) != KMIP_OK)
            exit(1);
        double t3 = now();
        for (long i = 0; i < iters; i++) {
            uint8_t *out;
            size_t out_len;
            if (kmip_message_encode(m, &out, &out_len) != KMIP_OK || out_len != len)
                exit(1);
            kmip_secure_free(out, out_len);
        }
        double t4 = now();
        kmip_message_free(m);
        tree.rate[r] = (double)iters / (t1 - t0);
        typed.rate[r] = (double)iters / (t2 - t1);
        encode.rate[r] = (double)iters / (t4 - t3);
    }
    kmip_decoder_free(d);
    char label[96];
    snprintf(label, sizeof label, "%s (%zu B): decode to items", name, len);
    report(label, &tree);
    snprintf(label, sizeof label, "%s: decode to typed message", name);
    report(label, &typed);
    snprintf(label, sizeof label, "%s: encode typed message", name);
    report(label, &encode);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 20000;
    size_t get_len, loc_len;
    uint8_t *get = get_response(&get_len);
    uint8_t *loc = locate_response(&loc_len);
    printf("| message, operation                           | median msg/s |    min msg/s |    max msg/s |\n");
    printf("|----------------------------------------------|-------------:|-------------:|-------------:|\n");
    bench("Get response, 32-byte key", get, get_len, iters);
    bench("Locate response, 1,000 ids", loc, loc_len, iters / 100 > 0 ? iters / 100 : 1);
    free(get);
    free(loc);
    return 0;
}

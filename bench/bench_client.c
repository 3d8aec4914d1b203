/* SPDX-License-Identifier: GPL-2.0-only */
/* Client round trips against a KMIP server over one persistent TLS
 * connection: Gets per second and client CPU time per Get, one Get per
 * message and 100 Gets per message, median of RUNS runs (bench_util.h
 * lines, section SECTION).
 * Usage: bench_client FIXTURE_DIR PORT_KEY SECTION [gets-per-run]
 * PORT_KEY names the server's port in FIXTURE_DIR/env (PORT: PyKMIP,
 * TESTSRV_PORT: our test server). */
#include "bench_util.h"
#include "kmip/kmip_client.h"

#define RUNS 5

static char env_path[1024];

static const char *env(const char *key)
{
    static char value[8][1024];
    static int slot;
    FILE *f = fopen(env_path, "r");
    char l[2048];
    while (f && fgets(l, sizeof l, f)) {
        l[strcspn(l, "\n")] = '\0';
        size_t n = strlen(key);
        if (strncmp(l, key, n) == 0 && l[n] == '=') {
            slot = (slot + 1) % 8;
            snprintf(value[slot], sizeof value[slot], "%s", l + n + 1);
            fclose(f);
            return value[slot];
        }
    }
    if (f)
        fclose(f);
    fprintf(stderr, "%s missing in %s\n", key, env_path);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_client FIXTURE_DIR PORT_KEY SECTION [gets-per-run]\n");
        return 2;
    }
    snprintf(env_path, sizeof env_path, "%s/env", argv[1]);
    const char *section = argv[3];
    int gets = argc > 4 ? atoi(argv[4]) : 200;
    kmip_client_options *o = kmip_client_options_new();
    if (kmip_client_options_set_server(o, "127.0.0.1", (unsigned)atoi(env(argv[2]))) ||
        kmip_client_options_set_ca(o, env("CA")) ||
        kmip_client_options_set_cert(o, env("CLIENT_CERT"), env("CLIENT_KEY")))
        return 2;
    kmip_client_options_pin_version(o, KMIP_VERSION(1, 4));
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY,
                          .algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES,
                          .length_bits = 256};
    static const uint8_t key[32] = {1};
    char uid[128];
    if (kmip_client_register(c, &spec, key, sizeof key, uid, sizeof uid) != KMIP_CLIENT_OK) {
        fprintf(stderr, "%s\n", kmip_client_error_message(c));
        return 1;
    }
    double rate[RUNS], cpu_us[RUNS], brate[RUNS], bcpu_us[RUNS];
    for (int r = 0; r < RUNS; r++) {
        double t0 = bench_now(), c0 = bench_cpu();
        for (int i = 0; i < gets; i++) {
            uint8_t *k;
            size_t len;
            if (kmip_client_get_key(c, uid, &k, &len, NULL) != KMIP_CLIENT_OK)
                return 1;
            kmip_secure_free(k, len);
        }
        double t1 = bench_now(), c1 = bench_cpu();
        rate[r] = gets / (t1 - t0);
        cpu_us[r] = (c1 - c0) / gets * 1e6;
        /* 100 Gets per message */
        int batches = gets / 100 > 0 ? gets / 100 : 1;
        double t2 = bench_now(), c2 = bench_cpu();
        for (int b = 0; b < batches; b++) {
            kmip_message *req, *resp;
            if (kmip_client_request(c, &req) != KMIP_CLIENT_OK)
                return 1;
            for (int i = 0; i < 100; i++)
                if (kmip_req_add_uid_op(req, KMIP_OPERATION_GET, uid) != KMIP_CLIENT_OK)
                    return 1;
            if (kmip_client_call(c, req, &resp) != KMIP_CLIENT_OK)
                return 1;
            kmip_message_free(req);
            kmip_message_free(resp);
        }
        double t3 = bench_now(), c3 = bench_cpu();
        brate[r] = batches * 100 / (t3 - t2);
        bcpu_us[r] = (c3 - c2) / (batches * 100) * 1e6;
    }
    kmip_client_stats s;
    kmip_client_get_stats(c, &s);
    bench_row(section, "keyring_kmip C client: Gets/s, 1 Get per message", rate, RUNS, "Gets/s");
    bench_row(section, "keyring_kmip C client: CPU per Get", cpu_us, RUNS, "us");
    bench_row(section, "keyring_kmip C client: Gets/s, 100 Gets per message", brate, RUNS,
              "Gets/s");
    bench_row(section, "keyring_kmip C client: CPU per Get, 100 per message", bcpu_us, RUNS,
              "us");
    bench_note(section, "our client: %llu connection(s), %llu request messages, %d Gets per run",
               (unsigned long long)s.connections, (unsigned long long)s.requests, gets);
    if (kmip_client_destroy(c, uid) != KMIP_CLIENT_OK)
        return 1;
    kmip_client_free(c);
    return 0;
}

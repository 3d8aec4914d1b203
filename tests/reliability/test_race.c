/* SPDX-License-Identifier: GPL-2.0-only */
/* Two writers racing on one key, in real processes (docs/RELIABILITY.md,
 * invariant 1). Every round starts two `keyring-kmip store` (or
 * `generate`) processes on the same id with different bytes, both blocked
 * on one pipe until it closes, so that they load and write at the same
 * moment. After each round:
 *  - at most one of them succeeded (the other reports that the key exists,
 *    or both failed);
 *  - the server holds exactly one Active object for the id when one
 *    succeeded (none when both failed), and no Pre-Active object;
 *  - a fresh load returns the winner's bytes (for generate: the bytes of
 *    the one Active object).
 * Each round uses its own object group, and removes its objects at the end.
 * Usage: test_race FIXTURE_DIR KEYRING_KMIP store|generate ROUNDS [TEST_SERVER]
 * (without TEST_SERVER: the fixture's PyKMIP server). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_env.h"
#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"
#include "kmip/kmip_registry.h"

static fenv E;
static unsigned port;
static const char *cli;
static bool generate;

#define FAIL(...)                                                                                \
    do {                                                                                         \
        fprintf(stderr, "round %d: ", round);                                                    \
        fprintf(stderr, __VA_ARGS__);                                                            \
        fputc('\n', stderr);                                                                     \
        return false;                                                                            \
    } while (0)

static kmip_client *raw_client(void)
{
    kmip_client_options *o = kmip_client_options_new();
    kmip_client *c = NULL;
    if (o && kmip_client_options_set_server(o, "127.0.0.1", port) == KMIP_CLIENT_OK &&
        kmip_client_options_set_ca(o, E.ca) == KMIP_CLIENT_OK &&
        kmip_client_options_set_cert(o, E.cert, E.key) == KMIP_CLIENT_OK)
        c = kmip_client_new(o);
    kmip_client_options_free(o);
    return c;
}

typedef struct listing {
    char uid[16][256];
    size_t count;
} listing;

static bool take(void *ctx, const char *uid, size_t len)
{
    listing *l = ctx;
    if (l->count == 16 || len >= sizeof l->uid[0])
        return false;
    memcpy(l->uid[l->count], uid, len);
    l->uid[l->count++][len] = '\0';
    return true;
}

static uint32_t state_of(kmip_client *c, const char *uid)
{
    static const uint32_t wanted[] = {KMIP_TAG_STATE};
    kmip_message *resp = NULL;
    uint32_t st = 0;
    if (kmip_client_get_attributes(c, uid, wanted, 1, &resp) == KMIP_CLIENT_OK) {
        const kmip_get_attributes_response *ga = resp->items[0].payload;
        for (const kmip_attribute *a = ga ? ga->attributes.first : NULL; a; a = a->next)
            if (a->tag == KMIP_TAG_STATE && a->value)
                st = a->value->v.u32;
    }
    kmip_message_free(resp);
    return st;
}

/* One child: waits for the pipe to close, then runs the CLI. */
static pid_t start_writer(const int gate[2], const char *config, const char *hex)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    close(gate[1]);
    char b;
    while (read(gate[0], &b, 1) < 0 && errno == EINTR) {
    }
    close(gate[0]);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
    }
    if (generate)
        execl(cli, cli, "generate", "k", "--type", "AES", "--length", "32", "--config", config,
              (char *)NULL);
    else
        execl(cli, cli, "store", "k", "--type", "SECRET", "--hex", hex, "--config", config,
              (char *)NULL);
    _exit(127);
}

static int wait_status(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static size_t wins, yields, both_failed;

static bool one_round(kmip_client *c, int round)
{
    char group[64], config[1200], hex[2][65];
    snprintf(group, sizeof group, "race-%d-%d", (int)getpid(), round);
    snprintf(config, sizeof config, "%s/race.cnf", E.dir);
    if (!fenv_write_keyring_config(&E, config, port, group, 10000, NULL, NULL))
        FAIL("cannot write %s", config);
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 32; i++)
            snprintf(hex[w] + 2 * i, 3, "%02x", (unsigned)(w * 100 + round + i) & 0xFF);
    int gate[2];
    if (pipe(gate) != 0)
        FAIL("pipe");
    pid_t pid[2];
    for (int w = 0; w < 2; w++)
        pid[w] = start_writer(gate, config, hex[w]);
    close(gate[0]);
    close(gate[1]); /* both go */
    int status[2] = {wait_status(pid[0]), wait_status(pid[1])};
    int ok = (status[0] == 0) + (status[1] == 0);
    for (int w = 0; w < 2; w++)
        if (status[w] != 0 && status[w] != 6 && status[w] != 3)
            FAIL("writer %d exited with %d", w, status[w]);
    if (ok == 2)
        FAIL("both writers succeeded");
    if (ok == 0)
        both_failed++;
    else
        wins++;
    yields += (size_t)((status[0] == 6) + (status[1] == 6));
    /* the server: exactly one Active object when one won, no Pre-Active */
    listing l = {.count = 0};
    kmip_locate_filter f = {.object_group = group};
    if (kmip_client_locate(c, &f, take, &l) != KMIP_CLIENT_OK)
        FAIL("locate: %s", kmip_client_error_message(c));
    size_t active = 0, other = 0;
    const char *winner = NULL;
    for (size_t i = 0; i < l.count; i++) {
        uint32_t st = state_of(c, l.uid[i]);
        if (st == KMIP_STATE_ACTIVE) {
            active++;
            winner = l.uid[i];
        } else {
            other++;
        }
    }
    if (active != (size_t)ok || other != 0)
        FAIL("%d writer(s) succeeded (exit %d and %d); the server holds %zu Active and %zu "
             "other objects", ok, status[0], status[1], active, other);
    if (ok == 1) {
        uint8_t *want = NULL, got[64];
        size_t want_len = 0;
        uint32_t type;
        if (kmip_client_get_key(c, winner, &want, &want_len, &type) != KMIP_CLIENT_OK)
            FAIL("get %s: %s", winner, kmip_client_error_message(c));
        if (!generate) {
            int w = status[0] == 0 ? 0 : 1;
            for (size_t i = 0; i < want_len && i < 32; i++) {
                char b[3];
                snprintf(b, sizeof b, "%02x", want[i]);
                if (memcmp(b, hex[w] + 2 * i, 2) != 0 || want_len != 32) {
                    kmip_secure_free(want, want_len);
                    FAIL("the Active object does not hold the winner's bytes");
                }
            }
        }
        /* a fresh load serves exactly those bytes */
        krk_config cfg;
        krk_diag d;
        krk_keyring *k = NULL;
        krk_reader *r = NULL;
        size_t len = 0, tl;
        char t[16];
        bool same = krk_config_read(config, &cfg, &d) == KRK_OK &&
                    krk_open(&cfg, &k, &d) == KRK_OK &&
                    krk_reader_init(k, "k", "", &r) == KRK_OK &&
                    krk_reader_fetch(r, got, sizeof got, &len, t, sizeof t, &tl) == KRK_OK &&
                    len == want_len && memcmp(got, want, len) == 0;
        krk_reader_deinit(r);
        krk_close(k);
        kmip_secure_free(want, want_len);
        if (!same)
            FAIL("a fresh load does not return the winner's bytes (%s)", d.error);
        if (kmip_client_revoke_destroy(c, winner) != KMIP_CLIENT_OK)
            FAIL("cleanup of %s: %s", winner, kmip_client_error_message(c));
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: test_race FIXTURE_DIR KEYRING_KMIP store|generate ROUNDS "
                        "[TEST_SERVER]\n");
        return 2;
    }
    cli = argv[2];
    generate = strcmp(argv[3], "generate") == 0;
    int rounds = atoi(argv[4]);
    char name[64];
    snprintf(name, sizeof name, "race-%s-%s", argv[3], argc == 6 ? "kts" : "pykmip");
    if (!fenv_init(&E, argv[1], name, argc == 6 ? argv[5] : "", ""))
        return 2;
    if (argc == 6) {
        E.stateless = true;
        if (!fenv_server_start(&E))
            return 2;
        port = E.server_port;
    } else {
        port = fenv_fixture_port(argv[1]);
    }
    kmip_client *c = raw_client();
    bool ok = c != NULL;
    long long t0 = fenv_now_ms();
    int round = 0;
    for (; ok && round < rounds; round++)
        ok = one_round(c, round);
    kmip_client_free(c);
    if (argc == 6)
        fenv_stop(&E);
    printf("%s against %s: %d rounds, %zu won by one writer (the other yielding %zu times), "
           "%zu with both failing, %.1f s\n", argv[3], argc == 6 ? "the test server" : "PyKMIP",
           round, wins, yields, both_failed, (double)(fenv_now_ms() - t0) / 1000);
    return ok ? 0 : 1;
}

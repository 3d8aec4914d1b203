/* SPDX-License-Identifier: GPL-2.0-only */
/* Listing a group while another process destroys and creates objects in
 * it, in real processes (review s4b R4-1/R4-2: offset paging skipped one
 * object per object destroyed on a page already read). The lister's server
 * lists newest first, as PyKMIP does, so every Destroy of a newer object
 * shifts the older ones down, and every Create shifts everything.
 *
 * The group holds stable keys (never removed) and, made after them (so
 * listed before them), victims. A writer process (this program run as
 * "writer") removes the oldest victim and stores a new one, in turn, from a
 * "go" to a "stop" on its stdin, and then reports what it removed and
 * stored. In between, the lister
 *  - opens a keyring (krk_open: the load's paged Locate and the Gets) and
 *  - runs a paged Locate of pages of 3 with the client library,
 * and after each round checks: every key that existed during the whole
 * round (the stable ones, the victims before the round not removed in it)
 * was loaded, and every object the server listed before and after the
 * round was located; or the Locate failed loudly saying the list kept
 * changing (never a short list reported as success).
 *
 * Against the test server, its fault locate_newest_first=3 gives PyKMIP's
 * order with pages of 3 for every Locate (the load's 256 included).
 * Against PyKMIP (its own order; Maximum Items honoured) the load takes
 * one page, so only the client's paged Locate pages there.
 *
 * Usage: test_locate_race FIXTURE_DIR ROUNDS [TEST_SERVER]
 * (without TEST_SERVER: the fixture's PyKMIP server). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fault_env.h"
#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"

/* the stable keys and the victims: fewer against PyKMIP, whose Locate
 * evaluates every object of its shared database */
static int stable_n = 12, victims_n = 12, loads_n = 2;
#define MAX_NAMES 4096
#define PAGE 3

static fenv E;
static unsigned port;
static char config[1200], group[64];

static krk_keyring *open_keyring(krk_diag *d)
{
    krk_config cfg;
    krk_keyring *k = NULL;
    if (krk_config_read(config, &cfg, d) != KRK_OK || krk_open(&cfg, &k, d) != KRK_OK)
        return NULL;
    return k;
}

static bool store(krk_keyring *k, const char *name, unsigned seed)
{
    uint8_t key[32];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(seed * 31u + i);
    return krk_store(k, name, "", key, sizeof key, "AES") == KRK_OK;
}

/* ---- the writer (its own process, its own keyring) ---- */

static int writer(void)
{
    signal(SIGPIPE, SIG_IGN);
    krk_diag d;
    krk_keyring *k = open_keyring(&d);
    if (k == NULL) {
        fprintf(stderr, "writer: open: %s\n", d.error);
        return 2;
    }
    static char alive[MAX_NAMES][16];
    size_t first = 0, last = 0, made = 0;
    for (; last < (size_t)victims_n; last++) /* a ring: alive[i % MAX_NAMES] */
        snprintf(alive[last], sizeof alive[last], "v%u", (unsigned)last);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "go", 2) != 0)
            break;
        static char removed[8192], stored[8192];
        size_t rl = 0, sl = 0;
        removed[0] = stored[0] = '\0';
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        bool destroy = true;
        /* until "stop" arrives, at most 400 writes a round */
        for (int ops = 0; poll(&p, 1, 0) == 0 && ops < 400; ops++) {
            char *victim = alive[first % MAX_NAMES];
            if (destroy && first < last) {
                /* reported whatever the outcome: a failed removal may have
                 * destroyed the object all the same */
                if (krk_remove(k, victim, "") != KRK_OK && getenv("LOCATE_RACE_DEBUG"))
                    fprintf(stderr, "writer: remove %s: %s\n", victim, krk_last_error(k));
                rl += (size_t)snprintf(removed + rl, sizeof removed - rl, " %s", victim);
                first++;
            } else if (!destroy) {
                char *fresh = alive[last % MAX_NAMES];
                snprintf(fresh, sizeof alive[0], "w%u", (unsigned)(made++ % 1000000));
                if (store(k, fresh, (unsigned)(1000 + made)))
                    sl += (size_t)snprintf(stored + sl, sizeof stored - sl, " %s", fresh);
                last++;
            }
            destroy = !destroy;
        }
        if (!fgets(line, sizeof line, stdin)) /* the "stop" */
            break;
        printf("removed%s\nstored%s\n", removed, stored);
        fflush(stdout);
    }
    krk_close(k);
    return 0;
}

/* ---- the lister ---- */

typedef struct names {
    char v[MAX_NAMES][16];
    size_t n;
} names;

static bool names_has(const names *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

static void names_add(names *s, const char *x)
{
    if (s->n < MAX_NAMES && !names_has(s, x))
        snprintf(s->v[s->n++], sizeof s->v[0], "%s", x);
}

static void names_remove(names *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0) {
            memmove(s->v[i], s->v[i + 1], (s->n - i - 1) * sizeof s->v[0]);
            s->n--;
            return;
        }
}

typedef struct uids {
    char v[MAX_NAMES][64];
    size_t n;
    bool twice;
} uids;

static bool uids_has(const uids *u, const char *x)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->v[i], x) == 0)
            return true;
    return false;
}

static bool take(void *ctx, const char *uid, size_t len)
{
    uids *u = ctx;
    char s[64];
    if (len >= sizeof s || u->n == MAX_NAMES)
        return false;
    memcpy(s, uid, len);
    s[len] = '\0';
    u->twice |= uids_has(u, s);
    snprintf(u->v[u->n++], sizeof u->v[0], "%s", s);
    return true;
}

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

static kmip_client_err locate(kmip_client *c, int32_t page, uids *out)
{
    kmip_locate_filter f = {0};
    f.object_group = group;
    f.page_size = page;
    out->n = 0;
    out->twice = false;
    return kmip_client_locate(c, &f, take, out);
}

static bool changing(const char *message)
{
    return strstr(message, "kept changing") != NULL || strstr(message, "keeps making") != NULL;
}

static size_t loads_ok, loads_refused, locates_ok, locates_refused, writes_removed,
    writes_stored;

static bool round_of(int round, FILE *to, FILE *from, kmip_client *c, names *alive)
{
    static uids before, after, during;
    static names removed, stored;
    if (locate(c, 0, &before) != KMIP_CLIENT_OK) {
        fprintf(stderr, "round %d: Locate before: %s\n", round, kmip_client_error_message(c));
        return false;
    }
    fputs("go\n", to);
    fflush(to);
    krk_keyring *loads[2] = {NULL, NULL};
    krk_diag d[2];
    for (int i = 0; i < loads_n; i++)
        loads[i] = open_keyring(&d[i]);
    kmip_client_err le = locate(c, PAGE, &during);
    char lmsg[768];
    snprintf(lmsg, sizeof lmsg, "%s", le == KMIP_CLIENT_OK ? "" : kmip_client_error_message(c));
    fputs("stop\n", to);
    fflush(to);
    char line[16384];
    removed.n = stored.n = 0;
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        if (!fgets(line, sizeof line, from)) {
            fprintf(stderr, "round %d: the writer ended\n", round);
            return false;
        }
        line[strcspn(line, "\n")] = '\0';
        bool is_removed = strncmp(line, "removed", 7) == 0;
        for (char *t = strtok(line + (is_removed ? 7 : 6), " "); t; t = strtok(NULL, " "))
            names_add(is_removed ? &removed : &stored, t);
    }
    /* what existed during the whole round: every key alive at its start
     * the writer did not remove */
    for (int i = 0; i < loads_n; i++) {
        if (loads[i] == NULL) {
            if (!changing(d[i].error)) {
                fprintf(stderr, "round %d: load failed: %s\n", round, d[i].error);
                ok = false;
            }
            loads_refused++;
            continue;
        }
        for (size_t j = 0; j < alive->n && ok; j++) {
            if (names_has(&removed, alive->v[j]))
                continue;
            krk_reader *r = NULL;
            if (krk_reader_init(loads[i], alive->v[j], "", &r) != KRK_OK || r == NULL) {
                fprintf(stderr, "round %d: key \"%s\" existed throughout and was not loaded "
                                "(%zu keys loaded)\n", round, alive->v[j],
                        krk_key_count(loads[i]));
                if (getenv("LOCATE_RACE_DEBUG")) {
                    fprintf(stderr, "  removed:");
                    for (size_t x = 0; x < removed.n; x++)
                        fprintf(stderr, " %s", removed.v[x]);
                    fprintf(stderr, "\n  stored:");
                    for (size_t x = 0; x < stored.n; x++)
                        fprintf(stderr, " %s", stored.v[x]);
                    fprintf(stderr, "\n  before:");
                    for (size_t x = 0; x < before.n; x++)
                        fprintf(stderr, " %s", before.v[x]);
                    fprintf(stderr, "\n");
                }
                for (size_t w = 0; w < d[i].warning_count; w++)
                    fprintf(stderr, "  load warning: %s\n", d[i].warnings[w]);
                ok = false;
            }
            krk_reader_deinit(r);
        }
        loads_ok++;
        krk_close(loads[i]);
    }
    if (locate(c, 0, &after) != KMIP_CLIENT_OK) {
        fprintf(stderr, "round %d: Locate after: %s\n", round, kmip_client_error_message(c));
        return false;
    }
    if (le == KMIP_CLIENT_OK) {
        locates_ok++;
        if (during.twice) {
            fprintf(stderr, "round %d: an identifier handed on twice\n", round);
            ok = false;
        }
        /* listed before and after: there throughout (identifiers are not
         * reused: the writer removes the oldest victim, never the newest) */
        for (size_t j = 0; j < before.n && ok; j++)
            if (uids_has(&after, before.v[j]) && !uids_has(&during, before.v[j])) {
                fprintf(stderr, "round %d: object \"%s\" existed throughout and was not "
                                "located (%zu located in pages of %d)\n", round, before.v[j],
                        during.n, PAGE);
                ok = false;
            }
    } else if (changing(lmsg)) {
        locates_refused++;
    } else {
        fprintf(stderr, "round %d: paged Locate failed: %s\n", round, lmsg);
        ok = false;
    }
    writes_removed += removed.n;
    writes_stored += stored.n;
    for (size_t j = 0; j < stored.n; j++) /* some stored and removed in the round */
        names_add(alive, stored.v[j]);
    for (size_t j = 0; j < removed.n; j++)
        names_remove(alive, removed.v[j]);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "writer") == 0) {
        snprintf(config, sizeof config, "%s", argv[2]);
        victims_n = atoi(argv[3]);
        return writer();
    }
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: test_locate_race FIXTURE_DIR ROUNDS [TEST_SERVER]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int rounds = atoi(argv[2]);
    bool ours = argc == 4;
    if (!ours) {
        stable_n = victims_n = 6;
        loads_n = 1; /* one page of 256 there: the paged Locate is what pages */
    }
    if (!fenv_init(&E, argv[1], ours ? "locate-race-kts" : "locate-race-pykmip",
                   ours ? argv[3] : "", ""))
        return 2;
    if (ours) {
        E.stateless = true;
        if (!fenv_server_start(&E))
            return 2;
        port = E.server_port;
        char out[64];
        if (!fenv_ctl(E.server_ctl, "fault locate_newest_first=3 op=Locate times=0", out,
                      sizeof out) || strncmp(out, "ok", 2) != 0) {
            fprintf(stderr, "arming locate_newest_first: %s\n", out);
            fenv_stop(&E);
            return 2;
        }
    } else {
        port = fenv_fixture_port(argv[1]);
    }
    snprintf(group, sizeof group, "locate-race-%d", (int)getpid());
    snprintf(config, sizeof config, "%s/locate-race.cnf", E.dir);
    int status = 1;
    pid_t pid = -1;
    FILE *to = NULL, *from = NULL;
    kmip_client *c = raw_client();
    static names alive;
    krk_diag d;
    krk_keyring *k = NULL;
    long long t0 = fenv_now_ms();
    int round = 0;
    if (c == NULL || !fenv_write_keyring_config(&E, config, port, group, 10000, NULL, NULL) ||
        (k = open_keyring(&d)) == NULL) {
        fprintf(stderr, "setup: %s\n", c ? d.error : "no client");
        goto out;
    }
    /* the stable keys first, then the victims: newer, listed before them */
    for (int i = 0; i < stable_n + victims_n; i++) {
        char name[16];
        snprintf(name, sizeof name, i < stable_n ? "s%d" : "v%d", i < stable_n ? i : i - stable_n);
        if (!store(k, name, (unsigned)i)) {
            fprintf(stderr, "setup: store %s: %s\n", name, krk_last_error(k));
            goto out;
        }
        names_add(&alive, name);
    }
    krk_close(k);
    k = NULL;
    printf("setup: %d keys stored in %.1f s\n", stable_n + victims_n,
           (double)(fenv_now_ms() - t0) / 1000);
    int in[2], back[2];
    if (pipe(in) != 0 || pipe(back) != 0)
        goto out;
    pid = fork();
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(back[1], STDOUT_FILENO);
        close(in[0]);
        close(in[1]);
        close(back[0]);
        close(back[1]);
        char victims[16];
        snprintf(victims, sizeof victims, "%d", victims_n);
        execl("/proc/self/exe", argv[0], "writer", config, victims, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(back[1]);
    to = fdopen(in[1], "w");
    from = fdopen(back[0], "r");
    if (pid < 0 || to == NULL || from == NULL)
        goto out;
    bool ok = true;
    for (; ok && round < rounds; round++)
        ok = round_of(round, to, from, c, &alive);
    status = ok ? 0 : 1;
    printf("%d rounds against %s: loads %zu complete, %zu refused as a list that kept changing; "
           "paged Locates (pages of %d) %zu complete, %zu refused; the writer removed %zu "
           "keys and stored %zu meanwhile; %.1f s\n", round,
           ours ? "the test server (newest first, pages of 3)" : "PyKMIP", loads_ok,
           loads_refused, PAGE, locates_ok, locates_refused, writes_removed, writes_stored,
           (double)(fenv_now_ms() - t0) / 1000);
    /* never vacuous: some listings must complete */
    if (ok && (loads_ok == 0 || locates_ok == 0)) {
        fprintf(stderr, "too few complete listings to say anything\n");
        status = 1;
    }
out:
    if (to)
        fclose(to); /* the writer's stdin ends: it closes and exits */
    if (pid > 0) {
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            status = 1;
    }
    if (from)
        fclose(from);
    /* the group's keys leave the server (PyKMIP's shared database): with
     * the writer gone, a keyring of the group removes what it loaded */
    krk_close(k);
    k = open_keyring(&d);
    for (size_t j = 0; k && j < alive.n; j++)
        if (krk_remove(k, alive.v[j], "") != KRK_OK)
            fprintf(stderr, "cleanup: remove %s: %s\n", alive.v[j], krk_last_error(k));
    krk_close(k);
    kmip_client_free(c);
    if (ours)
        fenv_stop(&E);
    return status;
}

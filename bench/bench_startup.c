/* SPDX-License-Identifier: GPL-2.0-only */
/* Keyring startup with N keys in an object group, through the fault proxy
 * adding LATENCY_US each way (default 500: a 1 ms round trip), against our
 * KMIP test server, in one run, these patterns (all with our client
 * library, so that only the access pattern differs):
 *  - ours: krk_open (connect, Discover Versions, Locate pages of 256, then
 *    Get + Get Attributes for 41 keys per request message: load.c's
 *    batch_len for these identifiers);
 *  - "Percona G1 pattern" (kmippp, Percona-Lab/libkmip's first generation):
 *    one TLS connection per backend call, three of them; each enumerates
 *    the group with Locate in pages of 16 (until a short page); on the
 *    third, for every key a Get message and a Get Attributes (Name) message;
 *  - "Percona G3 pattern" (kmipclient): one TLS connection; Locate pages of
 *    256, then for every key one request message holding {Get, Get
 *    Attributes (Name)};
 *  - C connections with up to W batch request messages in flight on each
 *    (pipelined_load below: pipelining, measured against the keyring's
 *    parallel connections with the same code).
 * Request messages and TLS connections are the test server's own counters
 * ("stats" on its control port, before and after), not formulas; the round
 * trip is measured (a Get through the proxy against the same Get direct),
 * and the test server's CPU time (/proc/PID/stat) during each load is given
 * as a share of the load's wall time (with this process's and the fault
 * proxy's CPU time in a note).
 * Seconds, median of RUNS runs with min and max (THEIR_RUNS for G1 and G3;
 * 0 leaves them out); and the resident memory of a process holding a
 * keyring of the N keys: measured in HOLD_RUNS fresh processes (this
 * program re-executed in its hold mode: read the configuration, krk_open
 * through the proxy, VmRSS, exit), so that neither the fill nor the other
 * patterns' heap is in the figure.
 * PYKMIP_KEYS > 0 also loads that many keys from the fixture's PyKMIP with
 * krk_open and pipelined_load (pykmip_check).
 * Usage: bench_startup FIXTURE_DIR TEST_SERVER FAULT_PROXY N [RUNS] [LATENCY_US] [THEIR_RUNS]
 *        [PYKMIP_KEYS]
 *        bench_startup --hold CONFIG N (the hold mode: prints one HOLD line) */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../src/keyring/state.h" /* the keyring's per-key work, for the pipelined pattern */
#include "../tests/reliability/fault_env.h"
#include "bench_util.h"
#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"

static fenv E;
static char group[64];

static krk_config config_for(unsigned port)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/startup-%u.cnf", E.dir, port);
    if (!fenv_write_keyring_config(&E, path, port, group, 60000, NULL, NULL))
        exit(1);
    krk_config cfg;
    krk_diag d;
    if (krk_config_read(path, &cfg, &d) != KRK_OK) {
        fprintf(stderr, "%s\n", d.error);
        exit(1);
    }
    return cfg;
}

static void fill(unsigned port, int n)
{
    krk_config cfg = config_for(port);
    krk_keyring *k;
    krk_diag d;
    if (krk_open(&cfg, &k, &d) != KRK_OK) {
        fprintf(stderr, "%s\n", d.error);
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        char id[32];
        uint8_t material[32];
        snprintf(id, sizeof id, "key-%05d", i);
        memset(material, i & 0xFF, sizeof material);
        if (krk_store(k, id, "", material, sizeof material, "AES") != KRK_OK) {
            fprintf(stderr, "%s\n", krk_last_error(k));
            exit(1);
        }
    }
    krk_close(k);
}

/* ---- counters ---- */

typedef struct counters {
    unsigned long requests, connections;
    double server_cpu; /* seconds */
    double proxy_cpu;  /* the fault proxy's, seconds */
} counters;

static double cpu_of(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    double s = 0;
    if (f && fgets(line, sizeof line, f)) {
        char *p = strrchr(line, ')'); /* fields after the command name */
        unsigned long ut = 0, st = 0;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                        &st) == 2)
            s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    if (f)
        fclose(f);
    return s;
}

static counters read_counters(void)
{
    char out[160];
    counters c = {0, 0, 0, 0};
    if (!fenv_ctl(E.server_ctl, "stats", out, sizeof out) ||
        sscanf(out, "requests=%lu connections=%lu", &c.requests, &c.connections) != 2) {
        fprintf(stderr, "test server stats: %s\n", out);
        exit(1);
    }
    c.server_cpu = cpu_of(E.server_pid);
    c.proxy_cpu = cpu_of(E.proxy_pid);
    return c;
}

static counters since(counters before)
{
    counters now = read_counters();
    return (counters){now.requests - before.requests, now.connections - before.connections,
                      now.server_cpu - before.server_cpu, now.proxy_cpu - before.proxy_cpu};
}

/* ---- our client library, the access patterns of Percona's clients ---- */

typedef struct uids {
    char (*ids)[64];
    size_t count, cap;
} uids;

static bool add_uid(void *ctx, const char *uid, size_t len)
{
    uids *u = ctx;
    if (u->count == u->cap || len >= sizeof u->ids[0])
        return false;
    memcpy(u->ids[u->count], uid, len);
    u->ids[u->count++][len] = '\0';
    return true;
}

static kmip_client *connect_to(unsigned port)
{
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL || kmip_client_options_set_server(o, "127.0.0.1", port) ||
        kmip_client_options_set_ca(o, E.ca) || kmip_client_options_set_cert(o, E.cert, E.key))
        exit(1);
    kmip_client_options_pin_version(o, KMIP_VERSION(1, 4)); /* no negotiation, as libkmip */
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    if (c == NULL)
        exit(1);
    return c;
}

static void locate_all(kmip_client *c, uids *u, int32_t page)
{
    kmip_locate_filter f = {0};
    f.object_group = group;
    f.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    f.state = KMIP_STATE_ACTIVE;
    f.page_size = page;
    u->count = 0;
    if (kmip_client_locate(c, &f, add_uid, u) != KMIP_CLIENT_OK) {
        fprintf(stderr, "Locate: %s\n", kmip_client_error_message(c));
        exit(1);
    }
}

static const uint32_t name_tag[] = {KMIP_TAG_NAME};

/* Percona G1 (kmippp): a connection per backend call. */
static void g1_load(int n)
{
    uids u = {malloc((size_t)n * sizeof *u.ids), 0, (size_t)n};
    if (u.ids == NULL)
        exit(1);
    kmip_client *c = NULL;
    for (int call = 0; call < 3; call++) {
        c = connect_to(E.proxy_port);
        locate_all(c, &u, 16);
        if (u.count != (size_t)n) {
            fprintf(stderr, "G1 Locate found %zu of %d\n", u.count, n);
            exit(1);
        }
        if (call < 2)
            kmip_client_free(c);
    }
    for (size_t i = 0; i < u.count; i++) {
        uint8_t *key;
        size_t len;
        if (kmip_client_get_key(c, u.ids[i], &key, &len, NULL) != KMIP_CLIENT_OK)
            exit(1);
        kmip_secure_free(key, len);
        kmip_message *resp = NULL;
        if (kmip_client_get_attributes(c, u.ids[i], name_tag, 1, &resp) != KMIP_CLIENT_OK)
            exit(1);
        kmip_message_free(resp);
    }
    kmip_client_free(c);
    free(u.ids);
}

/* Percona G3 (kmipclient): one connection, {Get, Get Attributes} per key. */
static void g3_load(int n)
{
    uids u = {malloc((size_t)n * sizeof *u.ids), 0, (size_t)n};
    if (u.ids == NULL)
        exit(1);
    kmip_client *c = connect_to(E.proxy_port);
    locate_all(c, &u, 256);
    if (u.count != (size_t)n)
        exit(1);
    for (size_t i = 0; i < u.count; i++) {
        kmip_message *req, *resp = NULL;
        if (kmip_client_request(c, &req) != KMIP_CLIENT_OK ||
            kmip_req_add_get(req, u.ids[i], 0) != KMIP_CLIENT_OK ||
            kmip_req_add_get_attributes(req, u.ids[i], name_tag, 1) != KMIP_CLIENT_OK ||
            kmip_client_call(c, req, &resp) != KMIP_CLIENT_OK) {
            fprintf(stderr, "G3: %s\n", kmip_client_error_message(c));
            exit(1);
        }
        kmip_message_free(req);
        kmip_message_free(resp);
    }
    kmip_client_free(c);
    free(u.ids);
}

/* ---- C connections, each with up to W batch request messages in flight ----
 * Measured, not in the library: the client has no pipelining API, so the
 * bench builds both schemes from the same public pieces (request builders,
 * kmip_message_encode, its own OpenSSL connections, kmip_framer,
 * kmip_message_decode), so that only the scheme differs:
 *  - the first connection: mutual TLS (the server's certificate and IP
 *    verified), Discover Versions as the keyring sends it, then Locate of
 *    Symmetric Keys and then of Secret Data in the group, any state, pages
 *    of 256 paged as the client pages them (until an empty page, or a short
 *    one after which Located Items says nothing follows); a page is written
 *    as soon as the previous page's answer says where it starts;
 *  - above 200 listed keys the C - 1 other connections are opened, each on
 *    its own thread, while the keys are listed (as load.c's helpers), and
 *    pinned to the version the first one negotiated; with several
 *    connections the first one only lists until the list is complete (as
 *    load.c's main connection), alone it fetches while it lists;
 *  - every connection fills its window of W request messages with the next
 *    Get + Get Attributes (Name, Application Specific Information, Object
 *    Type, State) batch of 41 keys, as load.c builds it (Raw for keys,
 *    Batch Error Continuation Continue), writing up to W messages before
 *    reading their answers; answers are read in order, each checked (Batch
 *    Count the number of items, one item per request item, every item
 *    Success, the operation and the Unique Identifier of each answer the
 *    ones asked for) and its keys taken into a keyring cache with the
 *    keyring's own per-key work (kmip_object_key_material, krk_identify,
 *    krk_cache_find, krk_key_new, krk_cache_insert), under one lock as in
 *    load.c. Every buffer that held key bytes is wiped (kmip_secure_free,
 *    kmip_message_free, OPENSSL_cleanse).
 * C = 4, W = 1 is the keyring's scheme rebuilt with these pieces (a check
 * that the pieces cost what the library does); C = 1 is pipelining on one
 * connection, C = 2 pipelining with the listing on a connection of its own
 * (no Locate page waits behind batches on the same connection). What
 * krk_open does besides (reading no configuration here, the certificate
 * expiry checks, the Locate's duplicate-identifier set, progress calls) is
 * left out of these figures. */

#define PIPE_MAX 16
#define PIPE_CONNS 8
/* load.c's batches for these identifiers: at most 50 keys, and an answer
 * for keys of the largest size under 1 MiB (batch_len): 41 */
#define PIPE_KEYS 41
#define PIPE_PAGE 256
#define PIPE_HELPERS_AFTER 200

typedef struct pipe_req {
    bool locate;
    size_t n; /* a batch: its keys */
    char *ids[PIPE_KEYS];
    uint32_t types[PIPE_KEYS];
} pipe_req;

typedef struct pipe_load pipe_load;

typedef struct pipe_conn {
    pipe_load *load;
    int index;
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
    kmip_framer *framer;
    uint8_t buf[16384];
    size_t pos, have;
    pipe_req q[PIPE_MAX]; /* the window, in the order written */
    size_t q_head, q_len;
    pthread_t thread;
} pipe_conn;

struct pipe_load {
    pthread_mutex_t lock;
    pthread_cond_t more; /* the list grew or listing ended */
    unsigned port, version;
    size_t conns, window;
    int started; /* connections with a thread */
    /* the list: the strings never move, the arrays may (under lock) */
    char **uids;
    uint32_t *types;
    size_t count, cap, next;
    int type_index; /* Locate: 0 Symmetric Key, 1 Secret Data, 2 listed */
    bool locate_in_flight;
    int32_t locate_offset;
    krk_cache cache;
    pipe_conn c[PIPE_CONNS];
};

static const uint32_t pipe_types[2] = {KMIP_OBJECT_TYPE_SYMMETRIC_KEY,
                                       KMIP_OBJECT_TYPE_SECRET_DATA};

static void pipe_die(const char *what)
{
    fprintf(stderr, "pipelined load: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static void pipe_connect(pipe_conn *p, unsigned port)
{
    p->ctx = SSL_CTX_new(TLS_client_method());
    if (p->ctx == NULL || SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(p->ctx, E.ca, NULL) != 1 ||
        SSL_CTX_use_certificate_chain_file(p->ctx, E.cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(p->ctx, E.key, SSL_FILETYPE_PEM) != 1)
        pipe_die("TLS context");
    SSL_CTX_set_verify(p->ctx, SSL_VERIFY_PEER, NULL);
    p->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (p->fd < 0 || connect(p->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        pipe_die("connect");
    p->ssl = SSL_new(p->ctx);
    if (p->ssl == NULL || SSL_set_fd(p->ssl, p->fd) != 1 ||
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(p->ssl), "127.0.0.1") != 1 ||
        SSL_connect(p->ssl) != 1 || SSL_get_verify_result(p->ssl) != X509_V_OK)
        pipe_die("TLS handshake (server certificate verified, IP 127.0.0.1)");
    p->framer = kmip_framer_new();
    if (p->framer == NULL)
        pipe_die("out of memory");
    kmip_framer_set_expected_tag(p->framer, KMIP_TAG_RESPONSE_MESSAGE);
}

static void pipe_close(pipe_conn *p)
{
    if (p->ssl) {
        SSL_shutdown(p->ssl);
        SSL_free(p->ssl);
        close(p->fd);
    }
    SSL_CTX_free(p->ctx);
    OPENSSL_cleanse(p->buf, sizeof p->buf);
    kmip_framer_free(p->framer);
}

static void pipe_write(pipe_conn *p, kmip_message *req)
{
    uint8_t *bytes;
    size_t len;
    if (kmip_message_encode(req, &bytes, &len) != KMIP_OK)
        pipe_die("encode");
    for (size_t off = 0; off < len;) {
        int w = SSL_write(p->ssl, bytes + off, (int)(len - off));
        if (w <= 0)
            pipe_die("write");
        off += (size_t)w;
    }
    kmip_secure_free(bytes, len);
    kmip_message_free(req);
}

/* The next answer on the connection, in order; what follows it stays in
 * p->buf for the next call. */
static kmip_message *pipe_read(pipe_conn *p)
{
    for (;;) {
        if (p->pos < p->have) {
            size_t used;
            if (kmip_framer_feed(p->framer, p->buf + p->pos, p->have - p->pos, &used) != KMIP_OK)
                pipe_die("framing the answer");
            p->pos += used;
        }
        if (kmip_framer_ready(p->framer))
            break;
        OPENSSL_cleanse(p->buf, p->have); /* what held answers */
        int r = SSL_read(p->ssl, p->buf, (int)sizeof p->buf);
        if (r <= 0)
            pipe_die("read");
        p->pos = 0;
        p->have = (size_t)r;
    }
    uint8_t *msg;
    size_t len;
    kmip_message *resp = NULL;
    kmip_msg_error err;
    if (kmip_framer_take(p->framer, &msg, &len) != KMIP_OK)
        pipe_die("framer");
    kmip_err de = kmip_message_decode(msg, len, &resp, &err);
    kmip_secure_free(msg, len);
    if (de != KMIP_OK || !resp->is_response)
        pipe_die(de != KMIP_OK ? err.detail : "not a response");
    if (resp->response_header.batch_count < 0 ||
        (size_t)resp->response_header.batch_count != resp->item_count)
        pipe_die("Batch Count is not the number of items");
    return resp;
}

static kmip_message *pipe_request(unsigned version)
{
    kmip_message *req = kmip_message_new(false, version);
    if (req == NULL)
        pipe_die("out of memory");
    req->request_header.protocol_version.major = (int32_t)(version >> 8);
    req->request_header.protocol_version.minor = (int32_t)(version & 0xFF);
    return req;
}

static unsigned pipe_discover(pipe_conn *p)
{
    static const unsigned ours[] = {KMIP_VERSION(2, 1), KMIP_VERSION(2, 0), KMIP_VERSION(1, 4),
                                    KMIP_VERSION(1, 3), KMIP_VERSION(1, 2), KMIP_VERSION(1, 1),
                                    KMIP_VERSION(1, 0)};
    size_t nv = sizeof ours / sizeof ours[0];
    kmip_message *req = pipe_request(KMIP_VERSION(1, 1));
    kmip_batch_item *bi = kmip_message_add_item(req, KMIP_OPERATION_DISCOVER_VERSIONS);
    kmip_discover_versions_request *dv = bi ? bi->payload : NULL;
    if (dv == NULL || (dv->versions = kmip_message_alloc(req, nv * sizeof *dv->versions)) == NULL)
        pipe_die("out of memory");
    for (size_t i = 0; i < nv; i++) {
        dv->versions[i].major = (int32_t)(ours[i] >> 8);
        dv->versions[i].minor = (int32_t)(ours[i] & 0xFF);
    }
    dv->version_count = nv;
    pipe_write(p, req);
    kmip_message *resp = pipe_read(p);
    const kmip_discover_versions_response *r = resp->item_count == 1 ? resp->items[0].payload
                                                                      : NULL;
    if (r == NULL || resp->items[0].result_status != KMIP_RESULT_STATUS_SUCCESS ||
        r->version_count == 0 || r->versions[0].major < 1 || r->versions[0].minor < 0)
        pipe_die("Discover Versions");
    unsigned v = KMIP_VERSION((unsigned)r->versions[0].major, (unsigned)r->versions[0].minor);
    kmip_message_free(resp);
    return v;
}

static void pipe_send_locate(pipe_load *l, pipe_conn *p, int type_index, int32_t offset)
{
    kmip_message *req = pipe_request(l->version);
    kmip_batch_item *bi = kmip_message_add_item(req, KMIP_OPERATION_LOCATE);
    kmip_locate_request *r = bi ? bi->payload : NULL;
    kmip_tree *arena = kmip_message_arena(req);
    kmip_item *holder = kmip_message_arena_root(req);
    if (r == NULL || holder == NULL)
        pipe_die("out of memory");
    r->attributes.present = true;
    kmip_item *t = kmip_add_enum(arena, holder, KMIP_TAG_OBJECT_TYPE, pipe_types[type_index]);
    kmip_item *g = kmip_add_text(arena, holder, KMIP_TAG_OBJECT_GROUP, group, strlen(group));
    if (t == NULL || g == NULL ||
        kmip_attr_append(req, &r->attributes, KMIP_TAG_OBJECT_TYPE, t) == NULL ||
        kmip_attr_append(req, &r->attributes, KMIP_TAG_OBJECT_GROUP, g) == NULL)
        pipe_die("out of memory");
    r->has_maximum_items = true;
    r->maximum_items = PIPE_PAGE;
    r->has_offset_items = offset > 0;
    r->offset_items = offset;
    pipe_write(p, req);
}

static void pipe_send_batch(pipe_load *l, pipe_conn *p, const pipe_req *q)
{
    static const uint32_t wanted[] = {KMIP_TAG_NAME, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION,
                                      KMIP_TAG_OBJECT_TYPE, KMIP_TAG_STATE};
    kmip_message *req = pipe_request(l->version);
    req->request_header.has_batch_error_continuation_option = true; /* as the client does */
    req->request_header.batch_error_continuation_option =
        KMIP_BATCH_ERROR_CONTINUATION_OPTION_CONTINUE;
    for (size_t i = 0; i < q->n; i++) {
        uint32_t format = q->types[i] == KMIP_OBJECT_TYPE_SYMMETRIC_KEY ? KMIP_KEY_FORMAT_TYPE_RAW
                                                                        : 0;
        if (kmip_req_add_get(req, q->ids[i], format) != KMIP_CLIENT_OK ||
            kmip_req_add_get_attributes(req, q->ids[i], wanted, 4) != KMIP_CLIENT_OK)
            pipe_die("out of memory");
    }
    pipe_write(p, req);
}

static bool uid_is(const kmip_uid *u, const char *uid)
{
    size_t n = strlen(uid);
    return !u->is_enum && u->text.len == n && memcmp(u->text.data, uid, n) == 0;
}

static void *pipe_main(void *arg);

/* A Locate page into the list (lock held). */
static void pipe_take_locate(pipe_load *l, kmip_message *resp)
{
    const kmip_locate_response *r = resp->item_count == 1 ? resp->items[0].payload : NULL;
    if (r == NULL || resp->items[0].result_status != KMIP_RESULT_STATUS_SUCCESS ||
        resp->items[0].operation != KMIP_OPERATION_LOCATE ||
        r->unique_identifier_count > PIPE_PAGE)
        pipe_die("Locate answer");
    for (size_t i = 0; i < r->unique_identifier_count; i++) {
        if (l->count == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 256;
            l->uids = realloc(l->uids, l->cap * sizeof *l->uids);
            l->types = realloc(l->types, l->cap * sizeof *l->types);
            if (l->uids == NULL || l->types == NULL)
                pipe_die("out of memory");
        }
        const kmip_uid *u = &r->unique_identifiers[i];
        if (u->is_enum || (l->uids[l->count] = strndup((const char *)u->text.data,
                                                       u->text.len)) == NULL)
            pipe_die("Locate identifier");
        l->types[l->count++] = pipe_types[l->type_index];
    }
    size_t got = r->unique_identifier_count;
    bool last = got == 0 || (got < PIPE_PAGE && r->has_located_items &&
                             (size_t)l->locate_offset + got >= (size_t)r->located_items);
    l->locate_in_flight = false;
    if (last) {
        l->type_index++;
        l->locate_offset = 0;
    } else {
        l->locate_offset += (int32_t)got;
    }
    /* the other connections, opened while the keys are listed */
    while (l->started < (int)l->conns && l->count > PIPE_HELPERS_AFTER) {
        pipe_conn *h = &l->c[l->started];
        if (pthread_create(&h->thread, NULL, pipe_main, h) != 0)
            pipe_die("thread");
        l->started++;
    }
    pthread_cond_broadcast(&l->more);
}

/* A batch's keys into the cache (lock held). */
static void pipe_take_batch(pipe_load *l, const pipe_req *q, kmip_message *resp)
{
    if (resp->item_count != 2 * q->n)
        pipe_die("batch answer: not one item per request item");
    for (size_t i = 0; i < q->n; i++) {
        const char *uid = q->ids[i];
        const kmip_batch_item *get = &resp->items[2 * i], *attrs = &resp->items[2 * i + 1];
        const kmip_get_response *g = get->payload;
        const kmip_get_attributes_response *ga = attrs->payload;
        if (get->result_status != KMIP_RESULT_STATUS_SUCCESS ||
            attrs->result_status != KMIP_RESULT_STATUS_SUCCESS ||
            get->operation != KMIP_OPERATION_GET ||
            attrs->operation != KMIP_OPERATION_GET_ATTRIBUTES || g == NULL || ga == NULL ||
            !uid_is(&g->unique_identifier, uid) || !uid_is(&ga->unique_identifier, uid))
            pipe_die("batch answer: an item failed or answers another object");
        /* the keyring's per-key work (load.c, take) */
        const uint8_t *material;
        size_t len;
        krk_key_type type;
        char *data_id, *auth_id;
        if (!kmip_object_key_material(&g->object, &material, &len) ||
            !krk_identify(ga, g->object_type, &type, &data_id, &auth_id, NULL, NULL))
            pipe_die("not a key of ours");
        uint32_t state = 0;
        for (const kmip_attribute *a = ga->attributes.first; a; a = a->next)
            if (a->tag == KMIP_TAG_STATE && a->value && a->value->type == KMIP_TYPE_ENUMERATION)
                state = a->value->v.u32;
        if (krk_cache_find(&l->cache, data_id, auth_id) != NULL)
            pipe_die("duplicate key");
        krk_key *k = krk_key_new(data_id, auth_id, type, material, len, uid);
        if (k)
            k->state = state;
        if (k == NULL || !krk_cache_insert(&l->cache, k))
            pipe_die("out of memory");
        free(data_id);
        free(auth_id);
    }
}

/* One connection's loop: its window filled, its answers read in order. */
static void pipe_run(pipe_conn *p)
{
    pipe_load *l = p->load;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (p->q_len < l->window) {
            pipe_req *q = &p->q[(p->q_head + p->q_len) % PIPE_MAX];
            size_t left = l->count - l->next;
            /* with several connections the first one lists alone until
             * the list is complete (as load.c's): no Locate page waits
             * behind batches */
            bool lists_only = p->index == 0 && l->conns > 1 && l->type_index < 2;
            if (p->index == 0 && l->type_index < 2 && !l->locate_in_flight) {
                int type_index = l->type_index;
                int32_t offset = l->locate_offset;
                l->locate_in_flight = true;
                q->locate = true;
                p->q_len++;
                pthread_mutex_unlock(&l->lock);
                pipe_send_locate(l, p, type_index, offset);
                pthread_mutex_lock(&l->lock);
            } else if (!lists_only && (left >= PIPE_KEYS || (l->type_index == 2 && left > 0))) {
                q->locate = false;
                q->n = left < PIPE_KEYS ? left : PIPE_KEYS;
                for (size_t i = 0; i < q->n; i++) {
                    q->ids[i] = l->uids[l->next + i];
                    q->types[i] = l->types[l->next + i];
                }
                l->next += q->n;
                p->q_len++;
                pthread_mutex_unlock(&l->lock);
                pipe_send_batch(l, p, q);
                pthread_mutex_lock(&l->lock);
            } else {
                break;
            }
        }
        if (p->q_len == 0) {
            if (l->type_index == 2) /* listed, every batch taken */
                break;
            pthread_cond_wait(&l->more, &l->lock); /* a helper: for the list to grow */
            continue;
        }
        pipe_req *q = &p->q[p->q_head];
        pthread_mutex_unlock(&l->lock);
        kmip_message *resp = pipe_read(p);
        pthread_mutex_lock(&l->lock);
        p->q_head = (p->q_head + 1) % PIPE_MAX;
        p->q_len--;
        if (q->locate)
            pipe_take_locate(l, resp);
        else
            pipe_take_batch(l, q, resp);
        kmip_message_free(resp);
    }
    pthread_mutex_unlock(&l->lock);
}

static void *pipe_main(void *arg)
{
    pipe_conn *p = arg;
    pipe_connect(p, p->load->port);
    pipe_run(p);
    return NULL;
}

/* Loads the group's keys on conns connections with up to window request
 * messages in flight on each; returns the number of keys in the cache. */
static size_t pipelined_load(unsigned port, size_t conns, size_t window)
{
    pipe_load *l = calloc(1, sizeof *l);
    if (l == NULL || conns < 1 || conns > PIPE_CONNS || window < 1 || window > PIPE_MAX ||
        !krk_cache_init(&l->cache))
        pipe_die("setup");
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->more, NULL);
    l->port = port;
    l->conns = conns;
    l->window = window;
    l->started = 1;
    for (size_t i = 0; i < conns; i++) {
        l->c[i].load = l;
        l->c[i].index = (int)i;
    }
    pipe_connect(&l->c[0], port);
    l->version = pipe_discover(&l->c[0]);
    pipe_run(&l->c[0]);
    for (int i = 1; i < l->started; i++)
        pthread_join(l->c[i].thread, NULL);
    size_t keys = l->cache.count;
    if (l->next != l->count)
        pipe_die("keys left unfetched");
    for (size_t i = 0; i < conns; i++)
        pipe_close(&l->c[i]);
    for (size_t i = 0; i < l->count; i++)
        free(l->uids[i]);
    free(l->uids);
    free(l->types);
    krk_cache_clear(&l->cache);
    pthread_cond_destroy(&l->more);
    pthread_mutex_destroy(&l->lock);
    free(l);
    return keys;
}

/* Median seconds per Get of one key over a persistent connection. */
static double get_time(unsigned port, const char *uid)
{
    kmip_client *c = connect_to(port);
    double t[201];
    for (int i = -5; i < 201; i++) {
        uint8_t *key;
        size_t len;
        double t0 = bench_now();
        if (kmip_client_get_key(c, uid, &key, &len, NULL) != KMIP_CLIENT_OK)
            exit(1);
        if (i >= 0)
            t[i] = bench_now() - t0;
        kmip_secure_free(key, len);
    }
    kmip_client_free(c);
    qsort(t, 201, sizeof t[0], bench_cmp);
    return t[100];
}

/* The round trip the proxy adds, in ms: a Get through it minus the same
 * Get direct, the smaller of three tries (other processes on the machine
 * only ever add to a measurement). */
static double round_trip_ms(const char *uid, double *via_ms, double *direct_ms)
{
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double via = get_time(E.proxy_port, uid), direct = get_time(E.server_port, uid);
        if ((via - direct) * 1000 < best) {
            best = (via - direct) * 1000;
            *via_ms = via * 1000;
            *direct_ms = direct * 1000;
        }
    }
    return best;
}

/* ---- the resident memory of a process holding the keyring ---- */

#define HOLD_RUNS 3

/* The hold mode: a process that did nothing before but open the keyring
 * (as mysqld does at its start): VmRSS with it open, and the malloc heap's
 * bytes in use and free (every arena), in KiB. */
static int hold(const char *config, int n)
{
    krk_config cfg;
    krk_diag d;
    krk_keyring *k;
    if (krk_config_read(config, &cfg, &d) != KRK_OK || krk_open(&cfg, &k, &d) != KRK_OK ||
        krk_key_count(k) != (size_t)n) {
        fprintf(stderr, "hold: %s\n", d.error);
        return 1;
    }
    long rss = bench_rss_kib();
    struct mallinfo2 mi = mallinfo2();
    printf("HOLD %ld %zu %zu\n", rss, mi.uordblks / 1024, mi.fordblks / 1024);
    krk_close(k);
    return 0;
}

/* Runs this program's hold mode on config; false on failure. */
static bool hold_in_new_process(const char *config, int n, long out[3])
{
    char self[1024], count[16];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    int fd[2];
    if (len <= 0 || pipe(fd) != 0)
        return false;
    self[len] = '\0';
    snprintf(count, sizeof count, "%d", n);
    char *argv[] = {self, "--hold", (char *)config, count, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    pid_t pid;
    extern char **environ;
    int rc = posix_spawn(&pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    FILE *f = rc == 0 ? fdopen(fd[0], "r") : NULL;
    char line[128] = "";
    bool ok = f && fgets(line, sizeof line, f) &&
              sscanf(line, "HOLD %ld %ld %ld", &out[0], &out[1], &out[2]) == 3;
    if (f)
        fclose(f);
    else
        close(fd[0]);
    int status = 0;
    if (rc == 0 && waitpid(pid, &status, 0) != pid)
        return false;
    return ok && rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static double median_of(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* PyKMIP (one thread per connection, reading one request message at a
 * time and leaving what follows in its socket): keys keys of a group of
 * their own on the fixture's PyKMIP (its port: PORT in FIXTURE_DIR/env),
 * loaded direct (no proxy) by krk_open and by pipelined_load; every load
 * must find all of them, every answer checked as above. One run each: a
 * check that pipelining works there, and what each scheme costs there. */
static void pykmip_check(const char *fixture, int keys)
{
    char path[1200], line[1300];
    snprintf(path, sizeof path, "%s/env", fixture);
    FILE *f = fopen(path, "r");
    unsigned port = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "PORT=", 5) == 0)
            port = (unsigned)atoi(line + 5);
    if (f)
        fclose(f);
    if (port == 0) {
        fprintf(stderr, "%s: no PORT\n", path);
        exit(1);
    }
    snprintf(group, sizeof group, "pipeline-%ld-%ld", (long)getpid(), (long)time(NULL));
    fill(port, keys);
    krk_config cfg = config_for(port);
    double t0 = bench_now();
    krk_keyring *k;
    krk_diag d;
    if (krk_open(&cfg, &k, &d) != KRK_OK || krk_key_count(k) != (size_t)keys) {
        fprintf(stderr, "PyKMIP: %s\n", d.error);
        exit(1);
    }
    double ours = bench_now() - t0;
    krk_close(k);
    static const size_t c[3] = {4, 1, 1}, w[3] = {1, 4, 8};
    double took[3];
    for (int i = 0; i < 3; i++) {
        t0 = bench_now();
        if (pipelined_load(port, c[i], w[i]) != (size_t)keys) {
            fprintf(stderr, "PyKMIP: pipelined load: not %d keys\n", keys);
            exit(1);
        }
        took[i] = bench_now() - t0;
    }
    bench_note("startup", "PyKMIP 0.10, %d keys, direct (no proxy), one run each: every load "
               "found every key, every answer in order and checked: krk_open %.3f s; 4 "
               "connections, 1 batch in flight each (rebuilt) %.3f s; one connection, 4 "
               "batches in flight %.3f s; 8 batches in flight %.3f s", keys, ours, took[0],
               took[1], took[2]);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--hold") == 0)
        return hold(argv[2], atoi(argv[3]));
    if (argc < 5) {
        fprintf(stderr, "usage: bench_startup FIXTURE_DIR TEST_SERVER FAULT_PROXY N [RUNS] "
                        "[LATENCY_US] [THEIR_RUNS] [PYKMIP_KEYS]\n");
        return 2;
    }
    int n = atoi(argv[4]);
    int runs = argc > 5 ? atoi(argv[5]) : 3;
    long latency = argc > 6 ? atol(argv[6]) : 500;
    int their_runs = argc > 7 ? atoi(argv[7]) : runs;
    int pykmip_keys = argc > 8 ? atoi(argv[8]) : 0;
    if (n < 1 || runs < 1 || runs > 50 || their_runs < 0 || their_runs > runs ||
        pykmip_keys < 0)
        return 2;
    char name[64];
    snprintf(name, sizeof name, "bench-startup-%d", n);
    snprintf(group, sizeof group, "startup-%d", n);
    if (!fenv_init(&E, argv[1], name, argv[2], argv[3]))
        return 1;
    E.stateless = true; /* a state file saved per change would dominate */
    if (!fenv_server_start(&E) || !fenv_proxy_start(&E))
        return 1;
    double fill_t0 = bench_now();
    fill(E.server_port, n);
    double fill_s = bench_now() - fill_t0;
    char cmd[64], out[64];
    snprintf(cmd, sizeof cmd, "latency %ld %ld", latency, latency);
    if (!fenv_ctl(E.proxy_ctl, cmd, out, sizeof out))
        return 1;
    /* the round trip the proxy adds, measured */
    uids one = {malloc(sizeof *one.ids), 0, 1};
    kmip_client *lc = connect_to(E.server_port);
    kmip_locate_filter lf = {0};
    lf.object_group = group;
    if (one.ids == NULL || kmip_client_locate(lc, &lf, add_uid, &one) != KMIP_CLIENT_OK ||
        one.count != 1)
        return 1;
    kmip_client_free(lc);
    double via_ms, direct_ms, rtt_ms = round_trip_ms(one.ids[0], &via_ms, &direct_ms);
    long asked = latency;
    for (int i = 0; i < 4 && (rtt_ms - 2.0 * (double)asked / 1000 > 0.02 ||
                              rtt_ms - 2.0 * (double)asked / 1000 < -0.02); i++) {
        /* the proxy's own relaying adds to the delay it is given: ask for
         * less until the measured round trip is the one wanted (never less
         * than 60 % of it: a burst of load must not make it a shorter trip) */
        latency -= (long)((rtt_ms - 2.0 * (double)asked / 1000) * 500);
        if (latency < asked * 6 / 10)
            latency = asked * 6 / 10;
        if (latency > asked)
            latency = asked;
        snprintf(cmd, sizeof cmd, "latency %ld %ld", latency, latency);
        if (!fenv_ctl(E.proxy_ctl, cmd, out, sizeof out))
            return 1;
        rtt_ms = round_trip_ms(one.ids[0], &via_ms, &direct_ms);
    }
    krk_config cfg = config_for(E.proxy_port);
    /* 0 ours, 1 G1, 2 G3, 3-6 pipelined_load with conns[p] connections of
     * window[p] request messages in flight; run in the order of `order`
     * (the compared ones side by side) */
    enum { PATTERNS = 9 };
    static const int order[PATTERNS] = {0, 3, 4, 5, 6, 7, 8, 1, 2};
    static const size_t conns[PATTERNS] = {0, 0, 0, 4, 1, 1, 8, 2, 2};
    static const size_t window[PATTERNS] = {0, 0, 0, 1, 4, 8, 1, 4, 8};
    double *t[PATTERNS], *share[PATTERNS], *cpu[PATTERNS];
    counters last[PATTERNS];
    memset(last, 0, sizeof last);
    for (int p = 0; p < PATTERNS; p++) {
        t[p] = calloc((size_t)runs, sizeof **t);
        share[p] = calloc((size_t)runs, sizeof **share);
        cpu[p] = calloc((size_t)runs, sizeof **cpu);
        if (t[p] == NULL || share[p] == NULL || cpu[p] == NULL)
            return 1;
    }
    for (int r = 0; r < runs; r++) {
        for (int o = 0; o < PATTERNS; o++) {
            int p = order[o];
            if ((p == 1 || p == 2) && r >= their_runs)
                continue;
            counters before = read_counters();
            double cpu0 = bench_cpu();
            double t0 = bench_now();
            if (p == 0) {
                krk_keyring *k;
                krk_diag d;
                if (krk_open(&cfg, &k, &d) != KRK_OK || krk_key_count(k) != (size_t)n) {
                    fprintf(stderr, "%s\n", d.error);
                    return 1;
                }
                t[p][r] = bench_now() - t0;
                krk_close(k);
            } else if (p >= 3) {
                if (pipelined_load(E.proxy_port, conns[p], window[p]) != (size_t)n) {
                    fprintf(stderr, "pipelined load: not %d keys\n", n);
                    return 1;
                }
                t[p][r] = bench_now() - t0;
            } else if (p == 1) {
                g1_load(n);
                t[p][r] = bench_now() - t0;
            } else {
                g3_load(n);
                t[p][r] = bench_now() - t0;
            }
            last[p] = since(before);
            share[p][r] = 100.0 * last[p].server_cpu / t[p][r];
            cpu[p][r] = bench_cpu() - cpu0;
        }
    }
    static const char *const names[PATTERNS] = {
        "keyring_kmip batched load", "Percona G1 pattern", "Percona G3 pattern",
        "4 connections, 1 batch in flight each (the keyring's scheme, rebuilt)",
        "one connection, 4 batches in flight (pipelined)",
        "one connection, 8 batches in flight (pipelined)",
        "8 connections, 1 batch in flight each",
        "2 connections (the first lists first), 4 batches in flight on each",
        "2 connections (the first lists first), 8 batches in flight on each"};
    double med[PATTERNS];
    memset(med, 0, sizeof med);
    char label[200];
    for (int p = 0; p < PATTERNS; p++) {
        int m = p == 1 || p == 2 ? their_runs : runs;
        if (m == 0)
            continue;
        snprintf(label, sizeof label, "%d keys: %s", n, names[p]);
        double *copy = calloc((size_t)m, sizeof *copy);
        if (copy == NULL)
            return 1;
        memcpy(copy, t[p], (size_t)m * sizeof *copy);
        med[p] = median_of(copy, m);
        free(copy);
        bench_row("startup", label, t[p], m, "s");
        snprintf(label, sizeof label, "%d keys: %s: test server CPU, share of the load's time", n,
                 names[p]);
        bench_row("startup-server", label, share[p], m, "%");
        bench_note("startup-server", "%d keys, %s: the server's CPU time is counted in clock "
                   "ticks of %.0f ms (/proc/PID/stat), so with a load of %.3f s (median) each "
                   "share is known to about %.0f %% (one tick either way)", n, names[p],
                   1000.0 / (double)sysconf(_SC_CLK_TCK), med[p],
                   med[p] > 0 ? 100.0 / (double)sysconf(_SC_CLK_TCK) / med[p] : 0.0);
        bench_note("startup", "%d keys, %s: %lu request messages, %lu TLS connections (test "
                   "server's counters, last run)", n, names[p], last[p].requests,
                   last[p].connections);
        bench_note("startup", "%d keys, %s: this process's CPU time %.3f s (median; user + "
                   "system, every thread); the test server's %.3f s and the fault proxy's %.3f s "
                   "(last run)", n, names[p], median_of(cpu[p], m), last[p].server_cpu,
                   last[p].proxy_cpu);
    }
    double via_after, direct_after, rtt_after = round_trip_ms(one.ids[0], &via_after, &direct_after);
    bench_note("startup", "%d keys: round trip measured %.3f ms before the loads and %.3f ms after "
               "them (a Get through the proxy %.3f ms, direct %.3f ms: medians of 201, the "
               "smallest difference of 3 tries; asked for %.3f ms, the proxy set to %ld us each "
               "way to give it)", n, rtt_ms, rtt_after, via_ms, direct_ms,
               2.0 * (double)asked / 1000, latency);
    if (their_runs > 0)
        bench_note("startup", "%d keys: G1 / ours = %.1fx, G3 / ours = %.1fx (medians, same run)",
                   n, med[1] / med[0], med[2] / med[0]);
    bench_note("startup", "%d keys: in flight at once, pipelined on one connection against as "
               "many connections (the same code, medians, same run; below 1: pipelining "
               "faster): 4: %.2fx, 8: %.2fx; the keyring's scheme rebuilt / krk_open: %.2fx; "
               "2 connections (the first lists first), 4 / 8 in flight on each / krk_open: "
               "%.2fx / %.2fx",
               n, med[4] / med[3], med[5] / med[6], med[3] / med[0], med[7] / med[0],
               med[8] / med[0]);
    bench_note("startup", "%d keys: filling the server (krk_store per key, direct) took %.1f s",
               n, fill_s);
    printf("DATA|startup|%d|%.6g|%.6g|%.6g|%.4f|%.6g|%.6g|%.6g|%.6g|%.6g|%.6g\n", n, med[0],
           med[1], med[2], rtt_ms, med[3], med[4], med[5], med[6], med[7], med[8]);
    free(one.ids);
    /* the configuration of the timed loads: through the proxy, its delay */
    char config[1300];
    snprintf(config, sizeof config, "%s/startup-%u.cnf", E.dir, E.proxy_port);
    double rss[HOLD_RUNS], in_use[HOLD_RUNS], heap_free[HOLD_RUNS];
    for (int i = 0; i < HOLD_RUNS; i++) {
        long h[3];
        if (!hold_in_new_process(config, n, h)) {
            fprintf(stderr, "the hold process failed\n");
            fenv_stop(&E); /* the server and the proxy are this process's to stop */
            return 1;
        }
        rss[i] = (double)h[0];
        in_use[i] = (double)h[1];
        heap_free[i] = (double)h[2];
    }
    snprintf(label, sizeof label, "process holding a keyring of %d keys: resident memory", n);
    bench_row("memory", label, rss, HOLD_RUNS, "KiB");
    snprintf(label, sizeof label, "process holding a keyring of %d keys: malloc heap in use", n);
    bench_row("memory", label, in_use, HOLD_RUNS, "KiB");
    snprintf(label, sizeof label, "process holding a keyring of %d keys: malloc heap free "
             "(every arena)", n);
    bench_row("memory", label, heap_free, HOLD_RUNS, "KiB");
    for (int p = 0; p < PATTERNS; p++) {
        free(t[p]);
        free(share[p]);
        free(cpu[p]);
    }
    if (pykmip_keys > 0)
        pykmip_check(argv[1], pykmip_keys);
    fenv_stop(&E);
    return 0;
}

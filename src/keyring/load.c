/* SPDX-License-Identifier: GPL-2.0-only */
/* Opening a keyring state: connect, Locate every Symmetric Key and Secret
 * Data of the object group in any state (paged), then fetch them with Get and
 * Get Attributes batched many keys per request message, so that N keys
 * cost about N/KEYS_PER_MESSAGE round trips instead of 2N. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_opts.h"
#include "diag.h"
#include "health.h"
#include "layout.h"
#include "scratch.h"
#include "state.h"

#define KEYS_PER_MESSAGE 50
/* A batch's request also stays under this many bytes of Unique Identifiers
 * (a server with long identifiers gets fewer keys per message). */
#define BATCH_UID_BYTES 16384
/* ... and its answer under the 1 MiB a response may have (the client's
 * KMIP_DEFAULT_MAX_MESSAGE, and PyKMIP's limit: "Response Too Large"),
 * with room for the headers: a key's Get and Get Attributes answer holds
 * up to KRK_MAX_KEY_BYTES of key, its identifier twice, a Name of up to
 * 2 x KRK_MAX_ID_BYTES and our Application Specific Information of up to
 * 4 x KRK_MAX_ID_BYTES. 50 keys the keyring stored itself made an answer
 * every load of the group failed on. */
#define BATCH_ANSWER_BYTES (KMIP_DEFAULT_MAX_MESSAGE - 64 * 1024)
#define KEY_ANSWER_BYTES (KRK_MAX_KEY_BYTES + 6 * KRK_MAX_ID_BYTES + 1024)
/* A load of more than HELPER_AFTER keys also fetches on LOAD_HELPERS more
 * connections, opened while the keys are being listed, each taking the
 * next batch. Every connection keeps up to LOAD_DEPTH batches in flight
 * (kmip_client_send: pipelined, answered in order; a server such as
 * PyKMIP reads one request at a time and keeps the rest): a load costs
 * about one round trip per LOAD_DEPTH batches. One helper: the main
 * connection is busy listing until the list is done, and more connections
 * gained nothing over pipelining on this one (docs/PERFORMANCE.md:
 * measured with 1, 2, 4 and 8 connections and 1, 4 and 8 in flight). */
#define LOAD_HELPERS 1
#define LOAD_DEPTH 8
#define HELPER_AFTER (4 * KEYS_PER_MESSAGE)
/* Decoded answers the helpers may leave waiting for the main thread
 * before they take another batch; the answers to the batches a helper has
 * in flight then still come: at most ANSWERS_WAITING + LOAD_DEPTH - 1 wait
 * (review s7 R7-4). */
#define ANSWERS_WAITING (LOAD_HELPERS * LOAD_DEPTH)

/* "host:port" of the server the state's client talks to now. */
static const char *server_now(krk_state *s)
{
    kmip_server_health h[KMIP_MAX_SERVERS];
    size_t n = kmip_health_snapshot(kmip_client_health(s->client), h, KMIP_MAX_SERVERS);
    snprintf(s->server_now, sizeof s->server_now, "%.200s", n ? h[0].name : s->cfg.server_addr);
    for (size_t i = 0; i < n && i < KMIP_MAX_SERVERS; i++)
        if (h[i].current)
            snprintf(s->server_now, sizeof s->server_now, "%.200s", h[i].name);
    return s->server_now;
}

/* The Locate's list, in mapped scratch memory (scratch.h): nothing of it
 * is left in the heap between the keys when the load ends. */
typedef struct uid_list {
    char **uids;     /* in strings: never moved (helpers read them unlocked) */
    uint32_t *types; /* the Object Type each was located as */
    krk_scratch strings;
    size_t count, cap;
    uint32_t current; /* the type being located */
    size_t max;       /* max_objects, 0: none */
    bool failed, too_many;
} uid_list;

static bool add_uid(void *ctx, const char *uid, size_t len)
{
    uid_list *l = ctx;
    if (l->max && l->count >= l->max) { /* enforced while paging, not afterwards */
        l->too_many = true;
        return false;
    }
    if (l->count == l->cap) { /* one mapping: cap pointers, then cap types */
        size_t cap = l->cap ? l->cap * 2 : 1024;
        char **grown = krk_scratch_map(cap * (sizeof *l->uids + sizeof *l->types));
        if (grown == NULL) {
            l->failed = true;
            return false;
        }
        uint32_t *types = (uint32_t *)(grown + cap);
        if (l->count) {
            memcpy(grown, l->uids, l->count * sizeof *grown);
            memcpy(types, l->types, l->count * sizeof *types);
        }
        krk_scratch_unmap(l->uids, l->cap * (sizeof *l->uids + sizeof *l->types));
        l->uids = grown;
        l->types = types;
        l->cap = cap;
    }
    l->types[l->count] = l->current;
    char *copy = krk_scratch_strndup(&l->strings, uid, len); /* as a C string */
    if (copy == NULL) {
        l->failed = true;
        return false;
    }
    l->uids[l->count++] = copy;
    return true;
}

static void free_uids(uid_list *l)
{
    krk_scratch_unmap(l->uids, l->cap * (sizeof *l->uids + sizeof *l->types));
    krk_scratch_free(&l->strings);
}

bool krk_identify(const kmip_get_attributes_response *ga, uint32_t object_type,
                  krk_key_type *type, char **data_id, char **auth_id, const char **tag,
                  size_t *tag_len)
{
    if (tag) {
        *tag = NULL;
        *tag_len = 0;
    }
    const kmip_item *name = NULL;
    for (const kmip_attribute *a = ga->attributes.first; a; a = a->next) {
        if (a->tag == KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION && a->value) {
            char *ns = kmip_item_text_dup(kmip_item_child(a->value, KMIP_TAG_APPLICATION_NAMESPACE));
            const kmip_item *ad = kmip_item_child(a->value, KMIP_TAG_APPLICATION_DATA);
            bool ours = ns && strcmp(ns, KRK_APP_NAMESPACE) == 0 && ad &&
                        ad->type == KMIP_TYPE_TEXT_STRING;
            free(ns);
            if (ours)
                return krk_layout_decode((const char *)ad->v.bytes.data, ad->v.bytes.len, type,
                                         data_id, auth_id, tag, tag_len);
        } else if (a->tag == KMIP_TAG_NAME && a->value && name == NULL) {
            name = kmip_item_child(a->value, KMIP_TAG_NAME_VALUE);
        }
    }
    *data_id = kmip_item_text_dup(name);
    *auth_id = strdup("");
    *type = object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY ? KRK_TYPE_AES : KRK_TYPE_SECRET;
    if (*data_id == NULL || *auth_id == NULL || (*data_id)[0] == '\0') {
        free(*data_id);
        free(*auth_id);
        return false;
    }
    return true;
}

static bool item_not_found(const kmip_batch_item *bi)
{
    return bi->has_result_reason && bi->result_reason == KMIP_RESULT_REASON_ITEM_NOT_FOUND;
}

static krk_err item_failed(krk_state *s, const char *what, const char *uid,
                           const kmip_batch_item *bi, krk_diag *d)
{
    return krk_fail(d, KRK_E_KMIP, "loading keys from %s failed: %s of object %s: %.*s "
                    "(result reason %u); a load either has every key or fails",
                    server_now(s), what, uid,
                    bi->has_result_message ? (int)bi->result_message.len : 0,
                    bi->has_result_message ? (const char *)bi->result_message.data : "",
                    bi->has_result_reason ? bi->result_reason : 0);
}

static uint32_t state_in(const kmip_get_attributes_response *ga)
{
    for (const kmip_attribute *a = ga->attributes.first; a; a = a->next)
        if (a->tag == KMIP_TAG_STATE && a->value && a->value->type == KMIP_TYPE_ENUMERATION)
            return a->value->v.u32;
    return 0;
}

/* A second object for a key already loaded: the same bytes are harmless
 * (the Active one is kept), other bytes a conflict (invariant 3): never
 * resolved by order of arrival, the key is not served. */
static krk_err duplicate(krk_state *s, krk_key *held, const char *uid, krk_key_type type,
                         const uint8_t *material, size_t len, uint32_t state, krk_diag *d)
{
    bool same = held->type == type && held->material_len == len &&
                kmip_ct_equal(held->material, material, len);
    if (same) {
        s->duplicates++;
        if (state == KMIP_STATE_ACTIVE && held->state != KMIP_STATE_ACTIVE) {
            if (!krk_key_set_uid(held, uid))
                return krk_fail(d, KRK_E_NOMEM, "out of memory loading keys");
            held->state = state;
        }
        return KRK_OK;
    }
    if (held->conflict_uid == NULL) {
        krk_key_set_conflict(held, strdup(uid));
        if (held->conflict_uid == NULL)
            return krk_fail(d, KRK_E_NOMEM, "out of memory loading keys");
        s->conflicts++;
    }
    krk_warn(d, "conflict: key \"%s\" (auth_id \"%s\") is held by objects %s and %s with "
             "different bytes; it is not served until one of them is removed on the server",
             held->data_id, held->auth_id, held->uid, uid);
    return KRK_OK;
}

/* Adds one fetched object to the cache. Only Item Not Found (an object
 * destroyed between Locate and Get) is skipped, and counted; any other
 * failure fails the load. Objects that are not keys of ours are skipped
 * with a warning. */
static krk_err take(krk_state *s, const char *uid, const kmip_batch_item *get,
                    const kmip_batch_item *attrs, krk_diag *d)
{
    if (get->result_status != KMIP_RESULT_STATUS_SUCCESS ||
        attrs->result_status != KMIP_RESULT_STATUS_SUCCESS) {
        if ((get->result_status != KMIP_RESULT_STATUS_SUCCESS && !item_not_found(get)) ||
            (attrs->result_status != KMIP_RESULT_STATUS_SUCCESS && !item_not_found(attrs)))
            return item_failed(s, get->result_status != KMIP_RESULT_STATUS_SUCCESS
                                      ? "Get" : "Get Attributes",
                               uid, get->result_status != KMIP_RESULT_STATUS_SUCCESS ? get : attrs,
                               d);
        s->vanished++;
        krk_warn(d, "object %s skipped: destroyed on the server while the keys were loading",
                 uid);
        return KRK_OK;
    }
    const uint8_t *material;
    size_t len;
    if (get->payload == NULL || attrs->payload == NULL)
        return krk_fail(d, KRK_E_KMIP, "loading keys failed: the answer for object %s has no "
                        "payload", uid);
    if (!kmip_object_key_material(&((const kmip_get_response *)get->payload)->object, &material,
                                  &len)) {
        krk_warn(d, "object %s skipped: it cannot be read as a plain key", uid);
        return KRK_OK;
    }
    uint32_t state = state_in(attrs->payload);
    krk_key_type type;
    char *data_id, *auth_id;
    if (!krk_identify(attrs->payload, ((const kmip_get_response *)get->payload)->object_type, &type,
                      &data_id, &auth_id, NULL, NULL)) {
        krk_warn(d, "object %s skipped: it has neither our Application Specific Information "
                 "nor a Name", uid);
        return KRK_OK;
    }
    krk_err e = KRK_OK;
    krk_key *held;
    if (state == 0) {
        /* asked for, and every managed object has one: taken for "not
         * served", an Active key would be dropped without a word */
        e = krk_fail(d, KRK_E_KMIP, "loading keys from %s failed: the Get Attributes answer for "
                     "object %s has no State; a load either has every key or fails",
                     server_now(s), uid);
    } else if (state == KMIP_STATE_PRE_ACTIVE || state == KMIP_STATE_DESTROYED ||
               state == KMIP_STATE_DESTROYED_COMPROMISED) {
        /* never served: a write in progress (or a crashed writer's
         * leftover, see `keyring-kmip check`), or no key any more */
        s->not_served++;
    } else if ((held = krk_cache_find(&s->cache, data_id, auth_id)) != NULL) {
        e = duplicate(s, held, uid, type, material, len, state, d);
    } else {
        if (state == KMIP_STATE_COMPROMISED)
            krk_warn(d, "error: key \"%s\" (auth_id \"%s\", object %s) is Compromised on the "
                     "KMIP server: it is loaded so that existing data stays readable; re-encrypt "
                     "with a new key", data_id, auth_id, uid);
        krk_key *k = krk_key_new(data_id, auth_id, type, material, len, uid);
        if (k)
            k->state = state;
        if (k == NULL || !krk_cache_insert(&s->cache, k))
            e = krk_fail(d, KRK_E_NOMEM, "out of memory loading keys");
    }
    free(data_id);
    free(auth_id);
    return e;
}

/* One request message of Get + Get Attributes for n keys on client c
 * (*req, NULL on failure: the error is returned). Touches no shared state. */
static kmip_client_err batch_request(kmip_client *c, char **uids, const uint32_t *types,
                                     size_t n, kmip_message **req)
{
    /* Object Type is asked for too although it is not needed: every object
     * has it, and PyKMIP 0.10 at KMIP 2.0 cannot encode an empty Get
     * Attributes answer (it drops the connection instead). */
    static const uint32_t wanted[] = {KMIP_TAG_NAME, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION,
                                      KMIP_TAG_OBJECT_TYPE, KMIP_TAG_STATE};
    kmip_client_err ce = kmip_client_request(c, req);
    if (ce != KMIP_CLIENT_OK)
        return ce;
    for (size_t i = 0; i < n; i++) {
        /* Raw for keys: a server defaulting to Transparent would hand out a
         * form we do not read; Secret Data in the server's own (plain) form */
        uint32_t format = types[i] == KMIP_OBJECT_TYPE_SYMMETRIC_KEY ? KMIP_KEY_FORMAT_TYPE_RAW : 0;
        if (kmip_req_add_get(*req, uids[i], format) != KMIP_CLIENT_OK ||
            kmip_req_add_get_attributes(*req, uids[i], wanted, 4) != KMIP_CLIENT_OK) {
            kmip_message_free(*req);
            *req = NULL;
            return KMIP_CLIENT_E_NOMEM;
        }
    }
    return KMIP_CLIENT_OK;
}

/* A connection's batches in flight, oldest first (pipelined: each answer
 * comes in the order its request was sent). */
typedef struct batch {
    kmip_message *req;
    size_t n;
    char *uids[KEYS_PER_MESSAGE];
} batch;

typedef struct flight {
    batch b[LOAD_DEPTH];
    size_t head, count;
} flight;

/* Builds and sends a batch of n keys; on failure (*ce) nothing is in
 * flight for it. */
static kmip_client_err flight_send(flight *fl, kmip_client *c, char **uids,
                                   const uint32_t *types, size_t n)
{
    batch *b = &fl->b[(fl->head + fl->count) % LOAD_DEPTH];
    kmip_client_err ce = batch_request(c, uids, types, n, &b->req);
    if (ce == KMIP_CLIENT_OK && (ce = kmip_client_send(c, b->req)) != KMIP_CLIENT_OK) {
        kmip_message_free(b->req);
        b->req = NULL;
    }
    if (ce != KMIP_CLIENT_OK)
        return ce;
    b->n = n;
    memcpy(b->uids, uids, n * sizeof *uids);
    fl->count++;
    return KMIP_CLIENT_OK;
}

/* The oldest batch's answer (*resp, as kmip_client_receive gives it); its
 * keys into uids/n. */
static kmip_client_err flight_receive(flight *fl, kmip_client *c, char **uids, size_t *n,
                                      kmip_message **resp)
{
    batch *b = &fl->b[fl->head];
    kmip_message *req = NULL;
    kmip_client_err ce = kmip_client_receive(c, &req, resp);
    /* the handle answers in the order sent: the request named is ours */
    *n = b->n;
    memcpy(uids, b->uids, b->n * sizeof *uids);
    kmip_message_free(b->req);
    b->req = NULL;
    fl->head = (fl->head + 1) % LOAD_DEPTH;
    fl->count--;
    return ce;
}

/* Abandons what is in flight (an error ended the load): the connection is
 * dropped, the requests freed. */
static void flight_abandon(flight *fl, kmip_client *c)
{
    if (fl->count == 0)
        return;
    kmip_client_disconnect(c);
    for (; fl->count > 0; fl->count--, fl->head = (fl->head + 1) % LOAD_DEPTH) {
        kmip_message_free(fl->b[fl->head].req);
        fl->b[fl->head].req = NULL;
    }
}

/* The keys of one answer into s (the load's thread: every key record comes
 * from its malloc arena, see struct answer). why: the message of the
 * client that made the call, read when ce is not OK. owner: that client
 * when it is this thread's, which the answer is handed back to (wiped,
 * its next response decoded into it); NULL for a helper's answer, whose
 * client its own thread is using: freed (wiped) instead. */
static krk_err batch_take(krk_state *s, const char *why, kmip_client_err ce, char **uids,
                          size_t n, kmip_message *resp, kmip_client *owner, krk_diag *d)
{
    __atomic_fetch_add(&s->load_requests, 1, __ATOMIC_RELAXED); /* see locate_all_with */
    krk_err e = KRK_OK;
    /* failed items are judged one by one (take); no answer, or an answer
     * that does not match the request, is fatal */
    bool item_failures = ce == KMIP_CLIENT_E_SERVER || ce == KMIP_CLIENT_E_NOT_FOUND;
    /* the answer may be a load's helper's: the message comes from that
     * client alone (which names its server), not from the state */
    if (ce == KMIP_CLIENT_E_NOMEM && resp == NULL)
        e = krk_fail(d, KRK_E_NOMEM, "out of memory building requests");
    else if (ce != KMIP_CLIENT_OK &&
             (!item_failures || resp == NULL || resp->item_count != 2 * n))
        e = krk_fail(d, KRK_E_KMIP, "loading keys failed: %s", why);
    for (size_t i = 0; e == KRK_OK && i < n; i++)
        e = take(s, uids[i], &resp->items[2 * i], &resp->items[2 * i + 1], d);
    kmip_client_release(owner, resp); /* NULL: kmip_message_free */
    return e;
}


/* How many of the keys uids[0, left) go in the next batch: at most
 * KEYS_PER_MESSAGE, under BATCH_UID_BYTES of identifiers and an answer of
 * at most BATCH_ANSWER_BYTES for keys of the largest size (one at least). */
static size_t batch_len(char *const *uids, size_t left)
{
    size_t k = 0, bytes = 0, answer = 0;
    while (k < KEYS_PER_MESSAGE && k < left) {
        size_t len = strlen(uids[k]);
        size_t more = KEY_ANSWER_BYTES + 2 * len;
        if (k > 0 && (bytes + len > BATCH_UID_BYTES || answer + more > BATCH_ANSWER_BYTES))
            break;
        bytes += len;
        answer += more;
        k++;
    }
    return k;
}

/* The keys of uids (n of them, the state's own connection) fetched in
 * batches, LOAD_DEPTH in flight at a time; the first error ends it. */
static krk_err fetch_pipelined(krk_state *s, char **uids, const uint32_t *types, size_t count,
                               krk_diag *d)
{
    flight fl = {0};
    char *got[KEYS_PER_MESSAGE];
    size_t next = 0, n;
    krk_err e = KRK_OK;
    while (e == KRK_OK && (next < count || fl.count > 0)) {
        kmip_client_err ce;
        if (next < count && fl.count < LOAD_DEPTH) {
            n = batch_len(uids + next, count - next);
            ce = flight_send(&fl, s->client, uids + next, types + next, n);
            if (ce != KMIP_CLIENT_OK)
                e = batch_take(s, kmip_client_error_message(s->client), ce, uids + next, n,
                               NULL, s->client, d);
            next += n;
            continue;
        }
        kmip_message *resp = NULL;
        ce = flight_receive(&fl, s->client, got, &n, &resp);
        e = batch_take(s, kmip_client_error_message(s->client), ce, got, n, resp, s->client, d);
    }
    flight_abandon(&fl, s->client);
    return e;
}

/* ---- the fetch of a load, on several connections ----
 * The main thread lists (Locate, its connection) and then fetches too;
 * helpers, started once the list is long enough, connect on their own
 * while it lists and take batches as soon as there are. Everything shared
 * (the list, the next batch, the answers, the state, diag) is under
 * f->lock; the requests and their decoding are not. A helper hands its
 * decoded answer to the main thread, which takes every answer into the
 * state (while it lists too, from its Locate callback), so that all key
 * records are allocated by one thread (struct answer). The first error
 * stops every thread; a helper that cannot connect just ends (the others
 * carry on).
 *
 * The main connection never waits for a helper that is still connecting:
 * once no batch is left it waits only for the batches helpers have in
 * flight, then closes the fetch (done): a helper connecting later takes
 * nothing and ends. A server that holds extra connections instead of
 * refusing them (a serial accept loop, a connection limit that queues)
 * thus costs the load nothing, the main connection fetching what those
 * helpers would have (review of issue 17, F12). Such a helper is still
 * running when the load returns: the fetcher then stays with the state
 * (krk_state.helpers), which joins it when it is freed. */

/* A helper's answer, waiting for the main thread to take it. Were the key
 * records made on the helper threads, each of their malloc arenas would
 * hold records between the freed blocks of its decoded responses: free but
 * resident pages for the life of the process (about 50 bytes per key at
 * 10,000 keys with three helpers). The decoded response itself goes back
 * to the helper's arena whole when it is freed. */
typedef struct answer {
    struct answer *next;
    kmip_client_err ce;
    kmip_message *resp;
    size_t n;
    char *uids[KEYS_PER_MESSAGE];
    char why[600]; /* the helper client's error message when ce is not OK */
} answer;

struct krk_fetcher {
    pthread_mutex_t lock;
    pthread_cond_t more; /* the list grew, listing ended, an error, an answer came or was
                            taken */
    krk_state *s;
    krk_diag *d;
    uid_list *l;
    size_t next;   /* the first key not taken by a thread yet */
    size_t done;   /* keys fetched, for progress */
    size_t reported; /* done as last given to fn */
    bool listed;   /* Locate finished (or failed) */
    krk_err e;
    krk_progress_fn fn;
    void *ctx;
    pthread_t helpers[LOAD_HELPERS];
    int helper_count;
    int running;   /* helpers that have not ended yet */
    /* the helpers' clients, each published by its helper from its creation
     * to just before its free, for fetcher_free to abort (kmip_client_abort)
     * under the lock; aborting: fetcher_free has, a client made later is
     * aborted by its helper at once */
    kmip_client *clients[LOAD_HELPERS];
    bool aborting;
    int in_flight; /* batches taken by helpers, not taken into the state yet */
    answer *answers, **answers_end; /* helpers' answers, oldest first */
    int queued;                     /* answers waiting (see ANSWERS_WAITING) */
    bool closed;   /* the load is over: nothing more for helpers; s, l, d not theirs */
    long long deadline_ms;
    unsigned versions[KMIP_MAX_SERVERS]; /* the main connection's, per server */
    pid_t pid; /* the process whose threads the helpers are */
};
typedef struct krk_fetcher fetcher;

static kmip_client *client_for(const krk_config *cfg, krk_log_sink *sink, kmip_health *h,
                               const unsigned *versions);

static void drop_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    (void)level;
    (void)message; /* a helper's messages repeat the main connection's */
}

/* A batch can be taken (lock held): a full one, or the rest once listed. */
static bool batch_ready(const fetcher *f)
{
    size_t left = f->l->count - f->next;
    return left >= KEYS_PER_MESSAGE || (f->listed && left > 0);
}

/* The next batch (lock held, batch_ready). */
static void take_batch(fetcher *f, char **uids, uint32_t *types, size_t *n)
{
    size_t k = batch_len(f->l->uids + f->next, f->l->count - f->next);
    memcpy(uids, f->l->uids + f->next, k * sizeof *uids);
    memcpy(types, f->l->types + f->next, k * sizeof *types);
    f->next += k;
    *n = k;
}

/* A batch a helper may take now (lock held): decoded answers do not pile
 * up while the main thread is busy listing or fetching. */
static bool helper_may_take(const fetcher *f)
{
    return f->e == KRK_OK && !f->closed && f->queued < ANSWERS_WAITING && batch_ready(f);
}

/* A helper with nothing in flight waits for a batch (lock held): false
 * when there is none and never will be. */
static bool wait_for_batch(fetcher *f)
{
    for (;;) {
        if (f->e != KRK_OK || f->closed)
            return false;
        if (helper_may_take(f))
            return true;
        if (f->listed && !batch_ready(f))
            return false;
        pthread_cond_wait(&f->more, &f->lock);
    }
}

/* The oldest helper's answer into the state (lock held; the main thread). */
static void take_answer(fetcher *f)
{
    answer *a = f->answers;
    f->answers = a->next;
    if (f->answers == NULL)
        f->answers_end = &f->answers;
    f->queued--;
    f->in_flight--;
    if (f->e == KRK_OK) {
        f->e = batch_take(f->s, a->why, a->ce, a->uids, a->n, a->resp, NULL, f->d);
        f->done += a->n;
    } else {
        kmip_message_free(a->resp); /* a helper's: its client is its thread's */
    }
    free(a);
    pthread_cond_broadcast(&f->more); /* room for an answer; maybe an error */
}

/* Hands a helper's answer to the main thread (lock held); a
 * batch that could not even be sent comes with resp NULL and its error. */
static void hand_over(fetcher *f, kmip_client *c, kmip_client_err ce, char **uids, size_t n,
                      kmip_message *resp)
{
    answer *a = malloc(sizeof *a);
    if (a == NULL) {
        kmip_client_release(c, resp); /* this helper's own client */
        f->in_flight--;
        if (f->e == KRK_OK)
            f->e = krk_fail(f->d, KRK_E_NOMEM, "out of memory loading keys");
    } else {
        a->next = NULL;
        a->ce = ce;
        a->resp = resp;
        a->n = n;
        memcpy(a->uids, uids, n * sizeof *uids);
        snprintf(a->why, sizeof a->why, "%s",
                 ce == KMIP_CLIENT_OK ? "" : kmip_client_error_message(c));
        *f->answers_end = a;
        f->answers_end = &a->next;
        f->queued++;
    }
    pthread_cond_broadcast(&f->more); /* the main thread may be waiting for it */
}

/* A helper's fetch: batches until there are none, up to LOAD_DEPTH in
 * flight on its connection, each answer handed to the main thread. */
static void fetch_helper(fetcher *f, kmip_client *c)
{
    char *uids[KEYS_PER_MESSAGE];
    uint32_t types[KEYS_PER_MESSAGE];
    size_t n;
    flight fl = {0};
    pthread_mutex_lock(&f->lock);
    for (;;) {
        bool more = fl.count == 0 ? wait_for_batch(f) : fl.count < LOAD_DEPTH && helper_may_take(f);
        if (more) {
            take_batch(f, uids, types, &n);
            f->in_flight++;
            pthread_mutex_unlock(&f->lock);
            kmip_client_err ce = flight_send(&fl, c, uids, types, n);
            pthread_mutex_lock(&f->lock);
            if (ce != KMIP_CLIENT_OK)
                hand_over(f, c, ce, uids, n, NULL); /* the load fails with its reason */
            continue;
        }
        if (fl.count == 0 || f->e != KRK_OK)
            break;
        pthread_mutex_unlock(&f->lock);
        kmip_message *resp = NULL;
        kmip_client_err ce = flight_receive(&fl, c, uids, &n, &resp);
        pthread_mutex_lock(&f->lock);
        hand_over(f, c, ce, uids, n, resp);
    }
    /* an error ended the load: what is still in flight is not wanted */
    f->in_flight -= (int)fl.count;
    pthread_cond_broadcast(&f->more);
    pthread_mutex_unlock(&f->lock);
    flight_abandon(&fl, c);
}

/* The main thread's fetch, once listed: it takes the helpers' answers
 * first, keeps up to LOAD_DEPTH batches of its own in flight while there
 * are batches, and ends when nothing is left and no helper has a batch in
 * flight; then it closes the fetch (helpers still connecting take
 * nothing). The only thread that calls the progress function, outside the
 * lock (a host's callback may use its thread's state, block or call back
 * into the keyring: review of issue 17, F9). Returns true when every
 * helper has ended (f can be freed: fetcher_free). */
static bool fetch_main(fetcher *f, kmip_client *c)
{
    char *uids[KEYS_PER_MESSAGE];
    uint32_t types[KEYS_PER_MESSAGE];
    size_t n;
    flight fl = {0};
    pthread_mutex_lock(&f->lock);
    for (;;) {
        bool tell = false;
        if (f->answers) {
            take_answer(f);
            tell = f->e == KRK_OK && f->fn;
        } else if (f->e == KRK_OK && fl.count < LOAD_DEPTH && batch_ready(f)) {
            take_batch(f, uids, types, &n);
            pthread_mutex_unlock(&f->lock);
            kmip_client_err ce = flight_send(&fl, c, uids, types, n);
            pthread_mutex_lock(&f->lock);
            if (ce != KMIP_CLIENT_OK && f->e == KRK_OK) {
                f->e = batch_take(f->s, kmip_client_error_message(c), ce, uids, n, NULL, c, f->d);
                pthread_cond_broadcast(&f->more);
            }
        } else if (f->e == KRK_OK && fl.count > 0) {
            pthread_mutex_unlock(&f->lock);
            kmip_message *resp = NULL;
            kmip_client_err ce = flight_receive(&fl, c, uids, &n, &resp);
            pthread_mutex_lock(&f->lock);
            if (f->e == KRK_OK) {
                f->e = batch_take(f->s, kmip_client_error_message(c), ce, uids, n, resp, c, f->d);
                f->done += n;
                tell = f->e == KRK_OK && f->fn;
            } else {
                kmip_client_release(c, resp);
            }
            if (f->e != KRK_OK)
                pthread_cond_broadcast(&f->more);
        } else if (f->in_flight == 0) {
            break;
        } else {
            pthread_cond_wait(&f->more, &f->lock); /* a helper's batch in flight */
        }
        if (tell) {
            size_t done = f->done, total = f->l->count;
            f->reported = done;
            pthread_mutex_unlock(&f->lock);
            f->fn(f->ctx, done, total);
            pthread_mutex_lock(&f->lock);
        }
    }
    f->closed = true;
    pthread_cond_broadcast(&f->more);
    bool idle = f->running == 0;
    pthread_mutex_unlock(&f->lock);
    flight_abandon(&fl, c); /* after an error: the answers are not wanted */
    return idle;
}

/* A helper reads the state's configuration and health, which outlive it
 * (the state joins its helpers before it frees them), and the rest of the
 * load only through fetch_helper, which gives it nothing once done. Its
 * client is in f->clients while it may connect, so that fetcher_free can
 * abort a connect still waiting (a server holding the connection, a slow
 * handshake) instead of joining the thread after its connect timeout; an
 * aborted helper fails its connect (or its batch, which the load no longer
 * takes) and ends like one that could not connect. */
static void *helper_main(void *arg)
{
    fetcher *f = arg;
    krk_log_sink quiet = {drop_log, NULL, NULL, NULL};
    kmip_client *c = client_for(&f->s->cfg, &quiet, f->s->health, f->versions);
    int slot = -1;
    pthread_mutex_lock(&f->lock);
    for (int i = 0; c && i < LOAD_HELPERS && slot < 0; i++)
        if (f->clients[i] == NULL)
            slot = i; /* one per helper: there is always one */
    if (slot >= 0)
        f->clients[slot] = c;
    if (c && f->aborting) /* fetcher_free came before the client was published */
        kmip_client_abort(c);
    pthread_mutex_unlock(&f->lock);
    long long left = f->deadline_ms - kmip_monotonic_ms();
    if (c && left > 0) {
        kmip_client_begin_deadline(c, (unsigned)left);
        if (kmip_client_connect(c) == KMIP_CLIENT_OK)
            fetch_helper(f, c);
        kmip_client_end_deadline(c);
    }
    pthread_mutex_lock(&f->lock);
    if (slot >= 0)
        f->clients[slot] = NULL; /* no abort can reach it from here: it is freed below */
    f->running--;
    pthread_mutex_unlock(&f->lock);
    kmip_client_free(c);
    return NULL;
}

static void fetcher_free(fetcher *f)
{
    if (f == NULL)
        return;
    if (getpid() != f->pid) {
        /* a child forked while helpers were connecting: they are threads of
         * the parent, not of this process (joining one would wait for ever,
         * review s4b R3-3), and the lock may have been copied held; the
         * memory is left to the child's exit */
        return;
    }
    /* helpers still connecting are aborted, not waited for: joining them
     * would wait up to their connect timeout (a held connection, a slow
     * handshake), the whole time a keyring close, a reload freeing the old
     * state or `keyring-kmip check` would block. The fetch is closed (the
     * load is over): no helper has a batch in flight, so an aborted one
     * only ends. Under the lock: a client is published and unpublished by
     * its helper under it, and so never freed while aborted here. */
    pthread_mutex_lock(&f->lock);
    f->aborting = true;
    for (int i = 0; i < LOAD_HELPERS; i++)
        if (f->clients[i] != NULL)
            kmip_client_abort(f->clients[i]);
    pthread_mutex_unlock(&f->lock);
    for (int i = 0; i < f->helper_count; i++)
        pthread_join(f->helpers[i], NULL);
    pthread_cond_destroy(&f->more);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

/* add_uid for a load being fetched while it lists. */
static bool add_uid_shared(void *ctx, const char *uid, size_t len)
{
    fetcher *f = ctx;
    pthread_mutex_lock(&f->lock);
    while (f->answers) /* the helpers' answers, while the listing goes on */
        take_answer(f);
    bool ok = f->e == KRK_OK && add_uid(f->l, uid, len);
    if (f->l->count - f->next >= KEYS_PER_MESSAGE)
        pthread_cond_broadcast(&f->more);
    while (ok && f->helper_count < LOAD_HELPERS && f->l->count > HELPER_AFTER) {
        if (pthread_create(&f->helpers[f->helper_count], NULL, helper_main, f) != 0)
            break; /* fewer helpers: still correct */
        f->helper_count++;
        f->running++;
    }
    pthread_mutex_unlock(&f->lock);
    return ok;
}

/* The message of a failed listing (from l's flags and the client's error). */
static krk_err locate_error(krk_state *s, const uid_list *l, krk_diag *d)
{
    if (l->failed)
        return krk_fail(d, KRK_E_NOMEM, "out of memory listing keys");
    if (l->too_many)
        return krk_fail(d, KRK_E_CONFIG, "the KMIP server holds more than \"max_objects\" "
                        "(%zu) objects for this keyring (%s); listing stopped there",
                        s->cfg.max_objects, s->cfg.path);
    return krk_fail(d, KRK_E_KMIP, "listing keys on %s failed: %s", server_now(s),
                    kmip_client_error_message(s->client));
}

/* add(add_ctx, ...) takes every identifier; writes nothing to d but on
 * failure (d NULL: the caller writes the message later, locate_error). */
static krk_err locate_all_with(krk_state *s, uid_list *l, kmip_uid_fn add, void *add_ctx,
                               krk_diag *d)
{
    static const uint32_t types[] = {KMIP_OBJECT_TYPE_SYMMETRIC_KEY, KMIP_OBJECT_TYPE_SECRET_DATA};
    for (size_t t = 0; t < 2; t++) {
        kmip_locate_filter f = {0};
        f.object_group = s->cfg.object_group[0] ? s->cfg.object_group : NULL;
        f.object_type = types[t]; /* every state: Deactivated keys still decrypt */
        l->current = types[t];
        l->max = s->cfg.max_objects;
        kmip_client_stats before, after;
        kmip_client_get_stats(s->client, &before);
        kmip_client_err ce = kmip_client_locate(s->client, &f, add, add_ctx);
        kmip_client_get_stats(s->client, &after);
        /* helpers count their batches at the same time (under the load's
         * lock, which this thread does not hold here): atomic */
        __atomic_fetch_add(&s->load_requests, after.requests - before.requests,
                           __ATOMIC_RELAXED);
        if (l->failed || l->too_many || ce != KMIP_CLIENT_OK) {
            krk_err e = locate_error(s, l, d);
            return d ? e : (l->failed ? KRK_E_NOMEM : l->too_many ? KRK_E_CONFIG : KRK_E_KMIP);
        }
    }
    return KRK_OK;
}

static krk_err locate_all(krk_state *s, uid_list *l, krk_diag *d)
{
    return locate_all_with(s, l, add_uid, l, d);
}

/* h: the servers' health shared with the keyring's other clients (NULL: a
 * record of its own). versions NULL: negotiated; else the versions the
 * main connection of a load knows per server (KMIP_MAX_SERVERS of them),
 * for a helper: no Discover Versions with a server the main connection
 * spoke to, its own with any other (a helper that fails over to an older
 * server of a cluster being upgraded is not pinned to the main one's:
 * review s6 R6-1). */
static kmip_client *client_for(const krk_config *cfg, krk_log_sink *sink, kmip_health *h,
                               const unsigned *versions)
{
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL)
        return NULL;
    kmip_client *c = NULL;
    if (kmip_client_options_set_server_list(o, cfg->server_addr, cfg->server_port, NULL, 0) ==
            KMIP_CLIENT_OK &&
        kmip_client_options_set_ca(o, cfg->server_ca) == KMIP_CLIENT_OK &&
        kmip_client_options_set_cert(o, cfg->client_cert, cfg->client_key) == KMIP_CLIENT_OK &&
        krk_client_tls_options(o, cfg, sink)) {
        /* a dead server costs the connect timeout, not the operation's */
        unsigned connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 1000u;
        kmip_client_options_set_timeouts(o, connect_ms < cfg->timeout_ms ? connect_ms
                                                                         : cfg->timeout_ms,
                                         cfg->timeout_ms);
        kmip_client_options_set_health(o, h);
        kmip_client_options_set_operation_timeout(o, cfg->timeout_ms);
        kmip_client_options_insecure_skip_verify(o, !cfg->tls_peer_verification);
        kmip_client_options_insecure_skip_hostname(o, !cfg->tls_hostname_verification);
        kmip_client_options_set_known_versions(o, versions, versions ? KMIP_MAX_SERVERS : 0);
        c = kmip_client_new(o);
    }
    kmip_client_options_free(o);
    return c;
}

kmip_client *krk_client_with_health(const krk_config *cfg, krk_log_sink *sink, kmip_health *h)
{
    return client_for(cfg, sink, h, NULL);
}

kmip_client *krk_client_for(const krk_config *cfg, krk_log_sink *sink)
{
    return client_for(cfg, sink, NULL, NULL);
}

void krk_state_note_connection(krk_state *s)
{
    unsigned v = kmip_client_version(s->client);
    snprintf(s->kmip_version, sizeof s->kmip_version, "%u.%u", v >> 8, v & 0xFF);
    kmip_client_tls_info tls;
    snprintf(s->tls_version, sizeof s->tls_version, "%s",
             kmip_client_tls(s->client, &tls) == KMIP_CLIENT_OK ? tls.protocol : "(not connected)");
}

void krk_state_free(krk_state *s)
{
    if (s == NULL)
        return;
    fetcher_free(s->helpers); /* before what they read: cfg, health */
    kmip_client_free(s->client);
    kmip_health_free(s->health);
    krk_cache_clear(&s->cache);
    free(s);
}

krk_err krk_state_open(const krk_config *cfg, krk_progress_fn fn, void *ctx, krk_state **out,
                       krk_diag *d)
{
    krk_state *leftover = NULL;
    krk_err e = krk_state_open_leaving(cfg, fn, ctx, out, &leftover, d);
    krk_state_free(leftover);
    return e;
}

krk_err krk_state_open_leaving(const krk_config *cfg, krk_progress_fn fn, void *ctx,
                               krk_state **out, krk_state **leftover, krk_diag *d)
{
    *out = NULL;
    *leftover = NULL;
    krk_state *s = calloc(1, sizeof *s);
    if (s == NULL || !krk_cache_init(&s->cache)) {
        free(s);
        return krk_fail(d, KRK_E_NOMEM, "out of memory");
    }
    s->cfg = *cfg;
    uint64_t mark = krk_open_diag_begin(cfg, d);
    s->log = (krk_log_sink){cfg->log, cfg->log_ctx, d, NULL};
    krk_err e = KRK_OK;
    kmip_server_addr servers[KMIP_MAX_SERVERS];
    size_t server_count = 0;
    char why[400];
    if (kmip_server_list_parse(cfg->server_addr, cfg->server_port, servers, KMIP_MAX_SERVERS,
                               &server_count, why, sizeof why) != KMIP_CLIENT_OK) {
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"server_addr\": %s", cfg->path, why);
        krk_open_diag_end(mark, d);
        krk_cache_clear(&s->cache);
        free(s);
        return e;
    }
    s->health = kmip_health_new();
    s->client = s->health ? krk_client_with_health(cfg, &s->log, s->health) : NULL;
    kmip_client_err ce;
    if (s->cfg.load_timeout_ms == 0)
        s->cfg.load_timeout_ms = KRK_DEFAULT_LOAD_TIMEOUT_MS;
    /* the whole load has one deadline: a slow or misbehaving server cannot
     * hold an open or a reload (and the writers' lock) longer */
    long long start = kmip_monotonic_ms();
    if (s->client)
        kmip_client_begin_deadline(s->client, s->cfg.load_timeout_ms);
    if (s->client == NULL)
        e = krk_fail(d, KRK_E_NOMEM, "cannot create the KMIP client");
    else if ((ce = kmip_client_connect(s->client)) != KMIP_CLIENT_OK)
        e = server_count > 1
                ? krk_fail(d, krk_kmip_code(ce), "cannot reach any KMIP server: %s",
                           kmip_client_error_message(s->client))
                : krk_fail(d, krk_kmip_code(ce), "cannot reach the KMIP server %s:%u: %s",
                           servers[0].host, servers[0].port,
                           kmip_client_error_message(s->client));
    uid_list l = {0};
    if (e == KRK_OK) { /* Discover Versions, sent while connecting */
        kmip_client_stats st;
        kmip_client_get_stats(s->client, &st);
        s->load_requests = st.requests;
        s->helpers = calloc(1, sizeof *s->helpers);
        if (s->helpers == NULL)
            e = krk_fail(d, KRK_E_NOMEM, "out of memory");
    }
    if (e == KRK_OK) {
        fetcher *f = s->helpers; /* set just above */
        *f = (fetcher){.s = s, .d = d, .l = &l, .e = KRK_OK, .fn = fn, .ctx = ctx,
                       .deadline_ms = start + (long long)s->cfg.load_timeout_ms,
                       .pid = getpid()};
        kmip_client_known_versions(s->client, f->versions, KMIP_MAX_SERVERS);
        f->answers_end = &f->answers;
        pthread_mutex_init(&f->lock, NULL);
        pthread_cond_init(&f->more, NULL);
        /* the diag is shared with helpers from here: they write it only
         * under f->lock, and so does this thread (its client's log sink
         * too: s->log.diag_lock) */
        s->log.diag_lock = &f->lock;
        krk_err le = locate_all_with(s, &l, add_uid_shared, f, NULL);
        pthread_mutex_lock(&f->lock);
        bool list_failed = le != KRK_OK && f->e == KRK_OK;
        if (list_failed)
            f->e = le;
        f->listed = true;
        pthread_cond_broadcast(&f->more);
        pthread_mutex_unlock(&f->lock);
        bool idle = fetch_main(f, s->client); /* no helper touches the load from here */
        s->log.diag_lock = NULL;
        e = f->e;
        if (e == KRK_OK && fn && f->done != f->reported) /* the helpers' last batches */
            fn(ctx, f->done, l.count);
        if (list_failed) /* alone again: the message now */
            e = locate_error(s, &l, d);
        if (idle) {
            fetcher_free(f);
            s->helpers = NULL;
        }
    }
    free_uids(&l);
    if (s->client)
        kmip_client_end_deadline(s->client);
    if (e == KRK_E_KMIP && d && kmip_monotonic_ms() - start >= (long long)s->cfg.load_timeout_ms) {
        char was[sizeof d->error];
        memcpy(was, d->error, sizeof was);
        snprintf(d->error, sizeof d->error, "loading the keys took longer than "
                 "\"load_timeout_ms\" (%u ms): %.600s", s->cfg.load_timeout_ms, was);
    }
    s->log.diag = NULL; /* from now on the front end's logger */
    krk_open_diag_end(mark, d);
    if (e != KRK_OK) {
        if (s->helpers != NULL) { /* helpers still connecting: the caller frees it */
            *leftover = s;
            return e;
        }
        krk_state_free(s);
        return e;
    }
    krk_state_note_connection(s);
    krk_health_check_certs(s, d);
    krk_cred_stamp(&s->cfg, s->cred_stamp);
    *out = s;
    return KRK_OK;
}

static int uid_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

krk_err krk_state_fetch_new(krk_state *from, char **known, size_t known_count, krk_state *into,
                            krk_diag *d)
{
    into->cfg = from->cfg;
    into->client = from->client;
    if (!krk_cache_init(&into->cache))
        return krk_fail(d, KRK_E_NOMEM, "out of memory");
    kmip_client_stats st;
    kmip_client_get_stats(from->client, &st);
    uint64_t before = st.requests;
    uid_list l = {0};
    krk_err e = locate_all(into, &l, d);
    qsort(known, known_count, sizeof *known, uid_cmp);
    size_t n = 0;
    for (size_t i = 0; e == KRK_OK && i < l.count; i++) {
        if (known_count && bsearch(&l.uids[i], known, known_count, sizeof *known, uid_cmp))
            continue;
        l.uids[n] = l.uids[i];
        l.types[n++] = l.types[i];
    }
    if (e == KRK_OK)
        l.count = n;
    if (e == KRK_OK)
        e = fetch_pipelined(into, l.uids, l.types, l.count, d);
    free_uids(&l);
    kmip_client_get_stats(from->client, &st);
    into->load_requests = st.requests - before;
    into->client = NULL;
    return e;
}

bool krk_spec_for(const krk_state *s, krk_key_type type, const char *data_id, const char *auth_id,
                  size_t size, const char *tag, kmip_key_spec *spec, krk_spec_buffers *b)
{
    memset(spec, 0, sizeof *spec);
    if (!krk_layout_name(data_id, auth_id, b->name, sizeof b->name) ||
        !krk_layout_encode(type, data_id, auth_id, tag, b->app_data, sizeof b->app_data))
        return false;
    if (type == KRK_TYPE_AES) {
        spec->object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
        spec->algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
        spec->length_bits = (int32_t)(size * 8);
    } else {
        spec->object_type = KMIP_OBJECT_TYPE_SECRET_DATA;
        spec->secret_data_type = KMIP_SECRET_DATA_TYPE_PASSWORD;
    }
    spec->name = b->name;
    spec->object_group = s->cfg.object_group[0] ? s->cfg.object_group : NULL;
    spec->app_namespace = KRK_APP_NAMESPACE;
    spec->app_data = b->app_data;
    return true;
}

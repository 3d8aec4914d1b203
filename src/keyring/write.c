/* SPDX-License-Identifier: GPL-2.0-only */
/* The write protocol of write.h: one object per identity, any number of
 * writers. */
#include "write.h"

#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layout.h"
#include "reconcile.h"

#define UID_CAP (KMIP_DEFAULT_MAX_STRING + 1)
#define MAX_SURVEY 1024 /* objects carrying one Name: more is not a keyring of ours */

const char *krk_kmip_state_name(uint32_t state)
{
    switch (state) {
    case KMIP_STATE_PRE_ACTIVE:
        return "Pre-Active";
    case KMIP_STATE_ACTIVE:
        return "Active";
    case KMIP_STATE_DEACTIVATED:
        return "Deactivated";
    case KMIP_STATE_COMPROMISED:
        return "Compromised";
    case KMIP_STATE_DESTROYED:
        return "Destroyed";
    case KMIP_STATE_DESTROYED_COMPROMISED:
        return "Destroyed Compromised";
    default:
        return "unknown state";
    }
}

bool krk_write_tag_parse(const uint8_t *data, size_t len, char nonce[33], int64_t *stamp)
{
    if (len < 3 + 32 + 2 || len > 3 + 32 + 1 + 20 || memcmp(data, "w1;", 3) != 0 ||
        data[35] != ';')
        return false;
    for (size_t i = 0; i < 32; i++) {
        char c = (char)data[3 + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
        nonce[i] = c;
    }
    nonce[32] = '\0';
    int64_t v = 0;
    for (size_t i = 36; i < len; i++) {
        if (data[i] < '0' || data[i] > '9' || v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (data[i] - '0');
    }
    *stamp = v;
    return true;
}

typedef struct uids {
    char **v;
    size_t count;
    bool failed;
} uids;

static bool take_uid(void *ctx, const char *uid, size_t len)
{
    uids *u = ctx;
    if (u->count == MAX_SURVEY) {
        u->failed = true;
        return false;
    }
    if (u->v == NULL && (u->v = calloc(MAX_SURVEY, sizeof *u->v)) == NULL) {
        u->failed = true;
        return false;
    }
    for (size_t i = 0; i < u->count; i++)
        if (strlen(u->v[i]) == len && memcmp(u->v[i], uid, len) == 0)
            return true; /* a server repeating itself across pages */
    char *copy = strndup(uid, len); /* the Unique Identifier as a C string */
    if (copy == NULL) {
        u->failed = true;
        return false;
    }
    u->v[u->count++] = copy;
    return true;
}

static void uids_free(uids *u)
{
    for (size_t i = 0; i < u->count; i++)
        free(u->v[i]);
    free(u->v);
}

void krk_survey_free(krk_survey *sv)
{
    for (size_t i = 0; i < sv->count; i++)
        free(sv->items[i].uid);
    free(sv->items);
    free(sv->own.uid);
    memset(sv, 0, sizeof *sv);
}

static bool add_candidate(krk_survey *sv, const krk_candidate *c)
{
    if (sv->count == sv->cap) {
        size_t cap = sv->cap ? sv->cap * 2 : 4;
        krk_candidate *grown = realloc(sv->items, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        sv->items = grown;
        sv->cap = cap;
    }
    sv->items[sv->count++] = *c;
    return true;
}

/* Reads the candidate's attributes; false when it is not of the identity
 * (or gone). */
static bool describe(const kmip_get_attributes_response *ga, const char *data_id,
                     const char *auth_id, krk_candidate *c)
{
    krk_key_type type;
    char *d = NULL, *a = NULL;
    c->object_type = 0;
    for (const kmip_attribute *at = ga->attributes.first; at; at = at->next) {
        if (at->value == NULL || at->value->type != KMIP_TYPE_ENUMERATION)
            continue;
        if (at->tag == KMIP_TAG_STATE)
            c->state = at->value->v.u32;
        else if (at->tag == KMIP_TAG_OBJECT_TYPE)
            c->object_type = at->value->v.u32;
    }
    const char *tag;
    size_t tag_len;
    if (!krk_identify(ga, c->object_type, &type, &d, &a, &tag, &tag_len))
        return false;
    c->tagged = tag && krk_write_tag_parse((const uint8_t *)tag, tag_len, c->nonce, &c->stamp);
    bool same = strcmp(d, data_id) == 0 && strcmp(a, auth_id) == 0;
    free(d);
    free(a);
    c->type = type;
    return same;
}

bool krk_survey_identity(krk_state *s, const char *data_id, const char *auth_id,
                         const char *own_nonce, krk_survey *out, char *why, size_t why_cap)
{
    memset(out, 0, sizeof *out);
    char name[2 * KRK_MAX_ID_BYTES + 2];
    if (!krk_layout_name(data_id, auth_id, name, sizeof name)) {
        snprintf(why, why_cap, "the key's name is too long");
        return false;
    }
    kmip_locate_filter f = {0};
    f.name = name;
    f.object_group = s->cfg.object_group[0] ? s->cfg.object_group : NULL;
    f.page_size = 64;
    uids u = {0};
    kmip_client_err ce = kmip_client_locate(s->client, &f, take_uid, &u);
    if (ce != KMIP_CLIENT_OK || u.failed) {
        snprintf(why, why_cap, "Locate of the objects named \"%s\": %s", name,
                 u.failed ? "too many objects or out of memory"
                          : kmip_client_error_message(s->client));
        uids_free(&u);
        return false;
    }
    /* Name, Application Specific Information, Object Type and State of
     * every candidate, in one request message */
    static const uint32_t wanted[] = {KMIP_TAG_NAME, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION,
                                      KMIP_TAG_OBJECT_TYPE, KMIP_TAG_STATE};
    bool ok = true;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; ok && i < u.count; i += 50) {
        size_t n = u.count - i < 50 ? u.count - i : 50;
        kmip_message *req = NULL, *resp = NULL;
        if (kmip_client_request(s->client, &req) != KMIP_CLIENT_OK) {
            snprintf(why, why_cap, "%s", kmip_client_error_message(s->client));
            ok = false;
            break;
        }
        for (size_t j = 0; ok && j < n; j++)
            ok = kmip_req_add_get_attributes(req, u.v[i + j], wanted, 4) == KMIP_CLIENT_OK;
        if (!ok) {
            kmip_message_free(req);
            snprintf(why, why_cap, "out of memory");
            break;
        }
        ce = kmip_client_call(s->client, req, &resp);
        kmip_message_free(req);
        bool items = (ce == KMIP_CLIENT_OK || ce == KMIP_CLIENT_E_SERVER ||
                      ce == KMIP_CLIENT_E_NOT_FOUND) &&
                     resp && resp->item_count == n;
        if (!items) {
            snprintf(why, why_cap, "Get Attributes of the objects named \"%s\": %s", name,
                     kmip_client_error_message(s->client));
            ok = false;
        }
        for (size_t j = 0; ok && j < n; j++) {
            const kmip_batch_item *bi = &resp->items[j];
            if (bi->result_status != KMIP_RESULT_STATUS_SUCCESS) {
                if (bi->has_result_reason && bi->result_reason == KMIP_RESULT_REASON_ITEM_NOT_FOUND)
                    continue; /* destroyed since the Locate */
                snprintf(why, why_cap, "Get Attributes of object %s failed: %.*s", u.v[i + j],
                         bi->has_result_message ? (int)bi->result_message.len : 0,
                         bi->has_result_message ? (const char *)bi->result_message.data : "");
                ok = false;
                break;
            }
            if (bi->payload == NULL) {
                snprintf(why, why_cap, "Get Attributes of object %s: no answer", u.v[i + j]);
                ok = false;
                break;
            }
            krk_candidate c = {0};
            if (!describe(bi->payload, data_id, auth_id, &c))
                continue;
            if (c.state == KMIP_STATE_DESTROYED || c.state == KMIP_STATE_DESTROYED_COMPROMISED)
                continue;
            bool own = own_nonce && c.tagged && strcmp(c.nonce, own_nonce) == 0;
            if (!own && c.state == KMIP_STATE_PRE_ACTIVE && c.tagged &&
                now - c.stamp > KRK_LEASE_SECONDS) {
                out->expired++;
                continue;
            }
            c.uid = u.v[i + j];
            u.v[i + j] = NULL;
            if (own) {
                free(out->own.uid);
                out->own = c;
            } else if (!add_candidate(out, &c)) {
                free(c.uid);
                snprintf(why, why_cap, "out of memory");
                ok = false;
            }
        }
        kmip_client_release(s->client, resp); /* nothing of it is kept in out */
    }
    for (size_t i = 0; i < u.count; i++)
        free(u.v[i]);
    free(u.v);
    if (!ok)
        krk_survey_free(out);
    return ok;
}

void krk_write_result_free(krk_write_result *r)
{
    free(r->uid);
    free(r->other_uid);
    kmip_secure_free(r->key, r->key_len);
    kmip_secure_free(r->other_key, r->other_len);
    memset(r, 0, sizeof *r);
}

__attribute__((format(printf, 3, 4))) static krk_err say(krk_write_result *r, krk_err e,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    return e;
}

/* Appends to the message. */
__attribute__((format(printf, 2, 3))) static void add(krk_write_result *r, const char *fmt, ...)
{
    size_t n = strlen(r->message);
    if (n + 1 >= sizeof r->message)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message + n, sizeof r->message - n, fmt, ap);
    va_end(ap);
}

/* Destroys our own Pre-Active object (it was never used): a fresh time
 * budget, so that a write that ran out of time still cleans up. */
static void destroy_own(krk_state *s, const char *uid, krk_write_result *r)
{
    kmip_client_end_deadline(s->client);
    kmip_client_begin_deadline(s->client, s->cfg.timeout_ms);
    kmip_client_err e = kmip_client_destroy(s->client, uid);
    if (e != KMIP_CLIENT_OK && e != KMIP_CLIENT_E_NOT_FOUND)
        add(r, "; removing our Pre-Active object %s failed too (%s): it is never served, and "
            "`keyring-kmip check --repair` removes it once its lease (%d s) has run out",
            uid, kmip_client_error_message(s->client), KRK_LEASE_SECONDS);
}

static bool outcome_unknown(kmip_client_err e)
{
    return e == KMIP_CLIENT_E_AMBIGUOUS || e == KMIP_CLIENT_E_PROTOCOL ||
           e == KMIP_CLIENT_E_TIMEOUT || e == KMIP_CLIENT_E_CLOSED || e == KMIP_CLIENT_E_IO;
}

static uint32_t key_format_for(uint32_t object_type)
{
    return object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY ? KMIP_KEY_FORMAT_TYPE_RAW : 0;
}

/* Another object holds the identity: name it, and take its key when it is
 * Active (adopted by the caller; a Pre-Active one is not adopted before it
 * is Active). */
static krk_err yield(krk_state *s, const char *what, const char *data_id, const char *auth_id,
                     const krk_survey *sv, krk_write_result *r)
{
    const krk_candidate *o = &sv->items[0];
    for (size_t i = 0; i < sv->count; i++)
        if (sv->items[i].state == KMIP_STATE_ACTIVE)
            o = &sv->items[i];
    r->other_uid = strdup(o->uid);
    r->other_state = o->state;
    r->other_type = o->type;
    say(r, KRK_E_EXISTS, "key %s (auth_id \"%s\") exists already on the KMIP server as object %s "
        "(%s%s)%s; nothing was %s", data_id, auth_id, o->uid, krk_kmip_state_name(o->state),
        o->state == KMIP_STATE_PRE_ACTIVE ? ": another writer is storing it right now" : "",
        sv->count > 1 ? " among other objects of that identity" : "", what);
    if (o->state == KMIP_STATE_ACTIVE && sv->count == 1 && r->other_uid) {
        uint32_t type = 0;
        if (kmip_client_get_key_as(s->client, o->uid, key_format_for(o->object_type),
                                   &r->other_key, &r->other_len, &type) != KMIP_CLIENT_OK) {
            r->other_key = NULL;
            r->other_len = 0;
        }
    }
    return KRK_E_EXISTS;
}

static bool only_pre_active(const krk_survey *sv)
{
    for (size_t i = 0; i < sv->count; i++)
        if (sv->items[i].state != KMIP_STATE_PRE_ACTIVE)
            return false;
    return sv->count > 0;
}

static krk_err write_once(krk_state *s, krk_key_type type, const char *data_id,
                          const char *auth_id, const uint8_t *data, size_t size,
                          krk_write_result *r, bool *contended)
{
    memset(r, 0, sizeof *r);
    *contended = false;
    const char *what = data ? "stored" : "generated";
    /* the write tag */
    uint8_t raw[16];
    char nonce[33], tag[64];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return say(r, KRK_E_NOMEM, "the random generator failed");
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(nonce + 2 * i, 3, "%02x", raw[i]);
    snprintf(tag, sizeof tag, "w1;%s;%lld", nonce, (long long)time(NULL));
    int64_t started = kmip_monotonic_ms();

    kmip_key_spec spec;
    krk_spec_buffers *b = malloc(sizeof *b);
    char *uid = malloc(UID_CAP);
    if (b == NULL || uid == NULL ||
        !krk_spec_for(s, type, data_id, auth_id, size, tag, &spec, b)) {
        free(b);
        free(uid);
        return say(r, KRK_E_NOMEM, "out of memory");
    }
    uid[0] = '\0';
    /* 1. the object, Pre-Active */
    kmip_client_err ce = data ? kmip_client_register(s->client, &spec, data, size, uid, UID_CAP)
                              : kmip_client_create(s->client, &spec, uid, UID_CAP);
    free(b);
    krk_survey sv;
    char why[1024] = "";
    krk_err e = KRK_OK;
    if (ce != KMIP_CLIENT_OK) {
        say(r, KRK_E_KMIP, "%s key %s on the KMIP server failed: %s",
            data ? "storing" : "generating", data_id, kmip_client_error_message(s->client));
        if (!outcome_unknown(ce)) {
            free(uid);
            return KRK_E_KMIP;
        }
        /* did it land? only an object with our nonce can be ours */
        if (!krk_survey_identity(s, data_id, auth_id, nonce, &sv, why, sizeof why)) {
            add(r, "; whether the server made the object could not be checked (%s): if it "
                "did, it stays Pre-Active with write nonce %s, is never served, and "
                "`keyring-kmip check --repair` removes it after its lease (%d s)",
                why, nonce, KRK_LEASE_SECONDS);
            free(uid);
            return KRK_E_KMIP;
        }
        bool landed = sv.own.uid != NULL;
        if (landed)
            snprintf(uid, UID_CAP, "%s", sv.own.uid);
        krk_survey_free(&sv);
        if (!landed) {
            add(r, "; the server holds no object of this write (checked), nothing was %s", what);
            free(uid);
            return KRK_E_KMIP;
        }
        r->message[0] = '\0';
    }
    /* a generated key is read while still Pre-Active: the write is then
     * complete the moment it is activated */
    if (data == NULL) {
        uint32_t ot = 0;
        ce = kmip_client_get_key_as(s->client, uid, KMIP_KEY_FORMAT_TYPE_RAW, &r->key, &r->key_len,
                                    &ot);
        if (ce != KMIP_CLIENT_OK || r->key_len != size) {
            e = say(r, KRK_E_KMIP, "generating key %s failed: reading the new object %s: %s",
                    data_id, uid, ce != KMIP_CLIENT_OK ? kmip_client_error_message(s->client)
                                                       : "the key has the wrong length");
            destroy_own(s, uid, r);
            free(uid);
            return e;
        }
    }
    /* 2. every object of the identity */
    if (!krk_survey_identity(s, data_id, auth_id, nonce, &sv, why, sizeof why)) {
        e = say(r, KRK_E_KMIP, "%s key %s failed: whether another object holds it could not be "
                "checked: %s", data ? "storing" : "generating", data_id, why);
        destroy_own(s, uid, r);
        free(uid);
        return e;
    }
    if (sv.own.uid == NULL || strcmp(sv.own.uid, uid) != 0) {
        e = say(r, KRK_E_KMIP, "%s key %s failed: the server's Locate does not show the new "
                "object %s, so that it cannot be shown to be the only one",
                data ? "storing" : "generating", data_id, uid);
        destroy_own(s, uid, r);
    } else if (sv.count > 0) {
        e = yield(s, what, data_id, auth_id, &sv, r);
        destroy_own(s, uid, r);
        *contended = only_pre_active(&sv);
    } else if (kmip_monotonic_ms() - started > (int64_t)KRK_LEASE_SECONDS * 1000 / 2) {
        e = say(r, KRK_E_KMIP, "%s key %s failed: it took longer than half the write lease "
                "(%d s)", data ? "storing" : "generating", data_id, KRK_LEASE_SECONDS);
        destroy_own(s, uid, r);
    } else {
        /* 3. the only candidate: activate */
        ce = kmip_client_activate(s->client, uid);
        uint32_t st = 0;
        if (ce != KMIP_CLIENT_OK) {
            e = say(r, KRK_E_KMIP, "%s key %s failed: activating object %s: %s",
                    data ? "storing" : "generating", data_id, uid,
                    kmip_client_error_message(s->client));
            /* an object that may be Active is never destroyed: another
             * writer may have seen it Active and adopted it */
            if (!krk_object_state(s, uid, &st)) {
                add(r, "; whether the server activated it could not be checked (%s): the key "
                    "is not in the keyring; a reload loads it if it is Active",
                    kmip_client_error_message(s->client));
            } else if (st == KMIP_STATE_ACTIVE) {
                e = KRK_OK; /* it was activated; the answer was lost */
                r->message[0] = '\0';
            } else if (st == KMIP_STATE_PRE_ACTIVE) {
                destroy_own(s, uid, r);
            }
        }
    }
    krk_survey_free(&sv);
    if (e == KRK_OK)
        r->uid = uid;
    else
        free(uid);
    if (e != KRK_OK && data == NULL) {
        kmip_secure_free(r->key, r->key_len);
        r->key = NULL;
        r->key_len = 0;
    }
    return e;
}

/* Random back-off of 10 ms to 40 << round ms. */
static void back_off(unsigned round)
{
    uint8_t b[2] = {0, 0};
    if (RAND_bytes(b, 2) != 1)
        b[0] = 7;
    unsigned ms = 10 + ((unsigned)b[0] << 8 | (unsigned)b[1]) % (40u << round);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Liveness: two writers that each saw the other's Pre-Active object both
 * yield. A writer that yielded only to Pre-Active objects (writes in
 * progress) backs off a random while and looks again: the other one won
 * (adopt it: KRK_E_EXISTS), or gave up too (write again, at most 3
 * attempts), or is still going (wait more). Safety does not depend on it:
 * every attempt is the whole protocol. */
krk_err krk_write_key(krk_state *s, krk_key_type type, const char *data_id, const char *auth_id,
                      const uint8_t *data, size_t size, krk_write_result *r)
{
    unsigned round = 0;
    for (int attempt = 0;; attempt++) {
        bool contended = false;
        krk_err e = write_once(s, type, data_id, auth_id, data, size, r, &contended);
        if (e != KRK_E_EXISTS || !contended || attempt == 2)
            return e;
        for (int wait = 0;; wait++) {
            back_off(round++);
            krk_survey sv;
            char why[512];
            if (!krk_survey_identity(s, data_id, auth_id, NULL, &sv, why, sizeof why))
                return e; /* the first answer stands */
            if (sv.count == 0) {
                krk_survey_free(&sv);
                break; /* the other writer gave up too: write again */
            }
            if (!only_pre_active(&sv) || wait == 3) {
                krk_write_result_free(r);
                e = yield(s, data ? "stored" : "generated", data_id, auth_id, &sv, r);
                krk_survey_free(&sv);
                return e;
            }
            krk_survey_free(&sv);
        }
        krk_write_result_free(r);
    }
}

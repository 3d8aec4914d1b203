/* SPDX-License-Identifier: GPL-2.0-only */
/* krk_check_server: what `keyring-kmip check` reports about the server's
 * objects beyond the load: conflicts, and Pre-Active objects (writes in
 * progress, and leftovers of crashed writers whose lease ran out, which
 * --repair destroys). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "state.h"
#include "write.h"

typedef struct check_ctx {
    krk_check_fn fn;
    void *ctx;
    krk_check_result *out;
} check_ctx;

__attribute__((format(printf, 2, 3))) static void say(check_ctx *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c->fn)
        c->fn(c->ctx, line);
}

static void report_conflict(void *ctx, const krk_key *k)
{
    check_ctx *c = ctx;
    if (k->conflict_uid == NULL)
        return;
    c->out->conflicts++;
    say(c, "conflict: key \"%s\" (auth_id \"%s\") is held by objects %s and %s with different "
        "bytes; it is not served until the wrong one is removed on the server",
        k->data_id, k->auth_id, k->uid, k->conflict_uid);
}

typedef struct uids {
    char **v;
    size_t n, cap;
    bool failed;
} uids;

static bool take(void *ctx, const char *uid, size_t len)
{
    uids *u = ctx;
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 64;
        char **v = realloc(u->v, cap * sizeof *v);
        if (v == NULL) {
            u->failed = true;
            return false;
        }
        u->v = v;
        u->cap = cap;
    }
    if ((u->v[u->n] = strndup(uid, len)) == NULL) {
        u->failed = true;
        return false;
    }
    u->n++;
    return true;
}

/* One Pre-Active object: ours with a write tag (in progress, or a
 * leftover past its lease), or someone else's. */
static void pre_active(krk_state *s, check_ctx *c, const char *uid, bool repair, int64_t now)
{
    static const uint32_t wanted[] = {KMIP_TAG_NAME, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION,
                                      KMIP_TAG_OBJECT_TYPE, KMIP_TAG_STATE};
    kmip_message *resp = NULL;
    if (kmip_client_get_attributes(s->client, uid, wanted, 4, &resp) != KMIP_CLIENT_OK) {
        kmip_client_release(s->client, resp);
        return; /* gone since the Locate */
    }
    const kmip_get_attributes_response *ga = resp->items[0].payload;
    uint32_t ot = 0;
    for (const kmip_attribute *a = ga->attributes.first; a; a = a->next)
        if (a->tag == KMIP_TAG_OBJECT_TYPE && a->value && a->value->type == KMIP_TYPE_ENUMERATION)
            ot = a->value->v.u32;
    krk_key_type type;
    char *d = NULL, *au = NULL, nonce[33];
    const char *tag;
    size_t tag_len;
    int64_t stamp = 0;
    if (!krk_identify(ga, ot, &type, &d, &au, &tag, &tag_len)) {
        kmip_client_release(s->client, resp);
        return;
    }
    bool tagged = tag && krk_write_tag_parse((const uint8_t *)tag, tag_len, nonce, &stamp);
    kmip_client_release(s->client, resp); /* ga and tag point into it: not used below */
    if (!tagged) {
        c->out->foreign++;
        say(c, "pre-active: object %s (key \"%s\", auth_id \"%s\") is Pre-Active without a write "
            "tag (not written by this keyring): it is never served; remove it on the server if "
            "nothing uses it", uid, d, au);
    } else if (now - stamp <= KRK_LEASE_SECONDS) {
        c->out->in_progress++;
        say(c, "in progress: object %s (key \"%s\", auth_id \"%s\") is being written (Pre-Active "
            "for %lld s, lease %d s)", uid, d, au, (long long)(now - stamp), KRK_LEASE_SECONDS);
    } else {
        c->out->leftovers++;
        bool removed = repair && kmip_client_destroy(s->client, uid) == KMIP_CLIENT_OK;
        if (removed)
            c->out->removed++;
        say(c, "leftover: object %s (key \"%s\", auth_id \"%s\") stayed Pre-Active %lld s, past "
            "its lease (%d s): a writer crashed before activating it; it is never served%s",
            uid, d, au, (long long)(now - stamp), KRK_LEASE_SECONDS,
            removed  ? "; removed"
            : repair ? "; removing it failed"
                     : "; `keyring-kmip check --repair` removes it");
    }
    free(d);
    free(au);
}

krk_err krk_check_server(const krk_config *cfg, bool repair, krk_check_fn fn, void *ctx,
                         krk_check_result *out, krk_diag *d)
{
    memset(out, 0, sizeof *out);
    krk_state *s = NULL;
    krk_err e = krk_state_open(cfg, NULL, NULL, &s, d);
    if (e != KRK_OK)
        return e;
    check_ctx c = {fn, ctx, out};
    krk_cache_each(&s->cache, report_conflict, &c);
    static const uint32_t types[] = {KMIP_OBJECT_TYPE_SYMMETRIC_KEY, KMIP_OBJECT_TYPE_SECRET_DATA};
    uids u = {NULL, 0, 0, false};
    kmip_client_begin_deadline(s->client, s->cfg.load_timeout_ms);
    for (size_t t = 0; t < 2 && e == KRK_OK; t++) {
        kmip_locate_filter f = {0};
        f.object_group = cfg->object_group[0] ? cfg->object_group : NULL;
        f.object_type = types[t];
        f.state = KMIP_STATE_PRE_ACTIVE;
        if (kmip_client_locate(s->client, &f, take, &u) != KMIP_CLIENT_OK || u.failed)
            e = krk_fail(d, KRK_E_KMIP, "listing Pre-Active objects failed: %s",
                         u.failed ? "out of memory" : kmip_client_error_message(s->client));
    }
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; e == KRK_OK && i < u.n; i++)
        pre_active(s, &c, u.v[i], repair, now);
    kmip_client_end_deadline(s->client);
    for (size_t i = 0; i < u.n; i++)
        free(u.v[i]);
    free(u.v);
    krk_state_free(s);
    return e;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* The core's paged Locate (no I/O): Maximum Items and Offset Items (KMIP
 * 1.3+), in overlapping, anchored pages (core.h says the rule). Offset
 * paging alone skips an object whenever another writer destroys one on a
 * page already read (review s4b R4-1): the next page, asked at the old
 * offset, starts one object later. So each page after the first is asked
 * at the position of the last identifier of the page before (the anchor),
 * one item longer, and the anchor must come back: where it stands in the
 * page says what changed before it. Insertions before it only move it
 * further into the page (nothing skipped, the repeats are dropped); a
 * removal before it takes it out of the page: one page further back (as
 * long as the widest page seen) finds it again where it moved (or, the
 * anchor itself destroyed, the identifier before it), else only a new
 * enumeration from offset 0 can be sure nothing was skipped.
 * As long as the server names each object once and keeps the order of
 * the objects that exist (creations and destructions anywhere; review s5b
 * S5-2, S5-8, docs/ARCHITECTURE.md), a page that holds the anchor is a
 * contiguous run of the list from the anchor on, so every object that
 * exists during the whole Locate lies on some page. A page naming one
 * identifier twice is refused; an object moving from after the anchor to
 * before it cannot be told from one created there and is missed. For an
 * unchanged list this costs no more requests than offset paging did (the page holding the anchor alone is the empty page
 * that ended it before), except against a server capping its pages below
 * Maximum Items (Vault, 16: each page after the first brings 15 new
 * identifiers instead of 16) and a whole list in one short page with
 * Located Items (one more request, as PyKMIP always cost). */
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define DEFAULT_PAGE 256

typedef struct filter_builder {
    kmip_message *m;
    kmip_tree *arena;
    kmip_item *holder;
    kmip_attr_list *list;
    bool failed;
} filter_builder;

static void add(filter_builder *b, uint32_t tag, kmip_item *v)
{
    if (v == NULL || kmip_attr_append(b->m, b->list, tag, v) == NULL)
        b->failed = true;
}

static void add_text_struct(filter_builder *b, uint32_t tag, uint32_t t1, const char *s1,
                            uint32_t t2, const char *s2, bool enum2)
{
    kmip_item *s = kmip_add_struct(b->arena, b->holder, tag);
    if (s == NULL) {
        b->failed = true;
        return;
    }
    b->failed |= kmip_add_text(b->arena, s, t1, s1, strlen(s1)) == NULL;
    if (enum2)
        b->failed |= kmip_add_enum(b->arena, s, t2, KMIP_NAME_TYPE_UNINTERPRETED_TEXT_STRING) == NULL;
    else
        b->failed |= kmip_add_text(b->arena, s, t2, s2, strlen(s2)) == NULL;
    add(b, tag, s);
}

static bool build_filter(kmip_message *m, kmip_locate_request *r, const kmip_locate_filter *f)
{
    filter_builder b = {m, kmip_message_arena(m), kmip_message_arena_root(m), &r->attributes, false};
    r->attributes.present = true;
    if (f->object_type)
        add(&b, KMIP_TAG_OBJECT_TYPE,
            kmip_add_enum(b.arena, b.holder, KMIP_TAG_OBJECT_TYPE, f->object_type));
    if (f->state)
        add(&b, KMIP_TAG_STATE, kmip_add_enum(b.arena, b.holder, KMIP_TAG_STATE, f->state));
    if (f->name)
        add_text_struct(&b, KMIP_TAG_NAME, KMIP_TAG_NAME_VALUE, f->name, KMIP_TAG_NAME_TYPE, NULL,
                        true);
    if (f->object_group)
        add(&b, KMIP_TAG_OBJECT_GROUP,
            kmip_add_text(b.arena, b.holder, KMIP_TAG_OBJECT_GROUP, f->object_group,
                          strlen(f->object_group)));
    if (f->app_namespace)
        add_text_struct(&b, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION,
                        KMIP_TAG_APPLICATION_NAMESPACE, f->app_namespace,
                        KMIP_TAG_APPLICATION_DATA, f->app_data ? f->app_data : "", false);
    return !b.failed;
}

void kc_op_locate(kc_op *op, const kmip_locate_filter *f, kmip_uid_fn fn, void *ctx)
{
    memset(op, 0, sizeof *op);
    op->kind = KC_OP_LOCATE;
    op->filter = f;
    op->fn = fn;
    op->fn_ctx = ctx;
    op->max_ids = KC_LOCATE_MAX_IDS;
}

/* The request for the page at op->offset. */
bool kc_locate_next(kc_core *k, kc_op *op, kmip_message **request)
{
    if (op->step == 0) {
        /* Offset Items arrived in KMIP 1.3: older versions get one request */
        op->paged = k->version >= KMIP_VERSION(1, 3);
        op->page = op->filter->page_size > 0 ? op->filter->page_size : DEFAULT_PAGE;
        op->step = 1;
    }
    kmip_message *req = kmip_message_new(false, k->version);
    kmip_client_err e = req ? kc_locate_build(op, req) : KMIP_CLIENT_E_NOMEM;
    if (e != KMIP_CLIENT_OK) {
        kmip_message_free(req);
        op->done = true;
        op->result = e == KMIP_CLIENT_E_UNSUPPORTED
                         ? kc_status_fail(&k->st, e, "the Locate paged with Offset Items (KMIP "
                                          "1.3 and later); the KMIP server at %s now speaks "
                                          "KMIP %u.%u, which has none: list again",
                                          k->peer, k->version >> 8, k->version & 0xFF)
                         : kc_status_fail(&k->st, e, "out of memory");
        return false;
    }
    *request = req;
    return true;
}

kmip_client_err kc_locate_build(kc_op *op, kmip_message *m)
{
    unsigned version = kmip_message_version(m);
    if (op->pages == 0 && op->offset == 0 && op->anchor == NULL)
        op->paged = version >= KMIP_VERSION(1, 3); /* nothing answered yet: decided again */
    else if (op->paged && version < KMIP_VERSION(1, 3))
        return KMIP_CLIENT_E_UNSUPPORTED; /* the pages so far need Offset Items */
    kmip_batch_item *bi = kmip_message_add_item(m, KMIP_OPERATION_LOCATE);
    kmip_locate_request *r = bi ? bi->payload : NULL;
    if (r == NULL || !build_filter(m, r, op->filter))
        return KMIP_CLIENT_E_NOMEM;
    if (op->paged) {
        /* a page after the first holds the anchor again: one more item */
        op->asked = op->anchor && !op->probing && op->page < INT32_MAX ? op->page + 1 : op->page;
        r->has_maximum_items = true;
        r->maximum_items = op->asked;
        r->has_offset_items = op->offset > 0;
        r->offset_items = op->offset;
    }
    return KMIP_CLIENT_OK;
}

static void locate_done(kc_op *op, kmip_client_err e)
{
    op->done = true;
    op->result = e;
}

/* ---- the identifiers handed on: an open-addressing set of copies ---- */

typedef struct seen_id {
    size_t len;
    int page; /* the last page (op->pages) that listed it */
    char text[];
} seen_id;

struct kc_seen {
    seen_id **slot;
    size_t cap; /* a power of two, at least twice count */
    size_t count, bytes;
};

static uint64_t hash_of(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

static size_t slot_of(const struct kc_seen *s, const uint8_t *p, size_t n)
{
    size_t i = (size_t)hash_of(p, n) & (s->cap - 1);
    while (s->slot[i] &&
           !(s->slot[i]->len == n && (n == 0 || memcmp(s->slot[i]->text, p, n) == 0)))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static bool seen_grow(struct kc_seen *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    seen_id **slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return false;
    struct kc_seen bigger = {slot, cap, s->count, s->bytes};
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i])
            slot[slot_of(&bigger, (const uint8_t *)s->slot[i]->text, s->slot[i]->len)] =
                s->slot[i];
    free(s->slot);
    *s = bigger;
    return true;
}

static seen_id *seen_find(const struct kc_seen *s, const uint8_t *p, size_t n)
{
    return s->cap ? s->slot[slot_of(s, p, n)] : NULL;
}

/* Adds an identifier not in the set, listed on page; false when out of
 * memory. */
static bool seen_add(struct kc_seen *s, const uint8_t *p, size_t n, int page)
{
    if ((s->count + 1) * 2 > s->cap && !seen_grow(s))
        return false;
    seen_id *id = malloc(sizeof *id + n + 1);
    if (id == NULL)
        return false;
    id->len = n;
    id->page = page;
    if (n)
        memcpy(id->text, p, n);
    id->text[n] = '\0';
    s->slot[slot_of(s, p, n)] = id;
    s->count++;
    s->bytes += n;
    return true;
}

static void drop_spare(kc_op *op)
{
    free(op->spare);
    op->spare = NULL;
    op->spare_len = 0;
}

static void drop_anchor(kc_op *op)
{
    free(op->anchor);
    op->anchor = NULL;
    op->anchor_len = 0;
    drop_spare(op);
}

void kc_locate_free(kc_op *op)
{
    drop_anchor(op);
    struct kc_seen *s = op->seen;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i]);
    free(s->slot);
    free(s);
    op->seen = NULL;
}

/* Which identifiers of the page were not handed on before (fresh[i]);
 * their number, or -1 with the operation failed. Only a new identifier
 * counts against the limits (review s4b R4-4: a repeat is no new object). */
static long take_page(kc_core *k, kc_op *op, const kmip_locate_response *l, bool *fresh)
{
    if (op->seen == NULL && (op->seen = calloc(1, sizeof *op->seen)) == NULL) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
        return -1;
    }
    long n = 0;
    for (size_t i = 0; i < l->unique_identifier_count; i++) {
        const kmip_uid *u = &l->unique_identifiers[i];
        fresh[i] = false;
        if (u->is_enum) {
            /* a place in the list that names no object: no anchor */
            locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                           "Locate stopped: the server listed an ID placeholder "
                                           "(item %zu of the page at offset %d), not an "
                                           "identifier", i + 1, (int)op->offset));
            return -1;
        }
        seen_id *was = seen_find(op->seen, u->text.data, u->text.len);
        if (was != NULL && was->page == op->pages && op->paged) {
            /* review s5b S5-8: anchoring takes an identifier for one place
             * in the list; one named twice can stand in for the anchor
             * at its other place, and the objects between are skipped */
            int cut = u->text.len > 128 ? 128 : (int)u->text.len;
            locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                           "Locate stopped: the KMIP server returned identifier "
                                           "\"%.*s\"%s twice in one Locate page at offset %d "
                                           "(a server bug: a Locate lists each object once)",
                                           cut, (const char *)u->text.data,
                                           cut < (int)u->text.len ? "..." : "", (int)op->offset));
            return -1;
        }
        if (was != NULL) {
            was->page = op->pages;
            continue;
        }
        if (op->seen->count >= op->max_ids ||
            u->text.len > KC_LOCATE_MAX_BYTES - op->seen->bytes) {
            locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                           "Locate stopped: the server returned more than %zu "
                                           "identifiers (or %u bytes of them)",
                                           op->max_ids, KC_LOCATE_MAX_BYTES));
            return -1;
        }
        if (!seen_add(op->seen, u->text.data, u->text.len, op->pages)) {
            locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
            return -1;
        }
        fresh[i] = true;
        n++;
    }
    return n;
}

/* Where id stands in the page: its index, or the page's length. */
static size_t index_of(const kmip_locate_response *l, const char *id, size_t len)
{
    size_t i = 0;
    for (; i < l->unique_identifier_count; i++) {
        const kmip_bytes *t = &l->unique_identifiers[i].text;
        if (t->len == len && (len == 0 || memcmp(t->data, id, len) == 0))
            break;
    }
    return i;
}

/* Where the anchor stands in the page, or the page's length. The anchor
 * destroyed, the identifier before it on its page (the spare) anchors the
 * page as well: everything up to it was handed on, and the page is a run
 * of the list from it on; it becomes the anchor. */
static size_t anchor_at(kc_op *op, const kmip_locate_response *l)
{
    size_t got = l->unique_identifier_count;
    size_t at = index_of(l, op->anchor, op->anchor_len);
    if (at < got || op->spare == NULL)
        return at;
    at = index_of(l, op->spare, op->spare_len);
    if (at < got) {
        free(op->anchor);
        op->anchor = op->spare;
        op->anchor_len = op->spare_len;
        op->spare = NULL;
        op->spare_len = 0;
    }
    return at;
}

static char *copy_of(const kmip_uid *u)
{
    char *copy = malloc(u->text.len + 1);
    if (copy && u->text.len)
        memcpy(copy, u->text.data, u->text.len);
    if (copy)
        copy[u->text.len] = '\0';
    return copy;
}

/* The page's last identifier becomes the anchor, the one before it the
 * spare. */
static bool set_anchor(kc_op *op, const kmip_locate_response *l)
{
    size_t got = l->unique_identifier_count;
    char *a = copy_of(&l->unique_identifiers[got - 1]);
    char *b = got > 1 ? copy_of(&l->unique_identifiers[got - 2]) : NULL;
    if (a == NULL || (got > 1 && b == NULL)) {
        free(a);
        free(b);
        return false;
    }
    drop_anchor(op);
    op->anchor = a;
    op->anchor_len = l->unique_identifiers[got - 1].text.len;
    op->spare = b;
    op->spare_len = b ? l->unique_identifiers[got - 2].text.len : 0;
    return true;
}

/* The anchor is not in the page: objects before it were removed (or the
 * server reordered its list); only a new enumeration from offset 0 can be
 * sure nothing was skipped. What was handed on is not handed on again. */
static void restart(kc_core *k, kc_op *op)
{
    if (++op->restarts > KC_LOCATE_MAX_RESTARTS && op->widest == 1) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                       "Locate stopped: the server answers one identifier per "
                                       "page, too few to check a page against the one before "
                                       "(another writer could hide objects)"));
        return;
    }
    if (op->restarts > KC_LOCATE_MAX_RESTARTS) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                       "Locate stopped: the object list kept changing during the "
                                       "Locate (%d times a page no longer held the last "
                                       "identifier of the page before: another writer destroys "
                                       "objects, or the server reorders its list); retry later",
                                       op->restarts));
        return;
    }
    drop_anchor(op);
    op->offset = 0;
    op->stalls = 0;
    op->barren = 0;
}

static void ignores_offset(kc_core *k, kc_op *op)
{
    locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                   "Locate stopped: the server ignores Offset Items (the pages "
                                   "up to offset %d do not move on through the list), or "
                                   "another writer keeps making objects before the page: "
                                   "retry later",
                                   (int)op->offset));
}

void kc_locate_answer(kc_core *k, kc_op *op, kmip_client_err e, const kmip_message *resp)
{
    if (e != KMIP_CLIENT_OK) {
        locate_done(op, e);
        return;
    }
    op->pages++;
    const kmip_locate_response *l = resp->items[0].payload;
    size_t got = l->unique_identifier_count;
    if (op->paged && got > (size_t)op->asked) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL, "the server returned more "
                                       "identifiers than Maximum Items allows"));
        return;
    }
    bool *fresh = malloc(got ? got : 1);
    if (fresh == NULL) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
        return;
    }
    long n = take_page(k, op, l, fresh);
    if (n < 0) {
        free(fresh);
        return;
    }
    /* each identifier not handed on before names an object the server
     * has now, whatever the page turns out to say about the list */
    for (size_t i = 0; i < got && !op->stopped; i++) {
        const kmip_uid *u = &l->unique_identifiers[i];
        if (fresh[i] && !op->fn(op->fn_ctx, (const char *)u->text.data, u->text.len))
            op->stopped = true;
    }
    free(fresh);
    if (!op->paged || op->stopped) {
        locate_done(op, KMIP_CLIENT_OK);
        return;
    }
    /* a page of one identifier when more were asked and no page ever held
     * more: a list of one, or a server capping its pages at one (which an
     * anchored page could never get past). The page after it tells them
     * apart: empty, the list ends (two requests, as offset paging took);
     * the identifier again, further on (objects made before it), goes on
     * the same way; anything else begins again from offset 0 */
    bool probed = op->probing;
    op->probing = false;
    if (probed && got == 0) {
        locate_done(op, KMIP_CLIENT_OK);
        return;
    }
    if (got > op->widest)
        op->widest = got;
    bool first = op->anchor == NULL;
    size_t at = first ? 0 : anchor_at(op, l);
    if (probed && at == got) {
        restart(k, op);
        return;
    }
    if (got == 1 && at == 0 && op->widest == 1 && op->asked > 1 && op->offset < INT32_MAX) {
        if (probed && ++op->stalls > KC_LOCATE_MAX_STALLS) {
            ignores_offset(k, op);
            return;
        }
        if (first && !set_anchor(op, l)) {
            locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
            return;
        }
        op->probing = true;
        op->offset++;
        return;
    }
    if (first ? got == 0 : got == 1 && at == 0) {
        /* an empty list, or nothing after the anchor */
        locate_done(op, KMIP_CLIENT_OK);
        return;
    }
    if (!first && at == got) {
        /* objects before the anchor were removed: it moved down by at most
         * a page (objects made before it moved it up, by how many the page
         * shows). One page that ends where this one began finds it;
         * failing that, offset 0 */
        size_t back = op->widest > 1 ? op->widest - 1 : 1;
        if (!op->stepped_back && op->offset > 0) {
            op->stepped_back = true;
            op->offset = (size_t)op->offset > back ? op->offset - (int32_t)back : 0;
            return;
        }
        op->stepped_back = false;
        restart(k, op);
        return;
    }
    op->stepped_back = false;
    /* pages of nothing new: the identifiers after the anchor are a run of
     * distinct objects, so such pages in a row cannot pass more than were
     * ever handed on (after a restart every page is repeats until the new
     * ones); the anchor last, nothing after it on this page, is objects
     * made before it (going on from its new place) or a server ignoring
     * Offset Items: more than KC_LOCATE_MAX_STALLS in a row are refused */
    size_t after = got - (first ? 0 : at + 1);
    op->barren = n > 0 ? 0 : op->barren + after;
    bool stalled = after == 0;
    if (!first && stalled && got < (size_t)op->asked && got < op->widest) {
        /* review s5b S5-1: the anchor last on a page shorter than asked
         * and than a page the server gave before: nothing follows it
         * (objects made before it moved it), as with the anchor alone */
        locate_done(op, KMIP_CLIENT_OK);
        return;
    }
    op->stalls = stalled ? op->stalls + 1 : 0;
    if (op->barren > op->seen->count || op->stalls > KC_LOCATE_MAX_STALLS) {
        ignores_offset(k, op);
        return;
    }
    /* Located Items ends nothing: a server capping its pages may put
     * anything there (the page's own count, review s4b R4-3; Maximum Items,
     * or a count from before another writer: review s5b S5-3, 729 of 1,000
     * objects missed although two pages agreed on it). The page holding the
     * anchor alone (or a short page ending at it, above) ends the Locate:
     * one request more for a list of several pages than trusting it. */
    size_t step = stalled ? at : got - 1; /* to the new anchor's place */
    if (step > (size_t)(INT32_MAX - op->offset)) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL, "Locate stopped: the "
                                       "server's identifiers go past Offset Items 2^31"));
        return;
    }
    if (!stalled && !set_anchor(op, l)) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
        return;
    }
    op->offset += (int32_t)step;
}

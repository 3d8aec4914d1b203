/* SPDX-License-Identifier: GPL-2.0-only */
/* Opening a keyring state: connect, Locate every Active Symmetric Key and
 * Secret Data of the object group (paged), then fetch them with Get and
 * Get Attributes batched many keys per request message, so that N keys
 * cost about N/KEYS_PER_MESSAGE round trips instead of 2N. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_opts.h"
#include "diag.h"
#include "layout.h"
#include "state.h"

#define KEYS_PER_MESSAGE 50

typedef struct uid_list {
    char **uids;
    size_t count, cap;
    bool failed;
} uid_list;

static bool add_uid(void *ctx, const char *uid, size_t len)
{
    uid_list *l = ctx;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        char **grown = malloc(cap * sizeof *grown);
        if (grown == NULL) {
            l->failed = true;
            return false;
        }
        if (l->count)
            memcpy(grown, l->uids, l->count * sizeof *grown);
        free(l->uids);
        l->uids = grown;
        l->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        l->failed = true;
        return false;
    }
    memcpy(copy, uid, len);
    copy[len] = '\0';
    l->uids[l->count++] = copy;
    return true;
}

static void free_uids(uid_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->uids[i]);
    free(l->uids);
}

static char *text_dup(const kmip_item *it)
{
    if (it == NULL || it->type != KMIP_TYPE_TEXT_STRING)
        return NULL;
    char *s = malloc(it->v.bytes.len + 1);
    if (s) {
        memcpy(s, it->v.bytes.data, it->v.bytes.len);
        s[it->v.bytes.len] = '\0';
    }
    return s;
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
            char *ns = text_dup(kmip_item_child(a->value, KMIP_TAG_APPLICATION_NAMESPACE));
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
    *data_id = text_dup(name);
    *auth_id = strdup("");
    *type = object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY ? KRK_TYPE_AES : KRK_TYPE_SECRET;
    if (*data_id == NULL || *auth_id == NULL || (*data_id)[0] == '\0') {
        free(*data_id);
        free(*auth_id);
        return false;
    }
    return true;
}

/* Adds one fetched object to the cache; a warning when it is skipped. */
static krk_err take(krk_state *s, const char *uid, const kmip_batch_item *get,
                    const kmip_batch_item *attrs, krk_diag *d)
{
    const uint8_t *material;
    size_t len;
    if (get->result_status != KMIP_RESULT_STATUS_SUCCESS || get->payload == NULL ||
        attrs->result_status != KMIP_RESULT_STATUS_SUCCESS || attrs->payload == NULL ||
        !kmip_object_key_material(&((const kmip_get_response *)get->payload)->object, &material,
                                  &len)) {
        krk_warn(d, "object %s skipped: it cannot be read as a plain key", uid);
        return KRK_OK;
    }
    krk_key_type type;
    char *data_id, *auth_id;
    if (!krk_identify(attrs->payload, ((const kmip_get_response *)get->payload)->object_type, &type,
                  &data_id, &auth_id, NULL, NULL)) {
        krk_warn(d, "object %s skipped: it has neither our Application Specific Information "
                 "nor a Name", uid);
        return KRK_OK;
    }
    krk_err e = KRK_OK;
    if (krk_cache_find(&s->cache, data_id, auth_id)) {
        krk_warn(d, "object %s skipped: key \"%s\" (auth_id \"%s\") is held by another object too",
                 uid, data_id, auth_id);
    } else {
        krk_key *k = krk_key_new(data_id, auth_id, type, material, len, uid);
        if (k == NULL || !krk_cache_insert(&s->cache, k))
            e = krk_fail(d, KRK_E_NOMEM, "out of memory loading keys");
    }
    free(data_id);
    free(auth_id);
    return e;
}

static krk_err fetch_batch(krk_state *s, char **uids, size_t n, krk_diag *d)
{
    /* Object Type is asked for too although it is not needed: every object
     * has it, and PyKMIP 0.10 at KMIP 2.0 cannot encode an empty Get
     * Attributes answer (it drops the connection instead). */
    static const uint32_t wanted[] = {KMIP_TAG_NAME, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION,
                                      KMIP_TAG_OBJECT_TYPE};
    kmip_message *req = NULL, *resp = NULL;
    if (kmip_client_request(s->client, &req) != KMIP_CLIENT_OK)
        return krk_fail(d, KRK_E_KMIP, "%s", kmip_client_error_message(s->client));
    for (size_t i = 0; i < n; i++) {
        if (kmip_req_add_uid_op(req, KMIP_OPERATION_GET, uids[i]) != KMIP_CLIENT_OK ||
            kmip_req_add_get_attributes(req, uids[i], wanted, 3) != KMIP_CLIENT_OK) {
            kmip_message_free(req);
            return krk_fail(d, KRK_E_NOMEM, "out of memory building requests");
        }
    }
    kmip_client_err ce = kmip_client_call(s->client, req, &resp);
    kmip_message_free(req);
    s->load_requests++;
    krk_err e = KRK_OK;
    /* a failed item (one unreadable object) is skipped; no answer, or an
     * answer that does not match the request, is fatal */
    bool item_failures = ce == KMIP_CLIENT_E_SERVER || ce == KMIP_CLIENT_E_NOT_FOUND;
    if (ce != KMIP_CLIENT_OK && (!item_failures || resp == NULL || resp->item_count != 2 * n))
        e = krk_fail(d, KRK_E_KMIP, "loading keys from %s:%u failed: %s", s->cfg.server_addr,
                     s->cfg.server_port, kmip_client_error_message(s->client));
    for (size_t i = 0; e == KRK_OK && i < n; i++)
        e = take(s, uids[i], &resp->items[2 * i], &resp->items[2 * i + 1], d);
    kmip_message_free(resp);
    return e;
}

static krk_err locate_all(krk_state *s, uid_list *l, krk_diag *d)
{
    static const uint32_t types[] = {KMIP_OBJECT_TYPE_SYMMETRIC_KEY, KMIP_OBJECT_TYPE_SECRET_DATA};
    for (size_t t = 0; t < 2; t++) {
        kmip_locate_filter f = {0};
        f.object_group = s->cfg.object_group[0] ? s->cfg.object_group : NULL;
        f.object_type = types[t];
        f.state = KMIP_STATE_ACTIVE;
        kmip_client_stats before, after;
        kmip_client_get_stats(s->client, &before);
        kmip_client_err ce = kmip_client_locate(s->client, &f, add_uid, l);
        kmip_client_get_stats(s->client, &after);
        s->load_requests += after.requests - before.requests;
        if (l->failed)
            return krk_fail(d, KRK_E_NOMEM, "out of memory listing keys");
        if (ce != KMIP_CLIENT_OK)
            return krk_fail(d, KRK_E_KMIP, "listing keys on %s:%u failed: %s", s->cfg.server_addr,
                            s->cfg.server_port, kmip_client_error_message(s->client));
    }
    if (s->cfg.max_objects && l->count > s->cfg.max_objects)
        return krk_fail(d, KRK_E_CONFIG, "the KMIP server holds %zu keys for this keyring, more "
                        "than \"max_objects\" (%zu) in %s", l->count, s->cfg.max_objects,
                        s->cfg.path);
    return KRK_OK;
}

static kmip_client *make_client(const krk_config *cfg, krk_log_sink *sink)
{
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL)
        return NULL;
    kmip_client *c = NULL;
    if (kmip_client_options_set_server(o, cfg->server_addr, cfg->server_port) == KMIP_CLIENT_OK &&
        kmip_client_options_set_ca(o, cfg->server_ca) == KMIP_CLIENT_OK &&
        kmip_client_options_set_cert(o, cfg->client_cert, cfg->client_key) == KMIP_CLIENT_OK &&
        krk_client_tls_options(o, cfg, sink)) {
        kmip_client_options_set_timeouts(o, cfg->timeout_ms, cfg->timeout_ms);
        kmip_client_options_set_operation_timeout(o, cfg->timeout_ms);
        kmip_client_options_insecure_skip_verify(o, !cfg->tls_peer_verification);
        kmip_client_options_insecure_skip_hostname(o, !cfg->tls_hostname_verification);
        c = kmip_client_new(o);
    }
    kmip_client_options_free(o);
    return c;
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
    kmip_client_free(s->client);
    krk_cache_clear(&s->cache);
    free(s);
}

krk_err krk_state_open(const krk_config *cfg, krk_progress_fn fn, void *ctx, krk_state **out,
                       krk_diag *d)
{
    *out = NULL;
    krk_state *s = calloc(1, sizeof *s);
    if (s == NULL || !krk_cache_init(&s->cache)) {
        free(s);
        return krk_fail(d, KRK_E_NOMEM, "out of memory");
    }
    s->cfg = *cfg;
    uint64_t mark = krk_open_diag_begin(cfg, d);
    s->log = (krk_log_sink){cfg->log, cfg->log_ctx, d};
    s->client = make_client(cfg, &s->log);
    krk_err e = KRK_OK;
    kmip_client_err ce;
    if (s->client == NULL)
        e = krk_fail(d, KRK_E_NOMEM, "cannot create the KMIP client");
    else if ((ce = kmip_client_connect(s->client)) != KMIP_CLIENT_OK)
        e = krk_fail(d, krk_kmip_code(ce), "cannot reach the KMIP server %s:%u: %s",
                     cfg->server_addr, cfg->server_port, kmip_client_error_message(s->client));
    uid_list l = {0};
    if (e == KRK_OK) { /* Discover Versions, sent while connecting */
        kmip_client_stats st;
        kmip_client_get_stats(s->client, &st);
        s->load_requests = st.requests;
        e = locate_all(s, &l, d);
    }
    for (size_t i = 0; e == KRK_OK && i < l.count; i += KEYS_PER_MESSAGE) {
        size_t n = l.count - i < KEYS_PER_MESSAGE ? l.count - i : KEYS_PER_MESSAGE;
        e = fetch_batch(s, l.uids + i, n, d);
        if (e == KRK_OK && fn)
            fn(ctx, i + n, l.count);
    }
    free_uids(&l);
    s->log.diag = NULL; /* from now on the front end's logger */
    krk_open_diag_end(mark, d);
    if (e != KRK_OK) {
        krk_state_free(s);
        return e;
    }
    krk_state_note_connection(s);
    *out = s;
    return KRK_OK;
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

/* SPDX-License-Identifier: GPL-2.0-only */
/* Settling writes whose outcome is unknown: see reconcile.h. */
#include "reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CANDIDATES 8

bool krk_outcome_unknown(kmip_client_err e)
{
    return e == KMIP_CLIENT_E_AMBIGUOUS || e == KMIP_CLIENT_E_PROTOCOL ||
           e == KMIP_CLIENT_E_TIMEOUT || e == KMIP_CLIENT_E_CLOSED || e == KMIP_CLIENT_E_IO;
}

typedef struct candidates {
    char uid[MAX_CANDIDATES][128];
    size_t count;
} candidates;

static bool take_candidate(void *ctx, const char *uid, size_t len)
{
    candidates *c = ctx;
    if (c->count == MAX_CANDIDATES || len >= sizeof c->uid[0])
        return false;
    memcpy(c->uid[c->count], uid, len);
    c->uid[c->count++][len] = '\0';
    return true;
}

static krk_outcome unknown(krk_state *s, char *why, size_t cap)
{
    snprintf(why, cap, "%s", kmip_client_error_message(s->client));
    return KRK_OUTCOME_UNKNOWN;
}

/* The object's State; 0 when it does not exist. false: the server could
 * not be asked. */
static bool state_of(krk_state *s, const char *uid, uint32_t *state)
{
    static const uint32_t wanted[] = {KMIP_TAG_STATE};
    kmip_message *resp = NULL;
    kmip_client_err e = kmip_client_get_attributes(s->client, uid, wanted, 1, &resp);
    *state = 0;
    if (e == KMIP_CLIENT_OK && resp->item_count == 1 && resp->items[0].payload) {
        const kmip_get_attributes_response *ga = resp->items[0].payload;
        for (const kmip_attribute *a = ga->attributes.first; a; a = a->next)
            if (a->tag == KMIP_TAG_STATE && a->value && a->value->type == KMIP_TYPE_ENUMERATION)
                *state = a->value->v.u32;
    }
    kmip_message_free(resp);
    return e == KMIP_CLIENT_OK || e == KMIP_CLIENT_E_NOT_FOUND;
}

/* Removes a leftover; a failure leaves a non-Active object the keyring
 * never loads. */
static void clean_up(krk_state *s, const char *uid, uint32_t state)
{
    kmip_client_err e = state == KMIP_STATE_ACTIVE ? kmip_client_revoke_destroy(s->client, uid)
                                                   : kmip_client_destroy(s->client, uid);
    (void)e;
}

static bool find(krk_state *s, krk_key_type type, const char *data_id, const char *auth_id,
                 size_t size, candidates *c)
{
    kmip_key_spec spec;
    krk_spec_buffers *b = malloc(sizeof *b);
    if (b == NULL || !krk_spec_for(s, type, data_id, auth_id, size, &spec, b)) {
        free(b);
        return false;
    }
    kmip_locate_filter f = {0};
    f.object_group = spec.object_group;
    f.object_type = spec.object_type;
    f.app_namespace = spec.app_namespace;
    f.app_data = spec.app_data;
    f.page_size = MAX_CANDIDATES;
    kmip_client_err e = kmip_client_locate(s->client, &f, take_candidate, c);
    free(b);
    return e == KMIP_CLIENT_OK;
}

krk_outcome krk_reconcile_store(krk_state *s, krk_key_type type, const char *data_id,
                                const char *auth_id, size_t size, const char *known_uid,
                                const uint8_t *expected, char *uid, size_t uid_cap,
                                uint8_t **key, size_t *key_len, char *why, size_t why_cap)
{
    candidates c = {.count = 0};
    if (known_uid && known_uid[0])
        take_candidate(&c, known_uid, strlen(known_uid));
    else if (!find(s, type, data_id, auth_id, size, &c))
        return unknown(s, why, why_cap);
    for (size_t i = 0; i < c.count; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        uint32_t object_type = 0, state = 0;
        kmip_client_err e = kmip_client_get_key(s->client, c.uid[i], &bytes, &len, &object_type);
        if (e == KMIP_CLIENT_E_NOT_FOUND)
            continue;
        if (e != KMIP_CLIENT_OK)
            return unknown(s, why, why_cap);
        bool ours = len == size && (expected == NULL || kmip_ct_equal(bytes, expected, size));
        if (!state_of(s, c.uid[i], &state)) {
            kmip_secure_free(bytes, len);
            return unknown(s, why, why_cap);
        }
        if (ours && state == KMIP_STATE_PRE_ACTIVE &&
            kmip_client_activate(s->client, c.uid[i]) == KMIP_CLIENT_OK)
            state = KMIP_STATE_ACTIVE;
        if (ours && state == KMIP_STATE_ACTIVE && snprintf(uid, uid_cap, "%s", c.uid[i]) > 0) {
            if (key) {
                *key = bytes;
                *key_len = len;
            } else {
                kmip_secure_free(bytes, len);
            }
            return KRK_OUTCOME_ADOPTED;
        }
        kmip_secure_free(bytes, len);
        if (ours && state != 0)
            clean_up(s, c.uid[i], state);
        /* an object of another writer with the same identity is left alone */
    }
    return KRK_OUTCOME_ABSENT;
}

krk_outcome krk_reconcile_remove(krk_state *s, const char *uid, char *why, size_t why_cap)
{
    uint32_t state = 0;
    if (!state_of(s, uid, &state))
        return unknown(s, why, why_cap);
    if (state == KMIP_STATE_ACTIVE)
        return KRK_OUTCOME_ADOPTED;
    if (state != 0)
        clean_up(s, uid, state);
    return KRK_OUTCOME_ABSENT;
}

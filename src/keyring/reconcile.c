/* SPDX-License-Identifier: GPL-2.0-only */
/* Settling writes whose outcome is unknown: see reconcile.h. */
#include "reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool krk_outcome_unknown(kmip_client_err e)
{
    return e == KMIP_CLIENT_E_AMBIGUOUS || e == KMIP_CLIENT_E_PROTOCOL ||
           e == KMIP_CLIENT_E_TIMEOUT || e == KMIP_CLIENT_E_CLOSED || e == KMIP_CLIENT_E_IO;
}

static krk_outcome unknown(krk_state *s, char *why, size_t cap)
{
    snprintf(why, cap, "%s", kmip_client_error_message(s->client));
    return KRK_OUTCOME_UNKNOWN;
}

/* The object's State; 0 when it does not exist. false: the server could
 * not be asked. */
bool krk_object_state(krk_state *s, const char *uid, uint32_t *state)
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
    kmip_client_release(s->client, resp);
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

krk_outcome krk_reconcile_remove(krk_state *s, const char *uid, char *why, size_t why_cap)
{
    uint32_t state = 0;
    if (!krk_object_state(s, uid, &state))
        return unknown(s, why, why_cap);
    if (state == KMIP_STATE_ACTIVE)
        return KRK_OUTCOME_ADOPTED;
    if (state != 0)
        clean_up(s, uid, state);
    return KRK_OUTCOME_ABSENT;
}

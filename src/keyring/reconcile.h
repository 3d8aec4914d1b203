/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: settling a removal whose outcome is unknown (stores and
 * generates: write.h). A remove whose request left but whose answer was lost (or garbled) may or
 * may not have happened on the server; before reporting anything the
 * keyring asks the server what is there, so that the keyring's view and
 * the server's agree. */
#ifndef KRK_RECONCILE_H
#define KRK_RECONCILE_H

#include "state.h"

typedef enum krk_outcome {
    KRK_OUTCOME_ABSENT,  /* nothing of it is on the server (any leftover was cleaned up) */
    KRK_OUTCOME_ADOPTED, /* the object is on the server, whole and Active: it is the key */
    KRK_OUTCOME_UNKNOWN, /* the server could not be asked */
} krk_outcome;

/* The object's KMIP State; 0 when it does not exist. false: the server
 * could not be asked. */
bool krk_object_state(krk_state *s, const char *uid, uint32_t *state);

/* True for the client errors after which a write may have taken effect. */
bool krk_outcome_unknown(kmip_client_err e);

/* After a Revoke + Destroy of uid: ABSENT when the object is gone or no
 * longer Active (a Destroy is tried again; the keyring loads Active objects
 * only), ADOPTED when it is still Active, UNKNOWN when the server could not
 * be asked. */
krk_outcome krk_reconcile_remove(krk_state *s, const char *uid, char *why, size_t why_cap);

#endif

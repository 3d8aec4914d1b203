/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: settling a write whose outcome is unknown. A store, generate or
 * remove whose request left but whose answer was lost (or garbled) may or
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

/* True for the client errors after which a write may have taken effect. */
bool krk_outcome_unknown(kmip_client_err e);

/* After a store (expected = the key bytes) or a generate (expected NULL):
 * the object is found by known_uid when the server gave one, else by
 * Locate on its identity (object group + Application Specific
 * Information). An object holding the expected bytes (any bytes of the
 * right length for a generate) is activated if Pre-Active and adopted;
 * anything else of ours with that identity that is not Active is
 * destroyed. On ADOPTED uid is set and, for a generate, *key and *key_len hold
 * the bytes (kmip_secure_free). why gets the reason of UNKNOWN. */
krk_outcome krk_reconcile_store(krk_state *s, krk_key_type type, const char *data_id,
                                const char *auth_id, size_t size, const char *known_uid,
                                const uint8_t *expected, char *uid, size_t uid_cap,
                                uint8_t **key, size_t *key_len, char *why, size_t why_cap);

/* After a Revoke + Destroy of uid: ABSENT when the object is gone or no
 * longer Active (a Destroy is tried again; the keyring loads Active objects
 * only), ADOPTED when it is still Active, UNKNOWN when the server could not
 * be asked. */
krk_outcome krk_reconcile_remove(krk_state *s, const char *uid, char *why, size_t why_cap);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the write protocol that keeps one object per identity with any
 * number of writers (docs/RELIABILITY.md, invariant 1). No compare-and-set
 * is needed from the server:
 *
 *   1. Register (store) or Create (generate) the object Pre-Active, tagged
 *      with a random write nonce and the writer's clock: the write tag
 *      "w1;NONCE;UNIX_SECONDS" appended to our Application Data (layout.h).
 *   2. Locate every object of the identity in any state (by Name and
 *      Object Group, then Get Attributes per candidate: the Name is not
 *      injective, our identity Application Data is).
 *   3. The new object is the only live one: Activate it, the write won.
 *      Another one exists (Active, Deactivated, Compromised, or Pre-Active
 *      within its lease): destroy our own object and report the other one.
 *
 * A writer only ever destroys objects carrying its own nonce, never one it
 * activated. A Pre-Active object whose tag is older than KRK_LEASE_SECONDS
 * no longer counts (its writer crashed: a writer never activates later than
 * half the lease after its Register); `keyring-kmip check --repair` removes
 * such leftovers. */
#ifndef KRK_WRITE_H
#define KRK_WRITE_H

#include "state.h"

/* 10 minutes: a write takes at most kmip_timeout_ms (10 s by default, a
 * few minutes at most in any sane configuration) and is abandoned after
 * half the lease; the other half covers clock differences between hosts. */
#define KRK_LEASE_SECONDS 600

/* One object of an identity as the server shows it. */
typedef struct krk_candidate {
    char *uid;
    uint32_t state;       /* KMIP State */
    uint32_t object_type; /* KMIP Object Type */
    krk_key_type type;
    bool tagged;          /* carries a write tag */
    char nonce[33];
    int64_t stamp;        /* the writer's clock at Register (Unix seconds) */
} krk_candidate;

typedef struct krk_survey {
    krk_candidate *items; /* live objects of the identity (own excluded) */
    size_t count, cap;
    krk_candidate own;    /* the object with the writer's nonce, if seen (uid NULL if not) */
    size_t expired;       /* Pre-Active leftovers past their lease, ignored */
} krk_survey;

/* Every object of (data_id, auth_id) in the keyring's group, any state:
 * Destroyed objects and Pre-Active ones past their lease are left out
 * (expired counts the latter); own_nonce (or NULL) picks out the writer's
 * own object. false with why set when the server could not be asked. */
bool krk_survey_identity(krk_state *s, const char *data_id, const char *auth_id,
                         const char *own_nonce, krk_survey *out, char *why, size_t why_cap);
void krk_survey_free(krk_survey *sv);

/* Reads a write tag's Application Data. */
bool krk_write_tag_parse(const uint8_t *data, size_t len, char nonce[33], int64_t *stamp);

typedef struct krk_write_result {
    char *uid;          /* the object written (KRK_OK) */
    uint8_t *key;       /* generate: the bytes the server made (kmip_secure_free) */
    size_t key_len;
    /* KRK_E_EXISTS: the other object; when it is Active its key is here to
     * be adopted into the cache */
    char *other_uid;
    uint32_t other_state;
    krk_key_type other_type;
    uint8_t *other_key;
    size_t other_len;
    char message[1536]; /* why it failed */
} krk_write_result;

/* Stores data (generate: data NULL, an AES key of size bytes made by the
 * server) under (data_id, auth_id) with the protocol above. KRK_OK: the
 * object is Active and the only one; KRK_E_EXISTS: another object of the
 * identity exists (named in the result), nothing of ours is left;
 * KRK_E_KMIP / KRK_E_NOMEM: failed, the message says what is left on the
 * server (nothing, unless removing our own Pre-Active object failed too). */
krk_err krk_write_key(krk_state *s, krk_key_type type, const char *data_id, const char *auth_id,
                      const uint8_t *data, size_t size, krk_write_result *r);
void krk_write_result_free(krk_write_result *r);

/* Human name of a KMIP State ("Active", "Pre-Active", ...). */
const char *krk_kmip_state_name(uint32_t state);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the state a front end sees of a cached key (krk_key_state of
 * krk.h); the names of types and states are krk.h's krk_type_name,
 * krk_type_parse and krk_key_state_name (types.c). */
#ifndef KRK_TYPES_H
#define KRK_TYPES_H

#include "cache.h"
#include "keyring_kmip/krk.h"

/* Conflict before the KMIP State: a key in conflict is not served. */
krk_key_state krk_key_state_of(const krk_key *key);

#endif

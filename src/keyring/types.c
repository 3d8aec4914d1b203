/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of key types and key states. */
#include <strings.h>

#include "kmip/kmip_tags.h"
#include "types.h"

static const char *const type_names[] = {"AES", "RSA", "DSA", "SECRET"};

const char *krk_type_name(krk_key_type t)
{
    return (unsigned)t < 4 ? type_names[t] : "UNKNOWN";
}

bool krk_type_parse(const char *s, krk_key_type *t)
{
    for (unsigned i = 0; s && i < 4; i++) {
        if (strcasecmp(s, type_names[i]) == 0) {
            *t = (krk_key_type)i;
            return true;
        }
    }
    return false;
}

krk_key_state krk_key_state_of(const krk_key *key)
{
    if (key->conflict_uid)
        return KRK_KEY_CONFLICT;
    if (key->state == KMIP_STATE_DEACTIVATED)
        return KRK_KEY_DEACTIVATED;
    if (key->state == KMIP_STATE_COMPROMISED)
        return KRK_KEY_COMPROMISED;
    return KRK_KEY_ACTIVE;
}

const char *krk_key_state_name(krk_key_state st)
{
    static const char *const names[] = {"Active", "Deactivated", "Compromised", "Conflict"};
    return (unsigned)st < 4 ? names[st] : "unknown";
}

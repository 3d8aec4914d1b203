/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: KMIP request processing of the test server. */
#ifndef KTS_ENGINE_H
#define KTS_ENGINE_H

#include "kmip/kmip_message.h"
#include "faults.h"
#include "store.h"

/* Behaviour switches (for tests that need an older or stranger server). */
typedef struct kts_options {
    bool no_discover_versions; /* answer Discover Versions as a KMIP 1.0 server would */
    unsigned max_version; /* 0, or the highest version spoken (KMIP_VERSION): requests of
                             a later one are refused with Invalid Message, as an older
                             server refuses them */
} kts_options;

/* Answers every batch item of req into a new response (ID placeholders
 * chain the items), with the engine-level fault f (deny_get, gone_get,
 * ignore_offset, refuse_destroy, long_uid; others are ignored here). NULL
 * when out of memory. */
kmip_message *kts_process(kts_store *store, const kts_options *opt, const char *owner,
                          const kmip_message *req, kts_fault f);

#endif

/* Test tooling: KMIP request processing of the test server. */
#ifndef KTS_ENGINE_H
#define KTS_ENGINE_H

#include "kmip/kmip_message.h"
#include "store.h"

/* Answers every batch item of req into a new response (ID placeholders
 * chain the items). NULL when out of memory. */
kmip_message *kts_process(kts_store *store, const char *owner, const kmip_message *req);

#endif

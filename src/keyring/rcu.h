/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: epoch-based reclamation for readers that take no lock.
 *
 * A reader brackets its use of published pointers with krk_rcu_read_lock /
 * krk_rcu_read_unlock: two stores to a slot of its own thread (its own
 * cache line), no lock, nothing another reader writes. A writer unpublishes
 * (an atomic store: unlinks a key, swaps a table or a state) and calls
 * krk_rcu_synchronize before freeing what it unpublished: it returns once
 * every reader that could still hold the old pointer has left its read
 * section. Readers must not block inside a read section (no lock, no I/O),
 * since a writer holding the keyring's lock may be waiting for them.
 * Read sections nest. Slots are per thread and process-wide; a thread's
 * slot is given back when the thread exits, and in a child of fork() every
 * slot but the forking thread's is given back (the other threads do not
 * exist there). */
#ifndef KRK_RCU_H
#define KRK_RCU_H

#include <stdbool.h>

/* False only when the thread's slot could not be allocated (out of
 * memory): the caller then takes its locked path instead. */
bool krk_rcu_read_lock(void);
void krk_rcu_read_unlock(void);
/* Waits until no read section that began before the call is running. */
void krk_rcu_synchronize(void);

#endif

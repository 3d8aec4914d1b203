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
#include <stddef.h>

/* The calling thread's slot (rcu.c). */
typedef struct krk_rcu_thread krk_rcu_thread;

/* Enters a read section and returns the thread's slot, to be handed to
 * krk_rcu_read_unlock (one thread-local lookup per section); NULL only when
 * the slot could not be allocated (out of memory): the caller then takes
 * its locked path instead. */
krk_rcu_thread *krk_rcu_read_lock(void);
void krk_rcu_read_unlock(krk_rcu_thread *t);
/* Waits until no read section that began before the call is running. */
void krk_rcu_synchronize(void);

/* Each slot carries one spare block of KRK_RCU_SPARE_BYTES (aligned to
 * 16) for a short-lived object of the read path that would otherwise be a
 * malloc and a free per read (the keyring's reader). Only the slot's
 * thread takes it (NULL when it is in use); any thread may give it back,
 * once, when done with it (the block is never freed: slots outlive their
 * threads). The block is in cache lines of its own, apart from the epoch
 * that writers poll. The bytes are not wiped here: the user wipes what it
 * stored before giving the block back. */
#define KRK_RCU_SPARE_BYTES 112
/* What the library's destructor runs (dlclose, exit): deletes the
 * pthread key that gives slots back at thread exit; a thread that reads
 * for the first time afterwards (exit() while it runs) gets a slot that is
 * never given back, and never sets the key (its index may already be
 * another library's). Tests call it directly. */
void krk_rcu_unload(void);
void *krk_rcu_spare_take(krk_rcu_thread *t);
void krk_rcu_spare_give_back(void *block);

#endif

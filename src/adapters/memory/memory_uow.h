/*
 * adapters/memory/memory_uow.h - the unit-of-work port in process memory.
 *
 * For unit tests and the CLI's dry runs.  A memory_store plays the part of
 * one database: several units of work (one per thread) may share it.  The
 * store keeps its own deep copies; loads copy out into the caller's arena
 * and commits copy back in, so nothing aliases the store and a rollback
 * really discards.  Commit checks each product's version, as a database
 * adapter does, so lost races show up as SC_ECONFLICT here too.
 */
#ifndef SCENTS_ADAPTERS_MEMORY_MEMORY_UOW_H
#define SCENTS_ADAPTERS_MEMORY_MEMORY_UOW_H

#include <stdint.h>

struct memory_store;
struct sc_err;
struct uow;

/* A new empty store.  SC_ENOMEM. */
int memory_store_new(struct memory_store **out /* OUT */, struct sc_err *err);

/* Free @s and everything in it; its units of work must be freed first. */
void memory_store_free(struct memory_store *s);

/*
 * Move @s's clock (outbox creation times and leases) @seconds ahead of the
 * wall clock: tests use it to let a lease expire without waiting.
 */
void memory_store_advance_clock(struct memory_store *s, int64_t seconds);

/* A unit of work on @s (borrowed; must outlive it).  SC_ENOMEM. */
int memory_uow_new(struct memory_store *s, struct uow **out /* OUT */,
		   struct sc_err *err);

#endif

/*
 * service/bus.h - the message bus (the book's messagebus.py).
 *
 * bus_handle() takes one command, runs its handler, then every event the
 * committed work raised, and the events those raise, in order, until the
 * queue is empty.  A command's error returns to the caller; an event
 * handler's error is logged and the other handlers still run.  A command
 * that loses an optimistic-concurrency race (SC_ECONFLICT) is retried up to
 * max_attempts times with jittered exponential backoff.
 *
 * Memory: the bus owns one arena for the message being handled; it is
 * reset when bus_handle() returns, so nothing borrowed from a handler
 * outlives the call (results are copied into struct bus_result).
 *
 * A bus is used by one thread at a time: give each thread its own bus and
 * its own unit of work.
 */
#ifndef SCENTS_SERVICE_BUS_H
#define SCENTS_SERVICE_BUS_H

#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"
#include "service/handlers.h"

/* Default attempts of a command that keeps losing races. */
#define BUS_MAX_ATTEMPTS 12

struct writer;

struct bus {
	const struct handler_entry *table; /* dispatch; handler_table */
	struct deps deps;      /* what handlers use; deps.arena = &arena */
	struct arena arena;    /* storage of the current message */
	unsigned max_attempts; /* tries of a conflicting command, >= 1 */
	unsigned backoff_us;   /* first backoff; doubles per retry */
	uint64_t rng;	       /* xorshift state for the jitter */
	uint64_t n_retries;    /* conflicts retried so far (for tests) */
	struct writer *writer; /* set: commands go to this batched writer
				  (service/writer.h) instead of running here */
};

/*
 * Set up @b with copies of @d's pointers (borrowed: they must outlive the
 * bus) and @seed for the jitter.  Allocates nothing.
 */
void bus_init(struct bus *b, const struct deps *d, uint64_t seed);

/* Free the arena.  Does not free the adapters in deps. */
void bus_release(struct bus *b);

/*
 * Handle command @cmd (its strings are borrowed for the call).  @res may be
 * NULL.  Returns the command handler's code: SC_OK, SC_EINVAL,
 * SC_ENOTFOUND, SC_EEXIST, SC_ECONFLICT (still losing after every
 * attempt), SC_EIO or SC_ENOMEM.  Out of stock is SC_OK with
 * res->allocated false.
 */
int bus_handle(struct bus *b, const struct msg *cmd, struct bus_result *res,
	       struct sc_err *err);

/*
 * bus_handle() on this bus's own unit of work, whatever b->writer says:
 * what the writer runs for each command of a batch, and what a submitter
 * runs when the writer lets it go inline (writer_try_inline).
 */
int bus_run(struct bus *b, const struct msg *cmd, struct bus_result *res,
	    struct sc_err *err);

#endif

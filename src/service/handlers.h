/*
 * service/handlers.h - what the system does for each message (the book's
 * handlers.py and its COMMAND_HANDLERS / EVENT_HANDLERS tables).
 *
 * Two tables, both indexed by enum msg_type:
 *  - handler_table: run by the bus.  A command has exactly one handler;
 *    an event zero or more, each after the transaction that raised it
 *    committed.
 *  - in_tx_handler_table: run inside the transaction that raised the
 *    event, just before its commit.  Deallocated -> reallocate lives here
 *    (unless the line was cancelled), so a deallocation and its
 *    reallocation commit together (design.md section 9) and a crash can
 *    never strand a line.  Every outgoing event (domain/events.h) is
 *    queued in the outbox here, so no committed event is lost; after the
 *    commit their handlers only wake the relay (service/relay.h), which
 *    publishes and mails them.
 */
#ifndef SCENTS_SERVICE_HANDLERS_H
#define SCENTS_SERVICE_HANDLERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "domain/messages.h"
#include "domain/model.h"

struct arena;
struct uow;

/*
 * Told after a commit that queued events in the outbox, so the relay can
 * deliver them now rather than at its next poll.  Embedded first by its
 * owner; must not block.
 */
struct outbox_signal {
	void (*notify)(struct outbox_signal *self); /* wake the relay */
};

/* Everything a handler may use; built once, in bootstrap. */
/*
 * Counters shared by every bus of a process, read by GET /metrics from
 * other threads: atomics.  Zero-initialised.
 */
struct bus_metrics {
	atomic_ullong retries;	 /* conflicting commands tried again */
	atomic_ullong conflicts; /* commands still conflicting at the end */
};

struct deps {
	struct uow *uow;	      /* the store */
	struct bus_metrics *metrics;  /* may be NULL */
	struct outbox_signal *signal; /* wakes the relay; may be NULL */
	struct arena *arena;	      /* the current message's arena */
	int32_t result_version;	      /* a tx body's formula version out */
};

/* A line a Deallocate freed (in the result's arena). */
struct freed_line {
	const char *sku;      /* product */
	int64_t qty;	      /* units given back */
	const char *batchref; /* the batch they went back to; NULL for a
				 backorder (it held none) */
};

/* What a refill did for one scent (in the result's arena). */
struct refill_outcome {
	const char *sku;      /* the scent */
	int64_t ul;	      /* microlitres to fill */
	int64_t qty;	      /* units ordered */
	int64_t cartridges;   /* filled (0 unless allocated now) */
	bool allocated;	      /* a batch took the line */
	bool repeated;	      /* the order line was placed before */
	const char *batchref; /* that batch, or NULL */
};

/*
 * What a command produced, for the caller (copied out of the bus arena).
 * A list result needs @arena, set by the caller before the call and kept
 * by it; without one the list is not returned (the command still runs).
 */
struct bus_result {
	bool allocated;			/* Allocate: a batch took the line */
	bool backordered;		/* Allocate: the line waits for stock */
	char batchref[SC_ID_MAX + 1];	/* Allocate: that batch, else "" */
	int64_t round_id;		/* ImportResearch: the new round */
	int32_t version;		/* AddFormula, ActivateFormula,
					   PromoteWinner: the version */
	bool activated;			/* AddFormula: it became active */
	int64_t survey_id;		/* CreateSurvey: the new survey */
	int64_t track_id;		/* ImportTrack: the new track */
	int64_t venue_id;		/* ImportVenue: the new venue */
	int64_t show_id;		/* RecordShow: the show recorded */
	int64_t alerts;			/* RecordShow: CartridgeLow raised */
	struct refill_outcome *refills; /* RefillCartridges: per scent */
	size_t n_refills;		/* entries in refills */
	struct arena *arena;	  /* the caller's, for lists; may be NULL */
	struct freed_line *freed; /* Deallocate: lines freed, sku order */
	size_t n_freed;		  /* entries in freed */
};

/*
 * A handler.  @res is NULL for events.  Returns SC_OK or a negative code
 * with @err set; command errors reach the caller unchanged.
 */
typedef int handler_fn(const struct msg *m, struct deps *d,
		       struct bus_result *res, struct sc_err *err);

/* Most handlers one message type may have. */
#define HANDLERS_MAX 4

struct handler_entry {
	size_t n_fns;		       /* how many of fns are used */
	handler_fn *fns[HANDLERS_MAX]; /* run in this order */
};

/* The bus's dispatch table. */
extern const struct handler_entry handler_table[MSG__COUNT];

/* Handlers run before commit, in the raising transaction; NULL = none. */
extern handler_fn *const in_tx_handler_table[MSG__COUNT];

#endif

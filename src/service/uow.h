/*
 * service/uow.h - the storage port: a unit of work and what it holds.
 *
 * A unit of work is one transaction over the store.  Handlers begin it,
 * load products through the repository, change them through the domain,
 * and commit; anything else ends in uow_rollback(), which is a no-op after
 * a commit (the book's __exit__).  Work not committed is discarded.
 *
 * The port is five tables an adapter fills (docs/decisions/0011):
 *   uow_tx_ops       the transaction core: begin, commit, rollback;
 *   product_repo_ops the product repository: loads, and the primitive
 *                    writes the one generic save (uow_commit) issues;
 *   outbox_ops       events leaving the process: add, claim with a lease,
 *                    mark, and reads for inspection;
 *   query_ops        read views (products, allocations, research, tokens);
 *   record_ops       other rows written in a transaction (research, tokens);
 * plus admin_ops for operators (ping, probe, stats, check, backup).
 *
 * The repository is an identity map within a unit of work: a product
 * loaded twice is the same object, so every change lands in one place.
 * uow_commit() walks each seen product's typed change list (domain/model.h)
 * and turns it into repository calls, starting with the optimistic check:
 * the stored version must still equal the version the product was loaded
 * with, else SC_ECONFLICT (retryable).  Adapters keep the read model
 * (allocations by order) in the same transaction as the write model.
 *
 * Inside an open transaction (one semantics for every adapter, enforced by
 * the wrappers in service/uow.c and proved by the contract suite):
 *   - queries run and see committed data; they never see this
 *     transaction's product changes (those are written by uow_commit) and
 *     are refused (SC_EINVAL) once the transaction wrote a record, since
 *     stores differ in whether a record is visible before commit;
 *   - outbox claim and mark, and admin calls that write (probe, check,
 *     backup), are refused with SC_EINVAL: they commit on their own.
 *
 * Callers use only the functions and inline wrappers below.  A unit of
 * work is used by one thread at a time; open one per thread.
 */
#ifndef SCENTS_SERVICE_UOW_H
#define SCENTS_SERVICE_UOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "domain/analytics.h"
#include "domain/cue.h"
#include "domain/customer.h"
#include "domain/events.h"
#include "domain/formula.h"
#include "domain/messages.h"
#include "domain/sourcing.h"
#include "domain/token.h"

struct arena;
struct batch;
struct order_line;
struct product;
struct uow;

/*
 * What a load must include beyond each batch and its allocated total.
 * Either field may be NULL.
 */
struct load_hint {
	const char *orderid;  /* every allocation and backorder of this order */
	const char *lines_of; /* every line of this batch ref, oldest first */
	bool backorders;      /* every backorder of the sku, oldest first
				 (product.backorders_complete) */
};

/* One line of the product list: a sku and its totals. */
struct product_summary {
	const char *sku;   /* product */
	int64_t purchased; /* sum over its batches */
	int64_t allocated; /* sum over its batches */
	size_t n_batches;  /* how many batches */
	int64_t incoming;  /* purchased in batches with an ETA (in shipment) */
};

/*
 * An event waiting in the outbox to leave the process.  Its id is stable:
 * receivers use it to drop the duplicates that at-least-once delivery may
 * bring.
 */
struct outbox_item {
	int64_t id;	   /* outbox row id; increasing */
	unsigned attempts; /* failed deliveries so far */
	struct msg ev;	   /* an event of domain/events.h; strings in arena */
};

/* An outbox row as an adapter stores it: the kind's name and its fields. */
struct outbox_row {
	int64_t id;		/* set by the store */
	unsigned attempts;	/* failed deliveries so far */
	const char *kind;	/* event_kind.name */
	struct event_fields ev; /* the flat fields */
};

/* Outbox rows read or claimed, in an arena. */
struct outbox_rows {
	struct outbox_row *items; /* n entries, oldest first */
	size_t n;		  /* may be 0 */
};

/* A round of market research with the decisions taken on it. */
struct research_round {
	int64_t id;			 /* set by the store */
	int32_t day;			 /* days since 1970-01-01 */
	int32_t threshold_bp;		 /* the rule's threshold */
	const struct research_row *rows; /* n entries */
	struct decision *decisions;	 /* n entries, row by row */
	size_t n;			 /* rows in the round */
};

/* A page of the product list. */
struct product_list {
	struct product_summary *items; /* n entries, in sku order */
	size_t n;		       /* may be 0 */
};

/* One sku's decision in one round (its history, newest first). */
struct sku_decision {
	int64_t round_id;	  /* the round */
	int32_t day;		  /* its day */
	int32_t threshold_bp;	  /* its threshold */
	struct research_row row;  /* the research */
	struct decision decision; /* what was decided */
};

/* Decisions about one sku, newest round first. */
struct sku_history {
	struct sku_decision *items; /* n entries */
	size_t n;		    /* may be 0 */
};

/* The store's own counters, for GET /metrics (zeros where none apply). */
struct store_stats {
	uint64_t commits;    /* write transactions committed */
	uint64_t syncs;	     /* fsyncs that made them durable (group commit) */
	double sync_seconds; /* time spent in those fsyncs */
	int64_t size_bytes;  /* on disk, journal included; -1: unknown */
};

/* What `scents check` found: one line per violation, in an arena. */
struct check_report {
	const char **problems; /* n_problems lines, e.g. "batch 'b1': ..." */
	size_t n_problems;     /* 0: every invariant holds */
	size_t n_repaired;     /* rows rewritten by a repair */
	size_t n_checked;      /* invariants checked */
};

/*
 * One row of the read model: an order's line and where it is allocated,
 * or that it waits for stock.
 */
struct allocation_row {
	const char *sku;      /* product */
	const char *batchref; /* batch holding the line; NULL: backordered */
	int64_t qty;	      /* units of a backordered line (else 0) */
};

/* An allocated line of a product, for display: which batch holds it. */
struct product_line {
	const char *batchref; /* the batch */
	const char *orderid;  /* the customer order */
	int64_t qty;	      /* units */
};

/* Which lines: a product's, at most @limit. */
struct lines_ask {
	const char *sku;
	size_t limit;
};

/* A backorder as the aged-backorder query returns it. */
struct aged_backorder {
	const char *orderid; /* customer order */
	const char *sku;     /* product */
	int64_t qty;	     /* units */
	int64_t created_at;  /* unix seconds it began to wait */
};

/* Aged backorders read (query_ops.aged_backorders), in an arena. */
struct aged_list {
	struct aged_backorder *items; /* n entries, oldest first */
	size_t n;		      /* may be 0 */
};

/* A customer as stored (strings in an arena). */
struct customer_record {
	const char *id;			    /* the rule of every id */
	const char *name;		    /* for people */
	const char *email;		    /* or NULL */
	const char *webhook_url;	    /* or NULL */
	uint8_t secret[WEBHOOK_SECRET_LEN]; /* signs webhooks; with a URL */
	int64_t created_at;		    /* unix seconds */
	const char *segment;		    /* audience ("cinema"), or NULL */
};

/* Where a notice stands. */
enum notice_state {
	NOTICE_PENDING,	  /* to send, at next_at_ms or later */
	NOTICE_DELIVERED, /* the receiver took it */
	NOTICE_DEAD,	  /* every attempt failed; replay to retry */
	NOTICE__STATES
};

/*
 * A notice to one channel of one customer (the customer-facing outbox):
 * queued in the transaction of the change it reports, sent after, at
 * least once, under its stable id.
 */
struct delivery {
	int64_t id;			    /* set by the store; stable */
	const char *customer;		    /* who */
	const char *channel;		    /* "webhook" or "email" */
	const char *target;		    /* URL or address */
	enum notice_kind kind;		    /* what happened */
	struct event_fields ev;		    /* orderid, sku, qty, batchref */
	bool has_eta;			    /* with a batchref: a shipment */
	int32_t eta;			    /* its ETA, days since 1970-01-01 */
	enum notice_state state;	    /* see above */
	unsigned attempts;		    /* failed sends so far */
	int64_t next_at_ms;		    /* unix ms of the next try */
	int64_t created_at;		    /* unix seconds */
	const char *last_error;		    /* of the last failure, or NULL */
	uint8_t secret[WEBHOOK_SECRET_LEN]; /* claim only: signs it */
};

/* "pending", "delivered", "dead": how stores and the API write states. */
const char *notice_state_name(enum notice_state s);

/* The state named @name, or -1. */
int notice_state_named(const char *name);

/* Which deliveries a claim takes (delivery_ops.claim). */
struct delivery_claim {
	int64_t now_ms; /* due at or before this unix ms */
	size_t limit;	/* at most this many */
	int lease_s;	/* held this long by the claimer */
};

/* Which deliveries a list shows (delivery_ops.list). */
struct delivery_filter {
	int state;    /* enum notice_state, or -1 for any */
	size_t limit; /* at most this many */
};

/* What one send of a claimed delivery came to. */
struct delivery_outcome {
	bool delivered;	    /* else failed */
	bool dead;	    /* failed for the last time */
	int64_t next_at_ms; /* failed, not dead: when to try again */
	const char *error;  /* failed: why (for operators), or NULL */
};

/* How long a claimed outbox row stays with its claimer (seconds). */
#define OUTBOX_LEASE_S 30

/* The transaction core. */
struct uow_tx_ops {
	const char *name; /* "memory", "sqlite", "postgresql"; for logs */

	/* Start a write transaction. */
	int (*begin)(struct uow *self, struct sc_err *err);

	/*
	 * Make what the repository calls wrote durable, or nothing of it.
	 * SC_ECONFLICT (a concurrent writer won: retry), SC_EIO, SC_ENOMEM.
	 */
	int (*commit)(struct uow *self, struct sc_err *err);

	/* Discard the transaction.  Never fails. */
	void (*rollback)(struct uow *self);

	/* Release the adapter; rolls back an open transaction. */
	void (*free)(struct uow *self);

	/*
	 * Batches (service/writer.h), optional: NULL in every field when
	 * the store has none.  batch_begin opens one write transaction for
	 * many commands; inside it each command's begin, commit and rollback
	 * become savepoint, release and rollback_to; batch_commit ends the
	 * transaction (SC_EIO: none of it was kept) and gives a ticket that
	 * wait_durable turns into "on disk" (SC_EIO: it may not be), and
	 * batch_alive says whether the store kept the transaction open
	 * after a command failed (SQLite ends it on a full disk).
	 * wait_durable may run on another unit of work of the same store,
	 * on another thread, while the next batch runs: that is how the
	 * writer overlaps one batch's fsync with the next batch's work.
	 * Ticket 0 is durable already.
	 */
	int (*batch_begin)(struct uow *self, struct sc_err *err);
	int (*savepoint)(struct uow *self, struct sc_err *err);
	int (*release)(struct uow *self, struct sc_err *err);
	void (*rollback_to)(struct uow *self);
	bool (*batch_alive)(struct uow *self);
	int (*batch_commit)(struct uow *self, uint64_t *ticket,
			    struct sc_err *err);
	int (*wait_durable)(struct uow *self, uint64_t ticket,
			    struct sc_err *err);
	void (*batch_rollback)(struct uow *self);
};

/*
 * The product repository.  Loads go into self->arena.  The writes are the
 * primitives uow_commit() issues, in change-list order, inside the open
 * transaction; an adapter may apply them at once (SQL) or stage them for
 * its commit (memory), but either way all or none become visible.
 */
struct product_repo_ops {
	/*
	 * Load product @sku with what @hint asks for.
	 * SC_ENOTFOUND (message "unknown sku '...'") when there is none.
	 */
	int (*get)(struct uow *self, const char *sku,
		   const struct load_hint *hint, struct product **out,
		   struct sc_err *err);

	/* The sku of batch @ref (in self->arena); SC_ENOTFOUND if none. */
	int (*sku_of_batch)(struct uow *self, const char *ref, const char **out,
			    struct sc_err *err);

	/* Insert product @sku at @version; SC_ECONFLICT when it exists. */
	int (*add_product)(struct uow *self, const char *sku, int64_t version,
			   struct sc_err *err);

	/*
	 * Move product @sku from version @from to @to; SC_ECONFLICT when
	 * its stored version is not @from (the optimistic check).
	 */
	int (*bump_version)(struct uow *self, const char *sku, int64_t from,
			    int64_t to, struct sc_err *err);

	/* Insert batch @b of product @sku with its current totals. */
	int (*add_batch)(struct uow *self, const char *sku,
			 const struct batch *b, struct sc_err *err);

	/* Store @b's purchased and allocated quantities. */
	int (*set_batch_totals)(struct uow *self, const struct batch *b,
				struct sc_err *err);

	/*
	 * Record line @l in batch @batchref, and in the read model (which a
	 * store may derive from the lines: SQLite's is a view of them).
	 */
	int (*add_line)(struct uow *self, const char *batchref,
			const struct order_line *l, struct sc_err *err);

	/* Remove line @l (orderid, sku), from the read model too. */
	int (*remove_line)(struct uow *self, const struct order_line *l,
			   struct sc_err *err);

	/* Record line @l as waiting for stock (after every older one). */
	int (*add_backorder)(struct uow *self, const struct order_line *l,
			     struct sc_err *err);

	/* Store product @sku's low-stock threshold @threshold. */
	int (*set_low_stock)(struct uow *self, const char *sku,
			     int64_t threshold, struct sc_err *err);

	/* Remove the backorder of @l (orderid, sku): filled or cancelled. */
	int (*remove_backorder)(struct uow *self, const struct order_line *l,
				struct sc_err *err);
};

/* Events leaving the process (the transactional outbox). */
struct outbox_ops {
	/*
	 * Queue @r (kind and fields; id and attempts ignored) inside the
	 * open transaction: it commits or rolls back with the change that
	 * raised it.
	 */
	int (*add)(struct uow *self, const struct outbox_row *r,
		   struct sc_err *err);

	/*
	 * In one transaction of its own: take up to @limit undelivered rows
	 * that no one holds (no lease, or an expired one), oldest first,
	 * and lease them to this caller for @lease_s seconds, so that N
	 * servers on one store deliver each event by one server at a time.
	 * Strings into @a.  A lease that expires (its holder died) makes the
	 * row claimable again: delivery is at least once.
	 */
	int (*claim)(struct uow *self, size_t limit, int lease_s,
		     struct arena *a, struct outbox_rows *out,
		     struct sc_err *err);

	/*
	 * In one transaction of its own: mark @n rows delivered (@sent), or
	 * count a failed attempt on each and release its lease (!@sent).
	 */
	int (*mark)(struct uow *self, const int64_t *ids, size_t n, bool sent,
		    struct sc_err *err);

	/*
	 * Up to @limit undelivered rows, oldest first, claimed or not, into
	 * @a; for inspection (tests, check), never for delivery.
	 */
	int (*pending)(struct uow *self, size_t limit, struct arena *a,
		       struct outbox_rows *out, struct sc_err *err);

	/*
	 * Undelivered events: how many, and the creation time (unix seconds)
	 * of the oldest, 0 when none.
	 */
	int (*stats)(struct uow *self, int64_t *n_out, int64_t *oldest_out,
		     struct sc_err *err);
};

/* Notices to customers (issue 14). */
struct delivery_ops {
	/*
	 * The customer of order @orderid with its channels, or *@out NULL
	 * when the order has none; inside the open transaction, seeing what
	 * it wrote (the Allocate that named the customer).  Into @a.
	 */
	int (*contact)(struct uow *self, const char *orderid, struct arena *a,
		       struct customer_record **out, struct sc_err *err);

	/* Queue @d (id, state, attempts ignored) in the open transaction. */
	int (*add)(struct uow *self, const struct delivery *d,
		   struct sc_err *err);

	/*
	 * In a transaction of its own: up to @c->limit pending deliveries
	 * due at @c->now_ms that no one holds, oldest first, leased to this
	 * caller for @c->lease_s seconds, each with its customer's secret.
	 * Into @a.
	 */
	int (*claim)(struct uow *self, const struct delivery_claim *c,
		     struct arena *a, struct delivery **out, size_t *n_out,
		     struct sc_err *err);

	/* In a transaction of its own: record @o for claimed delivery @id. */
	int (*finish)(struct uow *self, int64_t id, unsigned attempts,
		      const struct delivery_outcome *o, struct sc_err *err);

	/*
	 * Up to @f->limit deliveries in state @f->state (-1: any), newest
	 * first, into @a; a query.
	 */
	int (*list)(struct uow *self, const struct delivery_filter *f,
		    struct arena *a, struct delivery **out, size_t *n_out,
		    struct sc_err *err);

	/*
	 * In the open transaction: dead delivery @id becomes pending at
	 * @now_ms with no attempts.  SC_ENOTFOUND; SC_EINVAL when not dead.
	 */
	int (*replay)(struct uow *self, int64_t id, int64_t now_ms,
		      struct sc_err *err);
};

/* Read views.  Each is its own consistent read when no transaction is open. */
struct query_ops {
	/*
	 * Read model: the lines of @orderid, allocated (batchref set) or
	 * backordered (batchref NULL, qty set), into @a, by sku.
	 */
	int (*allocations)(struct uow *self, const char *orderid,
			   struct arena *a, struct allocation_row **out,
			   size_t *n_out, struct sc_err *err);

	/*
	 * Product @sku with its batches and totals (no lines), in @a, for
	 * display; takes no write lock.  SC_ENOTFOUND when unknown.
	 */
	int (*product_lines)(struct uow *self, const struct lines_ask *ask,
			     struct arena *a, struct product_line **out,
			     size_t *n_out, struct sc_err *err);

	int (*read_product)(struct uow *self, const char *sku, struct arena *a,
			    struct product **out, struct sc_err *err);

	/* Up to @limit products with sku > @after ("" = from the start). */
	int (*list_products)(struct uow *self, const char *after, size_t limit,
			     struct arena *a, struct product_list *out,
			     struct sc_err *err);

	/* Round @id (0: the newest), in @a.  SC_ENOTFOUND when none. */
	int (*research_round)(struct uow *self, int64_t id, struct arena *a,
			      struct research_round **out, struct sc_err *err);

	/* Up to @limit decisions about @sku, newest round first, in @a. */
	int (*research_history)(struct uow *self, const char *sku, size_t limit,
				struct arena *a, struct sku_history *out,
				struct sc_err *err);

	/* Every token, revoked ones included, by name, into @a. */
	int (*token_list)(struct uow *self, struct arena *a,
			  struct token_record **out, size_t *n_out,
			  struct sc_err *err);

	/*
	 * Up to @limit backorders waiting since @before (unix seconds) or
	 * earlier that no one was told about yet, oldest first, into @a.
	 */
	int (*aged_backorders)(struct uow *self, int64_t before, size_t limit,
			       struct arena *a, struct aged_list *out,
			       struct sc_err *err);

	/* Customer @id into @a.  SC_ENOTFOUND when there is none. */
	int (*customer_get)(struct uow *self, const char *id, struct arena *a,
			    struct customer_record **out, struct sc_err *err);
};

/* Other rows written inside the open transaction. */
struct record_ops {
	/* Record round @r (rows and decisions); *@id_out is its id. */
	int (*research_add)(struct uow *self, const struct research_round *r,
			    int64_t *id_out, struct sc_err *err);

	/*
	 * Record token @t.  SC_EEXIST when a token of that name exists
	 * (active or revoked: names are never reused, so logs stay
	 * unambiguous).
	 */
	int (*token_add)(struct uow *self, const struct token_record *t,
			 struct sc_err *err);

	/*
	 * Mark token @name revoked at @at; a revoked one keeps its first
	 * revocation time.  SC_ENOTFOUND when there is no such token.
	 */
	int (*token_revoke)(struct uow *self, const char *name, int64_t at,
			    struct sc_err *err);

	/* The stock team was told about backorder (@orderid, @sku) at @at. */
	int (*backorder_alerted)(struct uow *self, const char *orderid,
				 const char *sku, int64_t at,
				 struct sc_err *err);

	/* Record customer @c.  SC_EEXIST when the id is taken. */
	int (*customer_add)(struct uow *self, const struct customer_record *c,
			    struct sc_err *err);

	/*
	 * Order @orderid belongs to @customer (a no-op when it already
	 * does).  SC_EEXIST when it belongs to another.
	 */
	int (*order_customer_set)(struct uow *self, const char *orderid,
				  const char *customer, struct sc_err *err);
};

/* A formula made active (by a survey, by hand, or a revert), as logged. */
struct formula_change {
	const char *sku;      /* the scent */
	int32_t from_version; /* active before; 0: none */
	int32_t to_version;   /* active after */
	const char *actor;    /* who (token name, or the CLI's user) */
	const char *reason;   /* why; or NULL */
	int64_t survey_id;    /* the survey that chose it, or 0 */
	int64_t at;	      /* unix seconds */
};

/* A survey round and, when read, each variant's tally. */
struct survey {
	int64_t id;			/* set by the store */
	const char *sku;		/* the scent its variants are of */
	const char *name;		/* for people */
	int64_t created_at;		/* unix seconds */
	struct variant_tally *variants; /* n entries, in order */
	size_t n;			/* 2..SURVEY_VARIANTS_MAX */
};

/* Which demand to read, and how to group it. */
struct demand_query {
	int32_t from_day; /* first day, inclusive */
	int32_t to_day;	  /* last day, inclusive */
	int32_t bucket;	  /* 1: by day; 7: by ISO week (Monday first) */
	bool by_segment;  /* else segment is NULL in every row */
	const char *sku;  /* one sku, or NULL for all */
};

/* One group of the demand rollup. */
struct demand_row {
	const char *sku;		 /* product */
	int32_t bucket;			 /* first day of the day or week */
	const char *segment;		 /* "" none; NULL not grouped */
	int64_t units[DEMAND__OUTCOMES]; /* by outcome */
	int64_t lines[DEMAND__OUTCOMES]; /* idem */
};

/*
 * Formulas, surveys and demand (issue 15).  The writes run in the open
 * transaction, like record_ops; the reads are queries (the rules at the
 * top), and aggregate in the store: a report never loads every row.
 */
struct analytics_ops {
	/* Add or replace catalogue entry @in (by name). */
	int (*ingredient_put)(struct uow *self, const struct ingredient *in,
			      struct sc_err *err);

	/* The whole catalogue, by name, into @a. */
	int (*ingredients)(struct uow *self, struct arena *a,
			   struct ingredient **out, size_t *n_out,
			   struct sc_err *err);

	/*
	 * Record formula version @f (its lines too).  SC_ECONFLICT when
	 * that version of the sku exists (a concurrent add: retry).
	 */
	int (*formula_add)(struct uow *self, const struct formula *f,
			   struct sc_err *err);

	/*
	 * Version @version of @sku's formula (0: the active one, -1: the
	 * newest), into @a.  SC_ENOTFOUND when there is none.
	 */
	int (*formula_get)(struct uow *self, const char *sku, int32_t version,
			   struct arena *a, struct formula **out,
			   struct sc_err *err);

	/* Make @c->to_version active for @c->sku and log @c. */
	int (*formula_activate)(struct uow *self,
				const struct formula_change *c,
				struct sc_err *err);

	/* Every activation of @sku's formulas, newest first, into @a. */
	int (*formula_log)(struct uow *self, const char *sku, struct arena *a,
			   struct formula_change **out, size_t *n_out,
			   struct sc_err *err);

	/* Record survey @s and its variants (tallies ignored); its id. */
	int (*survey_add)(struct uow *self, const struct survey *s,
			  int64_t *id_out, struct sc_err *err);

	/*
	 * Survey @id with each variant's tally, counting only responses of
	 * @segment when not NULL, into @a.  SC_ENOTFOUND.
	 */
	int (*survey_get)(struct uow *self, int64_t id, const char *segment,
			  struct arena *a, struct survey **out,
			  struct sc_err *err);

	/*
	 * Record @n responses to survey @id; a respondent's later verdict
	 * on a variant replaces the earlier one.
	 */
	int (*responses_add)(struct uow *self, int64_t id,
			     const struct survey_response *r, size_t n,
			     struct sc_err *err);

	/* Add @e to the demand rollup (sku, day, segment, outcome). */
	int (*demand_add)(struct uow *self, const struct demand_entry *e,
			  struct sc_err *err);

	/* Demand grouped as @q asks, by sku, bucket, segment; into @a. */
	int (*demand)(struct uow *self, const struct demand_query *q,
		      struct arena *a, struct demand_row **out, size_t *n_out,
		      struct sc_err *err);
};

/* A stored cue track (issue 16): what lists show, and its JSON. */
struct track_record {
	int64_t id;		  /* set by the store */
	const char *title;	  /* for people */
	const char *content_hash; /* the picture it goes with, or NULL */
	int64_t cues;		  /* how many */
	int64_t created_at;	  /* unix seconds */
	const char *body;	  /* the JSON as imported; NULL in lists */
};

/* A cartridge of a stored venue: where, what, how much is left. */
struct cartridge_row {
	int32_t row, seat, slot; /* 0..25, 1..64, 1..16 */
	const char *sku;	 /* the scent loaded */
	const char *batch;	 /* the batch it was filled from, or NULL */
	int64_t level_ul;	 /* 0..capacity */
};

/*
 * A stored venue (issue 16): its scents-venue/1 JSON as imported (the
 * map, gateways, calibration, caps), and its cartridges as rows, the
 * part that changes: shows take from them, refills fill them.
 */
struct venue_record {
	int64_t id;		/* set by the store */
	const char *name;	/* for people */
	int64_t capacity_ul;	/* a full cartridge */
	int64_t alert_below_ul; /* a level below: staff alert */
	int64_t refill_unit_ul; /* one unit of stock fills this much */
	int64_t version;	/* 1 at import, +1 per change of levels */
	int64_t created_at;	/* unix seconds */
	const char *body;	/* the JSON as imported; NULL in lists */
	struct cartridge_row *cartridges; /* n_cartridges; none in lists */
	size_t n_cartridges;
};

/* New levels for some of venue @id's cartridges, if still at @version. */
struct venue_change {
	int64_t id;
	int64_t version;		  /* as read; the store bumps it */
	const struct cartridge_row *rows; /* n_rows, each one that exists */
	size_t n_rows;
};

/* What a show released from one batch of one scent. */
struct consumption_row {
	const char *sku;
	const char *batch; /* NULL: a cartridge of unknown batch */
	int64_t ul;
};

/* A show played in a venue, recorded after it. */
struct show_record {
	int64_t id; /* set by the store */
	int64_t venue_id;
	int64_t track_id;		    /* 0: a track not stored */
	int64_t played_at;		    /* unix seconds */
	int64_t fires, acked, missed;	    /* the scheduler's counts */
	int64_t seat_releases;		    /* acknowledged */
	const struct consumption_row *used; /* n_used, by sku and batch */
	size_t n_used;
};

/* Cinema dispensing (issue 16). */
struct dispensing_ops {
	/* Record track @t in the open transaction; *@id_out is its id. */
	int (*track_add)(struct uow *self, const struct track_record *t,
			 int64_t *id_out, struct sc_err *err);

	/* Track @id with its body, into @a.  SC_ENOTFOUND. */
	int (*track_get)(struct uow *self, int64_t id, struct arena *a,
			 struct track_record **out, struct sc_err *err);

	/* Every track without bodies, newest first, into @a. */
	int (*track_list)(struct uow *self, struct arena *a,
			  struct track_record **out, size_t *n_out,
			  struct sc_err *err);

	/* Record venue @v with its cartridges; *@id_out is its id. */
	int (*venue_add)(struct uow *self, const struct venue_record *v,
			 int64_t *id_out, struct sc_err *err);

	/* Venue @id with its body and cartridges (by row, seat, slot),
	 * into @a.  SC_ENOTFOUND. */
	int (*venue_get)(struct uow *self, int64_t id, struct arena *a,
			 struct venue_record **out, struct sc_err *err);

	/* Every venue without body or cartridges, newest first. */
	int (*venue_list)(struct uow *self, struct arena *a,
			  struct venue_record **out, size_t *n_out,
			  struct sc_err *err);

	/* Set the levels (and sku, batch) of @c's rows and bump the
	 * version: SC_ECONFLICT when the venue is no longer at
	 * c->version (another change came first: the bus retries);
	 * SC_ENOTFOUND for a venue or cartridge that does not exist. */
	int (*venue_change)(struct uow *self, const struct venue_change *c,
			    struct sc_err *err);

	/* Record show @s; *@id_out is its id. */
	int (*show_add)(struct uow *self, const struct show_record *s,
			int64_t *id_out, struct sc_err *err);

	/* Venue @venue_id's shows, newest first, with what each used. */
	int (*show_list)(struct uow *self, int64_t venue_id, struct arena *a,
			 struct show_record **out, size_t *n_out,
			 struct sc_err *err);
};

/* For operators. */
struct admin_ops {
	/* Cheap check that the store answers.  SC_EIO when it does not. */
	int (*ping)(struct uow *self, struct sc_err *err);

	/*
	 * Prove the store can be written now: a write transaction that
	 * changes nothing and is rolled back.  SC_EIO (read-only, moved or
	 * full files, server down).
	 */
	int (*probe_write)(struct uow *self, struct sc_err *err);

	/* Counters since the store was opened in this process. */
	int (*stats)(struct uow *self, struct store_stats *out,
		     struct sc_err *err);

	/*
	 * Verify every invariant the store promises (no batch over
	 * allocated, each batch's total equal to its lines, the read model
	 * equal to the write model, every allocation's event in the outbox,
	 * schema and file integrity), listing violations in @out, in @a.
	 * With @repair, first rebuild the derived data (totals, read model)
	 * from the source rows in one transaction, counting rows rewritten;
	 * what cannot be derived (events) is only reported.
	 */
	int (*check)(struct uow *self, bool repair, struct arena *a,
		     struct check_report *out, struct sc_err *err);

	/*
	 * A consistent copy of the live store at @path (which must not
	 * exist), taken while it serves.  SC_EEXIST, SC_EIO; SC_EINVAL when
	 * the store has its own tools (PostgreSQL: pg_dump).
	 */
	int (*backup)(struct uow *self, const char *path, struct sc_err *err);
};

struct uow {
	const struct uow_tx_ops *tx;		 /* set by the adapter */
	const struct product_repo_ops *products; /* set by the adapter */
	const struct outbox_ops *outbox;	 /* set by the adapter */
	const struct query_ops *queries;	 /* set by the adapter */
	const struct record_ops *records;	 /* set by the adapter */
	const struct admin_ops *admin;		 /* set by the adapter */
	const struct delivery_ops *deliveries;	 /* set by the adapter */
	const struct analytics_ops *analytics;	 /* set by the adapter */
	const struct dispensing_ops *dispensing; /* set by the adapter */
	struct arena *arena;	       /* storage for loads; set by uow_begin */
	struct product **seen;	       /* loaded or added in this transaction */
	size_t n_seen;		       /* entries used in seen */
	size_t cap_seen;	       /* entries allocated in seen */
	bool active;		       /* between begin and commit/rollback */
	bool wrote_record;	       /* a record op ran in this transaction */
	bool in_batch;		       /* between uow_batch_begin and its end */
	struct demand_entry *deferred; /* demand written by uow_commit */
	size_t n_deferred;	       /* entries used in deferred */
	size_t cap_deferred;	       /* entries allocated in deferred */
};

/* True when @u's store can run batches (tx->batch_begin). */
static inline bool uow_can_batch(const struct uow *u)
{
	return u->tx->batch_begin != NULL;
}

/*
 * Open a batch: one write transaction in which each command's unit of
 * work is a savepoint.  End it with uow_batch_commit (durable, all of
 * it) or uow_batch_rollback.  SC_EIO when the store cannot start one.
 */
int uow_batch_begin(struct uow *u, struct sc_err *err);

/*
 * End the batch's transaction, keeping every command released into it;
 * SC_EIO: none was kept.  Nothing is acknowledged yet: the commands are
 * durable once uow_wait_durable(any unit of work of this store,
 * *@ticket) returns SC_OK.
 */
int uow_batch_commit(struct uow *u, uint64_t *ticket, struct sc_err *err);

/* Return once commit @ticket (of uow_batch_commit) is on disk; SC_EIO. */
int uow_wait_durable(struct uow *u, uint64_t ticket, struct sc_err *err);

/* Discard the whole batch. */
void uow_batch_rollback(struct uow *u);

/* False when a failure made the store end the batch's transaction. */
bool uow_batch_alive(struct uow *u);

/* Begin; loads go into @a.  SC_EIO when the store cannot start one. */
int uow_begin(struct uow *u, struct arena *a, struct sc_err *err);

/*
 * Product @sku, loaded with @hint (may be NULL), or the one this unit of
 * work already holds.  SC_ENOTFOUND for an unknown sku.
 */
int repo_get(struct uow *u, const char *sku, const struct load_hint *hint,
	     struct product **out /* OUT */, struct sc_err *err);

/* The product holding batch @ref, with that batch's lines loaded. */
int repo_get_by_batchref(struct uow *u, const char *ref,
			 struct product **out /* OUT */, struct sc_err *err);

/* The sku of batch @ref; SC_ENOTFOUND when no product has it. */
int repo_sku_of_batch(struct uow *u, const char *ref,
		      const char **out /* OUT */, struct sc_err *err);

/* Track a new product (from product_new) so that commit saves it. */
int repo_add(struct uow *u, struct product *p, struct sc_err *err);

/*
 * The one generic save: each seen product's change list becomes
 * repository calls (version check first), then the adapter commits.
 * SC_ECONFLICT when a product changed meanwhile.  Ends the transaction
 * only on success; call uow_rollback() after either way.
 */
int uow_commit(struct uow *u, struct sc_err *err);

/* End without persisting; a no-op when nothing is open. */
void uow_rollback(struct uow *u);

/* Queue outgoing event @ev in the open transaction (domain/events.h). */
int uow_outbox_add(struct uow *u, const struct msg *ev, struct sc_err *err);

/*
 * Claim up to @limit events for delivery (outbox_ops.claim, with
 * OUTBOX_LEASE_S), as events in @a.  A row whose kind this build does not
 * know is an SC_EIO naming it.  Refused inside a transaction.
 */
int uow_outbox_claim(struct uow *u, size_t limit, struct arena *a,
		     struct outbox_item **out, size_t *n_out,
		     struct sc_err *err);

/* Undelivered events for inspection (outbox_ops.pending), as events. */
int uow_outbox_pending(struct uow *u, size_t limit, struct arena *a,
		       struct outbox_item **out, size_t *n_out,
		       struct sc_err *err);

/* See outbox_ops.mark.  Refused inside a transaction. */
int uow_outbox_mark(struct uow *u, const int64_t *ids, size_t n, bool sent,
		    struct sc_err *err);

/* SC_EINVAL when a query may not run now (see the rules at the top). */
int uow_query_allowed(struct uow *u, struct sc_err *err);

/* SC_EINVAL inside a transaction: for calls that commit on their own. */
int uow_outside_tx(struct uow *u, const char *what, struct sc_err *err);

#define UOW_QUERY(u, err, call)                                                \
	(uow_query_allowed((u), (err)) ? SC_EINVAL : (u)->queries->call)

/* See query_ops.allocations. */
static inline int uow_allocations(struct uow *u, const char *orderid,
				  struct arena *a, struct allocation_row **out,
				  size_t *n_out, struct sc_err *err)
{
	return UOW_QUERY(u, err, allocations(u, orderid, a, out, n_out, err));
}

/* See query_ops.research_round; @id 0 is the newest round. */
static inline int uow_research_round(struct uow *u, int64_t id, struct arena *a,
				     struct research_round **out,
				     struct sc_err *err)
{
	return UOW_QUERY(u, err, research_round(u, id, a, out, err));
}

/* See query_ops.research_history. */
static inline int uow_research_history(struct uow *u, const char *sku,
				       size_t limit, struct arena *a,
				       struct sku_history *out,
				       struct sc_err *err)
{
	return UOW_QUERY(u, err, research_history(u, sku, limit, a, out, err));
}

/* See query_ops.read_product. */
static inline int uow_read_product(struct uow *u, const char *sku,
				   struct arena *a, struct product **out,
				   struct sc_err *err)
{
	return UOW_QUERY(u, err, read_product(u, sku, a, out, err));
}

/*
 * See query_ops.product_lines: @sku's allocated lines, by batch (in
 * creation order) then allocation order, at most @limit; for display.
 */
static inline int uow_product_lines(struct uow *u, const struct lines_ask *ask,
				    struct arena *a, struct product_line **out,
				    size_t *n_out, struct sc_err *err)
{
	return UOW_QUERY(u, err, product_lines(u, ask, a, out, n_out, err));
}

/* See query_ops.list_products. */
static inline int uow_list_products(struct uow *u, const char *after,
				    size_t limit, struct arena *a,
				    struct product_list *out,
				    struct sc_err *err)
{
	return UOW_QUERY(u, err, list_products(u, after, limit, a, out, err));
}

/* See query_ops.token_list. */
static inline int uow_token_list(struct uow *u, struct arena *a,
				 struct token_record **out, size_t *n_out,
				 struct sc_err *err)
{
	return UOW_QUERY(u, err, token_list(u, a, out, n_out, err));
}

/* See query_ops.aged_backorders. */
static inline int uow_aged_backorders(struct uow *u, int64_t before,
				      size_t limit, struct arena *a,
				      struct aged_list *out, struct sc_err *err)
{
	return UOW_QUERY(u, err,
			 aged_backorders(u, before, limit, a, out, err));
}

/* See record_ops.backorder_alerted; needs an open unit of work. */
int uow_backorder_alerted(struct uow *u, const char *orderid, const char *sku,
			  int64_t at, struct sc_err *err);

/* See query_ops.customer_get. */
static inline int uow_customer_get(struct uow *u, const char *id,
				   struct arena *a,
				   struct customer_record **out,
				   struct sc_err *err)
{
	return UOW_QUERY(u, err, customer_get(u, id, a, out, err));
}

/* See delivery_ops.list. */
static inline int uow_delivery_list(struct uow *u,
				    const struct delivery_filter *f,
				    struct arena *a, struct delivery **out,
				    size_t *n_out, struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->deliveries->list(u, f, a, out, n_out, err);
}

/* See delivery_ops.contact; needs an open unit of work. */
int uow_order_contact(struct uow *u, const char *orderid, struct arena *a,
		      struct customer_record **out, struct sc_err *err);

/* See delivery_ops.add; needs an open unit of work. */
int uow_delivery_add(struct uow *u, const struct delivery *d,
		     struct sc_err *err);

/* See delivery_ops.claim.  Refused inside a transaction. */
int uow_delivery_claim(struct uow *u, const struct delivery_claim *c,
		       struct arena *a, struct delivery **out, size_t *n_out,
		       struct sc_err *err);

/* See delivery_ops.finish.  Refused inside a transaction. */
int uow_delivery_finish(struct uow *u, int64_t id, unsigned attempts,
			const struct delivery_outcome *o, struct sc_err *err);

/* See delivery_ops.replay; needs an open unit of work. */
int uow_delivery_replay(struct uow *u, int64_t id, int64_t now_ms,
			struct sc_err *err);

/* See record_ops.customer_add; needs an open unit of work. */
int uow_customer_add(struct uow *u, const struct customer_record *c,
		     struct sc_err *err);

/* See record_ops.order_customer_set; needs an open unit of work. */
int uow_order_customer_set(struct uow *u, const char *orderid,
			   const char *customer, struct sc_err *err);

/* See record_ops.research_add; needs an open unit of work. */
int uow_research_add(struct uow *u, const struct research_round *r,
		     int64_t *id_out, struct sc_err *err);

/* See record_ops.token_add; needs an open unit of work. */
int uow_token_add(struct uow *u, const struct token_record *t,
		  struct sc_err *err);

/* See record_ops.token_revoke; needs an open unit of work. */
int uow_token_revoke(struct uow *u, const char *name, int64_t at,
		     struct sc_err *err);

/* See analytics_ops: queries (refused after a write in the same tx). */
static inline int uow_ingredients(struct uow *u, struct arena *a,
				  struct ingredient **out, size_t *n_out,
				  struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->analytics->ingredients(u, a, out, n_out, err);
}

static inline int uow_formula_get(struct uow *u, const char *sku,
				  int32_t version, struct arena *a,
				  struct formula **out, struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->analytics->formula_get(u, sku, version, a, out,
						   err);
}

static inline int uow_formula_log(struct uow *u, const char *sku,
				  struct arena *a, struct formula_change **out,
				  size_t *n_out, struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->analytics->formula_log(u, sku, a, out, n_out, err);
}

static inline int uow_survey_get(struct uow *u, int64_t id, const char *segment,
				 struct arena *a, struct survey **out,
				 struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->analytics->survey_get(u, id, segment, a, out, err);
}

static inline int uow_demand(struct uow *u, const struct demand_query *q,
			     struct arena *a, struct demand_row **out,
			     size_t *n_out, struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->analytics->demand(u, q, a, out, n_out, err);
}

/* See analytics_ops: writes, each needing an open unit of work. */
int uow_ingredient_put(struct uow *u, const struct ingredient *in,
		       struct sc_err *err);
int uow_formula_add(struct uow *u, const struct formula *f, struct sc_err *err);
int uow_formula_activate(struct uow *u, const struct formula_change *c,
			 struct sc_err *err);
int uow_survey_add(struct uow *u, const struct survey *s, int64_t *id_out,
		   struct sc_err *err);
int uow_responses_add(struct uow *u, int64_t id,
		      const struct survey_response *r, size_t n,
		      struct sc_err *err);
int uow_demand_add(struct uow *u, const struct demand_entry *e,
		   struct sc_err *err);

/*
 * Add @e to the demand rollup when uow_commit() runs, after the products'
 * writes: a rollup row is shared by every line of its sku and day, so it
 * is locked after the product's version row, in the one order every
 * transaction takes (PostgreSQL would otherwise find a deadlock between
 * a first attempt and a retry that locks the product first).  @e's
 * strings must live as long as the unit of work.
 */
int uow_demand_on_commit(struct uow *u, const struct demand_entry *e,
			 struct sc_err *err);

/* See dispensing_ops: queries. */
static inline int uow_track_get(struct uow *u, int64_t id, struct arena *a,
				struct track_record **out, struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->dispensing->track_get(u, id, a, out, err);
}

static inline int uow_track_list(struct uow *u, struct arena *a,
				 struct track_record **out, size_t *n_out,
				 struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->dispensing->track_list(u, a, out, n_out, err);
}

/* See dispensing_ops.track_add; needs an open unit of work. */
int uow_track_add(struct uow *u, const struct track_record *t, int64_t *id_out,
		  struct sc_err *err);

static inline int uow_venue_get(struct uow *u, int64_t id, struct arena *a,
				struct venue_record **out, struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->dispensing->venue_get(u, id, a, out, err);
}

static inline int uow_venue_list(struct uow *u, struct arena *a,
				 struct venue_record **out, size_t *n_out,
				 struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->dispensing->venue_list(u, a, out, n_out, err);
}

static inline int uow_show_list(struct uow *u, int64_t venue_id,
				struct arena *a, struct show_record **out,
				size_t *n_out, struct sc_err *err)
{
	return uow_query_allowed(u, err)
		       ? SC_EINVAL
		       : u->dispensing->show_list(u, venue_id, a, out, n_out,
						  err);
}

/* See dispensing_ops; each needs an open unit of work. */
int uow_venue_add(struct uow *u, const struct venue_record *v, int64_t *id_out,
		  struct sc_err *err);
int uow_venue_change(struct uow *u, const struct venue_change *c,
		     struct sc_err *err);
int uow_show_add(struct uow *u, const struct show_record *s, int64_t *id_out,
		 struct sc_err *err);

/* See admin_ops.ping. */
static inline int uow_ping(struct uow *u, struct sc_err *err)
{
	return u->admin->ping(u, err);
}

/* See admin_ops.stats. */
static inline int uow_stats(struct uow *u, struct store_stats *out,
			    struct sc_err *err)
{
	return u->admin->stats(u, out, err);
}

/* See admin_ops.check.  Refused inside a transaction. */
static inline int uow_check(struct uow *u, bool repair, struct arena *a,
			    struct check_report *out, struct sc_err *err)
{
	return uow_outside_tx(u, "check", err)
		       ? SC_EINVAL
		       : u->admin->check(u, repair, a, out, err);
}

/* See admin_ops.backup.  Refused inside a transaction. */
static inline int uow_backup(struct uow *u, const char *path,
			     struct sc_err *err)
{
	return uow_outside_tx(u, "backup", err)
		       ? SC_EINVAL
		       : u->admin->backup(u, path, err);
}

/* See admin_ops.probe_write.  Refused inside a transaction. */
static inline int uow_probe_write(struct uow *u, struct sc_err *err)
{
	return uow_outside_tx(u, "probe", err) ? SC_EINVAL
					       : u->admin->probe_write(u, err);
}

/* See outbox_ops.stats. */
static inline int uow_outbox_stats(struct uow *u, int64_t *n_out,
				   int64_t *oldest_out, struct sc_err *err)
{
	return u->outbox->stats(u, n_out, oldest_out, err);
}

/* Release @u (NULL is a no-op). */
static inline void uow_free(struct uow *u)
{
	if (u)
		u->tx->free(u);
}

#endif

/*
 * service/uow.h - the unit-of-work port and its product repository.
 *
 * A unit of work is one transaction over the product store.  Handlers
 * begin it, load products through the repository, change them through the
 * domain, and commit; anything else ends in uow_rollback(), which is a
 * no-op after a commit (the book's __exit__).  Rollback is the default:
 * work not committed is discarded.
 *
 * The repository is an identity map within a unit of work: a product
 * loaded twice is the same object, so every change lands in one place.
 * Commit persists every product loaded or added ("seen"), each with an
 * optimistic check: the stored version must still equal the version the
 * product was loaded with, else SC_ECONFLICT (retryable).  Adapters keep
 * the read model (allocations by order) in the same transaction as the
 * write model, so the two never disagree.
 *
 * Adapters implement the ops tables and embed struct uow first.  Callers
 * use only the inline wrappers below, which carry the seen-tracking.
 * A unit of work is used by one thread at a time; open one per thread.
 */
#ifndef SCENTS_SERVICE_UOW_H
#define SCENTS_SERVICE_UOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "domain/messages.h"
#include "domain/sourcing.h"
#include "domain/token.h"

struct arena;
struct product;
struct uow;

/*
 * What a load must include beyond each batch and its allocated total.
 * Either field may be NULL.
 */
struct load_hint {
	const char *orderid;  /* every allocation of this order */
	const char *lines_of; /* every line of this batch ref, oldest first */
};

/* One line of the product list: a sku and its totals. */
struct product_summary {
	const char *sku;   /* product */
	int64_t purchased; /* sum over its batches */
	int64_t allocated; /* sum over its batches */
	size_t n_batches;  /* how many batches */
};

/*
 * An event waiting in the outbox to leave the process.  Its id is stable:
 * receivers use it to drop the duplicates that at-least-once delivery may
 * bring.
 */
struct outbox_item {
	int64_t id;	   /* outbox row id; increasing */
	unsigned attempts; /* failed deliveries so far */
	struct msg ev;	   /* Allocated or OutOfStock; strings in arena */
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

/* One row of the read model: an order's line and where it is allocated. */
struct allocation_row {
	const char *sku;      /* product */
	const char *batchref; /* batch holding the line */
};

struct uow_ops {
	const char *name; /* "memory", "sqlite", ...; for logs */

	/* Start a write transaction. */
	int (*begin)(struct uow *self, struct sc_err *err);

	/*
	 * Load product @sku into self->arena with what @hint asks for.
	 * SC_ENOTFOUND (message "unknown sku '...'") when there is none.
	 */
	int (*get)(struct uow *self, const char *sku,
		   const struct load_hint *hint, struct product **out,
		   struct sc_err *err);

	/* The sku of batch @ref (in self->arena); SC_ENOTFOUND if none. */
	int (*sku_of_batch)(struct uow *self, const char *ref, const char **out,
			    struct sc_err *err);

	/*
	 * Persist every product in self->seen whose version changed, with
	 * the optimistic check, then make the transaction durable.  On any
	 * error nothing is persisted.  SC_ECONFLICT, SC_EIO, SC_ENOMEM.
	 */
	int (*commit)(struct uow *self, struct sc_err *err);

	/* Discard the transaction.  Never fails. */
	void (*rollback)(struct uow *self);

	/*
	 * Read model: the allocations of @orderid, into @a, ordered by sku.
	 * Its own consistent read; needs no begin.  *@n_out may be 0.
	 */
	int (*allocations)(struct uow *self, const char *orderid,
			   struct arena *a, struct allocation_row **out,
			   size_t *n_out, struct sc_err *err);

	/*
	 * Queue event @ev (Allocated or OutOfStock) in the outbox, inside the
	 * open transaction: it commits or rolls back with the change that
	 * raised it.
	 */
	int (*outbox_add)(struct uow *self, const struct msg *ev,
			  struct sc_err *err);

	/*
	 * Up to @limit undelivered events, oldest first, into @a.  Its own
	 * consistent read; needs no begin.
	 */
	int (*outbox_pending)(struct uow *self, size_t limit, struct arena *a,
			      struct outbox_item **out, size_t *n_out,
			      struct sc_err *err);

	/*
	 * In one transaction of its own: mark @n events delivered (@sent) or
	 * count one more failed attempt on each (!@sent).
	 */
	int (*outbox_mark)(struct uow *self, const int64_t *ids, size_t n,
			   bool sent, struct sc_err *err);

	/*
	 * Record round @r (rows and decisions) inside the open transaction;
	 * *@id_out is its id.
	 */
	int (*research_add)(struct uow *self, const struct research_round *r,
			    int64_t *id_out, struct sc_err *err);

	/*
	 * Round @id (0: the newest), in @a.  SC_ENOTFOUND when there is
	 * none.  Its own consistent read.
	 */
	int (*research_round)(struct uow *self, int64_t id, struct arena *a,
			      struct research_round **out, struct sc_err *err);

	/*
	 * Up to @limit decisions about @sku, newest round first, in @a.
	 * Works inside a transaction or on its own.  *@n_out may be 0.
	 */
	int (*research_history)(struct uow *self, const char *sku, size_t limit,
				struct arena *a, struct sku_history *out,
				struct sc_err *err);

	/*
	 * Product @sku with its batches and totals (no lines), in @a, for
	 * display.  Its own consistent read; needs no begin and takes no
	 * write lock.  SC_ENOTFOUND when unknown.
	 */
	int (*read_product)(struct uow *self, const char *sku, struct arena *a,
			    struct product **out, struct sc_err *err);

	/*
	 * Up to @limit products with sku > @after ("" = from the start),
	 * in sku order, in @a.  Its own consistent read.
	 */
	int (*list_products)(struct uow *self, const char *after, size_t limit,
			     struct arena *a, struct product_list *out,
			     struct sc_err *err);

	/*
	 * Record token @t inside the open transaction.  SC_EEXIST when a
	 * token of that name exists (active or revoked: names are never
	 * reused, so logs stay unambiguous).
	 */
	int (*token_add)(struct uow *self, const struct token_record *t,
			 struct sc_err *err);

	/*
	 * Mark token @name revoked at @at inside the open transaction; a
	 * revoked one keeps its first revocation time.  SC_ENOTFOUND when
	 * there is no such token.
	 */
	int (*token_revoke)(struct uow *self, const char *name, int64_t at,
			    struct sc_err *err);

	/*
	 * Every token, revoked ones included, by name, into @a.  Its own
	 * consistent read; needs no begin.  *@n_out may be 0.
	 */
	int (*token_list)(struct uow *self, struct arena *a,
			  struct token_record **out, size_t *n_out,
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

	/* Counters since the store was opened in this process. */
	int (*stats)(struct uow *self, struct store_stats *out,
		     struct sc_err *err);

	/* Cheap check that the store answers.  SC_EIO when it does not. */
	int (*ping)(struct uow *self, struct sc_err *err);

	/*
	 * Prove the store can be written now: a write transaction that
	 * changes nothing and is rolled back.  Takes the write lock like
	 * any writer.  SC_EIO (read-only, moved or full files, server down).
	 */
	int (*probe_write)(struct uow *self, struct sc_err *err);

	/*
	 * Undelivered events: how many, and the creation time (unix seconds)
	 * of the oldest, 0 when none.  Its own consistent read.
	 */
	int (*outbox_stats)(struct uow *self, int64_t *n_out,
			    int64_t *oldest_out, struct sc_err *err);

	/* Release the adapter; rolls back an open transaction. */
	void (*free)(struct uow *self);
};

struct uow {
	const struct uow_ops *ops; /* first member; set by the adapter */
	struct arena *arena;	   /* storage for loads; set by uow_begin */
	struct product **seen;	   /* loaded or added in this transaction */
	size_t n_seen;		   /* entries used in seen */
	size_t cap_seen;	   /* entries allocated in seen */
	bool active;		   /* between begin and commit/rollback */
};

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

/* Persist and end.  SC_ECONFLICT when a product changed meanwhile. */
int uow_commit(struct uow *u, struct sc_err *err);

/* End without persisting; a no-op when nothing is open. */
void uow_rollback(struct uow *u);

/* Read model; see uow_ops.allocations. */
static inline int uow_allocations(struct uow *u, const char *orderid,
				  struct arena *a, struct allocation_row **out,
				  size_t *n_out, struct sc_err *err)
{
	return u->ops->allocations(u, orderid, a, out, n_out, err);
}

/* See uow_ops.outbox_add; needs an open unit of work. */
static inline int uow_outbox_add(struct uow *u, const struct msg *ev,
				 struct sc_err *err)
{
	return u->ops->outbox_add(u, ev, err);
}

/* See uow_ops.outbox_pending. */
static inline int uow_outbox_pending(struct uow *u, size_t limit,
				     struct arena *a, struct outbox_item **out,
				     size_t *n_out, struct sc_err *err)
{
	return u->ops->outbox_pending(u, limit, a, out, n_out, err);
}

/* See uow_ops.outbox_mark. */
static inline int uow_outbox_mark(struct uow *u, const int64_t *ids, size_t n,
				  bool sent, struct sc_err *err)
{
	return u->ops->outbox_mark(u, ids, n, sent, err);
}

/* See uow_ops.research_add; needs an open unit of work. */
static inline int uow_research_add(struct uow *u,
				   const struct research_round *r,
				   int64_t *id_out, struct sc_err *err)
{
	return u->ops->research_add(u, r, id_out, err);
}

/* See uow_ops.research_round; @id 0 is the newest round. */
static inline int uow_research_round(struct uow *u, int64_t id, struct arena *a,
				     struct research_round **out,
				     struct sc_err *err)
{
	return u->ops->research_round(u, id, a, out, err);
}

/* See uow_ops.research_history. */
static inline int uow_research_history(struct uow *u, const char *sku,
				       size_t limit, struct arena *a,
				       struct sku_history *out,
				       struct sc_err *err)
{
	return u->ops->research_history(u, sku, limit, a, out, err);
}

/* See uow_ops.read_product. */
static inline int uow_read_product(struct uow *u, const char *sku,
				   struct arena *a, struct product **out,
				   struct sc_err *err)
{
	return u->ops->read_product(u, sku, a, out, err);
}

/* See uow_ops.list_products. */
static inline int uow_list_products(struct uow *u, const char *after,
				    size_t limit, struct arena *a,
				    struct product_list *out,
				    struct sc_err *err)
{
	return u->ops->list_products(u, after, limit, a, out, err);
}

/* See uow_ops.token_add; needs an open unit of work. */
static inline int uow_token_add(struct uow *u, const struct token_record *t,
				struct sc_err *err)
{
	return u->ops->token_add(u, t, err);
}

/* See uow_ops.token_revoke; needs an open unit of work. */
static inline int uow_token_revoke(struct uow *u, const char *name, int64_t at,
				   struct sc_err *err)
{
	return u->ops->token_revoke(u, name, at, err);
}

/* See uow_ops.token_list. */
static inline int uow_token_list(struct uow *u, struct arena *a,
				 struct token_record **out, size_t *n_out,
				 struct sc_err *err)
{
	return u->ops->token_list(u, a, out, n_out, err);
}

/* See uow_ops.ping. */
static inline int uow_ping(struct uow *u, struct sc_err *err)
{
	return u->ops->ping(u, err);
}

/* See uow_ops.stats. */
static inline int uow_stats(struct uow *u, struct store_stats *out,
			    struct sc_err *err)
{
	return u->ops->stats(u, out, err);
}

/* See uow_ops.check. */
static inline int uow_check(struct uow *u, bool repair, struct arena *a,
			    struct check_report *out, struct sc_err *err)
{
	return u->ops->check(u, repair, a, out, err);
}

/* See uow_ops.backup. */
static inline int uow_backup(struct uow *u, const char *path,
			     struct sc_err *err)
{
	return u->ops->backup(u, path, err);
}

/* See uow_ops.probe_write. */
static inline int uow_probe_write(struct uow *u, struct sc_err *err)
{
	return u->ops->probe_write(u, err);
}

/* See uow_ops.outbox_stats. */
static inline int uow_outbox_stats(struct uow *u, int64_t *n_out,
				   int64_t *oldest_out, struct sc_err *err)
{
	return u->ops->outbox_stats(u, n_out, oldest_out, err);
}

/* Release @u (NULL is a no-op). */
static inline void uow_free(struct uow *u)
{
	if (u)
		u->ops->free(u);
}

#endif

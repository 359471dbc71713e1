/*
 * domain/model.h - Batch, OrderLine and the Product aggregate.
 *
 * Pure C: no I/O, no clock, no logging.  A Product is the consistency
 * boundary: every change to it goes through product_*() and bumps its
 * version number, which repositories use for optimistic concurrency.
 *
 * Storage: a product and everything in it (batches, lines, events, the
 * change journal, copied strings) live in the arena given to
 * product_new(); they die when that arena is reset.  Strings passed in are
 * copied; strings handed out are borrowed from the arena.
 *
 * Partial loading: a repository need not load every past order line.  It
 * loads each batch with its allocated total, plus (a) every allocation of
 * the order being allocated and (b) every line of a batch that may shrink
 * (batch.lines_complete).  The rules below depend only on that.
 *
 * Fields are read-only outside src/domain.
 */
#ifndef SCENTS_DOMAIN_MODEL_H
#define SCENTS_DOMAIN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/messages.h"

struct arena;
struct sc_err;

/* Largest quantity of a batch or a line (design.md section 4). */
#define SC_QTY_MAX INT64_C(1000000000)
/* Longest order id, sku or batch ref, in bytes. */
#define SC_ID_MAX 255

/*
 * True when @s is 1..SC_ID_MAX bytes of valid UTF-8 with no control
 * characters (C0, DEL, C1) - the rule for every id, sku and ref.
 */
bool ident_valid(const char *s, size_t len);

/* OrderLine: a value; two lines are equal when all fields are. */
struct order_line {
	const char *orderid; /* customer order */
	const char *sku;     /* product */
	int64_t qty;	     /* 1..SC_QTY_MAX */
};

/* What a new batch is made of (batch_init, product_add_batch/restore). */
struct batch_spec {
	const char *ref;	/* unique reference */
	const char *sku;	/* batch_init only; products use their own */
	int64_t qty;		/* purchased quantity, 0..SC_QTY_MAX */
	bool has_eta;		/* false: in the warehouse */
	int32_t eta;		/* days since epoch when has_eta */
	enum supplier supplier; /* who it is bought from */
};

struct batch {
	struct arena *arena;	  /* storage of lines and strings */
	const char *ref;	  /* unique reference */
	const char *sku;	  /* product */
	int64_t purchased;	  /* units bought, 0..SC_QTY_MAX */
	int64_t allocated;	  /* units allocated, loaded lines or not */
	bool has_eta;		  /* false: in the warehouse */
	int32_t eta;		  /* days since epoch when has_eta */
	enum supplier supplier;	  /* who it was bought from */
	struct order_line *lines; /* loaded allocations, oldest first */
	size_t n_lines;		  /* entries used in lines */
	size_t cap_lines;	  /* entries allocated in lines */
	bool lines_complete;	  /* lines holds every allocation */
};

/*
 * The typed change list: what a product's changes are made of, in the
 * order they happened, for the one generic save (service/uow.c) to turn
 * into repository calls.  Stores read nothing else to learn what changed.
 */
enum change_kind {
	CHANGE_PRODUCT_ADDED, /* the product is new: insert it */
	CHANGE_BATCH_ADDED,   /* batches[batch] is new: insert it */
	CHANGE_BATCH_TOTALS, /* batches[batch]'s purchased or allocated moved */
	CHANGE_LINE_ADDED,   /* line allocated to batches[batch] */
	CHANGE_LINE_REMOVED, /* line deallocated from batches[batch] */
	CHANGE_BACKORDER_ADDED,	  /* line waits for stock; batch unused */
	CHANGE_BACKORDER_REMOVED, /* filled or cancelled; batch unused */
	CHANGE_LOW_STOCK	  /* the low-stock threshold; batch unused */
};

struct change {
	enum change_kind kind;	/* what happened */
	size_t batch;		/* index into product.batches; unused for
				   CHANGE_PRODUCT_ADDED */
	struct order_line line; /* CHANGE_LINE_* only */
};

struct product {
	struct arena *arena;	       /* storage of everything below */
	const char *sku;	       /* identity */
	int64_t version;	       /* bumped by every change */
	int64_t loaded_version;	       /* version when loaded; for the save */
	struct batch *batches;	       /* in creation order */
	size_t n_batches;	       /* entries used in batches */
	size_t cap_batches;	       /* entries allocated in batches */
	struct msg *events;	       /* recorded, not yet collected */
	size_t n_events;	       /* entries used in events */
	size_t cap_events;	       /* entries allocated in events */
	struct change *changes;	       /* the change list, oldest first */
	size_t n_changes;	       /* entries used in changes */
	size_t cap_changes;	       /* entries allocated in changes */
	struct order_line *backorders; /* loaded lines waiting for stock,
					  oldest first */
	size_t n_backorders;	       /* entries used in backorders */
	size_t cap_backorders;	       /* entries allocated in backorders */
	bool backorders_complete;      /* every backorder of the sku is
					  loaded (filling needs that) */
	int64_t low_stock;	  /* alert below this many available; 0: none */
	int64_t loaded_available; /* product_available() at load */
};

/* What became of a line given to product_allocate_line(). */
enum allocation {
	ALLOCATION_ALLOCATED,	/* a batch took it */
	ALLOCATION_BACKORDERED, /* it waits for stock */
	ALLOCATION_OUT_OF_STOCK /* refused: no stock, no backorder asked */
};

/*
 * Batch on its own (the seed's batch tests), as @spec says.  Strings are
 * copied into @a.  The batch starts with no lines and lines_complete set.
 * Returns SC_OK, SC_EINVAL (bad qty or id) or SC_ENOMEM.
 */
int batch_init(struct batch *b, struct arena *a, const struct batch_spec *spec,
	       struct sc_err *err);

/* purchased - allocated; may be negative only inside a change. */
static inline int64_t batch_available(const struct batch *b)
{
	return b->purchased - b->allocated;
}

/* Same sku and enough available. */
bool batch_can_allocate(const struct batch *b, const struct order_line *l);

/* The loaded allocation of @orderid in @b, or NULL. */
const struct order_line *batch_find_line(const struct batch *b,
					 const char *orderid);

/*
 * Allocate @l to @b.  Allocating an equal line again changes nothing.
 * Returns SC_OK, SC_EINVAL (cannot allocate: sku or quantity),
 * SC_EEXIST (same order, other qty) or SC_ENOMEM.
 */
int batch_allocate(struct batch *b, const struct order_line *l,
		   struct sc_err *err);

/*
 * A new, empty product in @a.  @sku is copied.  @is_new: not yet in the
 * store (records CHANGE_PRODUCT_ADDED); false for a repository's load.
 * Returns SC_OK, SC_EINVAL or SC_ENOMEM; *@out is set only on success.
 */
int product_new(struct arena *a, const char *sku, int64_t version, bool is_new,
		struct product **out /* OUT */, struct sc_err *err);

/* Units not allocated, over every batch (warehouse and shipments). */
int64_t product_available(const struct product *p);

/*
 * For repositories and the unit of work: the stored threshold, and the
 * availability the product was loaded with (the low-stock rule compares
 * the end of a transaction with it).
 */
void product_restore_low_stock(struct product *p, int64_t threshold);
void product_mark_loaded(struct product *p);

/*
 * Alert the stock team below @threshold available units (0: never).
 * Availability already below a new threshold alerts at this
 * transaction's end.  Bumps the version.  SC_EINVAL out of
 * 0..SC_QTY_MAX.
 */
int product_set_low_stock(struct product *p, int64_t threshold,
			  struct sc_err *err);

/*
 * At the end of a transaction: when this product's availability went
 * from at least its threshold (at load) to below it, record LowStock
 * once.  The alert fires on the crossing, not on every allocation below
 * it: that is what keeps the stock team's mail from a storm.
 */
int product_check_low_stock(struct product *p, struct sc_err *err);

/* The batch with @ref, or NULL. */
struct batch *product_find_batch(struct product *p, const char *ref);

/*
 * For repositories rebuilding a stored product: append a batch as stored,
 * @spec->qty purchased and @allocated allocated (no event, no version
 * change, not dirty; @spec->sku is ignored).  *@out is the new batch.
 */
int product_restore_batch(struct product *p, const struct batch_spec *spec,
			  int64_t allocated, struct batch **out /* OUT */,
			  struct sc_err *err);

/*
 * For repositories: append a stored backorder, oldest first.  Set
 * p->backorders_complete once every backorder of the sku is restored.
 */
int product_restore_backorder(struct product *p, const char *orderid,
			      int64_t qty, struct sc_err *err);

/*
 * For repositories: append a stored allocation to @b, oldest first; does
 * not change b->allocated (already counted).  Mark the batch complete
 * with b->lines_complete = true once all its lines are restored.
 */
int product_restore_line(struct product *p, struct batch *b,
			 const char *orderid, int64_t qty, struct sc_err *err);

/*
 * Add a new batch as @spec says (@spec->sku is ignored: the product's).
 * Bumps the version.  Returns SC_OK, SC_EINVAL (bad
 * values), SC_EEXIST (the product already has @ref) or SC_ENOMEM.
 */
int product_add_batch(struct product *p, const struct batch_spec *spec,
		      struct sc_err *err);

/*
 * Allocate @l to the best batch: warehouse stock first, then earliest
 * ETA, ties by creation order.  On success *@out is the batch ref,
 * Allocated is recorded and the version bumped.  When no batch can take
 * the line, *@out is NULL, OutOfStock is recorded and nothing else
 * changes; that is not an error.  A line already allocated with the same
 * qty returns its batch and records nothing (safe retries).
 * Returns SC_OK, SC_EINVAL (bad line, other sku), SC_EEXIST (the order
 * already has this sku with another qty) or SC_ENOMEM.
 */
int product_allocate(struct product *p, const struct order_line *l,
		     const char **out /* OUT */, struct sc_err *err);

/*
 * product_allocate(), and with @backorder a line no batch can take waits
 * as a backorder instead (OutOfStock is still recorded, for the stock
 * team, then Backordered; the version is bumped).  A line already
 * backordered with the same qty stays so and records nothing; with
 * another qty it is SC_EEXIST.  *@how says which; *@batchref is the
 * batch when allocated, else NULL.  Needs the order's lines and
 * backorder of this sku loaded.
 */
int product_allocate_line(struct product *p, const struct order_line *l,
			  bool backorder, const char **batchref /* OUT */,
			  enum allocation *how /* OUT */, struct sc_err *err);

/*
 * Allocate waiting backorders, oldest first, to the batches that can
 * take them now (each as product_allocate would choose); one larger
 * than any batch's free stock keeps waiting while later, smaller ones
 * may be filled.  Records Allocated for each filled line.  Needs
 * backorders_complete.  *@n_filled (may be NULL) counts them.
 */
int product_fill_backorders(struct product *p, size_t *n_filled /* OUT */,
			    struct sc_err *err);

/*
 * Cancel the line of order @orderid: its units go back to its batch (or,
 * for a backordered line, it stops waiting), Deallocated is recorded
 * with cancelled set (nobody reallocates it), the version is bumped.
 * *@freed is the line and *@batchref the batch it left, NULL for a
 * backorder (both borrowed from the product's arena).  Needs the order's
 * lines and backorder loaded.  Returns SC_OK, SC_ENOTFOUND (the order
 * holds no line of this product; nothing changes) or SC_ENOMEM.
 */
int product_deallocate(struct product *p, const char *orderid,
		       struct order_line *freed /* OUT */,
		       const char **batchref /* OUT */, struct sc_err *err);

/*
 * Batch @ref arrives at @eta (@has_eta false: it is in the warehouse).
 * Records EtaChanged for each of its lines, so their customers are told;
 * the lines stay where they are.  Needs the batch's lines loaded.  An
 * unchanged ETA changes nothing.  SC_OK, SC_ENOTFOUND or SC_ENOMEM.
 */
int product_change_batch_eta(struct product *p, const char *ref, bool has_eta,
			     int32_t eta, struct sc_err *err);

/*
 * Set the purchased quantity of batch @ref to @qty.  While the batch is
 * over-allocated, deallocate its lines newest first, recording
 * Deallocated for each (the caller reallocates them).  Needs the batch's
 * lines loaded (lines_complete).  An unchanged qty changes nothing.
 * Returns SC_OK, SC_EINVAL (qty out of range), SC_ENOTFOUND or SC_ENOMEM.
 */
int product_change_batch_quantity(struct product *p, const char *ref,
				  int64_t qty, struct sc_err *err);

#endif

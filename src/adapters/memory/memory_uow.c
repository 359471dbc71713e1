/*
 * adapters/memory/memory_uow.c - unit of work over deep copies in memory.
 *
 * The store is a mutex-protected array of products.  Loads copy a product
 * out with every line (so hints are always satisfied).  The repository's
 * writes are staged on private copies of the products they touch, each
 * with the version the store must still hold; the commit swaps them in
 * under the lock only when every such check passes, so a failed commit
 * changes nothing.
 */
#include "adapters/memory/memory_uow.h"

#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/util.h"
#include "domain/model.h"
#include "domain/sourcing.h"
#include "service/uow.h"

struct stored_line {
	char *orderid;	    /* owned */
	int64_t qty;	    /* units */
	int64_t created_at; /* backorders: when it began to wait */
	int64_t alerted_at; /* backorders: the stock team told; 0: not */
};

struct stored_batch {
	char *ref;		   /* owned */
	int64_t purchased;	   /* units bought */
	int64_t allocated;	   /* sum of line qty */
	bool has_eta;		   /* false: in the warehouse */
	int32_t eta;		   /* days since epoch */
	enum supplier supplier;	   /* who it was bought from */
	struct stored_line *lines; /* oldest first; owned */
	size_t n_lines;		   /* entries in lines */
};

struct stored_product {
	char *sku;			/* owned */
	int64_t version;		/* as committed */
	struct stored_batch *batches;	/* creation order; owned */
	size_t n_batches;		/* entries in batches */
	struct stored_line *backorders; /* oldest first; owned */
	size_t n_backorders;		/* entries in backorders */
	int64_t low_stock;		/* the alert threshold, 0: none */
};

/* An outbox entry; strings owned. */
struct stored_event {
	int64_t id;	     /* 1, 2, ... in commit order */
	unsigned attempts;   /* failed deliveries */
	bool sent;	     /* delivered */
	char *kind;	     /* event_kind.name */
	char *orderid;	     /* NULL when the kind has none */
	char *sku;	     /* every kind */
	char *batchref;	     /* NULL when the kind has none */
	bool has_qty;	     /* qty present */
	int64_t qty;	     /* units */
	int64_t created_at;  /* unix seconds, at commit */
	int64_t lease_until; /* claimed until (unix seconds); 0: not */
};

struct event_vec {
	struct stored_event *items; /* owned */
	size_t n;		    /* entries used */
	size_t cap;		    /* entries allocated */
};

/* A recorded research round: heap copies of rows and decisions. */
struct stored_round {
	int64_t id;		    /* 1, 2, ... */
	int32_t day;		    /* days since epoch */
	int32_t threshold_bp;	    /* the rule's threshold */
	struct research_row *rows;  /* strings owned */
	struct decision *decisions; /* row by row */
	size_t n;		    /* rows */
};

/* Order @orderid belongs to @customer; strings owned. */
struct order_link {
	char *orderid;
	char *customer;
};

/* A delivery as kept: strings owned, and its lease. */
struct kept_delivery {
	struct delivery d;   /* strings owned */
	int64_t lease_until; /* unix seconds; 0: none */
};

/*
 * Customers, order links and deliveries: in the store, or staged by one
 * transaction (then applied by its commit).  Checks happen when an op is
 * staged, under the store's lock: this store serves tests, one writer at
 * a time.
 */
struct notices {
	struct customer_record *customers; /* strings owned */
	size_t n_customers;
	struct order_link *links;
	size_t n_links;
	struct kept_delivery *deliveries; /* by id */
	size_t n_deliveries;
	struct order_link *alerts; /* staged only: backorders told about */
	size_t n_alerts;
	int64_t alerted_at; /* staged only: when */
	int64_t *replays;   /* staged only: ids to make pending */
	size_t n_replays;
	int64_t replay_at_ms; /* staged only: their next_at_ms */
};

struct memory_store {
	pthread_mutex_t lock;		  /* guards everything below */
	struct stored_product **products; /* owned */
	size_t n_products;		  /* entries used */
	size_t cap_products;		  /* entries allocated */
	struct event_vec outbox;	  /* every event committed */
	struct stored_round *rounds;	  /* research, oldest first */
	size_t n_rounds;		  /* entries used */
	int64_t next_event_id;		  /* id of the last one */
	struct token_record *tokens;	  /* names owned; by creation */
	size_t n_tokens;		  /* entries used */
	int64_t clock_skew;		  /* seconds added to the wall clock */
	struct notices notices;		  /* customers and their notices */
	struct mem_analytics *analytics;  /* formulas, surveys, demand */
};

/* A token change made in a transaction, applied by its commit. */
struct token_op {
	bool active;		 /* there is one */
	bool revoke;		 /* revoke @rec.name, else add @rec */
	struct token_record rec; /* name owned */
};

/* A product the transaction wrote: a private copy and what to check. */
struct staged {
	struct stored_product *copy; /* owned until the commit swaps it in */
	bool created;		     /* the store must not have the sku */
	int64_t expect;		     /* else: the version it must still hold */
};

struct memory_uow {
	struct uow base;	       /* must stay first */
	struct memory_store *store;    /* borrowed */
	struct staged *staged;	       /* products written, in order */
	size_t n_staged;	       /* entries used */
	struct event_vec queued;       /* added in this transaction */
	struct stored_round *round;    /* research added in this transaction */
	struct token_op token;	       /* token change in this transaction */
	struct notices staged_notices; /* customers etc. in this transaction */
	struct mem_analytics *analytics; /* staged analytics rows, or NULL */
};

/* Free a string the store owns but keeps as const in a research row. */
static void free_owned(const char *s)
{
	union {
		const char *c; /* as kept */
		char *m;       /* as allocated */
	} u = {.c = s};

	mem_free(u.m);
}

static void round_free(struct stored_round *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->rows && i < r->n; i++) {
		free_owned(r->rows[i].scent);
		free_owned(r->rows[i].sku);
	}
	mem_free(r->rows);
	mem_free(r->decisions);
}

static void event_free(struct stored_event *e)
{
	mem_free(e->kind);
	mem_free(e->orderid);
	mem_free(e->sku);
	mem_free(e->batchref);
}

static void events_clear(struct event_vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		event_free(&v->items[i]);
	mem_free(v->items);
	memset(v, 0, sizeof(*v));
}

static int events_reserve(struct event_vec *v, size_t more)
{
	size_t cap = v->cap ? v->cap : 16;
	void *p;

	if (v->n + more <= v->cap)
		return 0;
	while (cap < v->n + more)
		cap *= 2;
	p = mem_realloc(v->items, cap * sizeof(*v->items));
	if (!p)
		return -1;
	v->items = p;
	v->cap = cap;
	return 0;
}

static const struct uow_tx_ops memory_tx_ops;

static struct memory_uow *to_memory_uow(struct uow *u)
{
	assert(u->tx == &memory_tx_ops);
	return container_of(u, struct memory_uow, base);
}

static int oom(struct sc_err *err)
{
	return err_set(err, SC_ENOMEM, "out of memory");
}

int memory_store_new(struct memory_store **out, struct sc_err *err)
{
	struct memory_store *s = mem_calloc(1, sizeof(*s));

	if (!s)
		return oom(err);
	if (pthread_mutex_init(&s->lock, NULL)) {
		mem_free(s);
		return err_set(err, SC_EIO, "cannot create mutex");
	}
	*out = s;
	return SC_OK;
}

static void stored_free(struct stored_product *sp)
{
	if (!sp)
		return;
	for (size_t i = 0; sp->batches && i < sp->n_batches; i++) {
		struct stored_batch *sb = &sp->batches[i];

		for (size_t k = 0; k < sb->n_lines; k++)
			mem_free(sb->lines[k].orderid);
		mem_free(sb->lines);
		mem_free(sb->ref);
	}
	for (size_t k = 0; sp->backorders && k < sp->n_backorders; k++)
		mem_free(sp->backorders[k].orderid);
	mem_free(sp->backorders);
	mem_free(sp->batches);
	mem_free(sp->sku);
	mem_free(sp);
}

static void notices_free(struct notices *n);
static void analytics_free(struct mem_analytics *an);

void memory_store_free(struct memory_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_products; i++)
		stored_free(s->products[i]);
	mem_free(s->products);
	events_clear(&s->outbox);
	for (size_t i = 0; i < s->n_rounds; i++)
		round_free(&s->rounds[i]);
	mem_free(s->rounds);
	for (size_t i = 0; i < s->n_tokens; i++)
		free_owned(s->tokens[i].name);
	mem_free(s->tokens);
	notices_free(&s->notices);
	analytics_free(s->analytics);
	(void)pthread_mutex_destroy(&s->lock);
	mem_free(s);
}

void memory_store_advance_clock(struct memory_store *s, int64_t seconds)
{
	(void)pthread_mutex_lock(&s->lock);
	s->clock_skew += seconds;
	(void)pthread_mutex_unlock(&s->lock);
}

/* Index of @sku in the store, or -1.  Caller holds the lock. */
static ptrdiff_t find(struct memory_store *s, const char *sku)
{
	for (size_t i = 0; i < s->n_products; i++)
		if (!strcmp(s->products[i]->sku, sku))
			return (ptrdiff_t)i;
	return -1;
}

/* A deep copy of @sp, or NULL when memory runs out. */
static struct stored_product *stored_clone(const struct stored_product *sp)
{
	struct stored_product *c = mem_calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->version = sp->version;
	c->low_stock = sp->low_stock;
	if (!(c->sku = mem_strdup(sp->sku)))
		goto out_free;
	if (sp->n_batches &&
	    !(c->batches = mem_calloc(sp->n_batches, sizeof(*c->batches))))
		goto out_free;
	for (size_t i = 0; i < sp->n_batches; i++) {
		const struct stored_batch *from = &sp->batches[i];
		struct stored_batch *to = &c->batches[i];

		c->n_batches = i + 1;
		*to = *from;
		to->lines = NULL;
		to->n_lines = 0;
		if (!(to->ref = mem_strdup(from->ref)))
			goto out_free;
		if (from->n_lines &&
		    !(to->lines =
			      mem_calloc(from->n_lines, sizeof(*to->lines))))
			goto out_free;
		for (size_t k = 0; k < from->n_lines; k++) {
			to->lines[k].qty = from->lines[k].qty;
			to->lines[k].orderid =
				mem_strdup(from->lines[k].orderid);
			if (!to->lines[k].orderid)
				goto out_free;
			to->n_lines = k + 1;
		}
	}
	if (sp->n_backorders &&
	    !(c->backorders =
		      mem_calloc(sp->n_backorders, sizeof(*c->backorders))))
		goto out_free;
	for (size_t k = 0; k < sp->n_backorders; k++) {
		c->backorders[k] = sp->backorders[k];
		if (!(c->backorders[k].orderid =
			      mem_strdup(sp->backorders[k].orderid)))
			goto out_free;
		c->n_backorders = k + 1;
	}
	return c;
out_free:
	stored_free(c);
	return NULL;
}

/* Rebuild @sp as a domain product in @a.  Caller holds the lock. */
static int copy_out(const struct stored_product *sp, struct arena *a,
		    struct product **out, struct sc_err *err)
{
	struct product *p;
	int rc = product_new(a, sp->sku, sp->version, false, &p, err);

	if (!rc)
		product_restore_low_stock(p, sp->low_stock);

	for (size_t i = 0; !rc && i < sp->n_batches; i++) {
		const struct stored_batch *sb = &sp->batches[i];
		struct batch *b;

		rc = product_restore_batch(
			p,
			&(struct batch_spec){.ref = sb->ref,
					     .qty = sb->purchased,
					     .has_eta = sb->has_eta,
					     .eta = sb->eta,
					     .supplier = sb->supplier},
			sb->allocated, &b, err);
		for (size_t k = 0; !rc && k < sb->n_lines; k++)
			rc = product_restore_line(p, b, sb->lines[k].orderid,
						  sb->lines[k].qty, err);
		if (!rc)
			b->lines_complete = true;
	}
	for (size_t k = 0; !rc && k < sp->n_backorders; k++)
		rc = product_restore_backorder(p, sp->backorders[k].orderid,
					       sp->backorders[k].qty, err);
	if (!rc) {
		p->backorders_complete = true;
		*out = p;
	}
	return rc;
}

static int memory_begin(struct uow *u, struct sc_err *err)
{
	(void)u;
	(void)err;
	return SC_OK;
}

static int memory_get(struct uow *u, const char *sku,
		      const struct load_hint *hint, struct product **out,
		      struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	ptrdiff_t i;
	int rc;

	(void)hint; /* every line is always loaded */
	(void)pthread_mutex_lock(&s->lock);
	i = find(s, sku);
	rc = i < 0 ? err_set(err, SC_ENOTFOUND, "unknown sku '%s'", sku)
		   : copy_out(s->products[i], u->arena, out, err);
	(void)pthread_mutex_unlock(&s->lock);
	return rc;
}

static int memory_sku_of_batch(struct uow *u, const char *ref, const char **out,
			       struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	const char *sku = NULL;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !sku && i < s->n_products; i++)
		for (size_t k = 0; k < s->products[i]->n_batches; k++)
			if (!strcmp(s->products[i]->batches[k].ref, ref)) {
				sku = s->products[i]->sku;
				break;
			}
	if (!sku)
		rc = err_set(err, SC_ENOTFOUND, "unknown batch '%s'", ref);
	else if (!(*out = arena_strdup(u->arena, sku)))
		rc = oom(err);
	(void)pthread_mutex_unlock(&s->lock);
	return rc;
}

/* The staged copy of @sku, or NULL. */
static struct staged *staged_of(struct memory_uow *m, const char *sku)
{
	for (size_t i = 0; i < m->n_staged; i++)
		if (!strcmp(m->staged[i].copy->sku, sku))
			return &m->staged[i];
	return NULL;
}

/* Room for one more staged product. */
static int stage_reserve(struct memory_uow *m, struct sc_err *err)
{
	void *p =
		mem_realloc(m->staged, (m->n_staged + 1) * sizeof(*m->staged));

	if (!p)
		return oom(err);
	m->staged = p;
	return SC_OK;
}

static int memory_add_product(struct uow *u, const char *sku, int64_t version,
			      struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct stored_product *c;

	if (staged_of(m, sku))
		return err_set(err, SC_ECONFLICT, "product '%s' exists", sku);
	if (stage_reserve(m, err))
		return SC_ENOMEM;
	c = mem_calloc(1, sizeof(*c));
	if (!c || !(c->sku = mem_strdup(sku))) {
		mem_free(c);
		return oom(err);
	}
	c->version = version;
	m->staged[m->n_staged++] = (struct staged){c, true, 0};
	return SC_OK;
}

static int memory_bump_version(struct uow *u, const char *sku, int64_t from,
			       int64_t to, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct memory_store *s = m->store;
	struct stored_product *c = NULL;
	struct staged *st = staged_of(m, sku);
	bool as_loaded;
	ptrdiff_t at;

	if (st) {
		st->copy->version = to;
		return SC_OK;
	}
	if (stage_reserve(m, err))
		return SC_ENOMEM;
	(void)pthread_mutex_lock(&s->lock);
	at = find(s, sku);
	as_loaded = at >= 0 && s->products[at]->version == from;
	if (as_loaded)
		c = stored_clone(s->products[at]);
	(void)pthread_mutex_unlock(&s->lock);
	/* checked again by the commit, which is what makes it hold */
	if (!as_loaded)
		return err_set(err, SC_ECONFLICT,
			       "product '%s' changed concurrently", sku);
	if (!c)
		return oom(err);
	c->version = to;
	m->staged[m->n_staged++] = (struct staged){c, false, from};
	return SC_OK;
}

/* The staged batch @ref of @sku's copy, or NULL. */
static struct stored_batch *staged_batch(struct memory_uow *m, const char *sku,
					 const char *ref)
{
	struct staged *st = staged_of(m, sku);

	for (size_t i = 0; st && i < st->copy->n_batches; i++)
		if (!strcmp(st->copy->batches[i].ref, ref))
			return &st->copy->batches[i];
	return NULL;
}

/* The generic save writes the product row first; anything else is a bug. */
static int not_staged(const char *sku, struct sc_err *err)
{
	return err_set(err, SC_EIO, "memory: write to '%s' before its version",
		       sku);
}

static int memory_add_batch(struct uow *u, const char *sku,
			    const struct batch *b, struct sc_err *err)
{
	struct staged *st = staged_of(to_memory_uow(u), sku);
	struct stored_product *c;
	struct stored_batch *sb;
	void *p;

	if (!st)
		return not_staged(sku, err);
	c = st->copy;
	p = mem_realloc(c->batches, (c->n_batches + 1) * sizeof(*c->batches));
	if (!p)
		return oom(err);
	c->batches = p;
	sb = &c->batches[c->n_batches];
	memset(sb, 0, sizeof(*sb));
	if (!(sb->ref = mem_strdup(b->ref)))
		return oom(err);
	sb->purchased = b->purchased;
	sb->allocated = b->allocated;
	sb->has_eta = b->has_eta;
	sb->eta = b->eta;
	sb->supplier = b->supplier;
	c->n_batches++;
	return SC_OK;
}

static int memory_set_batch_totals(struct uow *u, const struct batch *b,
				   struct sc_err *err)
{
	struct stored_batch *sb =
		staged_batch(to_memory_uow(u), b->sku, b->ref);

	if (!sb)
		return not_staged(b->sku, err);
	sb->purchased = b->purchased;
	sb->allocated = b->allocated;
	sb->has_eta = b->has_eta;
	sb->eta = b->eta;
	return SC_OK;
}

static int memory_add_line(struct uow *u, const char *batchref,
			   const struct order_line *l, struct sc_err *err)
{
	struct stored_batch *sb =
		staged_batch(to_memory_uow(u), l->sku, batchref);
	void *p;

	if (!sb)
		return not_staged(l->sku, err);
	p = mem_realloc(sb->lines, (sb->n_lines + 1) * sizeof(*sb->lines));
	if (!p)
		return oom(err);
	sb->lines = p;
	if (!(sb->lines[sb->n_lines].orderid = mem_strdup(l->orderid)))
		return oom(err);
	sb->lines[sb->n_lines++].qty = l->qty;
	return SC_OK;
}

static int memory_remove_line(struct uow *u, const struct order_line *l,
			      struct sc_err *err)
{
	struct staged *st = staged_of(to_memory_uow(u), l->sku);

	if (!st)
		return not_staged(l->sku, err);
	for (size_t i = 0; i < st->copy->n_batches; i++) {
		struct stored_batch *sb = &st->copy->batches[i];

		for (size_t k = 0; k < sb->n_lines; k++) {
			if (strcmp(sb->lines[k].orderid, l->orderid) != 0)
				continue;
			mem_free(sb->lines[k].orderid);
			memmove(&sb->lines[k], &sb->lines[k + 1],
				(sb->n_lines - k - 1) * sizeof(*sb->lines));
			sb->n_lines--;
			return SC_OK;
		}
	}
	return SC_OK; /* nothing stored: the delete of SQL, a no-op */
}

static int memory_set_low_stock(struct uow *u, const char *sku,
				int64_t threshold, struct sc_err *err)
{
	struct staged *st = staged_of(to_memory_uow(u), sku);

	if (!st)
		return not_staged(sku, err);
	st->copy->low_stock = threshold;
	return SC_OK;
}

static int memory_add_backorder(struct uow *u, const struct order_line *l,
				struct sc_err *err)
{
	struct staged *st = staged_of(to_memory_uow(u), l->sku);
	struct stored_product *sp;
	void *p;

	if (!st)
		return not_staged(l->sku, err);
	sp = st->copy;
	p = mem_realloc(sp->backorders,
			(sp->n_backorders + 1) * sizeof(*sp->backorders));
	if (!p)
		return oom(err);
	sp->backorders = p;
	memset(&sp->backorders[sp->n_backorders], 0, sizeof(*sp->backorders));
	if (!(sp->backorders[sp->n_backorders].orderid =
		      mem_strdup(l->orderid)))
		return oom(err);
	sp->backorders[sp->n_backorders].created_at =
		(int64_t)time(NULL) + to_memory_uow(u)->store->clock_skew;
	sp->backorders[sp->n_backorders++].qty = l->qty;
	return SC_OK;
}

static int memory_remove_backorder(struct uow *u, const struct order_line *l,
				   struct sc_err *err)
{
	struct staged *st = staged_of(to_memory_uow(u), l->sku);
	struct stored_product *sp;

	if (!st)
		return not_staged(l->sku, err);
	sp = st->copy;
	for (size_t k = 0; k < sp->n_backorders; k++) {
		if (strcmp(sp->backorders[k].orderid, l->orderid) != 0)
			continue;
		mem_free(sp->backorders[k].orderid);
		memmove(&sp->backorders[k], &sp->backorders[k + 1],
			(sp->n_backorders - k - 1) * sizeof(*sp->backorders));
		sp->n_backorders--;
		break;
	}
	return SC_OK;
}

/* Does the store still hold what each staged copy expects?  Locked. */
static int check_staged(struct memory_store *s, const struct memory_uow *m,
			struct sc_err *err)
{
	for (size_t i = 0; i < m->n_staged; i++) {
		const struct staged *st = &m->staged[i];
		ptrdiff_t at = find(s, st->copy->sku);

		if (st->created
			    ? at >= 0
			    : at < 0 || s->products[at]->version != st->expect)
			return err_set(err, SC_ECONFLICT,
				       "product '%s' changed concurrently",
				       st->copy->sku);
	}
	return SC_OK;
}

/* Put the staged copies in place; caller holds the lock, room reserved. */
static void swap_in(struct memory_store *s, struct memory_uow *m)
{
	for (size_t i = 0; i < m->n_staged; i++) {
		struct stored_product *c = m->staged[i].copy;
		ptrdiff_t at = find(s, c->sku);

		if (at < 0) {
			s->products[s->n_products++] = c;
		} else {
			stored_free(s->products[at]);
			s->products[at] = c;
		}
		m->staged[i].copy = NULL;
	}
	m->n_staged = 0;
}

static int reserve_products(struct memory_store *s, size_t more,
			    struct sc_err *err)
{
	size_t cap = s->cap_products ? s->cap_products : 8;
	void *p;

	if (s->n_products + more <= s->cap_products)
		return SC_OK;
	while (cap < s->n_products + more)
		cap *= 2;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	p = mem_realloc(s->products, cap * sizeof(*s->products));
	if (!p)
		return oom(err);
	s->products = p;
	s->cap_products = cap;
	return SC_OK;
}

/* Move @q's events into the outbox; capacity was reserved. */
static void publish_queued(struct memory_store *s, struct event_vec *q)
{
	int64_t now = (int64_t)time(NULL) + s->clock_skew;

	for (size_t i = 0; i < q->n; i++) {
		q->items[i].id = ++s->next_event_id;
		q->items[i].created_at = now;
		s->outbox.items[s->outbox.n++] = q->items[i];
	}
	q->n = 0;
}

/* Room for @r in the store, and its id still free.  Caller locks. */
static int reserve_round(struct memory_store *s, const struct stored_round *r,
			 struct sc_err *err)
{
	void *p;

	if (!r)
		return SC_OK;
	if (r->id != (int64_t)s->n_rounds + 1)
		return err_set(err, SC_ECONFLICT,
			       "research added concurrently");
	p = mem_realloc(s->rounds, (s->n_rounds + 1) * sizeof(*s->rounds));
	if (!p)
		return oom(err);
	s->rounds = p;
	return SC_OK;
}

/* Move the transaction's round into the store (room reserved). */
static void publish_round(struct memory_store *s, struct memory_uow *m)
{
	if (!m->round)
		return;
	s->rounds[s->n_rounds++] = *m->round;
	mem_free(m->round);
	m->round = NULL;
}

/* Index of token @name in @s, or -1.  Caller locks. */
static ptrdiff_t find_token(const struct memory_store *s, const char *name)
{
	for (size_t i = 0; i < s->n_tokens; i++)
		if (!strcmp(s->tokens[i].name, name))
			return (ptrdiff_t)i;
	return -1;
}

/* Room for @op, and its name still free (add).  Caller locks. */
static int reserve_token(struct memory_store *s, const struct token_op *op,
			 struct sc_err *err)
{
	void *p;

	if (!op->active || op->revoke)
		return SC_OK;
	if (find_token(s, op->rec.name) >= 0)
		return err_set(err, SC_EEXIST, "token '%s' exists",
			       op->rec.name);
	p = mem_realloc(s->tokens, (s->n_tokens + 1) * sizeof(*s->tokens));
	if (!p)
		return oom(err);
	s->tokens = p;
	return SC_OK;
}

/* Apply @op (room reserved); the store takes its name. */
static void publish_token(struct memory_store *s, struct token_op *op)
{
	ptrdiff_t at;

	if (!op->active)
		return;
	if (!op->revoke) {
		s->tokens[s->n_tokens++] = op->rec;
		op->rec.name = NULL;
	} else if ((at = find_token(s, op->rec.name)) >= 0 &&
		   !s->tokens[at].revoked_at) {
		s->tokens[at].revoked_at = op->rec.revoked_at;
	}
	op->active = false;
}

static void memory_rollback(struct uow *u);
/* ---- formulas, surveys and demand (issue 15) ------------------------- */

/*
 * The analytics rows of the store, or those one transaction staged (the
 * same shape: a commit replays the staged ones into the store).  Records
 * and strings live in @arena and are never freed one by one: a replaced
 * ingredient's old strings stay until the store is freed, which suits a
 * store that serves tests.  Responses and demand are upserted by key
 * through @index (open addressing), so a 100 000-response import stays
 * linear.
 */
struct kept_response {
	int64_t survey;		  /* its survey */
	struct survey_response r; /* variant_idx set; strings in arena */
};

struct keyed {
	const char *key; /* in the arena */
	size_t at;	 /* index in its vector */
};

struct key_index {
	struct keyed *slots; /* cap entries, key NULL when free */
	size_t cap;	     /* a power of two, or 0 */
	size_t n;	     /* used */
};

struct mem_analytics {
	struct arena arena;
	struct ingredient *ing;
	size_t n_ing, cap_ing;
	struct formula *formulas;
	size_t n_formulas, cap_formulas;
	struct formula_change *log; /* oldest first */
	size_t n_log, cap_log;
	struct survey *surveys; /* by id, from 1 */
	size_t n_surveys, cap_surveys;
	int64_t first_survey_id; /* staged: the id of surveys[0] */
	struct kept_response *resp;
	size_t n_resp, cap_resp;
	struct demand_entry *demand;
	size_t n_demand, cap_demand;
	struct key_index resp_index, demand_index;
	struct track_record *tracks; /* issue 16's cue tracks, by id from 1 */
	size_t n_tracks, cap_tracks;
	int64_t first_track_id;	     /* staged: the id of tracks[0] */
	struct venue_record *venues; /* by id from 1, with cartridges */
	size_t n_venues, cap_venues;
	int64_t first_venue_id;	      /* staged: the id of venues[0] */
	struct venue_change *changes; /* staged only: levels to set */
	size_t n_changes, cap_changes;
	struct show_record *shows; /* by id from 1 */
	size_t n_shows, cap_shows;
	int64_t first_show_id; /* staged: the id of shows[0] */
};

static void analytics_free(struct mem_analytics *an)
{
	if (!an)
		return;
	arena_release(&an->arena);
	mem_free(an->resp_index.slots);
	mem_free(an->demand_index.slots);
	mem_free(an);
}

static uint64_t key_hash(const char *k)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*k)
		h = (h ^ (unsigned char)*k++) * 1099511628211ULL;
	return h;
}

/* The slot of @key: its entry, or the free slot where it would go. */
static struct keyed *key_slot(const struct key_index *ix, const char *key)
{
	size_t i = (size_t)key_hash(key) & (ix->cap - 1);

	while (ix->slots[i].key && strcmp(ix->slots[i].key, key) != 0)
		i = (i + 1) & (ix->cap - 1);
	return &ix->slots[i];
}

/* Room for one more key (load at most one half); -1 on OOM. */
static int key_reserve(struct key_index *ix)
{
	struct key_index big;

	if (2 * (ix->n + 1) <= ix->cap)
		return 0;
	big.cap = ix->cap ? 2 * ix->cap : 64;
	big.n = ix->n;
	big.slots = mem_calloc(big.cap, sizeof(*big.slots));
	if (!big.slots)
		return -1;
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->slots[i].key)
			*key_slot(&big, ix->slots[i].key) = ix->slots[i];
	mem_free(ix->slots);
	*ix = big;
	return 0;
}

/*
 * The index of @key in a vector through @ix, or SIZE_MAX after noting
 * that it will be at @next (the caller appends it there).  -1 via *@bad
 * on OOM.
 */
static size_t key_find_or_add(struct mem_analytics *an, struct key_index *ix,
			      const char *key, size_t next, bool *bad)
{
	struct keyed *slot;

	if (key_reserve(ix)) {
		*bad = true;
		return SIZE_MAX;
	}
	slot = key_slot(ix, key);
	if (slot->key)
		return slot->at;
	slot->key = arena_strdup(&an->arena, key);
	if (!slot->key) {
		*bad = true;
		return SIZE_MAX;
	}
	slot->at = next;
	ix->n++;
	return SIZE_MAX;
}

/* Grow vector @v (of @n, @cap) in @an's arena for one more; -1 on OOM. */
#define AN_GROW(an, v, n, cap)                                                 \
	arena_reserve(&(an)->arena, (void **)&(v), &(cap), (n) + 1,            \
		      sizeof(*(v)))

static const char *an_dup(struct mem_analytics *an, const char *s, bool *bad)
{
	char *d;

	if (!s)
		return NULL;
	d = arena_strdup(&an->arena, s);
	if (!d)
		*bad = true;
	return d;
}

static int an_put_ingredient(struct mem_analytics *an,
			     const struct ingredient *in)
{
	struct ingredient copy = *in;
	bool bad = false;
	size_t i = 0;

	copy.name = an_dup(an, in->name, &bad);
	copy.cas = an_dup(an, in->cas, &bad);
	while (i < an->n_ing && strcmp(an->ing[i].name, in->name) != 0)
		i++;
	if (bad ||
	    (i == an->n_ing && AN_GROW(an, an->ing, an->n_ing, an->cap_ing)))
		return -1;
	an->ing[i] = copy;
	if (i == an->n_ing)
		an->n_ing++;
	return 0;
}

static const struct formula *an_formula(const struct mem_analytics *an,
					const char *sku, int32_t version)
{
	for (size_t i = 0; i < an->n_formulas; i++)
		if (!strcmp(an->formulas[i].sku, sku) &&
		    an->formulas[i].version == version)
			return &an->formulas[i];
	return NULL;
}

static int an_add_formula(struct mem_analytics *an, const struct formula *f)
{
	struct formula copy = *f;
	struct formula_line *lines =
		arena_calloc(&an->arena, f->n, sizeof(*lines));
	bool bad = !lines;

	copy.sku = an_dup(an, f->sku, &bad);
	copy.note = an_dup(an, f->note, &bad);
	for (size_t i = 0; !bad && i < f->n; i++) {
		lines[i].milli = f->lines[i].milli;
		lines[i].ingredient = an_dup(an, f->lines[i].ingredient, &bad);
	}
	copy.lines = lines;
	if (bad || AN_GROW(an, an->formulas, an->n_formulas, an->cap_formulas))
		return -1;
	an->formulas[an->n_formulas++] = copy;
	return 0;
}

static int an_log(struct mem_analytics *an, const struct formula_change *c)
{
	struct formula_change copy = *c;
	bool bad = false;

	copy.sku = an_dup(an, c->sku, &bad);
	copy.actor = an_dup(an, c->actor, &bad);
	copy.reason = an_dup(an, c->reason, &bad);
	if (bad || AN_GROW(an, an->log, an->n_log, an->cap_log))
		return -1;
	an->log[an->n_log++] = copy;
	return 0;
}

static int an_add_survey(struct mem_analytics *an, const struct survey *sv)
{
	struct survey copy = *sv;
	struct variant_tally *v = arena_calloc(&an->arena, sv->n, sizeof(*v));
	bool bad = !v;

	copy.sku = an_dup(an, sv->sku, &bad);
	copy.name = an_dup(an, sv->name, &bad);
	for (size_t i = 0; !bad && i < sv->n; i++) {
		v[i].label = an_dup(an, sv->variants[i].label, &bad);
		v[i].formula_version = sv->variants[i].formula_version;
	}
	copy.variants = v;
	if (bad || AN_GROW(an, an->surveys, an->n_surveys, an->cap_surveys))
		return -1;
	an->surveys[an->n_surveys++] = copy;
	return 0;
}

static int an_add_response(struct mem_analytics *an, int64_t survey,
			   const struct survey_response *r)
{
	char key[SC_ID_MAX + 48];
	struct kept_response k = {survey, *r};
	bool bad = false;
	size_t at;

	(void)snprintf(key, sizeof(key), "%lld/%d/%s", (long long)survey,
		       (int)r->variant_idx, r->respondent);
	k.r.variant = NULL;
	k.r.respondent = an_dup(an, r->respondent, &bad);
	k.r.segment = an_dup(an, r->segment, &bad);
	if (bad || AN_GROW(an, an->resp, an->n_resp, an->cap_resp))
		return -1;
	at = key_find_or_add(an, &an->resp_index, key, an->n_resp, &bad);
	if (bad)
		return -1;
	an->resp[at == SIZE_MAX ? an->n_resp++ : at] = k;
	return 0;
}

static int an_add_demand(struct mem_analytics *an, const struct demand_entry *e)
{
	char key[2 * SC_ID_MAX + 48];
	struct demand_entry copy = *e;
	bool bad = false;
	size_t at;

	(void)snprintf(key, sizeof(key), "%d/%d/%s/%s", (int)e->day,
		       (int)e->outcome, e->sku, e->segment ? e->segment : "");
	if (AN_GROW(an, an->demand, an->n_demand, an->cap_demand))
		return -1;
	at = key_find_or_add(an, &an->demand_index, key, an->n_demand, &bad);
	if (bad)
		return -1;
	if (at != SIZE_MAX) {
		an->demand[at].units += e->units;
		an->demand[at].lines += e->lines;
		return 0;
	}
	copy.sku = an_dup(an, e->sku, &bad);
	copy.segment = an_dup(an, e->segment ? e->segment : "", &bad);
	if (bad)
		return -1;
	an->demand[an->n_demand++] = copy;
	return 0;
}

static int an_add_track(struct mem_analytics *an, const struct track_record *t)
{
	struct track_record copy = *t;
	bool bad = false;

	copy.title = an_dup(an, t->title, &bad);
	copy.content_hash = an_dup(an, t->content_hash, &bad);
	copy.body = an_dup(an, t->body, &bad);
	if (bad || AN_GROW(an, an->tracks, an->n_tracks, an->cap_tracks))
		return -1;
	an->tracks[an->n_tracks++] = copy;
	return 0;
}

/* A copy of @n cartridges in @an's arena (strings too). */
static struct cartridge_row *an_cartridges(struct mem_analytics *an,
					   const struct cartridge_row *src,
					   size_t n, bool *bad)
{
	struct cartridge_row *c =
		arena_calloc(&an->arena, n ? n : 1, sizeof(*c));

	if (!c) {
		*bad = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		c[i] = src[i];
		c[i].sku = an_dup(an, src[i].sku, bad);
		c[i].batch = an_dup(an, src[i].batch, bad);
	}
	return c;
}

static int an_add_venue(struct mem_analytics *an, const struct venue_record *v)
{
	struct venue_record copy = *v;
	bool bad = false;

	copy.name = an_dup(an, v->name, &bad);
	copy.body = an_dup(an, v->body, &bad);
	copy.version = 1;
	copy.cartridges =
		an_cartridges(an, v->cartridges, v->n_cartridges, &bad);
	if (bad || AN_GROW(an, an->venues, an->n_venues, an->cap_venues))
		return -1;
	an->venues[an->n_venues++] = copy;
	return 0;
}

static int an_add_change(struct mem_analytics *an, const struct venue_change *c)
{
	struct venue_change copy = *c;
	bool bad = false;

	copy.rows = an_cartridges(an, c->rows, c->n_rows, &bad);
	if (bad || AN_GROW(an, an->changes, an->n_changes, an->cap_changes))
		return -1;
	an->changes[an->n_changes++] = copy;
	return 0;
}

static int an_add_show(struct mem_analytics *an, const struct show_record *s)
{
	struct show_record copy = *s;
	struct consumption_row *u =
		arena_calloc(&an->arena, s->n_used ? s->n_used : 1, sizeof(*u));
	bool bad = !u;

	for (size_t i = 0; u && i < s->n_used; i++) {
		u[i] = s->used[i];
		u[i].sku = an_dup(an, s->used[i].sku, &bad);
		u[i].batch = an_dup(an, s->used[i].batch, &bad);
	}
	copy.used = u;
	if (bad || AN_GROW(an, an->shows, an->n_shows, an->cap_shows))
		return -1;
	an->shows[an->n_shows++] = copy;
	return 0;
}

/* The committed cartridge of venue @v at @r's place, or NULL. */
static struct cartridge_row *an_cartridge(struct venue_record *v,
					  const struct cartridge_row *r)
{
	for (size_t k = 0; k < v->n_cartridges; k++)
		if (v->cartridges[k].row == r->row &&
		    v->cartridges[k].seat == r->seat &&
		    v->cartridges[k].slot == r->slot)
			return &v->cartridges[k];
	return NULL;
}

/* Whether change @c can apply: SC_ENOTFOUND, SC_ECONFLICT. */
static int an_change_ok(struct mem_analytics *an, const struct venue_change *c,
			struct sc_err *err)
{
	struct venue_record *v;

	if (c->id < 1 || c->id > (int64_t)an->n_venues)
		return err_set(err, SC_ENOTFOUND, "unknown venue %lld",
			       (long long)c->id);
	v = &an->venues[c->id - 1];
	if (v->version != c->version)
		return err_set(err, SC_ECONFLICT,
			       "venue %lld changed concurrently",
			       (long long)c->id);
	for (size_t i = 0; i < c->n_rows; i++)
		if (!an_cartridge(v, &c->rows[i]))
			return err_set(err, SC_ENOTFOUND,
				       "venue %lld has no cartridge at %c%d "
				       "slot %d",
				       (long long)c->id, 'A' + c->rows[i].row,
				       (int)c->rows[i].seat,
				       (int)c->rows[i].slot);
	return SC_OK;
}

/* Set the rows of change @c (an_change_ok said yes); -1 on OOM. */
static int an_apply_change(struct mem_analytics *an,
			   const struct venue_change *c)
{
	struct venue_record *v = &an->venues[c->id - 1];
	bool bad = false;

	for (size_t i = 0; i < c->n_rows; i++) {
		struct cartridge_row *to = an_cartridge(v, &c->rows[i]);

		to->sku = an_dup(an, c->rows[i].sku, &bad);
		to->batch = an_dup(an, c->rows[i].batch, &bad);
		to->level_ul = c->rows[i].level_ul;
	}
	v->version++;
	return bad ? -1 : 0;
}

/* The transaction's staged rows, made on first use; NULL on OOM. */
static struct mem_analytics *staged_analytics(struct memory_uow *m)
{
	if (!m->analytics) {
		m->analytics = mem_calloc(1, sizeof(*m->analytics));
		if (m->analytics)
			arena_init(&m->analytics->arena);
	}
	return m->analytics;
}

/* The store's rows, made on first use; NULL on OOM.  Under the lock. */
static struct mem_analytics *store_analytics(struct memory_store *s)
{
	if (!s->analytics) {
		s->analytics = mem_calloc(1, sizeof(*s->analytics));
		if (s->analytics)
			arena_init(&s->analytics->arena);
	}
	return s->analytics;
}

static int memory_ingredient_put(struct uow *u, const struct ingredient *in,
				 struct sc_err *err)
{
	struct mem_analytics *st = staged_analytics(to_memory_uow(u));

	return !st || an_put_ingredient(st, in) ? oom(err) : SC_OK;
}

static int memory_formula_add(struct uow *u, const struct formula *f,
			      struct sc_err *err)
{
	struct mem_analytics *st = staged_analytics(to_memory_uow(u));

	if (st && an_formula(st, f->sku, f->version))
		return err_set(err, SC_ECONFLICT,
			       "formula '%s' version %d exists", f->sku,
			       (int)f->version);
	return !st || an_add_formula(st, f) ? oom(err) : SC_OK;
}

static int memory_formula_activate(struct uow *u,
				   const struct formula_change *c,
				   struct sc_err *err)
{
	struct mem_analytics *st = staged_analytics(to_memory_uow(u));

	return !st || an_log(st, c) ? oom(err) : SC_OK;
}

/*
 * The id the store's next row of a kind will get (its count, at @off in
 * struct mem_analytics, plus one): staged rows number from it, and the
 * commit refuses them when a concurrent commit took it meanwhile.
 */
static int64_t next_id(struct memory_store *s, size_t off)
{
	size_t n;

	(void)pthread_mutex_lock(&s->lock);
	n = s->analytics ? *(const size_t *)((const char *)s->analytics + off)
			 : 0;
	(void)pthread_mutex_unlock(&s->lock);
	return (int64_t)n + 1;
}

static int memory_survey_add(struct uow *u, const struct survey *sv,
			     int64_t *id_out, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct mem_analytics *st = staged_analytics(m);

	if (!st)
		return oom(err);
	if (!st->n_surveys)
		st->first_survey_id = next_id(
			m->store, offsetof(struct mem_analytics, n_surveys));
	if (an_add_survey(st, sv))
		return oom(err);
	*id_out = st->first_survey_id + (int64_t)st->n_surveys - 1;
	return SC_OK;
}

static int memory_responses_add(struct uow *u, int64_t id,
				const struct survey_response *r, size_t n,
				struct sc_err *err)
{
	struct mem_analytics *st = staged_analytics(to_memory_uow(u));

	for (size_t i = 0; st && i < n; i++)
		if (an_add_response(st, id, &r[i]))
			return oom(err);
	return st ? SC_OK : oom(err);
}

static int memory_demand_add(struct uow *u, const struct demand_entry *e,
			     struct sc_err *err)
{
	struct mem_analytics *st = staged_analytics(to_memory_uow(u));

	return !st || an_add_demand(st, e) ? oom(err) : SC_OK;
}

static bool replay_analytics(struct mem_analytics *an,
			     const struct mem_analytics *st);

/* What a concurrent commit made impossible for staged rows @st. */
static int analytics_conflict(const struct mem_analytics *st,
			      struct mem_analytics *an, struct sc_err *err)
{
	for (size_t i = 0; i < st->n_formulas; i++)
		if (an_formula(an, st->formulas[i].sku,
			       st->formulas[i].version))
			return err_set(err, SC_ECONFLICT,
				       "formula '%s' version %d added "
				       "concurrently",
				       st->formulas[i].sku,
				       (int)st->formulas[i].version);
	if (st->n_surveys && st->first_survey_id != (int64_t)an->n_surveys + 1)
		return err_set(err, SC_ECONFLICT,
			       "a survey was added concurrently");
	if (st->n_tracks && st->first_track_id != (int64_t)an->n_tracks + 1)
		return err_set(err, SC_ECONFLICT,
			       "a track was added concurrently");
	if ((st->n_venues && st->first_venue_id != (int64_t)an->n_venues + 1) ||
	    (st->n_shows && st->first_show_id != (int64_t)an->n_shows + 1))
		return err_set(err, SC_ECONFLICT,
			       "a venue or show was added concurrently");
	/* Checked before anything is replayed: a stale version refuses the
	 * whole commit, as the SQL stores' UPDATE ... AND version = ? do. */
	for (size_t i = 0; i < st->n_changes; i++) {
		int rc = an_change_ok(an, &st->changes[i], err);

		if (rc)
			return rc;
	}
	return SC_OK;
}

/*
 * At commit, under the lock: refuse what a concurrent commit made
 * impossible (a formula version or survey id taken meanwhile), then
 * replay the staged rows into the store.
 */
static int publish_analytics(struct memory_store *s, struct memory_uow *m,
			     struct sc_err *err)
{
	struct mem_analytics *st = m->analytics, *an;
	int rc;

	if (!st)
		return SC_OK;
	an = store_analytics(s);
	if (!an)
		return oom(err);
	rc = analytics_conflict(st, an, err);
	return rc ? rc : replay_analytics(an, st) ? oom(err) : SC_OK;
}

/* Staged rows @st into the store's @an; true when out of memory. */
static bool replay_analytics(struct mem_analytics *an,
			     const struct mem_analytics *st)
{
	bool bad = false;

	for (size_t i = 0; !bad && i < st->n_ing; i++)
		bad = an_put_ingredient(an, &st->ing[i]);
	for (size_t i = 0; !bad && i < st->n_formulas; i++)
		bad = an_add_formula(an, &st->formulas[i]);
	for (size_t i = 0; !bad && i < st->n_log; i++)
		bad = an_log(an, &st->log[i]);
	for (size_t i = 0; !bad && i < st->n_surveys; i++)
		bad = an_add_survey(an, &st->surveys[i]);
	for (size_t i = 0; !bad && i < st->n_resp; i++)
		bad = an_add_response(an, st->resp[i].survey, &st->resp[i].r);
	for (size_t i = 0; !bad && i < st->n_demand; i++)
		bad = an_add_demand(an, &st->demand[i]);
	for (size_t i = 0; !bad && i < st->n_tracks; i++)
		bad = an_add_track(an, &st->tracks[i]);
	for (size_t i = 0; !bad && i < st->n_venues; i++)
		bad = an_add_venue(an, &st->venues[i]);
	for (size_t i = 0; !bad && i < st->n_shows; i++)
		bad = an_add_show(an, &st->shows[i]);
	for (size_t i = 0; !bad && i < st->n_changes; i++)
		bad = an_apply_change(an, &st->changes[i]);
	return bad;
}

static int cmp_ingredients(const void *a, const void *b)
{
	return strcmp(((const struct ingredient *)a)->name,
		      ((const struct ingredient *)b)->name);
}

/* Copy @n records of @size at @src into @a; NULL on OOM (n 0: non-NULL). */
static void *copy_records(struct arena *a, const void *src, size_t n,
			  size_t size)
{
	void *v = arena_calloc(a, n ? n : 1, size);

	if (v && n)
		memcpy(v, src, n * size);
	return v;
}

/*
 * Read results point into the store's arena, which only grows and lives
 * as long as the store: strings need no copy, records do (a later
 * commit may grow the vectors).
 */
static int memory_ingredients(struct uow *u, struct arena *a,
			      struct ingredient **out, size_t *n_out,
			      struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct mem_analytics *an;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	*n_out = an ? an->n_ing : 0;
	*out = copy_records(a, an ? an->ing : NULL, *n_out, sizeof(**out));
	if (!*out)
		rc = oom(err);
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc)
		qsort(*out, *n_out, sizeof(**out), cmp_ingredients);
	return rc;
}

/* Active version of @sku in @an: its latest change, 0 when none. */
static int32_t an_active(const struct mem_analytics *an, const char *sku)
{
	for (size_t i = an->n_log; i-- > 0;)
		if (!strcmp(an->log[i].sku, sku))
			return an->log[i].to_version;
	return 0;
}

static int memory_formula_get(struct uow *u, const char *sku, int32_t version,
			      struct arena *a, struct formula **out,
			      struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	const struct formula *f = NULL;
	struct mem_analytics *an;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	if (an && version == 0)
		version = an_active(an, sku);
	for (size_t i = 0; an && version < 0 && i < an->n_formulas; i++)
		if (!strcmp(an->formulas[i].sku, sku) &&
		    (!f || an->formulas[i].version > f->version))
			f = &an->formulas[i];
	if (an && version > 0)
		f = an_formula(an, sku, version);
	if (!f)
		rc = err_set(err, SC_ENOTFOUND, "'%s' has no %s formula", sku,
			     version > 0 ? "such" : "");
	else if (!(*out = copy_records(a, f, 1, sizeof(*f))))
		rc = oom(err);
	(void)pthread_mutex_unlock(&s->lock);
	return rc;
}

static int memory_formula_log(struct uow *u, const char *sku, struct arena *a,
			      struct formula_change **out, size_t *n_out,
			      struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct mem_analytics *an;
	size_t n = 0;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	*out = arena_calloc(a, an && an->n_log ? an->n_log : 1, sizeof(**out));
	if (!*out)
		rc = oom(err);
	else if (an)
		for (size_t i = an->n_log; i-- > 0;)
			if (!strcmp(an->log[i].sku, sku))
				(*out)[n++] = an->log[i];
	(void)pthread_mutex_unlock(&s->lock);
	*n_out = n;
	return rc;
}

/* Count response @k into its variant's tally in @t. */
static void tally(struct variant_tally *t, const struct kept_response *k)
{
	struct variant_tally *v = &t[k->r.variant_idx];

	v->responses++;
	if (k->r.accepted >= 0) {
		v->answered++;
		v->accepted += k->r.accepted;
	}
	if (k->r.rating) {
		v->rated++;
		v->rating_sum += k->r.rating;
		v->rating_sumsq += (int64_t)k->r.rating * k->r.rating;
	}
}

static int memory_survey_get(struct uow *u, int64_t id, const char *segment,
			     struct arena *a, struct survey **out,
			     struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct mem_analytics *an;
	struct survey *sv = NULL;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	if (!an || id < 1 || id > (int64_t)an->n_surveys) {
		(void)pthread_mutex_unlock(&s->lock);
		return err_set(err, SC_ENOTFOUND, "unknown survey %lld",
			       (long long)id);
	}
	sv = copy_records(a, &an->surveys[id - 1], 1, sizeof(*sv));
	if (sv)
		sv->variants = copy_records(a, an->surveys[id - 1].variants,
					    sv->n, sizeof(*sv->variants));
	if (!sv || !sv->variants)
		rc = oom(err);
	for (size_t i = 0; !rc && i < an->n_resp; i++)
		if (an->resp[i].survey == id &&
		    (!segment || (an->resp[i].r.segment &&
				  !strcmp(an->resp[i].r.segment, segment))))
			tally(sv->variants, &an->resp[i]);
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc) {
		sv->id = id;
		*out = sv;
	}
	return rc;
}

static int32_t bucket_of(int32_t day, int32_t bucket)
{
	return bucket == 7 ? day - (day + 3) % 7 : day;
}

static int cmp_demand(const void *pa, const void *pb)
{
	const struct demand_row *a = pa, *b = pb;
	int c = strcmp(a->sku, b->sku);

	if (c)
		return c;
	if (a->bucket != b->bucket)
		return a->bucket < b->bucket ? -1 : 1;
	return a->segment && b->segment ? strcmp(a->segment, b->segment) : 0;
}

static int memory_demand(struct uow *u, const struct demand_query *q,
			 struct arena *a, struct demand_row **out,
			 size_t *n_out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct mem_analytics *an;
	struct demand_row *v;
	size_t n = 0, w = 0;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	v = arena_calloc(a, an && an->n_demand ? an->n_demand : 1, sizeof(*v));
	if (!v) {
		(void)pthread_mutex_unlock(&s->lock);
		return oom(err);
	}
	for (size_t i = 0; an && i < an->n_demand; i++) {
		const struct demand_entry *e = &an->demand[i];

		if (e->day < q->from_day || e->day > q->to_day ||
		    (q->sku && strcmp(q->sku, e->sku) != 0))
			continue;
		v[n].sku = e->sku;
		v[n].bucket = bucket_of(e->day, q->bucket);
		v[n].segment = q->by_segment ? e->segment : NULL;
		v[n].units[e->outcome] = e->units;
		v[n].lines[e->outcome] = e->lines;
		n++;
	}
	(void)pthread_mutex_unlock(&s->lock);
	qsort(v, n, sizeof(*v), cmp_demand);
	for (size_t i = 0; i < n; i++) { /* merge equal groups */
		if (w && !cmp_demand(&v[w - 1], &v[i])) {
			for (int k = 0; k < DEMAND__OUTCOMES; k++) {
				v[w - 1].units[k] += v[i].units[k];
				v[w - 1].lines[k] += v[i].lines[k];
			}
			continue;
		}
		v[w++] = v[i];
	}
	*out = v;
	*n_out = w;
	return SC_OK;
}

/* ---- cinema cue tracks (issue 16), kept beside the analytics rows --- */

static int memory_track_add(struct uow *u, const struct track_record *t,
			    int64_t *id_out, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct mem_analytics *st = staged_analytics(m);

	if (!st)
		return oom(err);
	if (!st->n_tracks)
		st->first_track_id = next_id(
			m->store, offsetof(struct mem_analytics, n_tracks));
	if (an_add_track(st, t))
		return oom(err);
	*id_out = st->first_track_id + (int64_t)st->n_tracks - 1;
	return SC_OK;
}

static int memory_track_get(struct uow *u, int64_t id, struct arena *a,
			    struct track_record **out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct mem_analytics *an;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	if (!an || id < 1 || id > (int64_t)an->n_tracks)
		rc = err_set(err, SC_ENOTFOUND, "unknown track %lld",
			     (long long)id);
	else if (!(*out = copy_records(a, &an->tracks[id - 1], 1,
				       sizeof(**out))))
		rc = oom(err);
	else
		(*out)->id = id;
	(void)pthread_mutex_unlock(&s->lock);
	return rc;
}

static int memory_track_list(struct uow *u, struct arena *a,
			     struct track_record **out, size_t *n_out,
			     struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	const struct track_record *src;
	struct track_record *v;
	struct mem_analytics *an;
	size_t n;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	src = an ? an->tracks : NULL;
	n = src ? an->n_tracks : 0;
	v = arena_calloc(a, n ? n : 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++) { /* newest first */
		v[i] = src[n - 1 - i];
		v[i].id = (int64_t)(n - i);
		v[i].body = NULL;
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!v)
		return oom(err);
	*out = v;
	*n_out = n;
	return SC_OK;
}

/* ---- venues, cartridges and shows (issue 16) ------------------------ */

static int memory_venue_add(struct uow *u, const struct venue_record *v,
			    int64_t *id_out, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct mem_analytics *st = staged_analytics(m);

	if (!st)
		return oom(err);
	if (!st->n_venues)
		st->first_venue_id = next_id(
			m->store, offsetof(struct mem_analytics, n_venues));
	if (an_add_venue(st, v))
		return oom(err);
	*id_out = st->first_venue_id + (int64_t)st->n_venues - 1;
	return SC_OK;
}

/* Venue @v copied for a reader: the store changes levels in place. */
static struct venue_record *
venue_copy(struct arena *a, const struct venue_record *v, bool with_rows)
{
	struct venue_record *c = copy_records(a, v, 1, sizeof(*c));

	if (c && with_rows) {
		c->cartridges = copy_records(a, v->cartridges, v->n_cartridges,
					     sizeof(*c->cartridges));
		if (!c->cartridges)
			return NULL;
	} else if (c) {
		c->body = NULL;
		c->cartridges = NULL;
		c->n_cartridges = 0;
	}
	return c;
}

static int memory_venue_get(struct uow *u, int64_t id, struct arena *a,
			    struct venue_record **out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct mem_analytics *an;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	if (!an || id < 1 || id > (int64_t)an->n_venues)
		rc = err_set(err, SC_ENOTFOUND, "unknown venue %lld",
			     (long long)id);
	else if (!(*out = venue_copy(a, &an->venues[id - 1], true)))
		rc = oom(err);
	else
		(*out)->id = id;
	(void)pthread_mutex_unlock(&s->lock);
	return rc;
}

static int memory_venue_list(struct uow *u, struct arena *a,
			     struct venue_record **out, size_t *n_out,
			     struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct mem_analytics *an;
	struct venue_record *v;
	size_t n;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	n = an ? an->n_venues : 0;
	v = arena_calloc(a, n ? n : 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++) { /* newest first */
		v[i] = an->venues[n - 1 - i];
		v[i].id = (int64_t)(n - i);
		v[i].body = NULL;
		v[i].cartridges = NULL;
		v[i].n_cartridges = 0;
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!v)
		return oom(err);
	*out = v;
	*n_out = n;
	return SC_OK;
}

static int memory_venue_change(struct uow *u, const struct venue_change *c,
			       struct sc_err *err)
{
	struct mem_analytics *st = staged_analytics(to_memory_uow(u));

	return !st || an_add_change(st, c) ? oom(err) : SC_OK;
}

static int memory_show_add(struct uow *u, const struct show_record *s,
			   int64_t *id_out, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct mem_analytics *st = staged_analytics(m);

	if (!st)
		return oom(err);
	if (!st->n_shows)
		st->first_show_id = next_id(
			m->store, offsetof(struct mem_analytics, n_shows));
	if (an_add_show(st, s))
		return oom(err);
	*id_out = st->first_show_id + (int64_t)st->n_shows - 1;
	return SC_OK;
}

static int memory_show_list(struct uow *u, int64_t venue_id, struct arena *a,
			    struct show_record **out, size_t *n_out,
			    struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct mem_analytics *an;
	struct show_record *v;
	size_t n = 0, total;

	(void)pthread_mutex_lock(&s->lock);
	an = s->analytics;
	total = an ? an->n_shows : 0;
	v = arena_calloc(a, total ? total : 1, sizeof(*v));
	for (size_t i = total; v && i-- > 0;) { /* newest first */
		if (an->shows[i].venue_id != venue_id)
			continue;
		v[n] = an->shows[i];
		v[n++].id = (int64_t)i + 1;
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!v)
		return oom(err);
	*out = v;
	*n_out = n;
	return SC_OK;
}

static const struct dispensing_ops memory_dispensing_ops = {
	.track_add = memory_track_add,
	.track_get = memory_track_get,
	.track_list = memory_track_list,
	.venue_add = memory_venue_add,
	.venue_get = memory_venue_get,
	.venue_list = memory_venue_list,
	.venue_change = memory_venue_change,
	.show_add = memory_show_add,
	.show_list = memory_show_list,
};

static const struct analytics_ops memory_analytics_ops = {
	.ingredient_put = memory_ingredient_put,
	.ingredients = memory_ingredients,
	.formula_add = memory_formula_add,
	.formula_get = memory_formula_get,
	.formula_activate = memory_formula_activate,
	.formula_log = memory_formula_log,
	.survey_add = memory_survey_add,
	.survey_get = memory_survey_get,
	.responses_add = memory_responses_add,
	.demand_add = memory_demand_add,
	.demand = memory_demand,
};

static int reserve_notices(struct memory_store *s, struct memory_uow *m);
static void publish_notices(struct memory_store *s, struct memory_uow *m);
static void notices_free(struct notices *n);

static int memory_commit(struct uow *u, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct memory_store *s = m->store;
	int rc;

	(void)pthread_mutex_lock(&s->lock);
	rc = check_staged(s, m, err);
	if (!rc)
		rc = reserve_products(s, m->n_staged, err);
	if (!rc && events_reserve(&s->outbox, m->queued.n))
		rc = oom(err);
	if (!rc)
		rc = reserve_round(s, m->round, err);
	if (!rc)
		rc = reserve_token(s, &m->token, err);
	if (!rc && reserve_notices(s, m))
		rc = oom(err);
	if (!rc) /* checked first: it may refuse; it cannot be undone */
		rc = publish_analytics(s, m, err);
	if (!rc) {
		swap_in(s, m);
		publish_queued(s, &m->queued);
		publish_round(s, m);
		publish_token(s, &m->token);
		publish_notices(s, m);
	}
	(void)pthread_mutex_unlock(&s->lock);
	memory_rollback(u); /* frees what was not published */
	return rc;
}

static void memory_rollback(struct uow *u)
{
	struct memory_uow *m = to_memory_uow(u);

	for (size_t i = 0; i < m->n_staged; i++)
		stored_free(m->staged[i].copy);
	mem_free(m->staged);
	m->staged = NULL;
	m->n_staged = 0;
	events_clear(&m->queued);
	free_owned(m->token.rec.name);
	memset(&m->token, 0, sizeof(m->token));
	round_free(m->round);
	mem_free(m->round);
	m->round = NULL;
	notices_free(&m->staged_notices);
	analytics_free(m->analytics);
	m->analytics = NULL;
}

/* Heap copy of @r's rows and decisions into @dst; -1 on OOM. */
static int round_copy_in(struct stored_round *dst,
			 const struct research_round *r)
{
	dst->rows = mem_calloc(r->n, sizeof(*dst->rows));
	dst->decisions = mem_calloc(r->n, sizeof(*dst->decisions));
	if (!dst->rows || !dst->decisions)
		return -1;
	dst->n = r->n;
	memcpy(dst->decisions, r->decisions, r->n * sizeof(*r->decisions));
	for (size_t i = 0; i < r->n; i++) {
		dst->rows[i] = r->rows[i];
		dst->rows[i].scent = mem_strdup(r->rows[i].scent);
		dst->rows[i].sku = mem_strdup(r->rows[i].sku);
		if (!dst->rows[i].scent || !dst->rows[i].sku)
			return -1;
	}
	return 0;
}

static int memory_research_add(struct uow *u, const struct research_round *r,
			       int64_t *id_out, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct stored_round *sr;

	if (m->round)
		return err_set(err, SC_EINVAL, "one round per transaction");
	sr = mem_calloc(1, sizeof(*sr));
	if (!sr)
		return oom(err);
	m->round = sr;
	if (round_copy_in(sr, r))
		return oom(err); /* freed by the rollback */
	sr->day = r->day;
	sr->threshold_bp = r->threshold_bp;
	(void)pthread_mutex_lock(&m->store->lock);
	sr->id = (int64_t)m->store->n_rounds + 1;
	(void)pthread_mutex_unlock(&m->store->lock);
	*id_out = sr->id;
	return SC_OK;
}

/* Copy research row @src into @dst with strings in @a; -1 on OOM. */
static int row_out(const struct research_row *src, struct arena *a,
		   struct research_row *dst)
{
	*dst = *src;
	dst->scent = arena_strdup(a, src->scent);
	dst->sku = arena_strdup(a, src->sku);
	return dst->scent && dst->sku ? 0 : -1;
}

/* Round @id (0: newest) of @s, or NULL.  Caller holds the lock. */
static const struct stored_round *find_round(const struct memory_store *s,
					     int64_t id)
{
	for (size_t k = s->n_rounds; k-- > 0;)
		if (!id || s->rounds[k].id == id)
			return &s->rounds[k];
	return NULL;
}

static int memory_research_round(struct uow *u, int64_t id, struct arena *a,
				 struct research_round **out,
				 struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct research_round *r = NULL;
	struct research_row *rows = NULL;
	const struct stored_round *sr;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	sr = find_round(s, id);
	if (!sr) {
		rc = id ? err_set(err, SC_ENOTFOUND,
				  "unknown research round %lld", (long long)id)
			: err_set(err, SC_ENOTFOUND, "no research yet");
		goto out_unlock;
	}
	r = arena_calloc(a, 1, sizeof(*r));
	rows = arena_calloc(a, sr->n, sizeof(*rows));
	if (r)
		r->decisions = arena_calloc(a, sr->n, sizeof(*r->decisions));
	if (!r || !rows || !r->decisions) {
		rc = oom(err);
		goto out_unlock;
	}
	for (size_t i = 0; !rc && i < sr->n; i++)
		if (row_out(&sr->rows[i], a, &rows[i]))
			rc = oom(err);
	memcpy(r->decisions, sr->decisions, sr->n * sizeof(*r->decisions));
	r->id = sr->id;
	r->day = sr->day;
	r->threshold_bp = sr->threshold_bp;
	r->rows = rows;
	r->n = sr->n;
out_unlock:
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc)
		*out = r;
	return rc;
}

static int memory_research_history(struct uow *u, const char *sku, size_t limit,
				   struct arena *a, struct sku_history *out,
				   struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct sku_decision *items = NULL;
	size_t n = 0, cap = 0;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	for (size_t k = s->n_rounds; !rc && k-- > 0 && n < limit;) {
		const struct stored_round *sr = &s->rounds[k];

		for (size_t i = 0; i < sr->n; i++) {
			if (strcmp(sr->rows[i].sku, sku) != 0)
				continue;
			if (arena_reserve(a, (void **)&items, &cap, n + 1,
					  sizeof(*items)) ||
			    row_out(&sr->rows[i], a, &items[n].row)) {
				rc = oom(err);
				break;
			}
			items[n].round_id = sr->id;
			items[n].day = sr->day;
			items[n].threshold_bp = sr->threshold_bp;
			items[n++].decision = sr->decisions[i];
			break;
		}
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc) {
		out->items = items;
		out->n = n;
	}
	return rc;
}

/* A heap copy of @v, NULL staying NULL; false when memory runs out. */
static bool dup_opt(const char *v, char **out)
{
	*out = v ? mem_strdup(v) : NULL;
	return !v || *out;
}

static int memory_outbox_add(struct uow *u, const struct outbox_row *r,
			     struct sc_err *err)
{
	struct event_vec *q = &to_memory_uow(u)->queued;
	struct stored_event *e;

	if (events_reserve(q, 1))
		return oom(err);
	e = &q->items[q->n];
	memset(e, 0, sizeof(*e));
	e->has_qty = r->ev.has_qty;
	e->qty = r->ev.qty;
	if (!dup_opt(r->kind, &e->kind) ||
	    !dup_opt(r->ev.orderid, &e->orderid) ||
	    !dup_opt(r->ev.sku, &e->sku) ||
	    !dup_opt(r->ev.batchref, &e->batchref)) {
		event_free(e);
		return oom(err);
	}
	q->n++;
	return SC_OK;
}

/* A copy of @v in @a, NULL staying NULL; false when memory runs out. */
static bool arena_opt(struct arena *a, const char *v, const char **out)
{
	*out = v ? arena_strdup(a, v) : NULL;
	return !v || *out;
}

/* @e as an outbox row in @a; -1 when memory runs out. */
static int event_out(const struct stored_event *e, struct arena *a,
		     struct outbox_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = e->id;
	r->attempts = e->attempts;
	r->ev.has_qty = e->has_qty;
	r->ev.qty = e->qty;
	return arena_opt(a, e->kind, &r->kind) &&
			       arena_opt(a, e->orderid, &r->ev.orderid) &&
			       arena_opt(a, e->sku, &r->ev.sku) &&
			       arena_opt(a, e->batchref, &r->ev.batchref)
		       ? 0
		       : -1;
}

/*
 * Up to @limit undelivered events into @a, oldest first; with @lease_s > 0
 * only unleased ones, which are then leased (claim), else all (pending).
 */
static int take(struct uow *u, size_t limit, int lease_s, struct arena *a,
		struct outbox_rows *out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct outbox_row *items = NULL;
	int64_t now = (int64_t)time(NULL) + s->clock_skew;
	size_t n = 0, cap = 0;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !rc && i < s->outbox.n && n < limit; i++) {
		struct stored_event *e = &s->outbox.items[i];

		if (e->sent || (lease_s > 0 && e->lease_until > now))
			continue;
		if (arena_reserve(a, (void **)&items, &cap, n + 1,
				  sizeof(*items)) ||
		    event_out(e, a, &items[n++]))
			rc = oom(err);
		else if (lease_s > 0)
			e->lease_until = now + lease_s;
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc) {
		out->items = items;
		out->n = n;
	}
	return rc;
}

static int memory_outbox_pending(struct uow *u, size_t limit, struct arena *a,
				 struct outbox_rows *out, struct sc_err *err)
{
	return take(u, limit, 0, a, out, err);
}

static int memory_outbox_claim(struct uow *u, size_t limit, int lease_s,
			       struct arena *a, struct outbox_rows *out,
			       struct sc_err *err)
{
	assert(lease_s > 0);
	return take(u, limit, lease_s, a, out, err);
}

/* The event with @id, by binary search (ids increase with position). */
static struct stored_event *find_event(struct memory_store *s, int64_t id)
{
	size_t lo = 0, hi = s->outbox.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->outbox.items[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->outbox.n && s->outbox.items[lo].id == id
		       ? &s->outbox.items[lo]
		       : NULL;
}

static int memory_outbox_mark(struct uow *u, const int64_t *ids, size_t n,
			      bool sent, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;

	(void)err;
	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct stored_event *e = find_event(s, ids[i]);

		if (!e)
			continue;
		if (sent)
			e->sent = true;
		else
			e->attempts++;
		e->lease_until = 0;
	}
	(void)pthread_mutex_unlock(&s->lock);
	return SC_OK;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct allocation_row *x = a, *y = b;

	return strcmp(x->sku, y->sku);
}

/*
 * Append a copy of read-model row @from (allocated, or backordered when
 * its batchref is NULL) into @a.  Caller holds the lock.
 */
static int push_row(struct arena *a, struct allocation_row **rows, size_t *n,
		    size_t *cap, const struct allocation_row *from)
{
	struct allocation_row *r;

	if (arena_reserve(a, (void **)rows, cap, *n + 1, sizeof(**rows)))
		return -1;
	r = &(*rows)[*n];
	r->sku = arena_strdup(a, from->sku);
	r->batchref = from->batchref ? arena_strdup(a, from->batchref) : NULL;
	r->qty = from->qty;
	if (!r->sku || (from->batchref && !r->batchref))
		return -1;
	(*n)++;
	return 0;
}

static int memory_allocations(struct uow *u, const char *orderid,
			      struct arena *a, struct allocation_row **out,
			      size_t *n_out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct allocation_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !rc && i < s->n_products; i++) {
		const struct stored_product *sp = s->products[i];

		for (size_t k = 0; !rc && k < sp->n_batches; k++)
			for (size_t j = 0; j < sp->batches[k].n_lines; j++)
				if (!strcmp(sp->batches[k].lines[j].orderid,
					    orderid) &&
				    push_row(a, &rows, &n, &cap,
					     &(struct allocation_row){
						     sp->sku,
						     sp->batches[k].ref, 0})) {
					rc = oom(err);
					break;
				}
		for (size_t k = 0; !rc && k < sp->n_backorders; k++)
			if (!strcmp(sp->backorders[k].orderid, orderid) &&
			    push_row(a, &rows, &n, &cap,
				     &(struct allocation_row){
					     sp->sku, NULL,
					     sp->backorders[k].qty}))
				rc = oom(err);
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (rc)
		return rc;
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_rows);
	*out = rows;
	*n_out = n;
	return SC_OK;
}

static int memory_product_lines(struct uow *u, const struct lines_ask *ask,
				struct arena *a, struct product_line **out,
				size_t *n_out, struct sc_err *err)
{
	const char *sku = ask->sku;
	size_t limit = ask->limit;

	struct memory_store *s = to_memory_uow(u)->store;
	struct product_line *rows = NULL;
	size_t n = 0, cap = 0;
	ptrdiff_t i;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	i = find(s, sku);
	for (size_t k = 0; i >= 0 && !rc && k < s->products[i]->n_batches;
	     k++) {
		const struct stored_batch *b = &s->products[i]->batches[k];

		for (size_t j = 0; !rc && j < b->n_lines && n < limit; j++) {
			struct product_line *l;

			if (arena_reserve(a, (void **)&rows, &cap, n + 1,
					  sizeof(*rows))) {
				rc = oom(err);
				break;
			}
			/* copied: a later commit replaces the product */
			l = &rows[n++];
			l->batchref = arena_strdup(a, b->ref);
			l->orderid = arena_strdup(a, b->lines[j].orderid);
			l->qty = b->lines[j].qty;
			if (!l->batchref || !l->orderid)
				rc = oom(err);
		}
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (rc)
		return rc;
	*out = rows;
	*n_out = n;
	return SC_OK;
}

static int memory_read_product(struct uow *u, const char *sku, struct arena *a,
			       struct product **out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	ptrdiff_t i;
	int rc;

	(void)pthread_mutex_lock(&s->lock);
	i = find(s, sku);
	rc = i < 0 ? err_set(err, SC_ENOTFOUND, "unknown sku '%s'", sku)
		   : copy_out(s->products[i], a, out, err);
	(void)pthread_mutex_unlock(&s->lock);
	return rc;
}

static struct product_summary summarise(const struct stored_product *sp)
{
	struct product_summary sum = {sp->sku, 0, 0, sp->n_batches, 0};

	for (size_t k = 0; k < sp->n_batches; k++) {
		sum.purchased += sp->batches[k].purchased;
		sum.allocated += sp->batches[k].allocated;
		if (sp->batches[k].has_eta)
			sum.incoming += sp->batches[k].purchased;
	}
	return sum;
}

static int cmp_summaries(const void *a, const void *b)
{
	const struct product_summary *x = a, *y = b;

	return strcmp(x->sku, y->sku);
}

static int memory_list_products(struct uow *u, const char *after, size_t limit,
				struct arena *a, struct product_list *out,
				struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct product_summary *all = NULL;
	size_t n = 0;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	if (s->n_products)
		all = arena_calloc(a, s->n_products, sizeof(*all));
	if (s->n_products && !all)
		rc = oom(err);
	for (size_t i = 0; !rc && all && i < s->n_products; i++) {
		if (strcmp(s->products[i]->sku, after) <= 0)
			continue;
		all[n] = summarise(s->products[i]);
		all[n].sku = arena_strdup(a, all[n].sku);
		if (!all[n++].sku)
			rc = oom(err);
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (rc)
		return rc;
	if (n > 1)
		qsort(all, n, sizeof(*all), cmp_summaries);
	out->items = all;
	out->n = n < limit ? n : limit;
	return SC_OK;
}

/* Stage token change @op (its name copied); one per transaction. */
static int stage_token(struct memory_uow *m, const struct token_record *rec,
		       bool revoke, struct sc_err *err)
{
	ptrdiff_t at;

	if (m->token.active)
		return err_set(err, SC_EINVAL,
			       "one token change per "
			       "transaction");
	(void)pthread_mutex_lock(&m->store->lock);
	at = find_token(m->store, rec->name);
	(void)pthread_mutex_unlock(&m->store->lock);
	if (!revoke && at >= 0)
		return err_set(err, SC_EEXIST, "token '%s' exists", rec->name);
	if (revoke && at < 0)
		return err_set(err, SC_ENOTFOUND, "no token named '%s'",
			       rec->name);
	m->token.rec = *rec;
	m->token.rec.name = mem_strdup(rec->name);
	if (!m->token.rec.name)
		return oom(err);
	m->token.revoke = revoke;
	m->token.active = true;
	return SC_OK;
}

static int memory_token_add(struct uow *u, const struct token_record *t,
			    struct sc_err *err)
{
	return stage_token(to_memory_uow(u), t, false, err);
}

static int memory_token_revoke(struct uow *u, const char *name, int64_t at,
			       struct sc_err *err)
{
	struct token_record rec = {.name = name, .revoked_at = at};

	return stage_token(to_memory_uow(u), &rec, true, err);
}

static int cmp_tokens(const void *a, const void *b)
{
	return strcmp(((const struct token_record *)a)->name,
		      ((const struct token_record *)b)->name);
}

static int memory_token_list(struct uow *u, struct arena *a,
			     struct token_record **out, size_t *n_out,
			     struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct token_record *all = NULL;
	size_t n;

	(void)pthread_mutex_lock(&s->lock);
	n = s->n_tokens;
	if (n)
		all = arena_alloc(a, n * sizeof(*all));
	for (size_t i = 0; all && i < n; i++) {
		all[i] = s->tokens[i];
		all[i].name = arena_strdup(a, s->tokens[i].name);
		if (!all[i].name)
			all = NULL;
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (n && !all)
		return oom(err);
	if (n)
		qsort(all, n, sizeof(*all), cmp_tokens);
	*out = all;
	*n_out = n;
	return SC_OK;
}

static int memory_ping(struct uow *u, struct sc_err *err)
{
	(void)u;
	(void)err;
	return SC_OK;
}

/* Add problem @line to @out (copied into @a); -1 on OOM. */
static int problem(struct arena *a, struct check_report *out, size_t *cap,
		   const char *line)
{
	if (arena_reserve(a, (void **)&out->problems, cap, out->n_problems + 1,
			  sizeof(char *)))
		return -1;
	out->problems[out->n_problems] = arena_strdup(a, line);
	return out->problems[out->n_problems++] ? 0 : -1;
}

/*
 * The memory store keeps no read model (it derives it per read) and no
 * separate totals table, so its invariants are the batches': totals equal
 * to their lines, never over the purchase.  Nothing to repair.
 */
static int memory_check(struct uow *u, bool repair, struct arena *a,
			struct check_report *out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	size_t cap = 0;
	int oom_seen = 0;

	(void)repair;
	memset(out, 0, sizeof(*out));
	out->n_checked = 2;
	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !oom_seen && i < s->n_products; i++) {
		const struct stored_product *sp = s->products[i];

		for (size_t k = 0; !oom_seen && k < sp->n_batches; k++) {
			const struct stored_batch *b = &sp->batches[k];
			char line[SC_ID_MAX + 128];
			int64_t sum = 0;

			for (size_t l = 0; l < b->n_lines; l++)
				sum += b->lines[l].qty;
			if (b->allocated > b->purchased) {
				(void)snprintf(line, sizeof(line),
					       "batch '%s' is over-allocated: "
					       "%lld of %lld",
					       b->ref, (long long)b->allocated,
					       (long long)b->purchased);
				oom_seen |= problem(a, out, &cap, line);
			}
			if (sum != b->allocated) {
				(void)snprintf(line, sizeof(line),
					       "batch '%s' records %lld "
					       "allocated but its lines sum to "
					       "%lld",
					       b->ref, (long long)b->allocated,
					       (long long)sum);
				oom_seen |= problem(a, out, &cap, line);
			}
		}
	}
	(void)pthread_mutex_unlock(&s->lock);
	return oom_seen ? oom(err) : SC_OK;
}

static int memory_backup(struct uow *u, const char *path, struct sc_err *err)
{
	(void)u;
	(void)path;
	return err_set(err, SC_EINVAL,
		       "a memory: store lives only as long as its process; "
		       "there is nothing to back up");
}

static int memory_stats(struct uow *u, struct store_stats *out,
			struct sc_err *err)
{
	(void)u;
	(void)err;
	memset(out, 0, sizeof(*out));
	out->size_bytes = -1; /* nothing on disk */
	return SC_OK;
}

static int memory_probe_write(struct uow *u, struct sc_err *err)
{
	(void)u;
	(void)err;
	return SC_OK; /* memory is always writable */
}

static int memory_outbox_stats(struct uow *u, int64_t *n_out,
			       int64_t *oldest_out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	int64_t n = 0, oldest = 0;

	(void)err;
	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->outbox.n; i++) {
		const struct stored_event *e = &s->outbox.items[i];

		if (e->sent)
			continue;
		if (!n++ || e->created_at < oldest)
			oldest = e->created_at;
	}
	(void)pthread_mutex_unlock(&s->lock);
	*n_out = n;
	*oldest_out = oldest;
	return SC_OK;
}

static void memory_free(struct uow *u)
{
	memory_rollback(u);
	mem_free(to_memory_uow(u));
}

static const struct uow_tx_ops memory_tx_ops = {
	.name = "memory",
	.begin = memory_begin,
	.commit = memory_commit,
	.rollback = memory_rollback,
	.free = memory_free,
};

static const struct product_repo_ops memory_product_ops = {
	.get = memory_get,
	.sku_of_batch = memory_sku_of_batch,
	.add_product = memory_add_product,
	.bump_version = memory_bump_version,
	.add_batch = memory_add_batch,
	.set_batch_totals = memory_set_batch_totals,
	.add_line = memory_add_line,
	.remove_line = memory_remove_line,
	.add_backorder = memory_add_backorder,
	.set_low_stock = memory_set_low_stock,
	.remove_backorder = memory_remove_backorder,
};

static const struct outbox_ops memory_outbox_ops = {
	.add = memory_outbox_add,
	.claim = memory_outbox_claim,
	.mark = memory_outbox_mark,
	.pending = memory_outbox_pending,
	.stats = memory_outbox_stats,
};

/* ---- customers and their notices (issue 14) ------------------------- */

static void customer_free(struct customer_record *c)
{
	free_owned(c->id);
	free_owned(c->name);
	free_owned(c->email);
	free_owned(c->webhook_url);
	free_owned(c->segment);
}

static void delivery_free(struct delivery *d)
{
	free_owned(d->customer);
	free_owned(d->channel);
	free_owned(d->target);
	free_owned(d->ev.orderid);
	free_owned(d->ev.sku);
	free_owned(d->ev.batchref);
	free_owned(d->last_error);
}

static void notices_free(struct notices *n)
{
	for (size_t i = 0; i < n->n_customers; i++)
		customer_free(&n->customers[i]);
	for (size_t i = 0; i < n->n_links; i++) {
		mem_free(n->links[i].orderid);
		mem_free(n->links[i].customer);
	}
	for (size_t i = 0; i < n->n_deliveries; i++)
		delivery_free(&n->deliveries[i].d);
	for (size_t i = 0; i < n->n_alerts; i++) {
		mem_free(n->alerts[i].orderid);
		mem_free(n->alerts[i].customer);
	}
	mem_free(n->alerts);
	mem_free(n->customers);
	mem_free(n->links);
	mem_free(n->deliveries);
	mem_free(n->replays);
	memset(n, 0, sizeof(*n));
}

/* A heap copy of @s (NULL stays NULL); *@bad set when memory ran out. */
static char *dup_or_flag(const char *s, bool *bad)
{
	char *c = NULL;

	if (!dup_opt(s, &c))
		*bad = true;
	return c;
}

static const struct customer_record *find_customer(const struct notices *n,
						   const char *id)
{
	for (size_t i = 0; i < n->n_customers; i++)
		if (!strcmp(n->customers[i].id, id))
			return &n->customers[i];
	return NULL;
}

static const char *find_link(const struct notices *n, const char *orderid)
{
	for (size_t i = 0; i < n->n_links; i++)
		if (!strcmp(n->links[i].orderid, orderid))
			return n->links[i].customer;
	return NULL;
}

/* Grow @*v (of @n elements of @size) by one; -1 when memory runs out. */
static int grow(void **v, size_t n, size_t size)
{
	void *p = mem_realloc(*v, (n + 1) * size);

	if (!p)
		return -1;
	*v = p;
	return 0;
}

static int memory_customer_add(struct uow *u, const struct customer_record *c,
			       struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct notices *st = &m->staged_notices;
	struct customer_record *to;
	bool taken, bad = false;

	(void)pthread_mutex_lock(&m->store->lock);
	taken = find_customer(&m->store->notices, c->id) != NULL;
	(void)pthread_mutex_unlock(&m->store->lock);
	if (taken || find_customer(st, c->id))
		return err_set(err, SC_EEXIST, "customer '%s' exists", c->id);
	if (grow((void **)&st->customers, st->n_customers,
		 sizeof(*st->customers)))
		return oom(err);
	to = &st->customers[st->n_customers];
	*to = *c;
	to->id = dup_or_flag(c->id, &bad);
	to->name = dup_or_flag(c->name, &bad);
	to->email = dup_or_flag(c->email, &bad);
	to->webhook_url = dup_or_flag(c->webhook_url, &bad);
	to->segment = dup_or_flag(c->segment, &bad);
	st->n_customers++;
	return bad ? oom(err) : SC_OK;
}

/* A copy of @c into @a (NULL when @c is), or -1 on OOM. */
static int customer_out(const struct customer_record *c, struct arena *a,
			struct customer_record **out)
{
	struct customer_record *o;

	*out = NULL;
	if (!c)
		return 0;
	if (!(o = arena_alloc(a, sizeof(*o))))
		return -1;
	*o = *c;
	o->id = arena_strdup(a, c->id);
	o->name = arena_strdup(a, c->name);
	o->email = c->email ? arena_strdup(a, c->email) : NULL;
	o->webhook_url =
		c->webhook_url ? arena_strdup(a, c->webhook_url) : NULL;
	o->segment = c->segment ? arena_strdup(a, c->segment) : NULL;
	*out = o;
	return !o->id || !o->name || (c->email && !o->email) ||
			       (c->webhook_url && !o->webhook_url) ||
			       (c->segment && !o->segment)
		       ? -1
		       : 0;
}

static int memory_customer_get(struct uow *u, const char *id, struct arena *a,
			       struct customer_record **out, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	int rc;

	(void)pthread_mutex_lock(&s->lock);
	rc = customer_out(find_customer(&s->notices, id), a, out);
	(void)pthread_mutex_unlock(&s->lock);
	if (rc)
		return oom(err);
	return *out ? SC_OK
		    : err_set(err, SC_ENOTFOUND, "unknown customer '%s'", id);
}

static int memory_order_customer_set(struct uow *u, const char *orderid,
				     const char *customer, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct notices *st = &m->staged_notices;
	char owner[SC_ID_MAX + 1] = "";
	const char *have;
	bool bad = false;

	(void)pthread_mutex_lock(&m->store->lock);
	if ((have = find_link(&m->store->notices, orderid)))
		(void)snprintf(owner, sizeof(owner), "%s", have);
	(void)pthread_mutex_unlock(&m->store->lock);
	if (!owner[0] && (have = find_link(st, orderid)))
		(void)snprintf(owner, sizeof(owner), "%s", have);
	if (owner[0])
		return !strcmp(owner, customer)
			       ? SC_OK
			       : err_set(err, SC_EEXIST,
					 "order '%s' belongs to customer '%s'",
					 orderid, owner);
	if (grow((void **)&st->links, st->n_links, sizeof(*st->links)))
		return oom(err);
	st->links[st->n_links].orderid = dup_or_flag(orderid, &bad);
	st->links[st->n_links].customer = dup_or_flag(customer, &bad);
	st->n_links++;
	return bad ? oom(err) : SC_OK;
}

static int memory_contact(struct uow *u, const char *orderid, struct arena *a,
			  struct customer_record **out, struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	const struct notices *st = &m->staged_notices, *kept;
	const struct customer_record *c;
	const char *who;
	int rc;

	(void)pthread_mutex_lock(&m->store->lock);
	kept = &m->store->notices;
	who = find_link(st, orderid);
	if (!who)
		who = find_link(kept, orderid);
	c = who ? find_customer(kept, who) : NULL;
	if (who && !c) /* registered in this same transaction */
		c = find_customer(st, who);
	rc = customer_out(c, a, out);
	(void)pthread_mutex_unlock(&m->store->lock);
	return rc ? oom(err) : SC_OK;
}

/* A heap copy of @d into @to; false when memory ran out. */
static bool delivery_copy_in(struct delivery *to, const struct delivery *d)
{
	bool bad = false;

	*to = *d;
	to->customer = dup_or_flag(d->customer, &bad);
	to->channel = dup_or_flag(d->channel, &bad);
	to->target = dup_or_flag(d->target, &bad);
	to->ev.orderid = dup_or_flag(d->ev.orderid, &bad);
	to->ev.sku = dup_or_flag(d->ev.sku, &bad);
	to->ev.batchref = dup_or_flag(d->ev.batchref, &bad);
	to->last_error = dup_or_flag(d->last_error, &bad);
	return !bad;
}

static int memory_delivery_add(struct uow *u, const struct delivery *d,
			       struct sc_err *err)
{
	struct notices *st = &to_memory_uow(u)->staged_notices;
	struct kept_delivery *k;

	if (grow((void **)&st->deliveries, st->n_deliveries,
		 sizeof(*st->deliveries)))
		return oom(err);
	k = &st->deliveries[st->n_deliveries++];
	memset(k, 0, sizeof(*k));
	if (!delivery_copy_in(&k->d, d))
		return oom(err);
	k->d.state = NOTICE_PENDING;
	k->d.attempts = 0;
	k->d.next_at_ms = 0;
	k->d.last_error = NULL;
	return SC_OK;
}

/* A copy of @d into @a; false on OOM. */
static bool delivery_out(const struct delivery *d, struct arena *a,
			 struct delivery *to)
{
	*to = *d;
	to->customer = arena_strdup(a, d->customer);
	to->channel = arena_strdup(a, d->channel);
	to->target = arena_strdup(a, d->target);
	to->ev.orderid = arena_strdup(a, d->ev.orderid);
	to->ev.sku = arena_strdup(a, d->ev.sku);
	to->ev.batchref =
		d->ev.batchref ? arena_strdup(a, d->ev.batchref) : NULL;
	to->last_error = d->last_error ? arena_strdup(a, d->last_error) : NULL;
	return to->customer && to->channel && to->target && to->ev.orderid &&
	       to->ev.sku && (!d->ev.batchref || to->ev.batchref) &&
	       (!d->last_error || to->last_error);
}

static int memory_delivery_claim(struct uow *u, const struct delivery_claim *c,
				 struct arena *a, struct delivery **out,
				 size_t *n_out, struct sc_err *err)
{
	int64_t now_ms = c->now_ms;
	size_t limit = c->limit;
	int lease_s = c->lease_s;
	struct memory_store *s = to_memory_uow(u)->store;
	struct delivery *items =
		arena_calloc(a, limit ? limit : 1, sizeof(*items));
	int64_t now = (int64_t)time(NULL) + s->clock_skew;
	size_t n = 0;
	int rc = SC_OK;

	if (!items)
		return oom(err);

	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !rc && i < s->notices.n_deliveries && n < limit;
	     i++) {
		struct kept_delivery *k = &s->notices.deliveries[i];
		const struct customer_record *who;

		if (k->d.state != NOTICE_PENDING || k->d.next_at_ms > now_ms ||
		    k->lease_until > now)
			continue;
		if (!delivery_out(&k->d, a, &items[n])) {
			rc = oom(err);
			break;
		}
		if ((who = find_customer(&s->notices, k->d.customer)))
			memcpy(items[n].secret, who->secret,
			       sizeof(items[n].secret));
		k->lease_until = now + lease_s;
		n++;
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc) {
		*out = items;
		*n_out = n;
	}
	return rc;
}

static struct kept_delivery *find_delivery(struct notices *n, int64_t id)
{
	for (size_t i = 0; i < n->n_deliveries; i++)
		if (n->deliveries[i].d.id == id)
			return &n->deliveries[i];
	return NULL;
}

static int memory_delivery_finish(struct uow *u, int64_t id, unsigned attempts,
				  const struct delivery_outcome *o,
				  struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct kept_delivery *k;
	char *why = o->error ? mem_strdup(o->error) : NULL;

	if (o->error && !why)
		return oom(err);
	(void)pthread_mutex_lock(&s->lock);
	if ((k = find_delivery(&s->notices, id))) {
		k->d.state = o->delivered ? NOTICE_DELIVERED
			     : o->dead	  ? NOTICE_DEAD
					  : NOTICE_PENDING;
		k->d.attempts = attempts;
		k->d.next_at_ms = o->next_at_ms;
		free_owned(k->d.last_error);
		k->d.last_error = why;
		why = NULL;
		k->lease_until = 0;
	}
	(void)pthread_mutex_unlock(&s->lock);
	mem_free(why);
	return SC_OK;
}

static int memory_delivery_list(struct uow *u, const struct delivery_filter *f,
				struct arena *a, struct delivery **out,
				size_t *n_out, struct sc_err *err)
{
	int state = f->state;
	size_t limit = f->limit;
	struct memory_store *s = to_memory_uow(u)->store;
	struct delivery *items =
		arena_calloc(a, limit ? limit : 1, sizeof(*items));
	size_t n = 0;
	int rc = SC_OK;

	if (!items)
		return oom(err);

	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = s->notices.n_deliveries; !rc && i-- > 0 && n < limit;) {
		const struct delivery *d = &s->notices.deliveries[i].d;

		if (state >= 0 && (int)d->state != state)
			continue;
		if (!delivery_out(d, a, &items[n++]))
			rc = oom(err);
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc) {
		*out = items;
		*n_out = n;
	}
	return rc;
}

static int memory_delivery_replay(struct uow *u, int64_t id, int64_t now_ms,
				  struct sc_err *err)
{
	struct memory_uow *m = to_memory_uow(u);
	struct notices *st = &m->staged_notices;
	struct kept_delivery *k;
	int state;

	(void)pthread_mutex_lock(&m->store->lock);
	k = find_delivery(&m->store->notices, id);
	state = k ? (int)k->d.state : -1;
	(void)pthread_mutex_unlock(&m->store->lock);
	if (state < 0)
		return err_set(err, SC_ENOTFOUND, "no delivery %lld",
			       (long long)id);
	if (state != NOTICE_DEAD)
		return err_set(err, SC_EINVAL,
			       "delivery %lld is not dead: only a dead one is "
			       "replayed",
			       (long long)id);
	if (grow((void **)&st->replays, st->n_replays, sizeof(*st->replays)))
		return oom(err);
	st->replays[st->n_replays++] = id;
	st->replay_at_ms = now_ms;
	return SC_OK;
}

/*
 * Commit: move what @m staged into the store (room for it first, so the
 * move cannot fail half way).  Caller holds the lock.
 */
static int reserve_notices(struct memory_store *s, struct memory_uow *m)
{
	struct notices *k = &s->notices, *st = &m->staged_notices;
	void *p;

	if (st->n_customers) {
		p = mem_realloc(k->customers,
				(k->n_customers + st->n_customers) *
					sizeof(*k->customers));
		if (!p)
			return -1;
		k->customers = p;
	}
	if (st->n_links) {
		p = mem_realloc(k->links,
				(k->n_links + st->n_links) * sizeof(*k->links));
		if (!p)
			return -1;
		k->links = p;
	}
	if (st->n_deliveries) {
		p = mem_realloc(k->deliveries,
				(k->n_deliveries + st->n_deliveries) *
					sizeof(*k->deliveries));
		if (!p)
			return -1;
		k->deliveries = p;
	}
	return 0;
}

static void publish_notices(struct memory_store *s, struct memory_uow *m)
{
	struct notices *k = &s->notices, *st = &m->staged_notices;
	int64_t now = (int64_t)time(NULL) + s->clock_skew;
	struct kept_delivery *d;

	for (size_t i = 0; i < st->n_customers; i++)
		k->customers[k->n_customers++] = st->customers[i];
	for (size_t i = 0; i < st->n_links; i++)
		k->links[k->n_links++] = st->links[i];
	for (size_t i = 0; i < st->n_deliveries; i++) {
		st->deliveries[i].d.id = (int64_t)k->n_deliveries + 1;
		st->deliveries[i].d.created_at = now;
		k->deliveries[k->n_deliveries++] = st->deliveries[i];
	}
	for (size_t i = 0; i < st->n_alerts; i++) {
		ptrdiff_t at = find(s, st->alerts[i].customer); /* the sku */
		struct stored_product *sp = at < 0 ? NULL : s->products[at];

		for (size_t b = 0; sp && b < sp->n_backorders; b++)
			if (!strcmp(sp->backorders[b].orderid,
				    st->alerts[i].orderid))
				sp->backorders[b].alerted_at = st->alerted_at;
	}
	for (size_t i = 0; i < st->n_replays; i++)
		if ((d = find_delivery(k, st->replays[i]))) {
			d->d.state = NOTICE_PENDING;
			d->d.attempts = 0;
			d->d.next_at_ms = st->replay_at_ms;
			free_owned(d->d.last_error);
			d->d.last_error = NULL;
			d->lease_until = 0;
		}
	/* the store owns the strings now: forget them here */
	st->n_customers = st->n_links = st->n_deliveries = 0;
	for (size_t i = 0; i < st->n_alerts; i++) {
		mem_free(st->alerts[i].orderid);
		mem_free(st->alerts[i].customer);
	}
	st->n_alerts = 0;
	st->n_replays = 0;
}

/* Is backorder @l waiting since @before or earlier, and not told yet? */
static bool aged(const struct stored_line *l, int64_t before)
{
	return !l->alerted_at && l->created_at <= before;
}

static int memory_aged_backorders(struct uow *u, int64_t before, size_t limit,
				  struct arena *a, struct aged_list *list,
				  struct sc_err *err)
{
	struct aged_backorder **out = &list->items;
	size_t *n_out = &list->n;
	struct memory_store *s = to_memory_uow(u)->store;
	struct aged_backorder *rows =
		arena_calloc(a, limit ? limit : 1, sizeof(*rows));
	size_t n = 0;
	int rc = SC_OK;

	if (!rows)
		return oom(err);
	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !rc && i < s->n_products; i++) {
		const struct stored_product *sp = s->products[i];

		for (size_t b = 0; !rc && b < sp->n_backorders && n < limit;
		     b++) {
			const struct stored_line *l = &sp->backorders[b];

			if (!aged(l, before))
				continue;
			rows[n].orderid = arena_strdup(a, l->orderid);
			rows[n].sku = arena_strdup(a, sp->sku);
			rows[n].qty = l->qty;
			rows[n].created_at = l->created_at;
			if (!rows[n++].orderid || !rows[n - 1].sku)
				rc = oom(err);
		}
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc) {
		*out = rows;
		*n_out = n;
	}
	return rc;
}

static int memory_backorder_alerted(struct uow *u, const char *orderid,
				    const char *sku, int64_t at,
				    struct sc_err *err)
{
	struct notices *st = &to_memory_uow(u)->staged_notices;
	bool bad = false;

	if (grow((void **)&st->alerts, st->n_alerts, sizeof(*st->alerts)))
		return oom(err);
	/* an order_link's two strings: the order and (here) the sku */
	st->alerts[st->n_alerts].orderid = dup_or_flag(orderid, &bad);
	st->alerts[st->n_alerts].customer = dup_or_flag(sku, &bad);
	st->n_alerts++;
	st->alerted_at = at;
	return bad ? oom(err) : SC_OK;
}

static const struct delivery_ops memory_delivery_ops = {
	.contact = memory_contact,
	.add = memory_delivery_add,
	.claim = memory_delivery_claim,
	.finish = memory_delivery_finish,
	.list = memory_delivery_list,
	.replay = memory_delivery_replay,
};

static const struct query_ops memory_query_ops = {
	.allocations = memory_allocations,
	.product_lines = memory_product_lines,
	.read_product = memory_read_product,
	.list_products = memory_list_products,
	.research_round = memory_research_round,
	.research_history = memory_research_history,
	.token_list = memory_token_list,
	.customer_get = memory_customer_get,
	.aged_backorders = memory_aged_backorders,
};

static const struct record_ops memory_record_ops = {
	.research_add = memory_research_add,
	.token_add = memory_token_add,
	.token_revoke = memory_token_revoke,
	.customer_add = memory_customer_add,
	.order_customer_set = memory_order_customer_set,
	.backorder_alerted = memory_backorder_alerted,
};

static const struct admin_ops memory_admin_ops = {
	.ping = memory_ping,
	.probe_write = memory_probe_write,
	.stats = memory_stats,
	.check = memory_check,
	.backup = memory_backup,
};

int memory_uow_new(struct memory_store *s, struct uow **out, struct sc_err *err)
{
	struct memory_uow *m = mem_calloc(1, sizeof(*m));

	if (!m)
		return oom(err);
	m->base.tx = &memory_tx_ops;
	m->base.products = &memory_product_ops;
	m->base.outbox = &memory_outbox_ops;
	m->base.queries = &memory_query_ops;
	m->base.records = &memory_record_ops;
	m->base.admin = &memory_admin_ops;
	m->base.deliveries = &memory_delivery_ops;
	m->base.analytics = &memory_analytics_ops;
	m->base.dispensing = &memory_dispensing_ops;
	m->store = s;
	*out = &m->base;
	return SC_OK;
}

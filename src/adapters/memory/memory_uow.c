/*
 * adapters/memory/memory_uow.c - unit of work over deep copies in memory.
 *
 * The store is a mutex-protected array of products.  Loads copy a product
 * out with every line (so hints are always satisfied); commits build all
 * new copies first and swap them in under the lock only when every version
 * check passes, so a failed commit changes nothing.
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
	char *orderid; /* owned */
	int64_t qty;   /* units */
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
	char *sku;		      /* owned */
	int64_t version;	      /* as committed */
	struct stored_batch *batches; /* creation order; owned */
	size_t n_batches;	      /* entries in batches */
};

/* An outbox entry; strings owned. */
struct stored_event {
	int64_t id;	    /* 1, 2, ... in commit order */
	unsigned attempts;  /* failed deliveries */
	bool sent;	    /* delivered */
	enum msg_type type; /* Allocated or OutOfStock */
	char *orderid;	    /* Allocated only */
	char *sku;	    /* both */
	char *batchref;	    /* Allocated only */
	int64_t qty;	    /* Allocated only */
	int64_t created_at; /* unix seconds, at commit */
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
};

/* A token change made in a transaction, applied by its commit. */
struct token_op {
	bool active;		 /* there is one */
	bool revoke;		 /* revoke @rec.name, else add @rec */
	struct token_record rec; /* name owned */
};

struct memory_uow {
	struct uow base;	    /* must stay first */
	struct memory_store *store; /* borrowed */
	struct event_vec queued;    /* added in this transaction */
	struct stored_round *round; /* research added in this transaction */
	struct token_op token;	    /* token change in this transaction */
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

static const struct uow_ops memory_uow_ops;

static struct memory_uow *to_memory_uow(struct uow *u)
{
	assert(u->ops == &memory_uow_ops);
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
	mem_free(sp->batches);
	mem_free(sp->sku);
	mem_free(sp);
}

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
	(void)pthread_mutex_destroy(&s->lock);
	mem_free(s);
}

/* Index of @sku in the store, or -1.  Caller holds the lock. */
static ptrdiff_t find(struct memory_store *s, const char *sku)
{
	for (size_t i = 0; i < s->n_products; i++)
		if (!strcmp(s->products[i]->sku, sku))
			return (ptrdiff_t)i;
	return -1;
}

static int copy_batch_in(struct stored_batch *sb, const struct batch *b)
{
	sb->ref = mem_strdup(b->ref);
	if (!sb->ref)
		return -1;
	sb->purchased = b->purchased;
	sb->allocated = b->allocated;
	sb->has_eta = b->has_eta;
	sb->eta = b->eta;
	sb->supplier = b->supplier;
	if (!b->n_lines)
		return 0;
	sb->lines = mem_calloc(b->n_lines, sizeof(*sb->lines));
	if (!sb->lines)
		return -1;
	for (size_t k = 0; k < b->n_lines; k++) {
		sb->lines[k].orderid = mem_strdup(b->lines[k].orderid);
		if (!sb->lines[k].orderid)
			return -1;
		sb->lines[k].qty = b->lines[k].qty;
		sb->n_lines = k + 1;
	}
	return 0;
}

/* A heap copy of @p for the store, or NULL when memory runs out. */
static struct stored_product *copy_in(const struct product *p)
{
	struct stored_product *sp = mem_calloc(1, sizeof(*sp));

	if (!sp)
		return NULL;
	sp->sku = mem_strdup(p->sku);
	if (!sp->sku)
		goto out_free;
	sp->version = p->version;
	if (p->n_batches) {
		sp->batches = mem_calloc(p->n_batches, sizeof(*sp->batches));
		if (!sp->batches)
			goto out_free;
	}
	for (size_t i = 0; i < p->n_batches; i++) {
		sp->n_batches = i + 1;
		assert(p->batches[i].lines_complete);
		if (copy_batch_in(&sp->batches[i], &p->batches[i]))
			goto out_free;
	}
	return sp;
out_free:
	stored_free(sp);
	return NULL;
}

/* Rebuild @sp as a domain product in @a.  Caller holds the lock. */
static int copy_out(const struct stored_product *sp, struct arena *a,
		    struct product **out, struct sc_err *err)
{
	struct product *p;
	int rc = product_new(a, sp->sku, sp->version, false, &p, err);

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
	if (!rc)
		*out = p;
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

/* Every version still as loaded?  Caller holds the lock. */
static int check_versions(struct memory_store *s, struct uow *u,
			  struct sc_err *err)
{
	for (size_t i = 0; i < u->n_seen; i++) {
		const struct product *p = u->seen[i];
		ptrdiff_t at = find(s, p->sku);

		if (p->version == p->loaded_version)
			continue;
		if (p->is_new ? at >= 0
			      : at < 0 || s->products[at]->version !=
						  p->loaded_version)
			return err_set(err, SC_ECONFLICT,
				       "product '%s' changed concurrently",
				       p->sku);
	}
	return SC_OK;
}

/* Copies of the changed products, in seen order (NULL: unchanged). */
static int build_copies(struct uow *u, struct stored_product **copies,
			struct sc_err *err)
{
	for (size_t i = 0; i < u->n_seen; i++) {
		const struct product *p = u->seen[i];

		copies[i] = NULL;
		if (p->version == p->loaded_version)
			continue;
		copies[i] = copy_in(p);
		if (!copies[i])
			return oom(err);
	}
	return SC_OK;
}

/* Put @copies in place; caller holds the lock and checked capacity. */
static void swap_in(struct memory_store *s, struct stored_product **copies,
		    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ptrdiff_t at;

		if (!copies[i])
			continue;
		at = find(s, copies[i]->sku);
		if (at < 0) {
			s->products[s->n_products++] = copies[i];
		} else {
			stored_free(s->products[at]);
			s->products[at] = copies[i];
		}
		copies[i] = NULL;
	}
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
	int64_t now = (int64_t)time(NULL);

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

static int memory_commit(struct uow *u, struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct stored_product **copies = NULL;
	int rc = SC_OK;

	if (u->n_seen) {
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
		copies = mem_calloc(u->n_seen, sizeof(*copies));
		if (!copies)
			return oom(err);
		rc = build_copies(u, copies, err);
	}
	(void)pthread_mutex_lock(&s->lock);
	if (!rc)
		rc = check_versions(s, u, err);
	if (!rc)
		rc = reserve_products(s, u->n_seen, err);
	if (!rc && events_reserve(&s->outbox, to_memory_uow(u)->queued.n))
		rc = oom(err);
	if (!rc)
		rc = reserve_round(s, to_memory_uow(u)->round, err);
	if (!rc)
		rc = reserve_token(s, &to_memory_uow(u)->token, err);
	if (!rc) {
		swap_in(s, copies, u->n_seen);
		publish_queued(s, &to_memory_uow(u)->queued);
		publish_round(s, to_memory_uow(u));
		publish_token(s, &to_memory_uow(u)->token);
	}
	(void)pthread_mutex_unlock(&s->lock);
	memory_rollback(u); /* frees what was not published */
	for (size_t i = 0; copies && i < u->n_seen; i++)
		stored_free(copies[i]);
	mem_free(copies);
	return rc;
}

static void memory_rollback(struct uow *u)
{
	struct memory_uow *m = to_memory_uow(u);

	events_clear(&m->queued);
	free_owned(m->token.rec.name);
	memset(&m->token, 0, sizeof(m->token));
	round_free(m->round);
	mem_free(m->round);
	m->round = NULL;
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

static int memory_outbox_add(struct uow *u, const struct msg *ev,
			     struct sc_err *err)
{
	struct event_vec *q = &to_memory_uow(u)->queued;
	struct stored_event *e;
	bool ok;

	assert(ev->type == MSG_ALLOCATED || ev->type == MSG_OUT_OF_STOCK);
	if (events_reserve(q, 1))
		return oom(err);
	e = &q->items[q->n];
	memset(e, 0, sizeof(*e));
	e->type = ev->type;
	if (ev->type == MSG_ALLOCATED) {
		e->orderid = mem_strdup(ev->u.allocated.orderid);
		e->sku = mem_strdup(ev->u.allocated.sku);
		e->batchref = mem_strdup(ev->u.allocated.batchref);
		e->qty = ev->u.allocated.qty;
		ok = e->orderid && e->sku && e->batchref;
	} else {
		e->sku = mem_strdup(ev->u.out_of_stock.sku);
		ok = e->sku != NULL;
	}
	if (!ok) {
		event_free(e);
		return oom(err);
	}
	q->n++;
	return SC_OK;
}

/* @e as an outbox item in @a; -1 when memory runs out. */
static int event_out(const struct stored_event *e, struct arena *a,
		     struct outbox_item *it)
{
	memset(it, 0, sizeof(*it));
	it->id = e->id;
	it->attempts = e->attempts;
	it->ev.type = e->type;
	if (e->type == MSG_OUT_OF_STOCK) {
		it->ev.u.out_of_stock.sku = arena_strdup(a, e->sku);
		return it->ev.u.out_of_stock.sku ? 0 : -1;
	}
	it->ev.u.allocated.orderid = arena_strdup(a, e->orderid);
	it->ev.u.allocated.sku = arena_strdup(a, e->sku);
	it->ev.u.allocated.batchref = arena_strdup(a, e->batchref);
	it->ev.u.allocated.qty = e->qty;
	return it->ev.u.allocated.orderid && it->ev.u.allocated.sku &&
			       it->ev.u.allocated.batchref
		       ? 0
		       : -1;
}

static int memory_outbox_pending(struct uow *u, size_t limit, struct arena *a,
				 struct outbox_item **out, size_t *n_out,
				 struct sc_err *err)
{
	struct memory_store *s = to_memory_uow(u)->store;
	struct outbox_item *items = NULL;
	size_t n = 0, cap = 0;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&s->lock);
	for (size_t i = 0; !rc && i < s->outbox.n && n < limit; i++) {
		if (s->outbox.items[i].sent)
			continue;
		if (arena_reserve(a, (void **)&items, &cap, n + 1,
				  sizeof(*items)) ||
		    event_out(&s->outbox.items[i], a, &items[n++]))
			rc = oom(err);
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (!rc) {
		*out = items;
		*n_out = n;
	}
	return rc;
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
	}
	(void)pthread_mutex_unlock(&s->lock);
	return SC_OK;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct allocation_row *x = a, *y = b;

	return strcmp(x->sku, y->sku);
}

/* Append one read-model row; caller holds the lock. */
static int push_row(struct arena *a, struct allocation_row **rows, size_t *n,
		    size_t *cap, const char *sku, const char *ref)
{
	if (arena_reserve(a, (void **)rows, cap, *n + 1, sizeof(**rows)))
		return -1;
	(*rows)[*n].sku = arena_strdup(a, sku);
	(*rows)[*n].batchref = arena_strdup(a, ref);
	if (!(*rows)[*n].sku || !(*rows)[*n].batchref)
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
				    push_row(a, &rows, &n, &cap, sp->sku,
					     sp->batches[k].ref)) {
					rc = oom(err);
					break;
				}
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
	struct product_summary sum = {sp->sku, 0, 0, sp->n_batches};

	for (size_t k = 0; k < sp->n_batches; k++) {
		sum.purchased += sp->batches[k].purchased;
		sum.allocated += sp->batches[k].allocated;
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

static const struct uow_ops memory_uow_ops = {
	.name = "memory",
	.begin = memory_begin,
	.get = memory_get,
	.sku_of_batch = memory_sku_of_batch,
	.commit = memory_commit,
	.rollback = memory_rollback,
	.allocations = memory_allocations,
	.outbox_add = memory_outbox_add,
	.outbox_pending = memory_outbox_pending,
	.outbox_mark = memory_outbox_mark,
	.research_add = memory_research_add,
	.research_round = memory_research_round,
	.research_history = memory_research_history,
	.read_product = memory_read_product,
	.list_products = memory_list_products,
	.token_add = memory_token_add,
	.token_revoke = memory_token_revoke,
	.token_list = memory_token_list,
	.ping = memory_ping,
	.stats = memory_stats,
	.check = memory_check,
	.backup = memory_backup,
	.probe_write = memory_probe_write,
	.outbox_stats = memory_outbox_stats,
	.free = memory_free,
};

int memory_uow_new(struct memory_store *s, struct uow **out, struct sc_err *err)
{
	struct memory_uow *m = mem_calloc(1, sizeof(*m));

	if (!m)
		return oom(err);
	m->base.ops = &memory_uow_ops;
	m->store = s;
	*out = &m->base;
	return SC_OK;
}

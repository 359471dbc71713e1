/*
 * domain/model.c - allocation rules of the Product aggregate.
 *
 * Growth of the vectors goes through arena_reserve(); on SC_ENOMEM the
 * product is left as it was before the call, because every vector is
 * grown before any field is changed.
 */
#include "domain/model.h"

#include <assert.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"

/* Length in bytes of the UTF-8 sequence at @s (of @n left), 0 if bad. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	/* overlong, surrogate, beyond U+10FFFF, or a C1 control */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

bool ident_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (len == 0 || len > SC_ID_MAX)
		return false;
	while (i < len) {
		size_t n;

		if (u[i] < 0x20 || u[i] == 0x7f)
			return false;
		n = utf8_seq(u + i, len - i);
		if (!n)
			return false;
		i += n;
	}
	return true;
}

static bool ident_ok(const char *s)
{
	return s && ident_valid(s, strlen(s));
}

static int check_ident(const char *what, const char *s, struct sc_err *err)
{
	if (!ident_ok(s))
		return err_set(err, SC_EINVAL,
			       "%s must be 1 to %d bytes of printable utf-8",
			       what, SC_ID_MAX);
	return SC_OK;
}

static int check_batch_qty(int64_t qty, struct sc_err *err)
{
	if (qty < 0 || qty > SC_QTY_MAX)
		return err_set(err, SC_EINVAL,
			       "batch qty must be 0 to %lld, not %lld",
			       (long long)SC_QTY_MAX, (long long)qty);
	return SC_OK;
}

static int check_line(const struct order_line *l, struct sc_err *err)
{
	int rc = check_ident("orderid", l->orderid, err);

	if (!rc)
		rc = check_ident("sku", l->sku, err);
	if (!rc && (l->qty < 1 || l->qty > SC_QTY_MAX))
		rc = err_set(err, SC_EINVAL,
			     "line qty must be 1 to %lld, not %lld",
			     (long long)SC_QTY_MAX, (long long)l->qty);
	return rc;
}

static int oom(struct sc_err *err)
{
	return err_set(err, SC_ENOMEM, "out of memory");
}

/* Fill @b from @spec, strings copied into @a, with @sku. */
static int batch_fill(struct batch *b, struct arena *a,
		      const struct batch_spec *spec, const char *sku,
		      struct sc_err *err)
{
	memset(b, 0, sizeof(*b));
	b->arena = a;
	b->ref = arena_strdup(a, spec->ref);
	b->sku = arena_strdup(a, sku);
	if (!b->ref || !b->sku)
		return oom(err);
	b->has_eta = spec->has_eta;
	b->eta = spec->has_eta ? spec->eta : 0;
	b->supplier = spec->supplier;
	return SC_OK;
}

int batch_init(struct batch *b, struct arena *a, const struct batch_spec *spec,
	       struct sc_err *err)
{
	int rc = check_ident("ref", spec->ref, err);

	if (!rc)
		rc = check_ident("sku", spec->sku, err);
	if (!rc)
		rc = check_batch_qty(spec->qty, err);
	if (!rc)
		rc = batch_fill(b, a, spec, spec->sku, err);
	if (rc)
		return rc;
	b->purchased = spec->qty;
	b->lines_complete = true;
	return SC_OK;
}

bool batch_can_allocate(const struct batch *b, const struct order_line *l)
{
	return !strcmp(b->sku, l->sku) && batch_available(b) >= l->qty;
}

const struct order_line *batch_find_line(const struct batch *b,
					 const char *orderid)
{
	for (size_t i = 0; i < b->n_lines; i++)
		if (!strcmp(b->lines[i].orderid, orderid))
			return &b->lines[i];
	return NULL;
}

/* Append a copy of the line to b->lines; no accounting. */
static int push_line(struct batch *b, const char *orderid, int64_t qty,
		     struct sc_err *err)
{
	struct order_line *l;

	if (arena_reserve(b->arena, (void **)&b->lines, &b->cap_lines,
			  b->n_lines + 1, sizeof(*b->lines)))
		return oom(err);
	l = &b->lines[b->n_lines];
	l->orderid = arena_strdup(b->arena, orderid);
	if (!l->orderid)
		return oom(err);
	l->sku = b->sku;
	l->qty = qty;
	b->n_lines++;
	return SC_OK;
}

int batch_allocate(struct batch *b, const struct order_line *l,
		   struct sc_err *err)
{
	const struct order_line *have;
	int rc = check_line(l, err);

	if (rc)
		return rc;
	if (strcmp(b->sku, l->sku) != 0)
		return err_set(err, SC_EINVAL,
			       "line sku '%s' does not match batch sku '%s'",
			       l->sku, b->sku);
	have = batch_find_line(b, l->orderid);
	if (have && have->qty == l->qty)
		return SC_OK;
	if (have)
		return err_set(err, SC_EEXIST,
			       "order '%s' already has %lld of '%s'",
			       l->orderid, (long long)have->qty, l->sku);
	if (batch_available(b) < l->qty)
		return err_set(err, SC_EINVAL,
			       "batch '%s' has %lld available, not %lld",
			       b->ref, (long long)batch_available(b),
			       (long long)l->qty);
	rc = push_line(b, l->orderid, l->qty, err);
	if (rc)
		return rc;
	b->allocated += l->qty;
	return SC_OK;
}

int product_new(struct arena *a, const char *sku, int64_t version, bool is_new,
		struct product **out, struct sc_err *err)
{
	struct product *p;
	int rc = check_ident("sku", sku, err);

	if (rc)
		return rc;
	p = arena_calloc(a, 1, sizeof(*p));
	if (!p)
		return oom(err);
	p->arena = a;
	p->sku = arena_strdup(a, sku);
	if (!p->sku)
		return oom(err);
	p->version = version;
	p->loaded_version = version;
	if (is_new) {
		p->changes = arena_calloc(a, 1, sizeof(*p->changes));
		if (!p->changes)
			return oom(err);
		p->cap_changes = 1;
		p->n_changes = 1;
		p->changes[0].kind = CHANGE_PRODUCT_ADDED;
		p->backorders_complete = true; /* none can wait for it yet */
	}
	*out = p;
	return SC_OK;
}

struct batch *product_find_batch(struct product *p, const char *ref)
{
	for (size_t i = 0; i < p->n_batches; i++)
		if (!strcmp(p->batches[i].ref, ref))
			return &p->batches[i];
	return NULL;
}

/* Make room for @batch more batches, @event events and @change changes. */
static int reserve_one(struct product *p, size_t batch, size_t event,
		       size_t change, struct sc_err *err)
{
	struct arena *a = p->arena;

	if (batch && arena_reserve(a, (void **)&p->batches, &p->cap_batches,
				   p->n_batches + batch, sizeof(*p->batches)))
		return oom(err);
	if (event && arena_reserve(a, (void **)&p->events, &p->cap_events,
				   p->n_events + event, sizeof(*p->events)))
		return oom(err);
	if (change && arena_reserve(a, (void **)&p->changes, &p->cap_changes,
				    p->n_changes + change, sizeof(*p->changes)))
		return oom(err);
	return SC_OK;
}

/* Append a change; room was reserved.  @l only for CHANGE_LINE_*. */
static void record_change(struct product *p, enum change_kind kind,
			  size_t batch, const struct order_line *l)
{
	struct change *c = &p->changes[p->n_changes++];

	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->batch = batch;
	if (l)
		c->line = *l;
}

int64_t product_available(const struct product *p)
{
	int64_t n = 0;

	for (size_t i = 0; i < p->n_batches; i++)
		n += batch_available(&p->batches[i]);
	return n;
}

void product_restore_low_stock(struct product *p, int64_t threshold)
{
	p->low_stock = threshold;
}

void product_mark_loaded(struct product *p)
{
	p->loaded_available = product_available(p);
}

int product_set_low_stock(struct product *p, int64_t threshold,
			  struct sc_err *err)
{
	int rc;

	if (threshold < 0 || threshold > SC_QTY_MAX)
		return err_set(err, SC_EINVAL,
			       "threshold must be from 0 to %lld",
			       (long long)SC_QTY_MAX);
	if (threshold == p->low_stock)
		return SC_OK;
	rc = reserve_one(p, 0, 0, 1, err);
	if (rc)
		return rc;
	p->low_stock = threshold;
	/* judged from the new threshold: already below it alerts now */
	p->loaded_available = threshold;
	record_change(p, CHANGE_LOW_STOCK, 0, NULL);
	p->version++;
	return SC_OK;
}

int product_check_low_stock(struct product *p, struct sc_err *err)
{
	int64_t now = product_available(p);
	struct msg *ev;
	int rc;

	if (!p->low_stock || p->loaded_available < p->low_stock ||
	    now >= p->low_stock)
		return SC_OK;
	rc = reserve_one(p, 0, 1, 0, err);
	if (rc)
		return rc;
	ev = &p->events[p->n_events++];
	ev->type = MSG_LOW_STOCK;
	ev->u.low_stock.sku = p->sku;
	ev->u.low_stock.available = now;
	p->loaded_available = now; /* once per crossing, even if called again */
	return SC_OK;
}

int product_restore_batch(struct product *p, const struct batch_spec *spec,
			  int64_t allocated, struct batch **out,
			  struct sc_err *err)
{
	struct batch *b;
	int rc = reserve_one(p, 1, 0, 0, err);

	if (rc)
		return rc;
	b = &p->batches[p->n_batches];
	rc = batch_fill(b, p->arena, spec, p->sku, err);
	if (rc)
		return rc;
	b->purchased = spec->qty;
	b->allocated = allocated;
	p->n_batches++;
	*out = b;
	return SC_OK;
}

/* Append backorder (@orderid copied, @qty); room is made here. */
static int push_backorder(struct product *p, const char *orderid, int64_t qty,
			  struct sc_err *err)
{
	struct order_line *l;

	if (arena_reserve(p->arena, (void **)&p->backorders, &p->cap_backorders,
			  p->n_backorders + 1, sizeof(*p->backorders)))
		return oom(err);
	l = &p->backorders[p->n_backorders];
	l->orderid = arena_strdup(p->arena, orderid);
	if (!l->orderid)
		return oom(err);
	l->sku = p->sku;
	l->qty = qty;
	p->n_backorders++;
	return SC_OK;
}

int product_restore_backorder(struct product *p, const char *orderid,
			      int64_t qty, struct sc_err *err)
{
	return push_backorder(p, orderid, qty, err);
}

/* The backorder of @orderid, and its index, or NULL. */
static const struct order_line *find_backorder(const struct product *p,
					       const char *orderid, size_t *at)
{
	for (size_t i = 0; i < p->n_backorders; i++)
		if (!strcmp(p->backorders[i].orderid, orderid)) {
			*at = i;
			return &p->backorders[i];
		}
	return NULL;
}

/* Drop backorder @i, keeping the others oldest first. */
static void remove_backorder(struct product *p, size_t i)
{
	memmove(&p->backorders[i], &p->backorders[i + 1],
		(p->n_backorders - i - 1) * sizeof(*p->backorders));
	p->n_backorders--;
}

int product_restore_line(struct product *p, struct batch *b,
			 const char *orderid, int64_t qty, struct sc_err *err)
{
	assert(b >= p->batches && b < p->batches + p->n_batches);
	(void)p;
	return push_line(b, orderid, qty, err);
}

int product_add_batch(struct product *p, const struct batch_spec *spec,
		      struct sc_err *err)
{
	struct batch *b;
	int rc = check_ident("ref", spec->ref, err);

	if (!rc)
		rc = check_batch_qty(spec->qty, err);
	if (rc)
		return rc;
	if (product_find_batch(p, spec->ref))
		return err_set(err, SC_EEXIST, "batch '%s' already exists",
			       spec->ref);
	rc = reserve_one(p, 1, 0, 1, err);
	if (rc)
		return rc;
	b = &p->batches[p->n_batches];
	rc = batch_fill(b, p->arena, spec, p->sku, err);
	if (rc)
		return rc;
	b->purchased = spec->qty;
	b->lines_complete = true;
	record_change(p, CHANGE_BATCH_ADDED, p->n_batches, NULL);
	p->n_batches++;
	p->version++;
	return SC_OK;
}

/* True when @a should be chosen before @b (which comes earlier). */
static bool prefers(const struct batch *a, const struct batch *b)
{
	if (a->has_eta != b->has_eta)
		return !a->has_eta;
	return a->has_eta && a->eta < b->eta;
}

/* The allocated line of @orderid, and its batch index, or NULL. */
static const struct order_line *
find_allocation(const struct product *p, const char *orderid, size_t *batch_out)
{
	for (size_t i = 0; i < p->n_batches; i++) {
		const struct order_line *l =
			batch_find_line(&p->batches[i], orderid);

		if (l) {
			*batch_out = i;
			return l;
		}
	}
	return NULL;
}

static int allocate_to(struct product *p, size_t i, const struct order_line *l,
		       const char **out, struct sc_err *err)
{
	struct batch *b = &p->batches[i];
	struct msg *ev;
	int rc = reserve_one(p, 0, 1, 2, err);

	if (!rc)
		rc = batch_allocate(b, l, err);
	if (rc)
		return rc;
	record_change(p, CHANGE_LINE_ADDED, i, &b->lines[b->n_lines - 1]);
	record_change(p, CHANGE_BATCH_TOTALS, i, NULL);
	ev = &p->events[p->n_events++];
	ev->type = MSG_ALLOCATED;
	ev->u.allocated.orderid = b->lines[b->n_lines - 1].orderid;
	ev->u.allocated.sku = p->sku;
	ev->u.allocated.qty = l->qty;
	ev->u.allocated.batchref = b->ref;
	p->version++;
	*out = b->ref;
	return SC_OK;
}

/* The batch product_allocate chooses for @l, or SIZE_MAX when none can. */
static size_t best_batch(const struct product *p, const struct order_line *l)
{
	size_t best = SIZE_MAX;

	for (size_t i = 0; i < p->n_batches; i++)
		if (batch_can_allocate(&p->batches[i], l) &&
		    (best == SIZE_MAX ||
		     prefers(&p->batches[i], &p->batches[best])))
			best = i;
	return best;
}

/*
 * No batch can take @l: record OutOfStock naming it and, with
 * @backorder, keep it waiting (Backordered).  All room first, so that
 * nothing changes unless everything can.
 */
static int no_stock(struct product *p, const struct order_line *l,
		    bool backorder, struct sc_err *err)
{
	const char *orderid;
	struct msg *ev;
	int rc = reserve_one(p, 0, 2, 1, err);

	/* the caller's string: copied, like every line a product keeps */
	if (!rc && !(orderid = arena_strdup(p->arena, l->orderid)))
		rc = oom(err);
	if (!rc && backorder)
		rc = push_backorder(p, orderid, l->qty, err);
	if (rc)
		return rc;
	ev = &p->events[p->n_events++];
	ev->type = MSG_OUT_OF_STOCK;
	ev->u.out_of_stock.sku = p->sku;
	ev->u.out_of_stock.orderid = orderid;
	ev->u.out_of_stock.qty = l->qty;
	if (!backorder)
		return SC_OK;
	record_change(p, CHANGE_BACKORDER_ADDED, 0,
		      &p->backorders[p->n_backorders - 1]);
	ev = &p->events[p->n_events++];
	ev->type = MSG_BACKORDERED;
	ev->u.backordered.orderid = orderid;
	ev->u.backordered.sku = p->sku;
	ev->u.backordered.qty = l->qty;
	p->version++;
	return SC_OK;
}

int product_allocate_line(struct product *p, const struct order_line *l,
			  bool backorder, const char **batchref,
			  enum allocation *how, struct sc_err *err)
{
	const struct order_line *have;
	bool waiting = false;
	size_t best, at;
	int rc = check_line(l, err);

	if (rc)
		return rc;
	if (strcmp(l->sku, p->sku) != 0)
		return err_set(err, SC_EINVAL,
			       "line sku '%s' is not product '%s'", l->sku,
			       p->sku);
	have = find_allocation(p, l->orderid, &at);
	if (!have)
		waiting = (have = find_backorder(p, l->orderid, &at)) != NULL;
	if (have && have->qty != l->qty)
		return err_set(err, SC_EEXIST,
			       "order '%s' already has %lld of '%s'",
			       l->orderid, (long long)have->qty, l->sku);
	*batchref = NULL;
	if (have) { /* a retry: the line stays where it is */
		*how = waiting ? ALLOCATION_BACKORDERED : ALLOCATION_ALLOCATED;
		if (!waiting)
			*batchref = p->batches[at].ref;
		return SC_OK;
	}
	best = best_batch(p, l);
	if (best != SIZE_MAX) {
		*how = ALLOCATION_ALLOCATED;
		return allocate_to(p, best, l, batchref, err);
	}
	*how = backorder ? ALLOCATION_BACKORDERED : ALLOCATION_OUT_OF_STOCK;
	return no_stock(p, l, backorder, err);
}

int product_allocate(struct product *p, const struct order_line *l,
		     const char **out, struct sc_err *err)
{
	enum allocation how;

	return product_allocate_line(p, l, false, out, &how, err);
}

int product_fill_backorders(struct product *p, size_t *n_filled,
			    struct sc_err *err)
{
	size_t i = 0, n = 0;

	assert(p->backorders_complete);
	while (i < p->n_backorders) {
		struct order_line l = p->backorders[i];
		size_t best = best_batch(p, &l);
		const char *ref;
		int rc;

		if (best == SIZE_MAX) {
			i++; /* too big for now; the next may fit */
			continue;
		}
		rc = reserve_one(p, 0, 1, 3, err);
		if (!rc)
			rc = allocate_to(p, best, &l, &ref, err);
		if (rc)
			return rc;
		record_change(p, CHANGE_BACKORDER_REMOVED, 0, &l);
		remove_backorder(p, i);
		n++;
	}
	if (n_filled)
		*n_filled = n;
	return SC_OK;
}

/* Remove the newest line of batch @i, journal it, record Deallocated. */
static void deallocate_newest(struct product *p, size_t i)
{
	struct batch *b = &p->batches[i];
	const struct order_line *l = &b->lines[--b->n_lines];
	struct msg *ev = &p->events[p->n_events++];

	b->allocated -= l->qty;
	record_change(p, CHANGE_LINE_REMOVED, i, l);
	ev->type = MSG_DEALLOCATED;
	ev->u.deallocated.orderid = l->orderid;
	ev->u.deallocated.sku = p->sku;
	ev->u.deallocated.qty = l->qty;
	ev->u.deallocated.batchref = b->ref;
	ev->u.deallocated.cancelled = false; /* reallocated by its handler */
}

/* product_deallocate() of a line that waits for stock. */
static int cancel_backorder(struct product *p, const char *orderid,
			    struct order_line *freed, const char **batchref,
			    struct sc_err *err)
{
	size_t at;
	struct msg *ev;
	const struct order_line *bo = find_backorder(p, orderid, &at);
	int rc;

	if (!bo)
		return err_set(err, SC_ENOTFOUND, "order '%s' holds no '%s'",
			       orderid, p->sku);
	rc = reserve_one(p, 0, 1, 1, err);
	if (rc)
		return rc;
	*freed = *bo;
	remove_backorder(p, at);
	record_change(p, CHANGE_BACKORDER_REMOVED, 0, freed);
	ev = &p->events[p->n_events++];
	ev->type = MSG_DEALLOCATED;
	ev->u.deallocated.orderid = freed->orderid;
	ev->u.deallocated.sku = p->sku;
	ev->u.deallocated.qty = freed->qty;
	ev->u.deallocated.batchref = NULL;
	ev->u.deallocated.cancelled = true;
	p->version++;
	*batchref = NULL;
	return SC_OK;
}

int product_deallocate(struct product *p, const char *orderid,
		       struct order_line *freed, const char **batchref,
		       struct sc_err *err)
{
	const struct order_line *have;
	struct batch *b;
	struct msg *ev;
	size_t i, k;
	int rc;

	have = find_allocation(p, orderid, &i);
	if (!have)
		return cancel_backorder(p, orderid, freed, batchref, err);
	/* room first: nothing may change unless everything can */
	rc = reserve_one(p, 0, 1, 2, err);
	if (rc)
		return rc;
	b = &p->batches[i];
	k = (size_t)(have - b->lines);
	*freed = *have;
	freed->sku = p->sku;
	/* keep the others oldest first: a later shrink takes the newest */
	memmove(&b->lines[k], &b->lines[k + 1],
		(b->n_lines - k - 1) * sizeof(*b->lines));
	b->n_lines--;
	b->allocated -= freed->qty;
	record_change(p, CHANGE_LINE_REMOVED, i, freed);
	record_change(p, CHANGE_BATCH_TOTALS, i, NULL);
	ev = &p->events[p->n_events++];
	ev->type = MSG_DEALLOCATED;
	ev->u.deallocated.orderid = freed->orderid;
	ev->u.deallocated.sku = p->sku;
	ev->u.deallocated.qty = freed->qty;
	ev->u.deallocated.batchref = b->ref;
	ev->u.deallocated.cancelled = true;
	p->version++;
	*batchref = b->ref;
	return SC_OK;
}

int product_change_batch_eta(struct product *p, const char *ref, bool has_eta,
			     int32_t eta, struct sc_err *err)
{
	struct batch *b = product_find_batch(p, ref);
	size_t i;

	if (!b)
		return err_set(err, SC_ENOTFOUND, "unknown batch '%s'", ref);
	if (b->has_eta == has_eta && (!has_eta || b->eta == eta))
		return SC_OK;
	assert(b->lines_complete);
	i = (size_t)(b - p->batches);
	if (arena_reserve(p->arena, (void **)&p->events, &p->cap_events,
			  p->n_events + b->n_lines, sizeof(*p->events)) ||
	    reserve_one(p, 0, 0, 1, err))
		return oom(err);
	b->has_eta = has_eta;
	b->eta = has_eta ? eta : 0;
	for (size_t k = 0; k < b->n_lines; k++) {
		struct msg *ev = &p->events[p->n_events++];

		ev->type = MSG_ETA_CHANGED;
		ev->u.eta_changed.orderid = b->lines[k].orderid;
		ev->u.eta_changed.sku = p->sku;
		ev->u.eta_changed.qty = b->lines[k].qty;
		ev->u.eta_changed.batchref = b->ref;
	}
	record_change(p, CHANGE_BATCH_TOTALS, i, NULL); /* totals and eta */
	p->version++;
	return SC_OK;
}

int product_change_batch_quantity(struct product *p, const char *ref,
				  int64_t qty, struct sc_err *err)
{
	struct batch *b;
	size_t i, n_out = 0;
	int64_t avail;
	int rc = check_batch_qty(qty, err);

	if (rc)
		return rc;
	b = product_find_batch(p, ref);
	if (!b)
		return err_set(err, SC_ENOTFOUND, "unknown batch '%s'", ref);
	if (b->purchased == qty)
		return SC_OK;
	assert(b->lines_complete);
	i = (size_t)(b - p->batches);
	/* Count the lines to drop first, so that growth can fail cleanly. */
	avail = qty - b->allocated;
	while (avail < 0 && n_out < b->n_lines)
		avail += b->lines[b->n_lines - 1 - n_out++].qty;
	if (arena_reserve(p->arena, (void **)&p->events, &p->cap_events,
			  p->n_events + n_out, sizeof(*p->events)) ||
	    arena_reserve(p->arena, (void **)&p->changes, &p->cap_changes,
			  p->n_changes + n_out + 1, sizeof(*p->changes)))
		return oom(err);
	b->purchased = qty;
	while (n_out--)
		deallocate_newest(p, i);
	record_change(p, CHANGE_BATCH_TOTALS, i, NULL);
	p->version++;
	return SC_OK;
}

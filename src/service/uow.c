/*
 * service/uow.c - what every store shares: the identity map, the one
 * generic save that turns a product's change list into repository calls,
 * the outbox's event encoding, and the rules for calls inside an open
 * transaction (service/uow.h).
 */
#include "service/uow.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "common/arena.h"
#include "domain/events.h"
#include "domain/model.h"

static struct product *find_seen(struct uow *u, const char *sku)
{
	for (size_t i = 0; i < u->n_seen; i++)
		if (!strcmp(u->seen[i]->sku, sku))
			return u->seen[i];
	return NULL;
}

static int track(struct uow *u, struct product *p, struct sc_err *err)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	size_t size = sizeof(*u->seen);

	if (arena_reserve(u->arena, (void **)&u->seen, &u->cap_seen,
			  u->n_seen + 1, size))
		return err_set(err, SC_ENOMEM, "out of memory");
	u->seen[u->n_seen++] = p;
	return SC_OK;
}

int uow_begin(struct uow *u, struct arena *a, struct sc_err *err)
{
	int rc;

	assert(!u->active);
	u->arena = a;
	u->seen = NULL;
	u->n_seen = 0;
	u->cap_seen = 0;
	u->wrote_record = false;
	u->deferred = NULL;
	u->n_deferred = 0;
	u->cap_deferred = 0;
	rc = u->in_batch ? u->tx->savepoint(u, err) : u->tx->begin(u, err);
	if (!rc)
		u->active = true;
	return rc;
}

int repo_get(struct uow *u, const char *sku, const struct load_hint *hint,
	     struct product **out, struct sc_err *err)
{
	struct product *p;
	int rc;

	assert(u->active);
	p = find_seen(u, sku);
	if (p) {
		*out = p;
		return SC_OK;
	}
	rc = u->products->get(u, sku, hint, &p, err);
	if (!rc) {
		product_mark_loaded(p); /* for the low-stock rule */
		rc = track(u, p, err);
	}
	if (!rc)
		*out = p;
	return rc;
}

int repo_sku_of_batch(struct uow *u, const char *ref, const char **out,
		      struct sc_err *err)
{
	assert(u->active);
	for (size_t i = 0; i < u->n_seen; i++)
		if (product_find_batch(u->seen[i], ref)) {
			*out = u->seen[i]->sku;
			return SC_OK;
		}
	return u->products->sku_of_batch(u, ref, out, err);
}

int repo_get_by_batchref(struct uow *u, const char *ref, struct product **out,
			 struct sc_err *err)
{
	/* a change of quantity may fill the sku's backorders */
	struct load_hint hint = {.lines_of = ref, .backorders = true};
	const char *sku;
	int rc = repo_sku_of_batch(u, ref, &sku, err);

	if (!rc)
		rc = repo_get(u, sku, &hint, out, err);
	return rc;
}

int repo_add(struct uow *u, struct product *p, struct sc_err *err)
{
	assert(u->active && !find_seen(u, p->sku));
	return track(u, p, err);
}

/*
 * The product row first: inserting a new one, or moving the version on
 * only if it is still the one loaded, is the optimistic check, and it
 * comes before any other write so that a loser writes nothing else.
 */
static int save_version(struct uow *u, const struct product *p,
			struct sc_err *err)
{
	if (p->n_changes && p->changes[0].kind == CHANGE_PRODUCT_ADDED)
		return u->products->add_product(u, p->sku, p->version, err);
	return u->products->bump_version(u, p->sku, p->loaded_version,
					 p->version, err);
}

/*
 * Replay @p's change list.  Lines go in list order (a line removed and
 * added again in one transaction must be deleted first); a batch's totals
 * are written once, after its lines, with their final values, and not at
 * all for a batch inserted here (the insert carried them).
 */
static int save_product(struct uow *u, const struct product *p,
			struct sc_err *err)
{
	const struct product_repo_ops *r = u->products;
	/* per batch: 1 added here, 2 its totals moved */
	unsigned char *mark = arena_calloc(u->arena, p->n_batches + 1, 1);
	int rc;

	if (!mark)
		return err_set(err, SC_ENOMEM, "out of memory");
	rc = save_version(u, p, err);
	for (size_t i = 0; !rc && i < p->n_changes; i++) {
		const struct change *c = &p->changes[i];
		const struct batch *b = &p->batches[c->batch];

		switch (c->kind) {
		case CHANGE_PRODUCT_ADDED:
			break; /* save_version() did it */
		case CHANGE_BATCH_ADDED:
			mark[c->batch] = 1;
			rc = r->add_batch(u, p->sku, b, err);
			break;
		case CHANGE_BATCH_TOTALS:
			if (!mark[c->batch])
				mark[c->batch] = 2;
			break;
		case CHANGE_LINE_ADDED:
			rc = r->add_line(u, b->ref, &c->line, err);
			break;
		case CHANGE_LINE_REMOVED:
			rc = r->remove_line(u, &c->line, err);
			break;
		case CHANGE_BACKORDER_ADDED:
			rc = r->add_backorder(u, &c->line, err);
			break;
		case CHANGE_BACKORDER_REMOVED:
			rc = r->remove_backorder(u, &c->line, err);
			break;
		case CHANGE_LOW_STOCK:
			rc = r->set_low_stock(u, p->sku, p->low_stock, err);
			break;
		}
	}
	for (size_t i = 0; !rc && i < p->n_batches; i++)
		if (mark[i] == 2)
			rc = r->set_batch_totals(u, &p->batches[i], err);
	return rc;
}

int uow_commit(struct uow *u, struct sc_err *err)
{
	int rc = SC_OK;

	assert(u->active);
	for (size_t i = 0; !rc && i < u->n_seen; i++)
		if (u->seen[i]->version != u->seen[i]->loaded_version ||
		    u->seen[i]->n_changes)
			rc = save_product(u, u->seen[i], err);
	/* shared rollup rows last: see uow_demand_on_commit */
	for (size_t i = 0; !rc && i < u->n_deferred; i++) {
		u->wrote_record = true;
		rc = u->analytics->demand_add(u, &u->deferred[i], err);
	}
	if (!rc)
		rc = u->in_batch ? u->tx->release(u, err)
				 : u->tx->commit(u, err);
	if (!rc)
		u->active = false;
	return rc;
}

int uow_batch_begin(struct uow *u, struct sc_err *err)
{
	int rc;

	assert(uow_can_batch(u) && !u->active && !u->in_batch);
	rc = u->tx->batch_begin(u, err);
	u->in_batch = !rc;
	return rc;
}

int uow_batch_commit(struct uow *u, uint64_t *ticket, struct sc_err *err)
{
	assert(u->in_batch && !u->active);
	u->in_batch = false;
	*ticket = 0;
	return u->tx->batch_commit(u, ticket, err);
}

int uow_wait_durable(struct uow *u, uint64_t ticket, struct sc_err *err)
{
	assert(uow_can_batch(u));
	return ticket ? u->tx->wait_durable(u, ticket, err) : SC_OK;
}

void uow_batch_rollback(struct uow *u)
{
	uow_rollback(u);
	if (u->in_batch)
		u->tx->batch_rollback(u);
	u->in_batch = false;
}

bool uow_batch_alive(struct uow *u)
{
	return u->in_batch && u->tx->batch_alive(u);
}

void uow_rollback(struct uow *u)
{
	if (!u->active)
		return;
	if (u->in_batch)
		u->tx->rollback_to(u);
	else
		u->tx->rollback(u);
	u->active = false;
	u->n_seen = 0;
}

int uow_query_allowed(struct uow *u, struct sc_err *err)
{
	if (u->active && u->wrote_record)
		return err_set(err, SC_EINVAL,
			       "a query after a record was written in the "
			       "same transaction (read it after commit)");
	return SC_OK;
}

int uow_outside_tx(struct uow *u, const char *what, struct sc_err *err)
{
	if (u->active)
		return err_set(err, SC_EINVAL,
			       "%s commits on its own: not inside an open "
			       "transaction",
			       what);
	return SC_OK;
}

int uow_research_add(struct uow *u, const struct research_round *r,
		     int64_t *id_out, struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->records->research_add(u, r, id_out, err);
}

/* An analytics write: in the open unit of work, queries refused after. */
#define ANALYTICS_WRITE(u, call)                                               \
	(assert((u)->active), (u)->wrote_record = true, (u)->analytics->call)

int uow_ingredient_put(struct uow *u, const struct ingredient *in,
		       struct sc_err *err)
{
	return ANALYTICS_WRITE(u, ingredient_put(u, in, err));
}

int uow_formula_add(struct uow *u, const struct formula *f, struct sc_err *err)
{
	return ANALYTICS_WRITE(u, formula_add(u, f, err));
}

int uow_formula_activate(struct uow *u, const struct formula_change *c,
			 struct sc_err *err)
{
	return ANALYTICS_WRITE(u, formula_activate(u, c, err));
}

int uow_survey_add(struct uow *u, const struct survey *s, int64_t *id_out,
		   struct sc_err *err)
{
	return ANALYTICS_WRITE(u, survey_add(u, s, id_out, err));
}

int uow_responses_add(struct uow *u, int64_t id,
		      const struct survey_response *r, size_t n,
		      struct sc_err *err)
{
	return ANALYTICS_WRITE(u, responses_add(u, id, r, n, err));
}

int uow_demand_add(struct uow *u, const struct demand_entry *e,
		   struct sc_err *err)
{
	return ANALYTICS_WRITE(u, demand_add(u, e, err));
}

int uow_track_add(struct uow *u, const struct track_record *t, int64_t *id_out,
		  struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->dispensing->track_add(u, t, id_out, err);
}

int uow_venue_add(struct uow *u, const struct venue_record *v, int64_t *id_out,
		  struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->dispensing->venue_add(u, v, id_out, err);
}

int uow_venue_change(struct uow *u, const struct venue_change *c,
		     struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->dispensing->venue_change(u, c, err);
}

int uow_show_add(struct uow *u, const struct show_record *s, int64_t *id_out,
		 struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->dispensing->show_add(u, s, id_out, err);
}

int uow_demand_on_commit(struct uow *u, const struct demand_entry *e,
			 struct sc_err *err)
{
	assert(u->active);
	if (arena_reserve(u->arena, (void **)&u->deferred, &u->cap_deferred,
			  u->n_deferred + 1, sizeof(*u->deferred)))
		return err_set(err, SC_ENOMEM, "out of memory");
	u->deferred[u->n_deferred++] = *e;
	return SC_OK;
}

int uow_token_add(struct uow *u, const struct token_record *t,
		  struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->records->token_add(u, t, err);
}

int uow_token_revoke(struct uow *u, const char *name, int64_t at,
		     struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->records->token_revoke(u, name, at, err);
}

static const char *const state_names[] = {
	[NOTICE_PENDING] = "pending",
	[NOTICE_DELIVERED] = "delivered",
	[NOTICE_DEAD] = "dead",
};

_Static_assert(sizeof(state_names) / sizeof(state_names[0]) == NOTICE__STATES,
	       "every delivery state has a name");

const char *notice_state_name(enum notice_state s)
{
	return (unsigned)s < NOTICE__STATES ? state_names[s] : "?";
}

int notice_state_named(const char *name)
{
	for (int i = 0; name && i < NOTICE__STATES; i++)
		if (!strcmp(state_names[i], name))
			return i;
	return -1;
}

int uow_backorder_alerted(struct uow *u, const char *orderid, const char *sku,
			  int64_t at, struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->records->backorder_alerted(u, orderid, sku, at, err);
}

int uow_customer_add(struct uow *u, const struct customer_record *c,
		     struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->records->customer_add(u, c, err);
}

int uow_order_customer_set(struct uow *u, const char *orderid,
			   const char *customer, struct sc_err *err)
{
	assert(u->active);
	u->wrote_record = true;
	return u->records->order_customer_set(u, orderid, customer, err);
}

/*
 * Like the outbox, deliveries and their lookups belong to the
 * transaction's own work: they do not set wrote_record, and contact()
 * sees this transaction's order_customer_set by its contract.
 */
int uow_order_contact(struct uow *u, const char *orderid, struct arena *a,
		      struct customer_record **out, struct sc_err *err)
{
	assert(u->active);
	return u->deliveries->contact(u, orderid, a, out, err);
}

int uow_delivery_add(struct uow *u, const struct delivery *d,
		     struct sc_err *err)
{
	assert(u->active);
	return u->deliveries->add(u, d, err);
}

int uow_delivery_replay(struct uow *u, int64_t id, int64_t now_ms,
			struct sc_err *err)
{
	assert(u->active);
	return u->deliveries->replay(u, id, now_ms, err);
}

int uow_delivery_claim(struct uow *u, const struct delivery_claim *c,
		       struct arena *a, struct delivery **out, size_t *n_out,
		       struct sc_err *err)
{
	int rc = uow_outside_tx(u, "delivery claim", err);

	*n_out = 0;
	return rc ? rc : u->deliveries->claim(u, c, a, out, n_out, err);
}

int uow_delivery_finish(struct uow *u, int64_t id, unsigned attempts,
			const struct delivery_outcome *o, struct sc_err *err)
{
	int rc = uow_outside_tx(u, "delivery finish", err);

	return rc ? rc : u->deliveries->finish(u, id, attempts, o, err);
}

int uow_outbox_add(struct uow *u, const struct msg *ev, struct sc_err *err)
{
	const struct event_kind *k = event_kind_of(ev->type);
	struct outbox_row row = {0};

	assert(u->active);
	if (!k)
		return err_set(err, SC_EINVAL, "%s does not leave the process",
			       msg_name(ev->type));
	row.kind = k->name;
	event_flatten(ev, &row.ev);
	return u->outbox->add(u, &row, err);
}

/* Rows into events by the table, in place of @rows' storage in @a. */
static int rows_to_items(const struct outbox_row *rows, size_t n,
			 struct arena *a, struct outbox_item **out,
			 struct sc_err *err)
{
	struct outbox_item *items =
		n ? arena_calloc(a, n, sizeof(*items)) : NULL;

	if (n && !items)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct event_kind *k = event_kind_named(rows[i].kind);

		items[i].id = rows[i].id;
		items[i].attempts = rows[i].attempts;
		if (!k || event_unflatten(k, &rows[i].ev, &items[i].ev))
			return err_set(err, SC_EIO,
				       "outbox row %lld: unknown or damaged "
				       "event '%s'",
				       (long long)rows[i].id,
				       rows[i].kind ? rows[i].kind : "");
	}
	*out = items;
	return SC_OK;
}

int uow_outbox_claim(struct uow *u, size_t limit, struct arena *a,
		     struct outbox_item **out, size_t *n_out,
		     struct sc_err *err)
{
	struct outbox_rows rows = {0};
	int rc = uow_outside_tx(u, "outbox claim", err);

	if (!rc)
		rc = u->outbox->claim(u, limit, OUTBOX_LEASE_S, a, &rows, err);
	if (!rc)
		rc = rows_to_items(rows.items, rows.n, a, out, err);
	*n_out = rc ? 0 : rows.n;
	return rc;
}

int uow_outbox_pending(struct uow *u, size_t limit, struct arena *a,
		       struct outbox_item **out, size_t *n_out,
		       struct sc_err *err)
{
	struct outbox_rows rows = {0};
	int rc = uow_query_allowed(u, err);

	if (!rc)
		rc = u->outbox->pending(u, limit, a, &rows, err);
	if (!rc)
		rc = rows_to_items(rows.items, rows.n, a, out, err);
	*n_out = rc ? 0 : rows.n;
	return rc;
}

int uow_outbox_mark(struct uow *u, const int64_t *ids, size_t n, bool sent,
		    struct sc_err *err)
{
	int rc = uow_outside_tx(u, "outbox mark", err);

	return rc ? rc : u->outbox->mark(u, ids, n, sent, err);
}

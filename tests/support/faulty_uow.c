/*
 * tests/support/faulty_uow.c - forwarding with injected faults.
 *
 * Every port call but rollback and free is one numbered fault point; the
 * forwarders are generated so that a new port operation cannot be
 * forwarded without being counted.
 */
#include "support/faulty_uow.h"

#include <stdio.h>
#include <string.h>

static struct faulty_uow *to_faulty(struct uow *u)
{
	return (struct faulty_uow *)u;
}

/* Give the inner adapter the wrapper's transaction state. */
static struct uow *sync(struct faulty_uow *f)
{
	f->inner->arena = f->base.arena;
	f->inner->seen = f->base.seen;
	f->inner->n_seen = f->base.n_seen;
	f->inner->cap_seen = f->base.cap_seen;
	return f->inner;
}

static int fault(struct faulty_uow *f, struct sc_err *err)
{
	if (f->n_calls++ == f->fail_call)
		return err_set(err, SC_EIO, "injected fault at call %ld",
			       f->n_calls - 1);
	return SC_OK;
}

/* Note that the open transaction wrote a row of @sku. */
static void touch(struct faulty_uow *f, const char *sku)
{
	for (size_t i = 0; i < f->n_touched; i++)
		if (!strcmp(f->touched[i], sku))
			return;
	if (f->n_touched < sizeof(f->touched) / sizeof(f->touched[0]))
		(void)snprintf(f->touched[f->n_touched++],
			       sizeof(f->touched[0]), "%s", sku);
}

/* f_TABLE_OP(PARAMS): count a fault point, then forward to inner->TABLE->OP. */
#define FORWARD(table, op, params, ...)                                        \
	static int f_##table##_##op params                                     \
	{                                                                      \
		struct faulty_uow *f = to_faulty(u);                           \
		int rc = fault(f, err);                                        \
                                                                               \
		return rc ? rc : f->inner->table->op(sync(f), __VA_ARGS__);    \
	}

/* As FORWARD, noting the sku expression @sku as written first. */
#define FORWARD_WRITE(table, op, sku, params, ...)                             \
	static int f_##table##_##op params                                     \
	{                                                                      \
		struct faulty_uow *f = to_faulty(u);                           \
		int rc = fault(f, err);                                        \
                                                                               \
		if (!rc)                                                       \
			touch(f, sku);                                         \
		return rc ? rc : f->inner->table->op(sync(f), __VA_ARGS__);    \
	}

static int f_tx_begin(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	f->n_touched = 0;
	return rc ? rc : f->inner->tx->begin(sync(f), err);
}
FORWARD(products, get,
	(struct uow * u, const char *sku, const struct load_hint *h,
	 struct product **out, struct sc_err *err),
	sku, h, out, err)
FORWARD(products, sku_of_batch,
	(struct uow * u, const char *ref, const char **out, struct sc_err *err),
	ref, out, err)
FORWARD_WRITE(products, add_product, sku,
	      (struct uow * u, const char *sku, int64_t v, struct sc_err *err),
	      sku, v, err)
FORWARD_WRITE(products, bump_version, sku,
	      (struct uow * u, const char *sku, int64_t from, int64_t to,
	       struct sc_err *err),
	      sku, from, to, err)
FORWARD_WRITE(products, add_batch, sku,
	      (struct uow * u, const char *sku, const struct batch *b,
	       struct sc_err *err),
	      sku, b, err)
FORWARD_WRITE(products, set_batch_totals, b->sku,
	      (struct uow * u, const struct batch *b, struct sc_err *err), b,
	      err)
FORWARD_WRITE(products, add_line, l->sku,
	      (struct uow * u, const char *ref, const struct order_line *l,
	       struct sc_err *err),
	      ref, l, err)
FORWARD_WRITE(products, remove_line, l->sku,
	      (struct uow * u, const struct order_line *l, struct sc_err *err),
	      l, err)
FORWARD_WRITE(products, set_low_stock, sku,
	      (struct uow * u, const char *sku, int64_t t, struct sc_err *err),
	      sku, t, err)
FORWARD_WRITE(products, add_backorder, l->sku,
	      (struct uow * u, const struct order_line *l, struct sc_err *err),
	      l, err)
FORWARD_WRITE(products, remove_backorder, l->sku,
	      (struct uow * u, const struct order_line *l, struct sc_err *err),
	      l, err)
FORWARD(deliveries, contact,
	(struct uow * u, const char *orderid, struct arena *a,
	 struct customer_record **out, struct sc_err *err),
	orderid, a, out, err)
FORWARD_WRITE(deliveries, add, d->ev.sku,
	      (struct uow * u, const struct delivery *d, struct sc_err *err), d,
	      err)
FORWARD(deliveries, claim,
	(struct uow * u, const struct delivery_claim *c, struct arena *a,
	 struct delivery **out, size_t *n, struct sc_err *err),
	c, a, out, n, err)
FORWARD(deliveries, finish,
	(struct uow * u, int64_t id, unsigned attempts,
	 const struct delivery_outcome *o, struct sc_err *err),
	id, attempts, o, err)
FORWARD(deliveries, list,
	(struct uow * u, const struct delivery_filter *flt, struct arena *a,
	 struct delivery **out, size_t *n, struct sc_err *err),
	flt, a, out, n, err)
FORWARD(deliveries, replay,
	(struct uow * u, int64_t id, int64_t now_ms, struct sc_err *err), id,
	now_ms, err)
FORWARD(queries, aged_backorders,
	(struct uow * u, int64_t before, size_t limit, struct arena *a,
	 struct aged_list *out, struct sc_err *err),
	before, limit, a, out, err)
FORWARD(records, backorder_alerted,
	(struct uow * u, const char *orderid, const char *sku, int64_t at,
	 struct sc_err *err),
	orderid, sku, at, err)
FORWARD(queries, customer_get,
	(struct uow * u, const char *id, struct arena *a,
	 struct customer_record **out, struct sc_err *err),
	id, a, out, err)
FORWARD(records, customer_add,
	(struct uow * u, const struct customer_record *c, struct sc_err *err),
	c, err)
FORWARD(records, order_customer_set,
	(struct uow * u, const char *orderid, const char *customer,
	 struct sc_err *err),
	orderid, customer, err)
FORWARD_WRITE(outbox, add, r->ev.sku,
	      (struct uow * u, const struct outbox_row *r, struct sc_err *err),
	      r, err)
FORWARD(outbox, claim,
	(struct uow * u, size_t limit, int lease_s, struct arena *a,
	 struct outbox_rows *out, struct sc_err *err),
	limit, lease_s, a, out, err)
FORWARD(outbox, mark,
	(struct uow * u, const int64_t *ids, size_t n, bool sent,
	 struct sc_err *err),
	ids, n, sent, err)
FORWARD(outbox, pending,
	(struct uow * u, size_t limit, struct arena *a, struct outbox_rows *out,
	 struct sc_err *err),
	limit, a, out, err)
FORWARD(outbox, stats,
	(struct uow * u, int64_t *n_out, int64_t *oldest_out,
	 struct sc_err *err),
	n_out, oldest_out, err)
FORWARD(queries, allocations,
	(struct uow * u, const char *orderid, struct arena *a,
	 struct allocation_row **out, size_t *n, struct sc_err *err),
	orderid, a, out, n, err)
FORWARD(queries, product_lines,
	(struct uow * u, const struct lines_ask *ask, struct arena *a,
	 struct product_line **out, size_t *n, struct sc_err *err),
	ask, a, out, n, err)
FORWARD(queries, read_product,
	(struct uow * u, const char *sku, struct arena *a, struct product **out,
	 struct sc_err *err),
	sku, a, out, err)
FORWARD(queries, list_products,
	(struct uow * u, const char *after, size_t limit, struct arena *a,
	 struct product_list *out, struct sc_err *err),
	after, limit, a, out, err)
FORWARD(queries, research_round,
	(struct uow * u, int64_t id, struct arena *a,
	 struct research_round **out, struct sc_err *err),
	id, a, out, err)
FORWARD(queries, research_history,
	(struct uow * u, const char *sku, size_t limit, struct arena *a,
	 struct sku_history *out, struct sc_err *err),
	sku, limit, a, out, err)
FORWARD(queries, token_list,
	(struct uow * u, struct arena *a, struct token_record **out, size_t *n,
	 struct sc_err *err),
	a, out, n, err)
FORWARD(records, research_add,
	(struct uow * u, const struct research_round *r, int64_t *id,
	 struct sc_err *err),
	r, id, err)
FORWARD(records, token_add,
	(struct uow * u, const struct token_record *t, struct sc_err *err), t,
	err)
FORWARD(records, token_revoke,
	(struct uow * u, const char *name, int64_t at, struct sc_err *err),
	name, at, err)
FORWARD(analytics, ingredient_put,
	(struct uow * u, const struct ingredient *in, struct sc_err *err), in,
	err)
FORWARD(analytics, ingredients,
	(struct uow * u, struct arena *a, struct ingredient **out, size_t *n,
	 struct sc_err *err),
	a, out, n, err)
FORWARD(analytics, formula_add,
	(struct uow * u, const struct formula *fm, struct sc_err *err), fm, err)
FORWARD(analytics, formula_get,
	(struct uow * u, const char *sku, int32_t v, struct arena *a,
	 struct formula **out, struct sc_err *err),
	sku, v, a, out, err)
FORWARD(analytics, formula_activate,
	(struct uow * u, const struct formula_change *c, struct sc_err *err), c,
	err)
FORWARD(analytics, formula_log,
	(struct uow * u, const char *sku, struct arena *a,
	 struct formula_change **out, size_t *n, struct sc_err *err),
	sku, a, out, n, err)
FORWARD(analytics, survey_add,
	(struct uow * u, const struct survey *s, int64_t *id,
	 struct sc_err *err),
	s, id, err)
FORWARD(analytics, survey_get,
	(struct uow * u, int64_t id, const char *seg, struct arena *a,
	 struct survey **out, struct sc_err *err),
	id, seg, a, out, err)
FORWARD(analytics, responses_add,
	(struct uow * u, int64_t id, const struct survey_response *r, size_t n,
	 struct sc_err *err),
	id, r, n, err)
FORWARD_WRITE(analytics, demand_add, e->sku,
	      (struct uow * u, const struct demand_entry *e,
	       struct sc_err *err),
	      e, err)
FORWARD(analytics, demand,
	(struct uow * u, const struct demand_query *q, struct arena *a,
	 struct demand_row **out, size_t *n, struct sc_err *err),
	q, a, out, n, err)
FORWARD(dispensing, track_add,
	(struct uow * u, const struct track_record *t, int64_t *id,
	 struct sc_err *err),
	t, id, err)
FORWARD(dispensing, track_get,
	(struct uow * u, int64_t id, struct arena *a, struct track_record **out,
	 struct sc_err *err),
	id, a, out, err)
FORWARD(dispensing, track_list,
	(struct uow * u, struct arena *a, struct track_record **out, size_t *n,
	 struct sc_err *err),
	a, out, n, err)
FORWARD(dispensing, venue_add,
	(struct uow * u, const struct venue_record *v, int64_t *id,
	 struct sc_err *err),
	v, id, err)
FORWARD(dispensing, venue_get,
	(struct uow * u, int64_t id, struct arena *a, struct venue_record **out,
	 struct sc_err *err),
	id, a, out, err)
FORWARD(dispensing, venue_list,
	(struct uow * u, struct arena *a, struct venue_record **out, size_t *n,
	 struct sc_err *err),
	a, out, n, err)
FORWARD(dispensing, venue_change,
	(struct uow * u, const struct venue_change *c, struct sc_err *err), c,
	err)
FORWARD(dispensing, show_add,
	(struct uow * u, const struct show_record *s, int64_t *id,
	 struct sc_err *err),
	s, id, err)
FORWARD(dispensing, show_list,
	(struct uow * u, int64_t venue, struct arena *a,
	 struct show_record **out, size_t *n, struct sc_err *err),
	venue, a, out, n, err)
FORWARD(admin, ping, (struct uow * u, struct sc_err *err), err)
FORWARD(admin, probe_write, (struct uow * u, struct sc_err *err), err)
FORWARD(admin, stats,
	(struct uow * u, struct store_stats *out, struct sc_err *err), out, err)
FORWARD(admin, check,
	(struct uow * u, bool repair, struct arena *a, struct check_report *out,
	 struct sc_err *err),
	repair, a, out, err)
FORWARD(admin, backup, (struct uow * u, const char *path, struct sc_err *err),
	path, err)

/* The commit may first let a rival win the race. */
static int f_commit(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);
	int rc = fault(f, err);

	if (rc)
		return rc;
	if (f->races > 0 && f->rival) {
		f->races--;
		f->rival(f->rival_ctx);
	}
	rc = f->inner->tx->commit(sync(f), err);
	if (!rc && f->n_touched > f->max_touched)
		f->max_touched = f->n_touched;
	return rc;
}

static void f_rollback(struct uow *u)
{
	struct faulty_uow *f = to_faulty(u);

	f->inner->tx->rollback(sync(f));
}

/* Batches: forwarded when the inner store has them (see faulty_uow_init). */
static int f_batch_begin(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);

	f->n_touched = 0;
	return f->inner->tx->batch_begin(sync(f), err);
}

static int f_savepoint(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);

	return f->inner->tx->savepoint(sync(f), err);
}

static int f_release(struct uow *u, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);

	return f->inner->tx->release(sync(f), err);
}

static void f_rollback_to(struct uow *u)
{
	struct faulty_uow *f = to_faulty(u);

	f->inner->tx->rollback_to(sync(f));
}

static bool f_batch_alive(struct uow *u)
{
	struct faulty_uow *f = to_faulty(u);

	return f->inner->tx->batch_alive(sync(f));
}

/* A failed durable commit: the batch is rolled back, as a full disk would. */
static int f_batch_commit(struct uow *u, uint64_t *ticket, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);

	if (f->fail_batch_commit) {
		f->fail_batch_commit = false;
		f->inner->tx->batch_rollback(sync(f));
		return err_set(err, SC_EIO, "injected batch commit failure");
	}
	return f->inner->tx->batch_commit(sync(f), ticket, err);
}

/* A sync that fails: the batch committed, but nothing is acknowledged. */
static int f_wait_durable(struct uow *u, uint64_t ticket, struct sc_err *err)
{
	struct faulty_uow *f = to_faulty(u);

	if (f->fail_wait_durable) {
		f->fail_wait_durable = false;
		return err_set(err, SC_EIO, "injected sync failure");
	}
	return f->inner->tx->wait_durable(sync(f), ticket, err);
}

static void f_batch_rollback(struct uow *u)
{
	struct faulty_uow *f = to_faulty(u);

	f->inner->tx->batch_rollback(sync(f));
}

static void f_free(struct uow *u)
{
	(void)u; /* the inner adapter belongs to the test */
}

static const struct uow_tx_ops faulty_tx = {
	.name = "faulty",
	.begin = f_tx_begin,
	.commit = f_commit,
	.rollback = f_rollback,
	.free = f_free,
};

static const struct uow_tx_ops faulty_tx_batches = {
	.name = "faulty",
	.begin = f_tx_begin,
	.commit = f_commit,
	.rollback = f_rollback,
	.free = f_free,
	.batch_begin = f_batch_begin,
	.savepoint = f_savepoint,
	.release = f_release,
	.rollback_to = f_rollback_to,
	.batch_alive = f_batch_alive,
	.batch_commit = f_batch_commit,
	.wait_durable = f_wait_durable,
	.batch_rollback = f_batch_rollback,
};

static const struct product_repo_ops faulty_products = {
	.get = f_products_get,
	.sku_of_batch = f_products_sku_of_batch,
	.add_product = f_products_add_product,
	.bump_version = f_products_bump_version,
	.add_batch = f_products_add_batch,
	.set_batch_totals = f_products_set_batch_totals,
	.add_line = f_products_add_line,
	.remove_line = f_products_remove_line,
	.add_backorder = f_products_add_backorder,
	.set_low_stock = f_products_set_low_stock,
	.remove_backorder = f_products_remove_backorder,
};

static const struct delivery_ops faulty_deliveries = {
	.contact = f_deliveries_contact,
	.add = f_deliveries_add,
	.claim = f_deliveries_claim,
	.finish = f_deliveries_finish,
	.list = f_deliveries_list,
	.replay = f_deliveries_replay,
};

static const struct outbox_ops faulty_outbox = {
	.add = f_outbox_add,
	.claim = f_outbox_claim,
	.mark = f_outbox_mark,
	.pending = f_outbox_pending,
	.stats = f_outbox_stats,
};

static const struct query_ops faulty_queries = {
	.allocations = f_queries_allocations,
	.product_lines = f_queries_product_lines,
	.read_product = f_queries_read_product,
	.list_products = f_queries_list_products,
	.research_round = f_queries_research_round,
	.research_history = f_queries_research_history,
	.token_list = f_queries_token_list,
	.customer_get = f_queries_customer_get,
	.aged_backorders = f_queries_aged_backorders,
};

static const struct record_ops faulty_records = {
	.research_add = f_records_research_add,
	.token_add = f_records_token_add,
	.token_revoke = f_records_token_revoke,
	.customer_add = f_records_customer_add,
	.order_customer_set = f_records_order_customer_set,
	.backorder_alerted = f_records_backorder_alerted,
};

static const struct analytics_ops faulty_analytics = {
	.ingredient_put = f_analytics_ingredient_put,
	.ingredients = f_analytics_ingredients,
	.formula_add = f_analytics_formula_add,
	.formula_get = f_analytics_formula_get,
	.formula_activate = f_analytics_formula_activate,
	.formula_log = f_analytics_formula_log,
	.survey_add = f_analytics_survey_add,
	.survey_get = f_analytics_survey_get,
	.responses_add = f_analytics_responses_add,
	.demand_add = f_analytics_demand_add,
	.demand = f_analytics_demand,
};

static const struct dispensing_ops faulty_dispensing = {
	.track_add = f_dispensing_track_add,
	.track_get = f_dispensing_track_get,
	.track_list = f_dispensing_track_list,
	.venue_add = f_dispensing_venue_add,
	.venue_get = f_dispensing_venue_get,
	.venue_list = f_dispensing_venue_list,
	.venue_change = f_dispensing_venue_change,
	.show_add = f_dispensing_show_add,
	.show_list = f_dispensing_show_list,
};

static const struct admin_ops faulty_admin = {
	.ping = f_admin_ping,
	.probe_write = f_admin_probe_write,
	.stats = f_admin_stats,
	.check = f_admin_check,
	.backup = f_admin_backup,
};

void faulty_uow_init(struct faulty_uow *f, struct uow *inner)
{
	memset(f, 0, sizeof(*f));
	f->base.tx = uow_can_batch(inner) ? &faulty_tx_batches : &faulty_tx;
	f->base.products = &faulty_products;
	f->base.outbox = &faulty_outbox;
	f->base.queries = &faulty_queries;
	f->base.records = &faulty_records;
	f->base.admin = &faulty_admin;
	f->base.deliveries = &faulty_deliveries;
	f->base.analytics = &faulty_analytics;
	f->base.dispensing = &faulty_dispensing;
	f->inner = inner;
	f->fail_call = -1;
}

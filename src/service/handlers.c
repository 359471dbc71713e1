/*
 * service/handlers.c - command and event handlers.
 *
 * Each command handler opens one unit of work, loads through the
 * repository, calls the domain and commits through commit(), which first
 * runs the in-transaction handlers on the events the domain recorded.  One
 * exit label; uow_rollback() is a no-op after a commit.
 */
#include "service/handlers.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "domain/sourcing.h"
#include "domain/venue.h"
#include "service/uow.h"

/*
 * Run the in-transaction handlers over every event recorded so far, then
 * commit.  Events are copied before each call because a handler may grow
 * (and so move) the product's event array.
 */
/* The in-transaction handlers of @p's events from index @from on. */
static int run_in_tx(struct deps *d, struct product *p, size_t from,
		     struct sc_err *err)
{
	for (size_t k = from; k < p->n_events; k++) {
		struct msg ev = p->events[k];
		handler_fn *fn = in_tx_handler_table[ev.type];
		int rc = fn ? fn(&ev, d, NULL, err) : SC_OK;

		if (rc)
			return rc;
	}
	return SC_OK;
}

static int commit(struct deps *d, struct sc_err *err)
{
	struct uow *u = d->uow;
	int rc = SC_OK;

	for (size_t i = 0; !rc && i < u->n_seen; i++)
		rc = run_in_tx(d, u->seen[i], 0, err);
	/*
	 * Low stock is judged on where the whole transaction left each
	 * product, reallocations included, so it runs after them.
	 */
	for (size_t i = 0; !rc && i < u->n_seen; i++) {
		struct product *p = u->seen[i];
		size_t before = p->n_events;

		rc = product_check_low_stock(p, err);
		if (!rc)
			rc = run_in_tx(d, p, before, err);
	}
	return rc ? rc : uow_commit(u, err);
}

/* What a command does inside its unit of work (see in_one_tx). */
typedef int tx_body(struct deps *d, const struct msg *m, struct sc_err *err);

/*
 * The shape of most commands after their checks: begin, @body, commit
 * (running the in-transaction handlers), and a rollback that is a no-op
 * after the commit and undoes everything after a failure.
 */
static int in_one_tx(struct deps *d, tx_body *body, const struct msg *m,
		     struct sc_err *err)
{
	int rc = uow_begin(d->uow, d->arena, err);

	if (rc)
		return rc;
	rc = body(d, m, err);
	if (!rc)
		rc = commit(d, err);
	uow_rollback(d->uow);
	return rc;
}

/*
 * The value rules of every command, here once for every transport (HTTP,
 * CLI, Redis); transports check only the shape of their encoding.
 */
static int check_ident(const char *what, const char *v, struct sc_err *err)
{
	if (v && ident_valid(v, strlen(v)))
		return SC_OK;
	return err_set(err, SC_EINVAL,
		       "%s must be 1 to %d bytes of printable utf-8", what,
		       SC_ID_MAX);
}

static int check_qty(const char *what, int64_t v, int64_t min,
		     struct sc_err *err)
{
	if (v >= min && v <= SC_QTY_MAX)
		return SC_OK;
	return err_set(err, SC_EINVAL, "%s must be from %lld to %lld", what,
		       (long long)min, (long long)SC_QTY_MAX);
}

/* An existing batch @ref of @sku: the same values are a no-op. */
static int check_resend(struct deps *d, const struct cmd_create_batch *c,
			const char *sku, struct sc_err *err)
{
	struct load_hint hint = {0};
	struct product *p;
	struct batch *b;
	int rc;

	if (strcmp(sku, c->sku) != 0)
		return err_set(err, SC_EEXIST, "batch '%s' exists for sku '%s'",
			       c->ref, sku);
	rc = repo_get(d->uow, sku, &hint, &p, err);
	if (rc)
		return rc;
	b = product_find_batch(p, c->ref);
	assert(b);
	if (b->purchased != c->qty || b->has_eta != c->has_eta ||
	    (c->has_eta && b->eta != c->eta) ||
	    (c->supplier != SUPPLIER_NONE && c->supplier != b->supplier))
		return err_set(err, SC_EEXIST,
			       "batch '%s' exists with other values", c->ref);
	return SC_OK;
}

/* The supplier given, or else that of the latest decision for the sku. */
static int supplier_for(struct deps *d, const struct cmd_create_batch *c,
			enum supplier *out, struct sc_err *err)
{
	struct sku_history latest;
	int rc;

	*out = c->supplier;
	if (c->supplier != SUPPLIER_NONE)
		return SC_OK;
	rc = uow_research_history(d->uow, c->sku, 1, d->arena, &latest, err);
	if (!rc && latest.n)
		*out = latest.items[0].decision.supplier;
	return rc;
}

static int handle_add_batch(const struct msg *m, struct deps *d,
			    struct bus_result *res, struct sc_err *err)
{
	const struct cmd_create_batch *c = &m->u.create_batch;
	enum supplier supplier = SUPPLIER_NONE;
	struct product *p;
	const char *sku;
	int rc;

	(void)res;
	if (check_ident("ref", c->ref, err) ||
	    check_ident("sku", c->sku, err) || check_qty("qty", c->qty, 0, err))
		return SC_EINVAL;
	rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	rc = repo_sku_of_batch(d->uow, c->ref, &sku, err);
	if (rc != SC_ENOTFOUND) {
		if (!rc)
			rc = check_resend(d, c, sku, err);
		goto out_rollback;
	}
	err_clear(err);
	/* new stock: the sku's backorders may be filled from it */
	rc = repo_get(d->uow, c->sku, &(struct load_hint){.backorders = true},
		      &p, err);
	if (rc == SC_ENOTFOUND) {
		err_clear(err);
		rc = product_new(d->arena, c->sku, 0, true, &p, err);
		if (!rc)
			rc = repo_add(d->uow, p, err);
	}
	if (!rc)
		rc = supplier_for(d, c, &supplier, err);
	if (!rc)
		rc = product_add_batch(
			p,
			&(struct batch_spec){.ref = c->ref,
					     .qty = c->qty,
					     .has_eta = c->has_eta,
					     .eta = c->eta,
					     .supplier = supplier},
			err);
	if (!rc)
		rc = product_fill_backorders(p, NULL, err);
	if (!rc)
		rc = commit(d, err);
out_rollback:
	uow_rollback(d->uow);
	return rc;
}

/*
 * Allocate @l to product @l->sku in the open unit of work; with
 * @backorder, a line without stock waits for it.
 */
static int allocate_line(struct deps *d, const struct order_line *l,
			 bool backorder, const char **out, enum allocation *how,
			 struct sc_err *err)
{
	struct load_hint hint = {.orderid = l->orderid};
	struct product *p;
	int rc = repo_get(d->uow, l->sku, &hint, &p, err);

	if (!rc)
		rc = product_allocate_line(p, l, backorder, out, how, err);
	return rc;
}

/*
 * Count a new order line in the demand rollup: a retry of a line already
 * placed records no event and is not counted twice; a refused line is
 * counted each time it is asked for (nothing of it is kept to match).
 */
static int count_demand(struct deps *d, const struct cmd_allocate *c,
			const char *segment, size_t events_before,
			enum allocation how, struct sc_err *err)
{
	static const enum demand_outcome outcome_of[] = {
		[ALLOCATION_ALLOCATED] = DEMAND_ALLOCATED,
		[ALLOCATION_BACKORDERED] = DEMAND_BACKORDERED,
		[ALLOCATION_OUT_OF_STOCK] = DEMAND_REFUSED,
	};
	struct product *p;
	int rc = repo_get(d->uow, c->sku, NULL, &p, err);

	if (rc || p->n_events == events_before)
		return rc;
	/* written by uow_commit, after the product: see its comment */
	return uow_demand_on_commit(
		d->uow,
		&(struct demand_entry){c->sku, c->day, segment, outcome_of[how],
				       c->qty, 1},
		err);
}

/*
 * Order @orderid is @customer's from now on: an unknown customer is bad
 * input; an order already another customer's is a conflict.
 */
static int own_order(struct deps *d, const char *orderid, const char *customer,
		     const char **segment, struct sc_err *err)
{
	struct customer_record *who;
	int rc = uow_customer_get(d->uow, customer, d->arena, &who, err);

	if (rc == SC_ENOTFOUND) {
		err_clear(err);
		return err_set(err, SC_EINVAL, "unknown customer '%s'",
			       customer);
	}
	if (!rc) {
		*segment = who->segment;
		rc = uow_order_customer_set(d->uow, orderid, customer, err);
	}
	return rc;
}

static int handle_allocate(const struct msg *m, struct deps *d,
			   struct bus_result *res, struct sc_err *err)
{
	const struct cmd_allocate *c = &m->u.allocate;
	struct order_line line = {c->orderid, c->sku, c->qty};
	enum allocation how = ALLOCATION_OUT_OF_STOCK;
	const char *ref = NULL, *segment = NULL;
	struct product *p;
	size_t before = 0;
	int rc;

	if (check_ident("orderid", c->orderid, err) ||
	    check_ident("sku", c->sku, err) ||
	    check_qty("qty", c->qty, 1, err) ||
	    (c->customer && check_ident("customer", c->customer, err)))
		return SC_EINVAL;
	rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	if (c->customer)
		rc = own_order(d, c->orderid, c->customer, &segment, err);
	if (!rc) { /* loaded here first so count_demand sees what it adds */
		rc = repo_get(d->uow, c->sku,
			      &(struct load_hint){.orderid = c->orderid}, &p,
			      err);
		before = rc ? 0 : p->n_events;
	}
	if (!rc)
		rc = allocate_line(d, &line, c->backorder, &ref, &how, err);
	if (!rc)
		rc = count_demand(d, c, segment, before, how, err);
	if (!rc)
		rc = commit(d, err);
	if (!rc && res) {
		res->allocated = how == ALLOCATION_ALLOCATED;
		res->backordered = how == ALLOCATION_BACKORDERED;
		(void)snprintf(res->batchref, sizeof(res->batchref), "%s",
			       ref ? ref : "");
	}
	uow_rollback(d->uow);
	return rc;
}

static int change_quantity(struct deps *d, const struct msg *m,
			   struct sc_err *err)
{
	const struct cmd_change_batch_quantity *c = &m->u.change_batch_quantity;
	struct product *p;
	int rc = repo_get_by_batchref(d->uow, c->ref, &p, err);

	if (!rc)
		rc = product_change_batch_quantity(p, c->ref, c->qty, err);
	if (!rc) /* a larger batch may fill backorders */
		rc = product_fill_backorders(p, NULL, err);
	return rc;
}

static int handle_change_batch_quantity(const struct msg *m, struct deps *d,
					struct bus_result *res,
					struct sc_err *err)
{
	const struct cmd_change_batch_quantity *c = &m->u.change_batch_quantity;

	(void)res;
	if (check_ident("ref", c->ref, err) || check_qty("qty", c->qty, 0, err))
		return SC_EINVAL;
	return in_one_tx(d, change_quantity, m, err);
}

static int change_eta(struct deps *d, const struct msg *m, struct sc_err *err)
{
	const struct cmd_change_batch_eta *c = &m->u.change_batch_eta;
	struct product *p;
	/* the batch's lines: each one's customer is told */
	int rc = repo_get_by_batchref(d->uow, c->ref, &p, err);

	return rc ? rc
		  : product_change_batch_eta(p, c->ref, c->has_eta, c->eta,
					     err);
}

static int handle_change_batch_eta(const struct msg *m, struct deps *d,
				   struct bus_result *res, struct sc_err *err)
{
	(void)res;
	if (check_ident("ref", m->u.change_batch_eta.ref, err))
		return SC_EINVAL;
	return in_one_tx(d, change_eta, m, err);
}

static int handle_import_research(const struct msg *m, struct deps *d,
				  struct bus_result *res, struct sc_err *err)
{
	const struct cmd_import_research *c = &m->u.import_research;
	struct research_round round = {0};
	int rc;

	if (c->threshold_bp < 0 || c->threshold_bp > 10000)
		return err_set(err, SC_EINVAL,
			       "threshold must be 0 to 100 percent");
	rc = sourcing_check_rows(c->rows, c->n_rows, d->arena, err);
	if (rc)
		return rc;
	round.day = c->day;
	round.threshold_bp = c->threshold_bp;
	round.rows = c->rows;
	round.n = c->n_rows;
	rc = sourcing_decide_all(c->rows, c->n_rows, c->threshold_bp, d->arena,
				 &round.decisions, err);
	if (rc)
		return rc;
	rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	rc = uow_research_add(d->uow, &round, &round.id, err);
	if (!rc)
		rc = commit(d, err);
	if (!rc && res)
		res->round_id = round.id;
	uow_rollback(d->uow);
	return rc;
}

/* Cancel @orderid's line of @sku in the open unit of work; keep it in @kept. */
static int deallocate_line(struct deps *d, const char *orderid, const char *sku,
			   struct freed_line *kept, struct sc_err *err)
{
	struct load_hint hint = {.orderid = orderid, .backorders = true};
	struct order_line freed;
	struct product *p;
	int rc = repo_get(d->uow, sku, &hint, &p, err);

	if (rc == SC_ENOTFOUND) { /* an unknown sku holds nobody's line */
		err_clear(err);
		return err_set(err, SC_ENOTFOUND, "order '%s' holds no '%s'",
			       orderid, sku);
	}
	if (!rc)
		rc = product_deallocate(p, orderid, &freed, &kept->batchref,
					err);
	/* the freed units go to whoever waits for them, oldest first */
	if (!rc)
		rc = product_fill_backorders(p, NULL, err);
	if (!rc) {
		kept->sku = p->sku;
		kept->qty = freed.qty;
	}
	return rc;
}

/* Copy @n freed lines from the bus arena into the caller's result. */
static int return_freed(struct bus_result *res, const struct freed_line *f,
			size_t n, struct sc_err *err)
{
	if (!res || !res->arena)
		return SC_OK;
	res->freed = arena_calloc(res->arena, n, sizeof(*res->freed));
	if (!res->freed)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		res->freed[i].qty = f[i].qty;
		res->freed[i].sku = arena_strdup(res->arena, f[i].sku);
		/* a cancelled backorder left no batch */
		res->freed[i].batchref =
			f[i].batchref ? arena_strdup(res->arena, f[i].batchref)
				      : NULL;
		if (!res->freed[i].sku ||
		    (f[i].batchref && !res->freed[i].batchref))
			return err_set(err, SC_ENOMEM, "out of memory");
	}
	res->n_freed = n;
	return SC_OK;
}

/*
 * Deallocate: one line, or every line of the order found by the read
 * model inside this transaction (so a line allocated by an earlier
 * command of the same batch is found too).  All or nothing: one commit.
 */
static int handle_deallocate(const struct msg *m, struct deps *d,
			     struct bus_result *res, struct sc_err *err)
{
	const struct cmd_deallocate *c = &m->u.deallocate;
	struct allocation_row *rows = NULL;
	struct freed_line *freed = NULL;
	size_t n = 1;
	int rc;

	if (check_ident("orderid", c->orderid, err) ||
	    (c->sku && check_ident("sku", c->sku, err)))
		return SC_EINVAL;
	rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	if (!c->sku) {
		rc = uow_allocations(d->uow, c->orderid, d->arena, &rows, &n,
				     err);
		if (!rc && !n)
			rc = err_set(err, SC_ENOTFOUND,
				     "order '%s' holds no lines", c->orderid);
	}
	if (!rc) {
		freed = arena_calloc(d->arena, n, sizeof(*freed));
		if (!freed) {
			(void)err_set(err, SC_ENOMEM, "out of memory");
			rc = SC_ENOMEM;
		}
	}
	for (size_t i = 0; !rc && freed && i < n; i++)
		rc = deallocate_line(d, c->orderid, rows ? rows[i].sku : c->sku,
				     &freed[i], err);
	if (!rc)
		rc = commit(d, err);
	if (!rc && freed)
		rc = return_freed(res, freed, n, err);
	uow_rollback(d->uow);
	return rc;
}

static int add_customer(struct deps *d, const struct msg *m, struct sc_err *err)
{
	const struct cmd_create_customer *c = &m->u.create_customer;
	struct customer_record rec = {0};

	rec.id = c->id;
	rec.name = c->name;
	rec.email = c->email;
	rec.webhook_url = c->webhook_url;
	if (c->secret)
		memcpy(rec.secret, c->secret, sizeof(rec.secret));
	rec.created_at = c->now;
	rec.segment = c->segment;
	return uow_customer_add(d->uow, &rec, err);
}

/* Names of people and firms: the id rule (1..255 printable UTF-8). */
static int handle_create_customer(const struct msg *m, struct deps *d,
				  struct bus_result *res, struct sc_err *err)
{
	const struct cmd_create_customer *c = &m->u.create_customer;

	(void)res;
	if (check_ident("id", c->id, err) || check_ident("name", c->name, err))
		return SC_EINVAL;
	if (c->email && !customer_email_valid(c->email))
		return err_set(err, SC_EINVAL,
			       "email must be an address such as "
			       "name@example.com, at most %d bytes",
			       CUSTOMER_EMAIL_MAX);
	if (c->webhook_url && !customer_url_valid(c->webhook_url))
		return err_set(err, SC_EINVAL,
			       "webhook_url must be an http:// or https:// URL "
			       "with a host, at most %d bytes",
			       CUSTOMER_URL_MAX);
	if (!c->email && !c->webhook_url)
		return err_set(err, SC_EINVAL,
			       "a customer needs an email or a webhook_url "
			       "to be told anything");
	if (c->webhook_url && !c->secret)
		return err_set(err, SC_EINVAL, "a webhook needs its secret");
	if (c->segment && !segment_valid(c->segment))
		return err_set(err, SC_EINVAL,
			       "segment must be 1 to %d of a-z 0-9 - _",
			       SEGMENT_MAX);
	return in_one_tx(d, add_customer, m, err);
}

static int replay(struct deps *d, const struct msg *m, struct sc_err *err)
{
	return uow_delivery_replay(d->uow, m->u.replay_delivery.id,
				   m->u.replay_delivery.now, err);
}

static int handle_replay_delivery(const struct msg *m, struct deps *d,
				  struct bus_result *res, struct sc_err *err)
{
	(void)res;
	if (m->u.replay_delivery.id < 1)
		return err_set(err, SC_EINVAL,
			       "a delivery id is a positive integer");
	return in_one_tx(d, replay, m, err);
}

static int set_low_stock(struct deps *d, const struct msg *m,
			 struct sc_err *err)
{
	const struct cmd_set_low_stock *c = &m->u.set_low_stock;
	struct product *p;
	int rc = repo_get(d->uow, c->sku, NULL, &p, err);

	return rc ? rc : product_set_low_stock(p, c->threshold, err);
}

static int handle_set_low_stock(const struct msg *m, struct deps *d,
				struct bus_result *res, struct sc_err *err)
{
	const struct cmd_set_low_stock *c = &m->u.set_low_stock;

	(void)res;
	if (check_ident("sku", c->sku, err) ||
	    check_qty("threshold", c->threshold, 0, err))
		return SC_EINVAL;
	return in_one_tx(d, set_low_stock, m, err);
}

/* Backorders told per command: a timer sends it again for the rest. */
#define AGED_BACKORDERS_PER_ALERT 100

/*
 * AlertAgedBackorders: each backorder waiting longer than the age gets
 * one BackorderWaiting for the stock team, and is marked so that it never
 * gets a second, in one transaction.
 */
static int handle_alert_aged_backorders(const struct msg *m, struct deps *d,
					struct bus_result *res,
					struct sc_err *err)
{
	const struct cmd_alert_aged_backorders *c = &m->u.alert_aged_backorders;
	struct aged_list aged = {0};
	int rc;

	(void)res;
	if (c->age_s < 1 || c->now < c->age_s)
		return err_set(err, SC_EINVAL,
			       "an age of at least one second, before now");
	rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	rc = uow_aged_backorders(d->uow, c->now - c->age_s,
				 AGED_BACKORDERS_PER_ALERT, d->arena, &aged,
				 err);
	for (size_t i = 0; !rc && i < aged.n; i++) {
		struct msg ev = {.type = MSG_BACKORDER_WAITING};

		ev.u.backorder_waiting = (struct ev_backorder_waiting){
			aged.items[i].orderid, aged.items[i].sku,
			aged.items[i].qty};
		rc = uow_outbox_add(d->uow, &ev, err);
		if (!rc)
			rc = uow_backorder_alerted(
				d->uow, aged.items[i].orderid,
				aged.items[i].sku, c->now, err);
	}
	if (!rc)
		rc = commit(d, err);
	if (!rc && aged.n &&
	    d->signal) /* not a product's event: wake it here */
		d->signal->notify(d->signal);
	uow_rollback(d->uow);
	return rc;
}

/* Token names are checked here only, for every transport. */
static int check_token_name(const char *name, struct sc_err *err)
{
	if (name && token_name_valid(name))
		return SC_OK;
	return err_set(err, SC_EINVAL,
		       "token name must be 1 to %d characters of A-Z a-z 0-9 "
		       ". _ -",
		       TOKEN_NAME_MAX);
}

static int add_token(struct deps *d, const struct msg *m, struct sc_err *err)
{
	const struct cmd_create_token *c = &m->u.create_token;
	struct token_record t = {0};

	t.name = c->name;
	t.scopes = c->scopes;
	memcpy(t.hash, c->hash, sizeof(t.hash));
	t.created_at = c->now;
	return uow_token_add(d->uow, &t, err);
}

static int handle_create_token(const struct msg *m, struct deps *d,
			       struct bus_result *res, struct sc_err *err)
{
	const struct cmd_create_token *c = &m->u.create_token;

	(void)res;
	if (check_token_name(c->name, err))
		return SC_EINVAL;
	if (!c->hash)
		return err_set(err, SC_EINVAL, "a token needs its hash");
	if (!c->scopes || (c->scopes & ~TOKEN_SCOPE_ALL))
		return err_set(err, SC_EINVAL,
			       "a token needs at least one scope of read, "
			       "allocate, stock, admin");
	return in_one_tx(d, add_token, m, err);
}

static int revoke_token(struct deps *d, const struct msg *m, struct sc_err *err)
{
	return uow_token_revoke(d->uow, m->u.revoke_token.name,
				m->u.revoke_token.now, err);
}

static int handle_revoke_token(const struct msg *m, struct deps *d,
			       struct bus_result *res, struct sc_err *err)
{
	(void)res;
	if (check_token_name(m->u.revoke_token.name, err))
		return SC_EINVAL;
	return in_one_tx(d, revoke_token, m, err);
}

/* In the transaction: queue the event for the relay. */
static int enqueue(const struct msg *m, struct deps *d, struct bus_result *res,
		   struct sc_err *err)
{
	(void)res;
	return uow_outbox_add(d->uow, m, err);
}

/*
 * In the transaction: a notice to each channel of the order's customer,
 * if it has one (the customer-facing outbox, drained by the deliverer).
 */
static int tell_customer(const struct msg *m, struct deps *d,
			 struct sc_err *err)
{
	struct customer_record *c;
	struct delivery dl = {0};
	int kind = notice_of_event(m->type);
	int rc;

	event_flatten(m, &dl.ev);
	if (kind < 0 || !dl.ev.orderid)
		return SC_OK;
	rc = uow_order_contact(d->uow, dl.ev.orderid, d->arena, &c, err);
	if (rc || !c)
		return rc;
	dl.customer = c->id;
	dl.kind = (enum notice_kind)kind;
	if (dl.ev.batchref) { /* where the line is: its ETA, as it is now */
		struct product *p;
		const struct batch *b;

		rc = repo_get(d->uow, dl.ev.sku, NULL, &p, err);
		if (rc)
			return rc;
		b = product_find_batch(p, dl.ev.batchref);
		dl.has_eta = b && b->has_eta;
		dl.eta = dl.has_eta ? b->eta : 0;
	}
	if (c->webhook_url) {
		dl.channel = "webhook";
		dl.target = c->webhook_url;
		rc = uow_delivery_add(d->uow, &dl, err);
	}
	if (!rc && c->email) {
		dl.channel = "email";
		dl.target = c->email;
		rc = uow_delivery_add(d->uow, &dl, err);
	}
	return rc;
}

/* Allocated, Backordered: to the relay, and to the customer. */
static int enqueue_and_tell(const struct msg *m, struct deps *d,
			    struct bus_result *res, struct sc_err *err)
{
	int rc = enqueue(m, d, res, err);

	return rc ? rc : tell_customer(m, d, err);
}

/*
 * Deallocated, in the same transaction: queue it for line_deallocated,
 * then put a line its shrinking batch dropped somewhere else (its
 * Allocated, or OutOfStock, follows its Deallocated on the wire).  A
 * cancelled line stays freed.
 */
static int on_deallocated(const struct msg *m, struct deps *d,
			  struct bus_result *res, struct sc_err *err)
{
	const struct ev_deallocated *e = &m->u.deallocated;
	struct order_line line = {e->orderid, e->sku, e->qty};
	enum allocation how;
	const char *ref;
	int rc = enqueue_and_tell(m, d, res, err);

	/* never silently lost: without stock elsewhere it is backordered */
	if (!rc && !e->cancelled)
		rc = allocate_line(d, &line, true, &ref, &how, err);
	return rc;
}

/*
 * After the commit of Allocated or OutOfStock: wake the relay, which runs
 * publish_allocated_event and send_out_of_stock_notification
 * (service/relay.c) off the request path.
 */
static int wake_relay(const struct msg *m, struct deps *d,
		      struct bus_result *res, struct sc_err *err)
{
	(void)m;
	(void)res;
	(void)err;
	if (d->signal)
		d->signal->notify(d->signal);
	return SC_OK;
}

/* ---- formulas, surveys and demand (issue 15) ------------------------- */

/* Who and why, as every log of a change needs them. */
static int check_actor(const char *actor, const char *reason,
		       struct sc_err *err)
{
	if (check_ident("actor", actor, err))
		return SC_EINVAL;
	if (reason && strlen(reason) > FORMULA_NOTE_MAX)
		return err_set(err, SC_EINVAL,
			       "reason must be at most %d bytes",
			       FORMULA_NOTE_MAX);
	return SC_OK;
}

static int put_ingredients(struct deps *d, const struct msg *m,
			   struct sc_err *err)
{
	const struct cmd_put_ingredients *c = &m->u.put_ingredients;
	int rc = SC_OK;

	for (size_t i = 0; !rc && i < c->n; i++)
		rc = uow_ingredient_put(d->uow, &c->items[i], err);
	return rc;
}

static int handle_put_ingredients(const struct msg *m, struct deps *d,
				  struct bus_result *res, struct sc_err *err)
{
	const struct cmd_put_ingredients *c = &m->u.put_ingredients;

	(void)res;
	if (c->n < 1 || c->n > INGREDIENTS_MAX)
		return err_set(err, SC_EINVAL,
			       "an import needs 1 to %d ingredients",
			       INGREDIENTS_MAX);
	for (size_t i = 0; i < c->n; i++) {
		if (ingredient_check(&c->items[i], err))
			return SC_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->items[i].name, c->items[j].name))
				return err_set(err, SC_EINVAL,
					       "ingredient '%s' is listed "
					       "twice",
					       c->items[i].name);
	}
	return in_one_tx(d, put_ingredients, m, err);
}

/* The active version of @sku's formula, 0 when none; reads only. */
static int active_version(struct deps *d, const char *sku, int32_t *out,
			  struct sc_err *err)
{
	struct formula *f;
	int rc = uow_formula_get(d->uow, sku, 0, d->arena, &f, err);

	*out = rc ? 0 : f->version;
	if (rc == SC_ENOTFOUND) {
		err_clear(err);
		rc = SC_OK;
	}
	return rc;
}

/* Version @c->to_version becomes active, logged as @c says. */
static int activate(struct deps *d, struct formula_change *c,
		    struct sc_err *err)
{
	struct formula *f;
	int rc = uow_formula_get(d->uow, c->sku, c->to_version, d->arena, &f,
				 err);

	if (rc == SC_ENOTFOUND) {
		err_clear(err);
		return err_set(err, SC_ENOTFOUND,
			       "'%s' has no formula version %d", c->sku,
			       (int)c->to_version);
	}
	if (!rc)
		rc = active_version(d, c->sku, &c->from_version, err);
	/* already active: nothing to log (a retry, or a second click) */
	if (!rc && c->from_version != c->to_version)
		rc = uow_formula_activate(d->uow, c, err);
	return rc;
}

static int handle_add_formula(const struct msg *m, struct deps *d,
			      struct bus_result *res, struct sc_err *err)
{
	const struct cmd_add_formula *c = &m->u.add_formula;
	struct formula f, *newest;
	struct ingredient *cat = NULL;
	int32_t active = 0;
	size_t n_cat = 0;
	int rc;

	if (!c->f)
		return err_set(err, SC_EINVAL, "a formula is needed");
	if (check_actor(c->actor, NULL, err))
		return SC_EINVAL;
	f = *c->f;
	rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	rc = uow_ingredients(d->uow, d->arena, &cat, &n_cat, err);
	if (!rc)
		rc = formula_check(&f, cat, n_cat, err);
	if (!rc) {
		rc = uow_formula_get(d->uow, f.sku, -1, d->arena, &newest, err);
		f.version = rc ? 1 : newest->version + 1;
		if (rc == SC_ENOTFOUND) {
			err_clear(err);
			rc = SC_OK;
		}
	}
	if (!rc)
		rc = active_version(d, f.sku, &active, err);
	f.created_at = c->now;
	if (!rc)
		rc = uow_formula_add(d->uow, &f, err);
	if (!rc && !active) /* a scent's first formula is the one in use */
		rc = uow_formula_activate(
			d->uow,
			&(struct formula_change){f.sku, 0, f.version, c->actor,
						 "first formula", 0, c->now},
			err);
	if (!rc)
		rc = commit(d, err);
	if (!rc && res) {
		res->version = f.version;
		res->activated = !active;
	}
	uow_rollback(d->uow);
	return rc;
}

static int activate_formula(struct deps *d, const struct msg *m,
			    struct sc_err *err)
{
	const struct cmd_activate_formula *c = &m->u.activate_formula;
	struct formula_change ch = {c->sku,    0, c->version, c->actor,
				    c->reason, 0, c->now};
	struct formula_change *log;
	size_t n;
	int rc;

	if (!c->version) { /* revert: to what the last change replaced */
		rc = uow_formula_log(d->uow, c->sku, d->arena, &log, &n, err);
		if (rc)
			return rc;
		if (!n || !log[0].from_version)
			return err_set(err, SC_EINVAL,
				       "'%s' has no earlier active formula to "
				       "revert to",
				       c->sku);
		ch.to_version = log[0].from_version;
		if (!ch.reason)
			ch.reason = "revert";
	}
	rc = activate(d, &ch, err);
	if (!rc)
		d->result_version = ch.to_version;
	return rc;
}

static int handle_activate_formula(const struct msg *m, struct deps *d,
				   struct bus_result *res, struct sc_err *err)
{
	const struct cmd_activate_formula *c = &m->u.activate_formula;
	int rc;

	if (check_ident("sku", c->sku, err) ||
	    check_actor(c->actor, c->reason, err))
		return SC_EINVAL;
	if (c->version < 0)
		return err_set(err, SC_EINVAL,
			       "version must be 1 or more (0: revert)");
	rc = in_one_tx(d, activate_formula, m, err);
	if (!rc && res)
		res->version = d->result_version;
	return rc;
}

static int check_survey(const struct cmd_create_survey *c, struct sc_err *err)
{
	if (check_ident("sku", c->sku, err))
		return SC_EINVAL;
	if (!c->name || !*c->name || strlen(c->name) > SURVEY_NAME_MAX)
		return err_set(err, SC_EINVAL,
			       "a survey needs a name of 1 to %d bytes",
			       SURVEY_NAME_MAX);
	if (c->n < 2 || c->n > SURVEY_VARIANTS_MAX)
		return err_set(err, SC_EINVAL,
			       "a survey compares 2 to %d variants (it has "
			       "%zu)",
			       SURVEY_VARIANTS_MAX, c->n);
	for (size_t i = 0; i < c->n; i++) {
		if (check_ident("variant label", c->labels[i], err))
			return SC_EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->labels[i], c->labels[j]))
				return err_set(err, SC_EINVAL,
					       "variant '%s' is listed twice",
					       c->labels[i]);
	}
	return SC_OK;
}

static int handle_create_survey(const struct msg *m, struct deps *d,
				struct bus_result *res, struct sc_err *err)
{
	const struct cmd_create_survey *c = &m->u.create_survey;
	struct survey s = {0};
	struct variant_tally *v;
	struct formula *f;
	int rc = check_survey(c, err);

	if (rc)
		return rc;
	v = arena_calloc(d->arena, c->n, sizeof(*v));
	if (!v)
		return err_set(err, SC_ENOMEM, "out of memory");
	rc = uow_begin(d->uow, d->arena, err);
	for (size_t i = 0; !rc && i < c->n; i++) {
		v[i].label = c->labels[i];
		v[i].formula_version = c->versions[i];
		rc = uow_formula_get(d->uow, c->sku, c->versions[i], d->arena,
				     &f, err);
		if (rc == SC_ENOTFOUND || (!rc && c->versions[i] < 1)) {
			err_clear(err);
			rc = err_set(err, SC_EINVAL,
				     "variant '%s': '%s' has no formula "
				     "version %d",
				     c->labels[i], c->sku, (int)c->versions[i]);
		}
	}
	s = (struct survey){0, c->sku, c->name, c->now, v, c->n};
	if (!rc)
		rc = uow_survey_add(d->uow, &s, &s.id, err);
	if (!rc)
		rc = commit(d, err);
	if (!rc && res)
		res->survey_id = s.id;
	uow_rollback(d->uow);
	return rc;
}

/* Response @i of @c, checked, its variant's index found in @s. */
static int check_response(const struct cmd_add_responses *c, size_t i,
			  const struct survey *s, struct survey_response *r,
			  struct sc_err *err)
{
	char where[48];

	if (c->first_line)
		(void)snprintf(where, sizeof(where), "line %zu",
			       c->first_line + i);
	else
		(void)snprintf(where, sizeof(where), "response %zu", i + 1);
	*r = c->r[i];
	if (!r->respondent ||
	    !ident_valid(r->respondent, strlen(r->respondent)))
		return err_set(err, SC_EINVAL,
			       "%s: a respondent id is 1 to %d "
			       "bytes of printable utf-8",
			       where, SC_ID_MAX);
	r->variant_idx = -1;
	for (size_t k = 0; r->variant && k < s->n; k++)
		if (!strcmp(s->variants[k].label, r->variant))
			r->variant_idx = (int32_t)k;
	if (r->variant_idx < 0)
		return err_set(err, SC_EINVAL, "%s: unknown variant '%s'",
			       where, r->variant ? r->variant : "");
	if (r->accepted < -1 || r->accepted > 1 || r->rating < 0 ||
	    r->rating > 5)
		return err_set(err, SC_EINVAL,
			       "%s: accepted is yes or no, rating 1 to 5",
			       where);
	if (r->accepted < 0 && !r->rating)
		return err_set(err, SC_EINVAL,
			       "%s: a response needs accepted, a rating, or "
			       "both",
			       where);
	if (r->segment && !segment_valid(r->segment))
		return err_set(err, SC_EINVAL,
			       "%s: segment must be 1 to %d of a-z 0-9 - _",
			       where, SEGMENT_MAX);
	return SC_OK;
}

static int add_responses(struct deps *d, const struct msg *m,
			 struct sc_err *err)
{
	const struct cmd_add_responses *c = &m->u.add_responses;
	struct survey_response *r;
	struct survey *s;
	int rc = uow_survey_get(d->uow, c->survey, NULL, d->arena, &s, err);

	if (rc)
		return rc;
	r = arena_calloc(d->arena, c->n, sizeof(*r));
	if (!r)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->n; i++)
		if (check_response(c, i, s, &r[i], err))
			return SC_EINVAL;
	/* a dry run (the CLI's first pass over a large file) stops here */
	return c->dry_run ? SC_OK
			  : uow_responses_add(d->uow, c->survey, r, c->n, err);
}

static int handle_add_responses(const struct msg *m, struct deps *d,
				struct bus_result *res, struct sc_err *err)
{
	(void)res;
	if (m->u.add_responses.survey < 1 || m->u.add_responses.n < 1)
		return err_set(err, SC_EINVAL,
			       "responses need a survey id and at least one "
			       "response");
	return in_one_tx(d, add_responses, m, err);
}

static int promote_winner(struct deps *d, const struct msg *m,
			  struct sc_err *err)
{
	const struct cmd_promote_winner *c = &m->u.promote_winner;
	struct variant_stats st[SURVEY_VARIANTS_MAX];
	struct formula_change ch = {0};
	struct survey_verdict v;
	struct survey *s;
	int rc = uow_survey_get(d->uow, c->survey, NULL, d->arena, &s, err);

	if (rc)
		return rc;
	survey_analyse(s->variants, s->n, st, &v);
	if (v.winner < 0)
		return v.more_needed >= 0
			       ? err_set(err, SC_EEXIST,
					 "survey %lld has no clear winner: "
					 "about %lld more respondents per "
					 "leading variant are needed",
					 (long long)c->survey,
					 (long long)v.more_needed)
			       : err_set(err, SC_EEXIST,
					 "survey %lld has no clear winner",
					 (long long)c->survey);
	ch = (struct formula_change){
		s->sku,	  0,	     s->variants[v.winner].formula_version,
		c->actor, c->reason, c->survey,
		c->now};
	if (!ch.reason)
		ch.reason = "survey winner";
	rc = activate(d, &ch, err);
	if (!rc)
		d->result_version = ch.to_version;
	return rc;
}

static int handle_promote_winner(const struct msg *m, struct deps *d,
				 struct bus_result *res, struct sc_err *err)
{
	const struct cmd_promote_winner *c = &m->u.promote_winner;
	int rc;

	if (c->survey < 1)
		return err_set(err, SC_EINVAL,
			       "a survey id is a positive integer");
	if (check_actor(c->actor, c->reason, err))
		return SC_EINVAL;
	rc = in_one_tx(d, promote_winner, m, err);
	if (!rc && res)
		res->version = d->result_version;
	return rc;
}

static int import_demand(struct deps *d, const struct msg *m,
			 struct sc_err *err)
{
	const struct cmd_import_demand *c = &m->u.import_demand;
	int rc = SC_OK;

	for (size_t i = 0; !rc && i < c->n; i++)
		rc = uow_demand_add(d->uow, &c->e[i], err);
	return rc;
}

static int handle_import_demand(const struct msg *m, struct deps *d,
				struct bus_result *res, struct sc_err *err)
{
	const struct cmd_import_demand *c = &m->u.import_demand;

	(void)res;
	if (c->n < 1)
		return err_set(err, SC_EINVAL, "nothing to import");
	for (size_t i = 0; i < c->n; i++) {
		const struct demand_entry *e = &c->e[i];
		size_t line = c->first_line ? c->first_line + i : i + 1;

		if (!e->sku || !ident_valid(e->sku, strlen(e->sku)) ||
		    e->day < 0 || (unsigned)e->outcome >= DEMAND__OUTCOMES ||
		    e->units < 1 || e->units > SC_QTY_MAX || e->lines < 1 ||
		    e->lines > e->units ||
		    (e->segment && !segment_valid(e->segment)))
			return err_set(err, SC_EINVAL,
				       "%s %zu: needs a sku, a date, an "
				       "outcome, 1 to %lld units in 1 or "
				       "more lines (at most one per unit) "
				       "and an optional segment",
				       c->first_line ? "line" : "entry", line,
				       (long long)SC_QTY_MAX);
	}
	return c->dry_run ? SC_OK : in_one_tx(d, import_demand, m, err);
}

/* ---- cinema dispensing (issue 16) ------------------------------------- */

static int handle_import_track(const struct msg *m, struct deps *d,
			       struct bus_result *res, struct sc_err *err)
{
	const struct cmd_import_track *c = &m->u.import_track;
	struct track_record rec = {0};
	int rc;

	if (!c->track || !c->body)
		return err_set(err, SC_EINVAL,
			       "a track and its text are needed");
	rc = cue_track_check(c->track, d->arena, err);
	if (rc)
		return rc;
	rec = (struct track_record){0,
				    c->track->title,
				    c->track->content_hash,
				    (int64_t)c->track->n_cues,
				    c->now,
				    c->body};
	rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	rc = uow_track_add(d->uow, &rec, &rec.id, err);
	if (!rc)
		rc = commit(d, err);
	if (!rc && res)
		res->track_id = rec.id;
	uow_rollback(d->uow);
	return rc;
}

/* Row @row of a seat map as its letter: 'A'..'Z'. */
static char row_letter(int32_t row)
{
	return (char)('A' + row);
}

static int handle_import_venue(const struct msg *m, struct deps *d,
			       struct bus_result *res, struct sc_err *err)
{
	const struct cmd_import_venue *c = &m->u.import_venue;
	const struct venue *v = c->venue;
	struct venue_record rec = {0};
	size_t n = 0;
	int rc;

	if (!v || !c->body)
		return err_set(err, SC_EINVAL,
			       "a venue and its text are needed");
	rc = venue_check(v, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < v->n_devices; i++)
		n += v->devices[i].n_slots;
	rec = (struct venue_record){
		0,
		v->name,
		v->capacity_ul,
		v->alert_below_ul,
		v->refill_unit_ul,
		1,
		c->now,
		c->body,
		arena_calloc(d->arena, n ? n : 1, sizeof(*rec.cartridges)),
		n};
	if (!rec.cartridges)
		return err_set(err, SC_ENOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < v->n_devices; i++)
		for (size_t k = 0; k < v->devices[i].n_slots; k++) {
			const struct cartridge *s = &v->devices[i].slots[k];

			rec.cartridges[n++] = (struct cartridge_row){
				v->devices[i].row, v->devices[i].seat,
				s->slot,	   s->sku,
				s->batch,	   s->level_ul};
		}
	rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	rc = uow_venue_add(d->uow, &rec, &rec.id, err);
	if (!rc)
		rc = commit(d, err);
	if (!rc && res)
		res->venue_id = rec.id;
	uow_rollback(d->uow);
	return rc;
}

/* The cartridge of @v at (@row, @seat, @slot), or NULL. */
static struct cartridge_row *cartridge_at(struct venue_record *v, int32_t row,
					  int32_t seat, int32_t slot)
{
	for (size_t i = 0; i < v->n_cartridges; i++)
		if (v->cartridges[i].row == row &&
		    v->cartridges[i].seat == seat &&
		    v->cartridges[i].slot == slot)
			return &v->cartridges[i];
	return NULL;
}

/* A seat and slot in range, each once in @n lines of @size bytes whose
 * first three int32_t are row, seat, slot. */
static int check_places(const void *lines, size_t n, size_t size,
			struct sc_err *err)
{
	uint16_t seen[CUE_MAP_SEATS] = {0}; /* slots seen, per seat */
	const char *p = lines;

	if (n > SHOW_LINES_MAX)
		return err_set(err, SC_EINVAL, "at most %d cartridges",
			       SHOW_LINES_MAX);
	for (size_t i = 0; i < n; i++) {
		int32_t at[3];

		memcpy(at, p + i * size, sizeof(at));
		if (at[0] < 0 || at[0] >= CUE_ROWS_MAX || at[1] < 1 ||
		    at[1] > CUE_SEATS_MAX || at[2] < 1 ||
		    at[2] > CUE_PALETTE_MAX)
			return err_set(err, SC_EINVAL,
				       "line %zu: rows A to Z, seats 1 to %d, "
				       "slots 1 to %d",
				       i + 1, CUE_SEATS_MAX, CUE_PALETTE_MAX);
		if (seen[CUE_SEAT_INDEX(at[0], at[1])] >> (at[2] - 1) & 1)
			return err_set(err, SC_EINVAL,
				       "cartridge %c%d slot %d given twice",
				       row_letter(at[0]), (int)at[1],
				       (int)at[2]);
		seen[CUE_SEAT_INDEX(at[0], at[1])] |=
			(uint16_t)(1u << (at[2] - 1));
	}
	return SC_OK;
}

/* What a show used, by scent and batch, being summed. */
struct use_sum {
	struct consumption_row *v;
	size_t n, cap;
};

/* Add @ul of cartridge @c's scent and batch to @s. */
static int add_use(struct deps *d, struct use_sum *s,
		   const struct cartridge_row *c, int64_t ul)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].sku, c->sku) &&
		    (s->v[i].batch == c->batch ||
		     (s->v[i].batch && c->batch &&
		      !strcmp(s->v[i].batch, c->batch)))) {
			s->v[i].ul += ul;
			return SC_OK;
		}
	if (arena_reserve(d->arena, (void **)&s->v, &s->cap, s->n + 1,
			  sizeof(*s->v)))
		return SC_ENOMEM;
	s->v[s->n++] = (struct consumption_row){c->sku, c->batch, ul};
	return SC_OK;
}

/* A CartridgeLow for @c of venue @v, to the outbox. */
static int cartridge_low(struct deps *d, const struct venue_record *v,
			 const struct cartridge_row *c, struct sc_err *err)
{
	struct msg ev = {.type = MSG_CARTRIDGE_LOW};
	size_t n = strlen(v->name) + 32;
	char *where = arena_alloc(d->arena, n);

	if (!where)
		return err_set(err, SC_ENOMEM, "out of memory");
	(void)snprintf(where, n, "%s %c%d slot %d", v->name, row_letter(c->row),
		       (int)c->seat, (int)c->slot);
	ev.u.cartridge_low =
		(struct ev_cartridge_low){where, c->sku, c->level_ul, c->batch};
	return uow_outbox_add(d->uow, &ev, err);
}

static int record_show(struct deps *d, const struct msg *m,
		       struct bus_result *res, struct sc_err *err)
{
	const struct cmd_record_show *c = &m->u.record_show;
	struct show_record show = {
		0,	  c->venue_id, c->track_id,	 c->now, c->fires,
		c->acked, c->missed,   c->seat_releases, NULL,	 0};
	struct cartridge_row *rows = arena_calloc(
		d->arena, c->n_lines ? c->n_lines : 1, sizeof(*rows));
	struct venue_record *v = NULL;
	struct use_sum used = {0};
	int rc = rows ? uow_venue_get(d->uow, c->venue_id, d->arena, &v, err)
		      : err_set(err, SC_ENOMEM, "out of memory");

	if (!rc && !v)
		return SC_EIO; /* a store that said yes and gave nothing */
	for (size_t i = 0; !rc && i < c->n_lines; i++) {
		const struct used_line *l = &c->lines[i];
		struct cartridge_row *k =
			cartridge_at(v, l->row, l->seat, l->slot);

		if (!k)
			return err_set(err, SC_EINVAL,
				       "venue %lld has no cartridge at %c%d "
				       "slot %d",
				       (long long)c->venue_id,
				       row_letter(l->row), (int)l->seat,
				       (int)l->slot);
		/* A gateway that released more than the level said it had
		 * is believed about the release, not below zero. */
		k->level_ul = k->level_ul > l->ul ? k->level_ul - l->ul : 0;
		rows[i] = *k;
		if (add_use(d, &used, k, l->ul))
			rc = err_set(err, SC_ENOMEM, "out of memory");
		/* Every cartridge this show drew from and left below the
		 * threshold: one imported low alerts at its first show, and
		 * each show that keeps using it reminds the stock team (the
		 * relay folds repeats per window). */
		if (!rc && l->ul > 0 && k->level_ul < v->alert_below_ul) {
			rc = cartridge_low(d, v, k, err);
			res->alerts++;
		}
	}
	if (!rc && c->n_lines)
		rc = uow_venue_change(d->uow,
				      &(struct venue_change){c->venue_id,
							     v->version, rows,
							     c->n_lines},
				      err);
	show.used = used.v;
	show.n_used = used.n;
	if (!rc)
		rc = uow_show_add(d->uow, &show, &res->show_id, err);
	return rc;
}

static int handle_record_show(const struct msg *m, struct deps *d,
			      struct bus_result *res, struct sc_err *err)
{
	const struct cmd_record_show *c = &m->u.record_show;
	struct bus_result mine = {0};
	int rc;

	if (c->venue_id < 1 || c->track_id < 0 || c->fires < 0 ||
	    c->acked < 0 || c->missed < 0 || c->seat_releases < 0 ||
	    (c->n_lines && !c->lines))
		return err_set(err, SC_EINVAL,
			       "a venue id, and counts of 0 or more");
	for (size_t i = 0; i < c->n_lines; i++)
		if (c->lines[i].ul < 0 || c->lines[i].ul > CARTRIDGE_MAX_UL)
			return err_set(err, SC_EINVAL,
				       "line %zu: ul must be 0 to %d", i + 1,
				       CARTRIDGE_MAX_UL);
	rc = check_places(c->lines, c->n_lines, sizeof(*c->lines), err);
	if (!rc)
		rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	rc = record_show(d, m, &mine, err);
	if (!rc)
		rc = commit(d, err);
	if (!rc && mine.alerts && d->signal) /* not a product's event */
		d->signal->notify(d->signal);
	if (!rc && res) {
		res->show_id = mine.show_id;
		res->alerts = mine.alerts;
	}
	uow_rollback(d->uow);
	return rc;
}

/* One scent's refill: its order line, and the cartridges it fills. */
struct refill_group {
	struct refill_outcome out;
	struct cartridge_row **fill; /* n_fill cartridges to fill */
	size_t n_fill, cap_fill;
};

/* Group @c's lines by scent, each cartridge's need from its level. */
static int refill_groups(struct deps *d, const struct cmd_refill_cartridges *c,
			 struct venue_record *v, struct refill_group **out,
			 size_t *n_out, struct sc_err *err)
{
	struct refill_group *g = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < c->n_lines; i++) {
		const struct refill_line *l = &c->lines[i];
		struct cartridge_row *k =
			cartridge_at(v, l->row, l->seat, l->slot);
		int64_t need;
		size_t j = 0;

		if (!k)
			return err_set(err, SC_EINVAL,
				       "venue %lld has no cartridge at %c%d "
				       "slot %d",
				       (long long)c->venue_id,
				       row_letter(l->row), (int)l->seat,
				       (int)l->slot);
		/* Another scent empties the slot first: a whole cartridge. */
		need = strcmp(k->sku, l->sku) != 0
			       ? v->capacity_ul
			       : v->capacity_ul - k->level_ul;
		if (!need)
			continue;
		while (j < n && strcmp(g[j].out.sku, l->sku) != 0)
			j++;
		if (j == n) {
			if (arena_reserve(d->arena, (void **)&g, &cap, n + 1,
					  sizeof(*g)))
				return err_set(err, SC_ENOMEM, "out of memory");
			memset(&g[n++], 0, sizeof(*g));
			g[j].out.sku = l->sku;
		}
		g[j].out.ul += need;
		k->sku = l->sku;
		if (arena_reserve(d->arena, (void **)&g[j].fill, &g[j].cap_fill,
				  g[j].n_fill + 1,
				  sizeof(struct cartridge_row *)))
			return err_set(err, SC_ENOMEM, "out of memory");
		g[j].fill[g[j].n_fill++] = k;
	}
	*out = g;
	*n_out = n;
	return SC_OK;
}

/* Allocate group @g's order line; fill its cartridges when it took. */
static int refill_one(struct deps *d, const struct cmd_refill_cartridges *c,
		      const struct venue_record *v, struct refill_group *g,
		      struct sc_err *err)
{
	struct cmd_allocate a = {c->orderid, g->out.sku, 0,
				 false,	     NULL,	 c->day};
	enum allocation how = ALLOCATION_OUT_OF_STOCK;
	const char *ref = NULL;
	struct order_line line;
	struct product *p;
	size_t before;
	int rc;

	a.qty = (g->out.ul + v->refill_unit_ul - 1) / v->refill_unit_ul;
	g->out.qty = a.qty;
	line = (struct order_line){a.orderid, a.sku, a.qty};
	rc = repo_get(d->uow, a.sku, &(struct load_hint){.orderid = a.orderid},
		      &p, err);
	before = rc ? 0 : p->n_events;
	if (!rc)
		rc = allocate_line(d, &line, false, &ref, &how, err);
	if (!rc)
		rc = count_demand(d, &a, NULL, before, how, err);
	if (rc)
		return rc;
	g->out.allocated = how == ALLOCATION_ALLOCATED;
	g->out.batchref = ref;
	/* No new event: this order line was placed before, and filled its
	 * cartridges then; filling them again would take stock twice. */
	g->out.repeated = p->n_events == before;
	if (!g->out.allocated || g->out.repeated)
		return SC_OK;
	for (size_t i = 0; i < g->n_fill; i++) {
		g->fill[i]->level_ul = v->capacity_ul;
		g->fill[i]->batch = ref;
	}
	g->out.cartridges = (int64_t)g->n_fill;
	return SC_OK;
}

static int refill(struct deps *d, const struct cmd_refill_cartridges *c,
		  struct refill_group **groups, size_t *n_groups,
		  struct sc_err *err)
{
	struct venue_record *v = NULL;
	struct cartridge_row *rows;
	size_t n = 0;
	int rc = uow_venue_get(d->uow, c->venue_id, d->arena, &v, err);

	if (!rc && !v)
		return SC_EIO; /* a store that said yes and gave nothing */
	if (!rc)
		rc = refill_groups(d, c, v, groups, n_groups, err);
	for (size_t i = 0; !rc && i < *n_groups; i++)
		rc = refill_one(d, c, v, &(*groups)[i], err);
	if (rc)
		return rc;
	rows = arena_calloc(d->arena, c->n_lines, sizeof(*rows));
	if (!rows)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < *n_groups; i++)
		for (size_t k = 0;
		     (*groups)[i].out.cartridges && k < (*groups)[i].n_fill;
		     k++)
			rows[n++] = *(*groups)[i].fill[k];
	return n ? uow_venue_change(d->uow,
				    &(struct venue_change){c->venue_id,
							   v->version, rows, n},
				    err)
		 : SC_OK;
}

/* The outcomes into the caller's arena. */
static int return_refills(struct bus_result *res, const struct refill_group *g,
			  size_t n, struct sc_err *err)
{
	if (!res || !res->arena)
		return SC_OK;
	res->refills =
		arena_calloc(res->arena, n ? n : 1, sizeof(*res->refills));
	if (!res->refills)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		res->refills[i] = g[i].out;
		res->refills[i].sku = arena_strdup(res->arena, g[i].out.sku);
		res->refills[i].batchref =
			g[i].out.batchref
				? arena_strdup(res->arena, g[i].out.batchref)
				: NULL;
		if (!res->refills[i].sku ||
		    (g[i].out.batchref && !res->refills[i].batchref))
			return err_set(err, SC_ENOMEM, "out of memory");
	}
	res->n_refills = n;
	return SC_OK;
}

static int handle_refill_cartridges(const struct msg *m, struct deps *d,
				    struct bus_result *res, struct sc_err *err)
{
	const struct cmd_refill_cartridges *c = &m->u.refill_cartridges;
	struct refill_group *g = NULL;
	size_t n = 0;
	int rc;

	if (c->venue_id < 1 || !c->n_lines || !c->lines)
		return err_set(err, SC_EINVAL,
			       "a venue id and at least one cartridge");
	if (check_ident("orderid", c->orderid, err))
		return SC_EINVAL;
	for (size_t i = 0; i < c->n_lines; i++)
		if (check_ident("sku", c->lines[i].sku, err))
			return SC_EINVAL;
	rc = check_places(c->lines, c->n_lines, sizeof(*c->lines), err);
	if (!rc)
		rc = uow_begin(d->uow, d->arena, err);
	if (rc)
		return rc;
	rc = refill(d, c, &g, &n, err);
	if (!rc)
		rc = commit(d, err);
	if (!rc)
		rc = return_refills(res, g, n, err);
	uow_rollback(d->uow);
	return rc;
}

const struct handler_entry handler_table[] = {
	[MSG_CREATE_BATCH] = {1, {handle_add_batch}},
	[MSG_ALLOCATE] = {1, {handle_allocate}},
	[MSG_CHANGE_BATCH_QUANTITY] = {1, {handle_change_batch_quantity}},
	[MSG_IMPORT_RESEARCH] = {1, {handle_import_research}},
	[MSG_CREATE_TOKEN] = {1, {handle_create_token}},
	[MSG_REVOKE_TOKEN] = {1, {handle_revoke_token}},
	[MSG_DEALLOCATE] = {1, {handle_deallocate}},
	[MSG_CREATE_CUSTOMER] = {1, {handle_create_customer}},
	[MSG_REPLAY_DELIVERY] = {1, {handle_replay_delivery}},
	[MSG_SET_LOW_STOCK] = {1, {handle_set_low_stock}},
	[MSG_ALERT_AGED_BACKORDERS] = {1, {handle_alert_aged_backorders}},
	[MSG_CHANGE_BATCH_ETA] = {1, {handle_change_batch_eta}},
	[MSG_PUT_INGREDIENTS] = {1, {handle_put_ingredients}},
	[MSG_ADD_FORMULA] = {1, {handle_add_formula}},
	[MSG_ACTIVATE_FORMULA] = {1, {handle_activate_formula}},
	[MSG_CREATE_SURVEY] = {1, {handle_create_survey}},
	[MSG_ADD_RESPONSES] = {1, {handle_add_responses}},
	[MSG_PROMOTE_WINNER] = {1, {handle_promote_winner}},
	[MSG_IMPORT_DEMAND] = {1, {handle_import_demand}},
	[MSG_IMPORT_TRACK] = {1, {handle_import_track}},
	[MSG_IMPORT_VENUE] = {1, {handle_import_venue}},
	[MSG_RECORD_SHOW] = {1, {handle_record_show}},
	[MSG_REFILL_CARTRIDGES] = {1, {handle_refill_cartridges}},
	[MSG_ALLOCATED] = {1, {wake_relay}},
	[MSG_DEALLOCATED] = {1, {wake_relay}},
	[MSG_OUT_OF_STOCK] = {1, {wake_relay}},
	[MSG_BACKORDERED] = {1, {wake_relay}},
	[MSG_LOW_STOCK] = {1, {wake_relay}},
	[MSG_BACKORDER_WAITING] = {0, {NULL}}, /* queued by its command */
	[MSG_ETA_CHANGED] = {1, {wake_relay}},
	[MSG_CARTRIDGE_LOW] = {0, {NULL}}, /* queued by its command */
};

/*
 * No static_assert here: the table is declared [MSG__COUNT], so its size
 * always matches, and C cannot tell a missing designated entry from a
 * zero one.  tests/unit/test_handlers.c sends every message type instead,
 * and the bus refuses a command without a handler rather than crash.
 */

/* clang-format off */
handler_fn *const in_tx_handler_table[] = {
	[MSG_CREATE_BATCH] = NULL,
	[MSG_ALLOCATE] = NULL,
	[MSG_CHANGE_BATCH_QUANTITY] = NULL,
	[MSG_IMPORT_RESEARCH] = NULL,
	[MSG_CREATE_TOKEN] = NULL,
	[MSG_REVOKE_TOKEN] = NULL,
	[MSG_DEALLOCATE] = NULL,
	[MSG_CREATE_CUSTOMER] = NULL,
	[MSG_REPLAY_DELIVERY] = NULL,
	[MSG_SET_LOW_STOCK] = NULL,
	[MSG_ALERT_AGED_BACKORDERS] = NULL,
	[MSG_CHANGE_BATCH_ETA] = NULL,
	[MSG_PUT_INGREDIENTS] = NULL,
	[MSG_ADD_FORMULA] = NULL,
	[MSG_ACTIVATE_FORMULA] = NULL,
	[MSG_CREATE_SURVEY] = NULL,
	[MSG_ADD_RESPONSES] = NULL,
	[MSG_PROMOTE_WINNER] = NULL,
	[MSG_IMPORT_DEMAND] = NULL,
	[MSG_IMPORT_TRACK] = NULL,
	[MSG_IMPORT_VENUE] = NULL,
	[MSG_RECORD_SHOW] = NULL,
	[MSG_REFILL_CARTRIDGES] = NULL,
	[MSG_ALLOCATED] = enqueue_and_tell,
	[MSG_DEALLOCATED] = on_deallocated,
	[MSG_OUT_OF_STOCK] = enqueue,
	[MSG_BACKORDERED] = enqueue_and_tell,
	[MSG_LOW_STOCK] = enqueue,
	[MSG_BACKORDER_WAITING] = NULL,
	[MSG_ETA_CHANGED] = enqueue_and_tell,
	[MSG_CARTRIDGE_LOW] = NULL,
};
/* clang-format on */

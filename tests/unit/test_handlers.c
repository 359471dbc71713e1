/*
 * tests/unit/test_handlers.c - the seed's test_handlers: every command
 * through the message bus on the memory unit of work, with recording
 * fakes for notifications and publishing; plus retries, rollback, event
 * handler failures and an allocation fault loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/memory/memory_uow.h"
#include "common/log.h"
#include "domain/sourcing.h"
#include "service/deliverer.h"
#include "service/relay.h"
#include "service/uow.h"
#include "service/webhook.h"
#include "support/cmocka.h"
#include "support/fakes.h"
#include "support/faulty_uow.h"

static int setup(void **state)
{
	static struct test_app app;

	test_app_init(&app);
	*state = &app;
	return 0;
}

static int teardown(void **state)
{
	test_app_release(*state);
	return 0;
}

static const struct batch *batch_of(struct test_app *app, const char *sku,
				    const char *ref)
{
	struct product *p = app_load(app, sku);

	assert_non_null(p);
	return product_find_batch(p, ref);
}

/* The read model's lines of @orderid, or NULL when it has none. */
static const struct allocation_row *app_rows(struct test_app *app,
					     const char *orderid)
{
	struct allocation_row *rows;
	struct sc_err err;
	size_t n;

	err_clear(&err);
	assert_int_equal(uow_allocations(app->uow, orderid, &app->scratch,
					 &rows, &n, &err),
			 SC_OK);
	return n ? rows : NULL;
}

static void add_batch_for_new_product(void **state)
{
	struct test_app *app = *state;

	assert_int_equal(app_add_batch(app, "b1", "CRUNCHY-ARMCHAIR", 100, ""),
			 SC_OK);
	assert_non_null(batch_of(app, "CRUNCHY-ARMCHAIR", "b1"));
}

static void add_batch_for_existing_product(void **state)
{
	struct test_app *app = *state;
	struct product *p;

	assert_int_equal(app_add_batch(app, "b1", "GARISH-RUG", 100, ""),
			 SC_OK);
	assert_int_equal(app_add_batch(app, "b2", "GARISH-RUG", 99, ""), SC_OK);
	p = app_load(app, "GARISH-RUG");
	assert_int_equal(p->n_batches, 2);
	assert_string_equal(p->batches[1].ref, "b2");
	assert_int_equal(p->version, 2);
}

static void identical_add_batch_resend_changes_nothing(void **state)
{
	struct test_app *app = *state;

	assert_int_equal(app_add_batch(app, "b1", "RUG", 10, "2026-12-01"),
			 SC_OK);
	assert_int_equal(app_add_batch(app, "b1", "RUG", 10, "2026-12-01"),
			 SC_OK);
	assert_int_equal(app_load(app, "RUG")->version, 1);
	assert_int_equal(app_load(app, "RUG")->n_batches, 1);
}

static void add_batch_with_a_taken_ref_is_a_conflict(void **state)
{
	struct test_app *app = *state;

	assert_int_equal(app_add_batch(app, "b1", "RUG", 10, ""), SC_OK);
	assert_int_equal(app_add_batch(app, "b1", "RUG", 11, ""), SC_EEXIST);
	assert_int_equal(app_add_batch(app, "b1", "RUG", 10, "2026-12-01"),
			 SC_EEXIST);
	assert_int_equal(app_add_batch(app, "b1", "LAMP", 10, ""), SC_EEXIST);
	assert_null(app_load(app, "LAMP"));
	assert_int_equal(batch_of(app, "RUG", "b1")->purchased, 10);
}

static void allocate_returns_allocation(void **state)
{
	struct test_app *app = *state;
	char ref[64];

	assert_int_equal(
		app_add_batch(app, "batch1", "COMPLICATED-LAMP", 100, ""),
		SC_OK);
	assert_int_equal(app_allocate(app, "o1", "COMPLICATED-LAMP", 10, ref,
				      sizeof(ref)),
			 SC_OK);
	assert_string_equal(ref, "batch1");
	assert_int_equal(
		batch_available(batch_of(app, "COMPLICATED-LAMP", "batch1")),
		90);
}

static void allocate_errors_for_invalid_sku(void **state)
{
	struct test_app *app = *state;
	struct msg m = {.type = MSG_ALLOCATE};
	struct sc_err err;

	assert_int_equal(app_add_batch(app, "b1", "AREALSKU", 100, ""), SC_OK);
	err_clear(&err);
	m.u.allocate.orderid = "o1";
	m.u.allocate.sku = "NONEXISTENTSKU";
	m.u.allocate.qty = 10;
	assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_ENOTFOUND);
	assert_string_equal(err.msg, "unknown sku 'NONEXISTENTSKU'");
}

static void allocate_commits(void **state)
{
	struct test_app *app = *state;
	struct allocation_row *rows;
	size_t n;
	struct sc_err err;

	err_clear(&err);
	assert_int_equal(app_add_batch(app, "b1", "OMINOUS-MIRROR", 100, ""),
			 SC_OK);
	assert_int_equal(app_allocate(app, "o1", "OMINOUS-MIRROR", 10, NULL, 0),
			 SC_OK);
	/* visible to another unit of work on the same store */
	assert_int_equal(
		uow_allocations(app->uow, "o1", &app->scratch, &rows, &n, &err),
		SC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].batchref, "b1");
	assert_string_equal(rows[0].sku, "OMINOUS-MIRROR");
}

static void sends_email_on_out_of_stock_error(void **state)
{
	struct test_app *app = *state;
	char ref[64];

	assert_int_equal(app_add_batch(app, "b1", "POPULAR-CURTAINS", 9, ""),
			 SC_OK);
	assert_int_equal(app_allocate(app, "o1", "POPULAR-CURTAINS", 10, ref,
				      sizeof(ref)),
			 SC_OK);
	assert_string_equal(ref, "");
	assert_int_equal(app->notifier.n_calls, 1);
	assert_string_equal(app->notifier.to[0], "stock@scents.example");
	/* it names the order that found no stock (issue 14) */
	assert_string_equal(
		app->notifier.body[0],
		"Out of stock for POPULAR-CURTAINS: order o1 wanted "
		"10");
	assert_int_equal(app_load(app, "POPULAR-CURTAINS")->version, 1);
}

static void publishes_allocated_event(void **state)
{
	struct test_app *app = *state;

	assert_int_equal(app_add_batch(app, "b1", "LAMP", 10, ""), SC_OK);
	assert_int_equal(app->signal.n_signals, 0); /* nothing queued */
	assert_int_equal(app_allocate(app, "o1", "LAMP", 10, NULL, 0), SC_OK);
	assert_int_equal(app->signal.n_signals, 1); /* relay woken once */
	assert_int_equal(app->publisher.n_calls, 1);
	assert_string_equal(app->publisher.channel[0], "line_allocated");
	assert_string_equal(app->publisher.orderid[0], "o1");
	assert_string_equal(app->publisher.batchref[0], "b1");
}

static void identical_allocate_resend_publishes_nothing_new(void **state)
{
	struct test_app *app = *state;
	char ref[64];

	assert_int_equal(app_add_batch(app, "b1", "LAMP", 10, ""), SC_OK);
	assert_int_equal(app_add_batch(app, "b2", "LAMP", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "LAMP", 10, NULL, 0), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "LAMP", 10, ref, sizeof(ref)),
			 SC_OK);
	assert_string_equal(ref, "b1");
	assert_int_equal(app->publisher.n_calls, 1);
	assert_int_equal(app_allocate(app, "o1", "LAMP", 5, NULL, 0),
			 SC_EEXIST);
	assert_int_equal(batch_available(batch_of(app, "LAMP", "b2")), 10);
}

static void changes_available_quantity(void **state)
{
	struct test_app *app = *state;

	assert_int_equal(
		app_add_batch(app, "batch1", "ADORABLE-SETTEE", 100, ""),
		SC_OK);
	assert_int_equal(
		batch_available(batch_of(app, "ADORABLE-SETTEE", "batch1")),
		100);
	assert_int_equal(app_change_qty(app, "batch1", 50), SC_OK);
	assert_int_equal(
		batch_available(batch_of(app, "ADORABLE-SETTEE", "batch1")),
		50);
}

static void reallocates_if_necessary(void **state)
{
	struct test_app *app = *state;
	struct allocation_row *rows;
	size_t n;
	struct sc_err err;

	err_clear(&err);
	assert_int_equal(
		app_add_batch(app, "batch1", "INDIFFERENT-TABLE", 50, ""),
		SC_OK);
	assert_int_equal(app_add_batch(app, "batch2", "INDIFFERENT-TABLE", 50,
				       "2026-11-26"),
			 SC_OK);
	assert_int_equal(
		app_allocate(app, "order1", "INDIFFERENT-TABLE", 20, NULL, 0),
		SC_OK);
	assert_int_equal(
		app_allocate(app, "order2", "INDIFFERENT-TABLE", 20, NULL, 0),
		SC_OK);
	assert_int_equal(
		batch_available(batch_of(app, "INDIFFERENT-TABLE", "batch1")),
		10);
	assert_int_equal(app_change_qty(app, "batch1", 25), SC_OK);
	/* order2 (newest) moved to batch2, committed with the shrink */
	assert_int_equal(
		batch_available(batch_of(app, "INDIFFERENT-TABLE", "batch1")),
		5);
	assert_int_equal(
		batch_available(batch_of(app, "INDIFFERENT-TABLE", "batch2")),
		30);
	assert_int_equal(uow_allocations(app->uow, "order2", &app->scratch,
					 &rows, &n, &err),
			 SC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].batchref, "batch2");
	/* published: two allocations, the deallocation, the reallocation */
	assert_int_equal(app->publisher.n_calls, 4);
	assert_string_equal(app->publisher.channel[2], "line_deallocated");
	assert_string_equal(app->publisher.orderid[2], "order2");
	assert_string_equal(app->publisher.channel[3], "line_allocated");
	assert_string_equal(app->publisher.orderid[3], "order2");
	assert_string_equal(app->publisher.batchref[3], "batch2");
}

static void reallocation_without_room_backorders_the_line(void **state)
{
	struct test_app *app = *state;
	struct allocation_row *rows;
	size_t n;
	struct sc_err err;

	err_clear(&err);
	assert_int_equal(app_add_batch(app, "b1", "TABLE", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "TABLE", 6, NULL, 0), SC_OK);
	assert_int_equal(app_change_qty(app, "b1", 5), SC_OK);
	assert_int_equal(batch_of(app, "TABLE", "b1")->allocated, 0);
	assert_int_equal(app->notifier.n_calls, 1);
	assert_string_equal(app->notifier.body[0],
			    "Out of stock for TABLE: order o1 wanted 6");
	/* never silently lost (issue 14): it waits as a backorder */
	assert_int_equal(
		uow_allocations(app->uow, "o1", &app->scratch, &rows, &n, &err),
		SC_OK);
	assert_int_equal(n, 1);
	assert_null(rows[0].batchref);
	assert_int_equal(rows[0].qty, 6);
	assert_string_equal(app->publisher.channel[app->publisher.n_calls - 1],
			    "line_backordered");
	/* and the batch growing back fills it, in the same transaction */
	assert_int_equal(app_change_qty(app, "b1", 6), SC_OK);
	assert_int_equal(batch_of(app, "TABLE", "b1")->allocated, 6);
	assert_string_equal(app_rows(app, "o1")->batchref, "b1");
	assert_string_equal(app->publisher.channel[app->publisher.n_calls - 1],
			    "line_allocated");
}

static void cancel_frees_the_line_and_publishes_deallocated(void **state)
{
	struct test_app *app = *state;
	struct bus_result res;
	struct sc_err err;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 4, NULL, 0), SC_OK);
	assert_int_equal(app_deallocate(app, "o1", "T", &res, &err), SC_OK);
	assert_int_equal(res.n_freed, 1);
	assert_string_equal(res.freed[0].sku, "T");
	assert_int_equal(res.freed[0].qty, 4);
	assert_string_equal(res.freed[0].batchref, "b1");
	assert_int_equal(batch_available(batch_of(app, "T", "b1")), 10);
	assert_null(app_rows(app, "o1"));
	assert_int_equal(app->publisher.n_calls, 2);
	assert_string_equal(app->publisher.channel[1], "line_deallocated");
	assert_string_equal(app->publisher.orderid[1], "o1");
}

static void cancelling_an_order_frees_each_of_its_lines(void **state)
{
	struct test_app *app = *state;
	struct bus_result res;
	struct sc_err err;

	assert_int_equal(app_add_batch(app, "t1", "T", 10, ""), SC_OK);
	assert_int_equal(app_add_batch(app, "u1", "U", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "U", 3, NULL, 0), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 2, NULL, 0), SC_OK);
	assert_int_equal(app_allocate(app, "o2", "T", 5, NULL, 0), SC_OK);
	assert_int_equal(app_deallocate(app, "o1", NULL, &res, &err), SC_OK);
	/* by sku, as GET /allocations lists them */
	assert_int_equal(res.n_freed, 2);
	assert_string_equal(res.freed[0].sku, "T");
	assert_int_equal(res.freed[0].qty, 2);
	assert_string_equal(res.freed[1].sku, "U");
	assert_int_equal(res.freed[1].qty, 3);
	assert_string_equal(res.freed[1].batchref, "u1");
	assert_int_equal(batch_available(batch_of(app, "T", "t1")), 5);
	assert_int_equal(batch_available(batch_of(app, "U", "u1")), 10);
	assert_null(app_rows(app, "o1"));
	assert_non_null(app_rows(app, "o2")); /* another order keeps its */
	assert_int_equal(app->publisher.n_calls, 5);
}

static void cancelling_nothing_is_not_found_and_changes_nothing(void **state)
{
	struct test_app *app = *state;
	struct bus_result res;
	struct sc_err err;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 4, NULL, 0), SC_OK);
	assert_int_equal(app_deallocate(app, "o9", NULL, &res, &err),
			 SC_ENOTFOUND);
	assert_string_equal(err.msg, "order 'o9' holds no lines");
	assert_int_equal(app_deallocate(app, "o1", "NOPE", &res, &err),
			 SC_ENOTFOUND);
	assert_string_equal(err.msg, "order 'o1' holds no 'NOPE'");
	assert_int_equal(app_deallocate(app, "o9", "T", &res, &err),
			 SC_ENOTFOUND);
	assert_string_equal(err.msg, "order 'o9' holds no 'T'");
	assert_int_equal(app_deallocate(app, "", NULL, &res, &err), SC_EINVAL);
	assert_int_equal(batch_available(batch_of(app, "T", "b1")), 6);
	assert_int_equal(app_load(app, "T")->version, 2);
	/* a retried cancel: the first frees, the second finds nothing */
	assert_int_equal(app_deallocate(app, "o1", "T", &res, &err), SC_OK);
	assert_int_equal(app_deallocate(app, "o1", "T", &res, &err),
			 SC_ENOTFOUND);
	assert_int_equal(app_load(app, "T")->version, 3);
	assert_int_equal(app->publisher.n_calls, 2);
}

static void a_cancelled_line_is_not_reallocated(void **state)
{
	struct test_app *app = *state;
	struct sc_err err;

	assert_int_equal(app_add_batch(app, "b1", "T", 4, ""), SC_OK);
	assert_int_equal(app_add_batch(app, "b2", "T", 10, "2027-01-01"),
			 SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 4, NULL, 0), SC_OK);
	assert_int_equal(app_deallocate(app, "o1", "T", NULL, &err), SC_OK);
	/* unlike a shrink's Deallocated, nothing takes the line again */
	assert_int_equal(batch_available(batch_of(app, "T", "b1")), 4);
	assert_int_equal(batch_available(batch_of(app, "T", "b2")), 10);
	assert_null(app_rows(app, "o1"));
	assert_int_equal(app->notifier.n_calls, 0);
}

/* Allocate with "backorder": true; the bus's code, and the outcome. */
static int app_backorder(struct test_app *app, const char *orderid,
			 const char *sku, long long qty, struct bus_result *res)
{
	struct msg m = {.type = MSG_ALLOCATE};
	struct sc_err err;

	err_clear(&err);
	m.u.allocate = (struct cmd_allocate){orderid, sku, qty, true, NULL, 0};
	memset(res, 0, sizeof(*res));
	return bus_handle(&app->bus, &m, res, &err);
}

static void a_backorder_waits_and_new_stock_fills_it(void **state)
{
	struct test_app *app = *state;
	struct bus_result res;
	size_t published;

	assert_int_equal(app_add_batch(app, "b1", "T", 5, ""), SC_OK);
	assert_int_equal(app_backorder(app, "o1", "T", 10, &res), SC_OK);
	assert_true(res.backordered);
	assert_false(res.allocated);
	assert_string_equal(res.batchref, "");
	/* the stock team hears of it, and other systems see it wait */
	assert_int_equal(app->notifier.n_calls, 1);
	assert_string_equal(app->notifier.body[0],
			    "Out of stock for T: order o1 wanted 10");
	assert_int_equal(app->publisher.n_calls, 1);
	assert_string_equal(app->publisher.channel[0], "line_backordered");
	assert_null(app_rows(app, "o1")->batchref);
	/* a retry is the same line: nothing new; another qty conflicts */
	assert_int_equal(app_backorder(app, "o1", "T", 10, &res), SC_OK);
	assert_true(res.backordered);
	assert_int_equal(app_allocate(app, "o1", "T", 10, NULL, 0), SC_OK);
	assert_int_equal(app_backorder(app, "o1", "T", 3, &res), SC_EEXIST);
	assert_int_equal(app->publisher.n_calls + app->notifier.n_calls, 2);
	published = app->publisher.n_calls;
	/* stock arrives: the same transaction allocates the backorder */
	assert_int_equal(app_add_batch(app, "b2", "T", 20, ""), SC_OK);
	assert_string_equal(app_rows(app, "o1")->batchref, "b2");
	assert_int_equal(batch_of(app, "T", "b2")->allocated, 10);
	assert_int_equal(app->publisher.n_calls, published + 1);
	assert_string_equal(app->publisher.channel[published],
			    "line_allocated");
	assert_string_equal(app->publisher.orderid[published], "o1");
	/* and a plain allocate still gets 409's outcome, not a backorder */
	assert_int_equal(app_allocate(app, "o2", "T", 99, NULL, 0), SC_OK);
	assert_null(app_rows(app, "o2"));
}

static void backorders_fill_oldest_first_and_big_ones_wait(void **state)
{
	struct test_app *app = *state;
	struct bus_result res;

	assert_int_equal(app_add_batch(app, "b1", "T", 1, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 1, NULL, 0), SC_OK);
	assert_int_equal(app_backorder(app, "o2", "T", 5, &res), SC_OK);
	assert_int_equal(app_backorder(app, "o3", "T", 2, &res), SC_OK);
	assert_int_equal(app_backorder(app, "o4", "T", 2, &res), SC_OK);
	assert_int_equal(app_backorder(app, "o5", "T", 1, &res), SC_OK);
	/* 4 arrive: o2 (5) keeps waiting, o3 and o4 fit, o5 no longer does */
	assert_int_equal(app_add_batch(app, "b2", "T", 4, ""), SC_OK);
	assert_null(app_rows(app, "o2")->batchref);
	assert_string_equal(app_rows(app, "o3")->batchref, "b2");
	assert_string_equal(app_rows(app, "o4")->batchref, "b2");
	assert_null(app_rows(app, "o5")->batchref);
	/* growing b2 by 6 fills o2 first, then o5 */
	assert_int_equal(app_change_qty(app, "b2", 10), SC_OK);
	assert_string_equal(app_rows(app, "o2")->batchref, "b2");
	assert_string_equal(app_rows(app, "o5")->batchref, "b2");
	assert_int_equal(batch_of(app, "T", "b2")->allocated, 10);
}

static void cancelling_frees_stock_for_a_backorder_or_drops_one(void **state)
{
	struct test_app *app = *state;
	struct bus_result res;
	struct sc_err err;

	assert_int_equal(app_add_batch(app, "b1", "T", 5, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 5, NULL, 0), SC_OK);
	assert_int_equal(app_backorder(app, "o2", "T", 3, &res), SC_OK);
	assert_int_equal(app_backorder(app, "o3", "T", 4, &res), SC_OK);
	/* o1's 5 units go to o2 (3); o3 (4) does not fit the 2 left */
	assert_int_equal(app_deallocate(app, "o1", NULL, &res, &err), SC_OK);
	assert_string_equal(app_rows(app, "o2")->batchref, "b1");
	assert_null(app_rows(app, "o3")->batchref);
	/* cancelling a waiting line frees nothing and drops it */
	assert_int_equal(app_deallocate(app, "o3", "T", &res, &err), SC_OK);
	assert_int_equal(res.n_freed, 1);
	assert_int_equal(res.freed[0].qty, 4);
	assert_null(res.freed[0].batchref);
	assert_null(app_rows(app, "o3"));
	assert_int_equal(app_add_batch(app, "b2", "T", 50, ""), SC_OK);
	assert_null(app_rows(app, "o3"));
	assert_int_equal(batch_of(app, "T", "b2")->allocated, 0);
}

/* A webhook receiver that fails its first @fail_first sends. */
struct fake_webhook {
	struct webhook base; /* must stay first */
	int fail_first;	     /* sends to fail before succeeding */
	int n_calls;	     /* sends seen */
	int64_t last_id;     /* delivery id of the last send */
};

static int fake_webhook_send(struct webhook *self, const struct delivery *d,
			     struct sc_err *err)
{
	struct fake_webhook *w = (struct fake_webhook *)self;

	w->last_id = d->id;
	if (w->n_calls++ < w->fail_first)
		return err_set(err, SC_EIO,
			       "webhook: the receiver answered 503");
	return SC_OK;
}

static void fake_webhook_free(struct webhook *self)
{
	(void)self;
}

static const struct webhook_ops fake_webhook_ops = {fake_webhook_send,
						    fake_webhook_free};

/* A customer @id with a webhook (and @email, may be NULL) owns @orderid. */
static void customer_orders(struct test_app *app, const char *id,
			    const char *email, const char *orderid)
{
	static const uint8_t key[WEBHOOK_SECRET_LEN] = {1, 2, 3};
	struct msg m = {.type = MSG_CREATE_CUSTOMER};
	struct sc_err err;

	m.u.create_customer = (struct cmd_create_customer){
		id, "Cinema", email, "https://hooks.example/x", key, 1, NULL};
	err_clear(&err);
	assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_OK);
	m = (struct msg){.type = MSG_ALLOCATE};
	m.u.allocate = (struct cmd_allocate){orderid, "T", 1, false, id, 0};
	assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_OK);
}

static void a_failing_receiver_is_retried_with_backoff_then_dead(void **state)
{
	struct test_app *app = *state;
	struct fake_webhook hook = {{&fake_webhook_ops}, 99, 0, 0};
	struct deliverer d;
	struct delivery *rows;
	struct sc_err err;
	size_t n;
	int64_t t = 1000000;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	customer_orders(app, "c1", NULL, "o1");
	deliverer_init(&d, app->relay_uow, &hook.base, &app->notifier.base, 7);
	d.max_attempts = 3;
	d.backoff_ms = 100;
	for (unsigned attempt = 1; attempt <= 3; attempt++) {
		err_clear(&err);
		assert_int_equal(deliverer_run_once(&d, t, &n, &err), SC_OK);
		assert_int_equal(n, 1);
		assert_int_equal(hook.n_calls, (int)attempt);
		assert_int_equal(
			uow_delivery_list(app->uow,
					  &(struct delivery_filter){-1, 10},
					  &app->scratch, &rows, &n, &err),
			SC_OK);
		assert_int_equal(rows[0].attempts, attempt);
		if (attempt < 3) {
			/* full jitter under a doubling ceiling */
			assert_int_equal(rows[0].state, NOTICE_PENDING);
			assert_true(rows[0].next_at_ms >= t);
			assert_true(rows[0].next_at_ms <=
				    t + 100 * (1 << (attempt - 1)));
			assert_string_equal(rows[0].last_error,
					    "webhook: the receiver answered "
					    "503");
			/* not due before its time */
			assert_int_equal(
				deliverer_run_once(&d, rows[0].next_at_ms - 1,
						   &n, &err),
				SC_OK);
			assert_int_equal(n, 0);
			t = rows[0].next_at_ms;
		} else {
			assert_int_equal(rows[0].state, NOTICE_DEAD);
		}
	}
	/* dead: never tried again on its own */
	assert_int_equal(deliverer_run_once(&d, t + 86400000, &n, &err), SC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(hook.n_calls, 3);
	assert_int_equal(atomic_load(&d.n_dead), 1);
	assert_int_equal(atomic_load(&d.n_failed), 3);
	deliverer_release(&d);
}

static void an_email_notice_goes_through_the_notifier(void **state)
{
	struct test_app *app = *state;
	struct fake_webhook hook = {{&fake_webhook_ops}, 0, 0, 0};
	struct deliverer d;
	struct sc_err err;
	size_t n;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	customer_orders(app, "c1", "buyer@cinema.example", "o1");
	deliverer_init(&d, app->relay_uow, &hook.base, &app->notifier.base, 7);
	err_clear(&err);
	assert_int_equal(deliverer_run_once(&d, 1, &n, &err), SC_OK);
	assert_int_equal(n, 2); /* webhook and email */
	assert_int_equal(hook.n_calls, 1);
	assert_int_equal(app->notifier.n_calls, 1);
	assert_string_equal(app->notifier.to[0], "buyer@cinema.example");
	assert_non_null(strstr(app->notifier.body[0],
			       "Your order o1: 1 of T is allocated."));
	assert_int_equal(atomic_load(&d.n_delivered), 2);
	assert_int_equal(deliverer_run_once(&d, 2, &n, &err), SC_OK);
	assert_int_equal(n, 0); /* delivered: done */
	deliverer_release(&d);
}

static void backoff_is_full_jitter_under_a_doubling_ceiling(void **state)
{
	struct deliverer d;
	int64_t lo = INT64_MAX, hi = 0;

	(void)state;
	deliverer_init(&d, NULL, NULL, NULL, 42);
	d.backoff_ms = 1000;
	d.backoff_max_ms = 60000;
	for (unsigned a = 1; a <= 40; a++) {
		int64_t cap = a >= 7 ? 60000 : 1000LL << (a - 1);

		for (int i = 0; i < 200; i++) {
			int64_t b = deliverer_backoff_ms(&d, a);

			assert_true(b >= 0 && b <= cap);
			if (a == 1) {
				lo = b < lo ? b : lo;
				hi = b > hi ? b : hi;
			}
		}
	}
	/* spread over the range, not one value */
	assert_true(lo < 100 && hi > 900);
	deliverer_release(&d);
}

/* SetLowStock through the bus; its code. */
static int app_low_stock(struct test_app *app, const char *sku, long long n)
{
	struct msg m = {.type = MSG_SET_LOW_STOCK};
	struct sc_err err;

	err_clear(&err);
	m.u.set_low_stock = (struct cmd_set_low_stock){sku, n};
	return bus_handle(&app->bus, &m, NULL, &err);
}

static void the_stock_team_hears_once_when_stock_falls_below(void **state)
{
	struct test_app *app = *state;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(app_low_stock(app, "T", 5), SC_OK);
	assert_int_equal(app_low_stock(app, "NOPE", 5), SC_ENOTFOUND);
	assert_int_equal(app_low_stock(app, "T", -1), SC_EINVAL);
	assert_int_equal(app_allocate(app, "o1", "T", 4, NULL, 0), SC_OK);
	assert_int_equal(app->notifier.n_calls, 0); /* 6 left: fine */
	assert_int_equal(app_allocate(app, "o2", "T", 2, NULL, 0), SC_OK);
	assert_int_equal(app->notifier.n_calls, 1); /* 4 left: crossed */
	assert_string_equal(app->notifier.body[0],
			    "Low stock for T: 4 available, below its "
			    "threshold");
	assert_int_equal(app_allocate(app, "o3", "T", 1, NULL, 0), SC_OK);
	assert_int_equal(app->notifier.n_calls, 1); /* still below: quiet */
	/* back above, then below again: a new crossing, a new mail */
	assert_int_equal(app_add_batch(app, "b2", "T", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o4", "T", 10, NULL, 0), SC_OK);
	assert_int_equal(app->notifier.n_calls, 2);
	assert_int_equal(app_load(app, "T")->low_stock, 5);
	/* a threshold set above what is left alerts at once */
	assert_int_equal(app_low_stock(app, "T", 50), SC_OK);
	assert_int_equal(app->notifier.n_calls, 3);
}

static int64_t fake_now;

static int64_t fake_clock(void)
{
	return fake_now;
}

static void repeated_alerts_are_folded_within_the_window(void **state)
{
	struct test_app *app = *state;

	app->relay.coalesce_s = 300;
	app->relay.now_s = fake_clock;
	fake_now = 1000;
	assert_int_equal(app_add_batch(app, "b1", "T", 1, ""), SC_OK);
	assert_int_equal(app_add_batch(app, "u1", "U", 1, ""), SC_OK);
	for (int i = 0; i < 3; i++) {
		char id[8];

		(void)snprintf(id, sizeof(id), "o%d", i);
		assert_int_equal(app_allocate(app, id, "T", 5, NULL, 0), SC_OK);
	}
	assert_int_equal(app->notifier.n_calls, 1); /* one of three */
	assert_int_equal(app_allocate(app, "x", "U", 5, NULL, 0), SC_OK);
	assert_int_equal(app->notifier.n_calls, 2); /* another sku: mailed */
	fake_now += 299;
	assert_int_equal(app_allocate(app, "o8", "T", 5, NULL, 0), SC_OK);
	assert_int_equal(app->notifier.n_calls, 2);
	fake_now += 1; /* the window is over: mailed, with the count */
	assert_int_equal(app_allocate(app, "o9", "T", 5, NULL, 0), SC_OK);
	assert_int_equal(app->notifier.n_calls, 3);
	assert_string_equal(app->notifier.body[2],
			    "Out of stock for T: order o9 wanted 5 (and 3 more "
			    "like it since the last mail)");
}

static void old_backorders_are_told_once(void **state)
{
	struct test_app *app = *state;
	struct msg m = {.type = MSG_ALERT_AGED_BACKORDERS};
	struct bus_result res;
	struct sc_err err;
	int64_t now = (int64_t)time(NULL);

	assert_int_equal(app_add_batch(app, "b1", "T", 1, ""), SC_OK);
	assert_int_equal(app_backorder(app, "o1", "T", 5, &res), SC_OK);
	assert_int_equal(app->notifier.n_calls, 1); /* its OutOfStock */
	m.u.alert_aged_backorders = (struct cmd_alert_aged_backorders){now, 60};
	err_clear(&err);
	assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_OK);
	relay_run_once(&app->relay, NULL, &err);    /* the timer's wake-up */
	assert_int_equal(app->notifier.n_calls, 1); /* not old yet */
	m.u.alert_aged_backorders.now = now + 61;
	assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_OK);
	relay_run_once(&app->relay, NULL, &err);
	assert_int_equal(app->notifier.n_calls, 2);
	assert_string_equal(
		app->notifier.body[1],
		"Backorder waiting too long for T: order o1 wants 5");
	m.u.alert_aged_backorders.now = now + 6100;
	assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_OK);
	relay_run_once(&app->relay, NULL, &err);
	assert_int_equal(app->notifier.n_calls, 2); /* once, ever */
	m.u.alert_aged_backorders.age_s = 0;
	assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_EINVAL);
}

static void customer_channels_are_checked(void **state)
{
	(void)state;
	assert_true(customer_email_valid("a@b.example"));
	assert_false(customer_email_valid("a@b"));
	assert_false(customer_email_valid("@b.example"));
	assert_false(customer_email_valid("a@@b.example"));
	assert_false(customer_email_valid("a b@c.example"));
	assert_false(customer_email_valid("a@b.example."));
	assert_false(customer_email_valid(""));
	assert_true(customer_url_valid("https://hooks.example/x?y=1"));
	assert_true(customer_url_valid("http://127.0.0.1:8080/hook"));
	assert_false(customer_url_valid("ftp://hooks.example/x"));
	assert_false(customer_url_valid("https://"));
	assert_false(customer_url_valid("https://a b.example/"));
	assert_false(customer_url_valid("hooks.example/x"));
	assert_int_equal(notice_of_event(MSG_OUT_OF_STOCK), -1);
	assert_int_equal(notice_named("order_line.deallocated"),
			 NOTICE_DEALLOCATED);
}

static void change_of_an_unknown_batch_is_not_found(void **state)
{
	struct test_app *app = *state;

	assert_int_equal(app_change_qty(app, "ghost", 5), SC_ENOTFOUND);
}

static void bad_command_values_change_nothing(void **state)
{
	struct test_app *app = *state;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(app_add_batch(app, "b2", "T", -1, ""), SC_EINVAL);
	assert_int_equal(app_allocate(app, "o1", "T", 0, NULL, 0), SC_EINVAL);
	assert_int_equal(app_change_qty(app, "b1", SC_QTY_MAX + 1), SC_EINVAL);
	assert_int_equal(app_load(app, "T")->version, 1);
	assert_int_equal(app_load(app, "T")->n_batches, 1);
}

static void uncommitted_work_is_rolled_back(void **state)
{
	struct test_app *app = *state;
	struct product *p;
	struct arena a;
	struct sc_err err;

	arena_init(&a);
	err_clear(&err);
	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(uow_begin(app->uow, &a, &err), SC_OK);
	assert_int_equal(repo_get(app->uow, "T", NULL, &p, &err), SC_OK);
	assert_int_equal(product_add_batch(p,
					   &(struct batch_spec){
						   .ref = "b2",
						   .qty = 5,
						   .has_eta = false,
						   .eta = 0,
						   .supplier = SUPPLIER_NONE},
					   &err),
			 SC_OK);
	uow_rollback(app->uow);
	assert_int_equal(app_load(app, "T")->n_batches, 1);
	arena_release(&a);
}

static void stale_product_cannot_be_committed(void **state)
{
	struct test_app *app = *state;
	struct uow *other;
	struct product *p1, *p2;
	struct order_line l1 = {"o1", "T", 10}, l2 = {"o2", "T", 10};
	const char *ref;
	struct arena a1, a2;
	struct sc_err err;

	arena_init(&a1);
	arena_init(&a2);
	err_clear(&err);
	assert_int_equal(memory_uow_new(app->store, &other, &err), SC_OK);
	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(uow_begin(app->uow, &a1, &err), SC_OK);
	assert_int_equal(uow_begin(other, &a2, &err), SC_OK);
	assert_int_equal(repo_get(app->uow, "T", NULL, &p1, &err), SC_OK);
	assert_int_equal(repo_get(other, "T", NULL, &p2, &err), SC_OK);
	assert_int_equal(product_allocate(p1, &l1, &ref, &err), SC_OK);
	assert_int_equal(product_allocate(p2, &l2, &ref, &err), SC_OK);
	assert_int_equal(uow_commit(app->uow, &err), SC_OK);
	assert_int_equal(uow_commit(other, &err), SC_ECONFLICT);
	uow_rollback(other);
	/* no oversell: one winner, version +1 */
	assert_int_equal(app_load(app, "T")->batches[0].allocated, 10);
	assert_int_equal(app_load(app, "T")->version, 2);
	uow_free(other);
	arena_release(&a1);
	arena_release(&a2);
}

/* Rival writer: another unit of work adds stock behind the bus's back. */
/*
 * A rival writer on its own connection (the relay's unit of work), as a
 * second server would be: it commits while ours is in its transaction.
 */
static void rival_adds_a_batch(void *ctx)
{
	static int n;
	struct test_app *app = ctx;
	struct deps d = {.uow = app->relay_uow};
	struct msg m = {.type = MSG_CREATE_BATCH};
	struct sc_err err;
	struct bus rival;
	char ref[32];

	(void)snprintf(ref, sizeof(ref), "rival-%d", n++);
	m.u.create_batch.ref = ref;
	m.u.create_batch.sku = "T";
	m.u.create_batch.qty = 1;
	bus_init(&rival, &d, 3);
	err_clear(&err);
	assert_int_equal(bus_handle(&rival, &m, NULL, &err), SC_OK);
	bus_release(&rival);
}

static struct bus *wrapped_bus(struct test_app *app, struct faulty_uow *f,
			       struct bus *b)
{
	struct deps d = {0};

	faulty_uow_init(f, app->uow);
	d.uow = &f->base;
	d.signal = &app->signal.base;
	bus_init(b, &d, 7);
	b->backoff_us = 1;
	return b;
}

static int send_allocate(struct bus *b, const char *orderid, long long qty,
			 struct bus_result *res, struct sc_err *err)
{
	struct msg m = {.type = MSG_ALLOCATE};

	m.u.allocate.orderid = orderid;
	m.u.allocate.sku = "T";
	m.u.allocate.qty = qty;
	err_clear(err);
	return bus_handle(b, &m, res, err);
}

static void bus_retries_a_lost_race(void **state)
{
	struct test_app *app = *state;
	struct faulty_uow f;
	struct bus b;
	struct bus_result res = {0};
	struct sc_err err;
	struct product *p;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	wrapped_bus(app, &f, &b);
	f.races = 2;
	f.rival = rival_adds_a_batch;
	f.rival_ctx = app;
	assert_int_equal(send_allocate(&b, "o1", 4, &res, &err), SC_OK);
	assert_int_equal(b.n_retries, 2);
	assert_string_equal(res.batchref, "b1");
	p = app_load(app, "T");
	/* both rivals' batches and our line: nothing was overwritten */
	assert_int_equal(p->n_batches, 3);
	assert_int_equal(p->batches[0].allocated, 4);
	assert_int_equal(p->version, 4);
	bus_release(&b);
}

static void bus_gives_up_after_max_attempts(void **state)
{
	struct test_app *app = *state;
	struct faulty_uow f;
	struct bus b;
	struct sc_err err;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	wrapped_bus(app, &f, &b);
	b.max_attempts = 3;
	f.races = 100;
	f.rival = rival_adds_a_batch;
	f.rival_ctx = app;
	assert_int_equal(send_allocate(&b, "o1", 4, NULL, &err), SC_ECONFLICT);
	assert_int_equal(b.n_retries, 2);
	assert_int_equal(app_load(app, "T")->batches[0].allocated, 0);
	bus_release(&b);
}

/* Fail each port call in turn: SC_EIO reaches the caller, store intact. */
static void store_failure_reaches_the_caller_and_changes_nothing(void **st)
{
	struct test_app *app = *st;
	struct faulty_uow f;
	struct bus b;
	struct sc_err err;
	long n;

	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	wrapped_bus(app, &f, &b);
	for (n = 0;; n++) {
		char want[64];
		int rc;

		f.fail_call = n;
		f.n_calls = 0;
		rc = send_allocate(&b, "o1", 4, NULL, &err);
		if (!rc)
			break;
		assert_int_equal(rc, SC_EIO);
		(void)snprintf(want, sizeof(want), "injected fault at call %ld",
			       n);
		assert_string_equal(err.msg, want);
		assert_int_equal(app_load(app, "T")->batches[0].allocated, 0);
	}
	assert_true(n >= 3); /* begin, get, commit each failed once */
	assert_int_equal(app_load(app, "T")->batches[0].allocated, 4);
	bus_release(&b);
}

static int n_logged;
static void count_line(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	(void)line;
	if (level >= LOG_WARN)
		n_logged++;
}

static void drop_line(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	(void)line;
}

static int n_second;
static int failing_handler(const struct msg *m, struct deps *d,
			   struct bus_result *res, struct sc_err *err)
{
	(void)m;
	(void)d;
	(void)res;
	return err_set(err, SC_EIO, "handler fails");
}

static int counting_handler(const struct msg *m, struct deps *d,
			    struct bus_result *res, struct sc_err *err)
{
	(void)m;
	(void)d;
	(void)res;
	(void)err;
	n_second++;
	return SC_OK;
}

static void event_handler_error_is_logged_and_the_others_still_run(void **st)
{
	struct test_app *app = *st;
	struct handler_entry table[MSG__COUNT];

	memcpy(table, handler_table, sizeof(table));
	table[MSG_ALLOCATED].n_fns = 2;
	table[MSG_ALLOCATED].fns[0] = failing_handler;
	table[MSG_ALLOCATED].fns[1] = counting_handler;
	app->bus.table = table;
	n_logged = n_second = 0;
	log_set_sink(count_line, NULL);
	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 4, NULL, 0), SC_OK);
	log_set_sink(NULL, NULL);
	assert_int_equal(n_logged, 1);
	assert_int_equal(n_second, 1);
	assert_int_equal(batch_of(app, "T", "b1")->allocated, 4);
}

static void failed_delivery_stays_queued_and_is_sent_once_later(void **st)
{
	struct test_app *app = *st;
	struct outbox_item *items;
	struct sc_err err;
	size_t n, n_sent;

	err_clear(&err);
	log_set_sink(drop_line, NULL);
	app->publisher.fail_with = SC_EIO;
	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 4, NULL, 0), SC_OK);
	assert_int_equal(app_allocate(app, "o2", "T", 7, NULL, 0), SC_OK);
	assert_int_equal(app->signal.last_rc, SC_EIO);
	/* the broker is down: nothing published, the mail still went */
	assert_int_equal(app->publisher.n_calls, 0);
	assert_int_equal(app->notifier.n_calls, 1);
	assert_int_equal(uow_outbox_pending(app->uow, 10, &app->scratch, &items,
					    &n, &err),
			 SC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].ev.type, MSG_ALLOCATED);
	assert_int_equal(items[0].attempts, 2); /* one per relay round */
	/* back up: delivered once, with its outbox id */
	app->publisher.fail_with = 0;
	assert_int_equal(relay_run_once(&app->relay, &n_sent, &err), SC_OK);
	assert_int_equal(n_sent, 1);
	assert_int_equal(relay_run_once(&app->relay, &n_sent, &err), SC_OK);
	assert_int_equal(n_sent, 0);
	log_set_sink(NULL, NULL);
	assert_int_equal(app->publisher.n_calls, 1);
	assert_int_equal(app->publisher.id[0], items[0].id);
	assert_string_equal(app->publisher.orderid[0], "o1");
	assert_int_equal(uow_outbox_pending(app->uow, 10, &app->scratch, &items,
					    &n, &err),
			 SC_OK);
	assert_int_equal(n, 0);
}

/* The relay's store fails: before delivery nothing is sent; after it,
 * the event stays queued and goes out again with the same id. */
static void relay_store_failures_keep_delivery_at_least_once(void **st)
{
	struct test_app *app = *st;
	struct faulty_uow f;
	struct relay r;
	struct sc_err err;
	size_t n_sent;

	faulty_uow_init(&f, app->relay_uow);
	relay_init(&r, &f.base, &app->publisher.base, &app->notifier.base,
		   "stock@scents.example");
	app->bus.deps.signal = NULL; /* this test runs the relay itself */
	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 4, NULL, 0), SC_OK);
	err_clear(&err);
	f.fail_call = 0; /* reading the outbox fails */
	assert_int_equal(relay_run_once(&r, &n_sent, &err), SC_EIO);
	assert_int_equal(app->publisher.n_calls, 0);
	err_clear(&err);
	f.fail_call = 1; /* marking it sent fails, after the publish */
	f.n_calls = 0;
	assert_int_equal(relay_run_once(&r, &n_sent, &err), SC_EIO);
	assert_int_equal(app->publisher.n_calls, 1);
	err_clear(&err);
	f.fail_call = -1;
	/* still leased to the round that could not mark it: nobody sends it */
	assert_int_equal(relay_run_once(&r, &n_sent, &err), SC_OK);
	assert_int_equal(n_sent, 0);
	assert_int_equal(app->publisher.n_calls, 1);
	/* the lease runs out, as if that server had died: sent again */
	memory_store_advance_clock(app->store, OUTBOX_LEASE_S);
	assert_int_equal(relay_run_once(&r, &n_sent, &err), SC_OK);
	assert_int_equal(n_sent, 1);
	assert_int_equal(app->publisher.n_calls, 2);
	assert_int_equal(app->publisher.id[1], app->publisher.id[0]);
	assert_int_equal(relay_run_once(&r, &n_sent, &err), SC_OK);
	assert_int_equal(n_sent, 0);
	relay_release(&r);
}

static void events_of_a_rolled_back_command_never_leave(void **st)
{
	struct test_app *app = *st;
	struct outbox_item *items;
	struct sc_err err;
	size_t n;

	err_clear(&err);
	assert_int_equal(app_add_batch(app, "b1", "T", 10, ""), SC_OK);
	assert_int_equal(app_allocate(app, "o1", "T", 4, NULL, 0), SC_OK);
	/* same order, other qty: the command fails after nothing queued */
	assert_int_equal(app_allocate(app, "o1", "T", 5, NULL, 0), SC_EEXIST);
	assert_int_equal(app->publisher.n_calls, 1);
	assert_int_equal(uow_outbox_pending(app->uow, 10, &app->scratch, &items,
					    &n, &err),
			 SC_OK);
	assert_int_equal(n, 0);
}

static int import(struct test_app *app, int32_t threshold_bp,
		  int32_t sea_cheap_bp)
{
	static struct research_row rows[2];
	struct msg m = {.type = MSG_IMPORT_RESEARCH};
	struct sc_err err;

	rows[0] = (struct research_row){"sea breeze",
					"SEA-BREEZE",
					10000 - sea_cheap_bp,
					sea_cheap_bp,
					2500,
					1500,
					0};
	rows[1] = (struct research_row){"jungle", "JUNGLE", 7000, 3000,
					3000,	  2500,	    0};
	m.u.import_research.rows = rows;
	m.u.import_research.n_rows = 2;
	m.u.import_research.threshold_bp = threshold_bp;
	m.u.import_research.day = 20000;
	err_clear(&err);
	return bus_handle(&app->bus, &m, NULL, &err);
}

static int add_with_supplier(struct test_app *app, const char *ref,
			     const char *sku, enum supplier supplier)
{
	struct msg m = {.type = MSG_CREATE_BATCH};
	struct sc_err err;

	m.u.create_batch.ref = ref;
	m.u.create_batch.sku = sku;
	m.u.create_batch.qty = 10;
	m.u.create_batch.supplier = supplier;
	err_clear(&err);
	return bus_handle(&app->bus, &m, NULL, &err);
}

static void batch_after_an_import_records_the_decided_supplier(void **st)
{
	struct test_app *app = *st;

	assert_int_equal(app_add_batch(app, "before", "SEA-BREEZE", 10, ""),
			 SC_OK);
	assert_int_equal(import(app, SOURCING_THRESHOLD_BP, 6000), SC_OK);
	assert_int_equal(app_add_batch(app, "sea", "SEA-BREEZE", 10, ""),
			 SC_OK);
	assert_int_equal(app_add_batch(app, "jun", "JUNGLE", 10, ""), SC_OK);
	assert_int_equal(app_add_batch(app, "other", "UNRESEARCHED", 10, ""),
			 SC_OK);
	assert_int_equal(add_with_supplier(app, "forced", "SEA-BREEZE",
					   SUPPLIER_EXPENSIVE),
			 SC_OK);
	assert_int_equal(batch_of(app, "SEA-BREEZE", "before")->supplier,
			 SUPPLIER_NONE);
	assert_int_equal(batch_of(app, "SEA-BREEZE", "sea")->supplier,
			 SUPPLIER_CHEAP);
	assert_int_equal(batch_of(app, "JUNGLE", "jun")->supplier,
			 SUPPLIER_EXPENSIVE);
	assert_int_equal(batch_of(app, "UNRESEARCHED", "other")->supplier,
			 SUPPLIER_NONE);
	assert_int_equal(batch_of(app, "SEA-BREEZE", "forced")->supplier,
			 SUPPLIER_EXPENSIVE);
	/* a re-send naming another supplier is a conflict */
	assert_int_equal(
		add_with_supplier(app, "forced", "SEA-BREEZE", SUPPLIER_CHEAP),
		SC_EEXIST);
}

static void rounds_are_kept_and_the_latest_decides(void **st)
{
	struct sku_history hist;
	struct test_app *app = *st;
	struct sku_decision *h;
	struct research_round *latest;
	struct sc_err err;
	size_t n;

	err_clear(&err);
	assert_int_equal(import(app, SOURCING_THRESHOLD_BP, 4500), SC_OK);
	assert_int_equal(import(app, 5000, 4500), SC_OK);
	assert_int_equal(
		uow_research_round(app->uow, 0, &app->scratch, &latest, &err),
		SC_OK);
	assert_int_equal(latest->id, 2);
	assert_int_equal(latest->threshold_bp, 5000);
	assert_int_equal(latest->decisions[0].supplier, SUPPLIER_EXPENSIVE);
	assert_int_equal(uow_research_history(app->uow, "SEA-BREEZE", 10,
					      &app->scratch, &hist, &err),
			 SC_OK);
	h = hist.items;
	n = hist.n;
	assert_int_equal(n, 2);
	assert_int_equal(h[0].round_id, 2);
	assert_int_equal(h[0].decision.supplier, SUPPLIER_EXPENSIVE);
	assert_int_equal(h[1].round_id, 1);
	assert_int_equal(h[1].decision.supplier, SUPPLIER_CHEAP);
	assert_int_equal(app_add_batch(app, "b", "SEA-BREEZE", 1, ""), SC_OK);
	assert_int_equal(batch_of(app, "SEA-BREEZE", "b")->supplier,
			 SUPPLIER_EXPENSIVE);
}

static void bad_research_changes_nothing(void **st)
{
	struct test_app *app = *st;
	struct research_round *latest;
	struct sc_err err;

	assert_int_equal(import(app, 10001, 6000), SC_EINVAL);
	assert_int_equal(import(app, SOURCING_THRESHOLD_BP, 10001), SC_EINVAL);
	err_clear(&err);
	assert_int_equal(
		uow_research_round(app->uow, 0, &app->scratch, &latest, &err),
		SC_ENOTFOUND);
}

/*
 * Allocate with the fault armed at @n (FAULT_MEM_COUNT: never) on a fresh
 * app whose bus arena gives each allocation its own block.  Returns the
 * code; *@seen gets the allocations the command asked for.
 */
static int allocate_with_fault(long n, long *seen)
{
	struct test_app app;
	int rc;

	test_app_init(&app);
	assert_int_equal(app_add_batch(&app, "b1", "T", 10, ""), SC_OK);
	app.bus.arena.each = true; /* every allocation a failure point */
	fault_mem_arm(n);
	rc = app_allocate(&app, "o1", "T", 4, NULL, 0);
	*seen = fault_mem_end(n); /* aborts unless it failed where it claims */
	log_set_sink(NULL, NULL);
	if (rc)
		assert_int_equal(rc, SC_ENOMEM);
	assert_int_equal(batch_of(&app, "T", "b1")->allocated, rc ? 0 : 4);
	test_app_release(&app);
	return rc;
}

/*
 * Fail each allocation of a whole command in turn - the bus, the
 * handler, the domain, the memory store's commit: each run is SC_OK or
 * SC_ENOMEM and leaves the store as it was or as committed.
 */
static void allocate_survives_every_allocation_failure(void **state)
{
	long points, seen, failed = 0;

	(void)state;
	assert_int_equal(allocate_with_fault(FAULT_MEM_COUNT, &points), SC_OK);
	assert_true(points >= 10);
	for (long n = 0; n < points; n++)
		failed += allocate_with_fault(n, &seen) == SC_ENOMEM;
	assert_true(failed > 0);
}

/*
 * Every message type, sent as the emptiest message there is: a command
 * must reach its one handler and be refused with SC_EINVAL (its values
 * are checked there, for every transport), never crash or change the
 * store; an event's entry must name real functions.  A new type added to
 * enum msg_type without its handlers fails here.
 */
/* One command through @b; asserts it succeeded. */
static void send_ok(struct bus *b, struct msg m)
{
	struct sc_err err;

	err_clear(&err);
	assert_int_equal(bus_handle(b, &m, NULL, &err), SC_OK);
}

/*
 * docs/scaling.md's claim, measured: every write transaction of every
 * product command writes rows of one sku only (products, batches, lines,
 * read model, outbox), so the store can be distributed by sku.  Includes
 * a shrink that deallocates and reallocates in one transaction, and a
 * line's cancel.  (Cancelling a whole order spans its skus on purpose:
 * docs/scaling.md.)
 */
static void every_write_transaction_touches_one_sku(void **state)
{
	struct test_app *app = *state;
	struct faulty_uow f;
	struct bus b;
	struct msg m = {.type = MSG_CREATE_BATCH};

	wrapped_bus(app, &f, &b);
	m.u.create_batch =
		(struct cmd_create_batch){.ref = "w1", .sku = "T", .qty = 10};
	send_ok(&b, m);
	m.u.create_batch = (struct cmd_create_batch){
		.ref = "s1", .sku = "T", .qty = 50, .has_eta = true, .eta = 1};
	send_ok(&b, m);
	m.u.create_batch =
		(struct cmd_create_batch){.ref = "u1", .sku = "U", .qty = 5};
	send_ok(&b, m);
	for (int i = 0; i < 4; i++) {
		char id[16];

		(void)snprintf(id, sizeof(id), "o%d", i);
		m = (struct msg){.type = MSG_ALLOCATE,
				 .u.allocate = {id, i % 2 ? "U" : "T", 2, false,
						NULL, 0}};
		send_ok(&b, m);
	}
	/* shrink w1 below its lines: deallocate, reallocate to s1 */
	m = (struct msg){.type = MSG_CHANGE_BATCH_QUANTITY,
			 .u.change_batch_quantity = {"w1", 1}};
	send_ok(&b, m);
	assert_int_equal(app_load(app, "T")->batches[1].allocated, 4);
	/* cancelling one line */
	m = (struct msg){.type = MSG_DEALLOCATE, .u.deallocate = {"o1", "U"}};
	send_ok(&b, m);
	assert_int_equal(f.max_touched, 1);
	bus_release(&b);
}

static void every_message_type_has_its_handlers(void **state)
{
	struct test_app *app = *state;
	size_t n_commands = 0;

	for (int t = 0; t < MSG__COUNT; t++) {
		const struct handler_entry *h = &handler_table[t];
		struct msg m;
		struct sc_err err;

		memset(&m, 0, sizeof(m));
		m.type = (enum msg_type)t;
		assert_string_not_equal(msg_name(m.type), "?");
		if (!msg_is_command(&m)) {
			for (unsigned i = 0; i < h->n_fns; i++)
				assert_non_null(h->fns[i]);
			continue;
		}
		assert_int_equal(h->n_fns, 1);
		assert_non_null(h->fns[0]);
		err_clear(&err);
		assert_int_equal(bus_handle(&app->bus, &m, NULL, &err),
				 SC_EINVAL);
		assert_true(err.msg[0] != '\0');
		n_commands++;
	}
	assert_int_equal(n_commands, MSG__FIRST_EVENT);
	assert_int_equal(app->publisher.n_calls + app->notifier.n_calls, 0);
}

/* The version of SKU's active formula (0: none). */
static int32_t active_formula(struct test_app *app)
{
	struct formula *f;
	struct sc_err err;
	int rc;

	err_clear(&err);
	rc = uow_formula_get(app->uow, "SKU", 0, &app->scratch, &f, &err);
	return rc ? 0 : f->version;
}

static int activate_formula(struct test_app *app, int32_t version)
{
	struct msg m = {.type = MSG_ACTIVATE_FORMULA};
	struct sc_err err;

	m.u.activate_formula = (struct cmd_activate_formula){
		"SKU", version, "tester", NULL, 100};
	err_clear(&err);
	return bus_handle(&app->bus, &m, NULL, &err);
}

/*
 * Property: whatever version was active, activating another one and then
 * reverting restores it, over a random walk of 200 steps (seeded); an
 * unknown version changes nothing.
 */
static void promotion_then_reversal_restores_the_formula(void **state)
{
	static const struct ingredient cat[] = {{"water", NULL, -1, {1, 2}}};
	static const struct formula_line whole[] = {{"water", 100000}};
	struct test_app *app = *state;
	struct formula f = {"SKU", 0, 10, 1000, NULL, 0, whole, 1};
	struct msg m = {.type = MSG_PUT_INGREDIENTS};
	struct sc_err err;
	unsigned seed = 15;

	err_clear(&err);
	m.u.put_ingredients = (struct cmd_put_ingredients){cat, 1};
	assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_OK);
	m = (struct msg){.type = MSG_ADD_FORMULA};
	m.u.add_formula = (struct cmd_add_formula){&f, "tester", 1};
	for (int v = 1; v <= 5; v++)
		assert_int_equal(bus_handle(&app->bus, &m, NULL, &err), SC_OK);
	assert_int_equal(active_formula(app), 1);
	assert_int_equal(activate_formula(app, 0), SC_EINVAL); /* nothing yet */
	for (int step = 0; step < 200; step++) {
		int32_t before = active_formula(app);
		int32_t v = (int32_t)(rand_r(&seed) % 5) + 1;

		if (v == before)
			continue; /* a no-op: nothing to revert */
		assert_int_equal(activate_formula(app, v), SC_OK);
		assert_int_equal(active_formula(app), v);
		if (rand_r(&seed) % 3) { /* revert most; keep some */
			assert_int_equal(activate_formula(app, 0), SC_OK);
			assert_int_equal(active_formula(app), before);
		}
		arena_reset(&app->scratch);
	}
	assert_int_equal(activate_formula(app, 9), SC_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(add_batch_for_new_product),
		T(add_batch_for_existing_product),
		T(identical_add_batch_resend_changes_nothing),
		T(add_batch_with_a_taken_ref_is_a_conflict),
		T(allocate_returns_allocation),
		T(allocate_errors_for_invalid_sku),
		T(allocate_commits),
		T(sends_email_on_out_of_stock_error),
		T(publishes_allocated_event),
		T(identical_allocate_resend_publishes_nothing_new),
		T(changes_available_quantity),
		T(reallocates_if_necessary),
		T(reallocation_without_room_backorders_the_line),
		T(cancel_frees_the_line_and_publishes_deallocated),
		T(cancelling_an_order_frees_each_of_its_lines),
		T(cancelling_nothing_is_not_found_and_changes_nothing),
		T(a_cancelled_line_is_not_reallocated),
		T(a_backorder_waits_and_new_stock_fills_it),
		T(backorders_fill_oldest_first_and_big_ones_wait),
		T(cancelling_frees_stock_for_a_backorder_or_drops_one),
		T(a_failing_receiver_is_retried_with_backoff_then_dead),
		T(an_email_notice_goes_through_the_notifier),
		T(backoff_is_full_jitter_under_a_doubling_ceiling),
		T(customer_channels_are_checked),
		T(old_backorders_are_told_once),
		T(the_stock_team_hears_once_when_stock_falls_below),
		T(repeated_alerts_are_folded_within_the_window),
		T(change_of_an_unknown_batch_is_not_found),
		T(bad_command_values_change_nothing),
		T(uncommitted_work_is_rolled_back),
		T(stale_product_cannot_be_committed),
		T(bus_retries_a_lost_race),
		T(bus_gives_up_after_max_attempts),
		T(store_failure_reaches_the_caller_and_changes_nothing),
		T(event_handler_error_is_logged_and_the_others_still_run),
		T(failed_delivery_stays_queued_and_is_sent_once_later),
		T(events_of_a_rolled_back_command_never_leave),
		T(relay_store_failures_keep_delivery_at_least_once),
		T(batch_after_an_import_records_the_decided_supplier),
		T(rounds_are_kept_and_the_latest_decides),
		T(bad_research_changes_nothing),
		T(allocate_survives_every_allocation_failure),
		T(every_message_type_has_its_handlers),
		T(every_write_transaction_touches_one_sku),
		T(promotion_then_reversal_restores_the_formula),
#undef T
	};

	return cmocka_run_group_tests_name("test_handlers", tests, NULL, NULL);
}

/*
 * tests/unit/test_product.c - the seed's test_product, plus the rules of
 * design.md section 2 that the seed leaves out.
 */
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/date.h"
#include "domain/model.h"
#include "support/cmocka.h"
#include "support/fakes.h"

struct fixture {
	struct arena arena;
	struct sc_err err;
	struct product *p;
};

/* @p's change list is exactly @kinds (@n entries). */
static void assert_changes(const struct product *p,
			   const enum change_kind *kinds, size_t n)
{
	assert_int_equal(p->n_changes, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p->changes[i].kind, kinds[i]);
}

static int setup(void **state)
{
	static struct fixture f;

	arena_init(&f.arena);
	err_clear(&f.err);
	assert_int_equal(
		product_new(&f.arena, "RETRO-CLOCK", 0, true, &f.p, &f.err),
		SC_OK);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	arena_release(&f->arena);
	return 0;
}

static int32_t day(const char *s)
{
	int32_t d;

	assert_true(date_parse(s, &d));
	return d;
}

static void add(struct fixture *f, const char *ref, long long qty,
		const char *eta)
{
	assert_int_equal(product_add_batch(f->p,
					   &(struct batch_spec){
						   .ref = ref,
						   .qty = qty,
						   .has_eta = eta != NULL,
						   .eta = eta ? day(eta) : 0,
						   .supplier = SUPPLIER_NONE},
					   &f->err),
			 SC_OK);
}

static const char *alloc(struct fixture *f, const char *orderid, long long qty)
{
	struct order_line l = {orderid, "RETRO-CLOCK", qty};
	const char *ref = "unset";

	assert_int_equal(product_allocate(f->p, &l, &ref, &f->err), SC_OK);
	return ref;
}

static void prefers_warehouse_batches_to_shipments(void **state)
{
	struct fixture *f = *state;

	add(f, "shipment-batch", 100, "2026-11-26");
	add(f, "in-stock-batch", 100, NULL);
	assert_string_equal(alloc(f, "oref", 10), "in-stock-batch");
	assert_int_equal(
		batch_available(product_find_batch(f->p, "in-stock-batch")),
		90);
	assert_int_equal(
		batch_available(product_find_batch(f->p, "shipment-batch")),
		100);
}

static void prefers_earlier_batches(void **state)
{
	struct fixture *f = *state;

	add(f, "slow-batch", 100, "2027-01-01");
	add(f, "speedy-batch", 100, "2026-11-25");
	add(f, "normal-batch", 100, "2026-12-01");
	assert_string_equal(alloc(f, "order1", 10), "speedy-batch");
	assert_int_equal(
		batch_available(product_find_batch(f->p, "speedy-batch")), 90);
	assert_int_equal(
		batch_available(product_find_batch(f->p, "normal-batch")), 100);
	assert_int_equal(
		batch_available(product_find_batch(f->p, "slow-batch")), 100);
}

static void ties_go_to_the_batch_created_first(void **state)
{
	struct fixture *f = *state;

	add(f, "b-second", 100, "2026-12-01");
	add(f, "a-first", 100, "2026-12-01");
	add(f, "w-first", 100, NULL);
	add(f, "v-second", 100, NULL);
	assert_string_equal(alloc(f, "o1", 100), "w-first");
	assert_string_equal(alloc(f, "o2", 100), "v-second");
	assert_string_equal(alloc(f, "o3", 100), "b-second");
}

static void returns_allocated_batch_ref(void **state)
{
	struct fixture *f = *state;

	add(f, "in-stock-batch-ref", 100, NULL);
	add(f, "shipment-batch-ref", 100, "2026-11-26");
	assert_string_equal(alloc(f, "oref", 10), "in-stock-batch-ref");
}

static void outputs_allocated_event(void **state)
{
	struct fixture *f = *state;
	const struct msg *ev;

	add(f, "batchref", 100, NULL);
	alloc(f, "oref", 10);
	assert_int_equal(f->p->n_events, 1);
	ev = &f->p->events[f->p->n_events - 1];
	assert_int_equal(ev->type, MSG_ALLOCATED);
	assert_string_equal(ev->u.allocated.orderid, "oref");
	assert_string_equal(ev->u.allocated.sku, "RETRO-CLOCK");
	assert_int_equal(ev->u.allocated.qty, 10);
	assert_string_equal(ev->u.allocated.batchref, "batchref");
}

static void records_out_of_stock_event_if_cannot_allocate(void **state)
{
	struct fixture *f = *state;
	const struct msg *ev;
	int64_t version;

	add(f, "batch1", 10, "2026-11-25");
	alloc(f, "order1", 10);
	version = f->p->version;
	assert_null(alloc(f, "order2", 1));
	ev = &f->p->events[f->p->n_events - 1];
	assert_int_equal(ev->type, MSG_OUT_OF_STOCK);
	assert_string_equal(ev->u.out_of_stock.sku, "RETRO-CLOCK");
	/* it names the line that found no stock, so staff know whose */
	assert_string_equal(ev->u.out_of_stock.orderid, "order2");
	assert_int_equal(ev->u.out_of_stock.qty, 1);
	assert_int_equal(f->p->version, version);
	/* the out-of-stock attempt changed nothing: the list is as before */
	assert_changes(
		f->p,
		(enum change_kind[]){CHANGE_PRODUCT_ADDED, CHANGE_BATCH_ADDED,
				     CHANGE_LINE_ADDED, CHANGE_BATCH_TOTALS},
		4);
}

static void increments_version_number(void **state)
{
	struct fixture *f = *state;

	add(f, "b1", 100, NULL);
	f->p->version = 7;
	alloc(f, "oref", 10);
	assert_int_equal(f->p->version, 8);
}

static void every_change_bumps_the_version(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->p->version, 0);
	add(f, "b1", 10, NULL);
	assert_int_equal(f->p->version, 1);
	alloc(f, "o1", 5);
	assert_int_equal(f->p->version, 2);
	assert_int_equal(product_change_batch_quantity(f->p, "b1", 8, &f->err),
			 SC_OK);
	assert_int_equal(f->p->version, 3);
	/* a shrink that deallocates is a change too */
	assert_int_equal(product_change_batch_quantity(f->p, "b1", 4, &f->err),
			 SC_OK);
	assert_int_equal(f->p->version, 4);
	/* an unchanged quantity is no change */
	assert_int_equal(product_change_batch_quantity(f->p, "b1", 4, &f->err),
			 SC_OK);
	assert_int_equal(f->p->version, 4);
}

static void identical_reallocation_returns_existing_batch(void **state)
{
	struct fixture *f = *state;
	size_t n_events;

	add(f, "b1", 10, NULL);
	add(f, "b2", 10, NULL);
	assert_string_equal(alloc(f, "o1", 10), "b1");
	n_events = f->p->n_events;
	/* b1 is full now, yet a retry must give b1 back, not b2 */
	assert_string_equal(alloc(f, "o1", 10), "b1");
	assert_int_equal(f->p->n_events, n_events);
	assert_int_equal(f->p->version, 3);
	assert_int_equal(batch_available(product_find_batch(f->p, "b2")), 10);
}

static void conflicting_resend_is_an_error_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct order_line l = {"o1", "RETRO-CLOCK", 3};
	const char *ref = "unset";

	add(f, "b1", 10, NULL);
	alloc(f, "o1", 2);
	assert_int_equal(product_allocate(f->p, &l, &ref, &f->err), SC_EEXIST);
	assert_string_equal(f->err.msg,
			    "order 'o1' already has 2 of 'RETRO-CLOCK'");
	assert_string_equal(ref, "unset");
	assert_int_equal(batch_available(product_find_batch(f->p, "b1")), 8);
	assert_int_equal(f->p->version, 2);
}

static void line_of_another_sku_is_rejected(void **state)
{
	struct fixture *f = *state;
	struct order_line l = {"o1", "OTHER", 1};
	const char *ref;

	add(f, "b1", 10, NULL);
	assert_int_equal(product_allocate(f->p, &l, &ref, &f->err), SC_EINVAL);
	assert_int_equal(f->p->n_events, 0);
}

static void batch_ref_must_be_new(void **state)
{
	struct fixture *f = *state;

	add(f, "b1", 10, NULL);
	assert_int_equal(product_add_batch(f->p,
					   &(struct batch_spec){
						   .ref = "b1",
						   .qty = 10,
						   .has_eta = false,
						   .eta = 0,
						   .supplier = SUPPLIER_NONE},
					   &f->err),
			 SC_EEXIST);
	assert_int_equal(f->p->n_batches, 1);
	assert_int_equal(f->p->version, 1);
}

static void shrinking_deallocates_newest_lines_first(void **state)
{
	struct fixture *f = *state;
	struct batch *b;

	add(f, "b1", 10, NULL);
	alloc(f, "oldest", 4);
	alloc(f, "middle", 3);
	alloc(f, "newest", 2);
	assert_int_equal(product_change_batch_quantity(f->p, "b1", 5, &f->err),
			 SC_OK);
	b = product_find_batch(f->p, "b1");
	/* 9 allocated of 5: newest (2) then middle (3) go; 4 of 5 remain */
	assert_int_equal(b->allocated, 4);
	assert_int_equal(b->n_lines, 1);
	assert_string_equal(b->lines[0].orderid, "oldest");
	assert_int_equal(f->p->events[3].type, MSG_DEALLOCATED);
	assert_string_equal(f->p->events[3].u.deallocated.orderid, "newest");
	assert_int_equal(f->p->events[4].type, MSG_DEALLOCATED);
	assert_string_equal(f->p->events[4].u.deallocated.orderid, "middle");
	assert_int_equal(f->p->events[4].u.deallocated.qty, 3);
	/* a shrink is not a cancel: the handler reallocates these */
	assert_false(f->p->events[4].u.deallocated.cancelled);
	/* the typed change list, in the order things happened */
	assert_changes(
		f->p,
		(enum change_kind[]){CHANGE_PRODUCT_ADDED, CHANGE_BATCH_ADDED,
				     CHANGE_LINE_ADDED, CHANGE_BATCH_TOTALS,
				     CHANGE_LINE_ADDED, CHANGE_BATCH_TOTALS,
				     CHANGE_LINE_ADDED, CHANGE_BATCH_TOTALS,
				     CHANGE_LINE_REMOVED, CHANGE_LINE_REMOVED,
				     CHANGE_BATCH_TOTALS},
		11);
	assert_string_equal(f->p->changes[8].line.orderid, "newest");
	assert_string_equal(f->p->changes[9].line.orderid, "middle");
	assert_int_equal(f->p->changes[10].batch, 0);
}

static void deallocating_frees_the_line_and_records_deallocated(void **state)
{
	struct fixture *f = *state;
	struct order_line freed;
	const char *ref = NULL;
	const struct msg *ev;
	struct batch *b;
	int64_t version;

	add(f, "b1", 10, NULL);
	alloc(f, "first", 4);
	alloc(f, "middle", 3);
	alloc(f, "last", 2);
	version = f->p->version;
	assert_int_equal(
		product_deallocate(f->p, "middle", &freed, &ref, &f->err),
		SC_OK);
	assert_string_equal(freed.orderid, "middle");
	assert_string_equal(freed.sku, "RETRO-CLOCK");
	assert_int_equal(freed.qty, 3);
	assert_string_equal(ref, "b1");
	b = product_find_batch(f->p, "b1");
	/* the stock is free again; the other lines keep their order */
	assert_int_equal(b->allocated, 6);
	assert_int_equal(b->n_lines, 2);
	assert_string_equal(b->lines[0].orderid, "first");
	assert_string_equal(b->lines[1].orderid, "last");
	assert_int_equal(f->p->version, version + 1);
	ev = &f->p->events[f->p->n_events - 1];
	assert_int_equal(ev->type, MSG_DEALLOCATED);
	assert_string_equal(ev->u.deallocated.orderid, "middle");
	assert_string_equal(ev->u.deallocated.sku, "RETRO-CLOCK");
	assert_int_equal(ev->u.deallocated.qty, 3);
	assert_string_equal(ev->u.deallocated.batchref, "b1");
	/* cancelled: the Deallocated handler must not put it back */
	assert_true(ev->u.deallocated.cancelled);
	assert_int_equal(f->p->changes[f->p->n_changes - 2].kind,
			 CHANGE_LINE_REMOVED);
	assert_string_equal(f->p->changes[f->p->n_changes - 2].line.orderid,
			    "middle");
	assert_int_equal(f->p->changes[f->p->n_changes - 1].kind,
			 CHANGE_BATCH_TOTALS);
	/* the freed units can go to someone else */
	assert_string_equal(alloc(f, "next", 4), "b1");
}

static void deallocating_a_line_not_held_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct order_line freed;
	const char *ref = "unset";
	size_t n_events, n_changes;
	int64_t version;

	add(f, "b1", 10, NULL);
	alloc(f, "held", 4);
	version = f->p->version;
	n_events = f->p->n_events;
	n_changes = f->p->n_changes;
	assert_int_equal(
		product_deallocate(f->p, "other", &freed, &ref, &f->err),
		SC_ENOTFOUND);
	assert_string_equal(f->err.msg, "order 'other' holds no 'RETRO-CLOCK'");
	assert_int_equal(f->p->version, version);
	assert_int_equal(f->p->n_events, n_events);
	assert_int_equal(f->p->n_changes, n_changes);
	assert_int_equal(product_find_batch(f->p, "b1")->allocated, 4);
	/* a second cancel of the same line finds nothing: idempotent */
	assert_int_equal(
		product_deallocate(f->p, "held", &freed, &ref, &f->err), SC_OK);
	assert_int_equal(
		product_deallocate(f->p, "held", &freed, &ref, &f->err),
		SC_ENOTFOUND);
	assert_int_equal(product_find_batch(f->p, "b1")->allocated, 0);
}

static void low_stock_is_recorded_once_per_crossing(void **state)
{
	struct fixture *f = *state;
	size_t n;

	add(f, "b1", 10, NULL);
	assert_int_equal(product_set_low_stock(f->p, 5, &f->err), SC_OK);
	assert_int_equal(product_set_low_stock(f->p, -1, &f->err), SC_EINVAL);
	product_mark_loaded(f->p); /* each transaction starts here */
	alloc(f, "o1", 4);
	n = f->p->n_events;
	assert_int_equal(product_check_low_stock(f->p, &f->err), SC_OK);
	assert_int_equal(f->p->n_events, n); /* 6 left */
	product_mark_loaded(f->p);
	alloc(f, "o2", 2);
	assert_int_equal(product_check_low_stock(f->p, &f->err), SC_OK);
	assert_int_equal(f->p->n_events, n + 2);
	assert_int_equal(f->p->events[n + 1].type, MSG_LOW_STOCK);
	assert_int_equal(f->p->events[n + 1].u.low_stock.available, 4);
	/* twice in one transaction: still once */
	assert_int_equal(product_check_low_stock(f->p, &f->err), SC_OK);
	assert_int_equal(f->p->n_events, n + 2);
	product_mark_loaded(f->p);
	alloc(f, "o3", 1);
	assert_int_equal(product_check_low_stock(f->p, &f->err), SC_OK);
	assert_int_equal(f->p->n_events, n + 3); /* below already: quiet */
}

static void a_new_eta_tells_each_line_of_the_batch(void **state)
{
	struct fixture *f = *state;
	struct batch *b;
	size_t n;
	int64_t version;

	add(f, "ship", 10, "2027-01-01");
	alloc(f, "o1", 2);
	alloc(f, "o2", 3);
	n = f->p->n_events;
	version = f->p->version;
	assert_int_equal(product_change_batch_eta(f->p, "ship", true,
						  day("2027-02-01"), &f->err),
			 SC_OK);
	b = product_find_batch(f->p, "ship");
	assert_int_equal(b->eta, day("2027-02-01"));
	assert_int_equal(f->p->n_events, n + 2);
	assert_int_equal(f->p->events[n].type, MSG_ETA_CHANGED);
	assert_string_equal(f->p->events[n].u.eta_changed.orderid, "o1");
	assert_string_equal(f->p->events[n + 1].u.eta_changed.batchref, "ship");
	assert_int_equal(f->p->version, version + 1);
	/* the same date again: nothing; arrived: no ETA */
	assert_int_equal(product_change_batch_eta(f->p, "ship", true,
						  day("2027-02-01"), &f->err),
			 SC_OK);
	assert_int_equal(f->p->n_events, n + 2);
	assert_int_equal(
		product_change_batch_eta(f->p, "ship", false, 0, &f->err),
		SC_OK);
	assert_false(b->has_eta);
	assert_int_equal(
		product_change_batch_eta(f->p, "nope", false, 0, &f->err),
		SC_ENOTFOUND);
}

static void changing_an_unknown_batch_is_not_found(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
		product_change_batch_quantity(f->p, "nope", 1, &f->err),
		SC_ENOTFOUND);
	assert_string_equal(f->err.msg, "unknown batch 'nope'");
}

/* Fail each allocation in turn: SC_ENOMEM leaves the product as it was. */
/*
 * One allocation with the fault armed at @n (FAULT_MEM_COUNT: never),
 * on an arena whose every allocation is its own heap block.  Returns the
 * code; *@seen gets how many allocations the run asked for.
 */
static int allocate_with_fault(long n, long *seen)
{
	struct arena a;
	struct product *p = NULL;
	struct order_line l = {"o2", "RETRO-CLOCK", 1};
	struct sc_err err;
	const char *ref = NULL;
	int rc;

	arena_init(&a);
	a.each = true; /* else the first chunk serves all, and nothing fails */
	err_clear(&err);
	assert_int_equal(product_new(&a, "RETRO-CLOCK", 0, true, &p, &err),
			 SC_OK);
	assert_int_equal(product_add_batch(p,
					   &(struct batch_spec){
						   .ref = "b",
						   .qty = 5,
						   .has_eta = false,
						   .eta = 0,
						   .supplier = SUPPLIER_NONE},
					   &err),
			 SC_OK);
	fault_mem_arm(n);
	rc = product_allocate(p, &l, &ref, &err);
	*seen = fault_mem_end(n); /* aborts unless it failed where it claims */
	if (rc) {
		assert_int_equal(rc, SC_ENOMEM);
		assert_int_equal(p->version, 1);
		assert_int_equal(p->batches[0].allocated, 0);
		assert_int_equal(p->n_events, 0);
	} else {
		assert_string_equal(ref, "b");
	}
	arena_release(&a);
	return rc;
}

static void out_of_memory_leaves_the_product_unchanged(void **state)
{
	long points, seen;

	(void)state;
	assert_int_equal(allocate_with_fault(FAULT_MEM_COUNT, &points), SC_OK);
	assert_true(points >= 2); /* the line and the event, at least */
	for (long n = 0; n < points; n++)
		assert_int_equal(allocate_with_fault(n, &seen), SC_ENOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(prefers_warehouse_batches_to_shipments),
		T(prefers_earlier_batches),
		T(ties_go_to_the_batch_created_first),
		T(returns_allocated_batch_ref),
		T(outputs_allocated_event),
		T(records_out_of_stock_event_if_cannot_allocate),
		T(increments_version_number),
		T(every_change_bumps_the_version),
		T(identical_reallocation_returns_existing_batch),
		T(conflicting_resend_is_an_error_and_changes_nothing),
		T(line_of_another_sku_is_rejected),
		T(batch_ref_must_be_new),
		T(shrinking_deallocates_newest_lines_first),
		T(deallocating_frees_the_line_and_records_deallocated),
		T(deallocating_a_line_not_held_is_not_found),
		T(low_stock_is_recorded_once_per_crossing),
		T(a_new_eta_tells_each_line_of_the_batch),
		T(changing_an_unknown_batch_is_not_found),
		T(out_of_memory_leaves_the_product_unchanged),
#undef T
	};

	return cmocka_run_group_tests_name("test_product", tests, NULL, NULL);
}

/*
 * tests/unit/test_batches.c - the seed's test_batches: Batch on its own.
 */
#include "common/arena.h"
#include "common/err.h"
#include "domain/model.h"
#include "support/cmocka.h"

struct fixture {
	struct arena arena;
	struct sc_err err;
};

static int setup(void **state)
{
	static struct fixture f;

	arena_init(&f.arena);
	err_clear(&f.err);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	arena_release(&f->arena);
	return 0;
}

/* A batch and a line of the same sku, of the given quantities. */
static void make(struct fixture *f, struct batch *b, long long batch_qty,
		 struct order_line *l, long long line_qty)
{
	assert_int_equal(batch_init(b, &f->arena,
				    &(struct batch_spec){
					    "batch-001", "SMALL-TABLE",
					    batch_qty, false, 0, SUPPLIER_NONE},
				    &f->err),
			 SC_OK);
	l->orderid = "order-123";
	l->sku = "SMALL-TABLE";
	l->qty = line_qty;
}

static void allocating_to_a_batch_reduces_the_available_quantity(void **state)
{
	struct fixture *f = *state;
	struct batch b;
	struct order_line l;

	make(f, &b, 20, &l, 2);
	assert_int_equal(batch_allocate(&b, &l, &f->err), SC_OK);
	assert_int_equal(batch_available(&b), 18);
}

static void can_allocate_if_available_greater_than_required(void **state)
{
	struct fixture *f = *state;
	struct batch b;
	struct order_line l;

	make(f, &b, 20, &l, 2);
	assert_true(batch_can_allocate(&b, &l));
}

static void cannot_allocate_if_available_smaller_than_required(void **state)
{
	struct fixture *f = *state;
	struct batch b;
	struct order_line l;

	make(f, &b, 2, &l, 20);
	assert_false(batch_can_allocate(&b, &l));
	assert_int_equal(batch_allocate(&b, &l, &f->err), SC_EINVAL);
	assert_int_equal(batch_available(&b), 2);
}

static void can_allocate_if_available_equal_to_required(void **state)
{
	struct fixture *f = *state;
	struct batch b;
	struct order_line l;

	make(f, &b, 2, &l, 2);
	assert_true(batch_can_allocate(&b, &l));
}

static void cannot_allocate_if_skus_do_not_match(void **state)
{
	struct fixture *f = *state;
	struct batch b;
	struct order_line l = {"order-123", "EXPENSIVE-TOASTER", 10};

	assert_int_equal(batch_init(&b, &f->arena,
				    &(struct batch_spec){
					    "batch-001", "UNCOMFORTABLE-CHAIR",
					    100, false, 0, SUPPLIER_NONE},
				    &f->err),
			 SC_OK);
	assert_false(batch_can_allocate(&b, &l));
	assert_int_equal(batch_allocate(&b, &l, &f->err), SC_EINVAL);
	assert_int_equal(batch_available(&b), 100);
}

static void allocation_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct batch b;
	struct order_line l;

	make(f, &b, 20, &l, 2);
	assert_int_equal(batch_allocate(&b, &l, &f->err), SC_OK);
	assert_int_equal(batch_allocate(&b, &l, &f->err), SC_OK);
	assert_int_equal(batch_available(&b), 18);
	assert_int_equal(b.n_lines, 1);
}

static void same_order_with_another_qty_is_a_conflict(void **state)
{
	struct fixture *f = *state;
	struct batch b;
	struct order_line l, other;

	make(f, &b, 20, &l, 2);
	other = l;
	other.qty = 3;
	assert_int_equal(batch_allocate(&b, &l, &f->err), SC_OK);
	assert_int_equal(batch_allocate(&b, &other, &f->err), SC_EEXIST);
	assert_int_equal(batch_available(&b), 18);
}

static void batch_rejects_bad_values(void **state)
{
	struct fixture *f = *state;
	struct batch b;

	assert_int_equal(batch_init(&b, &f->arena,
				    &(struct batch_spec){"r", "S", -1, false, 0,
							 SUPPLIER_NONE},
				    &f->err),
			 SC_EINVAL);
	err_clear(&f->err);
	assert_int_equal(
		batch_init(&b, &f->arena,
			   &(struct batch_spec){"r", "S", SC_QTY_MAX + 1, false,
						0, SUPPLIER_NONE},
			   &f->err),
		SC_EINVAL);
	err_clear(&f->err);
	assert_int_equal(batch_init(&b, &f->arena,
				    &(struct batch_spec){"", "S", 1, false, 0,
							 SUPPLIER_NONE},
				    &f->err),
			 SC_EINVAL);
	assert_string_equal(f->err.msg,
			    "ref must be 1 to 255 bytes of printable utf-8");
}

static void line_quantity_must_be_positive(void **state)
{
	struct fixture *f = *state;
	struct batch b;
	struct order_line l;

	make(f, &b, 20, &l, 0);
	assert_int_equal(batch_allocate(&b, &l, &f->err), SC_EINVAL);
	assert_int_equal(batch_available(&b), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			allocating_to_a_batch_reduces_the_available_quantity,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			can_allocate_if_available_greater_than_required, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			cannot_allocate_if_available_smaller_than_required,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			can_allocate_if_available_equal_to_required, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			cannot_allocate_if_skus_do_not_match, setup, teardown),
		cmocka_unit_test_setup_teardown(allocation_is_idempotent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			same_order_with_another_qty_is_a_conflict, setup,
			teardown),
		cmocka_unit_test_setup_teardown(batch_rejects_bad_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(line_quantity_must_be_positive,
						setup, teardown),
	};

	return cmocka_run_group_tests_name("test_batches", tests, NULL, NULL);
}

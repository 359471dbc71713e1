/*
 * tests/unit/test_analytics.c - formula cost, bills of materials and the
 * survey and demand statistics (issue 15), each against numbers worked
 * out by hand in the comments.
 */
#include <math.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/analytics.h"
#include "domain/formula.h"
#include "domain/sourcing.h"
#include "support/cmocka.h"

static const struct ingredient cat[] = {
	{"calone", "28940-11-6", 5000, {12000, 18000}},
	{"ethanol", NULL, -1, {200, 350}},
	{"hedione", NULL, 30000, {4000, 5500}},
};

static const struct formula_line sea[] = {
	{"calone", 2500}, {"hedione", 12500}, {"ethanol", 85000}};

static struct formula sea_breeze(void)
{
	return (struct formula){"SEA-BREEZE", 1, 50, 900, NULL, 0, sea, 3};
}

static void cas_numbers_need_their_check_digit(void **state)
{
	(void)state;
	assert_true(cas_valid("7732-18-5"));  /* water */
	assert_true(cas_valid("28940-11-6")); /* 126 mod 10 = 6 */
	assert_false(cas_valid("7732-18-4")); /* wrong check digit */
	assert_false(cas_valid("7732185"));   /* no hyphens */
	assert_false(cas_valid("1-18-5"));    /* first part too short */
}

/*
 * 50 ml at 0.9 g/ml is 45 g: calone 1.125 g at $120/kg is 13.5 cents,
 * hedione 5.625 g at $40/kg 22.5, ethanol 38.25 g at $2/kg 7.65: 43.65
 * cents, $0.4365.  Expensive: 20.25 + 30.9375 + 13.3875 = 64.575 cents,
 * $0.6458 (rounded half away from zero).
 */
static void formula_cost_per_supplier(void **state)
{
	struct formula f = sea_breeze();
	struct formula_cost c;
	struct sc_err err;

	(void)state;
	assert_int_equal(formula_check(&f, cat, 3, &err), SC_OK);
	formula_cost(&f, cat, 3, &c);
	assert_true(c.known[0] && c.known[1]);
	assert_int_equal(c.cost[0], 4365);
	assert_int_equal(c.cost[1], 6458);
}

static void a_missing_price_makes_the_cost_unknown(void **state)
{
	struct ingredient no_price[3];
	struct formula f = sea_breeze();
	struct formula_cost c;

	(void)state;
	memcpy(no_price, cat, sizeof(cat));
	no_price[2].price[1] = -1; /* hedione: no expensive quote */
	formula_cost(&f, no_price, 3, &c);
	assert_true(c.known[0]);
	assert_false(c.known[1]);
	assert_string_equal(c.missing[1], "hedione");
}

static void bad_formulas_are_refused_naming_the_ingredient(void **state)
{
	struct formula_line over[] = {{"calone", 6000}, {"ethanol", 94000}};
	struct formula_line short_sum[] = {{"calone", 4000},
					   {"ethanol", 94000}};
	struct formula_line unknown[] = {{"ambrox", 4000}, {"ethanol", 96000}};
	struct formula_line twice[] = {{"ethanol", 50000}, {"ethanol", 50000}};
	struct formula f = sea_breeze();
	struct sc_err err;

	(void)state;
	f.lines = over;
	f.n = 2;
	err_clear(&err);
	assert_int_equal(formula_check(&f, cat, 3, &err), SC_EINVAL);
	assert_non_null(strstr(err.msg, "'calone' at 6.000% is above its "
					"limit of 5.000%"));
	f.lines = short_sum;
	err_clear(&err);
	assert_int_equal(formula_check(&f, cat, 3, &err), SC_EINVAL);
	assert_non_null(strstr(err.msg, "sum to 98.000%"));
	f.lines = unknown;
	err_clear(&err);
	assert_int_equal(formula_check(&f, cat, 3, &err), SC_EINVAL);
	assert_non_null(strstr(err.msg, "unknown ingredient 'ambrox'"));
	f.lines = twice;
	err_clear(&err);
	assert_int_equal(formula_check(&f, cat, 3, &err), SC_EINVAL);
	assert_non_null(strstr(err.msg, "listed twice"));
	f = sea_breeze();
	f.density_mg_ml = 50;
	err_clear(&err);
	assert_int_equal(formula_check(&f, cat, 3, &err), SC_EINVAL);
}

/* 1000 units of 50 ml at 0.9 g/ml: 45 kg = 1.125 + 5.625 + 38.25 kg. */
static void bill_of_materials_in_milligrams(void **state)
{
	struct formula f = sea_breeze();
	struct arena a;
	struct sc_err err;
	struct bom b;

	(void)state;
	arena_init(&a);
	assert_int_equal(
		formula_bom(&f, &(struct bom_run){1000, 0}, &a, &b, &err),
		SC_OK);
	assert_int_equal(b.total_mg, 45000000);
	assert_int_equal(b.mg[0], 1125000);
	assert_int_equal(b.mg[1], 5625000);
	assert_int_equal(b.mg[2], 38250000);
	assert_int_equal(formula_bom(&f, &(struct bom_run){SC_QTY_MAX, 100000},
				     &a, &b, &err),
			 SC_EINVAL); /* far above 90 tonnes */
	arena_release(&a);
}

/* Property: whatever the proportions, the amounts sum to the run. */
static void a_bill_sums_to_the_run_exactly(void **state)
{
	struct formula_line thirds[] = {
		{"calone", 3333}, {"hedione", 33333}, {"ethanol", 63334}};
	struct formula f = sea_breeze();
	struct arena a;
	struct sc_err err;

	(void)state;
	arena_init(&a);
	f.lines = thirds;
	for (int64_t units = 1; units < 400; units += 7)
		for (int32_t ml = 1; ml < 60; ml += 11) {
			struct bom b;
			int64_t sum = 0;

			f.density_mg_ml = 777 + (int32_t)units % 300;
			assert_int_equal(
				formula_bom(&f, &(struct bom_run){units, ml},
					    &a, &b, &err),
				SC_OK);
			for (size_t i = 0; i < f.n; i++)
				sum += b.mg[i];
			assert_int_equal(sum, b.total_mg);
			assert_int_equal(b.total_mg,
					 units * ml * f.density_mg_ml);
		}
	arena_release(&a);
}

/* 60/100 against 40/100: pooled 0.5, se 0.070711, z 2.8284, p = erfc(2). */
static void two_proportion_test_and_holm(void **state)
{
	double adj[3];

	(void)state;
	assert_true(fabs(stats_two_prop_p(60, 100, 40, 100) - 0.0046777) <
		    1e-6);
	assert_true(stats_two_prop_p(0, 10, 0, 10) == 1);
	/* sorted 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> kept at 0.06 */
	stats_holm((const double[]){0.01, 0.04, 0.03}, 3, adj);
	assert_true(fabs(adj[0] - 0.03) < 1e-12);
	assert_true(fabs(adj[1] - 0.06) < 1e-12);
	assert_true(fabs(adj[2] - 0.06) < 1e-12);
}

/*
 * n = (1.959964 * sqrt(2 * .5 * .5) + 0.841621 * sqrt(.24 + .24))^2 /
 * .2^2 = 1.968999^2 / .04 = 96.92: 97 per group; the quantiles too.
 */
static void sample_size_and_quantiles(void **state)
{
	(void)state;
	assert_int_equal(stats_two_prop_n(0.6, 0.4, 0.05, 0.8), 97);
	assert_int_equal(stats_two_prop_n(0.5, 0.5, 0.05, 0.8), -1);
	assert_true(fabs(stats_normal_quantile(0.975) - 1.959964) < 1e-6);
	assert_true(fabs(stats_normal_quantile(0.8) - 0.841621) < 1e-6);
	assert_true(fabs(stats_t975(10) - 2.228) < 1e-9);
	assert_true(fabs(stats_t975(40) - 2.021) < 1e-3);
	assert_true(fabs(stats_t975(1000) - 1.962) < 1e-3);
}

/* Ratings 3, 4, 5: mean 4, s 1, half width 4.303 / sqrt(3) = 2.4843. */
static void rating_interval_and_wilson(void **state)
{
	struct variant_tally t[2] = {
		{"A", 1, 3, 0, 0, 3, 12, 50},
		{"B", 2, 1, 0, 0, 1, 5, 25},
	};
	struct variant_stats s[2];
	struct survey_verdict v;
	double lo, hi;

	(void)state;
	survey_analyse(t, 2, s, &v);
	assert_true(s[0].has_rating && !s[0].has_accept);
	assert_true(fabs(s[0].mean - 4) < 1e-12);
	assert_true(fabs(s[0].mean_lo - 1.5157) < 1e-3);
	assert_true(fabs(s[0].mean_hi - 6.4843) < 1e-3);
	assert_true(s[1].mean_lo == 5 && s[1].mean_hi == 5); /* n = 1 */
	assert_int_equal(v.winner, -1); /* nobody answered "accepted" */
	/* the Wilson interval of 50/100: 0.4038 to 0.5962 */
	sourcing_wilson(0.5, 100, &lo, &hi);
	assert_true(fabs(lo - 0.4038) < 1e-4 && fabs(hi - 0.5962) < 1e-4);
}

static void a_winner_only_when_significant(void **state)
{
	struct variant_tally clear[3] = {
		{"A", 1, 100, 100, 60, 0, 0, 0},
		{"B", 2, 100, 100, 40, 0, 0, 0},
		{"C", 3, 100, 100, 35, 0, 0, 0},
	};
	/*
	 * 55/100 against 50/100: n = (1.959964 * 0.706222 + 0.841621 *
	 * 0.705337)^2 / 0.05^2 = 1564.7: 1565 each, 1465 more than the 100
	 * each has (alpha 0.05 / 1 for two variants).
	 */
	struct variant_tally close[2] = {
		{"A", 1, 100, 100, 55, 0, 0, 0},
		{"B", 2, 100, 100, 50, 0, 0, 0},
	};
	struct variant_stats s[3];
	struct survey_verdict v;

	(void)state;
	survey_analyse(clear, 3, s, &v);
	assert_int_equal(v.winner, 0);
	assert_int_equal(v.more_needed, 0);
	assert_true(s[0].p_vs_leader < 0);
	assert_true(s[1].p_vs_leader < 0.05 && s[2].p_vs_leader < 0.05);
	survey_analyse(close, 2, s, &v);
	assert_int_equal(v.winner, -1);
	assert_int_equal(v.leader, 0);
	assert_int_equal(v.need_per_variant, 1565);
	assert_int_equal(v.more_needed, 1465);
}

/*
 * y = 10, 20, 30: SSE(a) = 10^2 + (20 - 10a)^2 is least at the grid's
 * top, a = 0.95 (210.25); the level runs 10, 19.5, 29.475; rmse =
 * sqrt(210.25 / 2) = 10.2530.
 */
static void smoothing_on_a_short_series(void **state)
{
	struct ses_fit fit;
	double flat[8] = {5, 5, 5, 5, 5, 5, 5, 5};

	(void)state;
	stats_ses((const double[]){10, 20, 30}, 3, &fit);
	assert_true(fabs(fit.alpha - 0.95) < 1e-12);
	assert_true(fabs(fit.level - 29.475) < 1e-9);
	assert_true(fabs(fit.rmse - 10.2530) < 1e-4);
	assert_int_equal(fit.holdout, 0);
	assert_true(fit.mae < 0);
	stats_ses(flat, 8, &fit);
	assert_int_equal(fit.holdout, SES_HOLDOUT);
	assert_true(fit.mae == 0 && fit.naive_mae == 0 && fit.level == 5);
	assert_true(fabs(stats_slope((const double[]){1, 3, 5}, 3) - 2) <
		    1e-12);
	/* 658.9 + 17.2 = 676.2 -> 677 - 90 on hand = 587 -> 600 */
	assert_int_equal(plan_quantity(658.9474, 17.2347, 90, 100), 600);
	assert_int_equal(plan_quantity(10, 0, 50, 100), 0);
}

static void segments_and_ingredients_are_checked(void **state)
{
	struct ingredient bad = {"x", "123-45-6", -1, {-1, -1}};
	struct sc_err err;

	(void)state;
	assert_true(segment_valid("cinema"));
	assert_false(segment_valid("Cinema"));
	assert_false(segment_valid(""));
	err_clear(&err);
	assert_int_equal(ingredient_check(&bad, &err), SC_EINVAL);
	bad.cas = NULL;
	bad.price[0] = -5;
	err_clear(&err);
	assert_int_equal(ingredient_check(&bad, &err), SC_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cas_numbers_need_their_check_digit),
		cmocka_unit_test(formula_cost_per_supplier),
		cmocka_unit_test(a_missing_price_makes_the_cost_unknown),
		cmocka_unit_test(
			bad_formulas_are_refused_naming_the_ingredient),
		cmocka_unit_test(bill_of_materials_in_milligrams),
		cmocka_unit_test(a_bill_sums_to_the_run_exactly),
		cmocka_unit_test(two_proportion_test_and_holm),
		cmocka_unit_test(sample_size_and_quantiles),
		cmocka_unit_test(rating_interval_and_wilson),
		cmocka_unit_test(a_winner_only_when_significant),
		cmocka_unit_test(smoothing_on_a_short_series),
		cmocka_unit_test(segments_and_ingredients_are_checked),
	};

	return cmocka_run_group_tests_name("test_analytics", tests, NULL, NULL);
}

/*
 * tests/unit/test_sourcing.c - the seed's supplier rule on its market
 * research table, the 40% boundary, thresholds, Wilson intervals, scent
 * names and every validation error of the research file.
 */
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/sourcing.h"
#include "support/cmocka.h"

static const char seed_csv[] =
	"scent,expensive_favorability_pct,cheap_favorability_pct,"
	"expensive_cost_usd,cheap_cost_usd\n"
	"sea breeze,40,60,25.00,15.00\n"
	"nightclub,35,65,18.00,16.00\n"
	"jungle,70,30,30.00,25.00\n"
	"forest,50,50,22.00,14.00\n"
	"busy street,49,51,27.00,20.00\n";

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
	arena_release(&((struct fixture *)*state)->arena);
	return 0;
}

static struct research_row row(int32_t cheap_bp, int64_t respondents)
{
	struct research_row r = {"x",  "X",  10000 - cheap_bp, cheap_bp,
				 2500, 1500, respondents};

	return r;
}

static void seed_table_gives_the_expected_suppliers(void **state)
{
	static const struct {
		const char *sku;
		enum supplier supplier;
		int64_t cost, saving;
	} want[] = {
		{"SEA-BREEZE", SUPPLIER_CHEAP, 1500, 1000},
		{"NIGHTCLUB", SUPPLIER_CHEAP, 1600, 200},
		{"JUNGLE", SUPPLIER_EXPENSIVE, 3000, 0},
		{"FOREST", SUPPLIER_CHEAP, 1400, 800},
		{"BUSY-STREET", SUPPLIER_CHEAP, 2000, 700},
	};
	struct fixture *f = *state;
	struct research_row *rows;
	size_t n;

	assert_int_equal(sourcing_parse_csv(seed_csv, strlen(seed_csv),
					    &f->arena, &rows, &n, &f->err),
			 SC_OK);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		struct decision d;

		sourcing_decide(&rows[i], SOURCING_THRESHOLD_BP, &d);
		assert_string_equal(rows[i].sku, want[i].sku);
		assert_int_equal(d.supplier, want[i].supplier);
		assert_int_equal(d.unit_cost_cents, want[i].cost);
		assert_int_equal(d.saving_cents, want[i].saving);
		assert_false(d.has_interval);
	}
}

static void exactly_forty_percent_chooses_cheap(void **state)
{
	struct research_row r = row(4000, 0);
	struct decision d;

	(void)state;
	sourcing_decide(&r, SOURCING_THRESHOLD_BP, &d);
	assert_int_equal(d.supplier, SUPPLIER_CHEAP);
	r = row(3990, 0);
	sourcing_decide(&r, SOURCING_THRESHOLD_BP, &d);
	assert_int_equal(d.supplier, SUPPLIER_EXPENSIVE);
	assert_int_equal(d.unit_cost_cents, 2500);
	assert_int_equal(d.saving_cents, 0);
}

static void threshold_is_per_round(void **state)
{
	struct research_row r = row(5100, 0);
	struct decision d;

	(void)state;
	sourcing_decide(&r, 5500, &d);
	assert_int_equal(d.supplier, SUPPLIER_EXPENSIVE);
	sourcing_decide(&r, 5100, &d);
	assert_int_equal(d.supplier, SUPPLIER_CHEAP);
	sourcing_decide(&r, 0, &d);
	assert_int_equal(d.supplier, SUPPLIER_CHEAP);
}

static void wilson_interval_matches_the_hand_computed_value(void **state)
{
	double lo, hi;

	(void)state;
	/* p = 0.6, n = 100, z = 1.96: centre 0.5963, half-width 0.0943 */
	sourcing_wilson(0.6, 100, &lo, &hi);
	assert_true(lo > 0.50199 && lo < 0.50201);
	assert_true(hi > 0.69059 && hi < 0.69061);
	sourcing_wilson(0.0, 10, &lo, &hi);
	assert_true(lo == 0.0 && hi > 0.27 && hi < 0.28);
}

static void interval_straddling_the_threshold_is_not_significant(void **s)
{
	struct research_row few = row(4500, 100), many = row(4500, 1000);
	struct decision d;

	(void)s;
	sourcing_decide(&few, SOURCING_THRESHOLD_BP, &d);
	/* 35.6%..54.8% contains 40%: cheap, but not yet significant */
	assert_int_equal(d.supplier, SUPPLIER_CHEAP);
	assert_true(d.has_interval);
	assert_true(d.ci_low_pct > 35.61 && d.ci_low_pct < 35.62);
	assert_false(d.significant);
	sourcing_decide(&many, SOURCING_THRESHOLD_BP, &d);
	/* 41.9%..48.1%: clear of 40% */
	assert_true(d.significant);
}

static void scent_names_map_to_skus(void **state)
{
	struct fixture *f = *state;
	const char *sku;

	assert_int_equal(
		sourcing_sku_of("sea breeze", &f->arena, &sku, &f->err), SC_OK);
	assert_string_equal(sku, "SEA-BREEZE");
	assert_int_equal(
		sourcing_sku_of("  Busy   street ", &f->arena, &sku, &f->err),
		SC_OK);
	assert_string_equal(sku, "BUSY-STREET");
	assert_int_equal(
		sourcing_sku_of("rock'n'roll_club-2", &f->arena, &sku, &f->err),
		SC_OK);
	assert_string_equal(sku, "ROCKNROLL-CLUB-2");
	assert_int_equal(sourcing_sku_of(" -- ", &f->arena, &sku, &f->err),
			 SC_EINVAL);
}

static void fixed_point_numbers_parse_exactly(void **state)
{
	int64_t v;

	(void)state;
	assert_true(sourcing_parse_fixed("39.9", 2, &v) && v == 3990);
	assert_true(sourcing_parse_fixed("40", 2, &v) && v == 4000);
	assert_true(sourcing_parse_fixed("25.00", 2, &v) && v == 2500);
	assert_true(sourcing_parse_fixed("0.5", 2, &v) && v == 50);
	assert_false(sourcing_parse_fixed("1.234", 2, &v));
	assert_false(sourcing_parse_fixed("-1", 2, &v));
	assert_false(sourcing_parse_fixed("", 2, &v));
	assert_false(sourcing_parse_fixed("1.", 2, &v));
	assert_false(sourcing_parse_fixed("1e3", 2, &v));
	assert_false(sourcing_parse_fixed("1.2.3", 2, &v));
}

/* Parse @csv and expect SC_EINVAL with @msg. */
static void bad(struct fixture *f, const char *csv, const char *msg)
{
	struct research_row *rows;
	size_t n;

	err_clear(&f->err);
	assert_int_equal(sourcing_parse_csv(csv, strlen(csv), &f->arena, &rows,
					    &n, &f->err),
			 SC_EINVAL);
	assert_string_equal(f->err.msg, msg);
}

#define HEADER                                                                 \
	"scent,expensive_favorability_pct,cheap_favorability_pct,"             \
	"expensive_cost_usd,cheap_cost_usd\n"

static void every_validation_error_names_its_line(void **state)
{
	struct fixture *f = *state;

	bad(f, "sea breeze,40,60,25.00,15.00\n",
	    "line 1: unknown column 'sea breeze'");
	bad(f, "scent,cheap_favorability_pct\nx,1\n",
	    "line 1: missing column 'expensive_favorability_pct' (a header "
	    "line is required)");
	bad(f, HEADER, "no research rows after the header");
	bad(f, HEADER "a,40,60,25,15\nb,101,0,1,1\n",
	    "line 3: favourability must be 0 to 100");
	bad(f, HEADER "a,40,61,25,15\n",
	    "line 2: favourabilities sum to 101.00, not 100 (within 0.5)");
	bad(f, HEADER "a,40,x,25,15\n",
	    "line 2: cheap_favorability_pct must be a non-negative number "
	    "with at most 2 decimals, not 'x'");
	bad(f, HEADER "a,40,60,-25,15\n",
	    "line 2: expensive_cost_usd must be a non-negative number with "
	    "at most 2 decimals, not '-25'");
	bad(f, HEADER "a,40,60,25\n", "line 2: too few fields");
	bad(f, HEADER "Sea Breeze,40,60,25,15\nsea-breeze,40,60,25,15\n",
	    "line 3: scent 'sea-breeze' (SEA-BREEZE) is already on line 2");
	bad(f, HEADER "\"unterminated,40,60,25,15\n",
	    "line 2: unterminated quote");
	bad(f, HEADER "!!!,40,60,25,15\n",
	    "line 2: scent name has no letters or digits");
	bad(f, HEADER "sea bre\x95ze,40,60,25,15\n",
	    "line 2: scent name must be 1 to 255 bytes of printable utf-8");
}

static void tolerant_where_it_is_safe(void **state)
{
	static const char csv[] =
		"cheap_cost_usd,scent,expensive_cost_usd,cheap_favorability_"
		"pct,"
		"expensive_favorability_pct,respondents\r\n"
		"15.00,\"sea breeze, salty\",25.00,59.8,40.0,200\r\n"
		"\r\n"
		"1,\"say \"\"hi\"\"\",2,50,50,\r\n";
	struct fixture *f = *state;
	struct research_row *rows;
	size_t n;

	assert_int_equal(sourcing_parse_csv(csv, strlen(csv), &f->arena, &rows,
					    &n, &f->err),
			 SC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].scent, "sea breeze, salty");
	assert_string_equal(rows[0].sku, "SEA-BREEZE-SALTY");
	assert_int_equal(rows[0].cheap_bp, 5980);
	assert_int_equal(rows[0].respondents, 200);
	assert_string_equal(rows[1].scent, "say \"hi\"");
	assert_int_equal(rows[1].respondents, 0);
}

static void at_most_ten_thousand_rows(void **state)
{
	struct fixture *f = *state;
	size_t cap = 10002 * 40 + sizeof(HEADER), len;
	char *csv = arena_alloc(&f->arena, cap);
	struct research_row *rows;
	size_t n;

	len = (size_t)snprintf(csv, cap, "%s", HEADER);
	for (int i = 0; i < 10000; i++)
		len += (size_t)snprintf(csv + len, cap - len,
					"scent %d,40,60,2,1\n", i);
	assert_int_equal(
		sourcing_parse_csv(csv, len, &f->arena, &rows, &n, &f->err),
		SC_OK);
	assert_int_equal(n, 10000);
	len += (size_t)snprintf(csv + len, cap - len, "one more,40,60,2,1\n");
	bad(f, csv, "line 10002: more than 10000 rows");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(seed_table_gives_the_expected_suppliers),
		T(exactly_forty_percent_chooses_cheap),
		T(threshold_is_per_round),
		T(wilson_interval_matches_the_hand_computed_value),
		T(interval_straddling_the_threshold_is_not_significant),
		T(scent_names_map_to_skus),
		T(fixed_point_numbers_parse_exactly),
		T(every_validation_error_names_its_line),
		T(tolerant_where_it_is_safe),
		T(at_most_ten_thousand_rows),
#undef T
	};

	return cmocka_run_group_tests_name("test_sourcing", tests, NULL, NULL);
}

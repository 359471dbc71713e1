/*
 * tests/fuzz/fuzz_analytics_csv.c - libFuzzer target: any bytes as each
 * of issue 15's CSV files (ingredients, a formula, survey responses,
 * past demand).  The first byte picks the reader.  Every reader must
 * return SC_OK or SC_EINVAL, never crash, overrun or leak (ASan+UBSan),
 * and what it accepts must hold what it promises: fields that are
 * present are NUL-terminated strings, numbers in their ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "entrypoints/analytics/analytics_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int rc)
{
	if (rc != SC_OK && rc != SC_EINVAL)
		abort();
}

static void read_one(int which, const struct csv_text *in, struct arena *a)
{
	struct sc_err err;
	size_t n = 0;

	err_clear(&err);
	if (which == 0) {
		struct ingredient *v;
		int rc = aio_ingredients_csv(in, a, &v, &n, &err);

		check(rc);
		for (size_t i = 0; !rc && i < n; i++)
			if (!v[i].name || v[i].max_milli > 100000)
				abort();
	} else if (which == 1) {
		struct formula *f;
		int rc = aio_formula_csv(in, "SKU", a, &f, &err);

		check(rc);
		for (size_t i = 0; !rc && i < f->n; i++)
			if (!f->lines[i].ingredient ||
			    f->lines[i].milli > 100000)
				abort();
	} else if (which == 2) {
		struct survey_response *r;
		int rc = aio_responses_csv(in, a, &r, &n, &err);

		check(rc);
		for (size_t i = 0; !rc && i < n; i++)
			if (r[i].rating < 0 || r[i].rating > 5 ||
			    r[i].accepted < -1 || r[i].accepted > 1)
				abort();
	} else {
		struct demand_entry *e;
		int rc = aio_demand_csv(in, a, &e, &n, &err);

		check(rc);
		for (size_t i = 0; !rc && i < n; i++)
			if ((unsigned)e[i].outcome >= DEMAND__OUTCOMES)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a;

	if (!size)
		return 0;
	arena_init(&a);
	read_one(data[0] % 4,
		 &(struct csv_text){(const char *)data + 1, size - 1, 1}, &a);
	arena_release(&a);
	return 0;
}

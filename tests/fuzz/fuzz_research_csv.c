/*
 * tests/fuzz/fuzz_research_csv.c - libFuzzer target: any bytes as a
 * market-research CSV.  The parser must return SC_OK or SC_EINVAL, never
 * crash, overrun or leak (ASan+UBSan), and accepted rows must satisfy
 * the rules it promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/sourcing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct research_row *rows;
	struct arena a;
	struct sc_err err;
	size_t n;
	int rc;

	arena_init(&a);
	err_clear(&err);
	rc = sourcing_parse_csv((const char *)data, size, &a, &rows, &n, &err);
	if (rc != SC_OK && rc != SC_EINVAL)
		abort();
	for (size_t i = 0; rc == SC_OK && i < n; i++) {
		struct decision d;

		if (abs(rows[i].cheap_bp + rows[i].expensive_bp - 10000) > 50 ||
		    !ident_valid(rows[i].sku, strlen(rows[i].sku)))
			abort();
		sourcing_decide(&rows[i], SOURCING_THRESHOLD_BP, &d);
	}
	arena_release(&a);
	return 0;
}

/*
 * entrypoints/sourcing/sourcing_io.h - market research in and decisions
 * out, as JSON (jansson) and as a text table, shared by the CLI and the
 * HTTP API.
 *
 * Decision JSON: {"scent","sku","cheap_pct","expensive_pct","supplier",
 * "unit_cost_usd","saving_usd","respondents","interval_pct",
 * "significant"}; money as "15.00" strings (exact), shares as numbers.
 */
#ifndef SCENTS_ENTRYPOINTS_SOURCING_SOURCING_IO_H
#define SCENTS_ENTRYPOINTS_SOURCING_SOURCING_IO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct arena;
struct research_round;
struct research_row;
struct sc_err;
struct sku_decision;

/* {"round","date","threshold_pct","decisions":[...]}; NULL on OOM. */
json_t *sourcing_round_json(const struct research_round *r);

/* {"sku","latest":{...},"history":[...]} newest first; NULL on OOM. */
json_t *sourcing_history_json(const char *sku, const struct sku_decision *d,
			      size_t n);

/*
 * Rows from a JSON array of objects with the CSV's column names (numbers,
 * or decimal strings): types and number formats are checked here, ranges,
 * sums and duplicates by the ImportResearch handler.  SC_EINVAL naming
 * the row and field, SC_ENOMEM.
 */
int sourcing_rows_from_json(json_t *arr, struct arena *a,
			    struct research_row **out, size_t *n_out,
			    struct sc_err *err);

/* A percentage ("40", "39.9", or a JSON number) as hundredths; -1 bad. */
int64_t sourcing_pct_of(json_t *v);

/* Print @r as a table for people. */
void sourcing_print_table(FILE *f, const struct research_round *r);

#endif

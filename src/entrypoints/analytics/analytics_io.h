/*
 * entrypoints/analytics/analytics_io.h - formulas, surveys, demand and
 * plans in and out (issue 15), as JSON (jansson), CSV and text tables,
 * shared by the HTTP API and the CLI.  Shapes are checked here; values
 * by the commands' handlers (service/handlers.c), once for every
 * transport.  Errors name the CSV line ("line 3: ...") or JSON element.
 *
 * Decimals travel as strings or numbers: percentages with up to 3
 * decimals ("12.5"), money in dollars with up to 2 ("12.50"), densities
 * in g/ml with up to 3 ("0.985").
 */
#ifndef SCENTS_ENTRYPOINTS_ANALYTICS_ANALYTICS_IO_H
#define SCENTS_ENTRYPOINTS_ANALYTICS_ANALYTICS_IO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "service/reports.h"

struct arena;
struct sc_err;

/* CSV text to read, and the file line number of its first line. */
struct csv_text {
	const char *text;  /* may hold NULs only after len */
	size_t len;	   /* bytes */
	size_t first_line; /* 1 for a whole file; later for a chunk */
};

/* Ingredients from a JSON array, or CSV with the header
 * name,cas,max_pct,cheap_usd_per_kg,expensive_usd_per_kg (any order;
 * only name required). */
int aio_ingredients_json(json_t *arr, struct arena *a, struct ingredient **out,
			 size_t *n_out, struct sc_err *err);
int aio_ingredients_csv(const struct csv_text *in, struct arena *a,
			struct ingredient **out, size_t *n_out,
			struct sc_err *err);

/* A formula of @sku from JSON {"unit_ml","density","note","lines":[
 * {"ingredient","pct"}]} or CSV ingredient,pct (unit size 10 ml and
 * density 1 g/ml unless JSON says). */
int aio_formula_json(json_t *o, const char *sku, struct arena *a,
		     struct formula **out, struct sc_err *err);
int aio_formula_csv(const struct csv_text *in, const char *sku, struct arena *a,
		    struct formula **out, struct sc_err *err);

/*
 * Survey responses from a JSON array of {"respondent","variant",
 * "accepted","rating","segment"}, or CSV with those columns (accepted
 * yes/no/1/0/true/false or empty, rating 1-5 or empty); CSV line numbers
 * count from @in->first_line (the header's line number).
 */
int aio_responses_json(json_t *arr, struct arena *a,
		       struct survey_response **out, size_t *n_out,
		       struct sc_err *err);
int aio_responses_csv(const struct csv_text *in, struct arena *a,
		      struct survey_response **out, size_t *n_out,
		      struct sc_err *err);

/* Past demand: CSV date,sku,outcome,units[,lines][,segment]; outcome
 * allocated|backordered|refused. */
int aio_demand_csv(const struct csv_text *in, struct arena *a,
		   struct demand_entry **out, size_t *n_out,
		   struct sc_err *err);

/* Outputs; NULL on OOM. */
json_t *aio_ingredients_out(const struct ingredient *in, size_t n);
json_t *aio_formula_out(const struct formula_view *fv);
json_t *aio_bom_out(const struct formula *f, const struct bom_run *run,
		    const struct bom *bom);
json_t *aio_log_out(const struct formula_change *c, size_t n);
json_t *aio_survey_out(const struct survey_report *r, const char *segment);
json_t *aio_demand_out(const struct demand_report *r);
json_t *aio_plan_out(const struct plan_params *pp, const struct plan_line *l,
		     size_t n);

/* CSV that the importers read back: a formula's lines, the catalogue. */
void aio_formula_csv_write(FILE *f, const struct formula *fm);
void aio_ingredients_csv_write(FILE *f, const struct ingredient *in, size_t n);

/* The same, as aligned tables for people. */
void aio_print_formula(FILE *f, const struct formula_view *fv);
void aio_print_survey(FILE *f, const struct survey_report *r);
void aio_print_demand(FILE *f, const struct demand_report *r);
void aio_print_plan(FILE *f, const struct plan_line *l, size_t n);

/*
 * Add formula costs to a sourcing round's JSON (sourcing_round_json) in
 * place: see docs/analytics.md.  -1 on OOM or a store error.
 */
int aio_sourcing_costs(json_t *round, struct uow *u, struct arena *a);

/* "allocated", "backordered", "refused"; -1 for another name. */
int demand_outcome_named(const char *s);

#endif

/*
 * entrypoints/sourcing/sourcing_io.c - research and decisions <-> JSON
 * and text.
 */
#include "entrypoints/sourcing/sourcing_io.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/date.h"
#include "domain/sourcing.h"
#include "service/uow.h"

static json_t *money(int64_t cents)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), "%s%lld.%02lld", cents < 0 ? "-" : "",
		       (long long)llabs(cents) / 100,
		       (long long)llabs(cents) % 100);
	return json_string(buf);
}

static double round2(double v)
{
	return round(v * 100) / 100;
}

static json_t *decision_json(const struct research_row *row,
			     const struct decision *d)
{
	json_t *interval = json_null();

	if (d->has_interval)
		interval = json_pack("[f, f]", round2(d->ci_low_pct),
				     round2(d->ci_high_pct));
	return json_pack(
		"{s:s, s:s, s:f, s:f, s:s, s:o, s:o, s:o, s:o, s:o}", "scent",
		row->scent, "sku", row->sku, "cheap_pct", row->cheap_bp / 100.0,
		"expensive_pct", row->expensive_bp / 100.0, "supplier",
		supplier_name(d->supplier), "unit_cost_usd",
		money(d->unit_cost_cents), "saving_usd", money(d->saving_cents),
		"respondents",
		row->respondents ? json_integer(row->respondents) : json_null(),
		"interval_pct", interval, "significant",
		d->has_interval ? json_boolean(d->significant) : json_null());
}

json_t *sourcing_round_json(const struct research_round *r)
{
	char day[DATE_STR_MAX];
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < r->n; i++)
		if (json_array_append_new(
			    arr,
			    decision_json(&r->rows[i], &r->decisions[i]))) {
			json_decref(arr);
			return NULL;
		}
	date_format(r->day, day);
	return json_pack("{s:I, s:s, s:f, s:o?}", "round", (json_int_t)r->id,
			 "date", day, "threshold_pct", r->threshold_bp / 100.0,
			 "decisions", arr);
}

json_t *sourcing_history_json(const char *sku, const struct sku_decision *d,
			      size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		char day[DATE_STR_MAX];
		json_t *one = decision_json(&d[i].row, &d[i].decision);

		date_format(d[i].day, day);
		if (!one ||
		    json_object_set_new(one, "round",
					json_integer(d[i].round_id)) ||
		    json_object_set_new(one, "date", json_string(day)) ||
		    json_object_set_new(one, "threshold_pct",
					json_real(d[i].threshold_bp / 100.0)) ||
		    json_array_append_new(arr, one)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr ? json_pack("{s:s, s:O, s:o}", "sku", sku, "latest",
			       json_array_get(arr, 0), "history", arr)
		   : NULL;
}

/* A JSON number or decimal string as fixed point with @decimals. */
static int64_t fixed_of(json_t *v, int decimals)
{
	double scale = pow(10, decimals), x, r;
	int64_t out;

	if (json_is_string(v))
		return sourcing_parse_fixed(json_string_value(v), decimals,
					    &out)
			       ? out
			       : -1;
	if (!json_is_number(v))
		return -1;
	x = json_number_value(v) * scale;
	r = round(x);
	if (x < 0 || x > 1e15 || fabs(x - r) > 1e-6)
		return -1;
	return (int64_t)r;
}

int64_t sourcing_pct_of(json_t *v)
{
	return fixed_of(v, 2);
}

static const char *const fields[] = {"expensive_favorability_pct",
				     "cheap_favorability_pct",
				     "expensive_cost_usd", "cheap_cost_usd"};

static int row_from_json(json_t *o, size_t at, struct arena *a,
			 struct research_row *row, struct sc_err *err)
{
	json_t *scent = json_object_get(o, "scent");
	json_t *resp = json_object_get(o, "respondents");
	int64_t v[4];
	int rc;

	const char *key;
	json_t *val;

	if (!json_is_object(o))
		return err_set(err, SC_EINVAL, "row %zu: must be an object",
			       at);
	json_object_foreach(o, key, val)
	{
		bool known =
			!strcmp(key, "scent") || !strcmp(key, "respondents");

		for (int k = 0; !known && k < 4; k++)
			known = !strcmp(key, fields[k]);
		if (!known)
			return err_set(err, SC_EINVAL,
				       "row %zu: unknown field '%.64s'", at,
				       key);
	}
	if (!json_is_string(scent))
		return err_set(err, SC_EINVAL,
			       "row %zu: 'scent' must be a string", at);
	memset(row, 0, sizeof(*row));
	row->scent = arena_strdup(a, json_string_value(scent));
	if (!row->scent)
		return err_set(err, SC_ENOMEM, "out of memory");
	rc = sourcing_sku_of(row->scent, a, &row->sku, err);
	for (int k = 0; !rc && k < 4; k++) {
		v[k] = fixed_of(json_object_get(o, fields[k]), 2);
		if (v[k] < 0)
			rc = err_set(err, SC_EINVAL,
				     "row %zu: '%s' must be a non-negative "
				     "number with at most 2 decimals",
				     at, fields[k]);
	}
	if (!rc && resp && !json_is_null(resp) &&
	    (!json_is_integer(resp) || json_integer_value(resp) < 0))
		rc = err_set(err, SC_EINVAL,
			     "row %zu: 'respondents' must be a non-negative "
			     "integer",
			     at);
	if (rc)
		return rc;
	row->expensive_bp = v[0] > 100000 ? 100000 : (int32_t)v[0];
	row->cheap_bp = v[1] > 100000 ? 100000 : (int32_t)v[1];
	row->expensive_cost_cents = v[2];
	row->cheap_cost_cents = v[3];
	row->respondents = json_is_integer(resp) ? json_integer_value(resp) : 0;
	return SC_OK;
}

int sourcing_rows_from_json(json_t *arr, struct arena *a,
			    struct research_row **out, size_t *n_out,
			    struct sc_err *err)
{
	size_t n = json_array_size(arr);
	struct research_row *rows;
	int rc = SC_OK;

	if (!json_is_array(arr) || !n || n > SOURCING_ROWS_MAX)
		return err_set(err, SC_EINVAL,
			       "'rows' must be an array of 1 to %d objects",
			       SOURCING_ROWS_MAX);
	rows = arena_calloc(a, n, sizeof(*rows));
	if (!rows)
		return err_set(err, SC_ENOMEM, "out of memory");
	/* ranges, sums and duplicates: the ImportResearch handler checks */
	for (size_t i = 0; !rc && i < n; i++)
		rc = row_from_json(json_array_get(arr, i), i + 1, a, &rows[i],
				   err);
	if (!rc) {
		*out = rows;
		*n_out = n;
	}
	return rc;
}

static void print_money(FILE *f, int64_t cents)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), "$%lld.%02lld", (long long)cents / 100,
		       (long long)cents % 100);
	(void)fprintf(f, " %10s", buf);
}

void sourcing_print_table(FILE *f, const struct research_round *r)
{
	char day[DATE_STR_MAX];

	date_format(r->day, day);
	(void)fprintf(
		f,
		"round %lld of %s, cheap supplier when favoured by %d.%02d%% "
		"or more\n\n",
		(long long)r->id, day, r->threshold_bp / 100,
		r->threshold_bp % 100);
	(void)fprintf(f, "%-20s %-20s %8s  %-10s %10s %10s  %s\n", "scent",
		      "sku", "cheap %", "decision", "unit cost", "saving",
		      "95% interval");
	for (size_t i = 0; i < r->n; i++) {
		const struct research_row *row = &r->rows[i];
		const struct decision *d = &r->decisions[i];

		(void)fprintf(f, "%-20s %-20s %5d.%02d  %-10s", row->scent,
			      row->sku, row->cheap_bp / 100,
			      row->cheap_bp % 100, supplier_name(d->supplier));
		print_money(f, d->unit_cost_cents);
		print_money(f, d->saving_cents);
		if (d->has_interval)
			(void)fprintf(
				f, "  %.1f-%.1f%s", d->ci_low_pct,
				d->ci_high_pct,
				d->significant ? "" : " (not yet significant)");
		(void)fputc('\n', f);
	}
}

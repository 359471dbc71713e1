/*
 * service/reports.c - survey, formula and production-plan reports.
 */
#include "service/reports.h"

#include <math.h>
#include <string.h>

#include "common/arena.h"

int report_survey(struct uow *u, int64_t id, const char *segment,
		  struct arena *a, struct survey_report *out,
		  struct sc_err *err)
{
	int rc = uow_survey_get(u, id, segment, a, &out->s, err);

	if (!rc)
		survey_analyse(out->s->variants, out->s->n, out->st, &out->v);
	return rc;
}

int report_formula(struct uow *u, const char *sku, int32_t version,
		   struct arena *a, struct formula_view *out,
		   struct sc_err *err)
{
	struct ingredient *cat = NULL;
	struct formula *active;
	size_t n = 0;
	int rc = uow_formula_get(u, sku, version, a, &out->f, err);

	if (!rc)
		rc = uow_ingredients(u, a, &cat, &n, err);
	if (rc)
		return rc;
	rc = uow_formula_get(u, sku, 0, a, &active, err);
	out->active = rc ? 0 : active->version;
	if (rc == SC_ENOTFOUND) { /* versions exist, none active yet */
		err_clear(err);
		rc = SC_OK;
	}
	if (!rc)
		formula_cost(out->f, cat, n, &out->cost);
	return rc;
}

/* Free units of @sku: in the warehouse and in shipment (0 if unknown). */
static int on_hand(struct uow *u, const char *sku, struct arena *a,
		   struct plan_line *l, struct sc_err *err)
{
	struct product *p;
	int rc = uow_read_product(u, sku, a, &p, err);

	if (rc == SC_ENOTFOUND) {
		err_clear(err);
		return SC_OK;
	}
	for (size_t i = 0; !rc && i < p->n_batches; i++) {
		int64_t free_units =
			p->batches[i].purchased - p->batches[i].allocated;

		if (p->batches[i].has_eta)
			l->incoming += free_units;
		else
			l->available += free_units;
	}
	return rc;
}

/* Supplier of the latest decision, and the unit cost to plan with. */
static int supplier_and_cost(struct uow *u, const char *sku, struct arena *a,
			     struct plan_line *l, struct sc_err *err)
{
	struct formula_view fv;
	struct sku_history h;
	int rc = uow_research_history(u, sku, 1, a, &h, err);

	if (rc)
		return rc;
	if (h.n) {
		l->supplier = h.items[0].decision.supplier;
		l->has_cost = true;
		l->unit_cost = h.items[0].decision.unit_cost_cents * 100;
		l->cost_source = "research";
	}
	rc = report_formula(u, sku, 0, a, &fv, err);
	if (rc == SC_ENOTFOUND) {
		err_clear(err);
		return SC_OK;
	}
	/* the formula's cost replaces the entered one when it is known */
	if (!rc && fv.cost.known[supplier_index(l->supplier)]) {
		l->has_cost = true;
		l->unit_cost = fv.cost.cost[supplier_index(l->supplier)];
		l->cost_source = "formula";
	}
	return rc;
}

/* Fill @l from its weekly history: forecast, safety stock, quantity. */
static int plan_one(struct uow *u, const struct plan_params *pp,
		    struct arena *a, struct plan_line *l, struct sc_err *err)
{
	int rc;

	stats_ses(l->weekly, (size_t)pp->history, &l->fit);
	l->trend = stats_slope(l->weekly, (size_t)pp->history);
	l->forecast = l->fit.level * pp->weeks;
	l->safety = pp->z * l->fit.rmse * sqrt((double)pp->weeks);
	l->eta = pp->today + pp->lead_days;
	rc = on_hand(u, l->sku, a, l, err);
	if (!rc)
		rc = supplier_and_cost(u, l->sku, a, l, err);
	if (!rc)
		l->make = plan_quantity(l->forecast, l->safety,
					l->available + l->incoming,
					pp->min_batch);
	return rc;
}

int report_plan(struct uow *u, const struct plan_params *pp, struct arena *a,
		struct plan_line **out, size_t *n_out, struct sc_err *err)
{
	int32_t last = week_of(pp->today) - 1; /* complete weeks only */
	int32_t first = week_of(pp->today) - 7 * pp->history;
	struct demand_query q = {first, last, 7, false, NULL};
	struct plan_line *lines = NULL;
	struct demand_row *rows;
	size_t n_rows, n = 0, cap = 0;
	int rc = uow_demand(u, &q, a, &rows, &n_rows, err);

	for (size_t i = 0; !rc && i < n_rows; i++) {
		struct plan_line *l;
		double *w;
		int64_t units = 0;
		size_t week = (size_t)((rows[i].bucket - first) / 7);

		if (!n || strcmp(lines[n - 1].sku, rows[i].sku) != 0) {
			if (arena_reserve(a, (void **)&lines, &cap, n + 1,
					  sizeof(*lines)) ||
			    !(w = arena_calloc(a, (size_t)pp->history,
					       sizeof(*w))))
				return err_set(err, SC_ENOMEM, "out of memory");
			memset(&lines[n], 0, sizeof(lines[n]));
			lines[n].sku = rows[i].sku;
			lines[n].weekly = w;
			n++;
		}
		l = &lines[n - 1];
		for (int k = 0; k < DEMAND__OUTCOMES; k++)
			units += rows[i].units[k];
		if (week < (size_t)pp->history)
			l->weekly[week] += (double)units;
	}
	for (size_t i = 0; !rc && i < n; i++)
		rc = plan_one(u, pp, a, &lines[i], err);
	if (!rc) {
		*out = lines;
		*n_out = n;
	}
	return rc;
}

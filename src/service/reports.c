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

int report_formula(struct uow *u, const struct formula_ask *q, struct arena *a,
		   struct formula_view *out, struct sc_err *err)
{
	struct catalogue own = {0}, *cat = q->cat;
	const char *sku = q->sku;
	int32_t version = q->version;
	struct formula *active;
	int rc = uow_formula_get(u, sku, version, a, &out->f, err);

	if (!cat)
		cat = &own;
	if (!rc && !cat->loaded) {
		rc = uow_ingredients(u, a, &cat->items, &cat->n, err);
		cat->loaded = !rc;
	}
	if (rc)
		return rc;
	if (version == 0) { /* the one just read is the active one */
		out->active = out->f->version;
	} else {
		rc = uow_formula_get(u, sku, 0, a, &active, err);
		out->active = rc ? 0 : active->version;
		if (rc == SC_ENOTFOUND) { /* versions, none active yet */
			err_clear(err);
			rc = SC_OK;
		}
	}
	if (!rc)
		formula_cost(out->f, cat->items, cat->n, &out->cost);
	return rc;
}

/* Put @units of @sku into top list @t, keeping it sorted, most first. */
static void top_add(struct demand_top *t, const char *sku, int64_t units)
{
	size_t at = t->n;

	while (at > 0 && t->units[at - 1] < units)
		at--;
	if (at >= DEMAND_TOP)
		return;
	if (t->n < DEMAND_TOP)
		t->n++;
	memmove(&t->skus[at + 1], &t->skus[at],
		(t->n - 1 - at) * sizeof(t->skus[0]));
	memmove(&t->units[at + 1], &t->units[at],
		(t->n - 1 - at) * sizeof(t->units[0]));
	t->skus[at] = sku;
	t->units[at] = units;
}

static int64_t units_of(const struct demand_row *r)
{
	return r->units[0] + r->units[1] + r->units[2];
}

/*
 * Sum rows[@from..@to) (one sku, sorted by bucket) into @s, with the
 * slope of its units over every bucket of the range (zero-filled), per
 * week; @series has room for the range's buckets.
 */
static void sum_sku(const struct demand_report *r, size_t from, size_t to,
		    double *series, struct demand_sku *s)
{
	int32_t step = r->q.bucket, first = r->q.from_day, last = r->q.to_day;
	size_t nb;

	if (step == 7) {
		first = week_of(first);
		last = week_of(last);
	}
	nb = (size_t)((last - first) / step) + 1;
	memset(series, 0, nb * sizeof(*series));
	s->sku = r->rows[from].sku;
	for (size_t i = from; i < to; i++) {
		size_t b = (size_t)((r->rows[i].bucket - first) / step);

		for (int k = 0; k < DEMAND__OUTCOMES; k++)
			s->units[k] += r->rows[i].units[k];
		if (b < nb)
			series[b] += (double)units_of(&r->rows[i]);
	}
	s->trend_per_week = stats_slope(series, nb) * 7 / step;
	s->met_pct = -1;
	if (s->units[0] + s->units[1] + s->units[2] > 0)
		s->met_pct = 100.0 * (double)s->units[0] /
			     (double)(s->units[0] + s->units[1] + s->units[2]);
}

/* The top list of @segment in @r (made when new); NULL on OOM. */
static struct demand_top *segment_top(struct demand_report *r,
				      const char *segment, size_t cap)
{
	for (size_t i = 1; i < r->n_tops; i++)
		if (!strcmp(r->tops[i].segment, segment))
			return &r->tops[i];
	if (r->n_tops >= cap)
		return NULL;
	r->tops[r->n_tops].segment = segment;
	return &r->tops[r->n_tops++];
}

/*
 * Rows[@from..@to) are one sku's: add its units per segment to each
 * segment's top list (segments are few; rows of a sku come by bucket).
 */
static void segment_tops(struct demand_report *r, size_t from, size_t to,
			 size_t cap)
{
	for (size_t i = from; i < to; i++) {
		const char *seg = r->rows[i].segment;
		struct demand_top *t;
		bool seen = false;
		int64_t units = 0;

		for (size_t j = from; j < i && !seen; j++)
			seen = !strcmp(r->rows[j].segment, seg);
		if (seen || !(t = segment_top(r, seg, cap)))
			continue;
		for (size_t j = i; j < to; j++)
			if (!strcmp(r->rows[j].segment, seg))
				units += units_of(&r->rows[j]);
		top_add(t, r->rows[i].sku, units);
	}
}

int report_demand(struct uow *u, const struct demand_query *q, struct arena *a,
		  struct demand_report *out, struct sc_err *err)
{
	size_t cap_tops;
	double *series;
	int rc;

	memset(out, 0, sizeof(*out));
	out->q = *q;
	if (q->to_day < q->from_day || (q->bucket != 1 && q->bucket != 7))
		return err_set(err, SC_EINVAL,
			       "a demand report runs from a day to a later "
			       "one, by day or week");
	rc = uow_demand(u, q, a, &out->rows, &out->n_rows, err);
	if (rc)
		return rc;
	cap_tops = 1 + (q->by_segment ? out->n_rows : 0);
	out->skus = arena_calloc(a, out->n_rows + 1, sizeof(*out->skus));
	out->tops = arena_calloc(a, cap_tops, sizeof(*out->tops));
	series = arena_calloc(a, (size_t)(q->to_day - q->from_day) + 8,
			      sizeof(*series));
	if (!out->skus || !out->tops || !series)
		return err_set(err, SC_ENOMEM, "out of memory");
	out->n_tops = 1;
	for (size_t i = 0; i < out->n_rows;) { /* rows come by sku */
		size_t j = i;
		struct demand_sku *s = &out->skus[out->n_skus++];

		while (j < out->n_rows &&
		       !strcmp(out->rows[j].sku, out->rows[i].sku))
			j++;
		sum_sku(out, i, j, series, s);
		for (int k = 0; k < DEMAND__OUTCOMES; k++)
			out->total[k] += s->units[k];
		top_add(&out->tops[0], s->sku,
			s->units[0] + s->units[1] + s->units[2]);
		if (q->by_segment)
			segment_tops(out, i, j, cap_tops);
		i = j;
	}
	return SC_OK;
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
static int supplier_and_cost(struct uow *u, const char *sku,
			     struct catalogue *cat, struct arena *a,
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
	rc = report_formula(u, &(struct formula_ask){sku, 0, cat}, a, &fv, err);
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
		    struct catalogue *cat, struct arena *a, struct plan_line *l,
		    struct sc_err *err)
{
	int rc;

	stats_ses(l->weekly, (size_t)pp->history, &l->fit);
	l->trend = stats_slope(l->weekly, (size_t)pp->history);
	l->forecast = l->fit.level * pp->weeks;
	l->safety = pp->z * l->fit.rmse * sqrt((double)pp->weeks);
	l->eta = pp->today + pp->lead_days;
	rc = on_hand(u, l->sku, a, l, err);
	if (!rc)
		rc = supplier_and_cost(u, l->sku, cat, a, l, err);
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
	struct catalogue cat = {0};
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
	for (size_t i = 0; !rc && i < n; i++) /* one catalogue read in all */
		rc = plan_one(u, pp, &cat, a, &lines[i], err);
	if (!rc) {
		*out = lines;
		*n_out = n;
	}
	return rc;
}

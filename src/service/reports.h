/*
 * service/reports.h - read-side reports of issue 15, built from the
 * store's aggregates (service/uow.h queries) and the domain's arithmetic,
 * shared by the HTTP API and the CLI.
 */
#ifndef SCENTS_SERVICE_REPORTS_H
#define SCENTS_SERVICE_REPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service/uow.h"

/* A survey with what its tallies say. */
struct survey_report {
	struct survey *s;			      /* with tallies */
	struct variant_stats st[SURVEY_VARIANTS_MAX]; /* per variant */
	struct survey_verdict v;		      /* the verdict */
};

/* Survey @id (responses of @segment only, when not NULL), analysed. */
int report_survey(struct uow *u, int64_t id, const char *segment,
		  struct arena *a, struct survey_report *out,
		  struct sc_err *err);

/* A formula with its catalogue (for costs) and the active version. */
struct formula_view {
	struct formula *f;	  /* the version asked for */
	int32_t active;		  /* the active version, 0 none */
	struct formula_cost cost; /* per unit from each supplier */
};

/*
 * The ingredient catalogue as a report reads it: loaded on first use and
 * then shared, so a report over many skus reads it once.  Zero it first.
 */
struct catalogue {
	struct ingredient *items; /* n entries, by name */
	size_t n;		  /* may be 0 */
	bool loaded;		  /* items and n are read */
};

/* Which formula a report costs, and with which catalogue. */
struct formula_ask {
	const char *sku;       /* the scent */
	int32_t version;       /* 0: active, -1: newest */
	struct catalogue *cat; /* loaded when not yet; NULL: one of its own */
};

/* The formula @q asks for, costed from its catalogue, into @a. */
int report_formula(struct uow *u, const struct formula_ask *q, struct arena *a,
		   struct formula_view *out, struct sc_err *err);

/* Most skus in a top list. */
#define DEMAND_TOP 10

/* One sku's demand over the report's range. */
struct demand_sku {
	const char *sku;		 /* product */
	int64_t units[DEMAND__OUTCOMES]; /* by outcome */
	double met_pct;			 /* allocated share, or -1 if none */
	double trend_per_week;		 /* least-squares slope of units */
};

/* The skus most ordered, overall or by one segment. */
struct demand_top {
	const char *segment;	      /* NULL: overall; "" no segment */
	const char *skus[DEMAND_TOP]; /* most units first */
	int64_t units[DEMAND_TOP];    /* theirs */
	size_t n;		      /* entries used */
};

/* GET /demand: the store's groups, and what they add up to. */
struct demand_report {
	struct demand_query q;		 /* as asked */
	struct demand_row *rows;	 /* n_rows groups from the store */
	size_t n_rows;			 /* may be 0 */
	struct demand_sku *skus;	 /* n_skus, by sku */
	size_t n_skus;			 /* may be 0 */
	int64_t total[DEMAND__OUTCOMES]; /* every sku */
	struct demand_top *tops;	 /* [0] overall, then per segment */
	size_t n_tops;			 /* 1, or 1 + segments (by_segment) */
};

/* Demand as @q asks, summed per sku, trends and top lists, in @a. */
int report_demand(struct uow *u, const struct demand_query *q, struct arena *a,
		  struct demand_report *out, struct sc_err *err);

/* How to plan production. */
struct plan_params {
	int32_t today;	   /* days since 1970-01-01 */
	int32_t weeks;	   /* horizon, 1..52 */
	int32_t history;   /* complete weeks of demand to learn from, 2..104 */
	int64_t min_batch; /* batches are multiples of this, >= 1 */
	int32_t lead_days; /* a batch ordered today arrives after, 0..365 */
	double z;	   /* safety factor (1.645: 95% service) */
};

#define PLAN_WEEKS_MAX	 52
#define PLAN_HISTORY_MAX 104

/* One sku's line of the production plan. */
struct plan_line {
	const char *sku;	 /* product */
	double *weekly;		 /* history weeks of ordered units */
	struct ses_fit fit;	 /* the forecast */
	double trend;		 /* units per week, least squares */
	double forecast;	 /* units over the horizon */
	double safety;		 /* z * rmse * sqrt(weeks) */
	int64_t available;	 /* in the warehouse, free */
	int64_t incoming;	 /* in shipment, free */
	int64_t make;		 /* units to order, a multiple of min_batch */
	enum supplier supplier;	 /* the latest decision, or NONE */
	bool has_cost;		 /* a unit cost is known */
	int64_t unit_cost;	 /* hundredths of a cent */
	const char *cost_source; /* "formula" or "research" */
	int32_t eta;		 /* today + lead_days */
};

/* A plan for every sku with demand in the history window, by sku. */
int report_plan(struct uow *u, const struct plan_params *pp, struct arena *a,
		struct plan_line **out, size_t *n_out, struct sc_err *err);

/* The first day (a Monday) of the ISO week holding @day. */
static inline int32_t week_of(int32_t day)
{
	return day - (day + 3) % 7;
}

#endif

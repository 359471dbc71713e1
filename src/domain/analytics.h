/*
 * domain/analytics.h - what surveys and order history say (issue 15):
 * which variant of a scent audiences accept, and how much of each scent
 * to make next.  Pure arithmetic over counts the store aggregated.
 *
 * Surveys.  A survey compares 2..SURVEY_VARIANTS_MAX variants of one scent,
 * each a version of its formula.  A response is one respondent's verdict
 * on one variant: accepted yes/no, a 1-5 rating, or both, with an optional
 * audience segment.  Per variant the report gives the acceptance with its
 * 95% Wilson interval (as the supplier rule) and the mean rating with its
 * 95% Student t interval.  The winner is the variant with the highest
 * acceptance, and only when a two-sided two-proportion z-test (pooled)
 * against every other variant rejects equal acceptance at 5% after the
 * Holm-Bonferroni correction for those k-1 comparisons.  Otherwise there
 * is no clear winner, and the report says how many respondents each of
 * the two leading variants would need (two-proportion sample size at the
 * observed rates, alpha 0.05/(k-1), power 0.8).
 *
 * Demand.  The forecast is simple exponential smoothing of weekly units,
 * its alpha chosen from 0.05..0.95 (step 0.05) by the least squared
 * one-step error on the weeks before the last SES_HOLDOUT; on those
 * held-out weeks its mean absolute error is shown beside that of the
 * naive forecast ("same as last week"), so people see whether the
 * smoothing earns its keep.
 */
#ifndef SCENTS_DOMAIN_ANALYTICS_H
#define SCENTS_DOMAIN_ANALYTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Variants in one survey; segment names; responses in one import. */
#define SURVEY_VARIANTS_MAX 10
#define SURVEY_NAME_MAX	    200
#define SURVEY_ALPHA	    0.05
#define SURVEY_POWER	    0.80
/* Weeks the forecast's error is measured on. */
#define SES_HOLDOUT 4

/* Longest audience segment name ("cinema", "game", "vr", ...). */
#define SEGMENT_MAX 32

/* A segment name: 1..SEGMENT_MAX of a-z, 0-9, '-' and '_'. */
bool segment_valid(const char *s);

/* What the store counted for one variant (GROUP BY in the database). */
struct variant_tally {
	const char *label;	 /* "A", "citrus-heavy", ... */
	int32_t formula_version; /* of the survey's scent */
	int64_t responses;	 /* rows */
	int64_t answered;	 /* with accepted given */
	int64_t accepted;	 /* accepted = yes */
	int64_t rated;		 /* with a rating */
	int64_t rating_sum;	 /* of ratings */
	int64_t rating_sumsq;	 /* of squared ratings */
};

/* What the report says about one variant. */
struct variant_stats {
	bool has_accept;    /* answered > 0 */
	double accept;	    /* accepted / answered, 0..1 */
	double accept_lo;   /* 95% Wilson interval */
	double accept_hi;   /* idem */
	bool has_rating;    /* rated > 0 */
	double mean;	    /* mean rating */
	double mean_lo;	    /* 95% t interval (n >= 2; else = mean) */
	double mean_hi;	    /* idem */
	double p_vs_leader; /* Holm-adjusted p against the leader; -1 for
			       the leader itself or when not tested */
};

/* The survey's verdict. */
struct survey_verdict {
	int leader;		  /* highest acceptance, or -1 (no answers) */
	int winner;		  /* leader when significant, else -1 */
	int runner_up;		  /* second highest, or -1 */
	int64_t need_per_variant; /* respondents per leading variant for a
				     verdict, -1 when the rates are equal or
				     unknown; 0 when there is a winner */
	int64_t more_needed;	  /* beyond those the two leaders have, or -1 */
};

/* One respondent's verdict on one variant. */
struct survey_response {
	const char *variant;	/* its label, as the sender wrote it */
	int32_t variant_idx;	/* index into the survey's variants; set by
				   the handler */
	const char *respondent; /* the rule of every id */
	int8_t accepted;	/* 1 yes, 0 no, -1 not asked */
	int8_t rating;		/* 1..5, 0 not asked */
	const char *segment;	/* audience, or NULL */
};

/* What became of ordered units (the demand rollup's outcome). */
enum demand_outcome {
	DEMAND_ALLOCATED,   /* met from stock */
	DEMAND_BACKORDERED, /* waits for stock */
	DEMAND_REFUSED,	    /* out of stock, not waiting */
	DEMAND__OUTCOMES
};

/* Ordered units to add to the rollup (one order line, or imported). */
struct demand_entry {
	const char *sku;	     /* product */
	int32_t day;		     /* days since 1970-01-01 */
	const char *segment;	     /* the customer's audience; NULL none */
	enum demand_outcome outcome; /* what became of them */
	int64_t units;		     /* 1.. */
	int64_t lines;		     /* order lines they came in, 1.. */
};

/*
 * Analyse @k tallies into @out (k entries) and @v.  Pure; never fails.
 */
void survey_analyse(const struct variant_tally *t, size_t k,
		    struct variant_stats *out, struct survey_verdict *v);

/* The standard normal quantile at @p (0 < p < 1); Acklam's method. */
double stats_normal_quantile(double p);

/* The 0.975 quantile of Student's t with @df >= 1 degrees of freedom. */
double stats_t975(int64_t df);

/*
 * Two-sided p-value of the pooled two-proportion z-test of @x1/@n1
 * against @x2/@n2; 1 when either n is 0 or the pooled rate is 0 or 1.
 */
double stats_two_prop_p(int64_t x1, int64_t n1, int64_t x2, int64_t n2);

/* Holm-Bonferroni adjusted p-values of @m raw ones, into @adj. */
void stats_holm(const double *p, size_t m, double *adj);

/*
 * Respondents per group for a two-sided two-proportion test to detect
 * @p1 against @p2 at @alpha with @power; -1 when p1 == p2.
 */
int64_t stats_two_prop_n(double p1, double p2, double alpha, double power);

/* Simple exponential smoothing fitted to a series (see the top). */
struct ses_fit {
	double alpha;	  /* chosen smoothing parameter */
	double level;	  /* the forecast for every coming week */
	double mae;	  /* on the held-out weeks; -1 without them */
	double naive_mae; /* of "same as last week" there; -1 idem */
	double rmse;	  /* one-step error over the series, for safety
			     stock; 0 when too short */
	size_t holdout;	  /* weeks held out (0 when the series is short) */
};

/*
 * Fit @y (@n weekly values, oldest first, n >= 1) as described at the
 * top.  With fewer than SES_HOLDOUT + 2 weeks nothing is held out.
 */
void stats_ses(const double *y, size_t n, struct ses_fit *out);

/*
 * Least-squares slope of @y against its index (units per week); 0 when
 * n < 2.
 */
double stats_slope(const double *y, size_t n);

/*
 * Units to make: @forecast_total over the horizon plus @safety, minus
 * @on_hand (available and incoming), rounded up to a multiple of
 * @min_batch (>= 1); 0 when nothing is needed.
 */
int64_t plan_quantity(double forecast_total, double safety, int64_t on_hand,
		      int64_t min_batch);

#endif

/*
 * domain/sourcing.h - which supplier to buy a scent from (the seed's
 * business rule) and the market research it is decided on.
 *
 * "If a cheap scent is 40% favored or higher, go with the cheap supplier.
 * Otherwise go with the expensive supplier."  The threshold is per round
 * (40% by default); exactly the threshold chooses cheap.  Percentages are
 * kept in hundredths of a percent and money in cents, so the boundary is
 * exact.  When a row gives its number of respondents, the decision also
 * carries the 95% Wilson interval of the cheap share, and is flagged not
 * yet significant when that interval straddles the threshold.
 *
 * Scents are named by people ("sea breeze") and identified by SKU: the
 * name upper-cased, with each run of spaces, hyphens and underscores
 * turned into one hyphen and other punctuation dropped ("SEA-BREEZE").
 *
 * Pure C: parsing works on a buffer the caller read.
 */
#ifndef SCENTS_DOMAIN_SOURCING_H
#define SCENTS_DOMAIN_SOURCING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/model.h"

struct arena;
struct sc_err;

/* Most rows in one round of research. */
#define SOURCING_ROWS_MAX 10000
/* The seed's threshold: 40.00%. */
#define SOURCING_THRESHOLD_BP 4000
/* How far the two shares of a row may sum from 100%: 0.50 points. */
#define SOURCING_SUM_SLACK_BP 50
/* Largest unit cost accepted, in cents ($1 000 000.00). */
#define SOURCING_COST_MAX_CENTS INT64_C(100000000)

/* One scent's line of market research. */
struct research_row {
	const char *scent;	      /* as people write it */
	const char *sku;	      /* derived from scent */
	int32_t expensive_bp;	      /* favourability, 0..10000 */
	int32_t cheap_bp;	      /* favourability, 0..10000 */
	int64_t expensive_cost_cents; /* unit cost */
	int64_t cheap_cost_cents;     /* unit cost */
	int64_t respondents;	      /* 0 when not given */
};

/* What to buy, and why. */
struct decision {
	enum supplier supplier;	 /* SUPPLIER_CHEAP or SUPPLIER_EXPENSIVE */
	int64_t unit_cost_cents; /* of the chosen supplier */
	int64_t saving_cents;	 /* per unit, against the expensive one */
	bool has_interval;	 /* respondents were given */
	double ci_low_pct;	 /* 95% Wilson interval of the cheap share */
	double ci_high_pct;	 /* idem, upper bound */
	bool significant;	 /* interval does not straddle the threshold */
};

/*
 * Decide every row: *@out gets @n decisions in @a, row by row.
 * SC_ENOMEM.
 */
int sourcing_decide_all(const struct research_row *rows, size_t n,
			int32_t threshold_bp, struct arena *a,
			struct decision **out /* OUT */, struct sc_err *err);

/* Apply the rule to @row with @threshold_bp (0..10000). */
void sourcing_decide(const struct research_row *row, int32_t threshold_bp,
		     struct decision *out /* OUT */);

/*
 * 95% Wilson score interval of a proportion @p (0..1) seen in @n
 * respondents (n >= 1), as fractions in *@lo and *@hi.
 */
void sourcing_wilson(double p, int64_t n, double *lo, double *hi);

/*
 * The SKU of scent @name, in @a.  SC_EINVAL when nothing printable is
 * left or it is longer than SC_ID_MAX; SC_ENOMEM.
 */
int sourcing_sku_of(const char *name, struct arena *a, const char **out,
		    struct sc_err *err);

/*
 * Check @n rows: each share 0..100% and the pair summing to 100% within
 * SOURCING_SUM_SLACK_BP, costs 0..SOURCING_COST_MAX_CENTS, no scent twice
 * (by SKU), 1..SOURCING_ROWS_MAX rows.  Errors name the row ("row 3: ...",
 * counting data rows from 1).  Scratch memory from @a.  SC_EINVAL,
 * SC_ENOMEM.
 */
int sourcing_check_rows(const struct research_row *rows, size_t n,
			struct arena *a, struct sc_err *err);

/*
 * Parse CSV text with the header
 * scent,expensive_favorability_pct,cheap_favorability_pct,
 * expensive_cost_usd,cheap_cost_usd[,respondents] (columns in any order,
 * header required, quoted fields allowed) into rows in @a, then check
 * them.  Errors name the file line ("line 3: ...").  SC_EINVAL, SC_ENOMEM.
 */
int sourcing_parse_csv(const char *text, size_t len, struct arena *a,
		       struct research_row **out /* OUT */, size_t *n_out,
		       struct sc_err *err);

/*
 * Parse a decimal with at most @decimals decimals ("40", "39.9", "25.00")
 * into an integer scaled by 10^@decimals.  False on anything else.
 */
bool sourcing_parse_fixed(const char *s, int decimals, int64_t *out);

/* "cheap", "expensive", or NULL for SUPPLIER_NONE. */
const char *supplier_name(enum supplier s);

/* Parse "cheap" or "expensive". */
bool supplier_parse(const char *s, enum supplier *out);

#endif

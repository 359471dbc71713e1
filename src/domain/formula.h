/*
 * domain/formula.h - scent formulas: what a scent is made of, whether it
 * may be made that way, what one unit costs, and what a production run
 * needs (issue 15, the seed's "complex chemical mixtures").
 *
 * A formula is a versioned list of ingredients with their proportion by
 * weight.  Proportions are kept in thousandths of a percent (100% is
 * FORMULA_WHOLE), so sums and limits compare exactly; they must sum to
 * 100% within FORMULA_SUM_SLACK (0.010 points), a rounding allowance for
 * formulas copied from spreadsheets, and no more.
 *
 * Ingredients are a catalogue: a name (the rule of every id), an optional
 * CAS registry number, an optional maximum concentration in a finished
 * product (the IFRA standards' limits, entered as data: we do not ship
 * them), and per supplier a price per kilogram in cents.  A formula that
 * names an ingredient not in the catalogue, or puts one above its limit,
 * is refused naming the ingredient.
 *
 * Money: a unit's cost is in hundredths of a cent (a 10 ml unit may cost
 * less than a cent), rounded half away from zero once, at the end.
 * Masses: a unit is unit_ml millilitres of density density_mg_ml
 * milligrams per millilitre; a bill of materials is in milligrams and sums
 * exactly to the run's mass (largest remainder rounding).
 */
#ifndef SCENTS_DOMAIN_FORMULA_H
#define SCENTS_DOMAIN_FORMULA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/messages.h"

struct arena;
struct sc_err;

/* 100% in thousandths of a percent. */
#define FORMULA_WHOLE 100000
/* How far a formula's proportions may sum from 100%: 0.010 points. */
#define FORMULA_SUM_SLACK 10
/* Most ingredients in one formula; most in the catalogue. */
#define FORMULA_LINES_MAX 200
#define INGREDIENTS_MAX	  10000
/* Largest price per kilogram, in cents ($10 000 000.00). */
#define INGREDIENT_PRICE_MAX INT64_C(1000000000)
/* Unit size in ml, density in mg/ml: bounds of what we accept. */
#define FORMULA_UNIT_ML_MAX 100000
#define FORMULA_DENSITY_MIN 100	 /* 0.1 g/ml */
#define FORMULA_DENSITY_MAX 5000 /* 5 g/ml */
#define FORMULA_NOTE_MAX    500
/* Largest production run's mass: 90 tonnes, in milligrams (so that a
 * mass times a proportion stays inside 64 bits). */
#define BOM_MASS_MAX_MG INT64_C(90000000000000)

/* One ingredient of the catalogue. */
struct ingredient {
	const char *name;  /* the rule of every id */
	const char *cas;   /* "50-00-0" style, or NULL */
	int32_t max_milli; /* limit in a product, 0..FORMULA_WHOLE; -1 none */
	int64_t price[2];  /* cents per kg: [0] cheap, [1] expensive; -1
			      not quoted by that supplier */
};

/* One line of a formula. */
struct formula_line {
	const char *ingredient; /* catalogue name */
	int32_t milli;		/* proportion by weight, 1..FORMULA_WHOLE */
};

/* A version of a scent's formula. */
struct formula {
	const char *sku;		  /* the scent */
	int32_t version;		  /* 1, 2, ... set by the handler */
	int32_t unit_ml;		  /* one unit's volume, 1.. */
	int32_t density_mg_ml;		  /* mg per ml */
	const char *note;		  /* why this version, or NULL */
	int64_t created_at;		  /* unix seconds */
	const struct formula_line *lines; /* n entries */
	size_t n;			  /* 1..FORMULA_LINES_MAX */
};

/* The cost of one unit from each supplier (hundredths of a cent). */
struct formula_cost {
	bool known[2];		/* every ingredient has that supplier's price */
	int64_t cost[2];	/* per unit, when known */
	const char *missing[2]; /* first ingredient without a price, or NULL */
};

/* Supplier index into ingredient.price and formula_cost: 0 cheap. */
static inline int supplier_index(enum supplier s)
{
	return s == SUPPLIER_EXPENSIVE ? 1 : 0;
}

/* The CAS number shape: 2-7 digits, '-', 2 digits, '-', 1 check digit,
 * with the check digit right. */
bool cas_valid(const char *s);

/*
 * Check one catalogue entry: name, CAS, limit, prices.  SC_EINVAL naming
 * the field.
 */
int ingredient_check(const struct ingredient *in, struct sc_err *err);

/*
 * Check @f against catalogue @cat (@n_cat entries): 1..FORMULA_LINES_MAX
 * lines, each a known ingredient once, proportions positive and summing
 * to 100% within FORMULA_SUM_SLACK, none above its ingredient's limit,
 * unit size and density in range.  SC_EINVAL naming the ingredient.
 */
int formula_check(const struct formula *f, const struct ingredient *cat,
		  size_t n_cat, struct sc_err *err);

/* The catalogue entry named @name, or NULL. */
const struct ingredient *ingredient_find(const struct ingredient *cat, size_t n,
					 const char *name);

/* The cost of one unit of @f from each supplier (@f already checked). */
void formula_cost(const struct formula *f, const struct ingredient *cat,
		  size_t n_cat, struct formula_cost *out);

/* A production run: @units units of @unit_ml ml (0: the formula's). */
struct bom_run {
	int64_t units;	 /* 1..SC_QTY_MAX */
	int32_t unit_ml; /* 0..FORMULA_UNIT_ML_MAX */
};

/* A bill of materials. */
struct bom {
	int64_t *mg;	  /* milligrams of each line of the formula */
	int64_t total_mg; /* the run's mass: the sum of mg, exactly */
};

/*
 * Bill of materials of @f for @run into @out (amounts in @a).  SC_EINVAL
 * when the run is empty or above BOM_MASS_MAX_MG; SC_ENOMEM.
 */
int formula_bom(const struct formula *f, const struct bom_run *run,
		struct arena *a, struct bom *out, struct sc_err *err);

/* "12.345" for @milli thousandths of a percent into @buf (16 bytes). */
void milli_format(int32_t milli, char buf[16]);

/* "1.2345" for @v hundredths of a cent, as dollars, into @buf (32). */
void cost_format(int64_t v, char buf[32]);

#endif

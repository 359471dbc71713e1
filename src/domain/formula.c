/*
 * domain/formula.c - formula rules, unit cost and bills of materials.
 */
#include "domain/formula.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/model.h"

bool cas_valid(const char *s)
{
	/* CAS: digits-digits-check; the check digit is the sum of every
	 * other digit times its position counted from the right, mod 10 */
	size_t len, d1 = 0, i;
	int sum = 0, pos = 1;

	if (!s)
		return false;
	len = strlen(s);
	if (len < 7 || len > 12 || s[len - 2] != '-' || s[len - 5] != '-' ||
	    !isdigit((unsigned char)s[len - 1]))
		return false;
	for (i = 0; i < len - 5; i++, d1++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	if (d1 < 2 || d1 > 7 || !isdigit((unsigned char)s[len - 4]) ||
	    !isdigit((unsigned char)s[len - 3]))
		return false;
	for (i = len - 2; i-- > 0;) {
		if (s[i] == '-')
			continue;
		sum += (s[i] - '0') * pos++;
	}
	return sum % 10 == s[len - 1] - '0';
}

int ingredient_check(const struct ingredient *in, struct sc_err *err)
{
	if (!in->name || !ident_valid(in->name, strlen(in->name)))
		return err_set(err, SC_EINVAL,
			       "ingredient name must be 1 to %d bytes of "
			       "printable utf-8",
			       SC_ID_MAX);
	if (in->cas && !cas_valid(in->cas))
		return err_set(err, SC_EINVAL,
			       "ingredient '%s': '%s' is not a CAS number "
			       "(NNNNNNN-NN-N with its check digit)",
			       in->name, in->cas);
	if (in->max_milli < -1 || in->max_milli > FORMULA_WHOLE)
		return err_set(err, SC_EINVAL,
			       "ingredient '%s': max_pct must be 0 to 100",
			       in->name);
	for (int k = 0; k < 2; k++)
		if (in->price[k] < -1 || in->price[k] > INGREDIENT_PRICE_MAX)
			return err_set(err, SC_EINVAL,
				       "ingredient '%s': %s price must be 0 "
				       "to 10000000.00 per kg",
				       in->name, k ? "expensive" : "cheap");
	return SC_OK;
}

const struct ingredient *ingredient_find(const struct ingredient *cat, size_t n,
					 const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cat[i].name, name))
			return &cat[i];
	return NULL;
}

static int check_line(const struct formula *f, size_t i,
		      const struct ingredient *cat, size_t n_cat,
		      struct sc_err *err)
{
	const struct formula_line *l = &f->lines[i];
	const struct ingredient *in;
	char have[16], max[16];

	if (!l->ingredient ||
	    !ident_valid(l->ingredient, strlen(l->ingredient)))
		return err_set(err, SC_EINVAL,
			       "line %zu: an ingredient needs a name", i + 1);
	in = ingredient_find(cat, n_cat, l->ingredient);
	if (!in)
		return err_set(err, SC_EINVAL,
			       "line %zu: unknown ingredient '%s' (add it to "
			       "the catalogue first)",
			       i + 1, l->ingredient);
	if (l->milli <= 0 || l->milli > FORMULA_WHOLE)
		return err_set(err, SC_EINVAL,
			       "line %zu: '%s' must be more than 0 and at "
			       "most 100 percent",
			       i + 1, l->ingredient);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(f->lines[j].ingredient, l->ingredient))
			return err_set(err, SC_EINVAL,
				       "line %zu: '%s' is listed twice", i + 1,
				       l->ingredient);
	if (in->max_milli >= 0 && l->milli > in->max_milli) {
		milli_format(l->milli, have);
		milli_format(in->max_milli, max);
		return err_set(err, SC_EINVAL,
			       "line %zu: '%s' at %s%% is above its limit of "
			       "%s%%",
			       i + 1, l->ingredient, have, max);
	}
	return SC_OK;
}

int formula_check(const struct formula *f, const struct ingredient *cat,
		  size_t n_cat, struct sc_err *err)
{
	int64_t sum = 0;
	char buf[16];

	if (!f->sku || !ident_valid(f->sku, strlen(f->sku)))
		return err_set(err, SC_EINVAL,
			       "sku must be 1 to %d bytes of printable utf-8",
			       SC_ID_MAX);
	if (f->n < 1 || f->n > FORMULA_LINES_MAX)
		return err_set(err, SC_EINVAL,
			       "a formula needs 1 to %d ingredients",
			       FORMULA_LINES_MAX);
	if (f->unit_ml < 1 || f->unit_ml > FORMULA_UNIT_ML_MAX)
		return err_set(err, SC_EINVAL, "unit_ml must be 1 to %d",
			       FORMULA_UNIT_ML_MAX);
	if (f->density_mg_ml < FORMULA_DENSITY_MIN ||
	    f->density_mg_ml > FORMULA_DENSITY_MAX)
		return err_set(err, SC_EINVAL,
			       "density must be 0.100 to 5.000 g/ml");
	if (f->note && strlen(f->note) > FORMULA_NOTE_MAX)
		return err_set(err, SC_EINVAL, "note must be at most %d bytes",
			       FORMULA_NOTE_MAX);
	for (size_t i = 0; i < f->n; i++) {
		int rc = check_line(f, i, cat, n_cat, err);

		if (rc)
			return rc;
		sum += f->lines[i].milli;
	}
	if (sum < FORMULA_WHOLE - FORMULA_SUM_SLACK ||
	    sum > FORMULA_WHOLE + FORMULA_SUM_SLACK) {
		milli_format((int32_t)sum, buf);
		return err_set(err, SC_EINVAL,
			       "proportions sum to %s%%, not 100%% (within "
			       "0.010)",
			       buf);
	}
	return SC_OK;
}

void formula_cost(const struct formula *f, const struct ingredient *cat,
		  size_t n_cat, struct formula_cost *out)
{
	/*
	 * grams of a line = pct/100 * unit_ml * density/1000; cents =
	 * grams * price/1000.  Summed in double (exact far beyond a cent's
	 * ten-thousandth for these ranges), rounded once.
	 */
	double grams_per_unit = (double)f->unit_ml * f->density_mg_ml / 1000.0;

	for (int k = 0; k < 2; k++) {
		double cents = 0;

		out->known[k] = true;
		out->missing[k] = NULL;
		for (size_t i = 0; i < f->n; i++) {
			const struct ingredient *in = ingredient_find(
				cat, n_cat, f->lines[i].ingredient);

			if (!in || in->price[k] < 0) {
				out->known[k] = false;
				out->missing[k] = f->lines[i].ingredient;
				break;
			}
			cents += (double)f->lines[i].milli / FORMULA_WHOLE *
				 grams_per_unit * (double)in->price[k] / 1000.0;
		}
		out->cost[k] = out->known[k] ? llround(cents * 100.0) : 0;
	}
}

/*
 * Give the milligrams @total * milli / @sum do not account for to the
 * largest remainders (Hamilton's method), first line first on ties, so
 * the amounts add up to the run exactly.
 */
static void apportion(const struct formula *f, int64_t total, int64_t sum,
		      int64_t *out, int64_t *rem)
{
	int64_t given = 0;

	/* total * milli < 9e13 * 1e5: inside int64 */
	for (size_t i = 0; i < f->n; i++) {
		int64_t num = total * f->lines[i].milli;

		out[i] = num / sum;
		rem[i] = num % sum;
		given += out[i];
	}
	while (given < total) {
		size_t best = 0;

		for (size_t i = 1; i < f->n; i++)
			if (rem[i] > rem[best])
				best = i;
		out[best]++;
		rem[best] = -1;
		given++;
	}
}

int formula_bom(const struct formula *f, const struct bom_run *run,
		struct arena *a, struct bom *out, struct sc_err *err)
{
	int32_t ml = run->unit_ml ? run->unit_ml : f->unit_ml;
	int64_t sum = 0, *rem;

	if (run->units < 1 || run->units > SC_QTY_MAX || ml < 1 ||
	    ml > FORMULA_UNIT_ML_MAX)
		return err_set(err, SC_EINVAL,
			       "a run needs 1 to %lld units of 1 to %d ml",
			       (long long)SC_QTY_MAX, FORMULA_UNIT_ML_MAX);
	if (run->units > BOM_MASS_MAX_MG / ml / f->density_mg_ml)
		return err_set(err, SC_EINVAL,
			       "a run of more than 90 tonnes is refused");
	out->total_mg = run->units * ml * f->density_mg_ml;
	out->mg = arena_calloc(a, f->n, sizeof(*out->mg));
	rem = arena_calloc(a, f->n, sizeof(*rem));
	if (!out->mg || !rem)
		return err_set(err, SC_ENOMEM, "out of memory");
	/* by the proportions' own sum (100% +- slack), so all is used */
	for (size_t i = 0; i < f->n; i++)
		sum += f->lines[i].milli;
	apportion(f, out->total_mg, sum, out->mg, rem);
	return SC_OK;
}

void milli_format(int32_t milli, char buf[16])
{
	(void)snprintf(buf, 16, "%s%d.%03d", milli < 0 ? "-" : "",
		       abs(milli) / 1000, abs(milli) % 1000);
}

void cost_format(int64_t v, char buf[32])
{
	int64_t a = v < 0 ? -v : v;

	(void)snprintf(buf, 32, "%s%lld.%04lld", v < 0 ? "-" : "",
		       (long long)(a / 10000), (long long)(a % 10000));
}

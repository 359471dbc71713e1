/*
 * domain/sourcing.c - the supplier rule, Wilson intervals, research CSV.
 */
#include "domain/sourcing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"

/* z for a two-sided 95% interval. */
#define Z95 1.959963984540054

const char *supplier_name(enum supplier s)
{
	switch (s) {
	case SUPPLIER_CHEAP:
		return "cheap";
	case SUPPLIER_EXPENSIVE:
		return "expensive";
	default:
		return NULL;
	}
}

bool supplier_parse(const char *s, enum supplier *out)
{
	if (!strcmp(s, "cheap"))
		*out = SUPPLIER_CHEAP;
	else if (!strcmp(s, "expensive"))
		*out = SUPPLIER_EXPENSIVE;
	else
		return false;
	return true;
}

void sourcing_wilson(double p, int64_t n, double *lo, double *hi)
{
	double nn = (double)n, z2 = Z95 * Z95;
	double denom = 1 + z2 / nn;
	double centre = (p + z2 / (2 * nn)) / denom;
	double half = Z95 * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;

	*lo = centre - half < 0 ? 0 : centre - half;
	*hi = centre + half > 1 ? 1 : centre + half;
}

void sourcing_decide(const struct research_row *row, int32_t threshold_bp,
		     struct decision *out)
{
	memset(out, 0, sizeof(*out));
	out->supplier = row->cheap_bp >= threshold_bp ? SUPPLIER_CHEAP
						      : SUPPLIER_EXPENSIVE;
	out->unit_cost_cents = out->supplier == SUPPLIER_CHEAP
				       ? row->cheap_cost_cents
				       : row->expensive_cost_cents;
	out->saving_cents = row->expensive_cost_cents - out->unit_cost_cents;
	out->significant = true;
	if (row->respondents > 0) {
		double t = threshold_bp / 100.0;

		sourcing_wilson(row->cheap_bp / 10000.0, row->respondents,
				&out->ci_low_pct, &out->ci_high_pct);
		out->ci_low_pct *= 100;
		out->ci_high_pct *= 100;
		out->has_interval = true;
		out->significant =
			!(out->ci_low_pct < t && t < out->ci_high_pct);
	}
}

int sourcing_decide_all(const struct research_row *rows, size_t n,
			int32_t threshold_bp, struct arena *a,
			struct decision **out, struct sc_err *err)
{
	struct decision *d = arena_calloc(a, n ? n : 1, sizeof(*d));

	if (!d)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		sourcing_decide(&rows[i], threshold_bp, &d[i]);
	*out = d;
	return SC_OK;
}

int sourcing_sku_of(const char *name, struct arena *a, const char **out,
		    struct sc_err *err)
{
	char buf[SC_ID_MAX + 1];
	size_t n = 0;
	bool dash = false;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		char c;

		if (*p == ' ' || *p == '-' || *p == '_' || *p == '\t') {
			dash = n > 0;
			continue;
		}
		if (*p >= 'a' && *p <= 'z')
			c = (char)(*p - 'a' + 'A');
		else if ((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
			c = (char)*p;
		else
			continue; /* punctuation and non-ASCII are dropped */
		if (n + 2 >= sizeof(buf))
			return err_set(err, SC_EINVAL, "scent name too long");
		if (dash)
			buf[n++] = '-';
		dash = false;
		buf[n++] = c;
	}
	if (!n)
		return err_set(err, SC_EINVAL,
			       "scent name has no letters or digits");
	buf[n] = '\0';
	*out = arena_strdup(a, buf);
	return *out ? SC_OK : err_set(err, SC_ENOMEM, "out of memory");
}

/* Range and sum checks of one row; @what names it ("line 3"). */
static int check_row(const struct research_row *r, const char *what, size_t at,
		     struct sc_err *err)
{
	int32_t sum = r->expensive_bp + r->cheap_bp;

	if (!ident_valid(r->scent, strlen(r->scent)))
		return err_set(err, SC_EINVAL,
			       "%s %zu: scent name must be 1 to %d bytes of "
			       "printable utf-8",
			       what, at, SC_ID_MAX);
	if (r->expensive_bp < 0 || r->expensive_bp > 10000 || r->cheap_bp < 0 ||
	    r->cheap_bp > 10000)
		return err_set(err, SC_EINVAL,
			       "%s %zu: favourability must be 0 to 100", what,
			       at);
	if (abs(sum - 10000) > SOURCING_SUM_SLACK_BP)
		return err_set(err, SC_EINVAL,
			       "%s %zu: favourabilities sum to %d.%02d, not "
			       "100 (within 0.5)",
			       what, at, sum / 100, sum % 100);
	if (r->expensive_cost_cents < 0 || r->cheap_cost_cents < 0 ||
	    r->expensive_cost_cents > SOURCING_COST_MAX_CENTS ||
	    r->cheap_cost_cents > SOURCING_COST_MAX_CENTS)
		return err_set(err, SC_EINVAL,
			       "%s %zu: costs must be 0 to 1000000.00", what,
			       at);
	if (r->respondents < 0)
		return err_set(err, SC_EINVAL,
			       "%s %zu: respondents must not be negative", what,
			       at);
	return SC_OK;
}

static int cmp_by_sku(const void *a, const void *b)
{
	const struct research_row *const *x = a, *const *y = b;
	int c = strcmp((*x)->sku, (*y)->sku);

	return c ? c : (*x < *y ? -1 : *x > *y);
}

/* No two rows with one SKU; numbers[i] names row i in messages. */
static int check_duplicates(const struct research_row *rows, size_t n,
			    const size_t *numbers, const char *what,
			    struct arena *a, struct sc_err *err)
{
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	size_t size = sizeof(const struct research_row *);
	const struct research_row **sorted = arena_calloc(a, n, size);
	int rc = SC_OK;

	if (!sorted)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		sorted[i] = &rows[i];
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): pointer array */
	qsort(sorted, n, sizeof(*sorted), cmp_by_sku);
	for (size_t i = 1; i < n && !rc; i++)
		if (!strcmp(sorted[i - 1]->sku, sorted[i]->sku))
			rc = err_set(err, SC_EINVAL,
				     "%s %zu: scent '%s' (%s) is already on %s "
				     "%zu",
				     what, numbers[sorted[i] - rows],
				     sorted[i]->scent, sorted[i]->sku, what,
				     numbers[sorted[i - 1] - rows]);
	return rc;
}

int sourcing_check_rows(const struct research_row *rows, size_t n,
			struct arena *a, struct sc_err *err)
{
	size_t *numbers;
	int rc = SC_OK;

	if (n < 1 || n > SOURCING_ROWS_MAX)
		return err_set(err, SC_EINVAL,
			       "research must have 1 to %d rows, not %zu",
			       SOURCING_ROWS_MAX, n);
	numbers = arena_calloc(a, n, sizeof(*numbers));
	if (!numbers)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		numbers[i] = i + 1;
		rc = check_row(&rows[i], "row", i + 1, err);
	}
	return rc ? rc : check_duplicates(rows, n, numbers, "row", a, err);
}

bool sourcing_parse_fixed(const char *s, int decimals, int64_t *out)
{
	int64_t v = 0;
	int seen = -1, digits = 0;

	for (; *s; s++) {
		if (*s == '.' && seen < 0) {
			seen = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || ++digits > 15)
			return false;
		if (seen >= 0 && ++seen > decimals)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (!digits || seen == 0)
		return false;
	for (int k = seen < 0 ? 0 : seen; k < decimals; k++)
		v *= 10;
	*out = v;
	return true;
}

enum column {
	COL_SCENT,
	COL_EXPENSIVE_PCT,
	COL_CHEAP_PCT,
	COL_EXPENSIVE_COST,
	COL_CHEAP_COST,
	COL_RESPONDENTS,
	COL__COUNT
};

static const char *const column_names[COL__COUNT] = {
	"scent",
	"expensive_favorability_pct",
	"cheap_favorability_pct",
	"expensive_cost_usd",
	"cheap_cost_usd",
	"respondents",
};

#define CSV_FIELD_MAX  512
#define CSV_FIELDS_MAX 16

/* One CSV record being read: fields copied out, quotes undone. */
struct record {
	char fields[CSV_FIELDS_MAX][CSV_FIELD_MAX]; /* trimmed values */
	size_t n;				    /* fields used */
};

/* Trim spaces at both ends of @f in place. */
static void trim(char *f)
{
	size_t len = strlen(f), start = 0;

	while (len && (f[len - 1] == ' ' || f[len - 1] == '\t'))
		f[--len] = '\0';
	while (f[start] == ' ' || f[start] == '\t')
		start++;
	memmove(f, f + start, len - start + 1);
}

/*
 * Read one record at *@pos (RFC 4180 quoting; a quoted field may span
 * lines).  Advances *@pos and *@line.  SC_EINVAL on bad input.
 */
static int read_record(const char *t, size_t len, size_t *pos, size_t *line,
		       struct record *r, struct sc_err *err)
{
	size_t i = *pos, o = 0, at = *line;
	bool quoted = false;

	r->n = 1;
	r->fields[0][0] = '\0';
	for (; i < len; i++) {
		char c = t[i];

		if (quoted) {
			if (c == '"' && i + 1 < len && t[i + 1] == '"')
				i++;
			else if (c == '"') {
				quoted = false;
				continue;
			}
			if (c == '\n')
				(*line)++;
		} else if (c == '"' && o == 0) {
			quoted = true;
			continue;
		} else if (c == ',') {
			r->fields[r->n - 1][o] = '\0';
			if (r->n == CSV_FIELDS_MAX)
				return err_set(err, SC_EINVAL,
					       "line %zu: too many fields", at);
			r->n++;
			o = 0;
			continue;
		} else if (c == '\n' || c == '\r') {
			if (c == '\r' && i + 1 < len && t[i + 1] == '\n')
				i++;
			i++;
			break;
		}
		if (c == '\0' || o + 1 >= CSV_FIELD_MAX)
			return err_set(err, SC_EINVAL,
				       "line %zu: field too long or has a NUL",
				       at);
		r->fields[r->n - 1][o++] = c;
	}
	if (quoted)
		return err_set(err, SC_EINVAL, "line %zu: unterminated quote",
			       at);
	r->fields[r->n - 1][o] = '\0';
	for (size_t k = 0; k < r->n; k++)
		trim(r->fields[k]);
	*pos = i;
	(*line)++;
	return SC_OK;
}

static bool blank(const struct record *r)
{
	return r->n == 1 && !r->fields[0][0];
}

/* Map header fields to columns into @where (index of each column). */
static int read_header(const struct record *r, int where[COL__COUNT],
		       struct sc_err *err)
{
	for (int c = 0; c < COL__COUNT; c++)
		where[c] = -1;
	for (size_t k = 0; k < r->n; k++) {
		int c = 0;

		while (c < COL__COUNT &&
		       strcmp(r->fields[k], column_names[c]) != 0)
			c++;
		if (c == COL__COUNT)
			return err_set(err, SC_EINVAL,
				       "line 1: unknown column '%.60s'",
				       r->fields[k]);
		if (where[c] >= 0)
			return err_set(err, SC_EINVAL,
				       "line 1: column '%s' twice",
				       column_names[c]);
		where[c] = (int)k;
	}
	for (int c = 0; c < COL_RESPONDENTS; c++)
		if (where[c] < 0)
			return err_set(err, SC_EINVAL,
				       "line 1: missing column '%s' (a header "
				       "line is required)",
				       column_names[c]);
	return SC_OK;
}

/*
 * Field @c of @r as a fixed-point number (2 decimals; respondents none),
 * or an error naming it.
 */
static int field_fixed(const struct record *r, const int where[COL__COUNT],
		       int c, size_t line, int64_t *out, struct sc_err *err)
{
	const char *f = r->fields[where[c]];
	int decimals = c == COL_RESPONDENTS ? 0 : 2;

	if (!sourcing_parse_fixed(f, decimals, out))
		return err_set(err, SC_EINVAL,
			       "line %zu: %s must be a non-negative number "
			       "with at most %d decimals, not '%.40s'",
			       line, column_names[c], decimals, f);
	return SC_OK;
}

static int row_of(const struct record *r, const int where[COL__COUNT],
		  size_t line, struct arena *a, struct research_row *row,
		  struct sc_err *err)
{
	struct sc_err name_err;
	int64_t e_bp, c_bp;
	int rc;

	if ((int)r->n <= where[COL_SCENT] || r->n < 5)
		return err_set(err, SC_EINVAL, "line %zu: too few fields",
			       line);
	for (int c = 0; c < COL__COUNT; c++)
		if (where[c] >= (int)r->n)
			return err_set(err, SC_EINVAL,
				       "line %zu: too few fields", line);
	memset(row, 0, sizeof(*row));
	row->scent = arena_strdup(a, r->fields[where[COL_SCENT]]);
	if (!row->scent)
		return err_set(err, SC_ENOMEM, "out of memory");
	err_clear(&name_err);
	rc = sourcing_sku_of(row->scent, a, &row->sku, &name_err);
	if (rc)
		return err_set(err, rc, "line %zu: %s", line, name_err.msg);
	rc = field_fixed(r, where, COL_EXPENSIVE_PCT, line, &e_bp, err);
	if (!rc)
		rc = field_fixed(r, where, COL_CHEAP_PCT, line, &c_bp, err);
	if (!rc)
		rc = field_fixed(r, where, COL_EXPENSIVE_COST, line,
				 &row->expensive_cost_cents, err);
	if (!rc)
		rc = field_fixed(r, where, COL_CHEAP_COST, line,
				 &row->cheap_cost_cents, err);
	if (!rc && where[COL_RESPONDENTS] >= 0 &&
	    r->fields[where[COL_RESPONDENTS]][0])
		rc = field_fixed(r, where, COL_RESPONDENTS, line,
				 &row->respondents, err);
	if (rc)
		return rc;
	row->expensive_bp = e_bp > 100000 ? 100000 : (int32_t)e_bp;
	row->cheap_bp = c_bp > 100000 ? 100000 : (int32_t)c_bp;
	return check_row(row, "line", line, err);
}

int sourcing_parse_csv(const char *text, size_t len, struct arena *a,
		       struct research_row **out, size_t *n_out,
		       struct sc_err *err)
{
	struct research_row *rows = NULL;
	size_t *lines = NULL, n = 0, cap = 0, lcap = 0, pos = 0, line = 1;
	int where[COL__COUNT];
	struct record *r = arena_alloc(a, sizeof(*r));
	int rc;

	if (!r)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (read_record(text, len, &pos, &line, r, err))
		return SC_EINVAL;
	rc = read_header(r, where, err);
	while (!rc && pos < len) {
		size_t at = line;

		if (read_record(text, len, &pos, &line, r, err))
			return SC_EINVAL;
		if (blank(r))
			continue;
		if (n == SOURCING_ROWS_MAX)
			return err_set(err, SC_EINVAL,
				       "line %zu: more than %d rows", at,
				       SOURCING_ROWS_MAX);
		if (arena_reserve(a, (void **)&rows, &cap, n + 1,
				  sizeof(*rows)) ||
		    arena_reserve(a, (void **)&lines, &lcap, n + 1,
				  sizeof(*lines)))
			return err_set(err, SC_ENOMEM, "out of memory");
		lines[n] = at;
		rc = row_of(r, where, at, a, &rows[n++], err);
	}
	if (!rc && !n)
		rc = err_set(err, SC_EINVAL,
			     "no research rows after the header");
	if (!rc)
		rc = check_duplicates(rows, n, lines, "line", a, err);
	if (!rc) {
		*out = rows;
		*n_out = n;
	}
	return rc;
}

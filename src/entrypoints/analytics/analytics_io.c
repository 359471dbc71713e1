/*
 * entrypoints/analytics/analytics_io.c - analytics in and out.
 */
#include "entrypoints/analytics/analytics_io.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/arena.h"
#include "common/err.h"
#include "domain/date.h"
#include "domain/sourcing.h"
#include "entrypoints/json/json_in.h"

/* ---- decimals -------------------------------------------------------- */

/*
 * A JSON string or number as an integer scaled by 10^@decimals; false
 * when it is neither or has more decimals.  Numbers go through their
 * shortest decimal text, so 12.5 is exactly 12.500.
 */
static bool fixed_of(json_t *v, int decimals, int64_t *out)
{
	char buf[64];

	if (json_is_string(v))
		return sourcing_parse_fixed(json_string_value(v), decimals,
					    out);
	if (json_is_integer(v)) {
		(void)snprintf(buf, sizeof(buf), "%lld",
			       (long long)json_integer_value(v));
		return sourcing_parse_fixed(buf, decimals, out);
	}
	if (json_is_real(v)) {
		(void)snprintf(buf, sizeof(buf), "%.*f", decimals,
			       json_real_value(v));
		/* refuse what the rounding above changed */
		return fabs(strtod(buf, NULL) - json_real_value(v)) < 1e-9 &&
		       sourcing_parse_fixed(buf, decimals, out);
	}
	return false;
}

/* ---- CSV ------------------------------------------------------------- */

#define CSV_COLS_MAX 8

/* One CSV record's fields (in @a), quotes undone; -1 on OOM. */
struct csv_rec {
	const char *f[CSV_COLS_MAX]; /* fields; NULL past the record's end */
	size_t n;		     /* fields in the record */
	size_t line;		     /* its first line's number */
};

/*
 * Read the record at *@pos of @text (RFC 4180: quoted fields may hold
 * commas, quotes doubled, and newlines), advancing *@pos and *@line.
 * Returns 1 with a record, 0 at the end, -1 on OOM or too many fields.
 */
/* Where a reader is in a CSV text. */
struct csv_cursor {
	const char *text; /* the whole text */
	size_t len;	  /* its bytes */
	size_t pos;	  /* next byte to read */
	size_t line;	  /* its line number */
};

/* Skip blank lines; the offset of the next record, len at the end. */
static size_t skip_blank(struct csv_cursor *cur)
{
	size_t i = cur->pos;

	while (i < cur->len && (cur->text[i] == '\n' || cur->text[i] == '\r')) {
		if (cur->text[i] == '\n')
			cur->line++;
		i++;
	}
	return i;
}

/* The offset just past the record starting at @i (quotes respected). */
static size_t record_end(const struct csv_cursor *cur, size_t i)
{
	bool quoted = false;

	for (; i < cur->len; i++) {
		char c = cur->text[i];

		if (c == '"')
			quoted = !quoted; /* a doubled quote toggles twice */
		else if (!quoted && (c == '\n' || c == '\r'))
			break;
	}
	return i;
}

/*
 * Copy @text[0..@n) into @buf undoing quotes, cutting fields at commas
 * into @r; -1 for too many fields.  Counts newlines inside quotes.
 */
static int split_fields(const char *text, size_t n, char *buf,
			struct csv_rec *r, size_t *line)
{
	bool quoted = false;
	size_t o = 0;

	r->f[r->n++] = buf;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];

		if (c == '"' && quoted && i + 1 < n && text[i + 1] == '"')
			buf[o++] = text[++i];
		else if (c == '"')
			quoted = !quoted;
		else if (c == ',' && !quoted) {
			buf[o++] = '\0';
			if (r->n == CSV_COLS_MAX)
				return -1;
			r->f[r->n++] = buf + o;
		} else {
			*line += c == '\n';
			buf[o++] = c;
		}
	}
	buf[o] = '\0';
	return 0;
}

/*
 * Read the next record (RFC 4180: quoted fields may hold commas, doubled
 * quotes and newlines) into @r, its strings in @a sized to the record,
 * so a large file costs its own size.  1 with a record, 0 at the end,
 * -1 on OOM or too many fields.
 */
static int csv_next(struct csv_cursor *cur, struct arena *a, struct csv_rec *r)
{
	size_t start = skip_blank(cur), end;
	char *buf;

	if (start >= cur->len)
		return 0;
	end = record_end(cur, start);
	buf = arena_alloc(a, end - start + 1);
	if (!buf)
		return -1;
	memset(r, 0, sizeof(*r));
	r->line = cur->line;
	if (split_fields(cur->text + start, end - start, buf, r, &cur->line))
		return -1;
	if (end < cur->len && cur->text[end] == '\r')
		end++;
	if (end < cur->len && cur->text[end] == '\n') {
		end++;
		cur->line++;
	}
	cur->pos = end;
	return 1;
}

/* Column positions named by a header; -1 for a column it lacks. */
struct csv_header {
	int col[CSV_COLS_MAX]; /* by the caller's name index */
};

/*
 * Read the header record of @text and map @names (NULL-terminated) to
 * columns; every name before @n_required is required.  SC_EINVAL naming
 * what is missing or unknown.
 */
static int csv_header(struct csv_cursor *cur, const char *const *names,
		      size_t n_required, struct arena *a, struct csv_header *h,
		      struct sc_err *err)
{
	struct csv_rec r;
	int got;

	for (size_t k = 0; k < CSV_COLS_MAX; k++)
		h->col[k] = -1;
	got = csv_next(cur, a, &r);
	if (got < 0)
		return err_set(err, SC_EINVAL, "line %zu: too many columns",
			       cur->line);
	if (!got)
		return err_set(err, SC_EINVAL,
			       "empty file: a header is needed");
	for (size_t c = 0; c < r.n; c++) {
		size_t k = 0;

		while (names[k] && strcasecmp(names[k], r.f[c]) != 0)
			k++;
		if (!names[k])
			return err_set(err, SC_EINVAL,
				       "line %zu: unknown column '%.40s'",
				       r.line, r.f[c]);
		h->col[k] = (int)c;
	}
	for (size_t k = 0; k < n_required; k++)
		if (h->col[k] < 0)
			return err_set(err, SC_EINVAL,
				       "line %zu: column '%s' is missing",
				       r.line, names[k]);
	return SC_OK;
}

/* Field @k of @r by @h, or NULL when absent or empty. */
static const char *field(const struct csv_rec *r, const struct csv_header *h,
			 size_t k)
{
	int c = h->col[k];

	return c >= 0 && (size_t)c < r->n && r->f[c][0] ? r->f[c] : NULL;
}

/* Grow @v (n used, cap) in @a for one more element of @size. */
static int grow(struct arena *a, void **v, size_t *cap, size_t n, size_t size,
		struct sc_err *err)
{
	return arena_reserve(a, v, cap, n + 1, size)
		       ? err_set(err, SC_ENOMEM, "out of memory")
		       : SC_OK;
}

/*
 * Fill one element from record @r (columns by @h); false when the record
 * is bad (the caller's spec says how, naming the line).
 */
typedef bool csv_fill_fn(const struct csv_rec *r, const struct csv_header *h,
			 void *elem);

/* How to read one kind of CSV file into an array. */
struct csv_spec {
	const char *const *names; /* columns, NULL-terminated */
	size_t n_required;	  /* the first ones must be there */
	size_t size;		  /* bytes per element */
	csv_fill_fn *fill;	  /* one record into one element */
	size_t max;		  /* most records, or 0 for any number */
	const char *what;	  /* the message for a bad record */
};

/*
 * The one loop behind every CSV read: the header, then each record
 * through @spec->fill into an array in @a.  SC_EINVAL naming the line.
 */
static int csv_read_all(const struct csv_text *in, const struct csv_spec *spec,
			struct arena *a, void **out, size_t *n_out,
			struct sc_err *err)
{
	struct csv_cursor cur = {in->text ? in->text : "", in->len, 0,
				 in->first_line};
	struct csv_header h;
	struct csv_rec r;
	size_t n = 0, cap = 0;
	char *v = NULL;
	int got = 0,
	    rc = csv_header(&cur, spec->names, spec->n_required, a, &h, err);

	while (!rc && (got = csv_next(&cur, a, &r)) > 0) {
		if (spec->max && n >= spec->max)
			return err_set(err, SC_EINVAL,
				       "line %zu: more than %zu records",
				       r.line, spec->max);
		rc = grow(a, (void **)&v, &cap, n, spec->size, err);
		if (!rc && !spec->fill(&r, &h, v + n * spec->size))
			return err_set(err, SC_EINVAL, "line %zu: %s", r.line,
				       spec->what);
		n += !rc;
	}
	if (!rc && got < 0)
		rc = err_set(err, SC_EINVAL, "line %zu: too many columns",
			     cur.line);
	*out = v;
	*n_out = n;
	return rc;
}

/* ---- ingredients ----------------------------------------------------- */

/* Price field text @s (dollars per kg) into cents, -1 when absent. */
static bool price_of(const char *s, int64_t *out)
{
	*out = -1;
	return !s || sourcing_parse_fixed(s, 2, out);
}

static bool pct_of(const char *s, int32_t *out)
{
	int64_t v = -1;

	if (s && (!sourcing_parse_fixed(s, 3, &v) || v > 100000))
		return false;
	*out = (int32_t)v;
	return true;
}

static bool ingredient_of(const struct csv_rec *r, const struct csv_header *h,
			  void *elem)
{
	struct ingredient *e = elem;

	*e = (struct ingredient){field(r, h, 0), field(r, h, 1), -1, {-1, -1}};
	return e->name && pct_of(field(r, h, 2), &e->max_milli) &&
	       price_of(field(r, h, 3), &e->price[0]) &&
	       price_of(field(r, h, 4), &e->price[1]);
}

int aio_ingredients_csv(const struct csv_text *in, struct arena *a,
			struct ingredient **out, size_t *n_out,
			struct sc_err *err)
{
	static const char *const names[] = {"name",
					    "cas",
					    "max_pct",
					    "cheap_usd_per_kg",
					    "expensive_usd_per_kg",
					    NULL};
	static const struct csv_spec spec = {
		names,
		1,
		sizeof(**out),
		ingredient_of,
		INGREDIENTS_MAX,
		"needs a name; max_pct 0 to 100 (3 decimals); prices in "
		"dollars (2 decimals)"};

	return csv_read_all(in, &spec, a, (void **)out, n_out, err);
}

/* Optional decimal field @name of @o scaled by 10^@d into *@out (-1). */
static bool opt_fixed(json_t *o, const char *name, int d, int64_t *out)
{
	json_t *v = json_object_get(o, name);

	*out = -1;
	return !v || json_is_null(v) || fixed_of(v, d, out);
}

int aio_ingredients_json(json_t *arr, struct arena *a, struct ingredient **out,
			 size_t *n_out, struct sc_err *err)
{
	size_t n = json_array_size(arr);
	struct ingredient *v;

	if (!json_is_array(arr))
		return err_set(err, SC_EINVAL,
			       "ingredients must be a JSON array");
	v = arena_calloc(a, n ? n : 1, sizeof(*v));
	if (!v)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		int64_t max;

		if (!json_is_object(o) ||
		    !json_opt_string(o, "name", &v[i].name) ||
		    !json_opt_string(o, "cas", &v[i].cas) ||
		    !opt_fixed(o, "max_pct", 3, &max) || max > 100000 ||
		    !opt_fixed(o, "cheap_usd_per_kg", 2, &v[i].price[0]) ||
		    !opt_fixed(o, "expensive_usd_per_kg", 2, &v[i].price[1]))
			return err_set(err, SC_EINVAL,
				       "ingredient %zu: needs a name; max_pct "
				       "0 to 100 (3 decimals); prices in "
				       "dollars (2 decimals)",
				       i + 1);
		v[i].max_milli = (int32_t)max;
	}
	*out = v;
	*n_out = n;
	return SC_OK;
}

/* ---- formulas -------------------------------------------------------- */

/* Default unit size and density: a 10 ml vial of a water-like liquid. */
#define DEFAULT_UNIT_ML 10
#define DEFAULT_DENSITY 1000

static struct formula *new_formula(const char *sku, struct arena *a)
{
	struct formula *f = arena_calloc(a, 1, sizeof(*f));

	if (f) {
		f->sku = sku;
		f->unit_ml = DEFAULT_UNIT_ML;
		f->density_mg_ml = DEFAULT_DENSITY;
	}
	return f;
}

static bool formula_line_of(const struct csv_rec *r, const struct csv_header *h,
			    void *elem)
{
	struct formula_line *l = elem;

	l->ingredient = field(r, h, 0);
	return l->ingredient && field(r, h, 1) &&
	       pct_of(field(r, h, 1), &l->milli);
}

int aio_formula_csv(const struct csv_text *in, const char *sku, struct arena *a,
		    struct formula **out, struct sc_err *err)
{
	static const char *const names[] = {"ingredient", "pct", NULL};
	static const struct csv_spec spec = {
		names,
		2,
		sizeof(struct formula_line),
		formula_line_of,
		FORMULA_LINES_MAX,
		"needs an ingredient and its pct, 0 to 100 with up to 3 "
		"decimals"};
	struct formula *f = new_formula(sku, a);
	struct formula_line *lines = NULL;
	int rc;

	if (!f)
		return err_set(err, SC_ENOMEM, "out of memory");
	rc = csv_read_all(in, &spec, a, (void **)&lines, &f->n, err);
	f->lines = lines;
	*out = f;
	return rc;
}

/* The formula's own fields of @o into @f: unit size, density, note. */
static int formula_opts(json_t *o, struct formula *f, struct sc_err *err)
{
	static const char *const known[] = {"unit_ml", "density", "note",
					    "lines", NULL};
	json_t *v;
	int64_t density;

	if (json_known_keys(o, known, NULL, err))
		return SC_EINVAL;
	v = json_object_get(o, "unit_ml");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  json_integer_value(v) > FORMULA_UNIT_ML_MAX))
		return err_set(err, SC_EINVAL,
			       "field 'unit_ml' must be an integer from 1 to "
			       "%d",
			       FORMULA_UNIT_ML_MAX);
	if (v)
		f->unit_ml = (int32_t)json_integer_value(v);
	if (!opt_fixed(o, "density", 3, &density) || density > INT32_MAX)
		return err_set(err, SC_EINVAL,
			       "field 'density' must be g/ml with up to 3 "
			       "decimals");
	if (density >= 0)
		f->density_mg_ml = (int32_t)density;
	if (!json_opt_string(o, "note", &f->note))
		return err_set(err, SC_EINVAL, "field 'note' must be a string");
	return SC_OK;
}

/* The array @lines of {"ingredient","pct"} into @f's lines, in @a. */
static int formula_lines(json_t *lines, struct arena *a, struct formula *f,
			 struct sc_err *err)
{
	struct formula_line *l;
	size_t n = json_array_size(lines);

	if (!json_is_array(lines))
		return err_set(err, SC_EINVAL,
			       "field 'lines' must be an array of "
			       "{\"ingredient\", \"pct\"}");
	if (n > FORMULA_LINES_MAX)
		return err_set(err, SC_EINVAL, "more than %d ingredients",
			       FORMULA_LINES_MAX);
	l = arena_calloc(a, n ? n : 1, sizeof(*l));
	if (!l)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(lines, i);
		int64_t milli;

		if (!json_is_object(e) ||
		    !json_opt_string(e, "ingredient", &l[i].ingredient) ||
		    !l[i].ingredient || !json_object_get(e, "pct") ||
		    !opt_fixed(e, "pct", 3, &milli) || milli > 100000)
			return err_set(err, SC_EINVAL,
				       "line %zu: needs an ingredient and its "
				       "pct, 0 to 100 with up to 3 decimals",
				       i + 1);
		l[i].milli = (int32_t)milli;
	}
	f->lines = l;
	f->n = n;
	return SC_OK;
}

int aio_formula_json(json_t *o, const char *sku, struct arena *a,
		     struct formula **out, struct sc_err *err)
{
	struct formula *f = new_formula(sku, a);
	int rc;

	if (!f)
		return err_set(err, SC_ENOMEM, "out of memory");
	rc = formula_opts(o, f, err);
	if (!rc)
		rc = formula_lines(json_object_get(o, "lines"), a, f, err);
	if (!rc)
		*out = f;
	return rc;
}

/* ---- responses and demand -------------------------------------------- */

/* yes/no answers: -1 when @s is NULL (not asked), -2 when unreadable. */
static int yes_no(const char *s)
{
	static const char *const yes[] = {"yes", "y", "1", "true"};
	static const char *const no[] = {"no", "n", "0", "false"};

	if (!s)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return 1;
		if (!strcasecmp(s, no[i]))
			return 0;
	}
	return -2;
}

static int rating_of(const char *s)
{
	if (!s)
		return 0;
	return strlen(s) == 1 && s[0] >= '1' && s[0] <= '5' ? s[0] - '0' : -1;
}

static bool response_of(const struct csv_rec *r, const struct csv_header *h,
			void *elem)
{
	int acc = yes_no(field(r, h, 2)), rat = rating_of(field(r, h, 3));

	*(struct survey_response *)elem = (struct survey_response){
		field(r, h, 1), 0,	     field(r, h, 0),
		(int8_t)acc,	(int8_t)rat, field(r, h, 4)};
	return acc != -2 && rat >= 0;
}

int aio_responses_csv(const struct csv_text *in, struct arena *a,
		      struct survey_response **out, size_t *n_out,
		      struct sc_err *err)
{
	static const char *const names[] = {"respondent", "variant", "accepted",
					    "rating",	  "segment", NULL};
	static const struct csv_spec spec = {
		names,
		2,
		sizeof(**out),
		response_of,
		0,
		"accepted is yes or no, rating 1 to 5 (either may be empty)"};

	return csv_read_all(in, &spec, a, (void **)out, n_out, err);
}

int aio_responses_json(json_t *arr, struct arena *a,
		       struct survey_response **out, size_t *n_out,
		       struct sc_err *err)
{
	size_t n = json_array_size(arr);
	struct survey_response *v;

	if (!json_is_array(arr))
		return err_set(err, SC_EINVAL,
			       "responses must be a JSON array");
	v = arena_calloc(a, n ? n : 1, sizeof(*v));
	if (!v)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		json_t *acc = json_object_get(o, "accepted");
		json_t *rat = json_object_get(o, "rating");

		v[i].accepted = -1;
		if (!json_is_object(o) ||
		    !json_opt_string(o, "respondent", &v[i].respondent) ||
		    !json_opt_string(o, "variant", &v[i].variant) ||
		    !json_opt_string(o, "segment", &v[i].segment) ||
		    (acc && !json_is_null(acc) && !json_is_boolean(acc)) ||
		    (rat && !json_is_null(rat) &&
		     (!json_is_integer(rat) || json_integer_value(rat) < 1 ||
		      json_integer_value(rat) > 5)))
			return err_set(err, SC_EINVAL,
				       "response %zu: respondent and variant "
				       "are strings, accepted true or false, "
				       "rating 1 to 5",
				       i + 1);
		if (json_is_boolean(acc))
			v[i].accepted = (int8_t)json_boolean_value(acc);
		if (json_is_integer(rat))
			v[i].rating = (int8_t)json_integer_value(rat);
	}
	*out = v;
	*n_out = n;
	return SC_OK;
}

static const char *const outcome_names[] = {
	[DEMAND_ALLOCATED] = "allocated",
	[DEMAND_BACKORDERED] = "backordered",
	[DEMAND_REFUSED] = "refused",
};

_Static_assert(sizeof(outcome_names) / sizeof(outcome_names[0]) ==
		       DEMAND__OUTCOMES,
	       "every demand outcome has a name");

int demand_outcome_named(const char *s)
{
	for (int k = 0; s && k < DEMAND__OUTCOMES; k++)
		if (!strcmp(outcome_names[k], s))
			return k;
	return -1;
}

static bool demand_of(const struct csv_rec *r, const struct csv_header *h,
		      void *elem)
{
	struct demand_entry *e = elem;
	int outcome = demand_outcome_named(field(r, h, 2));

	*e = (struct demand_entry){field(r, h, 1),   0, field(r, h, 5),
				   DEMAND_ALLOCATED, 0, 1};
	if (!field(r, h, 0) || !date_parse(field(r, h, 0), &e->day) ||
	    outcome < 0 || !field(r, h, 3) ||
	    !sourcing_parse_fixed(field(r, h, 3), 0, &e->units) ||
	    (field(r, h, 4) &&
	     !sourcing_parse_fixed(field(r, h, 4), 0, &e->lines)))
		return false;
	e->outcome = (enum demand_outcome)outcome;
	return true;
}

int aio_demand_csv(const struct csv_text *in, struct arena *a,
		   struct demand_entry **out, size_t *n_out, struct sc_err *err)
{
	static const char *const names[] = {
		"date", "sku", "outcome", "units", "lines", "segment", NULL};
	static const struct csv_spec spec = {
		names,
		4,
		sizeof(**out),
		demand_of,
		0,
		"needs a date YYYY-MM-DD, a sku, an outcome (allocated, "
		"backordered, refused) and units"};

	return csv_read_all(in, &spec, a, (void **)out, n_out, err);
}

/* ---- outputs --------------------------------------------------------- */

static json_t *milli_json(int32_t milli)
{
	char buf[16];

	milli_format(milli, buf);
	return json_string(buf);
}

static json_t *cents_json(int64_t cents)
{
	char buf[32];

	(void)snprintf(buf, sizeof(buf), "%s%lld.%02lld", cents < 0 ? "-" : "",
		       (long long)(llabs(cents) / 100),
		       (long long)(llabs(cents) % 100));
	return json_string(buf);
}

static json_t *cost_json(int64_t v)
{
	char buf[32];

	cost_format(v, buf);
	return json_string(buf);
}

static json_t *date_json(int32_t day)
{
	char buf[DATE_STR_MAX];

	date_format(day, buf);
	return json_string(buf);
}

/* Append @v to @arr; false (and @arr dropped) when either is NULL. */
static bool push(json_t *arr, json_t *v)
{
	return arr && v && !json_array_append_new(arr, v);
}

json_t *aio_ingredients_out(const struct ingredient *in, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		json_t *o = json_pack(
			"{s:s,s:s?,s:o?,s:o?,s:o?}", "name", in[i].name, "cas",
			in[i].cas, "max_pct",
			in[i].max_milli >= 0 ? milli_json(in[i].max_milli)
					     : NULL,
			"cheap_usd_per_kg",
			in[i].price[0] >= 0 ? cents_json(in[i].price[0]) : NULL,
			"expensive_usd_per_kg",
			in[i].price[1] >= 0 ? cents_json(in[i].price[1])
					    : NULL);

		if (!push(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *aio_formula_out(const struct formula_view *fv)
{
	const struct formula *f = fv->f;
	json_t *lines = json_array(), *cost = json_object();
	char density[16];

	milli_format(f->density_mg_ml, density); /* mg/ml as g/ml */
	for (size_t i = 0; lines && i < f->n; i++)
		if (!push(lines, json_pack("{s:s,s:o}", "ingredient",
					   f->lines[i].ingredient, "pct",
					   milli_json(f->lines[i].milli))))
			lines = NULL;
	for (int k = 0; cost && k < 2; k++) {
		json_t *v = fv->cost.known[k] ? cost_json(fv->cost.cost[k])
					      : json_null();

		if (json_object_set_new(cost, k ? "expensive" : "cheap", v))
			cost = NULL;
	}
	return json_pack("{s:s,s:i,s:b,s:i,s:s,s:s?,s:I,s:o,s:o,s:s?,s:s?}",
			 "sku", f->sku, "version", (int)f->version, "active",
			 fv->active == f->version, "unit_ml", (int)f->unit_ml,
			 "density", density, "note", f->note, "created_at",
			 (json_int_t)f->created_at, "lines", lines,
			 "unit_cost_usd", cost, "cheap_missing_price",
			 fv->cost.missing[0], "expensive_missing_price",
			 fv->cost.missing[1]);
}

json_t *aio_bom_out(const struct formula *f, const struct bom_run *run,
		    const struct bom *bom)
{
	const int64_t *mg = bom->mg, total_mg = bom->total_mg;
	int64_t units = run->units;
	int32_t unit_ml = run->unit_ml;
	json_t *lines = json_array();
	char g[32];

	for (size_t i = 0; lines && i < f->n; i++) {
		(void)snprintf(g, sizeof(g), "%lld.%03lld",
			       (long long)(mg[i] / 1000),
			       (long long)(mg[i] % 1000));
		if (!push(lines,
			  json_pack("{s:s,s:o,s:s}", "ingredient",
				    f->lines[i].ingredient, "pct",
				    milli_json(f->lines[i].milli), "grams", g)))
			lines = NULL;
	}
	(void)snprintf(g, sizeof(g), "%lld.%03lld",
		       (long long)(total_mg / 1000),
		       (long long)(total_mg % 1000));
	return json_pack("{s:s,s:i,s:I,s:i,s:s,s:o}", "sku", f->sku, "version",
			 (int)f->version, "units", (json_int_t)units, "unit_ml",
			 (int)(unit_ml ? unit_ml : f->unit_ml), "total_grams",
			 g, "lines", lines);
}

json_t *aio_log_out(const struct formula_change *c, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		json_t *o = json_pack(
			"{s:s,s:i,s:i,s:s,s:s?,s:o,s:I}", "sku", c[i].sku,
			"from_version", (int)c[i].from_version, "to_version",
			(int)c[i].to_version, "actor", c[i].actor, "reason",
			c[i].reason, "survey",
			c[i].survey_id ? json_integer(c[i].survey_id)
				       : json_null(),
			"at", (json_int_t)c[i].at);

		if (!push(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* Round @x to 4 decimals for display: a share, mean or p-value. */
static json_t *num(double x)
{
	return json_real(round(x * 10000) / 10000);
}

static json_t *variant_out(const struct variant_tally *t,
			   const struct variant_stats *s)
{
	return json_pack(
		"{s:s,s:i,s:I,s:I,s:I,s:o,s:o,s:I,s:o,s:o,s:o}", "label",
		t->label, "formula_version", (int)t->formula_version,
		"responses", (json_int_t)t->responses, "answered",
		(json_int_t)t->answered, "accepted", (json_int_t)t->accepted,
		"acceptance_pct",
		s->has_accept ? num(100 * s->accept) : json_null(),
		"acceptance_interval_pct",
		s->has_accept ? json_pack("[o,o]", num(100 * s->accept_lo),
					  num(100 * s->accept_hi))
			      : json_null(),
		"rated", (json_int_t)t->rated, "mean_rating",
		s->has_rating ? num(s->mean) : json_null(), "rating_interval",
		s->has_rating
			? json_pack("[o,o]", num(s->mean_lo), num(s->mean_hi))
			: json_null(),
		"p_vs_leader",
		s->p_vs_leader >= 0 ? num(s->p_vs_leader) : json_null());
}

json_t *aio_survey_out(const struct survey_report *r, const char *segment)
{
	const struct survey *s = r->s;
	json_t *vs = json_array();

	for (size_t i = 0; vs && i < s->n; i++)
		if (!push(vs, variant_out(&s->variants[i], &r->st[i])))
			vs = NULL;
	return json_pack(
		"{s:I,s:s,s:s,s:s?,s:o,s:o,s:o,s:o,s:s}", "id",
		(json_int_t)s->id, "sku", s->sku, "name", s->name, "segment",
		segment, "variants", vs, "winner",
		r->v.winner >= 0 ? json_string(s->variants[r->v.winner].label)
				 : json_null(),
		"respondents_needed_per_variant",
		r->v.need_per_variant >= 0 ? json_integer(r->v.need_per_variant)
					   : json_null(),
		"more_respondents_needed",
		r->v.more_needed >= 0 ? json_integer(r->v.more_needed)
				      : json_null(),
		"test",
		"two-sided pooled two-proportion z-test of the leader against "
		"each other variant, Holm-Bonferroni corrected, alpha 0.05");
}

static json_t *top_out(const struct demand_top *t)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < t->n; i++)
		if (!push(arr, json_pack("{s:s,s:I}", "sku", t->skus[i],
					 "units", (json_int_t)t->units[i])))
			arr = NULL;
	return arr;
}

static json_t *demand_rows_out(const struct demand_report *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < r->n_rows; i++) {
		const struct demand_row *d = &r->rows[i];

		if (!push(arr,
			  json_pack("{s:s,s:o,s:s?,s:I,s:I,s:I,s:I}", "sku",
				    d->sku, r->q.bucket == 7 ? "week" : "date",
				    date_json(d->bucket), "segment", d->segment,
				    "allocated",
				    (json_int_t)d->units[DEMAND_ALLOCATED],
				    "backordered",
				    (json_int_t)d->units[DEMAND_BACKORDERED],
				    "refused",
				    (json_int_t)d->units[DEMAND_REFUSED],
				    "lines",
				    (json_int_t)d->lines[0] + d->lines[1] +
					    d->lines[2])))
			arr = NULL;
	}
	return arr;
}

json_t *aio_demand_out(const struct demand_report *r)
{
	json_t *skus = json_array(), *segs = json_object();

	for (size_t i = 0; skus && i < r->n_skus; i++) {
		const struct demand_sku *s = &r->skus[i];

		if (!push(skus,
			  json_pack("{s:s,s:I,s:I,s:I,s:I,s:o,s:o}", "sku",
				    s->sku, "units",
				    (json_int_t)s->units[0] + s->units[1] +
					    s->units[2],
				    "allocated", (json_int_t)s->units[0],
				    "backordered", (json_int_t)s->units[1],
				    "refused", (json_int_t)s->units[2],
				    "met_pct",
				    s->met_pct >= 0 ? num(s->met_pct)
						    : json_null(),
				    "trend_per_week", num(s->trend_per_week))))
			skus = NULL;
	}
	for (size_t i = 1; segs && i < r->n_tops; i++)
		if (json_object_set_new(segs, r->tops[i].segment,
					top_out(&r->tops[i])))
			segs = NULL;
	return json_pack(
		"{s:o,s:o,s:s,s:o,s:o,s:{s:I,s:I,s:I},s:o,s:o}", "from",
		date_json(r->q.from_day), "to", date_json(r->q.to_day),
		"period", r->q.bucket == 7 ? "week" : "day", "rows",
		demand_rows_out(r), "skus", skus, "total", "allocated",
		(json_int_t)r->total[0], "backordered", (json_int_t)r->total[1],
		"refused", (json_int_t)r->total[2], "top", top_out(&r->tops[0]),
		"top_by_segment",
		r->q.by_segment ? segs : (json_decref(segs), json_null()));
}

json_t *aio_plan_out(const struct plan_params *pp, const struct plan_line *l,
		     size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		json_t *hist = json_array();

		for (int32_t w = 0; hist && w < pp->history; w++)
			if (!push(hist,
				  json_integer((json_int_t)l[i].weekly[w])))
				hist = NULL;
		if (!push(arr,
			  json_pack("{s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I,"
				    "s:I,s:I,s:s?,s:o,s:s?,s:o}",
				    "sku", l[i].sku, "weekly", hist, "alpha",
				    num(l[i].fit.alpha), "forecast_per_week",
				    num(l[i].fit.level), "trend_per_week",
				    num(l[i].trend), "holdout_mae",
				    l[i].fit.mae >= 0 ? num(l[i].fit.mae)
						      : json_null(),
				    "naive_mae",
				    l[i].fit.naive_mae >= 0
					    ? num(l[i].fit.naive_mae)
					    : json_null(),
				    "forecast", num(l[i].forecast), "safety",
				    num(l[i].safety), "available",
				    (json_int_t)l[i].available, "incoming",
				    (json_int_t)l[i].incoming, "make",
				    (json_int_t)l[i].make, "supplier",
				    supplier_name(l[i].supplier),
				    "unit_cost_usd",
				    l[i].has_cost ? cost_json(l[i].unit_cost)
						  : json_null(),
				    "cost_source", l[i].cost_source, "eta",
				    date_json(l[i].eta))))
			arr = NULL;
	}
	return json_pack("{s:i,s:i,s:I,s:i,s:o}", "weeks", (int)pp->weeks,
			 "history_weeks", (int)pp->history, "min_batch",
			 (json_int_t)pp->min_batch, "lead_days",
			 (int)pp->lead_days, "lines", arr);
}

void aio_print_formula(FILE *f, const struct formula_view *fv)
{
	char pct[16], c[2][32];

	(void)fprintf(f, "%s formula v%d%s, %d ml units, density %d mg/ml\n",
		      fv->f->sku, (int)fv->f->version,
		      fv->active == fv->f->version ? " (active)" : "",
		      (int)fv->f->unit_ml, (int)fv->f->density_mg_ml);
	(void)fprintf(f, "%-32s %9s\n", "INGREDIENT", "PCT");
	for (size_t i = 0; i < fv->f->n; i++) {
		milli_format(fv->f->lines[i].milli, pct);
		(void)fprintf(f, "%-32s %9s\n", fv->f->lines[i].ingredient,
			      pct);
	}
	for (int k = 0; k < 2; k++)
		if (fv->cost.known[k])
			cost_format(fv->cost.cost[k], c[k]);
		else
			(void)snprintf(c[k], sizeof(c[k]), "unknown");
	(void)fprintf(f, "unit cost: cheap $%s, expensive $%s\n", c[0], c[1]);
}

void aio_print_survey(FILE *f, const struct survey_report *r)
{
	const struct survey *s = r->s;

	(void)fprintf(f, "survey %lld: %s (%s)\n", (long long)s->id, s->name,
		      s->sku);
	(void)fprintf(f, "%-16s %7s %9s %10s %17s %6s %13s %8s\n", "VARIANT",
		      "FORMULA", "ANSWERED", "ACCEPT%", "95% INTERVAL", "MEAN",
		      "95% INTERVAL", "P(ADJ)");
	for (size_t i = 0; i < s->n; i++) {
		const struct variant_stats *v = &r->st[i];
		char acc[16] = "-", ci[32] = "-", mean[16] = "-", mci[32] = "-",
		     p[16] = "leader";

		if (v->has_accept) {
			(void)snprintf(acc, sizeof(acc), "%.1f",
				       100 * v->accept);
			(void)snprintf(ci, sizeof(ci), "%.1f-%.1f",
				       100 * v->accept_lo, 100 * v->accept_hi);
		}
		if (v->has_rating) {
			(void)snprintf(mean, sizeof(mean), "%.2f", v->mean);
			(void)snprintf(mci, sizeof(mci), "%.2f-%.2f",
				       v->mean_lo, v->mean_hi);
		}
		if (v->p_vs_leader >= 0)
			(void)snprintf(p, sizeof(p), "%.4f", v->p_vs_leader);
		else if ((int)i != r->v.leader)
			(void)snprintf(p, sizeof(p), "-");
		(void)fprintf(f, "%-16s %7d %9lld %10s %17s %6s %13s %8s\n",
			      s->variants[i].label,
			      (int)s->variants[i].formula_version,
			      (long long)s->variants[i].answered, acc, ci, mean,
			      mci, p);
	}
	if (r->v.winner >= 0)
		(void)fprintf(f, "winner: %s\n",
			      s->variants[r->v.winner].label);
	else if (r->v.more_needed >= 0)
		(void)fprintf(
			f,
			"no clear winner: about %lld more respondents per "
			"leading variant are needed\n",
			(long long)r->v.more_needed);
	else
		(void)fprintf(f, "no clear winner\n");
}

void aio_print_demand(FILE *f, const struct demand_report *r)
{
	char day[DATE_STR_MAX];

	(void)fprintf(f, "%-24s %-10s %-10s %10s %12s %8s\n", "SKU", "FROM",
		      "SEGMENT", "ALLOCATED", "BACKORDERED", "REFUSED");
	for (size_t i = 0; i < r->n_rows; i++) {
		const struct demand_row *d = &r->rows[i];

		date_format(d->bucket, day);
		(void)fprintf(f, "%-24s %-10s %-10s %10lld %12lld %8lld\n",
			      d->sku, day,
			      d->segment ? (d->segment[0] ? d->segment : "-")
					 : "all",
			      (long long)d->units[0], (long long)d->units[1],
			      (long long)d->units[2]);
	}
	(void)fprintf(f, "\n%-24s %10s %8s %12s\n", "SKU", "UNITS", "MET%",
		      "TREND/WEEK");
	for (size_t i = 0; i < r->n_skus; i++) {
		const struct demand_sku *s = &r->skus[i];

		(void)fprintf(
			f, "%-24s %10lld %8.1f %12.1f\n", s->sku,
			(long long)s->units[0] + s->units[1] + s->units[2],
			s->met_pct >= 0 ? s->met_pct : 0.0, s->trend_per_week);
	}
	for (size_t t = 0; t < r->n_tops; t++) {
		(void)fprintf(f, "\ntop %s:",
			      t ? (r->tops[t].segment[0] ? r->tops[t].segment
							 : "(no segment)")
				: "overall");
		for (size_t i = 0; i < r->tops[t].n; i++)
			(void)fprintf(f, " %s (%lld)", r->tops[t].skus[i],
				      (long long)r->tops[t].units[i]);
		(void)fputc('\n', f);
	}
}

void aio_print_plan(FILE *f, const struct plan_line *l, size_t n)
{
	char eta[DATE_STR_MAX], cost[32];

	(void)fprintf(f, "%-24s %9s %9s %8s %8s %9s %9s %8s %-9s %10s %-10s\n",
		      "SKU", "PER WEEK", "FORECAST", "MAE", "NAIVE",
		      "AVAILABLE", "INCOMING", "MAKE", "SUPPLIER", "UNIT COST",
		      "ETA");
	for (size_t i = 0; i < n; i++) {
		date_format(l[i].eta, eta);
		if (l[i].has_cost)
			cost_format(l[i].unit_cost, cost);
		else
			(void)snprintf(cost, sizeof(cost), "-");
		(void)fprintf(
			f,
			"%-24s %9.1f %9.1f %8.1f %8.1f %9lld %9lld %8lld %-9s "
			"%10s %-10s\n",
			l[i].sku, l[i].fit.level, l[i].forecast,
			l[i].fit.mae >= 0 ? l[i].fit.mae : 0,
			l[i].fit.naive_mae >= 0 ? l[i].fit.naive_mae : 0,
			(long long)l[i].available, (long long)l[i].incoming,
			(long long)l[i].make,
			supplier_name(l[i].supplier)
				? supplier_name(l[i].supplier)
				: "-",
			cost, eta);
	}
}

/*
 * The sourcing report with formula costs: for each decision whose scent
 * has an active formula, "formula_version" and "formula_unit_cost_usd"
 * per supplier; when the chosen supplier's is known it replaces
 * "unit_cost_usd" (the entered one stays as "entered_unit_cost_usd"),
 * and "saving_usd" is the formulas' difference when both are known.
 */
static int decision_costs(json_t *d, struct uow *u, struct catalogue *cat,
			  struct arena *a)
{
	const char *sku = json_string_value(json_object_get(d, "sku"));
	const char *sup = json_string_value(json_object_get(d, "supplier"));
	int k = sup && !strcmp(sup, "expensive") ? 1 : 0;
	struct formula_view fv;
	struct sc_err err;
	int rc;

	err_clear(&err);
	rc = sku ? report_formula(u, &(struct formula_ask){sku, 0, cat}, a, &fv,
				  &err)
		 : SC_ENOTFOUND;
	if (rc == SC_ENOTFOUND)
		return json_object_set_new(d, "formula_version", json_null());
	if (rc)
		return -1;
	if (json_object_set_new(d, "formula_version",
				json_integer(fv.f->version)) ||
	    json_object_set_new(
		    d, "formula_unit_cost_usd",
		    json_pack("{s:o,s:o}", "cheap",
			      fv.cost.known[0] ? cost_json(fv.cost.cost[0])
					       : json_null(),
			      "expensive",
			      fv.cost.known[1] ? cost_json(fv.cost.cost[1])
					       : json_null())))
		return -1;
	if (!fv.cost.known[k])
		return 0;
	if (json_object_set(d, "entered_unit_cost_usd",
			    json_object_get(d, "unit_cost_usd")) ||
	    json_object_set_new(d, "unit_cost_usd", cost_json(fv.cost.cost[k])))
		return -1;
	if (fv.cost.known[0] && fv.cost.known[1])
		return json_object_set_new(
			d, "saving_usd",
			cost_json(fv.cost.cost[1] - fv.cost.cost[k]));
	return 0;
}

int aio_sourcing_costs(json_t *round, struct uow *u, struct arena *a)
{
	json_t *ds = json_object_get(round, "decisions"), *d;
	struct catalogue cat = {0}; /* read once for every decision */
	size_t i;

	if (!round)
		return -1;
	json_array_foreach(ds, i, d)
	{
		if (decision_costs(d, u, &cat, a))
			return -1;
	}
	return 0;
}

/* @s as one CSV field: quoted (quotes doubled) when it needs to be. */
static void csv_field(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		(void)fputs(s, f);
		return;
	}
	(void)fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			(void)fputc('"', f);
		(void)fputc(*s, f);
	}
	(void)fputc('"', f);
}

void aio_formula_csv_write(FILE *f, const struct formula *fm)
{
	char pct[16];

	(void)fputs("ingredient,pct\n", f);
	for (size_t i = 0; i < fm->n; i++) {
		milli_format(fm->lines[i].milli, pct);
		csv_field(f, fm->lines[i].ingredient);
		(void)fprintf(f, ",%s\n", pct);
	}
}

void aio_ingredients_csv_write(FILE *f, const struct ingredient *in, size_t n)
{
	char buf[32];

	(void)fputs("name,cas,max_pct,cheap_usd_per_kg,expensive_usd_per_kg\n",
		    f);
	for (size_t i = 0; i < n; i++) {
		csv_field(f, in[i].name);
		(void)fputc(',', f);
		csv_field(f, in[i].cas);
		(void)fputc(',', f);
		if (in[i].max_milli >= 0) {
			milli_format(in[i].max_milli, buf);
			(void)fputs(buf, f);
		}
		for (int k = 0; k < 2; k++) {
			(void)fputc(',', f);
			if (in[i].price[k] >= 0)
				(void)fprintf(
					f, "%lld.%02lld",
					(long long)(in[i].price[k] / 100),
					(long long)(in[i].price[k] % 100));
		}
		(void)fputc('\n', f);
	}
}

/*
 * entrypoints/cli/analytics_cmds.c - `scents ingredients`, `formula`,
 * `survey`, `demand` and `plan` (issue 15): the same commands and reports
 * as the HTTP API, through the same bus and io (entrypoints/analytics).
 *
 * Large imports (survey responses, past demand) stream: the file is read
 * in chunks of IMPORT_CHUNK records, so memory stays bounded whatever its
 * size.  To stay all or nothing without one giant transaction, the file
 * is read twice: first every chunk is checked by its command's handler
 * in a dry run (the one place that validates, for every transport), then
 * each chunk is written in its own transaction.  A chunk that fails in
 * the second pass (the store went away) leaves the earlier ones written;
 * re-running the import is safe, since a respondent's verdict replaces
 * itself (responses) - demand is additive, so that message says how many
 * lines went in.  Progress goes to stderr when it is a terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "domain/date.h"
#include "domain/formula.h"
#include "entrypoints/analytics/analytics_io.h"
#include "entrypoints/cli/cli.h"
#include "entrypoints/cli/session.h"
#include "service/reports.h"
#include "service/uow.h"

/* Records per chunk of a streamed import. */
#define IMPORT_CHUNK 5000

/* Who made a change, for the formula log: the login, else "cli". */
static const char *actor(void)
{
	const char *u = getenv("USER");

	return u && ident_valid(u, strlen(u)) ? u : "cli";
}

/* An optional whole number option, from @min to @max, else @def. */
static int opt_int(const char *what, const char *s, long long min,
		   long long max, long long *out)
{
	char *end;

	if (!s)
		return 0;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno || end == s || *end || *out < min || *out > max) {
		cli_error("%s must be a whole number from %lld to %lld, not "
			  "'%.40s'",
			  what, min, max, s);
		return -1;
	}
	return 0;
}

/* A read-only session for a report; prints and closes. */
typedef int report_fn(struct session *s, const struct cli_opts *o, char **argv,
		      struct sc_err *err);

static int with_session(const struct config *cfg, report_fn *fn,
			const struct cli_opts *o, char **argv)
{
	struct session s;
	struct sc_err err;
	int rc;

	err_clear(&err);
	rc = session_open_existing(cfg, &s, &err);
	if (!rc)
		rc = fn(&s, o, argv, &err);
	session_close(&s);
	return rc > 0 ? rc : rc ? cli_fail(&err) : CLI_OK;
}

/* ---- ingredients ----------------------------------------------------- */

static int list_ingredients(struct session *s, const struct cli_opts *o,
			    char **argv, struct sc_err *err)
{
	struct ingredient *in;
	size_t n;
	int rc = uow_ingredients(s->w.uow, &s->w.scratch, &in, &n, err);

	(void)argv;
	if (!rc && o->csv)
		aio_ingredients_csv_write(stdout, in, n);
	return rc	? rc
	       : o->csv ? CLI_OK
			: cli_print_json(aio_ingredients_out(in, n));
}

/* A file's text as JSON when it starts with [ or {, else CSV. */
static bool looks_json(const char *text, size_t len)
{
	size_t i = 0;

	while (i < len && (text[i] == ' ' || text[i] == '\n' ||
			   text[i] == '\t' || text[i] == '\r'))
		i++;
	return i < len && (text[i] == '[' || text[i] == '{');
}

/* Parse @text as JSON into a new reference, or SC_EINVAL naming @path. */
static int load_json(const char *path, const char *text, size_t len,
		     json_t **out, struct sc_err *err)
{
	json_error_t jerr;

	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	return *out ? SC_OK
		    : err_set(err, SC_EINVAL, "%s: line %d: %s", path,
			      jerr.line, jerr.text);
}

static int import_ingredients(const struct config *cfg, const char *path)
{
	struct msg m = {.type = MSG_PUT_INGREDIENTS};
	struct ingredient *in = NULL;
	struct sc_err err;
	struct arena a;
	json_t *j = NULL;
	size_t len, n = 0;
	char *text;
	int rc;

	arena_init(&a);
	err_clear(&err);
	rc = cli_slurp(path, &a, &text, &len);
	if (!rc && looks_json(text, len))
		rc = load_json(path, text, len, &j, &err) ||
				     aio_ingredients_json(j, &a, &in, &n, &err)
			     ? cli_fail(&err)
			     : CLI_OK;
	else if (!rc && aio_ingredients_csv(&(struct csv_text){text, len, 1},
					    &a, &in, &n, &err))
		rc = cli_fail(&err);
	m.u.put_ingredients = (struct cmd_put_ingredients){in, n};
	if (!rc)
		rc = cli_send(cfg, &m, NULL);
	if (!rc)
		printf("%zu ingredients added or replaced\n", n);
	json_decref(j);
	arena_release(&a);
	return rc;
}

int cmd_ingredients(const struct config *cfg, const struct cli_opts *o,
		    int argc, char **argv)
{
	(void)o;
	if (!strcmp(argv[0], "import") && argc == 2)
		return import_ingredients(cfg, argv[1]);
	if (!strcmp(argv[0], "list") && argc == 1)
		return with_session(cfg, list_ingredients, o, argv);
	cli_error("usage: scents ingredients import FILE | list");
	return CLI_USAGE;
}

/* ---- formulas -------------------------------------------------------- */

/* --unit-ml and --density over what the file said. */
static int formula_options(const struct cli_opts *o, struct formula *f)
{
	long long ml;
	int64_t density;

	if (o->unit_ml) {
		if (opt_int("--unit-ml", o->unit_ml, 1, FORMULA_UNIT_ML_MAX,
			    &ml))
			return -1;
		f->unit_ml = (int32_t)ml;
	}
	if (o->density) {
		if (!sourcing_parse_fixed(o->density, 3, &density) ||
		    density > FORMULA_DENSITY_MAX) {
			cli_error("--density must be g/ml with up to 3 "
				  "decimals, not '%.20s'",
				  o->density);
			return -1;
		}
		f->density_mg_ml = (int32_t)density;
	}
	if (o->note)
		f->note = o->note;
	return 0;
}

static int add_formula(const struct config *cfg, const struct cli_opts *o,
		       const char *sku, const char *path)
{
	struct msg m = {.type = MSG_ADD_FORMULA};
	struct bus_result res = {0};
	struct formula *f = NULL;
	struct sc_err err;
	struct arena a;
	json_t *j = NULL;
	size_t len;
	char *text;
	int rc = cli_check_id("sku", sku) ? CLI_USAGE : CLI_OK;

	arena_init(&a);
	err_clear(&err);
	if (!rc)
		rc = cli_slurp(path, &a, &text, &len);
	if (!rc && looks_json(text, len))
		rc = load_json(path, text, len, &j, &err) ||
				     aio_formula_json(j, sku, &a, &f, &err)
			     ? cli_fail(&err)
			     : CLI_OK;
	else if (!rc && aio_formula_csv(&(struct csv_text){text, len, 1}, sku,
					&a, &f, &err))
		rc = cli_fail(&err);
	if (!rc && !f)
		rc = CLI_RUNTIME;
	if (!rc && formula_options(o, f))
		rc = CLI_USAGE;
	m.u.add_formula =
		(struct cmd_add_formula){f, actor(), (int64_t)time(NULL)};
	if (!rc)
		rc = cli_send(cfg, &m, &res);
	if (!rc)
		printf("%s formula version %d%s\n", sku, (int)res.version,
		       res.activated ? " (active)" : "");
	json_decref(j);
	arena_release(&a);
	return rc;
}

static int show_formula(struct session *s, const struct cli_opts *o,
			char **argv, struct sc_err *err)
{
	struct formula_view fv;
	long long version = 0;
	int rc;

	if (opt_int("--version", o->version, 1, INT32_MAX, &version))
		return CLI_USAGE;
	rc = report_formula(
		s->w.uow,
		&(struct formula_ask){argv[1], (int32_t)version, NULL},
		&s->w.scratch, &fv, err);
	if (!rc && o->csv) {
		aio_formula_csv_write(stdout, fv.f);
		return rc;
	}
	if (!rc && o->json)
		return cli_print_json(aio_formula_out(&fv));
	if (!rc)
		aio_print_formula(stdout, &fv);
	return rc;
}

static int formula_log(struct session *s, const struct cli_opts *o, char **argv,
		       struct sc_err *err)
{
	struct formula_change *c;
	size_t n;
	int rc = uow_formula_log(s->w.uow, argv[1], &s->w.scratch, &c, &n, err);

	(void)o;
	return rc ? rc : cli_print_json(aio_log_out(c, n));
}

static int formula_bom_cmd(struct session *s, const struct cli_opts *o,
			   char **argv, struct sc_err *err)
{
	long long units, ml = 0, version = 0;
	struct bom_run run;
	struct formula *f;
	struct bom bom;
	int rc;

	if (cli_parse_qty("units", argv[2], 1, &units) ||
	    opt_int("--ml", o->ml, 1, FORMULA_UNIT_ML_MAX, &ml) ||
	    opt_int("--version", o->version, 1, INT32_MAX, &version))
		return CLI_USAGE;
	run = (struct bom_run){units, (int32_t)ml};
	rc = uow_formula_get(s->w.uow, argv[1], (int32_t)version, &s->w.scratch,
			     &f, err);
	if (!rc)
		rc = formula_bom(f, &run, &s->w.scratch, &bom, err);
	return rc ? rc : cli_print_json(aio_bom_out(f, &run, &bom));
}

static int activate(const struct config *cfg, const struct cli_opts *o,
		    const char *sku, const char *version)
{
	struct msg m = {.type = MSG_ACTIVATE_FORMULA};
	struct bus_result res = {0};
	long long v = 0;
	int rc;

	if (version && cli_parse_qty("version", version, 1, &v))
		return CLI_USAGE;
	if (v > INT32_MAX || cli_check_id("sku", sku))
		return CLI_USAGE;
	m.u.activate_formula = (struct cmd_activate_formula){
		sku, (int32_t)v, actor(), o->reason, (int64_t)time(NULL)};
	rc = cli_send(cfg, &m, &res);
	if (!rc)
		printf("%s formula version %d is active\n", sku,
		       (int)res.version);
	return rc;
}

int cmd_formula(const struct config *cfg, const struct cli_opts *o, int argc,
		char **argv)
{
	const char *sub = argv[0];

	if (argc >= 2 && cli_check_id("sku", argv[1]))
		return CLI_USAGE;
	if (!strcmp(sub, "add") && argc == 3)
		return add_formula(cfg, o, argv[1], argv[2]);
	if (!strcmp(sub, "show") && argc == 2)
		return with_session(cfg, show_formula, o, argv);
	if (!strcmp(sub, "log") && argc == 2)
		return with_session(cfg, formula_log, o, argv);
	if (!strcmp(sub, "bom") && argc == 3)
		return with_session(cfg, formula_bom_cmd, o, argv);
	if (!strcmp(sub, "activate") && argc == 3)
		return activate(cfg, o, argv[1], argv[2]);
	if (!strcmp(sub, "revert") && argc == 2)
		return activate(cfg, o, argv[1], NULL);
	cli_error("usage: scents formula add SKU FILE | show SKU | log SKU | "
		  "bom SKU UNITS | activate SKU VERSION | revert SKU");
	return CLI_USAGE;
}

/* ---- streamed imports ------------------------------------------------ */

/*
 * A CSV file read a chunk of records at a time, each chunk prefixed with
 * the header so it parses on its own.  Records may span lines (quoted
 * newlines): a line with an odd number of quotes continues the record.
 */
struct chunker {
	FILE *f;	   /* the file */
	char *header;	   /* its first line, with its newline */
	size_t header_len; /* bytes */
	size_t line;	   /* lines read so far */
	char *buf;	   /* the chunk: header, then records */
	size_t len, cap;   /* bytes used and allocated */
	size_t records;	   /* records in the chunk */
	size_t first_line; /* file line of the chunk's first record */
	long size;	   /* the file's size, for progress; -1 unknown */
	char *line_buf;	   /* getline's buffer */
	size_t line_cap;   /* its size */
};

static int append(struct chunker *c, const char *s, size_t n)
{
	if (c->len + n + 1 > c->cap) {
		size_t cap = (c->len + n + 1) * 2;
		char *b = realloc(c->buf, cap);

		if (!b)
			return -1;
		c->buf = b;
		c->cap = cap;
	}
	if (!c->buf || !s)
		return -1;
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return 0;
}

static size_t quotes(const char *s, size_t n)
{
	size_t q = 0;

	for (size_t i = 0; i < n; i++)
		q += s[i] == '"';
	return q;
}

static int chunker_open(struct chunker *c, const char *path, struct sc_err *err)
{
	ssize_t n;

	memset(c, 0, sizeof(*c));
	c->size = -1;
	c->f = fopen(path, "rb");
	if (!c->f)
		return err_set(err, SC_EIO, "cannot read '%s': %s", path,
			       strerror(errno));
	if (!fseek(c->f, 0, SEEK_END))
		c->size = ftell(c->f);
	rewind(c->f);
	n = getline(&c->line_buf, &c->line_cap, c->f);
	if (n <= 0)
		return err_set(err, SC_EINVAL,
			       "'%s' is empty: a CSV header is needed", path);
	c->header = malloc((size_t)n + 2);
	if (!c->header)
		return err_set(err, SC_ENOMEM, "out of memory");
	memcpy(c->header, c->line_buf, (size_t)n);
	if (c->header[n - 1] != '\n')
		c->header[n++] = '\n';
	c->header_len = (size_t)n;
	c->line = 1;
	return SC_OK;
}

/* Read the next chunk; 1 with records, 0 at the end, -1 out of memory. */
static int chunker_next(struct chunker *c)
{
	size_t open_quotes = 0;
	ssize_t n;

	c->len = c->records = 0;
	if (append(c, c->header, c->header_len))
		return -1;
	c->first_line = c->line + 1;
	while (c->records < IMPORT_CHUNK &&
	       (n = getline(&c->line_buf, &c->line_cap, c->f)) > 0) {
		c->line++;
		if (append(c, c->line_buf, (size_t)n))
			return -1;
		open_quotes += quotes(c->line_buf, (size_t)n);
		if (open_quotes % 2 == 0) { /* the record ended */
			c->records++;
			open_quotes = 0;
		}
	}
	return c->records > 0 || open_quotes ? 1 : 0;
}

static void chunker_close(struct chunker *c)
{
	if (c->f)
		(void)fclose(c->f);
	free(c->header);
	free(c->buf);
	free(c->line_buf);
}

/* What one chunk of an import becomes: a command, dry or not. */
typedef int chunk_fn(struct chunker *c, struct arena *a, bool dry,
		     struct msg *m, struct sc_err *err);

/* The survey an import of responses is for. */
static int64_t import_survey;

static int responses_chunk(struct chunker *c, struct arena *a, bool dry,
			   struct msg *m, struct sc_err *err)
{
	struct survey_response *r;
	size_t n;
	int rc = aio_responses_csv(
		&(struct csv_text){c->buf, c->len, c->first_line - 1}, a, &r,
		&n, err);

	m->type = MSG_ADD_RESPONSES;
	m->u.add_responses = (struct cmd_add_responses){import_survey, r, n,
							c->first_line, dry};
	return rc;
}

static int demand_chunk(struct chunker *c, struct arena *a, bool dry,
			struct msg *m, struct sc_err *err)
{
	struct demand_entry *e;
	size_t n;
	int rc = aio_demand_csv(
		&(struct csv_text){c->buf, c->len, c->first_line - 1}, a, &e,
		&n, err);

	m->type = MSG_IMPORT_DEMAND;
	m->u.import_demand =
		(struct cmd_import_demand){e, n, c->first_line, dry};
	return rc;
}

static void progress(const struct chunker *c, const char *what, bool dry,
		     size_t done)
{
	long at = ftell(c->f);

	if (!isatty(STDERR_FILENO))
		return;
	if (c->size > 0 && at >= 0)
		(void)fprintf(stderr, "\r%s %s: %zu records, %3ld%%",
			      dry ? "checking" : "importing", what, done,
			      at * 100 / c->size);
	else
		(void)fprintf(stderr, "\r%s %s: %zu records",
			      dry ? "checking" : "importing", what, done);
}

/* One pass over the file: every chunk through the bus, dry or not. */
static int import_pass(struct session *s, const char *path, chunk_fn *fn,
		       bool dry, size_t *done, struct sc_err *err)
{
	struct chunker c;
	int rc = chunker_open(&c, path, err), more = 0;

	*done = 0;
	while (!rc && (more = chunker_next(&c)) > 0) {
		struct msg m;

		rc = fn(&c, &s->w.scratch, dry, &m, err);
		if (!rc)
			rc = bus_handle(&s->w.bus, &m, NULL, err);
		if (!rc)
			*done += c.records;
		arena_reset(&s->w.scratch);
		progress(&c, path, dry, *done);
	}
	if (!rc && more < 0)
		rc = err_set(err, SC_ENOMEM, "out of memory");
	chunker_close(&c);
	return rc;
}

/* Check the whole file, then write it, chunk by chunk. */
static int import_file(const struct config *cfg, const char *path, chunk_fn *fn)
{
	struct session s;
	struct sc_err err;
	size_t checked = 0, done = 0;
	int rc;

	err_clear(&err);
	rc = session_open(cfg, NULL, &s, &err);
	if (!rc)
		rc = import_pass(&s, path, fn, true, &checked, &err);
	if (!rc)
		rc = import_pass(&s, path, fn, false, &done, &err);
	session_close(&s);
	if (isatty(STDERR_FILENO))
		(void)fputc('\n', stderr);
	if (rc && done)
		cli_error("%zu of %zu records were written before: %s", done,
			  checked, err.msg);
	if (rc)
		return done ? CLI_RUNTIME : cli_fail(&err);
	printf("%zu records imported\n", done);
	return CLI_OK;
}

/* ---- surveys --------------------------------------------------------- */

/* LABEL=VERSION operands into @labels and @versions. */
static int variants_of(int n, char **argv, const char **labels,
		       int32_t *versions)
{
	for (int i = 0; i < n; i++) {
		char *eq = strchr(argv[i], '=');
		long long v;

		if (!eq) {
			cli_error("a variant is LABEL=VERSION, not '%.40s'",
				  argv[i]);
			return -1;
		}
		*eq = '\0';
		if (cli_parse_qty("version", eq + 1, 1, &v) || v > INT32_MAX)
			return -1;
		labels[i] = argv[i];
		versions[i] = (int32_t)v;
	}
	return 0;
}

static int create_survey(const struct config *cfg, int argc, char **argv)
{
	struct msg m = {.type = MSG_CREATE_SURVEY};
	const char *labels[SURVEY_VARIANTS_MAX];
	int32_t versions[SURVEY_VARIANTS_MAX];
	struct bus_result res = {0};
	int n = argc - 3, rc;

	if (n > SURVEY_VARIANTS_MAX)
		n = SURVEY_VARIANTS_MAX + 1; /* the handler says how many */
	if (n <= SURVEY_VARIANTS_MAX &&
	    variants_of(n, argv + 3, labels, versions))
		return CLI_USAGE;
	m.u.create_survey = (struct cmd_create_survey){
		argv[1],  argv[2],   labels,
		versions, (size_t)n, (int64_t)time(NULL)};
	rc = cli_send(cfg, &m, &res);
	if (!rc)
		printf("survey %lld\n", (long long)res.survey_id);
	return rc;
}

static int64_t survey_id(const char *s)
{
	long long v;

	return cli_parse_qty("survey id", s, 1, &v) ? -1 : v;
}

static int survey_report(struct session *s, const struct cli_opts *o,
			 char **argv, struct sc_err *err)
{
	struct survey_report r;
	int64_t id = survey_id(argv[1]);
	int rc;

	if (id < 0)
		return CLI_USAGE;
	if (o->segment && !segment_valid(o->segment)) {
		cli_error("--segment must be 1 to %d of a-z 0-9 - _",
			  SEGMENT_MAX);
		return CLI_USAGE;
	}
	rc = report_survey(s->w.uow, id, o->segment, &s->w.scratch, &r, err);
	if (!rc && o->json)
		return cli_print_json(aio_survey_out(&r, o->segment));
	if (!rc)
		aio_print_survey(stdout, &r);
	return rc;
}

static int promote(const struct config *cfg, const struct cli_opts *o,
		   const char *id_text)
{
	struct msg m = {.type = MSG_PROMOTE_WINNER};
	struct bus_result res = {0};
	int64_t id = survey_id(id_text);
	int rc;

	if (id < 0)
		return CLI_USAGE;
	m.u.promote_winner = (struct cmd_promote_winner){id, actor(), o->reason,
							 (int64_t)time(NULL)};
	rc = cli_send(cfg, &m, &res);
	if (!rc)
		printf("formula version %d is active\n", (int)res.version);
	return rc;
}

int cmd_survey(const struct config *cfg, const struct cli_opts *o, int argc,
	       char **argv)
{
	const char *sub = argv[0];

	if (!strcmp(sub, "create") && argc >= 3)
		return create_survey(cfg, argc, argv);
	if (!strcmp(sub, "import") && argc == 3) {
		import_survey = survey_id(argv[1]);
		return import_survey < 0
			       ? CLI_USAGE
			       : import_file(cfg, argv[2], responses_chunk);
	}
	if (!strcmp(sub, "report") && argc == 2)
		return with_session(cfg, survey_report, o, argv);
	if (!strcmp(sub, "promote") && argc == 2)
		return promote(cfg, o, argv[1]);
	cli_error("usage: scents survey create SKU NAME LABEL=VERSION... | "
		  "import ID FILE | report ID | promote ID");
	return CLI_USAGE;
}

/* ---- demand and plan ------------------------------------------------- */

static int demand_report(struct session *s, const struct cli_opts *o,
			 char **argv, struct sc_err *err)
{
	int32_t today = cli_today();
	struct demand_query q = {today - 90, today, 7, o->by_segment, NULL};
	struct demand_report r;
	int rc;

	(void)argv;
	if ((o->from && !date_parse(o->from, &q.from_day)) ||
	    (o->to && !date_parse(o->to, &q.to_day)) ||
	    (o->period && strcmp(o->period, "day") != 0 &&
	     strcmp(o->period, "week") != 0) ||
	    q.to_day < q.from_day) {
		cli_error("--from and --to are dates YYYY-MM-DD in order; "
			  "--period is day or week");
		return CLI_USAGE;
	}
	if (o->period && !strcmp(o->period, "day"))
		q.bucket = 1;
	rc = report_demand(s->w.uow, &q, &s->w.scratch, &r, err);
	if (!rc && o->json)
		return cli_print_json(aio_demand_out(&r));
	if (!rc)
		aio_print_demand(stdout, &r);
	return rc;
}

int cmd_demand(const struct config *cfg, const struct cli_opts *o, int argc,
	       char **argv)
{
	if (!strcmp(argv[0], "import") && argc == 2)
		return import_file(cfg, argv[1], demand_chunk);
	if (!strcmp(argv[0], "report") && argc == 1)
		return with_session(cfg, demand_report, o, argv);
	cli_error("usage: scents demand import FILE | report");
	return CLI_USAGE;
}

/* --weeks, --history, --min-batch, --lead-days into @pp. */
static int plan_params_of(const struct cli_opts *o, struct plan_params *pp)
{
	long long weeks = 4, history = 12, min_batch = 1, lead = 14;
	int32_t today = cli_today();

	if (o->as_of && !date_parse(o->as_of, &today)) {
		cli_error("--as-of must be a date YYYY-MM-DD, not '%.20s'",
			  o->as_of);
		return -1;
	}
	if (opt_int("--weeks", o->weeks, 1, PLAN_WEEKS_MAX, &weeks) ||
	    opt_int("--history", o->history, 2, PLAN_HISTORY_MAX, &history) ||
	    opt_int("--min-batch", o->min_batch, 1, SC_QTY_MAX, &min_batch) ||
	    opt_int("--lead-days", o->lead_days, 0, 365, &lead))
		return -1;
	*pp = (struct plan_params){today,     (int32_t)weeks, (int32_t)history,
				   min_batch, (int32_t)lead,  1.645};
	return 0;
}

/*
 * One CreateBatch per line that needs making, through the bus (the same
 * rules as POST /add_batch).  The ref names the day and the sku, so
 * applying the same plan twice on a day creates nothing new.
 */
static int apply_plan(struct session *s, const struct plan_params *pp,
		      const struct plan_line *l, size_t n, struct sc_err *err)
{
	char ref[SC_ID_MAX + 1], day[DATE_STR_MAX];
	int rc = SC_OK;

	date_format(pp->today, day);
	for (size_t i = 0; !rc && i < n; i++) {
		struct msg m = {.type = MSG_CREATE_BATCH};
		int len;

		if (!l[i].make)
			continue;
		len = snprintf(ref, sizeof(ref), "plan-%s-%s", day, l[i].sku);
		if (len < 0 || (size_t)len >= sizeof(ref))
			return err_set(err, SC_EINVAL,
				       "sku '%.40s...' is too long for a "
				       "plan's batch ref",
				       l[i].sku);
		m.u.create_batch = (struct cmd_create_batch){
			ref,  l[i].sku, l[i].make,
			true, l[i].eta, l[i].supplier};
		rc = bus_handle(&s->w.bus, &m, NULL, err);
		if (!rc)
			printf("created %s: %lld of %s\n", ref,
			       (long long)l[i].make, l[i].sku);
	}
	return rc;
}

static int plan(struct session *s, const struct cli_opts *o, char **argv,
		struct sc_err *err)
{
	struct plan_params pp;
	struct plan_line *l;
	size_t n;
	int rc;

	(void)argv;
	if (plan_params_of(o, &pp))
		return CLI_USAGE;
	rc = report_plan(s->w.uow, &pp, &s->w.scratch, &l, &n, err);
	if (rc)
		return rc;
	if (o->json)
		rc = cli_print_json(aio_plan_out(&pp, l, n));
	else
		aio_print_plan(stdout, l, n);
	return rc ? rc : o->apply ? apply_plan(s, &pp, l, n, err) : SC_OK;
}

int cmd_plan(const struct config *cfg, const struct cli_opts *o, int argc,
	     char **argv)
{
	struct session s;
	struct sc_err err;
	int rc;

	(void)argc;
	if (!o->apply)
		return with_session(cfg, plan, o, argv);
	err_clear(&err);
	rc = session_open(cfg, NULL, &s, &err);
	if (!rc)
		rc = plan(&s, o, argv, &err);
	session_close(&s);
	return rc > 0 ? rc : rc ? cli_fail(&err) : CLI_OK;
}

/*
 * entrypoints/cli/commands.c - the subcommands of `scents`.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootstrap.h"
#include "common/arena.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/url.h"
#include "domain/date.h"
#include "domain/model.h"
#include "domain/sourcing.h"
#include "domain/token.h"
#include "entrypoints/analytics/analytics_io.h"
#include "entrypoints/auth/auth.h"
#include "entrypoints/cli/cli.h"
#include "entrypoints/cli/session.h"
#include "entrypoints/http/server.h"
#include "entrypoints/redis_consumer/consumer.h"
#include "entrypoints/relay/relay_thread.h"
#include "entrypoints/sourcing/sourcing_io.h"
#include "entrypoints/views/views_json.h"
#include "service/uow.h"

/* Map a service code to an exit code, printing the reason. */
int cli_fail(const struct sc_err *err)
{
	cli_error("%s", err->msg[0] ? err->msg : err_name(err->code));
	return err->code == SC_EINVAL ? CLI_USAGE : CLI_RUNTIME;
}

int cli_parse_qty(const char *what, const char *s, long long min,
		  long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || s[0] == '+' || s[0] == ' ' ||
	    v < min || v > SC_QTY_MAX) {
		cli_error("%s must be a whole number from %lld to %lld, not "
			  "'%.40s'",
			  what, min, (long long)SC_QTY_MAX, s);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_check_id(const char *what, const char *s)
{
	if (ident_valid(s, strlen(s)))
		return 0;
	cli_error("%s must be 1 to %d bytes of printable utf-8", what,
		  SC_ID_MAX);
	return -1;
}

/* Remembers that a command queued events for the relay. */
struct cli_signal {
	struct outbox_signal base; /* must stay first */
	bool kicked;		   /* events wait in the outbox */
};

static void cli_notify(struct outbox_signal *self)
{
	((struct cli_signal *)self)->kicked = true;
}

/*
 * Deliver what the command queued before exiting.  A failure is not the
 * command's: the events stay in the outbox for `scents serve`/`relay`.
 */
static void deliver_now(struct app *app)
{
	struct relay_worker rw;
	struct sc_err err;
	size_t n_sent;
	int rc;

	err_clear(&err);
	rc = bootstrap_relay_init(app, &rw, &err);
	while (!rc) {
		rc = relay_run_once(&rw.relay, &n_sent, &err);
		if (n_sent < RELAY_BATCH)
			break;
	}
	if (rc)
		log_msg(LOG_WARN,
			"relay=deferred reason=\"%s\" hint=\"events stay "
			"queued for scents serve or scents relay\"",
			err.msg);
	if (!rc || rc == SC_EIO)
		bootstrap_relay_release(&rw);
}

/* Open the store (waking @sig, may be NULL, after commits) and a worker. */
int session_open_existing(const struct config *cfg, struct session *s,
			  struct sc_err *err)
{
	struct config ro = *cfg;

	ro.open_existing = 1;
	return session_open(&ro, NULL, s, err);
}

int session_open(const struct config *cfg, struct outbox_signal *sig,
		 struct session *s, struct sc_err *err)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = bootstrap_open(cfg, &s->app, err);
	if (rc)
		return rc;
	if (sig)
		bootstrap_set_signal(s->app, sig);
	rc = bootstrap_worker_init(s->app, &s->w, err);
	s->ready = !rc;
	return rc;
}

void session_close(struct session *s)
{
	if (s->ready)
		bootstrap_worker_release(&s->w);
	bootstrap_close(s->app);
}

/* Open the store, send @m through the bus, deliver, close.  Exit code. */
int cli_send(const struct config *cfg, const struct msg *m,
	     struct bus_result *res)
{
	struct cli_signal sig = {{cli_notify}, false};
	struct session s;
	struct sc_err err;
	int rc;

	err_clear(&err);
	rc = session_open(cfg, &sig.base, &s, &err);
	if (!rc)
		rc = bus_handle(&s.w.bus, m, res, &err);
	if (sig.kicked)
		deliver_now(s.app);
	session_close(&s);
	return rc ? cli_fail(&err) : CLI_OK;
}

static int cmd_add_batch(const struct config *cfg, const struct cli_opts *o,
			 int argc, char **argv)
{
	struct msg m = {.type = MSG_CREATE_BATCH};
	struct cmd_create_batch *c = &m.u.create_batch;
	long long qty;

	(void)o;
	if (cli_check_id("ref", argv[0]) || cli_check_id("sku", argv[1]) ||
	    cli_parse_qty("qty", argv[2], 0, &qty))
		return CLI_USAGE;
	c->ref = argv[0];
	c->sku = argv[1];
	c->qty = qty;
	if (argc > 3 && strcmp(argv[3], "-") != 0) {
		if (!date_parse(argv[3], &c->eta)) {
			cli_error("eta must be a date YYYY-MM-DD, not "
				  "'%.40s'",
				  argv[3]);
			return CLI_USAGE;
		}
		c->has_eta = true;
	}
	if (argc > 4 && !supplier_parse(argv[4], &c->supplier)) {
		cli_error("supplier must be cheap or expensive, not '%.20s'",
			  argv[4]);
		return CLI_USAGE;
	}
	return cli_send(cfg, &m, NULL);
}

int32_t cli_today(void);

static int cmd_allocate(const struct config *cfg, const struct cli_opts *o,
			int argc, char **argv)
{
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};
	long long qty;
	int rc;

	(void)argc;
	if (cli_check_id("orderid", argv[0]) || cli_check_id("sku", argv[1]) ||
	    cli_parse_qty("qty", argv[2], 1, &qty))
		return CLI_USAGE;
	m.u.allocate.orderid = argv[0];
	m.u.allocate.sku = argv[1];
	m.u.allocate.qty = qty;
	m.u.allocate.backorder = o->backorder;
	m.u.allocate.customer = o->customer;
	m.u.allocate.day = cli_today();
	rc = cli_send(cfg, &m, &res);
	if (rc)
		return rc;
	if (res.backordered) {
		printf("backordered\n");
		return CLI_OK;
	}
	if (!res.allocated) {
		cli_error("out of stock for sku '%s'", argv[1]);
		return CLI_RUNTIME;
	}
	printf("%s\n", res.batchref);
	return CLI_OK;
}

static int cmd_change_batch_quantity(const struct config *cfg,
				     const struct cli_opts *o, int argc,
				     char **argv)
{
	struct msg m = {.type = MSG_CHANGE_BATCH_QUANTITY};
	long long qty;

	(void)o;
	(void)argc;
	if (cli_check_id("ref", argv[0]) ||
	    cli_parse_qty("qty", argv[1], 0, &qty))
		return CLI_USAGE;
	m.u.change_batch_quantity.ref = argv[0];
	m.u.change_batch_quantity.qty = qty;
	return cli_send(cfg, &m, NULL);
}

int cli_print_json(json_t *j);

/* deallocate ORDERID [SKU]: what was freed, as DELETE /allocations says. */
static int cmd_deallocate(const struct config *cfg, const struct cli_opts *o,
			  int argc, char **argv)
{
	struct msg m = {.type = MSG_DEALLOCATE};
	struct bus_result res = {0};
	struct arena a;
	int rc;

	(void)o;
	if (cli_check_id("orderid", argv[0]) ||
	    (argc > 1 && cli_check_id("sku", argv[1])))
		return CLI_USAGE;
	m.u.deallocate.orderid = argv[0];
	m.u.deallocate.sku = argc > 1 ? argv[1] : NULL;
	arena_init(&a);
	res.arena = &a;
	rc = cli_send(cfg, &m, &res);
	if (!rc)
		rc = cli_print_json(
			views_freed_json(argv[0], res.freed, res.n_freed));
	arena_release(&a);
	return rc;
}

/* change-batch-eta REF ETA|-: the shipment arrives then (-: it is here). */
static int cmd_change_batch_eta(const struct config *cfg,
				const struct cli_opts *o, int argc, char **argv)
{
	struct msg m = {.type = MSG_CHANGE_BATCH_ETA};

	(void)o;
	(void)argc;
	if (cli_check_id("ref", argv[0]))
		return CLI_USAGE;
	m.u.change_batch_eta.ref = argv[0];
	if (strcmp(argv[1], "-") != 0) {
		if (!date_parse(argv[1], &m.u.change_batch_eta.eta)) {
			cli_error("eta must be a date YYYY-MM-DD or -, not "
				  "'%.40s'",
				  argv[1]);
			return CLI_USAGE;
		}
		m.u.change_batch_eta.has_eta = true;
	}
	return cli_send(cfg, &m, NULL);
}

/* Print @j (stolen) on one line; CLI_RUNTIME when out of memory. */
int cli_print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!s) {
		cli_error("out of memory");
		return CLI_RUNTIME;
	}
	printf("%s\n", s);
	mem_free(s);
	return CLI_OK;
}

/*
 * Open the store for a read (it must exist: a read never creates one),
 * run @read on the worker, print what it built, close.
 */
typedef int read_fn(struct worker *w, void *ctx, json_t **out,
		    struct sc_err *err);

static int read_and_print(const struct config *cfg, read_fn *read, void *ctx)
{
	struct session s;
	struct sc_err err;
	json_t *j = NULL;
	int rc;

	err_clear(&err);
	rc = session_open(cfg, NULL, &s, &err);
	if (!rc)
		rc = read(&s.w, ctx, &j, &err);
	if (!rc && !j)
		rc = err_set(&err, SC_ENOMEM, "out of memory");
	if (!rc)
		rc = cli_print_json(j);
	session_close(&s);
	return rc > 0 ? rc : rc ? cli_fail(&err) : CLI_OK;
}

static int read_allocations(struct worker *w, void *ctx, json_t **out,
			    struct sc_err *err)
{
	struct allocation_row *rows;
	const char *orderid = ctx;
	size_t n;
	int rc = uow_allocations(w->uow, orderid, &w->scratch, &rows, &n, err);

	if (!rc && !n)
		rc = err_set(err, SC_ENOTFOUND, "no allocations for order '%s'",
			     orderid);
	if (!rc)
		*out = views_allocations_json(rows, n);
	return rc;
}

static int cmd_allocations(const struct config *cfg, const struct cli_opts *o,
			   int argc, char **argv)
{
	(void)o;
	(void)argc;
	if (cli_check_id("orderid", argv[0]))
		return CLI_USAGE;
	return read_and_print(cfg, read_allocations, argv[0]);
}

static int read_product(struct worker *w, void *ctx, json_t **out,
			struct sc_err *err)
{
	struct product *p;
	int rc = uow_read_product(w->uow, ctx, &w->scratch, &p, err);

	if (!rc)
		*out = views_product_json(p);
	return rc;
}

static int cmd_product(const struct config *cfg, const struct cli_opts *o,
		       int argc, char **argv)
{
	(void)o;
	(void)argc;
	if (cli_check_id("sku", argv[0]))
		return CLI_USAGE;
	return read_and_print(cfg, read_product, argv[0]);
}

/* What `products` asks for. */
struct page_ask {
	const char *after; /* "" = from the start */
	size_t limit;	   /* 1..1000 */
};

static int read_products(struct worker *w, void *ctx, json_t **out,
			 struct sc_err *err)
{
	const struct page_ask *ask = ctx;
	struct product_list page;
	int rc = uow_list_products(w->uow, ask->after, ask->limit, &w->scratch,
				   &page, err);

	if (!rc)
		*out = views_products_json(&page, ask->limit);
	return rc;
}

static int cmd_products(const struct config *cfg, const struct cli_opts *o,
			int argc, char **argv)
{
	struct page_ask ask = {"", 100};
	long long limit = 100;

	(void)argc;
	(void)argv;
	if (o->limit && cli_parse_qty("--limit", o->limit, 1, &limit))
		return CLI_USAGE;
	if (limit > 1000) {
		cli_error("--limit must be 1 to 1000");
		return CLI_USAGE;
	}
	if (o->after && cli_check_id("--after", o->after))
		return CLI_USAGE;
	ask.limit = (size_t)limit;
	ask.after = o->after ? o->after : "";
	return read_and_print(cfg, read_products, &ask);
}

/* Wait for SIGINT or SIGTERM (blocked first, so threads never see them). */
static void block_stop_signals(sigset_t *set)
{
	(void)sigemptyset(set);
	(void)sigaddset(set, SIGINT);
	(void)sigaddset(set, SIGTERM);
	(void)pthread_sigmask(SIG_BLOCK, set, NULL);
}

/* The HTTP server, with the Redis consumer beside it when configured. */
static int serve_with_consumer(struct app *app, const struct config *cfg,
			       struct sc_err *err)
{
	struct consumer consumer;
	int rc;

	if (!cfg->redis_url[0])
		return server_run(app, cfg, err);
	rc = consumer_start(&consumer, app, err);
	if (rc)
		return rc;
	rc = server_run(app, cfg, err);
	consumer_stop(&consumer);
	return rc;
}

/* The store's own settings, as the start-up line shows them. */
static void store_settings(const struct config *cfg, char *out, size_t size)
{
	if (!strncmp(cfg->database_url, "sqlite:", 7))
		(void)snprintf(out, size,
			       "sqlite_synchronous=%s sqlite_group_commit=%s"
			       " sqlite_batch=%s",
			       cfg->sqlite_synchronous_full ? "FULL" : "NORMAL",
			       cfg->sqlite_group_commit ? "on" : "off",
			       cfg->sqlite_batch ? "on" : "off");
	else if (strncmp(cfg->database_url, "memory:", 7) != 0)
		(void)snprintf(out, size, "pg_locking=%s",
			       cfg->pg_row_lock ? "row" : "optimistic");
	else
		(void)snprintf(out, size, "store=memory");
}

/* The start-up line: version and settings, every URL without password. */
static void log_start(const struct config *cfg)
{
	char db[CONFIG_STR_MAX], redis[CONFIG_STR_MAX], smtp[CONFIG_STR_MAX];
	char store[96];

	store_settings(cfg, store, sizeof(store));
	log_msg(LOG_INFO,
		"event=start version=%s database_url=%s http_host=%s "
		"http_port=%d http_threads=%d redis_url=%s smtp_url=%s "
		"stock_email=%s from_email=%s %s",
		SCENTS_VERSION, url_redact(cfg->database_url, db, sizeof(db)),
		cfg->http_host, cfg->http_port, cfg->http_threads,
		cfg->redis_url[0]
			? url_redact(cfg->redis_url, redis, sizeof(redis))
			: "-",
		cfg->smtp_url[0] ? url_redact(cfg->smtp_url, smtp, sizeof(smtp))
				 : "-",
		cfg->stock_email, cfg->from_email, store);
}

static int cmd_serve(const struct config *cfg, const struct cli_opts *o,
		     int argc, char **argv)
{
	struct relay_thread relay;
	struct app *app = NULL;
	struct sc_err err;
	sigset_t stop;
	int rc;

	(void)o;
	(void)argc;
	(void)argv;
	block_stop_signals(&stop); /* before any thread starts */
	log_start(cfg);
	err_clear(&err);
	rc = bootstrap_open(cfg, &app, &err);
	if (!rc) {
		rc = relay_thread_start(&relay, app, &err);
		if (!rc) {
			rc = serve_with_consumer(app, cfg, &err);
			relay_thread_stop(&relay);
		}
	}
	bootstrap_close(app);
	return rc ? cli_fail(&err) : CLI_OK;
}

/*
 * The relay, and with @consume the Redis consumer, until SIGINT or
 * SIGTERM: `scents relay` and `scents consume`.
 */
static int run_daemon(const struct config *cfg, bool consume)
{
	struct relay_thread relay;
	struct consumer consumer;
	struct app *app = NULL;
	struct sc_err err;
	sigset_t stop;
	int sig, rc;

	block_stop_signals(&stop);
	err_clear(&err);
	rc = bootstrap_open(cfg, &app, &err);
	if (!rc)
		rc = relay_thread_start(&relay, app, &err);
	if (!rc) {
		if (consume)
			rc = consumer_start(&consumer, app, &err);
		if (!rc) {
			log_msg(LOG_INFO, "event=running relay=1 consumer=%d",
				consume);
			(void)sigwait(&stop, &sig);
			if (consume)
				consumer_stop(&consumer);
		}
		relay_thread_stop(&relay);
	}
	bootstrap_close(app);
	return rc ? cli_fail(&err) : CLI_OK;
}

static int cmd_consume(const struct config *cfg, const struct cli_opts *o,
		       int argc, char **argv)
{
	(void)o;
	(void)argc;
	(void)argv;
	if (!cfg->redis_url[0]) {
		cli_error("consume needs REDIS_URL");
		return CLI_USAGE;
	}
	return run_daemon(cfg, true);
}

static int cmd_relay(const struct config *cfg, const struct cli_opts *o,
		     int argc, char **argv)
{
	(void)o;
	(void)argc;
	(void)argv;
	return run_daemon(cfg, false);
}

/* Today (UTC) as days since the epoch: rounds are dated by who sends. */
int32_t cli_today(void)
{
	return (int32_t)(time(NULL) / 86400);
}

/* Read all of @path (at most 16 MiB) into @a. */
int cli_slurp(const char *path, struct arena *a, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	char *buf;

	if (!f) {
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return CLI_RUNTIME;
	}
	buf = arena_alloc(a, cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap || cap >= (16u << 20))
			break;
		buf = arena_reserve(a, (void **)&buf, &cap, cap * 2, 1) ? NULL
									: buf;
	}
	(void)fclose(f);
	if (!buf || n >= (16u << 20)) {
		cli_error("'%s' is too large", path);
		return CLI_RUNTIME;
	}
	*out = buf;
	*len = n;
	return CLI_OK;
}

/* Print round @id (0: the latest) as a table or (--json) JSON. */
static int report(const struct config *cfg, int64_t id, bool as_json)
{
	struct research_round *round;
	struct session s;
	struct sc_err err;
	int rc;

	err_clear(&err);
	rc = session_open(cfg, NULL, &s, &err);
	if (!rc)
		rc = uow_research_round(s.w.uow, id, &s.w.scratch, &round,
					&err);
	if (!rc && as_json) {
		json_t *j = sourcing_round_json(round);

		if (aio_sourcing_costs(j, s.w.uow, &s.w.scratch)) {
			json_decref(j);
			j = NULL;
		}
		rc = cli_print_json(j);
	} else if (!rc)
		sourcing_print_table(stdout, round);
	session_close(&s);
	return rc ? cli_fail(&err) : CLI_OK;
}

/*
 * Record round @m and print it - this round, not whatever is latest by
 * now - in one session (a memory: store lives only that long).
 */
static int import_and_print(const struct config *cfg, const struct msg *m,
			    struct sc_err *err)
{
	struct research_round *round;
	struct bus_result res = {0};
	struct session s;
	int rc = session_open(cfg, NULL, &s, err);

	if (!rc)
		rc = bus_handle(&s.w.bus, m, &res, err);
	if (!rc)
		rc = uow_research_round(s.w.uow, res.round_id, &s.w.scratch,
					&round, err);
	if (!rc) {
		printf("imported round %lld: %zu scents\n\n",
		       (long long)res.round_id, round->n);
		sourcing_print_table(stdout, round);
	}
	session_close(&s);
	return rc ? cli_fail(err) : CLI_OK;
}

static int import(const struct config *cfg, const char *path,
		  const char *threshold)
{
	struct msg m = {.type = MSG_IMPORT_RESEARCH};
	struct cmd_import_research *c = &m.u.import_research;
	struct research_row *rows;
	struct arena a;
	struct sc_err err;
	int64_t bp = SOURCING_THRESHOLD_BP;
	char *text;
	size_t len;
	int rc;

	if (threshold &&
	    (!sourcing_parse_fixed(threshold, 2, &bp) || bp > 10000)) {
		cli_error("--threshold must be a percentage from 0 to 100, "
			  "not '%.20s'",
			  threshold);
		return CLI_USAGE;
	}
	arena_init(&a);
	err_clear(&err);
	rc = cli_slurp(path, &a, &text, &len);
	if (!rc && sourcing_parse_csv(text, len, &a, &rows, &c->n_rows, &err))
		rc = cli_fail(&err);
	if (!rc) {
		c->rows = rows;
		c->day = cli_today();
		c->threshold_bp = (int32_t)bp;
		rc = import_and_print(cfg, &m, &err);
	}
	arena_release(&a);
	return rc;
}

static int cmd_sourcing(const struct config *cfg, const struct cli_opts *o,
			int argc, char **argv)
{
	if (!strcmp(argv[0], "import") && argc == 2 && !o->json)
		return import(cfg, argv[1], o->threshold);
	if (!strcmp(argv[0], "report") && argc == 1 && !o->threshold) {
		struct config ro = *cfg;

		ro.open_existing = 1; /* a report never creates a database */
		return report(&ro, 0, o->json);
	}
	cli_error("usage: scents sourcing import [--threshold PCT] FILE.csv | "
		  "scents sourcing report [--json]");
	return CLI_USAGE;
}

/* "read,stock" or repeated --scope: the bits, or 0 on an unknown name. */
static unsigned scopes_of(char *list)
{
	unsigned bits = 0;
	char *save = NULL;

	for (char *t = strtok_r(list, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		unsigned bit = token_scope_parse(t);

		if (!bit)
			return 0;
		bits |= bit;
	}
	return bits;
}

static void print_scopes(unsigned scopes)
{
	const char *sep = "";

	for (unsigned bit = 1; bit <= TOKEN_SCOPE_ADMIN; bit <<= 1)
		if (scopes & bit) {
			printf("%s%s", sep, token_scope_name(bit));
			sep = ",";
		}
}

static const char token_usage[] =
	"usage: scents token create --name NAME --scope SCOPE[,SCOPE...] | "
	"list | revoke NAME; scopes: read, allocate, stock, admin";

/* token create: the secret goes to stdout once, and nowhere else. */
static int token_create(const struct config *cfg, const struct cli_opts *o)
{
	struct msg m = {.type = MSG_CREATE_TOKEN};
	struct cmd_create_token *c = &m.u.create_token;
	uint8_t hash[TOKEN_HASH_LEN];
	char secret[AUTH_SECRET_SIZE];
	struct sc_err err;
	int rc;

	for (size_t i = 0; i < o->n_scopes; i++) {
		unsigned bits = scopes_of(o->scopes[i]);

		if (!bits) {
			cli_error("%s", token_usage);
			return CLI_USAGE;
		}
		c->scopes |= bits;
	}
	if (!o->name || !c->scopes) {
		cli_error("%s", token_usage);
		return CLI_USAGE;
	}
	c->name = o->name;
	err_clear(&err);
	if (auth_global_init(&err))
		return cli_fail(&err);
	auth_secret_new(secret, hash);
	c->hash = hash;
	c->now = (int64_t)time(NULL);
	rc = cli_send(cfg, &m, NULL);
	if (!rc)
		printf("%s\n", secret);
	auth_secret_wipe(secret);
	return rc;
}

static int token_list(const struct config *cfg)
{
	struct token_record *rows = NULL;
	struct session s;
	struct sc_err err;
	size_t n = 0;
	int rc;

	err_clear(&err);
	rc = session_open(cfg, NULL, &s, &err);
	if (!rc)
		rc = uow_token_list(s.w.uow, &s.w.scratch, &rows, &n, &err);
	for (size_t i = 0; !rc && i < n; i++) {
		printf("%-24s %-8s ", rows[i].name,
		       rows[i].revoked_at ? "revoked" : "active");
		print_scopes(rows[i].scopes);
		printf("\n");
	}
	session_close(&s);
	return rc ? cli_fail(&err) : CLI_OK;
}

static int cmd_token(const struct config *cfg, const struct cli_opts *o,
		     int argc, char **argv)
{
	struct msg m = {.type = MSG_REVOKE_TOKEN};
	bool no_opts = !o->name && !o->n_scopes;

	if (!strcmp(argv[0], "create") && argc == 1)
		return token_create(cfg, o);
	if (!strcmp(argv[0], "list") && argc == 1 && no_opts) {
		struct config ro = *cfg;

		ro.open_existing = 1; /* listing never creates a database */
		return token_list(&ro);
	}
	if (!strcmp(argv[0], "revoke") && argc == 2 && no_opts) {
		m.u.revoke_token.name = argv[1];
		m.u.revoke_token.now = (int64_t)time(NULL);
		return cli_send(cfg, &m, NULL);
	}
	cli_error("%s", token_usage);
	return CLI_USAGE;
}

/* scents low-stock SKU N: alert the stock team below N available. */
static int cmd_low_stock(const struct config *cfg, const struct cli_opts *o,
			 int argc, char **argv)
{
	struct msg m = {.type = MSG_SET_LOW_STOCK};
	long long n;

	(void)o;
	(void)argc;
	if (cli_check_id("sku", argv[0]) ||
	    cli_parse_qty("threshold", argv[1], 0, &n))
		return CLI_USAGE;
	m.u.set_low_stock.sku = argv[0];
	m.u.set_low_stock.threshold = n;
	return cli_send(cfg, &m, NULL);
}

/* Print one customer (JSON, as GET /customers/{id}), from a session. */
static int customer_show(const struct config *cfg, const char *id)
{
	struct customer_record *c;
	struct session s;
	struct sc_err err;
	int rc;

	err_clear(&err);
	rc = session_open_existing(cfg, &s, &err);
	if (!rc)
		rc = uow_customer_get(s.w.uow, id, &s.w.scratch, &c, &err);
	if (!rc)
		rc = cli_print_json(views_customer_json(c));
	session_close(&s);
	return rc < 0 ? cli_fail(&err) : rc;
}

/*
 * scents customer add ID NAME [--email A] [--webhook URL]: prints the
 * customer, and a webhook's signing secret once.
 */
static int cmd_customer(const struct config *cfg, const struct cli_opts *o,
			int argc, char **argv)
{
	struct msg m = {.type = MSG_CREATE_CUSTOMER};
	struct cmd_create_customer *c = &m.u.create_customer;
	uint8_t key[WEBHOOK_SECRET_LEN];
	char shown[AUTH_WHSEC_SIZE];
	int rc;

	if (!strcmp(argv[0], "show") && argc == 2 && !o->email && !o->webhook)
		return customer_show(cfg, argv[1]);
	if (strcmp(argv[0], "add") != 0 || argc != 3) {
		cli_error("usage: scents customer add ID NAME [--email A] "
			  "[--webhook URL] | show ID");
		return CLI_USAGE;
	}
	c->id = argv[1];
	c->name = argv[2];
	c->email = o->email;
	c->webhook_url = o->webhook;
	c->segment = o->segment;
	if (c->webhook_url) {
		auth_webhook_secret_new(key, shown);
		c->secret = key;
	}
	c->now = (int64_t)time(NULL);
	rc = cli_send(cfg, &m, NULL);
	if (!rc && c->webhook_url)
		printf("webhook secret (shown once): %s\n", shown);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(shown, sizeof(shown));
	return rc ? rc : customer_show(cfg, argv[1]);
}

/* scents deliveries [--state S] | replay ID: customers' notices. */
static int cmd_deliveries(const struct config *cfg, const struct cli_opts *o,
			  int argc, char **argv)
{
	struct msg m = {.type = MSG_REPLAY_DELIVERY};
	struct delivery *rows;
	struct session s;
	struct sc_err err;
	size_t n;
	int state = o->state ? notice_state_named(o->state) : -1, rc;
	char *end;

	if (argc == 2 && !strcmp(argv[0], "replay")) {
		m.u.replay_delivery.id = strtoll(argv[1], &end, 10);
		if (*end || end == argv[1]) {
			cli_error("a delivery id is a positive integer");
			return CLI_USAGE;
		}
		m.u.replay_delivery.now = (int64_t)time(NULL) * 1000;
		return cli_send(cfg, &m, NULL);
	}
	if (argc || (o->state && state < 0)) {
		cli_error("usage: scents deliveries [--state pending|delivered|"
			  "dead] | replay ID");
		return CLI_USAGE;
	}
	err_clear(&err);
	rc = session_open_existing(cfg, &s, &err);
	if (!rc)
		rc = uow_delivery_list(s.w.uow,
				       &(struct delivery_filter){state, 1000},
				       &s.w.scratch, &rows, &n, &err);
	if (!rc)
		rc = cli_print_json(views_deliveries_json(rows, n));
	session_close(&s);
	return rc < 0 ? cli_fail(&err) : rc;
}

/*
 * scents check [--repair]: every invariant, one line per violation on
 * stdout; exit 0 when none (after the repair, with --repair), else 1.
 */
static int cmd_check(const struct config *cfg, const struct cli_opts *o,
		     int argc, char **argv)
{
	struct check_report rep;
	struct config existing = *cfg;
	struct session s;
	struct sc_err err;
	int rc;

	(void)argc;
	(void)argv;
	existing.open_existing = 1; /* checking never creates a database */
	err_clear(&err);
	rc = session_open(&existing, NULL, &s, &err);
	if (!rc)
		rc = uow_check(s.w.uow, o->repair, &s.w.scratch, &rep, &err);
	if (!rc) {
		if (o->repair)
			printf("repaired: %zu rows of derived data rebuilt\n",
			       rep.n_repaired);
		for (size_t i = 0; i < rep.n_problems; i++)
			printf("%s\n", rep.problems[i]);
		printf("%zu checks, %zu problems\n", rep.n_checked,
		       rep.n_problems);
	}
	session_close(&s);
	if (rc)
		return cli_fail(&err);
	return rep.n_problems ? CLI_RUNTIME : CLI_OK;
}

/* scents backup PATH: an online, consistent copy of the live store. */
static int cmd_backup(const struct config *cfg, const struct cli_opts *o,
		      int argc, char **argv)
{
	struct config existing = *cfg;
	struct session s;
	struct sc_err err;
	int rc;

	(void)o;
	(void)argc;
	existing.open_existing = 1;
	err_clear(&err);
	rc = session_open(&existing, NULL, &s, &err);
	if (!rc)
		rc = uow_backup(s.w.uow, argv[0], &err);
	session_close(&s);
	if (rc)
		return cli_fail(&err);
	printf("%s\n", argv[0]);
	return CLI_OK;
}

static int cmd_version(const struct config *cfg, const struct cli_opts *o,
		       int argc, char **argv)
{
	(void)cfg;
	(void)o;
	(void)argc;
	(void)argv;
	printf("scents %s\n", SCENTS_VERSION);
	return CLI_OK;
}

static int cmd_help(const struct config *cfg, const struct cli_opts *o,
		    int argc, char **argv)
{
	const struct cli_command *cmd = argc ? cli_find(argv[0]) : NULL;

	(void)cfg;
	(void)o;
	if (argc && !cmd) {
		cli_error("unknown command '%s' (see 'scents help')", argv[0]);
		return CLI_USAGE;
	}
	if (cmd) {
		cli_usage(stdout, cmd);
		return CLI_OK;
	}
	printf("usage: scents [--database URL] COMMAND [OPTIONS] [ARGS]\n"
	       "       scents --version | --help | help COMMAND\n\n"
	       "Inventory allocation for The Scents Company.\n\n"
	       "commands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		printf("  %-22s %s\n", c->name, c->help);
	printf("\n'scents help COMMAND' or 'scents COMMAND --help' shows its "
	       "options.\nDATABASE_URL (default sqlite:var/scents.db) or "
	       "--database chooses the store.\nExit codes: 0 ok, 1 runtime "
	       "error, 2 usage error.\n");
	return CLI_OK;
}

/* clang-format off */
const struct cli_command cli_commands[] = {
	{"help", "[COMMAND]", "show the commands, or one command's usage",
	 NULL, "", 0, 1, true, cmd_help},
	{"version", "", "print the version (also: scents --version)", NULL, "",
	 0, 0, true, cmd_version},
	{"serve", "", "serve the HTTP API on HTTP_HOST:HTTP_PORT",
	 "Also runs the outbox relay, and with REDIS_URL the Redis consumer.\n"
	 "Stops on SIGINT or SIGTERM after finishing requests begun.",
	 "", 0, 0, false, cmd_serve},
	{"consume", "", "apply change_batch_quantity messages from Redis",
	 "Needs REDIS_URL; runs a relay too.", "", 0, 0, false, cmd_consume},
	{"relay", "", "deliver queued events (serve does this too)", NULL, "",
	 0, 0, false, cmd_relay},
	{"add-batch", "REF SKU QTY [ETA|-] [cheap|expensive]",
	 "add a batch (ETA YYYY-MM-DD; - or nothing: in the warehouse)",
	 "Without a supplier, the latest sourcing decision for SKU decides.",
	 "", 3, 5, false, cmd_add_batch},
	{"allocate", "[--backorder] [--customer ID] ORDERID SKU QTY",
	 "allocate an order line",
	 "Prints the batch ref; exit 1 when out of stock.\n"
	 "  --backorder     without stock, keep the line waiting (prints\n"
	 "                  \"backordered\"); new stock for SKU fills it\n"
	 "  --customer ID   the order is this customer's, who is told what\n"
	 "                  happens to it (scents customer add)",
	 "bc:", 3, 3, false, cmd_allocate},
	{"low-stock", "SKU N",
	 "mail the stock team when SKU's available units fall below N",
	 "Once per crossing (and at most once per STOCK_ALERT_WINDOW_S);\n"
	 "0 turns the alert off.",
	 "", 2, 2, false, cmd_low_stock},
	{"customer",
	 "add ID NAME [--email A] [--webhook URL] [--segment S] | show ID",
	 "register a customer to tell about its orders",
	 "  add        prints the customer; with --webhook, also the signing\n"
	 "             secret, once (receivers verify webhook-signature)\n"
	 "  --email    an address notices are mailed to (SMTP_URL)\n"
	 "  --webhook  an http(s) URL notices are POSTed to, signed\n"
	 "  --segment  its audience (cinema, game, vr...): demand by segment",
	 "e:w:g:", 2, 3, false, cmd_customer},
	{"deliveries", "[--state pending|delivered|dead] | replay ID",
	 "list customers' notices, or send a dead one again",
	 "Newest first, as GET /deliveries answers (JSON).", "S:", 0, 2,
	 false, cmd_deliveries},
	{"change-batch-quantity", "REF QTY", "set a batch's quantity",
	 "Lines that no longer fit are reallocated, newest first.", "", 2, 2,
	 false, cmd_change_batch_quantity},
	{"deallocate", "ORDERID [SKU]",
	 "cancel an order line, or every line of the order",
	 "The stock is freed for other orders; the lines are not reallocated.\n"
	 "Prints what was freed (JSON, as DELETE /allocations answers);\n"
	 "exit 1 when the order holds no such line.",
	 "", 1, 2, false, cmd_deallocate},
	{"change-batch-eta", "REF ETA|-",
	 "a shipment arrives at another date (-: it is in the warehouse)",
	 "The customers of its lines are told (order_line.eta_changed).", "",
	 2, 2, false, cmd_change_batch_eta},
	{"allocations", "ORDERID", "print an order's allocations (JSON)", NULL,
	 "", 1, 1, true, cmd_allocations},
	{"products", "[--limit N] [--after SKU]",
	 "list products with their totals (JSON, as GET /products)",
	 "  --limit N     page size, 1 to 1000 (100)\n"
	 "  --after SKU   start after this sku (the previous page's next)",
	 "l:a:", 0, 0, true, cmd_products},
	{"product", "SKU", "show a product and its batches (JSON)", NULL, "",
	 1, 1, true, cmd_product},
	{"sourcing", "import [--threshold PCT] FILE | report [--json]",
	 "decide suppliers from market research",
	 "  import FILE       record a round from a CSV file, print its "
	 "decisions\n"
	 "  --threshold PCT   cheap when favoured by at least PCT% (40)\n"
	 "  report            the latest round as a table\n"
	 "  --json            ... as JSON",
	 "t:j", 1, 2, false, cmd_sourcing},
	{"ingredients", "import FILE | list",
	 "the ingredient catalogue: CAS numbers, limits, prices",
	 "  import FILE   add or replace ingredients from CSV (name,cas,max_pct,\n"
	 "                cheap_usd_per_kg,expensive_usd_per_kg) or JSON\n"
	 "  list          the catalogue (JSON; --csv: as the import reads it)",
	 "C", 1, 2, false, cmd_ingredients},
	{"formula", "add SKU FILE | show SKU | log SKU | bom SKU UNITS | "
	 "activate SKU VERSION | revert SKU",
	 "versioned scent formulas, their cost and bills of materials",
	 "  add SKU FILE     a new version from CSV (ingredient,pct) or JSON;\n"
	 "                   --unit-ml N (10), --density G/ML (1.000), --note\n"
	 "  show SKU         the active version (--version N) with its cost\n"
	 "                   per unit from each supplier; --json, or --csv\n"
	 "                   (its lines, as add reads them)\n"
	 "  log SKU          who changed the active version, when, why\n"
	 "  bom SKU UNITS    grams of each ingredient (--ml N per unit)\n"
	 "  activate, revert make a version active, or go back (--reason)",
	 "U:D:N:V:M:R:jC", 2, 3, false, cmd_formula},
	{"survey", "create SKU NAME LABEL=VERSION... | import ID FILE | "
	 "report ID | promote ID",
	 "compare formula versions with audiences and adopt the winner",
	 "  create    2 to 10 variants, each a formula version of SKU\n"
	 "  import    responses from CSV (respondent,variant,accepted,rating,\n"
	 "            segment), streamed, checked whole before any is written\n"
	 "  report    acceptance and rating per variant, the winner if any\n"
	 "            (--segment S: one audience; --json)\n"
	 "  promote   the winner becomes the active formula (--reason)",
	 "g:R:j", 2, 13, false, cmd_survey},
	{"demand", "import FILE | report",
	 "units ordered per sku and week, by outcome",
	 "  import FILE  past demand, CSV date,sku,outcome,units[,lines]"
	 "[,segment]\n"
	 "  report       --from/--to DATE (90 days to today), --period "
	 "day|week,\n"
	 "               --by-segment, --json",
	 "f:T:P:Bj", 1, 2, false, cmd_demand},
	{"plan", "[--weeks N] [--history N] [--min-batch N] [--lead-days N] "
	 "[--as-of DATE] [--apply]",
	 "what to produce next: forecast, stock, units to make",
	 "Forecasts each sku's weekly demand (exponential smoothing, its error\n"
	 "on held-out weeks beside the naive forecast's), adds safety stock,\n"
	 "takes away free stock in the warehouse and in shipment, and rounds\n"
	 "up to --min-batch.  --apply creates one batch per line through the\n"
	 "bus (ref plan-DATE-SKU, ETA today + --lead-days; supplier from the\n"
	 "sourcing decision).  --json prints the plan as GET /plan does.\n"
	 "--as-of DATE plans as on that day (the weeks before it).",
	 "W:H:m:L:AjO:", 0, 0, false, cmd_plan},
	{"track",
	 "check FILE | import FILE | list | show ID | preshow TRACK VENUE "
	 "[--json]",
	 "cinema scent cue tracks: check, store, show, pre-show check",
	 "  check FILE    check a cue track (docs/dispensing.md: palette,\n"
	 "                burst cap, gaps between different scents,\n"
	 "                exclusive groups, doses) and print per scent the\n"
	 "                cues, the most any seat receives, the total and\n"
	 "                the seats; the first rule broken, naming the cue,\n"
	 "                exits 2.  Stores nothing.\n"
	 "  import FILE   check it the same way and store it\n"
	 "  list          stored tracks, newest first\n"
	 "  show ID       a stored track's doses (--json)\n"
	 "  preshow TRACK VENUE\n"
	 "                each occupied seat's cartridges (a scents-venue/1\n"
	 "                file) against what the track releases there: the\n"
	 "                refills needed per scent; exit 1 when not ready",
	 "j", 1, 3, false, cmd_track},
	{"venue",
	 "import FILE | list | show ID | shows ID | preshow ID TRACK | "
	 "refill ID TRACK ORDERID [--json]",
	 "stored venues: cartridges, shows played, pre-show, refills",
	 "  import FILE   check a scents-venue/1 file and store it with its\n"
	 "                cartridges (docs/dispensing.md)\n"
	 "  list          stored venues, newest first\n"
	 "  show ID       its cartridges today: scent, batch, level (--json\n"
	 "                adds the venue as imported)\n"
	 "  shows ID      the shows recorded there and what each used, per\n"
	 "                scent and batch (JSON)\n"
	 "  preshow ID TRACK\n"
	 "                stored track TRACK against today's cartridges;\n"
	 "                exit 1 when not ready\n"
	 "  refill ID TRACK ORDERID\n"
	 "                fill what that pre-show report asks for: one order\n"
	 "                line per scent of ORDERID, allocated from stock\n"
	 "                (RefillCartridges), cartridges filled from the batch",
	 "j", 1, 4, false, cmd_venue},
	{"show",
	 "TRACK VENUE [--speed N] [--from TC] [--ltc FILE|- [--ltc-rate HZ] "
	 "[--lock strict|freewheel|jam]] [--tolerance-ms N] [--lead-ms N] "
	 "[--retry-ms N] [--log FILE] [--json]",
	 "play a cue track in a venue through its gateways",
	 "Plays TRACK (a cue track file, or a stored track's id) in VENUE\n"
	 "(a venue file with gateways, or a stored venue's id) through the\n"
	 "gateway protocol (docs/dispensing.md):\n"
	 "each fire leaves --lead-ms (50) ahead stamped with its time on\n"
	 "the gateway's clock, resent every --retry-ms (10) until\n"
	 "acknowledged or the cue's window (--tolerance-ms, 200) closes.\n"
	 "Time source: started now (at --from HH:MM:SS:FF, default 0),\n"
	 "or LTC audio (--ltc FILE, unsigned 8-bit mono at --ltc-rate,\n"
	 "48000; '-' reads a live stream such as arecord -f U8) chased in\n"
	 "--lock mode (strict, freewheel, jam; default freewheel).\n"
	 "--speed N plays N times faster (a compressed rehearsal).\n"
	 "--log FILE gets a JSON line per fire.  Prints fires acknowledged,\n"
	 "missed and unacknowledged, the fire-time error, and the\n"
	 "microlitres released per scent; exit 1 when any fire was lost.\n"
	 "A stored venue's show is then recorded (RecordShow): what each\n"
	 "cartridge released comes off its level, a cartridge below the\n"
	 "venue's threshold alerts the stock team.",
	 "x:k:i:F:o:E:y:q:f:j", 2, 2, true, cmd_show},
	{"gatewaysim",
	 "VENUE|ID [--latency-ms N] [--jitter-ms N] [--loss PCT] "
	 "[--clock-offset-ms N] [--seed N] [--log FILE] [--levels FILE]",
	 "simulate a venue's gateways and seat devices",
	 "Listens on every gateway address of VENUE (a venue file, or the\n"
	 "id of a stored venue, its cartridges as stored) and answers as\n"
	 "its gateways would: each datagram delayed by\n"
	 "--latency-ms plus up to --jitter-ms, --loss percent dropped each\n"
	 "way (drawn from --seed), a clock --clock-offset-ms off ours;\n"
	 "fires at each FIRE's time, takes the dose from each seat's\n"
	 "cartridge, acknowledges once per FIRE.  --log FILE gets a JSON\n"
	 "line per fire; on SIGTERM or ^C, --levels FILE gets every\n"
	 "cartridge's level and what it released.",
	 "z:J:X:K:Y:q:v:", 1, 1, true, cmd_gatewaysim},
	{"check", "[--repair]", "verify every stored invariant",
	 "Checks: file integrity, schema version, foreign keys, no batch\n"
	 "over-allocated, batch totals equal to their lines, the read model\n"
	 "equal to the allocations, an Allocated event for every allocation,\n"
	 "active formulas that exist, formulas summing to 100%, responses\n"
	 "to variants their survey has.\n"
	 "Prints one line per problem; exit 1 when there is any.\n"
	 "  --repair   first rebuild totals and the read model from the\n"
	 "             allocations, in one transaction, and say how many rows",
	 "r", 0, 0, false, cmd_check},
	{"backup", "PATH", "copy the live database to PATH (SQLite)",
	 "A consistent online copy, taken while servers run (SQLite's backup\n"
	 "API); PATH must not exist.  PostgreSQL: use pg_dump.", "", 1, 1,
	 true, cmd_backup},
	{"token", "create --name NAME --scope SCOPE[,SCOPE] | list | revoke NAME",
	 "manage API tokens",
	 "  create   make a token and print its secret, once\n"
	 "  list     names, state and scopes (never secrets)\n"
	 "  revoke   stop a token (within a second on every server)\n"
	 "scopes: read, allocate, stock, admin (admin implies all)",
	 "n:s:", 1, 2, false, cmd_token},
	{NULL, NULL, NULL, NULL, NULL, 0, 0, false, NULL},
};
/* clang-format on */

/*
 * entrypoints/http/routes.c - the endpoints of the HTTP API.
 */
#include "entrypoints/http/routes.h"

#include <assert.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bootstrap.h"
#include "common/arena.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "domain/customer.h"
#include "domain/date.h"
#include "domain/model.h"
#include "domain/sourcing.h"
#include "domain/token.h"
#include "entrypoints/analytics/analytics_io.h"
#include "entrypoints/auth/auth.h"
#include "entrypoints/dashboard/dashboard.h"
#include "entrypoints/dispensing/cue_io.h"
#include "entrypoints/dispensing/dispense.h"
#include "entrypoints/dispensing/stored_io.h"
#include "entrypoints/dispensing/venue_io.h"
#include "entrypoints/http/guard.h"
#include "entrypoints/http/http_metrics.h"
#include "entrypoints/json/json_in.h"
#include "entrypoints/sourcing/sourcing_io.h"
#include "entrypoints/views/views_json.h"
#include "service/relay.h"
#include "service/uow.h"
#include "service/writer.h"

/* Largest page of GET /products. */
#define PRODUCTS_PAGE_MAX 1000

/*
 * Set @out to @status with body @json (stolen).  Reals print with 12
 * significant digits: shares rounded to 4 decimals then read 45.75, not
 * the double's 17-digit neighbour.
 */
static void reply_json(struct http_reply *out, unsigned status, json_t *json)
{
	out->status = status;
	out->body =
		json ? json_dumps(json, JSON_COMPACT | JSON_REAL_PRECISION(12))
		     : NULL;
	json_decref(json);
	if (!out->body) {
		out->status = 503;
		out->body = NULL;
	}
}

static void reply_msg(struct http_reply *out, unsigned status, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

static void reply_msg(struct http_reply *out, unsigned status, const char *fmt,
		      ...)
{
	char msg[SC_ERR_MSG_MAX + SC_ID_MAX + 64];
	char esc[sizeof(msg) * 4];
	json_t *text;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* a message quoting untrusted bytes may not be UTF-8: escape it */
	text = json_string(msg);
	if (!text)
		text = json_string(
			log_escape(msg, strlen(msg), esc, sizeof(esc)));
	reply_json(out, status, json_pack("{s:o}", "message", text));
}

/* Map a service error to a status; the message is the service's. */
static void reply_err(struct http_reply *out, const struct sc_err *err)
{
	unsigned status;

	switch (err->code) {
	case SC_EINVAL:
		status = 400;
		break;
	case SC_ENOTFOUND:
		status = 404;
		break;
	case SC_EEXIST:
		status = 409;
		break;
	case SC_ECONFLICT: /* still losing races after every retry */
	case SC_ENOMEM:
		status = 503;
		break;
	case SC_EIO:
		/*
		 * The store's own text names files and server addresses:
		 * it goes to the log, for operators; clients get a reason
		 * they can act on.
		 */
		log_msg(LOG_ERROR, "event=store_error reason=\"%s\"", err->msg);
		reply_msg(out, 503,
			  "the store is unavailable; try again later");
		return;
	default:
		status = 500;
	}
	reply_msg(out, status, "%s", err->msg[0] ? err->msg : "internal error");
}

/* Parse the body as a JSON object, or reply 400 and return NULL. */
static json_t *parse_object(const struct http_req *req, struct http_reply *out)
{
	json_error_t jerr;
	json_t *j;

	if (!req->len) {
		reply_msg(out, 400, "body must be a JSON object");
		return NULL;
	}
	j = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		reply_msg(out, 400, "body is not valid JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_msg(out, 400, "body must be a JSON object");
		return NULL;
	}
	return j;
}

/*
 * Reject a key of @o that is not in @known (NULL-terminated): a typo such
 * as "ETA" must not silently mean "no eta".  Replies 400 naming it.
 */
static int check_keys(json_t *o, const char *const *known,
		      struct http_reply *rep)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		const char *const *k = known;

		(void)v;
		while (*k && strcmp(*k, key) != 0)
			k++;
		if (!*k) {
			reply_msg(rep, 400, "unknown field '%.64s'", key);
			return -1;
		}
	}
	return 0;
}

/* Field @name as an id; replies 400 naming it when absent or bad. */
static int get_ident(json_t *o, const char *name, const char **out,
		     struct http_reply *rep)
{
	json_t *v = json_object_get(o, name);

	if (!v) {
		reply_msg(rep, 400, "missing field '%s'", name);
		return -1;
	}
	if (!json_is_string(v) ||
	    !ident_valid(json_string_value(v), json_string_length(v))) {
		reply_msg(rep, 400,
			  "field '%s' must be a string of 1 to %d bytes of "
			  "printable utf-8",
			  name, SC_ID_MAX);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

static int get_qty(json_t *o, const char *name, long long min, long long *out,
		   struct http_reply *rep)
{
	json_t *v = json_object_get(o, name);

	if (!v) {
		reply_msg(rep, 400, "missing field '%s'", name);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > SC_QTY_MAX) {
		reply_msg(rep, 400,
			  "field '%s' must be an integer from %lld to %lld",
			  name, min, (long long)SC_QTY_MAX);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

/* Optional boolean @name: absent = false; anything but true/false is 400. */
static int get_flag(json_t *o, const char *name, bool *out,
		    struct http_reply *rep)
{
	json_t *v = json_object_get(o, name);

	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		reply_msg(rep, 400, "field '%s' must be true or false", name);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

/* Optional "eta": absent or null = none, else "YYYY-MM-DD". */
static int get_eta(json_t *o, struct cmd_create_batch *c,
		   struct http_reply *rep)
{
	json_t *v = json_object_get(o, "eta");

	c->has_eta = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    !date_parse(json_string_value(v), &c->eta)) {
		reply_msg(rep, 400,
			  "field 'eta' must be null or a date YYYY-MM-DD");
		return -1;
	}
	c->has_eta = true;
	return 0;
}

/* Optional "supplier": absent or null = decide, else cheap|expensive. */
static int get_supplier(json_t *o, struct cmd_create_batch *c,
			struct http_reply *rep)
{
	json_t *v = json_object_get(o, "supplier");

	c->supplier = SUPPLIER_NONE;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    !supplier_parse(json_string_value(v), &c->supplier)) {
		reply_msg(rep, 400,
			  "field 'supplier' must be null, \"cheap\" or "
			  "\"expensive\"");
		return -1;
	}
	return 0;
}

static int send(struct worker *w, const struct msg *m, struct bus_result *res,
		struct sc_err *err)
{
	err_clear(err);
	return bus_handle(&w->bus, m, res, err);
}

/*
 * The command routes come in two halves, so that a server with a batched
 * writer can park the connection between them (routes.h): prepare parses
 * and validates the body into @cmd (or answers in @out and returns 0);
 * finish turns the command's outcome into the answer.
 */
static int prepare_add_batch(const struct http_req *req,
			     struct http_command *cmd, struct http_reply *out)
{
	static const char *const known[] = {"ref", "sku",      "qty",
					    "eta", "supplier", NULL};
	struct cmd_create_batch *c = &cmd->m.u.create_batch;
	long long qty;
	json_t *o = parse_object(req, out);

	cmd->m.type = MSG_CREATE_BATCH;
	if (!o)
		return 0;
	cmd->owner = o;
	if (check_keys(o, known, out) || get_ident(o, "ref", &c->ref, out) ||
	    get_ident(o, "sku", &c->sku, out) ||
	    get_qty(o, "qty", 0, &qty, out) || get_eta(o, c, out) ||
	    get_supplier(o, c, out))
		return 0;
	c->qty = qty;
	return 1;
}

static void finish_add_batch(struct http_command *cmd, int rc,
			     struct http_reply *out)
{
	if (rc)
		reply_err(out, &cmd->err);
	else
		reply_msg(out, 201, "OK");
}

static int prepare_allocate(const struct http_req *req,
			    struct http_command *cmd, struct http_reply *out)
{
	static const char *const known[] = {"orderid",	 "sku",	     "qty",
					    "backorder", "customer", NULL};
	struct cmd_allocate *c = &cmd->m.u.allocate;
	long long qty;
	json_t *o = parse_object(req, out);

	cmd->m.type = MSG_ALLOCATE;
	c->day = (int32_t)(time(NULL) / 86400);
	if (!o)
		return 0;
	cmd->owner = o;
	if (check_keys(o, known, out) ||
	    get_ident(o, "orderid", &c->orderid, out) ||
	    get_ident(o, "sku", &c->sku, out) ||
	    get_qty(o, "qty", 1, &qty, out) ||
	    get_flag(o, "backorder", &c->backorder, out) ||
	    (json_object_get(o, "customer") &&
	     get_ident(o, "customer", &c->customer, out)))
		return 0;
	c->qty = qty;
	return 1;
}

static void finish_allocate(struct http_command *cmd, int rc,
			    struct http_reply *out)
{
	const char *sku = cmd->m.u.allocate.sku;

	if (rc == SC_ENOTFOUND)
		reply_msg(out, 400, "Invalid sku %s", sku);
	else if (rc)
		reply_err(out, &cmd->err);
	else if (cmd->res.backordered)
		reply_json(out, 202,
			   json_pack("{s:s}", "status", "backordered"));
	else if (!cmd->res.allocated)
		reply_msg(out, 409, "out of stock for sku '%s'", sku);
	else
		reply_json(out, 202,
			   json_pack("{s:s}", "batchref", cmd->res.batchref));
}

static int prepare_change_batch_quantity(const struct http_req *req,
					 struct http_command *cmd,
					 struct http_reply *out)
{
	static const char *const known[] = {"ref", "qty", NULL};
	struct cmd_change_batch_quantity *c = &cmd->m.u.change_batch_quantity;
	long long qty;
	json_t *o = parse_object(req, out);

	cmd->m.type = MSG_CHANGE_BATCH_QUANTITY;
	if (!o)
		return 0;
	cmd->owner = o;
	if (check_keys(o, known, out) || get_ident(o, "ref", &c->ref, out) ||
	    get_qty(o, "qty", 0, &qty, out))
		return 0;
	c->qty = qty;
	return 1;
}

/* POST /change_batch_eta {"ref","eta"}: null or absent: in the warehouse. */
static void post_change_batch_eta(struct worker *w, const struct http_req *req,
				  struct http_reply *out)
{
	static const char *const known[] = {"ref", "eta", NULL};
	struct msg m = {.type = MSG_CHANGE_BATCH_ETA};
	struct cmd_change_batch_eta *c = &m.u.change_batch_eta;
	struct cmd_create_batch when = {0};
	struct sc_err err;
	json_t *o = parse_object(req, out);

	if (!o)
		return;
	if (check_keys(o, known, out) || get_ident(o, "ref", &c->ref, out) ||
	    get_eta(o, &when, out))
		goto out_decref;
	c->has_eta = when.has_eta;
	c->eta = when.eta;
	if (send(w, &m, NULL, &err))
		reply_err(out, &err);
	else
		reply_msg(out, 200, "OK");
out_decref:
	json_decref(o);
}

static void finish_change_batch_quantity(struct http_command *cmd, int rc,
					 struct http_reply *out)
{
	if (rc)
		reply_err(out, &cmd->err);
	else
		reply_msg(out, 200, "OK");
}

/*
 * Segment @i (0-based) of the path from @at on, decoded into @buf (@n
 * bytes) and checked as an id; or reply 400 naming @what and return -1.
 * The router matched the template, so the segment exists.
 */
static int path_segment(const char *at, int i, const char *what, char *buf,
			size_t n, struct http_reply *out)
{
	char raw[SC_ID_MAX * 3 + 1];
	const char *s = at, *end;
	size_t len;

	while (i-- > 0)
		s = strchr(s, '/') + 1;
	end = strchr(s, '/');
	len = end ? (size_t)(end - s) : strlen(s);
	if (len < sizeof(raw)) {
		memcpy(raw, s, len);
		raw[len] = '\0';
	}
	if (len >= sizeof(raw) || routes_percent_decode(raw, buf, n, &len) ||
	    !ident_valid(buf, len)) {
		reply_msg(out, 400,
			  "%s in the path must be 1 to %d bytes of printable "
			  "utf-8, percent-encoded",
			  what, SC_ID_MAX);
		return -1;
	}
	return 0;
}

/*
 * DELETE /allocations/{orderid}[/{sku}]: the ids come from the path and
 * live in a small JSON object, the owner every command's strings have.
 */
static int prepare_deallocate(const struct http_req *req,
			      struct http_command *cmd, struct http_reply *out)
{
	char orderid[SC_ID_MAX + 1], sku[SC_ID_MAX + 1];
	const char *at = req->path + strlen("/allocations/");
	bool one = strchr(at, '/') != NULL;
	json_t *o;

	cmd->m.type = MSG_DEALLOCATE;
	if (path_segment(at, 0, "orderid", orderid, sizeof(orderid), out) ||
	    (one && path_segment(at, 1, "sku", sku, sizeof(sku), out)))
		return 0;
	o = json_pack("{s:s, s:s?}", "orderid", orderid, "sku",
		      one ? sku : NULL);
	if (!o) {
		reply_msg(out, 503, "out of memory");
		return 0;
	}
	cmd->owner = o;
	cmd->m.u.deallocate.orderid =
		json_string_value(json_object_get(o, "orderid"));
	cmd->m.u.deallocate.sku = json_string_value(json_object_get(o, "sku"));
	arena_init(&cmd->arena);
	cmd->res.arena = &cmd->arena;
	return 1;
}

static void finish_deallocate(struct http_command *cmd, int rc,
			      struct http_reply *out)
{
	if (rc)
		reply_err(out, &cmd->err);
	else
		reply_json(out, 200,
			   views_freed_json(cmd->m.u.deallocate.orderid,
					    cmd->res.freed, cmd->res.n_freed));
}

/* The two halves of each command route, by route handler. */
static const struct command_route {
	int (*prepare)(const struct http_req *req, struct http_command *cmd,
		       struct http_reply *out);
	void (*finish)(struct http_command *cmd, int rc,
		       struct http_reply *out);
} command_routes[] = {
	{prepare_add_batch, finish_add_batch},
	{prepare_allocate, finish_allocate},
	{prepare_change_batch_quantity, finish_change_batch_quantity},
	{prepare_deallocate, finish_deallocate},
};

/* Run a command route in place: prepare, send through the bus, finish. */
static void run_command(struct worker *w, const struct http_req *req,
			struct http_reply *out, size_t which)
{
	const struct command_route *cr = &command_routes[which];
	struct http_command cmd;

	memset(&cmd, 0, sizeof(cmd));
	if (cr->prepare(req, &cmd, out))
		cr->finish(&cmd, send(w, &cmd.m, &cmd.res, &cmd.err), out);
	routes_command_release(&cmd);
}

static void post_add_batch(struct worker *w, const struct http_req *req,
			   struct http_reply *out)
{
	run_command(w, req, out, 0);
}

static void post_allocate(struct worker *w, const struct http_req *req,
			  struct http_reply *out)
{
	run_command(w, req, out, 1);
}

static void post_change_batch_quantity(struct worker *w,
				       const struct http_req *req,
				       struct http_reply *out)
{
	run_command(w, req, out, 2);
}

static void delete_allocations(struct worker *w, const struct http_req *req,
			       struct http_reply *out)
{
	run_command(w, req, out, 3);
}

void routes_command_release(struct http_command *cmd)
{
	json_decref(cmd->owner);
	cmd->owner = NULL;
	arena_release(&cmd->arena);
	cmd->res.arena = NULL;
}

void routes_command_finish(struct http_command *cmd, int rc,
			   struct http_reply *out)
{
	command_routes[cmd->which].finish(cmd, rc, out);
}

/* Decode and validate the id in the path after @prefix into @buf. */
static int path_ident(const struct http_req *req, size_t prefix,
		      const char *what, char *buf, size_t n,
		      struct http_reply *out)
{
	return path_segment(req->path + prefix, 0, what, buf, n, out);
}

static void get_allocations(struct worker *w, const struct http_req *req,
			    struct http_reply *out)
{
	char orderid[SC_ID_MAX * 3 + 1];
	struct allocation_row *rows;
	struct sc_err err;
	size_t n;

	if (path_ident(req, strlen("/allocations/"), "orderid", orderid,
		       sizeof(orderid), out))
		return;
	err_clear(&err);
	if (uow_allocations(w->uow, orderid, &w->scratch, &rows, &n, &err)) {
		reply_err(out, &err);
		goto out_reset;
	}
	if (!n) {
		reply_msg(out, 404, "not found");
		goto out_reset;
	}
	reply_json(out, 200, views_allocations_json(rows, n));
out_reset:
	arena_reset(&w->scratch);
}

static void get_product(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	char sku[SC_ID_MAX * 3 + 1];
	struct product *p;
	struct sc_err err;

	if (path_ident(req, strlen("/products/"), "sku", sku, sizeof(sku), out))
		return;
	err_clear(&err);
	if (uow_read_product(w->uow, sku, &w->scratch, &p, &err)) {
		reply_err(out, &err);
		goto out_reset;
	}
	reply_json(out, 200, views_product_json(p));
out_reset:
	arena_reset(&w->scratch);
}

static int parse_limit(const char *s, size_t *out)
{
	size_t v = 0;

	if (!s)
		return 0;
	if (!*s || strlen(s) > 4)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (size_t)(*s - '0');
	}
	if (v < 1 || v > PRODUCTS_PAGE_MAX)
		return -1;
	*out = v;
	return 0;
}

static void get_products(struct worker *w, const struct http_req *req,
			 struct http_reply *out)
{
	char after[SC_ID_MAX * 3 + 1] = "";
	struct sc_err err;
	struct product_list page;
	size_t limit = 100, len;

	if (parse_limit(req->limit, &limit)) {
		reply_msg(out, 400, "limit must be an integer from 1 to %d",
			  PRODUCTS_PAGE_MAX);
		return;
	}
	if (req->after &&
	    (routes_percent_decode(req->after, after, sizeof(after), &len) ||
	     !ident_valid(after, len))) {
		reply_msg(out, 400, "after must be a sku");
		return;
	}
	err_clear(&err);
	if (uow_list_products(w->uow, after, limit, &w->scratch, &page, &err)) {
		reply_err(out, &err);
		goto out_reset;
	}
	reply_json(out, 200, views_products_json(&page, limit));
out_reset:
	arena_reset(&w->scratch);
}

static void get_healthz(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	struct sc_err err;

	(void)req;
	err_clear(&err);
	if (uow_ping(w->uow, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, json_pack("{s:s}", "status", "ok"));
}

/* A way out as /readyz shows it. */
static const char *delivery_word(const char *kind, const char *configured,
				 int state)
{
	if (!kind || strcmp(kind, configured) != 0)
		return "not configured"; /* events go to the log */
	if (state == DELIVERY_OK)
		return "ok";
	return state == DELIVERY_FAILING ? "failing" : "unknown";
}

/*
 * Readiness: the store takes a write now (a write transaction rolled
 * back), with the outbox backlog and the last outcome of each way out.
 * Redis or SMTP failing does not make us unready: the outbox keeps what
 * they miss.  The store's own error text goes to the log only.
 */
static void get_readyz(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	int64_t pending = 0, oldest = 0, now = (int64_t)time(NULL);
	struct sc_err err;
	bool writable;
	int rc;

	(void)req;
	err_clear(&err);
	rc = uow_probe_write(w->uow, &err);
	writable = !rc;
	if (!rc)
		rc = uow_outbox_stats(w->uow, &pending, &oldest, &err);
	if (rc)
		log_msg(LOG_ERROR, "event=not_ready reason=\"%s\"", err.msg);
	reply_json(
		out, rc ? 503 : 200,
		json_pack(
			"{s:s, s:b, s:{s:I, s:I}, s:s, s:s}", "status",
			rc ? "unavailable" : "ready", "store_writable",
			writable, "outbox", "pending", (json_int_t)pending,
			"oldest_age_s",
			(json_int_t)(oldest && now > oldest ? now - oldest : 0),
			"redis",
			delivery_word(
				w->publisher_kind, "redis",
				w->delivery
					? atomic_load(&w->delivery->publisher)
					: 0),
			"smtp",
			delivery_word(
				w->notifier_kind, "smtp",
				w->delivery
					? atomic_load(&w->delivery->notifier)
					: 0)));
}

/* The research of a POST body: CSV, or JSON {"threshold_pct","rows"}. */
static int research_of(const struct http_req *req, struct arena *a,
		       struct cmd_import_research *c, struct http_reply *out)
{
	struct research_row *rows;
	struct sc_err err;
	int64_t bp = SOURCING_THRESHOLD_BP;
	json_t *o = NULL, *t;
	int rc;

	err_clear(&err);
	if (req->content_type && !strncmp(req->content_type, "text/csv", 8)) {
		if (req->threshold &&
		    (!sourcing_parse_fixed(req->threshold, 2, &bp) ||
		     bp > 10000)) {
			reply_msg(out, 400, "threshold must be 0 to 100");
			return -1;
		}
		rc = sourcing_parse_csv(req->body ? req->body : "", req->len, a,
					&rows, &c->n_rows, &err);
	} else {
		static const char *const known[] = {"threshold_pct", "rows",
						    NULL};

		o = parse_object(req, out);
		if (!o)
			return -1;
		if (check_keys(o, known, out)) {
			json_decref(o);
			return -1;
		}
		t = json_object_get(o, "threshold_pct");
		if (t && !json_is_null(t) &&
		    ((bp = sourcing_pct_of(t)) < 0 || bp > 10000)) {
			json_decref(o);
			reply_msg(out, 400,
				  "field 'threshold_pct' must be 0 to 100");
			return -1;
		}
		rc = sourcing_rows_from_json(json_object_get(o, "rows"), a,
					     &rows, &c->n_rows, &err);
	}
	if (rc) {
		reply_err(out, &err);
		json_decref(o);
		return -1;
	}
	c->rows = rows;
	c->threshold_bp = (int32_t)bp;
	c->day = (int32_t)(time(NULL) / 86400);
	/* the rows' strings live in @a; o is kept until the reply is made */
	json_decref(o);
	return 0;
}

/* A round with its scents' formula costs (docs/analytics.md). */
static void reply_round(struct worker *w, const struct research_round *round,
			unsigned status, struct http_reply *out)
{
	json_t *j = sourcing_round_json(round);

	if (aio_sourcing_costs(j, w->uow, &w->scratch)) {
		json_decref(j);
		j = NULL; /* answered 503 */
	}
	reply_json(out, status, j);
}

static void post_research(struct worker *w, const struct http_req *req,
			  struct http_reply *out)
{
	struct msg m = {.type = MSG_IMPORT_RESEARCH};
	struct research_round *round;
	struct bus_result res = {0};
	struct sc_err err;

	if (research_of(req, &w->scratch, &m.u.import_research, out))
		goto out_reset;
	if (send(w, &m, &res, &err)) {
		reply_err(out, &err);
		goto out_reset;
	}
	/* answer with this round, not whatever is latest by now */
	err_clear(&err);
	if (uow_research_round(w->uow, res.round_id, &w->scratch, &round, &err))
		reply_err(out, &err);
	else
		reply_round(w, round, 201, out);
out_reset:
	arena_reset(&w->scratch);
}

static void get_decisions(struct worker *w, const struct http_req *req,
			  struct http_reply *out)
{
	struct research_round *round;
	struct sc_err err;

	(void)req;
	err_clear(&err);
	if (uow_research_round(w->uow, 0, &w->scratch, &round, &err))
		reply_err(out, &err);
	else
		reply_round(w, round, 200, out);
	arena_reset(&w->scratch);
}

static void get_sku_decisions(struct worker *w, const struct http_req *req,
			      struct http_reply *out)
{
	char sku[SC_ID_MAX * 3 + 1];
	struct sku_history h;
	struct sc_err err;

	if (path_ident(req, strlen("/sourcing/decisions/"), "sku", sku,
		       sizeof(sku), out))
		return;
	err_clear(&err);
	if (uow_research_history(w->uow, sku, 100, &w->scratch, &h, &err))
		reply_err(out, &err);
	else if (!h.n)
		reply_msg(out, 404, "no decision for sku '%s'", sku);
	else
		reply_json(out, 200, sourcing_history_json(sku, h.items, h.n));
	arena_reset(&w->scratch);
}

static json_t *scopes_json(unsigned scopes)
{
	json_t *arr = json_array();

	for (unsigned bit = 1; arr && bit <= TOKEN_SCOPE_ADMIN; bit <<= 1)
		if (scopes & bit)
			(void)json_array_append_new(
				arr, json_string(token_scope_name(bit)));
	return arr;
}

/* POST /tokens {"name", "scopes": [...]}: the secret is shown once. */
static void post_token(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	static const char *const known[] = {"name", "scopes", NULL};
	struct msg m = {.type = MSG_CREATE_TOKEN};
	struct cmd_create_token *c = &m.u.create_token;
	uint8_t hash[TOKEN_HASH_LEN];
	char secret[AUTH_SECRET_SIZE];
	struct sc_err err;
	json_t *o = parse_object(req, out), *scopes, *v;
	size_t i;

	if (!o)
		return;
	if (check_keys(o, known, out))
		goto out_decref;
	v = json_object_get(o, "name");
	scopes = json_object_get(o, "scopes");
	c->name = json_is_string(v) ? json_string_value(v) : "";
	json_array_foreach(scopes, i, v)
	{
		unsigned bit = json_is_string(v)
				       ? token_scope_parse(json_string_value(v))
				       : 0;

		if (!bit) {
			reply_msg(out, 400,
				  "field 'scopes' must list read, allocate, "
				  "stock or admin");
			goto out_decref;
		}
		c->scopes |= bit;
	}
	auth_secret_new(secret, hash);
	c->hash = hash;
	c->now = (int64_t)time(NULL);
	if (send(w, &m, NULL, &err)) {
		reply_err(out, &err);
	} else {
		auth_invalidate(req->auth);
		reply_json(out, 201,
			   json_pack("{s:s, s:o, s:s}", "name", c->name,
				     "scopes", scopes_json(c->scopes), "token",
				     secret));
	}
	auth_secret_wipe(secret);
out_decref:
	json_decref(o);
}

/* PUT /products/{sku}/low_stock {"threshold": N}: alert below N. */
static void put_low_stock(struct worker *w, const struct http_req *req,
			  struct http_reply *out)
{
	static const char *const known[] = {"threshold", NULL};
	const char *at = req->path + strlen("/products/");
	struct msg m = {.type = MSG_SET_LOW_STOCK};
	char sku[SC_ID_MAX + 1];
	struct sc_err err;
	long long threshold;
	json_t *o = parse_object(req, out);

	if (!o)
		return;
	if (check_keys(o, known, out) ||
	    path_segment(at, 0, "sku", sku, sizeof(sku), out) ||
	    get_qty(o, "threshold", 0, &threshold, out))
		goto out_decref;
	m.u.set_low_stock.sku = sku;
	m.u.set_low_stock.threshold = threshold;
	if (send(w, &m, NULL, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200,
			   json_pack("{s:s, s:I}", "sku", sku,
				     "low_stock_threshold",
				     (json_int_t)threshold));
out_decref:
	json_decref(o);
}

/* Optional string @name into *@out (NULL when absent); 400 if not one. */
static int get_opt_string(json_t *o, const char *name, const char **out,
			  struct http_reply *rep)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		reply_msg(rep, 400, "field '%s' must be a string or null",
			  name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/*
 * POST /customers: the server makes the webhook's signing secret and
 * shows it here once; the values are checked by the command's handler.
 */
static void post_customer(struct worker *w, const struct http_req *req,
			  struct http_reply *out)
{
	static const char *const known[] = {"id",	   "name",    "email",
					    "webhook_url", "segment", NULL};
	struct msg m = {.type = MSG_CREATE_CUSTOMER};
	struct cmd_create_customer *c = &m.u.create_customer;
	struct customer_record rec = {0};
	uint8_t key[WEBHOOK_SECRET_LEN];
	char shown[AUTH_WHSEC_SIZE];
	struct sc_err err;
	json_t *o = parse_object(req, out), *j;

	if (!o)
		return;
	if (check_keys(o, known, out) || get_ident(o, "id", &c->id, out) ||
	    get_ident(o, "name", &c->name, out) ||
	    get_opt_string(o, "email", &c->email, out) ||
	    get_opt_string(o, "webhook_url", &c->webhook_url, out) ||
	    get_opt_string(o, "segment", &c->segment, out))
		goto out_decref;
	if (c->webhook_url) {
		auth_webhook_secret_new(key, shown);
		c->secret = key;
	}
	c->now = (int64_t)time(NULL);
	if (send(w, &m, NULL, &err)) {
		reply_err(out, &err);
		goto out_wipe;
	}
	rec.id = c->id;
	rec.name = c->name;
	rec.email = c->email;
	rec.webhook_url = c->webhook_url;
	rec.created_at = c->now;
	j = views_customer_json(&rec);
	if (j && c->webhook_url &&
	    json_object_set_new(j, "webhook_secret", json_string(shown)))
		json_decref(j), j = NULL;
	reply_json(out, 201, j);
out_wipe:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(shown, sizeof(shown));
out_decref:
	json_decref(o);
}

static void get_customer(struct worker *w, const struct http_req *req,
			 struct http_reply *out)
{
	char id[SC_ID_MAX * 3 + 1];
	struct customer_record *c;
	struct sc_err err;

	if (path_ident(req, strlen("/customers/"), "customer id", id,
		       sizeof(id), out))
		return;
	err_clear(&err);
	if (uow_customer_get(w->uow, id, &w->scratch, &c, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, views_customer_json(c));
	arena_reset(&w->scratch);
}

/* GET /deliveries?state=&limit=: newest first, for operators. */
static void get_deliveries(struct worker *w, const struct http_req *req,
			   struct http_reply *out)
{
	struct delivery *rows;
	struct sc_err err;
	size_t limit = 100, n;
	int state = req->state ? notice_state_named(req->state) : -1;

	if (req->state && state < 0) {
		reply_msg(out, 400, "state must be pending, delivered or dead");
		return;
	}
	if (parse_limit(req->limit, &limit)) {
		reply_msg(out, 400, "limit must be an integer from 1 to %d",
			  PRODUCTS_PAGE_MAX);
		return;
	}
	err_clear(&err);
	if (uow_delivery_list(w->uow, &(struct delivery_filter){state, limit},
			      &w->scratch, &rows, &n, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, views_deliveries_json(rows, n));
	arena_reset(&w->scratch);
}

/* POST /deliveries/{id}/replay: a dead notice goes out again. */
static void post_replay(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	const char *at = req->path + strlen("/deliveries/");
	struct msg m = {.type = MSG_REPLAY_DELIVERY};
	struct timespec ts;
	struct sc_err err;
	char *end;
	long long id = strtoll(at, &end, 10);

	if (end == at || *end != '/' || *at < '1' || *at > '9') {
		reply_msg(out, 400, "a delivery id is a positive integer");
		return;
	}
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	m.u.replay_delivery.id = id;
	m.u.replay_delivery.now =
		(int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (send(w, &m, NULL, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200,
			   json_pack("{s:I, s:s}", "id", (json_int_t)id,
				     "state", "pending"));
}

static void get_tokens(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	struct token_record *rows;
	struct sc_err err;
	size_t n;
	json_t *arr;

	(void)req;
	err_clear(&err);
	if (uow_token_list(w->uow, &w->scratch, &rows, &n, &err)) {
		reply_err(out, &err);
		goto out_reset;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		(void)json_array_append_new(
			arr,
			json_pack("{s:s, s:o, s:I, s:o}", "name", rows[i].name,
				  "scopes", scopes_json(rows[i].scopes),
				  "created_at", (json_int_t)rows[i].created_at,
				  "revoked_at",
				  rows[i].revoked_at
					  ? json_integer(rows[i].revoked_at)
					  : json_null()));
	reply_json(out, 200, arr);
out_reset:
	arena_reset(&w->scratch);
}

static void delete_token(struct worker *w, const struct http_req *req,
			 struct http_reply *out)
{
	char name[SC_ID_MAX * 3 + 1];
	struct msg m = {.type = MSG_REVOKE_TOKEN};
	struct sc_err err;

	if (path_ident(req, strlen("/tokens/"), "token name", name,
		       sizeof(name), out))
		return;
	m.u.revoke_token.name = name;
	m.u.revoke_token.now = (int64_t)time(NULL);
	if (send(w, &m, NULL, &err))
		reply_err(out, &err);
	else {
		auth_invalidate(req->auth);
		reply_json(out, 200,
			   json_pack("{s:s, s:b}", "name", name, "revoked", 1));
	}
}

/*
 * GET /openapi.json: the API description, embedded at build time from
 * api/openapi.json.  Public, like /healthz: it describes, it holds no
 * data, and clients need it before they have a token.
 */
static void get_openapi(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	(void)w;
	(void)req;
	out->status = 200;
	out->body = mem_alloc(openapi_json_len + 1);
	if (!out->body) {
		out->status = 503;
		return;
	}
	memcpy(out->body, openapi_json, openapi_json_len + 1);
}

/* A counter or gauge family with one unlabelled sample. */
static void family(struct text *t, const char *name, const char *type,
		   const char *help, double value)
{
	text_printf(t, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help,
		    name, type, name, value);
}

/* What the connection guard did: slow clients cut, idlers evicted. */
static void render_connections(struct guard *g, struct text *t)
{
	struct guard_stats st;

	guard_get_stats(g, &st);
	family(t, "scents_http_connections_open", "gauge",
	       "Client connections open.", (double)st.open);
	family(t, "scents_http_connections_evicted_total", "counter",
	       "Idle connections closed to make room for a newcomer.",
	       (double)st.evicted);
	family(t, "scents_http_connections_refused_total", "counter",
	       "Newcomers closed: the server or their address was full of "
	       "busy connections.",
	       (double)st.refused);
	family(t, "scents_http_connections_timed_out_total", "counter",
	       "Connections cut for a request head or body not sent in time.",
	       (double)st.timed_out);
}

/* What the store, the buses and the relays count. */
static int render_store(struct worker *w, struct text *t, struct sc_err *err)
{
	int64_t pending = 0, oldest = 0, now = (int64_t)time(NULL);
	struct store_stats st;
	int rc = uow_stats(w->uow, &st, err);

	if (!rc)
		rc = uow_outbox_stats(w->uow, &pending, &oldest, err);
	if (rc)
		return rc;
	family(t, "scents_store_commits_total", "counter",
	       "Write transactions committed by this process.",
	       (double)st.commits);
	family(t, "scents_store_syncs_total", "counter",
	       "fsyncs that made them durable; commits/syncs is the group "
	       "commit batch size.",
	       (double)st.syncs);
	family(t, "scents_store_sync_seconds_total", "counter",
	       "Time spent in those fsyncs.", st.sync_seconds);
	if (st.size_bytes >= 0)
		family(t, "scents_database_size_bytes", "gauge",
		       "Database file and journal on disk.",
		       (double)st.size_bytes);
	family(t, "scents_outbox_pending", "gauge",
	       "Events committed and not yet delivered.", (double)pending);
	family(t, "scents_outbox_oldest_age_seconds", "gauge",
	       "Age of the oldest undelivered event (0: none).",
	       oldest && now > oldest ? (double)(now - oldest) : 0);
	return SC_OK;
}

static void render_bus_and_delivery(struct worker *w, struct text *t)
{
	const struct delivery_status *d = w->delivery;

	if (w->bus_metrics) {
		family(t, "scents_bus_retries_total", "counter",
		       "Commands retried after losing a version race.",
		       (double)atomic_load(&w->bus_metrics->retries));
		family(t, "scents_bus_conflicts_total", "counter",
		       "Commands still losing after every retry (503).",
		       (double)atomic_load(&w->bus_metrics->conflicts));
	}
	if (w->writer) { /* commands / batches = the average batch */
		family(t, "scents_writer_batches_total", "counter",
		       "Transactions of the batched writer.",
		       (double)atomic_load(&w->writer->batches));
		family(t, "scents_writer_commands_total", "counter",
		       "Commands run in those transactions.",
		       (double)atomic_load(&w->writer->commands));
		family(t, "scents_writer_inline_total", "counter",
		       "Commands an idle writer let their request's thread "
		       "run.",
		       (double)atomic_load(&w->writer->inlined));
		text_printf(
			t,
			"# HELP scents_writer_seconds_total Time batched "
			"commands spent in each stage, summed over commands "
			"(over scents_writer_commands_total: the mean).\n"
			"# TYPE scents_writer_seconds_total counter\n"
			"scents_writer_seconds_total{stage=\"queued\"} %.6f\n"
			"scents_writer_seconds_total{stage=\"running\"} %.6f\n"
			"scents_writer_seconds_total{stage=\"syncing\"} "
			"%.6f\n",
			(double)atomic_load(&w->writer->queued_total_us) / 1e6,
			(double)atomic_load(&w->writer->running_total_us) / 1e6,
			(double)atomic_load(&w->writer->syncing_total_us) /
				1e6);
	}
	if (!d)
		return;
	text_printf(
		t,
		"# HELP scents_deliveries_total Events delivered by channel.\n"
		"# TYPE scents_deliveries_total counter\n"
		"scents_deliveries_total{channel=\"line_allocated\"} %llu\n"
		"scents_deliveries_total{channel=\"email\"} %llu\n"
		"# HELP scents_delivery_failures_total Failed delivery "
		"attempts by channel (retried).\n"
		"# TYPE scents_delivery_failures_total counter\n"
		"scents_delivery_failures_total{channel=\"line_allocated\"} "
		"%llu\n"
		"scents_delivery_failures_total{channel=\"email\"} %llu\n",
		(unsigned long long)atomic_load(&d->published),
		(unsigned long long)atomic_load(&d->notified),
		(unsigned long long)atomic_load(&d->publish_failures),
		(unsigned long long)atomic_load(&d->notify_failures));
	text_printf(t,
		    "# HELP scents_customer_notices_total Notices to "
		    "customers by outcome (failed attempts are retried; "
		    "dead ones wait for a replay).\n"
		    "# TYPE scents_customer_notices_total counter\n"
		    "scents_customer_notices_total{outcome=\"delivered\"} "
		    "%llu\n"
		    "scents_customer_notices_total{outcome=\"failed\"} %llu\n"
		    "scents_customer_notices_total{outcome=\"dead\"} %llu\n",
		    (unsigned long long)atomic_load(&d->notices_delivered),
		    (unsigned long long)atomic_load(&d->notices_failed),
		    (unsigned long long)atomic_load(&d->notices_dead));
}

/*
 * GET /metrics, in Prometheus's text format.  It needs the read scope
 * once tokens exist: request volumes per route are business figures.
 */
static void get_metrics(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	const char *labels[HTTP_METRICS_OTHER];
	struct text t = {0};
	struct sc_err err;
	size_t n = routes_count();

	for (size_t i = 0; i < n && i < HTTP_METRICS_OTHER; i++) {
		const char *method;

		routes_get(i, &method, &labels[i]);
	}
	if (req->metrics)
		http_metrics_render(req->metrics, labels, n, &t);
	if (req->guard)
		render_connections(req->guard, &t);
	render_bus_and_delivery(w, &t);
	err_clear(&err);
	if (render_store(w, &t, &err)) {
		mem_free(t.s);
		reply_err(out, &err);
		return;
	}
	if (t.oom || !t.s) {
		mem_free(t.s);
		reply_msg(out, 503, "out of memory");
		return;
	}
	out->status = 200;
	out->body = t.s;
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

typedef void route_fn(struct worker *w, const struct http_req *req,
		      struct http_reply *out);

/* What a route's request body must be. */
enum body_kind {
	BODY_NONE,	  /* none expected; Content-Type not checked */
	BODY_JSON,	  /* application/json */
	BODY_JSON_OR_CSV, /* application/json or text/csv */
	BODY_FORM	  /* an HTML form: the dashboard's sign-in only */
};

/* ---- formulas, surveys, demand and plans (issue 15) ------------------ */

/*
 * Query argument @name of @req (raw, still percent-encoded), copied into
 * @buf; NULL when absent.  Values here are numbers, dates and names, so
 * a '%' is refused rather than decoded.
 */
static const char *query_arg(const struct http_req *req, const char *name,
			     char *buf, size_t size)
{
	size_t n = strlen(name);

	for (const char *p = req->query; p && *p;) {
		size_t len = strcspn(p, "&");

		if (len > n && !strncmp(p, name, n) && p[n] == '=') {
			len -= n + 1;
			if (len >= size || memchr(p + n + 1, '%', len))
				return "";
			memcpy(buf, p + n + 1, len);
			buf[len] = '\0';
			return buf;
		}
		p += len + (p[len] == '&');
	}
	return NULL;
}

/* An integer query argument: its name, range and default. */
struct int_arg {
	const char *name; /* as in the query */
	long long min;	  /* smallest accepted */
	long long max;	  /* largest accepted */
	long long def;	  /* when absent */
};

/* Integer query argument @arg into *@out; -1 after replying 400. */
static int query_int(const struct http_req *req, const struct int_arg *arg,
		     long long *out, struct http_reply *rep)
{
	char buf[24];
	const char *v = query_arg(req, arg->name, buf, sizeof(buf));
	char *end;

	*out = arg->def;
	if (!v)
		return 0;
	*out = strtoll(v, &end, 10);
	if (!*v || *end || *out < arg->min || *out > arg->max) {
		reply_msg(rep, 400, "%s must be an integer from %lld to %lld",
			  arg->name, arg->min, arg->max);
		return -1;
	}
	return 0;
}

/* Who did it, for logs of changes: the token's name. */
static const char *actor_of(const struct http_req *req)
{
	return req->who && req->who[0] ? req->who : "http";
}

/* The body's CSV (text/csv) or JSON; o set for JSON, else NULL. */
static bool is_csv(const struct http_req *req)
{
	return req->content_type &&
	       !strncasecmp(req->content_type, "text/csv", 8);
}

/* Parse a JSON body of any type, or reply 400 and return NULL. */
static json_t *parse_any(const struct http_req *req, struct http_reply *out)
{
	json_error_t jerr;
	json_t *j = json_loadb(req->body ? req->body : "", req->len,
			       JSON_REJECT_DUPLICATES, &jerr);

	if (!j)
		reply_msg(out, 400, "body is not valid JSON: %s", jerr.text);
	return j;
}

/*
 * Reply 200 with CSV written by @write(f, @arg, @n) (text/csv); the body
 * is built in memory (open_memstream) and copied to our allocator.
 */
static void reply_csv(struct http_reply *out,
		      void (*write)(FILE *, const void *, size_t),
		      const void *arg, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		reply_msg(out, 503, "out of memory");
		return;
	}
	write(f, arg, n);
	if (fclose(f) || !buf || !(out->body = mem_strdup(buf))) {
		free(buf);
		reply_msg(out, 503, "out of memory");
		return;
	}
	free(buf);
	out->status = 200;
	out->content_type = "text/csv; charset=utf-8";
}

static void write_formula(FILE *f, const void *fm, size_t n)
{
	(void)n;
	aio_formula_csv_write(f, fm);
}

static void write_ingredients(FILE *f, const void *in, size_t n)
{
	aio_ingredients_csv_write(f, in, n);
}

/* ?format=csv, ?format=json or none (JSON); -1 after replying 400. */
static int wants_csv(const struct http_req *req, bool *csv,
		     struct http_reply *out)
{
	char buf[8];
	const char *v = query_arg(req, "format", buf, sizeof(buf));

	*csv = v && !strcmp(v, "csv");
	if (v && !*csv && strcmp(v, "json") != 0) {
		reply_msg(out, 400, "format is json or csv");
		return -1;
	}
	return 0;
}

/* Reply with formula @version of @sku, costed, at @status. */
static void reply_formula(struct worker *w, const char *sku, int32_t version,
			  unsigned status, struct http_reply *out)
{
	struct formula_view fv;
	struct sc_err err;

	err_clear(&err);
	if (report_formula(w->uow, &(struct formula_ask){sku, version, NULL},
			   &w->scratch, &fv, &err))
		reply_err(out, &err);
	else
		reply_json(out, status, aio_formula_out(&fv));
}

static void put_ingredients(struct worker *w, const struct http_req *req,
			    struct http_reply *out)
{
	struct msg m = {.type = MSG_PUT_INGREDIENTS};
	struct ingredient *in = NULL, *all;
	struct sc_err err;
	json_t *j = NULL;
	size_t n = 0;
	int rc;

	err_clear(&err);
	if (is_csv(req))
		rc = aio_ingredients_csv(
			&(struct csv_text){req->body, req->len, 1}, &w->scratch,
			&in, &n, &err);
	else if ((j = parse_any(req, out)))
		rc = aio_ingredients_json(j, &w->scratch, &in, &n, &err);
	else
		goto out_reset;
	m.u.put_ingredients = (struct cmd_put_ingredients){in, n};
	if (!rc)
		rc = send(w, &m, NULL, &err);
	if (!rc)
		rc = uow_ingredients(w->uow, &w->scratch, &all, &n, &err);
	if (rc)
		reply_err(out, &err);
	else
		reply_json(out, 200, aio_ingredients_out(all, n));
	json_decref(j);
out_reset:
	arena_reset(&w->scratch);
}

static void get_ingredients(struct worker *w, const struct http_req *req,
			    struct http_reply *out)
{
	struct ingredient *in;
	struct sc_err err;
	bool csv;
	size_t n;

	if (wants_csv(req, &csv, out))
		return;
	err_clear(&err);
	if (uow_ingredients(w->uow, &w->scratch, &in, &n, &err))
		reply_err(out, &err);
	else if (csv)
		reply_csv(out, write_ingredients, in, n);
	else
		reply_json(out, 200, aio_ingredients_out(in, n));
	arena_reset(&w->scratch);
}

static void post_formula(struct worker *w, const struct http_req *req,
			 struct http_reply *out)
{
	char sku[SC_ID_MAX * 3 + 1];
	struct msg m = {.type = MSG_ADD_FORMULA};
	struct bus_result res = {0};
	struct formula *f = NULL;
	struct sc_err err;
	json_t *j = NULL;
	int rc;

	if (path_ident(req, strlen("/formulas/"), "sku", sku, sizeof(sku), out))
		return;
	err_clear(&err);
	if (is_csv(req))
		rc = aio_formula_csv(&(struct csv_text){req->body, req->len, 1},
				     sku, &w->scratch, &f, &err);
	else if ((j = parse_object(req, out)))
		rc = aio_formula_json(j, sku, &w->scratch, &f, &err);
	else
		goto out_reset;
	m.u.add_formula =
		(struct cmd_add_formula){f, actor_of(req), (int64_t)time(NULL)};
	if (!rc)
		rc = send(w, &m, &res, &err);
	if (rc)
		reply_err(out, &err);
	else
		reply_formula(w, sku, res.version, 201, out);
	json_decref(j);
out_reset:
	arena_reset(&w->scratch);
}

static void get_formula(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	char sku[SC_ID_MAX * 3 + 1];
	struct formula *f;
	long long version;
	struct sc_err err;
	bool csv;

	if (path_ident(req, strlen("/formulas/"), "sku", sku, sizeof(sku),
		       out) ||
	    query_int(req, &(struct int_arg){"version", 1, INT32_MAX, 0},
		      &version, out) ||
	    wants_csv(req, &csv, out))
		return;
	err_clear(&err);
	if (!csv)
		reply_formula(w, sku, (int32_t)version, 200, out);
	else if (uow_formula_get(w->uow, sku, (int32_t)version, &w->scratch, &f,
				 &err))
		reply_err(out, &err);
	else
		reply_csv(out, write_formula, f, 0);
	arena_reset(&w->scratch);
}

static void get_formula_log(struct worker *w, const struct http_req *req,
			    struct http_reply *out)
{
	char sku[SC_ID_MAX * 3 + 1];
	struct formula_change *c;
	struct sc_err err;
	size_t n;

	if (path_ident(req, strlen("/formulas/"), "sku", sku, sizeof(sku), out))
		return;
	err_clear(&err);
	if (uow_formula_log(w->uow, sku, &w->scratch, &c, &n, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, aio_log_out(c, n));
	arena_reset(&w->scratch);
}

/* POST /formulas/{sku}/activate {"version": N} or {"revert": true}. */
static void post_activate(struct worker *w, const struct http_req *req,
			  struct http_reply *out)
{
	static const char *const known[] = {"version", "revert", "reason",
					    NULL};
	char sku[SC_ID_MAX * 3 + 1];
	struct msg m = {.type = MSG_ACTIVATE_FORMULA};
	struct cmd_activate_formula *c = &m.u.activate_formula;
	struct bus_result res = {0};
	long long version = 0;
	struct sc_err err;
	bool revert;
	json_t *o;

	if (path_ident(req, strlen("/formulas/"), "sku", sku, sizeof(sku), out))
		return;
	o = parse_object(req, out);
	if (!o)
		return;
	if (check_keys(o, known, out) || get_flag(o, "revert", &revert, out) ||
	    (!revert && get_qty(o, "version", 1, &version, out)) ||
	    get_opt_string(o, "reason", &c->reason, out))
		goto out_decref;
	if (revert && json_object_get(o, "version")) {
		reply_msg(out, 400, "give a version or revert, not both");
		goto out_decref;
	}
	c->sku = sku;
	c->version = (int32_t)(version > INT32_MAX ? -1 : version);
	c->actor = actor_of(req);
	c->now = (int64_t)time(NULL);
	if (send(w, &m, &res, &err))
		reply_err(out, &err);
	else
		reply_formula(w, sku, res.version, 200, out);
out_decref:
	json_decref(o);
	arena_reset(&w->scratch);
}

/* GET /formulas/{sku}/bom?units=N&ml=M[&version=V]. */
static void get_bom(struct worker *w, const struct http_req *req,
		    struct http_reply *out)
{
	char sku[SC_ID_MAX * 3 + 1];
	long long units, ml, version;
	struct bom_run run;
	struct formula *f;
	struct bom bom;
	struct sc_err err;

	if (path_ident(req, strlen("/formulas/"), "sku", sku, sizeof(sku),
		       out) ||
	    query_int(req, &(struct int_arg){"units", 1, SC_QTY_MAX, 1}, &units,
		      out) ||
	    query_int(req, &(struct int_arg){"ml", 0, FORMULA_UNIT_ML_MAX, 0},
		      &ml, out) ||
	    query_int(req, &(struct int_arg){"version", 1, INT32_MAX, 0},
		      &version, out))
		return;
	run = (struct bom_run){units, (int32_t)ml};
	err_clear(&err);
	if (uow_formula_get(w->uow, sku, (int32_t)version, &w->scratch, &f,
			    &err) ||
	    formula_bom(f, &run, &w->scratch, &bom, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, aio_bom_out(f, &run, &bom));
	arena_reset(&w->scratch);
}

/* Reply with survey @id's report (responses of ?segment= only). */
static void reply_survey(struct worker *w, const struct http_req *req,
			 int64_t id, unsigned status, struct http_reply *out)
{
	char seg[SEGMENT_MAX + 2];
	const char *segment = query_arg(req, "segment", seg, sizeof(seg));
	struct survey_report r;
	struct sc_err err;

	if (segment && !segment_valid(segment)) {
		reply_msg(out, 400, "segment must be 1 to %d of a-z 0-9 - _",
			  SEGMENT_MAX);
		return;
	}
	err_clear(&err);
	if (report_survey(w->uow, id, segment, &w->scratch, &r, &err))
		reply_err(out, &err);
	else
		reply_json(out, status, aio_survey_out(&r, segment));
}

/* The survey id of a /surveys/{id}... path; -1 after replying 400. */
static int64_t survey_id_of(const struct http_req *req, struct http_reply *out)
{
	char id[24];
	char *end;
	long long v;

	if (path_ident(req, strlen("/surveys/"), "survey id", id, sizeof(id),
		       out))
		return -1;
	v = strtoll(id, &end, 10);
	if (*end || v < 1) {
		reply_msg(out, 400, "a survey id is a positive integer");
		return -1;
	}
	return v;
}

/* POST /surveys {"sku","name","variants":[{"label","version"}]}. */
static void post_survey(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	static const char *const known[] = {"sku", "name", "variants", NULL};
	struct msg m = {.type = MSG_CREATE_SURVEY};
	struct cmd_create_survey *c = &m.u.create_survey;
	const char *labels[SURVEY_VARIANTS_MAX];
	int32_t versions[SURVEY_VARIANTS_MAX];
	struct bus_result res = {0};
	struct sc_err err;
	json_t *o = parse_object(req, out), *vs;

	if (!o)
		return;
	vs = json_object_get(o, "variants");
	if (check_keys(o, known, out) || get_ident(o, "sku", &c->sku, out) ||
	    get_opt_string(o, "name", &c->name, out))
		goto out_decref;
	if (!json_is_array(vs)) {
		reply_msg(out, 400,
			  "field 'variants' must be an array of {\"label\", "
			  "\"version\"}");
		goto out_decref;
	}
	c->n = json_array_size(vs);
	for (size_t i = 0; i < c->n && i < SURVEY_VARIANTS_MAX; i++) {
		json_t *v = json_array_get(vs, i);
		long long version;

		if (!json_is_object(v) ||
		    get_ident(v, "label", &labels[i], out) ||
		    get_qty(v, "version", 1, &version, out))
			goto out_decref;
		versions[i] = (int32_t)(version > INT32_MAX ? 0 : version);
	}
	c->labels = labels;
	c->versions = versions;
	c->now = (int64_t)time(NULL);
	if (send(w, &m, &res, &err))
		reply_err(out, &err);
	else
		reply_survey(w, req, res.survey_id, 201, out);
out_decref:
	json_decref(o);
	arena_reset(&w->scratch);
}

static void get_survey(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	int64_t id = survey_id_of(req, out);

	if (id > 0)
		reply_survey(w, req, id, 200, out);
	arena_reset(&w->scratch);
}

/* POST /surveys/{id}/responses: a JSON array or CSV, all or nothing. */
static void post_responses(struct worker *w, const struct http_req *req,
			   struct http_reply *out)
{
	struct msg m = {.type = MSG_ADD_RESPONSES};
	struct cmd_add_responses *c = &m.u.add_responses;
	struct survey_response *r = NULL;
	int64_t id = survey_id_of(req, out);
	struct sc_err err;
	json_t *j = NULL;
	size_t n = 0;
	int rc;

	if (id < 0)
		return;
	err_clear(&err);
	if (is_csv(req))
		rc = aio_responses_csv(
			&(struct csv_text){req->body, req->len, 1}, &w->scratch,
			&r, &n, &err);
	else if ((j = parse_any(req, out)))
		rc = aio_responses_json(j, &w->scratch, &r, &n, &err);
	else
		goto out_reset;
	*c = (struct cmd_add_responses){id, r, n, is_csv(req) ? 2 : 0, false};
	if (!rc)
		rc = send(w, &m, NULL, &err);
	if (rc)
		reply_err(out, &err);
	else
		reply_survey(w, req, id, 200, out);
	json_decref(j);
out_reset:
	arena_reset(&w->scratch);
}

/* POST /surveys/{id}/promote {"reason"}: the winner becomes active. */
static void post_promote(struct worker *w, const struct http_req *req,
			 struct http_reply *out)
{
	static const char *const known[] = {"reason", NULL};
	struct msg m = {.type = MSG_PROMOTE_WINNER};
	struct cmd_promote_winner *c = &m.u.promote_winner;
	struct bus_result res = {0};
	struct survey_report r;
	int64_t id = survey_id_of(req, out);
	struct sc_err err;
	json_t *o;

	if (id < 0)
		return;
	o = req->len ? parse_object(req, out) : json_object();
	if (!o)
		return;
	if (check_keys(o, known, out) ||
	    get_opt_string(o, "reason", &c->reason, out))
		goto out_decref;
	c->survey = id;
	c->actor = actor_of(req);
	c->now = (int64_t)time(NULL);
	err_clear(&err);
	if (send(w, &m, &res, &err) ||
	    report_survey(w->uow, id, NULL, &w->scratch, &r, &err))
		reply_err(out, &err);
	else
		reply_formula(w, r.s->sku, res.version, 200, out);
out_decref:
	json_decref(o);
	arena_reset(&w->scratch);
}

/* POST /demand (CSV): past demand from another system. */
static void post_demand(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	struct msg m = {.type = MSG_IMPORT_DEMAND};
	struct demand_entry *e = NULL;
	struct sc_err err;
	size_t n = 0;

	if (!is_csv(req)) { /* the route takes CSV only (docs/api.md) */
		reply_msg(out, 415, "Content-Type must be text/csv");
		return;
	}
	err_clear(&err);
	if (aio_demand_csv(&(struct csv_text){req->body, req->len, 1},
			   &w->scratch, &e, &n, &err)) {
		reply_err(out, &err);
		goto out_reset;
	}
	m.u.import_demand = (struct cmd_import_demand){e, n, 2, false};
	if (send(w, &m, NULL, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200,
			   json_pack("{s:I}", "imported", (json_int_t)n));
out_reset:
	arena_reset(&w->scratch);
}

/* A date query argument, default @def; -1 after replying 400. */
static int query_date(const struct http_req *req, const char *name, int32_t def,
		      int32_t *out, struct http_reply *rep)
{
	char buf[DATE_STR_MAX + 1];
	const char *v = query_arg(req, name, buf, sizeof(buf));

	*out = def;
	if (v && !date_parse(v, out)) {
		reply_msg(rep, 400, "%s must be a date YYYY-MM-DD", name);
		return -1;
	}
	return 0;
}

/* GET /demand?from=&to=&period=day|week&by=segment&sku=. */
static void get_demand(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	int32_t today = (int32_t)(time(NULL) / 86400);
	struct demand_query q = {0, 0, 7, false, NULL};
	char period[8], by[16], sku[SC_ID_MAX + 1];
	const char *p = query_arg(req, "period", period, sizeof(period));
	const char *b = query_arg(req, "by", by, sizeof(by));
	struct demand_report r;
	struct sc_err err;

	if (query_date(req, "from", today - 90, &q.from_day, out) ||
	    query_date(req, "to", today, &q.to_day, out))
		return;
	if ((p && strcmp(p, "day") != 0 && strcmp(p, "week") != 0) ||
	    (b && strcmp(b, "segment") != 0)) {
		reply_msg(out, 400, "period is day or week; by is segment");
		return;
	}
	if (q.to_day < q.from_day || q.to_day - q.from_day > 3660) {
		reply_msg(out, 400,
			  "from must be before to, at most ten "
			  "years apart");
		return;
	}
	q.bucket = p && !strcmp(p, "day") ? 1 : 7;
	q.by_segment = b != NULL;
	q.sku = query_arg(req, "sku", sku, sizeof(sku));
	err_clear(&err);
	if (report_demand(w->uow, &q, &w->scratch, &r, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, aio_demand_out(&r));
	arena_reset(&w->scratch);
}

/* GET /plan?weeks=&history=&min_batch=&lead_days=: what to make next. */
static void get_plan(struct worker *w, const struct http_req *req,
		     struct http_reply *out)
{
	struct plan_params pp = {
		(int32_t)(time(NULL) / 86400), 4, 12, 1, 14, 1.645};
	long long weeks, history, min_batch, lead;
	struct plan_line *l;
	struct sc_err err;
	size_t n;

	if (query_date(req, "as_of", pp.today, &pp.today, out) ||
	    query_int(req, &(struct int_arg){"weeks", 1, PLAN_WEEKS_MAX, 4},
		      &weeks, out) ||
	    query_int(req,
		      &(struct int_arg){"history", 2, PLAN_HISTORY_MAX, 12},
		      &history, out) ||
	    query_int(req, &(struct int_arg){"min_batch", 1, SC_QTY_MAX, 1},
		      &min_batch, out) ||
	    query_int(req, &(struct int_arg){"lead_days", 0, 365, 14}, &lead,
		      out))
		return;
	pp.weeks = (int32_t)weeks;
	pp.history = (int32_t)history;
	pp.min_batch = min_batch;
	pp.lead_days = (int32_t)lead;
	err_clear(&err);
	if (report_plan(w->uow, &pp, &w->scratch, &l, &n, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, aio_plan_out(&pp, l, n));
	arena_reset(&w->scratch);
}

/* ---- cinema cue tracks (issue 16) ------------------------------------- */

/*
 * A stored track's answer: its summary (doses per scent, from its JSON
 * parsed again), its id and import time, and the track itself.
 */
static json_t *track_json(const struct track_record *rec, struct arena *a,
			  struct sc_err *err)
{
	json_t *track = json_loads(rec->body, JSON_REJECT_DUPLICATES, NULL), *j;
	struct scent_dose *d;
	struct cue_track *t;

	if (!track) {
		(void)err_set(err, SC_EIO, "stored track %lld is not JSON",
			      (long long)rec->id);
		return NULL;
	}
	if (cue_track_from_json(track, a, &t, err) ||
	    cue_track_doses(t, a, &d, err)) {
		json_decref(track);
		return NULL;
	}
	j = cue_summary_json(t, d);
	if (!j || json_object_set_new(j, "id", json_integer(rec->id)) ||
	    json_object_set_new(j, "created_at",
				json_integer(rec->created_at)) ||
	    json_object_set(j, "track", track)) {
		json_decref(j);
		j = NULL;
		(void)err_set(err, SC_ENOMEM, "out of memory");
	}
	json_decref(track);
	return j;
}

/* POST /tracks: a cue track, checked by its rules and stored. */
static void post_track(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	struct msg m = {.type = MSG_IMPORT_TRACK};
	struct bus_result res = {0};
	struct track_record *rec;
	struct cue_track *t;
	struct sc_err err;
	json_t *o = parse_object(req, out), *j = NULL;
	char *body;

	if (!o)
		return;
	err_clear(&err);
	body = arena_strndup(&w->scratch, req->body, req->len);
	if (!body || cue_track_from_json(o, &w->scratch, &t, &err)) {
		if (!body)
			(void)err_set(&err, SC_ENOMEM, "out of memory");
		reply_err(out, &err);
		goto out_decref;
	}
	m.u.import_track =
		(struct cmd_import_track){t, body, (int64_t)time(NULL)};
	if (send(w, &m, &res, &err) ||
	    uow_track_get(w->uow, res.track_id, &w->scratch, &rec, &err) ||
	    !(j = track_json(rec, &w->scratch, &err)))
		reply_err(out, &err);
	else
		reply_json(out, 201, j);
out_decref:
	json_decref(o);
	arena_reset(&w->scratch);
}

static void get_tracks(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	struct track_record *t;
	struct sc_err err;
	json_t *arr;
	size_t n;

	(void)req;
	err_clear(&err);
	if (uow_track_list(w->uow, &w->scratch, &t, &n, &err)) {
		reply_err(out, &err);
		goto out_reset;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(
			    arr,
			    json_pack("{s:I,s:s,s:s?,s:I,s:I}", "id",
				      (json_int_t)t[i].id, "title", t[i].title,
				      "content_hash", t[i].content_hash, "cues",
				      (json_int_t)t[i].cues, "created_at",
				      (json_int_t)t[i].created_at))) {
			json_decref(arr);
			arr = NULL;
		}
	reply_json(out, 200, arr);
out_reset:
	arena_reset(&w->scratch);
}

static void get_track(struct worker *w, const struct http_req *req,
		      struct http_reply *out)
{
	char id[24];
	struct track_record *rec;
	struct sc_err err;
	char *end;
	long long v;
	json_t *j;

	if (path_ident(req, strlen("/tracks/"), "track id", id, sizeof(id),
		       out))
		return;
	v = strtoll(id, &end, 10);
	if (*end || v < 1) {
		reply_msg(out, 400, "a track id is a positive integer");
		return;
	}
	err_clear(&err);
	if (uow_track_get(w->uow, v, &w->scratch, &rec, &err) ||
	    !(j = track_json(rec, &w->scratch, &err)))
		reply_err(out, &err);
	else
		reply_json(out, 200, j);
	arena_reset(&w->scratch);
}

/* ---- venues, shows, refills and VR dispensing (issue 16) -------------- */

/* The positive integer path segment after @prefix; -1 after a 400. */
static int64_t path_id(const struct http_req *req, size_t prefix,
		       const char *what, struct http_reply *out)
{
	char id[24];
	char *end;
	long long v;

	if (path_ident(req, prefix, what, id, sizeof(id), out))
		return -1;
	v = strtoll(id, &end, 10);
	if (*end || v < 1) {
		reply_msg(out, 400, "a %s is a positive integer", what);
		return -1;
	}
	return v;
}

/* POST /venues: a scents-venue/1 document, checked and stored. */
static void post_venue(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	struct msg m = {.type = MSG_IMPORT_VENUE};
	struct bus_result res = {0};
	struct venue_record *rec;
	struct venue *v;
	struct sc_err err;
	json_t *o = parse_object(req, out);
	char *body;

	if (!o)
		return;
	err_clear(&err);
	body = arena_strndup(&w->scratch, req->body, req->len);
	if (!body || venue_from_json(o, &w->scratch, &v, &err)) {
		if (!body)
			(void)err_set(&err, SC_ENOMEM, "out of memory");
		reply_err(out, &err);
		goto out_decref;
	}
	m.u.import_venue =
		(struct cmd_import_venue){v, body, (int64_t)time(NULL)};
	if (send(w, &m, &res, &err) ||
	    uow_venue_get(w->uow, res.venue_id, &w->scratch, &rec, &err))
		reply_err(out, &err);
	else
		reply_json(out, 201, venue_record_json(rec));
out_decref:
	json_decref(o);
	arena_reset(&w->scratch);
}

static void get_venues(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	struct venue_record *v;
	struct sc_err err;
	json_t *arr;
	size_t n;

	(void)req;
	err_clear(&err);
	if (uow_venue_list(w->uow, &w->scratch, &v, &n, &err)) {
		reply_err(out, &err);
		goto out_reset;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(arr, venue_summary_json(&v[i]))) {
			json_decref(arr);
			arr = NULL;
		}
	reply_json(out, 200, arr);
out_reset:
	arena_reset(&w->scratch);
}

static void get_venue(struct worker *w, const struct http_req *req,
		      struct http_reply *out)
{
	int64_t id = path_id(req, strlen("/venues/"), "venue id", out);
	struct venue_record *rec;
	struct sc_err err;

	if (id < 0)
		return;
	err_clear(&err);
	if (uow_venue_get(w->uow, id, &w->scratch, &rec, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, venue_record_json(rec));
	arena_reset(&w->scratch);
}

/* A stored venue and track, parsed, and the pre-show report. */
struct stored_show {
	struct venue_record *rec;
	json_t *vdoc, *tdoc;
	struct venue *v;
	struct cue_track *t;
	struct preshow_report r;
};

static int load_preshow(struct worker *w, int64_t venue, int64_t track,
			struct stored_show *s, struct sc_err *err)
{
	struct track_record *tr;
	int rc = uow_venue_get(w->uow, venue, &w->scratch, &s->rec, err);

	if (!rc)
		rc = uow_track_get(w->uow, track, &w->scratch, &tr, err);
	if (!rc)
		rc = venue_of_record(s->rec, &w->scratch, &s->vdoc, &s->v, err);
	if (!rc &&
	    !(s->tdoc = json_loads(tr->body, JSON_REJECT_DUPLICATES, NULL)))
		rc = err_set(err, SC_EIO, "stored track %lld is not JSON",
			     (long long)track);
	if (!rc && (cue_track_from_json(s->tdoc, &w->scratch, &s->t, err) ||
		    cue_track_check(s->t, &w->scratch, err)))
		rc = SC_EIO;
	if (!rc)
		rc = venue_preshow(s->t, s->v, &w->scratch, &s->r, err);
	return rc;
}

/* GET /venues/{id}/preshow?track=ID */
static void get_preshow(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	int64_t id = path_id(req, strlen("/venues/"), "venue id", out);
	struct stored_show s = {0};
	struct sc_err err;
	long long track;

	if (id < 0 ||
	    query_int(req, &(struct int_arg){"track", 1, INT64_MAX, 0}, &track,
		      out))
		return;
	if (!track) {
		reply_msg(out, 400, "track: the id of a stored track");
		return;
	}
	err_clear(&err);
	if (load_preshow(w, id, track, &s, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, preshow_json(s.t, s.v, &s.r));
	json_decref(s.vdoc);
	json_decref(s.tdoc);
	arena_reset(&w->scratch);
}

/* The explicit cartridges of a refill: [{"seat","slot","sku"}]. */
static int refill_lines_json(json_t *arr, struct arena *a,
			     struct refill_line **out, size_t *n_out,
			     struct sc_err *err)
{
	static const char *const keys[] = {"seat", "slot", "sku", NULL};
	size_t n = json_array_size(arr);
	struct refill_line *l = arena_calloc(a, n ? n : 1, sizeof(*l));

	if (!l)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(arr, i);
		json_t *slot = json_object_get(e, "slot");

		l[i].sku = json_string_value(json_object_get(e, "sku"));
		if (!json_is_object(e) ||
		    json_known_keys(e, keys, "cartridges", err) ||
		    !seat_parse(json_string_value(json_object_get(e, "seat")),
				&l[i].row, &l[i].seat) ||
		    !json_is_integer(slot) || !l[i].sku)
			return err_set(err, SC_EINVAL,
				       "cartridges %zu: needs a seat (\"A1\"), "
				       "a slot and a sku",
				       i + 1);
		l[i].slot = (int32_t)json_integer_value(slot);
	}
	*out = l;
	*n_out = n;
	return SC_OK;
}

/*
 * POST /venues/{id}/refills {"orderid", "track": ID} fills what the
 * track's pre-show report asks for; {"orderid", "cartridges": [...]}
 * the cartridges named.  One order line per scent (RefillCartridges).
 */
static void post_refills(struct worker *w, const struct http_req *req,
			 struct http_reply *out)
{
	static const char *const known[] = {"orderid", "track", "cartridges",
					    NULL};
	int64_t id = path_id(req, strlen("/venues/"), "venue id", out);
	struct msg m = {.type = MSG_REFILL_CARTRIDGES};
	struct cmd_refill_cartridges *c = &m.u.refill_cartridges;
	struct bus_result res = {.arena = &w->scratch};
	struct stored_show s = {0};
	struct refill_line *lines = NULL;
	json_t *o = id < 0 ? NULL : parse_object(req, out), *track, *cart;
	struct sc_err err;
	int rc;

	if (!o)
		return;
	err_clear(&err);
	track = json_object_get(o, "track");
	cart = json_object_get(o, "cartridges");
	*c = (struct cmd_refill_cartridges){
		id, json_string_value(json_object_get(o, "orderid")),
		(int32_t)(time(NULL) / 86400), NULL, 0};
	rc = json_known_keys(o, known, NULL, &err);
	if (!rc && (!c->orderid || !track == !cart ||
		    (track && json_integer_value(track) < 1) ||
		    (cart && !json_is_array(cart))))
		rc = err_set(&err, SC_EINVAL,
			     "an orderid, and either a track (a stored "
			     "track's id) or cartridges [{\"seat\",\"slot\","
			     "\"sku\"}]");
	if (!rc && track)
		rc = load_preshow(w, id, json_integer_value(track), &s, &err);
	if (!rc && track)
		rc = preshow_refill_lines(&s.r, &w->scratch, &lines,
					  &c->n_lines, &err);
	else if (!rc)
		rc = refill_lines_json(cart, &w->scratch, &lines, &c->n_lines,
				       &err);
	c->lines = lines;
	if (!rc && !c->n_lines) {
		reply_json(out, 200, refill_json(c->orderid, &res));
		goto out_decref;
	}
	if (!rc)
		rc = send(w, &m, &res, &err);
	if (rc)
		reply_err(out, &err);
	else
		reply_json(out, 200, refill_json(c->orderid, &res));
out_decref:
	json_decref(s.vdoc);
	json_decref(s.tdoc);
	json_decref(o);
	arena_reset(&w->scratch);
}

/* POST /venues/{id}/shows: what `scents show --json` printed. */
static void post_show(struct worker *w, const struct http_req *req,
		      struct http_reply *out)
{
	int64_t id = path_id(req, strlen("/venues/"), "venue id", out);
	struct msg m = {.type = MSG_RECORD_SHOW};
	struct bus_result res = {0};
	json_t *o = id < 0 ? NULL : parse_object(req, out);
	struct sc_err err;

	if (!o)
		return;
	err_clear(&err);
	m.u.record_show.venue_id = id;
	m.u.record_show.now = (int64_t)time(NULL);
	if (record_show_from_json(o, &w->scratch, &m.u.record_show, &err) ||
	    send(w, &m, &res, &err))
		reply_err(out, &err);
	else
		reply_json(out, 201, record_show_json(&res));
	json_decref(o);
	arena_reset(&w->scratch);
}

static void get_shows(struct worker *w, const struct http_req *req,
		      struct http_reply *out)
{
	int64_t id = path_id(req, strlen("/venues/"), "venue id", out);
	struct venue_record *rec;
	struct show_record *s;
	struct sc_err err;
	size_t n;

	if (id < 0)
		return;
	err_clear(&err);
	/* an unknown venue is a 404, not an empty list */
	if (uow_venue_get(w->uow, id, &w->scratch, &rec, &err) ||
	    uow_show_list(w->uow, id, &w->scratch, &s, &n, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200, shows_json(s, n));
	arena_reset(&w->scratch);
}

/* A dispense request, read and checked. */
struct dispense_req {
	int64_t venue;
	int32_t row, seat;
	const char *sku;
	struct dispense_ask ask;
};

static int dispense_of_json(json_t *o, const struct venue *v,
			    struct dispense_req *d, struct sc_err *err)
{
	static const char *const known[] = {"venue",   "seat",	      "scent",
					    "dose_ul", "duration_ms", NULL};
	json_t *dose = json_object_get(o, "dose_ul");
	json_t *ms = json_object_get(o, "duration_ms");
	const char *seat = json_string_value(json_object_get(o, "seat"));
	int rc = json_known_keys(o, known, NULL, err);

	if (rc)
		return rc;
	d->sku = json_string_value(json_object_get(o, "scent"));
	if (!d->sku || !json_is_integer(dose) || !json_is_integer(ms) ||
	    json_integer_value(dose) > INT32_MAX ||
	    json_integer_value(ms) > INT32_MAX)
		return err_set(err, SC_EINVAL,
			       "needs a venue, a scent, dose_ul and "
			       "duration_ms (seat optional for a one-seat "
			       "venue)");
	d->ask.dose_ul = (int32_t)json_integer_value(dose);
	d->ask.duration_ms = (int32_t)json_integer_value(ms);
	if (seat && !seat_parse(seat, &d->row, &d->seat))
		return err_set(err, SC_EINVAL, "seat: such as \"A1\"");
	if (!seat && v->n_devices != 1)
		return err_set(err, SC_EINVAL,
			       "this venue has %zu seat devices: name the "
			       "seat",
			       v->n_devices);
	if (!seat) {
		d->row = v->devices[0].row;
		d->seat = v->devices[0].seat;
	}
	return SC_OK;
}

/* The device and cartridge a dispense request names. */
struct dispense_target {
	struct dispense_req d;
	json_t *doc; /* the venue's body, which @v borrows from */
	struct venue *v;
	const struct cartridge *cart;
};

static int dispense_target(struct worker *w, json_t *o,
			   struct dispense_target *t, struct sc_err *err)
{
	struct venue_record *rec = NULL;
	int rc;

	t->d.venue = json_integer_value(json_object_get(o, "venue"));
	if (t->d.venue < 1)
		return err_set(err, SC_EINVAL, "venue: a stored venue's id");
	rc = uow_venue_get(w->uow, t->d.venue, &w->scratch, &rec, err);
	if (!rc)
		rc = venue_of_record(rec, &w->scratch, &t->doc, &t->v, err);
	if (!rc)
		rc = dispense_of_json(o, t->v, &t->d, err);
	for (size_t i = 0; !rc && !t->cart && i < t->v->n_devices; i++) {
		const struct seat_device *dev = &t->v->devices[i];

		for (size_t k = 0; dev->row == t->d.row &&
				   dev->seat == t->d.seat && k < dev->n_slots;
		     k++)
			if (!strcmp(dev->slots[k].sku, t->d.sku))
				t->cart = &dev->slots[k];
	}
	if (!rc && !t->cart) {
		(void)err_set(err, SC_ENOTFOUND,
			      "seat %c%d of venue %lld holds no %s",
			      'A' + t->d.row, (int)t->d.seat,
			      (long long)t->d.venue, t->d.sku);
		rc = SC_ENOTFOUND;
	}
	return rc;
}

/* Caps, gateway, record: the answer to a dispense of @t. */
static void dispense_now(struct worker *w, struct dispense_target *t,
			 struct http_reply *out)
{
	const struct dispense_req *d = &t->d;
	struct msg m = {.type = MSG_RECORD_SHOW};
	struct bus_result res = {0};
	struct used_line line;
	bool released = false;
	struct sc_err err;

	err_clear(&err);
	if (!t->cart) { /* dispense_target said which */
		reply_msg(out, 404, "no such cartridge");
		return;
	}
	if (t->cart->level_ul < d->ask.dose_ul) {
		reply_msg(out, 409, "the %s cartridge holds %lld ul", d->sku,
			  (long long)t->cart->level_ul);
		return;
	}
	switch (dispense_reserve(d->venue, d->row, d->seat, &t->v->caps,
				 &d->ask, &err)) {
	case DISPENSE_BAD:
		reply_err(out, &err);
		return;
	case DISPENSE_OVER_RATE:
		reply_msg(out, 429, "%s", err.msg);
		return;
	case DISPENSE_OK:
		break;
	}
	if (dispense_fire(t->v,
			  &(struct dispense_at){d->row, d->seat, t->cart->slot},
			  &d->ask, &released, &err) ||
	    !released) {
		dispense_unreserve(d->venue, d->row, d->seat, d->ask.now_us);
		if (err.code == SC_EIO) /* nobody answered */
			reply_msg(out, 504, "%s", err.msg);
		else if (err.code)
			reply_err(out, &err);
		else
			reply_msg(out, 409,
				  "the device reports its %s cartridge dry",
				  d->sku);
		return;
	}
	line = (struct used_line){d->row, d->seat, t->cart->slot,
				  d->ask.dose_ul};
	m.u.record_show = (struct cmd_record_show){
		d->venue, 0, (int64_t)time(NULL), 1, 1, 0, 1, &line, 1};
	if (send(w, &m, &res, &err))
		reply_err(out, &err);
	else
		reply_json(out, 200,
			   json_pack("{s:b,s:s,s:i,s:I,s:I,s:I}", "fired", 1,
				     "scent", d->sku, "slot",
				     (int)t->cart->slot, "level_ul",
				     (json_int_t)(t->cart->level_ul -
						  d->ask.dose_ul),
				     "show_id", (json_int_t)res.show_id,
				     "alerts", (json_int_t)res.alerts));
}

/*
 * POST /dispense: a personal dispenser (a one-seat venue) releases now.
 * The device's caps first (400 for a dose or burst it never takes, 429
 * over its microlitres per minute), the cartridge's level (409), then
 * the gateway protocol (504 when unanswered, nothing recorded), then
 * the release recorded as a one-release show: levels, alerts, stock.
 */
static void post_dispense(struct worker *w, const struct http_req *req,
			  struct http_reply *out)
{
	struct dispense_target t = {0};
	json_t *o = parse_object(req, out);
	struct sc_err err;

	if (!o)
		return;
	err_clear(&err);
	if (dispense_target(w, o, &t, &err)) {
		reply_err(out, &err);
	} else {
		t.d.ask.now_us = (int64_t)clock_mono_us();
		dispense_now(w, &t, out);
	}
	json_decref(t.doc);
	json_decref(o);
	arena_reset(&w->scratch);
}

/* The dashboard's routes: "/" and "/ui/...". */
static bool is_page(const char *path)
{
	return !strcmp(path, "/") || !strncmp(path, "/ui/", 4);
}

/* The dashboard's cookie (issue 17; decisions/0019). */
#define TOKEN_COOKIE "scents_token"

/* "Bearer <token>" from the dashboard's cookie into @buf, or NULL. */
static const char *cookie_bearer(const char *cookie, char *buf, size_t n)
{
	const size_t k = strlen(TOKEN_COOKIE);

	for (const char *c = cookie; c && *c;) {
		c += strspn(c, " ;");
		if (!strncmp(c, TOKEN_COOKIE, k) && c[k] == '=') {
			size_t len = strcspn(c + k + 1, ";");

			if (len + 8 > n)
				return NULL;
			(void)snprintf(buf, n, "Bearer %.*s", (int)len,
				       c + k + 1);
			return buf;
		}
		c += strcspn(c, ";");
	}
	return NULL;
}

static void reply_page(struct http_reply *out, struct dash_page *pg)
{
	out->status = pg->body ? pg->status : 503;
	out->body = pg->body;
	out->content_type = pg->content_type ? pg->content_type
					     : "text/html; charset=utf-8";
	out->page = true;
	/* the stylesheet changes with the binary: a day is plenty */
	out->cache_control = pg->cacheable ? "public, max-age=86400" : NULL;
}

/* ---- the dashboard (issue 17) --------------------------------------- */

/* A page of @view for @req. */
static void ui_view(struct worker *w, const struct http_req *req,
		    struct http_reply *out,
		    void (*view)(const struct dash_req *, struct dash_page *))
{
	char bearer[128];
	struct dash_page pg = {0};
	struct dash_req r = {
		w->uow,
		&w->scratch,
		req->path,
		req->query,
		(int32_t)(time(NULL) / 86400),
		!req->authorization &&
			cookie_bearer(req->cookie, bearer, sizeof(bearer))};

	view(&r, &pg);
	reply_page(out, &pg);
	arena_reset(&w->scratch);
}

static void ui_products(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	ui_view(w, req, out, dash_products);
}

static void ui_product(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	ui_view(w, req, out, dash_product);
}

static void ui_orders(struct worker *w, const struct http_req *req,
		      struct http_reply *out)
{
	ui_view(w, req, out, dash_orders);
}

static void ui_sourcing(struct worker *w, const struct http_req *req,
			struct http_reply *out)
{
	ui_view(w, req, out, dash_sourcing);
}

static void ui_demand(struct worker *w, const struct http_req *req,
		      struct http_reply *out)
{
	ui_view(w, req, out, dash_demand);
}

static void ui_surveys(struct worker *w, const struct http_req *req,
		       struct http_reply *out)
{
	ui_view(w, req, out, dash_survey);
}

static void ui_venues(struct worker *w, const struct http_req *req,
		      struct http_reply *out)
{
	ui_view(w, req, out, dash_venues);
}

static void ui_venue(struct worker *w, const struct http_req *req,
		     struct http_reply *out)
{
	ui_view(w, req, out, dash_venue);
}

static void ui_css(struct worker *w, const struct http_req *req,
		   struct http_reply *out)
{
	struct dash_page pg = {0};

	(void)w;
	(void)req;
	dash_css(&pg);
	reply_page(out, &pg);
}

static void ui_login_form(struct worker *w, const struct http_req *req,
			  struct http_reply *out)
{
	struct dash_page pg = {0};

	(void)w;
	(void)req;
	dash_login(NULL, 200, &pg);
	reply_page(out, &pg);
}

/* @v (may be NULL) holds no CR or LF. */
static bool header_safe(const char *v)
{
	return !v || !v[strcspn(v, "\r\n")];
}

bool http_reply_headers_safe(const struct http_reply *rep)
{
	return header_safe(rep->content_type) &&
	       header_safe(rep->www_authenticate) &&
	       header_safe(rep->cache_control) && header_safe(rep->location) &&
	       header_safe(rep->set_cookie) && header_safe(rep->allow);
}

/* The token field of a sign-in form body, decoded into @buf; or NULL. */
static const char *form_token(const struct http_req *req, char *buf, size_t n)
{
	const char *b = req->body;
	size_t len;

	const char *amp;

	/* the body has a length, not a terminator */
	if (!b || req->len < 7 || strncmp(b, "token=", 6) != 0)
		return NULL;
	amp = memchr(b + 6, '&', req->len - 6);
	len = amp ? (size_t)(amp - (b + 6)) : req->len - 6;
	if (len >= n)
		return NULL;
	/* a token is "sct_" and base64url: nothing to decode but %XX */
	memcpy(buf, b + 6, len);
	buf[len] = '\0';
	return routes_percent_decode(buf, buf, n, &len) || !len ? NULL : buf;
}

/*
 * POST /ui/login token=...: a token with the read scope becomes the
 * dashboard's cookie (HttpOnly, SameSite=Strict, 12 hours), then back
 * to the products; any other answer is the form again, saying why.
 */
static void ui_login(struct worker *w, const struct http_req *req,
		     struct http_reply *out)
{
	char token[96], bearer[128], who[TOKEN_NAME_MAX + 1];
	const char *t = form_token(req, token, sizeof(token));
	struct dash_page pg = {0};
	enum auth_result res = AUTH_MISSING;
	/*
	 * The token goes back out in Set-Cookie, so only a secret's shape
	 * may pass, even on an open server (no tokens: any token is
	 * accepted).  A value with CR LF in it wrote headers of its own
	 * into the answer (the HTTP fuzzer found it).
	 */
	bool shaped = t && auth_secret_well_formed(t);

	(void)w;
	if (shaped) {
		(void)snprintf(bearer, sizeof(bearer), "Bearer %s", t);
		res = req->auth ? auth_check(req->auth, bearer,
					     TOKEN_SCOPE_READ, who, sizeof(who))
				: AUTH_OK;
	}
	if (res != AUTH_OK) {
		dash_login(!t	     ? "Give a token."
			   : !shaped ? "That is not a scents token (sct_...)."
			   : res == AUTH_FORBIDDEN
				   ? "That token lacks the read scope."
				   : "That token is unknown or revoked.",
			   401, &pg);
		reply_page(out, &pg);
		return;
	}
	(void)snprintf(out->set_cookie, sizeof(out->set_cookie),
		       TOKEN_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; "
				    "Max-Age=43200",
		       t);
	out->status = 303;
	out->location = "/";
	out->page = true;
	out->content_type = "text/html; charset=utf-8";
	out->body = mem_strdup("");
}

/* POST /ui/logout: the cookie expires. */
static void ui_logout(struct worker *w, const struct http_req *req,
		      struct http_reply *out)
{
	(void)w;
	(void)req;
	(void)snprintf(out->set_cookie, sizeof(out->set_cookie),
		       TOKEN_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; "
				    "Max-Age=0");
	out->status = 303;
	out->location = "/ui/login";
	out->page = true;
	out->content_type = "text/html; charset=utf-8";
	out->body = mem_strdup("");
}

static const struct route {
	const char *method;  /* the one method served */
	const char *path;    /* exact path, or prefix when ending in '/' */
	route_fn *fn;	     /* handler */
	unsigned scope;	     /* enum token_scope needed; NONE: public */
	enum body_kind body; /* what Content-Type it takes */
} routes[] = {
	{"POST", "/add_batch", post_add_batch, TOKEN_SCOPE_STOCK, BODY_JSON},
	{"POST", "/allocate", post_allocate, TOKEN_SCOPE_ALLOCATE, BODY_JSON},
	{"POST", "/change_batch_quantity", post_change_batch_quantity,
	 TOKEN_SCOPE_STOCK, BODY_JSON},
	{"POST", "/change_batch_eta", post_change_batch_eta, TOKEN_SCOPE_STOCK,
	 BODY_JSON},
	{"GET", "/allocations/{orderid}", get_allocations, TOKEN_SCOPE_READ,
	 BODY_NONE},
	/* cancelling is the sales systems' job, as allocating is */
	{"DELETE", "/allocations/{orderid}", delete_allocations,
	 TOKEN_SCOPE_ALLOCATE, BODY_NONE},
	{"DELETE", "/allocations/{orderid}/{sku}", delete_allocations,
	 TOKEN_SCOPE_ALLOCATE, BODY_NONE},
	{"GET", "/products", get_products, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/products/{sku}", get_product, TOKEN_SCOPE_READ, BODY_NONE},
	{"PUT", "/products/{sku}/low_stock", put_low_stock, TOKEN_SCOPE_STOCK,
	 BODY_JSON},
	{"GET", "/healthz", get_healthz, TOKEN_SCOPE_NONE, BODY_NONE},
	{"GET", "/readyz", get_readyz, TOKEN_SCOPE_NONE, BODY_NONE},
	{"POST", "/sourcing/research", post_research, TOKEN_SCOPE_ADMIN,
	 BODY_JSON_OR_CSV},
	{"GET", "/sourcing/decisions", get_decisions, TOKEN_SCOPE_READ,
	 BODY_NONE},
	{"GET", "/sourcing/decisions/{sku}", get_sku_decisions,
	 TOKEN_SCOPE_READ, BODY_NONE},
	{"POST", "/tokens", post_token, TOKEN_SCOPE_ADMIN, BODY_JSON},
	{"GET", "/tokens", get_tokens, TOKEN_SCOPE_ADMIN, BODY_NONE},
	{"DELETE", "/tokens/{name}", delete_token, TOKEN_SCOPE_ADMIN,
	 BODY_NONE},
	{"POST", "/customers", post_customer, TOKEN_SCOPE_ADMIN, BODY_JSON},
	{"GET", "/customers/{id}", get_customer, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/deliveries", get_deliveries, TOKEN_SCOPE_ADMIN, BODY_NONE},
	{"POST", "/deliveries/{id}/replay", post_replay, TOKEN_SCOPE_ADMIN,
	 BODY_NONE},
	{"PUT", "/ingredients", put_ingredients, TOKEN_SCOPE_STOCK,
	 BODY_JSON_OR_CSV},
	{"GET", "/ingredients", get_ingredients, TOKEN_SCOPE_READ, BODY_NONE},
	{"POST", "/formulas/{sku}", post_formula, TOKEN_SCOPE_STOCK,
	 BODY_JSON_OR_CSV},
	{"GET", "/formulas/{sku}", get_formula, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/formulas/{sku}/log", get_formula_log, TOKEN_SCOPE_READ,
	 BODY_NONE},
	{"GET", "/formulas/{sku}/bom", get_bom, TOKEN_SCOPE_READ, BODY_NONE},
	{"POST", "/formulas/{sku}/activate", post_activate, TOKEN_SCOPE_STOCK,
	 BODY_JSON},
	{"POST", "/surveys", post_survey, TOKEN_SCOPE_STOCK, BODY_JSON},
	{"GET", "/surveys/{id}", get_survey, TOKEN_SCOPE_READ, BODY_NONE},
	{"POST", "/surveys/{id}/responses", post_responses, TOKEN_SCOPE_STOCK,
	 BODY_JSON_OR_CSV},
	{"POST", "/surveys/{id}/promote", post_promote, TOKEN_SCOPE_STOCK,
	 BODY_NONE},
	{"POST", "/demand", post_demand, TOKEN_SCOPE_STOCK, BODY_JSON_OR_CSV},
	{"GET", "/demand", get_demand, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/plan", get_plan, TOKEN_SCOPE_READ, BODY_NONE},
	{"POST", "/tracks", post_track, TOKEN_SCOPE_STOCK, BODY_JSON},
	{"GET", "/tracks", get_tracks, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/tracks/{id}", get_track, TOKEN_SCOPE_READ, BODY_NONE},
	{"POST", "/venues", post_venue, TOKEN_SCOPE_STOCK, BODY_JSON},
	{"GET", "/venues", get_venues, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/venues/{id}", get_venue, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/venues/{id}/preshow", get_preshow, TOKEN_SCOPE_READ,
	 BODY_NONE},
	{"POST", "/venues/{id}/refills", post_refills, TOKEN_SCOPE_STOCK,
	 BODY_JSON},
	{"POST", "/venues/{id}/shows", post_show, TOKEN_SCOPE_STOCK, BODY_JSON},
	{"GET", "/venues/{id}/shows", get_shows, TOKEN_SCOPE_READ, BODY_NONE},
	{"POST", "/dispense", post_dispense, TOKEN_SCOPE_ALLOCATE, BODY_JSON},
	{"GET", "/openapi.json", get_openapi, TOKEN_SCOPE_NONE, BODY_NONE},
	{"GET", "/", ui_products, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/ui/products/{sku}", ui_product, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/ui/orders", ui_orders, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/ui/sourcing", ui_sourcing, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/ui/demand", ui_demand, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/ui/surveys", ui_surveys, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/ui/venues", ui_venues, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/ui/venues/{id}", ui_venue, TOKEN_SCOPE_READ, BODY_NONE},
	{"GET", "/ui/app.css", ui_css, TOKEN_SCOPE_NONE, BODY_NONE},
	{"GET", "/ui/login", ui_login_form, TOKEN_SCOPE_NONE, BODY_NONE},
	{"POST", "/ui/login", ui_login, TOKEN_SCOPE_NONE, BODY_FORM},
	{"POST", "/ui/logout", ui_logout, TOKEN_SCOPE_NONE, BODY_FORM},
	{"GET", "/metrics", get_metrics, TOKEN_SCOPE_READ, BODY_NONE},
};

static_assert(ARRAY_SIZE(routes) < HTTP_METRICS_OTHER,
	      "every route has its own metrics slot");

size_t routes_count(void)
{
	return ARRAY_SIZE(routes);
}

void routes_get(size_t i, const char **method, const char **path)
{
	*method = routes[i].method;
	*path = routes[i].path;
}

/*
 * Does @path match @r's template?  Literal characters must be equal; each
 * "{name}" takes one non-empty segment (no '/'): "/x", "/x/{a}",
 * "/x/{a}/{b}".
 */
static bool matches(const struct route *r, const char *path)
{
	const char *t = r->path, *p = path;

	while (*t) {
		if (*t == '{') {
			if (!*p || *p == '/')
				return false;
			p += strcspn(p, "/");
			t = strchr(t, '}') + 1;
		} else if (*t++ != *p++) {
			return false;
		}
	}
	return !*p;
}

/* True when Content-Type @ct is @mime, parameters (charset...) aside. */
static bool is_type(const char *ct, const char *mime)
{
	size_t n = strlen(mime);

	return ct && !strncasecmp(ct, mime, n) &&
	       (!ct[n] || ct[n] == ';' || ct[n] == ' ');
}

/*
 * Refuse a body of the wrong type with 415.  This is also what stops a
 * web page on another site from posting to us: a browser sends a
 * cross-site POST without asking first only as text/plain, form or
 * multipart, and those are all refused here.
 */
static int check_body(const struct route *r, const struct http_req *req,
		      struct http_reply *out)
{
	/*
	 * A form may come from another site's page without asking first:
	 * the two routes that take one only sign in and out, and a browser
	 * that says the request is cross-site is refused.
	 */
	if (r->body == BODY_FORM) {
		if (req->fetch_site && !strcmp(req->fetch_site, "cross-site")) {
			reply_msg(out, 403, "a cross-site form");
			return -1;
		}
		if (!req->len || is_type(req->content_type,
					 "application/x-www-form-urlencoded"))
			return 0;
		reply_msg(out, 415,
			  "Content-Type must be "
			  "application/x-www-form-urlencoded");
		return -1;
	}
	if (r->body == BODY_NONE ||
	    is_type(req->content_type, "application/json"))
		return 0;
	if (r->body == BODY_JSON_OR_CSV &&
	    is_type(req->content_type, "text/csv"))
		return 0;
	reply_msg(out, 415, "Content-Type must be application/json%s",
		  r->body == BODY_JSON_OR_CSV ? " or text/csv" : "");
	return -1;
}

/*
 * A dashboard page needs the read scope too, from the Authorization
 * header or the sign-in cookie; without it the answer is the sign-in
 * form (401), never the data.  The stylesheet and the form are public.
 */
static int check_page_auth(const struct route *r, const struct http_req *req,
			   struct http_reply *out)
{
	char who[TOKEN_NAME_MAX + 1], bearer[128];
	const char *authz = req->authorization;
	struct dash_page pg = {0};
	enum auth_result res;

	if (!authz)
		authz = cookie_bearer(req->cookie, bearer, sizeof(bearer));
	res = auth_check(req->auth, authz, r->scope, who, sizeof(who));
	if (req->who_size)
		(void)snprintf(req->who, req->who_size, "%s", who);
	if (res == AUTH_OK)
		return 0;
	dash_login(res == AUTH_MISSING	 ? NULL
		   : res == AUTH_INVALID ? "That token is unknown or revoked."
					 : "That token lacks the read scope.",
		   401, &pg);
	reply_page(out, &pg);
	return -1;
}

/* 401/403 with the challenge of RFC 6750, or 0 to go ahead. */
static int check_auth(const struct route *r, const struct http_req *req,
		      struct http_reply *out)
{
	char who[TOKEN_NAME_MAX + 1];
	enum auth_result res;

	if (!req->auth)
		return 0;
	if (is_page(r->path))
		return check_page_auth(r, req, out);
	res = auth_check(req->auth, req->authorization, r->scope, who,
			 sizeof(who));
	if (req->who_size)
		(void)snprintf(req->who, req->who_size, "%s", who);
	switch (res) {
	case AUTH_OK:
		return 0;
	case AUTH_MISSING:
		out->www_authenticate = "Bearer realm=\"scents\"";
		reply_msg(out, 401, "a bearer token is required");
		return -1;
	case AUTH_INVALID:
		out->www_authenticate =
			"Bearer realm=\"scents\", error=\"invalid_token\"";
		reply_msg(out, 401, "the token is unknown or revoked");
		return -1;
	default:
		out->www_authenticate = "Bearer realm=\"scents\", "
					"error=\"insufficient_scope\"";
		reply_msg(out, 403, "this token lacks the '%s' scope",
			  token_scope_name(r->scope));
		return -1;
	}
}

static void routes_dispatch_as(struct worker *w, const struct http_req *req,
			       struct http_reply *out,
			       struct http_command *cmd);

/* Which command route @fn is, or -1. */
static int command_index(route_fn *fn)
{
	static route_fn *const fns[] = {post_add_batch, post_allocate,
					post_change_batch_quantity,
					delete_allocations};

	for (size_t i = 0; i < ARRAY_SIZE(fns); i++)
		if (fns[i] == fn)
			return (int)i;
	return -1;
}

int routes_dispatch_async(struct worker *w, const struct http_req *req,
			  struct http_command *cmd, struct http_reply *out)
{
	cmd->which = -1;
	routes_dispatch_as(w, req, out, cmd);
	return cmd->which >= 0;
}

void routes_dispatch(struct worker *w, const struct http_req *req,
		     struct http_reply *out)
{
	routes_dispatch_as(w, req, out, NULL);
}

static void routes_dispatch_as(struct worker *w, const struct http_req *req,
			       struct http_reply *out, struct http_command *cmd)
{
	const struct route *found = NULL;

	out->allow[0] = '\0';
	out->www_authenticate = NULL;
	out->route = -1;
	out->content_type = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (!matches(&routes[i], req->path))
			continue;
		found = &routes[i];
		(void)snprintf(out->allow + strlen(out->allow),
			       sizeof(out->allow) - strlen(out->allow), "%s%s",
			       out->allow[0] ? ", " : "", routes[i].method);
		if (!strcmp(req->method, routes[i].method)) {
			out->allow[0] = '\0'; /* Allow is for 405 only */
			out->route = (int)i;
			if (check_auth(found, req, out) ||
			    check_body(found, req, out))
				return;
			if (cmd && command_index(routes[i].fn) >= 0) {
				int k = command_index(routes[i].fn);

				/* valid: the caller runs it and finishes */
				if (command_routes[k].prepare(req, cmd, out))
					cmd->which = k;
				else
					routes_command_release(cmd);
				return;
			}
			routes[i].fn(w, req, out);
			return;
		}
	}
	if (!found) {
		reply_msg(out, 404, "no such path");
		return;
	}
	reply_msg(out, 405, "method not allowed here; use %s", out->allow);
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int routes_percent_decode(const char *in, char *out, size_t n, size_t *len_out)
{
	size_t o = 0;

	for (; *in; in++) {
		char c = *in;

		if (c == '%') {
			int hi = hex(in[1]), lo = hi < 0 ? -1 : hex(in[2]);

			if (lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			in += 2;
		}
		if (o + 1 >= n)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	*len_out = o;
	return 0;
}

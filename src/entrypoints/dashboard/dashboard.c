/*
 * entrypoints/dashboard/dashboard.c - the dashboard's pages
 * (dashboard.h).
 *
 * Each view reads through the same port calls as its JSON twin (GET
 * /products, /products/{sku}, /allocations/{orderid}, /sourcing/
 * decisions, /venues/{id}), so the numbers cannot differ.  Tables are
 * real <table>s with captions and column scopes; sorting and paging are
 * links; each chart has a text equivalent in the table beside it.
 */
#include "entrypoints/dashboard/dashboard.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/mem.h"
#include "domain/date.h"
#include "domain/model.h"
#include "domain/sourcing.h"
#include "entrypoints/dashboard/html.h"
#include "entrypoints/http/routes.h"
#include "service/reports.h"
#include "service/uow.h"

#define PAGE_ROWS   50	 /* products per page */
#define LIST_CHUNK  1000 /* products read per query */
#define LINES_SHOWN 200	 /* a product's lines on its page */
#define BAR_W	    160	 /* px of a stock bar */
#define TIMELINE_W  640	 /* px of a product's batch timeline */

/* ---- the frame of every page ------------------------------------------ */

static const struct nav {
	const char *href, *label;
} nav[] = {
	{"/", "Products"},
	{"/ui/orders", "Orders"},
	{"/ui/sourcing", "Sourcing"},
	{"/ui/demand", "Demand"},
	{"/ui/surveys", "Surveys"},
	{"/ui/venues", "Venues"},
};

static void page_start(struct html *h, const char *title, int active,
		       bool signed_in)
{
	html_raw(h, "<!doctype html>\n<html lang=\"en\"><head>"
		    "<meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, "
		    "initial-scale=1\"><title>");
	html_text(h, title);
	html_raw(h, " · scents</title>"
		    "<link rel=\"stylesheet\" href=\"/ui/app.css\"></head>"
		    "<body><a class=\"skip\" href=\"#main\">Skip to "
		    "content</a><header><nav aria-label=\"Main\"><ul>");
	for (int i = 0; i < (int)(sizeof(nav) / sizeof(nav[0])); i++) {
		html_rawf(h, "<li><a href=\"%s\"%s>%s</a></li>", nav[i].href,
			  i == active ? " aria-current=\"page\"" : "",
			  nav[i].label);
	}
	html_raw(h, "</ul></nav>");
	if (signed_in)
		html_raw(h, "<form method=\"post\" action=\"/ui/logout\">"
			    "<button type=\"submit\">Sign out</button>"
			    "</form>");
	html_raw(h, "</header><main id=\"main\"><h1>");
	html_text(h, title);
	html_raw(h, "</h1>");
}

static void page_end(struct html *h, struct dash_page *p, unsigned status)
{
	html_raw(h, "</main><footer><p>The Scents Company · figures as "
		    "the API gives them</p></footer></body></html>\n");
	p->status = status;
	p->body = html_take(h);
	p->content_type = NULL;
	p->cacheable = false;
}

/* A page saying only @msg (an error), with @status. */
static void page_error(const struct dash_req *r, struct dash_page *p,
		       unsigned status, const char *title, const char *msg)
{
	struct html h = {0};

	page_start(&h, title, -1, r->signed_in);
	html_raw(&h, "<p class=\"error\" role=\"alert\">");
	html_text(&h, msg);
	html_raw(&h, "</p>");
	page_end(&h, p, status);
}

/* A store error as a page: unknown things 404, the rest 503. */
static void page_store_error(const struct dash_req *r, struct dash_page *p,
			     const struct sc_err *err)
{
	if (err->code == SC_ENOTFOUND)
		page_error(r, p, 404, "Not found", err->msg);
	else if (err->code == SC_EINVAL)
		page_error(r, p, 400, "Bad request", err->msg);
	else
		page_error(r, p, 503, "Unavailable",
			   "The store is unavailable; try again later.");
}

/*
 * Open a table of @caption with header cells @cols (NULL-ended), inside
 * its scroll box: every table has a caption and column scopes.
 */
static void table_start(struct html *h, const char *caption,
			const char *const *cols)
{
	html_raw(h, "<div class=\"scroll\"><table><caption>");
	html_text(h, caption);
	html_raw(h, "</caption><thead><tr>");
	for (; *cols; cols++) {
		html_raw(h, "<th scope=\"col\">");
		html_text(h, *cols);
		html_raw(h, "</th>");
	}
	html_raw(h, "</tr></thead><tbody>");
}

static void table_end(struct html *h)
{
	html_raw(h, "</tbody></table></div>");
}

/* ---- query arguments ------------------------------------------------- */

/*
 * Query argument @name of @r, decoded (%XX and '+' as a space) into
 * @buf; NULL when absent or undecodable.
 */
static const char *arg(const struct dash_req *r, const char *name, char *buf,
		       size_t size)
{
	size_t n = strlen(name);

	for (const char *q = r->query; q && *q;) {
		size_t len = strcspn(q, "&");

		if (len > n && !strncmp(q, name, n) && q[n] == '=') {
			char raw[512];
			size_t out_len;

			len -= n + 1;
			if (len >= sizeof(raw))
				return NULL;
			memcpy(raw, q + n + 1, len);
			raw[len] = '\0';
			for (char *c = raw; *c; c++)
				if (*c == '+')
					*c = ' ';
			if (routes_percent_decode(raw, buf, size, &out_len))
				return NULL;
			return buf;
		}
		q += len + (q[len] == '&');
	}
	return NULL;
}

static long arg_long(const struct dash_req *r, const char *name, long def,
		     long lo, long hi)
{
	char buf[24];
	const char *v = arg(r, name, buf, sizeof(buf));
	char *end;
	long x;

	if (!v || !*v)
		return def;
	x = strtol(v, &end, 10);
	return *end || x < lo || x > hi ? def : x;
}

/* The path segment after @prefix, decoded into @buf; NULL if none. */
static const char *segment(const struct dash_req *r, const char *prefix,
			   char *buf, size_t size)
{
	size_t n = strlen(prefix), len;
	char raw[SC_ID_MAX * 3 + 1];
	const char *s;

	if (strncmp(r->path, prefix, n) != 0)
		return NULL;
	s = r->path + n;
	len = strcspn(s, "/");
	if (!len || len >= sizeof(raw) || s[len])
		return NULL;
	memcpy(raw, s, len);
	raw[len] = '\0';
	return routes_percent_decode(raw, buf, size, &len) ? NULL : buf;
}

/* ---- products -------------------------------------------------------- */

enum col { COL_SKU, COL_AVAILABLE, COL_ALLOCATED, COL_INCOMING, COL_BATCHES };

static const char *const col_names[] = {"sku", "available", "allocated",
					"incoming", "batches"};
static const char *const col_labels[] = {"SKU", "Available", "Allocated",
					 "Incoming", "Batches"};

static int64_t col_value(const struct product_summary *s, enum col c)
{
	switch (c) {
	case COL_AVAILABLE:
		return s->purchased - s->allocated;
	case COL_ALLOCATED:
		return s->allocated;
	case COL_INCOMING:
		return s->incoming;
	case COL_BATCHES:
		return (int64_t)s->n_batches;
	case COL_SKU:
		break;
	}
	return 0;
}

/* Sorting without qsort_r: the column travels in each element. */
struct sort_row {
	const struct product_summary *s;
	int64_t key;
};

static int by_sku(const void *x, const void *y)
{
	return strcmp(((const struct sort_row *)x)->s->sku,
		      ((const struct sort_row *)y)->s->sku);
}

static int by_key(const void *x, const void *y)
{
	const struct sort_row *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return strcmp(a->s->sku, b->s->sku); /* stable across pages */
}

/* Whether @s contains @q, ASCII letters compared without case. */
static bool contains(const char *s, const char *q)
{
	size_t n = strlen(q);

	for (; *s; s++) {
		size_t i = 0;

		while (i < n && s[i] &&
		       tolower((unsigned char)s[i]) ==
			       tolower((unsigned char)q[i]))
			i++;
		if (i == n)
			return true;
	}
	return !n;
}

/* Every product matching @q (case-insensitive substring), in @a. */
static int load_products(const struct dash_req *r, const char *q,
			 struct sort_row **out, size_t *n_out,
			 struct sc_err *err)
{
	struct sort_row *rows = NULL;
	size_t n = 0, cap = 0;
	char after[SC_ID_MAX + 1] = "";

	for (;;) {
		struct product_list page;
		int rc = uow_list_products(r->uow, after, LIST_CHUNK, r->a,
					   &page, err);

		if (rc)
			return rc;
		for (size_t i = 0; i < page.n; i++) {
			if (q && *q && !contains(page.items[i].sku, q))
				continue;
			if (arena_reserve(r->a, (void **)&rows, &cap, n + 1,
					  sizeof(*rows)))
				return err_set(err, SC_ENOMEM, "out of memory");
			rows[n++] = (struct sort_row){&page.items[i], 0};
		}
		if (page.n < LIST_CHUNK)
			break;
		(void)snprintf(after, sizeof(after), "%s",
			       page.items[page.n - 1].sku);
	}
	*out = rows;
	*n_out = n;
	return SC_OK;
}

/* How the product list is asked for. */
struct list_view {
	const char *q; /* filter, or NULL */
	enum col sort;
	bool desc;
	long page; /* from 1 */
};

/* A link to the product list with these settings. */
static void list_href(struct html *h, const char *q, enum col c, bool desc,
		      long page)
{
	html_raw(h, "/?q=");
	html_url(h, q ? q : "");
	html_rawf(h, "&amp;sort=%s&amp;dir=%s&amp;page=%ld", col_names[c],
		  desc ? "desc" : "asc", page);
}

/* Stock as a bar: allocated, then available, of @scale; incoming under. */
static void stock_bar(struct html *h, const struct product_summary *s,
		      int64_t scale)
{
	double k = scale > 0 ? (double)BAR_W / (double)scale : 0;
	double alloc = (double)s->allocated * k;
	double avail = (double)(s->purchased - s->allocated) * k;
	double inc = (double)s->incoming * k;

	html_rawf(h,
		  "<svg class=\"bar\" width=\"%d\" height=\"16\" "
		  "aria-hidden=\"true\" focusable=\"false\">"
		  "<rect class=\"allocated\" x=\"0\" y=\"0\" width=\"%.1f\" "
		  "height=\"10\"/><rect class=\"available\" x=\"%.1f\" y=\"0\" "
		  "width=\"%.1f\" height=\"10\"/><rect class=\"incoming\" "
		  "x=\"0\" y=\"12\" width=\"%.1f\" height=\"4\"/></svg>",
		  BAR_W, alloc, alloc, avail, inc);
}

static void products_table(struct html *h, const struct sort_row *rows,
			   size_t n, const struct list_view *lv)
{
	const char *q = lv->q;
	enum col sort = lv->sort;
	bool desc = lv->desc;
	long page = lv->page;
	int64_t scale = 0;
	size_t first = (size_t)(page - 1) * PAGE_ROWS;

	for (size_t i = 0; i < n; i++)
		if (rows[i].s->purchased > scale)
			scale = rows[i].s->purchased;
	html_rawf(h, "<div class=\"scroll\"><table><caption>%zu product%s%s", n,
		  n == 1 ? "" : "s", q && *q ? " matching " : "");
	if (q && *q) {
		html_raw(h, "“");
		html_text(h, q);
		html_raw(h, "”");
	}
	html_raw(h, "</caption><thead><tr>");
	for (int c = COL_SKU; c <= COL_BATCHES; c++) {
		bool here = (int)sort == c;

		html_rawf(h, "<th scope=\"col\"%s>",
			  here ? (desc ? " aria-sort=\"descending\""
				       : " aria-sort=\"ascending\"")
			       : "");
		html_raw(h, "<a href=\"");
		list_href(h, q, (enum col)c, here && !desc, 1);
		html_rawf(h, "\">%s%s</a></th>", col_labels[c],
			  here ? (desc ? " ▼" : " ▲") : "");
	}
	html_raw(h, "<th scope=\"col\">Stock</th></tr></thead><tbody>");
	for (size_t i = first; i < n && i < first + PAGE_ROWS; i++) {
		const struct product_summary *s = rows[i].s;

		html_raw(h, "<tr><th scope=\"row\"><a href=\"/ui/products/");
		html_url(h, s->sku);
		html_raw(h, "\">");
		html_text(h, s->sku);
		html_rawf(h,
			  "</a></th><td class=\"num\">%lld</td>"
			  "<td class=\"num\">%lld</td><td class=\"num\">%lld"
			  "</td><td class=\"num\">%zu</td><td>",
			  (long long)(s->purchased - s->allocated),
			  (long long)s->allocated, (long long)s->incoming,
			  s->n_batches);
		stock_bar(h, s, scale);
		html_raw(h, "</td></tr>");
	}
	table_end(h);
}

static void pager(struct html *h, const struct list_view *lv, size_t n)
{
	const char *q = lv->q;
	enum col sort = lv->sort;
	bool desc = lv->desc;
	long page = lv->page;
	long pages = (long)((n + PAGE_ROWS - 1) / PAGE_ROWS);

	if (pages < 1)
		pages = 1;
	html_raw(h, "<nav class=\"pager\" aria-label=\"Pages\">");
	if (page > 1) {
		html_raw(h, "<a rel=\"prev\" href=\"");
		list_href(h, q, sort, desc, page - 1);
		html_raw(h, "\">Previous</a>");
	}
	html_rawf(h, "<span>Page %ld of %ld</span>", page, pages);
	if (page < pages) {
		html_raw(h, "<a rel=\"next\" href=\"");
		list_href(h, q, sort, desc, page + 1);
		html_raw(h, "\">Next</a>");
	}
	html_raw(h, "</nav>");
}

static void filter_form(struct html *h, const char *q, enum col sort, bool desc)
{
	html_raw(h, "<form class=\"filter\" method=\"get\" action=\"/\" "
		    "role=\"search\"><label for=\"q\">SKU contains</label>"
		    "<input id=\"q\" name=\"q\" value=\"");
	html_text(h, q ? q : "");
	html_rawf(h,
		  "\"><input type=\"hidden\" name=\"sort\" value=\"%s\">"
		  "<input type=\"hidden\" name=\"dir\" value=\"%s\">"
		  "<button type=\"submit\">Filter</button></form>",
		  col_names[sort], desc ? "desc" : "asc");
	html_raw(h, "<p class=\"legend\"><span class=\"key allocated\">"
		    "</span>allocated <span class=\"key available\"></span>"
		    "available <span class=\"key incoming\"></span>incoming "
		    "(in batches with an ETA)</p>");
}

void dash_products(const struct dash_req *r, struct dash_page *p)
{
	char qbuf[SC_ID_MAX + 1], sbuf[16], dbuf[8];
	const char *q = arg(r, "q", qbuf, sizeof(qbuf));
	const char *s = arg(r, "sort", sbuf, sizeof(sbuf));
	const char *d = arg(r, "dir", dbuf, sizeof(dbuf));
	enum col sort = COL_SKU;
	bool desc = d && !strcmp(d, "desc");
	struct sort_row *rows = NULL;
	struct html h = {0};
	struct sc_err err;
	long page;
	size_t n = 0;

	for (int c = COL_SKU; s && c <= COL_BATCHES; c++)
		if (!strcmp(s, col_names[c]))
			sort = (enum col)c;
	err_clear(&err);
	if (load_products(r, q, &rows, &n, &err)) {
		page_store_error(r, p, &err);
		return;
	}
	for (size_t i = 0; i < n; i++)
		rows[i].key = col_value(rows[i].s, sort);
	if (n)
		qsort(rows, n, sizeof(*rows),
		      sort == COL_SKU ? by_sku : by_key);
	for (size_t i = 0; desc && i < n / 2; i++) {
		struct sort_row t = rows[i];

		rows[i] = rows[n - 1 - i];
		rows[n - 1 - i] = t;
	}
	page = arg_long(r, "page", 1, 1, 1000000);
	if ((size_t)(page - 1) * PAGE_ROWS >= n)
		page = 1;
	page_start(&h, "Products", 0, r->signed_in);
	filter_form(&h, q, sort, desc);
	products_table(&h, rows, n, &(struct list_view){q, sort, desc, page});
	pager(&h, &(struct list_view){q, sort, desc, page}, n);
	page_end(&h, p, 200);
}

/* ---- a product --------------------------------------------------------- */

/* Batches on a line by ETA: the warehouse at the left, then the dates. */
static void timeline(struct html *h, const struct product *pr, int32_t today)
{
	int32_t last = today + 1;
	int64_t most = 1;
	const int label_w = 140, row_h = 28, left = label_w + 10;
	/* room at the right for the longest bar (84) and its date (86) */
	const int span = TIMELINE_W - left - 170;
	int height = (int)pr->n_batches * row_h + 44;
	char end[DATE_STR_MAX];

	for (size_t i = 0; i < pr->n_batches; i++) {
		if (pr->batches[i].has_eta && pr->batches[i].eta > last)
			last = pr->batches[i].eta;
		if (pr->batches[i].purchased > most)
			most = pr->batches[i].purchased;
	}
	html_rawf(h,
		  "<figure><svg class=\"timeline\" viewBox=\"0 0 %d %d\" "
		  "role=\"img\" aria-labelledby=\"tl-title\"><title "
		  "id=\"tl-title\">Batches by arrival: the warehouse at the "
		  "left, then by ETA (the table below has the figures)"
		  "</title>",
		  TIMELINE_W, height);
	for (size_t i = 0; i < pr->n_batches; i++) {
		const struct batch *b = &pr->batches[i];
		int32_t at = b->has_eta ? b->eta : today;
		double x = left + (double)span * (at > today ? at - today : 0) /
					  (last - today);
		double w = 4 + 80.0 * (double)b->purchased / (double)most;
		double fill = w * (b->purchased ? (double)b->allocated /
							  (double)b->purchased
						: 0);
		int y = (int)i * row_h + 4;
		char eta[DATE_STR_MAX] = "warehouse";

		if (b->has_eta)
			date_format(b->eta, eta);
		html_rawf(h, "<text x=\"0\" y=\"%d\">", y + 14);
		html_text(h, b->ref);
		html_rawf(h,
			  "</text><rect class=\"purchased\" x=\"%.1f\" "
			  "y=\"%d\" width=\"%.1f\" height=\"18\"/><rect "
			  "class=\"allocated\" x=\"%.1f\" y=\"%d\" "
			  "width=\"%.1f\" height=\"18\"/><text class=\"eta\" "
			  "x=\"%.1f\" y=\"%d\">%s</text>",
			  x, y, w, x, y, fill, x + w + 4, y + 14, eta);
	}
	date_format(last, end);
	html_rawf(h,
		  "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" "
		  "y2=\"%d\"/><text x=\"%d\" y=\"%d\">now</text><text "
		  "class=\"end\" x=\"%d\" y=\"%d\">%s</text></svg>"
		  "<figcaption>Filled: allocated; outline: "
		  "purchased.</figcaption>"
		  "</figure>",
		  left, height - 18, left + span, height - 18, left, height - 4,
		  left + span - 30, height - 4, end);
}

static void batch_rows(struct html *h, const struct product *pr,
		       const struct product_line *l, size_t n_lines)
{
	table_start(h, "Batches",
		    (const char *const[]){"Batch", "ETA", "Supplier",
					  "Purchased", "Allocated", "Available",
					  "Lines", NULL});
	for (size_t i = 0; i < pr->n_batches; i++) {
		const struct batch *b = &pr->batches[i];
		const char *supplier = supplier_name(b->supplier);
		char date[DATE_STR_MAX];
		const char *eta = "in the warehouse";
		size_t shown = 0;

		if (b->has_eta) {
			date_format(b->eta, date);
			eta = date;
		}
		html_raw(h, "<tr><th scope=\"row\">");
		html_text(h, b->ref);
		html_rawf(h,
			  "</th><td>%s</td><td>%s</td><td class=\"num\">%lld"
			  "</td><td class=\"num\">%lld</td><td class=\"num\">"
			  "%lld</td><td>",
			  eta, supplier ? supplier : "—",
			  (long long)b->purchased, (long long)b->allocated,
			  (long long)batch_available(b));
		for (size_t k = 0; k < n_lines; k++)
			shown += !strcmp(l[k].batchref, b->ref);
		if (shown) {
			html_rawf(h,
				  "<details><summary>%zu line%s</summary>"
				  "<ul>",
				  shown, shown == 1 ? "" : "s");
			for (size_t k = 0; k < n_lines; k++) {
				if (strcmp(l[k].batchref, b->ref) != 0)
					continue;
				html_raw(h,
					 "<li><a href=\"/ui/orders?orderid=");
				html_url(h, l[k].orderid);
				html_raw(h, "\">");
				html_text(h, l[k].orderid);
				html_rawf(h, "</a>: %lld</li>",
					  (long long)l[k].qty);
			}
			html_raw(h, "</ul></details>");
		} else {
			html_raw(h, "—");
		}
		html_raw(h, "</td></tr>");
	}
	table_end(h);
}

void dash_product(const struct dash_req *r, struct dash_page *p)
{
	char sku[SC_ID_MAX + 1];
	struct product_line *lines = NULL;
	struct product *pr;
	struct html h = {0};
	struct sc_err err;
	size_t n_lines = 0;
	int64_t purchased = 0, allocated = 0;

	err_clear(&err);
	if (!segment(r, "/ui/products/", sku, sizeof(sku))) {
		page_error(r, p, 400, "Bad request", "a sku, percent-encoded");
		return;
	}
	if (uow_read_product(r->uow, sku, r->a, &pr, &err) ||
	    uow_product_lines(r->uow, &(struct lines_ask){sku, LINES_SHOWN},
			      r->a, &lines, &n_lines, &err)) {
		page_store_error(r, p, &err);
		return;
	}
	for (size_t i = 0; i < pr->n_batches; i++) {
		purchased += pr->batches[i].purchased;
		allocated += pr->batches[i].allocated;
	}
	page_start(&h, pr->sku, 0, r->signed_in);
	html_rawf(&h,
		  "<dl class=\"facts\"><dt>Available</dt><dd id=\"available\">"
		  "%lld</dd><dt>Allocated</dt><dd id=\"allocated\">%lld</dd>"
		  "<dt>Purchased</dt><dd id=\"purchased\">%lld</dd>"
		  "<dt>Low-stock threshold</dt><dd>%lld</dd></dl>",
		  (long long)(purchased - allocated), (long long)allocated,
		  (long long)purchased, (long long)pr->low_stock);
	if (pr->n_batches)
		timeline(&h, pr, r->today);
	batch_rows(&h, pr, lines, n_lines);
	if (n_lines == LINES_SHOWN)
		html_rawf(&h, "<p>The first %d lines are shown.</p>",
			  LINES_SHOWN);
	page_end(&h, p, 200);
}

/* ---- orders ------------------------------------------------------------ */

void dash_orders(const struct dash_req *r, struct dash_page *p)
{
	char obuf[SC_ID_MAX + 1];
	const char *orderid = arg(r, "orderid", obuf, sizeof(obuf));
	struct allocation_row *rows = NULL;
	struct html h = {0};
	struct sc_err err;
	size_t n = 0;

	err_clear(&err);
	if (orderid && *orderid &&
	    uow_allocations(r->uow, orderid, r->a, &rows, &n, &err)) {
		page_store_error(r, p, &err);
		return;
	}
	page_start(&h, "Orders", 1, r->signed_in);
	html_raw(&h, "<form class=\"filter\" method=\"get\" "
		     "action=\"/ui/orders\" role=\"search\"><label "
		     "for=\"orderid\">Order id</label><input id=\"orderid\" "
		     "name=\"orderid\" required value=\"");
	html_text(&h, orderid ? orderid : "");
	html_raw(&h, "\"><button type=\"submit\">Look up</button></form>");
	if (orderid && *orderid && !n) {
		html_raw(&h, "<p role=\"status\">No lines for order “");
		html_text(&h, orderid);
		html_raw(&h, "”.</p>");
	} else if (n) {
		html_raw(&h, "<div class=\"scroll\"><table><caption>Lines of "
			     "order “");
		html_text(&h, orderid);
		html_raw(&h, "”</caption><thead><tr><th scope=\"col\">SKU"
			     "</th><th scope=\"col\">Status</th></tr></thead>"
			     "<tbody>");
		for (size_t i = 0; i < n; i++) {
			html_raw(&h, "<tr><th scope=\"row\"><a "
				     "href=\"/ui/products/");
			html_url(&h, rows[i].sku);
			html_raw(&h, "\">");
			html_text(&h, rows[i].sku);
			html_raw(&h, "</a></th><td>");
			if (rows[i].batchref) {
				html_raw(&h, "allocated from ");
				html_text(&h, rows[i].batchref);
			} else {
				html_rawf(&h, "backordered: waiting for %lld",
					  (long long)rows[i].qty);
			}
			html_raw(&h, "</td></tr>");
		}
		table_end(&h);
	}
	page_end(&h, p, 200);
}

/* ---- sourcing -------------------------------------------------------- */

/* One scent's cheap favourability against the threshold, as a row. */
static void favour_row(struct html *h, const struct research_row *row,
		       const struct decision *d, int threshold_bp, int y)
{
	const int left = 170, span = 400;
	double x = left + span * row->cheap_bp / 10000.0;

	html_rawf(h, "<text x=\"0\" y=\"%d\">", y + 12);
	html_text(h, row->scent);
	html_raw(h, "</text>");
	if (d->has_interval)
		html_rawf(h,
			  "<line class=\"interval\" x1=\"%.1f\" y1=\"%d\" "
			  "x2=\"%.1f\" y2=\"%d\"/>",
			  left + span * d->ci_low_pct / 100.0, y + 8,
			  left + span * d->ci_high_pct / 100.0, y + 8);
	html_rawf(h,
		  "<circle class=\"%s\" cx=\"%.1f\" cy=\"%d\" r=\"5\"/>"
		  "<line class=\"threshold\" x1=\"%.1f\" y1=\"%d\" "
		  "x2=\"%.1f\" y2=\"%d\"/>",
		  d->supplier == SUPPLIER_CHEAP ? "cheap" : "expensive", x,
		  y + 8, left + span * threshold_bp / 10000.0, y,
		  left + span * threshold_bp / 10000.0, y + 16);
}

static void sourcing_table(struct html *h, const struct research_round *rd)
{
	table_start(h, "Decisions",
		    (const char *const[]){"Scent", "SKU", "Cheap favourability",
					  "95% interval", "Supplier", NULL});
	for (size_t i = 0; i < rd->n; i++) {
		const struct research_row *row = &rd->rows[i];
		const struct decision *d = &rd->decisions[i];

		html_raw(h, "<tr><th scope=\"row\">");
		html_text(h, row->scent);
		html_raw(h, "</th><td>");
		html_text(h, row->sku);
		html_rawf(h, "</td><td class=\"num\">%.2f%%</td><td>",
			  row->cheap_bp / 100.0);
		if (d->has_interval)
			html_rawf(h, "%.2f–%.2f%%", d->ci_low_pct,
				  d->ci_high_pct);
		else
			html_raw(h, "—");
		html_rawf(h, "</td><td>%s</td></tr>",
			  supplier_name(d->supplier));
	}
	table_end(h);
}

void dash_sourcing(const struct dash_req *r, struct dash_page *p)
{
	struct research_round *rd = NULL;
	struct html h = {0};
	struct sc_err err;
	char day[DATE_STR_MAX];
	int height;

	err_clear(&err);
	if (uow_research_round(r->uow, 0, r->a, &rd, &err)) {
		if (err.code != SC_ENOTFOUND) {
			page_store_error(r, p, &err);
			return;
		}
		page_start(&h, "Sourcing", 2, r->signed_in);
		html_raw(&h, "<p role=\"status\">No market research yet: "
			     "import a round (POST /sourcing/research or "
			     "scents sourcing import).</p>");
		page_end(&h, p, 200);
		return;
	}
	date_format(rd->day, day);
	height = (int)rd->n * 24 + 28;
	page_start(&h, "Sourcing", 2, r->signed_in);
	html_rawf(&h,
		  "<p>Round %lld of %s: the cheap supplier is chosen when "
		  "at least <strong id=\"threshold\">%.2f%%</strong> of "
		  "respondents favour it.</p>",
		  (long long)rd->id, day, rd->threshold_bp / 100.0);
	html_rawf(&h,
		  "<figure><svg class=\"favour\" viewBox=\"0 0 580 %d\" "
		  "role=\"img\" aria-labelledby=\"fv-title\"><title "
		  "id=\"fv-title\">Cheap favourability per scent, 0 to "
		  "100%%, with its 95%% interval and the threshold (the "
		  "table below has the figures)</title>",
		  height);
	for (size_t i = 0; i < rd->n; i++)
		favour_row(&h, &rd->rows[i], &rd->decisions[i],
			   rd->threshold_bp, (int)i * 24 + 4);
	/* the scale: 0, 50 and 100% under the rows */
	html_rawf(&h,
		  "<line class=\"axis\" x1=\"170\" y1=\"%d\" x2=\"570\" "
		  "y2=\"%d\"/><text x=\"166\" y=\"%d\">0%%</text><text "
		  "x=\"358\" y=\"%d\">50%%</text><text x=\"548\" "
		  "y=\"%d\">100%%</text>",
		  height - 18, height - 18, height - 4, height - 4, height - 4);
	html_raw(&h, "</svg><figcaption>Dot: share favouring the cheap "
		     "supplier (filled green: cheap chosen); bar: its 95% "
		     "interval; red tick: the threshold.</figcaption>"
		     "</figure>");
	sourcing_table(&h, rd);
	page_end(&h, p, 200);
}

/* ---- demand and surveys --------------------------------------------- */

/* @sku's weekly units (every outcome) in @d as a line, or nothing. */
static void sparkline(struct html *h, const struct demand_report *d,
		      const char *sku)
{
	int32_t first = d->q.from_day - (d->q.from_day + 3) % 7;
	int weeks = (d->q.to_day - first) / 7 + 1;
	int64_t most = 1, *per;
	double step;

	if (weeks < 2 || weeks > 600)
		return;
	per = mem_calloc((size_t)weeks, sizeof(*per));
	if (!per) {
		h->oom = true;
		return;
	}
	for (size_t i = 0; i < d->n_rows; i++) {
		const struct demand_row *r = &d->rows[i];
		int k = (r->bucket - first) / 7;

		if (strcmp(r->sku, sku) != 0 || k < 0 || k >= weeks)
			continue;
		for (int o = 0; o < DEMAND__OUTCOMES; o++)
			per[k] += r->units[o];
		if (per[k] > most)
			most = per[k];
	}
	step = 118.0 / (weeks - 1);
	html_raw(h, "<svg class=\"spark\" width=\"120\" height=\"24\" "
		    "aria-hidden=\"true\" focusable=\"false\"><polyline "
		    "points=\"");
	for (int k = 0; k < weeks; k++)
		html_rawf(h, "%.1f,%.1f ", 1 + step * k,
			  22 - 20.0 * (double)per[k] / (double)most);
	html_raw(h, "\"/></svg>");
	mem_free(per);
}

void dash_demand(const struct dash_req *r, struct dash_page *p)
{
	struct demand_query q = {r->today - 90, r->today, 7, false, NULL};
	struct demand_report d;
	struct html h = {0};
	struct sc_err err;
	char from[DATE_STR_MAX], to[DATE_STR_MAX];

	err_clear(&err);
	if (report_demand(r->uow, &q, r->a, &d, &err)) {
		page_store_error(r, p, &err);
		return;
	}
	date_format(q.from_day, from);
	date_format(q.to_day, to);
	page_start(&h, "Demand", 3, r->signed_in);
	html_rawf(&h,
		  "<p>Units ordered from %s to %s, by outcome; the line is "
		  "each week's units.</p>",
		  from, to);
	table_start(&h, "Demand per SKU",
		    (const char *const[]){"SKU", "Allocated", "Backordered",
					  "Refused", "Met from stock",
					  "Trend per week", "Weeks", NULL});
	for (size_t i = 0; i < d.n_skus; i++) {
		const struct demand_sku *s = &d.skus[i];

		html_raw(&h, "<tr><th scope=\"row\"><a href=\"/ui/products/");
		html_url(&h, s->sku);
		html_raw(&h, "\">");
		html_text(&h, s->sku);
		html_rawf(&h,
			  "</a></th><td class=\"num\">%lld</td><td "
			  "class=\"num\">%lld</td><td class=\"num\">%lld</td>",
			  (long long)s->units[DEMAND_ALLOCATED],
			  (long long)s->units[DEMAND_BACKORDERED],
			  (long long)s->units[DEMAND_REFUSED]);
		if (s->met_pct >= 0)
			html_rawf(&h, "<td class=\"num\">%.1f%%</td>",
				  s->met_pct);
		else
			html_raw(&h, "<td class=\"num\">—</td>");
		html_rawf(&h, "<td class=\"num\">%+.2f</td><td>",
			  s->trend_per_week);
		sparkline(&h, &d, s->sku);
		html_raw(&h, "</td></tr>");
	}
	table_end(&h);
	page_end(&h, p, 200);
}

static void variant_rows(struct html *h, const struct survey_report *sr)
{
	table_start(h, "Variants",
		    (const char *const[]){"Variant", "Formula version",
					  "Responses", "Acceptance",
					  "95% interval", "Mean rating", NULL});
	for (size_t i = 0; i < sr->s->n; i++) {
		const struct variant_tally *t = &sr->s->variants[i];
		const struct variant_stats *st = &sr->st[i];

		html_raw(h, "<tr><th scope=\"row\">");
		html_text(h, t->label);
		html_rawf(h,
			  "</th><td class=\"num\">%d</td><td class=\"num\">"
			  "%lld</td>",
			  (int)t->formula_version, (long long)t->responses);
		if (st->has_accept)
			html_rawf(h,
				  "<td class=\"num\">%.2f%%</td><td>%.2f–"
				  "%.2f%%</td>",
				  100 * st->accept, 100 * st->accept_lo,
				  100 * st->accept_hi);
		else
			html_raw(h, "<td>—</td><td>—</td>");
		if (st->has_rating)
			html_rawf(h, "<td class=\"num\">%.2f</td>", st->mean);
		else
			html_raw(h, "<td>—</td>");
		html_raw(h, "</tr>");
	}
	table_end(h);
}

void dash_survey(const struct dash_req *r, struct dash_page *p)
{
	long id = arg_long(r, "id", 0, 1, 1000000000);
	struct survey_report sr;
	struct html h = {0};
	struct sc_err err;

	err_clear(&err);
	if (id && report_survey(r->uow, id, NULL, r->a, &sr, &err)) {
		page_store_error(r, p, &err);
		return;
	}
	page_start(&h, "Surveys", 4, r->signed_in);
	html_rawf(
		&h,
		"<form class=\"filter\" method=\"get\" action=\"/ui/surveys\" "
		"role=\"search\"><label for=\"id\">Survey number</label>"
		"<input id=\"id\" name=\"id\" inputmode=\"numeric\" "
		"required value=\"%ld\"><button type=\"submit\">Show"
		"</button></form>",
		id);
	if (id) {
		html_raw(&h, "<h2>");
		html_text(&h, sr.s->name);
		html_raw(&h, " (");
		html_text(&h, sr.s->sku);
		html_raw(&h, ")</h2><p id=\"verdict\">");
		if (sr.v.winner >= 0) {
			html_raw(&h, "Winner: ");
			html_text(&h, sr.s->variants[sr.v.winner].label);
		} else if (sr.v.more_needed >= 0) {
			html_rawf(&h,
				  "No clear winner yet: about %lld more "
				  "respondents are needed.",
				  (long long)sr.v.more_needed);
		} else {
			html_raw(&h, "No clear winner.");
		}
		html_raw(&h, "</p>");
		variant_rows(&h, &sr);
	}
	page_end(&h, p, 200);
}

/* ---- venues ---------------------------------------------------------- */

void dash_venues(const struct dash_req *r, struct dash_page *p)
{
	struct venue_record *v = NULL;
	struct html h = {0};
	struct sc_err err;
	size_t n = 0;

	err_clear(&err);
	if (uow_venue_list(r->uow, r->a, &v, &n, &err)) {
		page_store_error(r, p, &err);
		return;
	}
	page_start(&h, "Venues", 5, r->signed_in);
	if (!n)
		html_raw(&h, "<p role=\"status\">No venues stored yet.</p>");
	else
		html_raw(&h, "<ul class=\"plain\">");
	for (size_t i = 0; i < n; i++) {
		html_rawf(&h, "<li><a href=\"/ui/venues/%lld\">",
			  (long long)v[i].id);
		html_text(&h, v[i].name);
		html_rawf(&h, "</a> (version %lld)</li>",
			  (long long)v[i].version);
	}
	if (n)
		html_raw(&h, "</ul>");
	page_end(&h, p, 200);
}

static void cartridge_rows(struct html *h, const struct venue_record *v)
{
	table_start(h, "Cartridges",
		    (const char *const[]){"Seat", "Slot", "Scent", "Batch",
					  "Level (µl)", "Level", NULL});
	for (size_t i = 0; i < v->n_cartridges; i++) {
		const struct cartridge_row *c = &v->cartridges[i];
		bool low = c->level_ul < v->alert_below_ul;
		double w = (double)BAR_W * (double)c->level_ul /
			   (double)(v->capacity_ul ? v->capacity_ul : 1);

		html_rawf(h,
			  "<tr%s><th scope=\"row\">%c%d</th><td>%d</td>"
			  "<td>",
			  low ? " class=\"low\"" : "", 'A' + c->row,
			  (int)c->seat, (int)c->slot);
		html_text(h, c->sku);
		html_raw(h, "</td><td>");
		html_text(h, c->batch ? c->batch : "—");
		html_rawf(h,
			  "</td><td class=\"num\">%lld%s</td><td><svg "
			  "class=\"bar\" width=\"%d\" height=\"10\" "
			  "aria-hidden=\"true\" focusable=\"false\"><rect "
			  "class=\"%s\" x=\"0\" y=\"0\" width=\"%.1f\" "
			  "height=\"10\"/></svg></td></tr>",
			  (long long)c->level_ul, low ? " (low)" : "", BAR_W,
			  low ? "low" : "available", w);
	}
	table_end(h);
}

static void show_rows(struct html *h, const struct show_record *s, size_t n)
{
	table_start(h, "Shows played",
		    (const char *const[]){"Show", "Track", "Fires acknowledged",
					  "Missed", "Seat releases", "Used",
					  NULL});
	for (size_t i = 0; i < n; i++) {
		html_rawf(h,
			  "<tr><th scope=\"row\">%lld</th><td>%lld</td><td "
			  "class=\"num\">%lld of %lld</td><td class=\"num\">"
			  "%lld</td><td class=\"num\">%lld</td><td>",
			  (long long)s[i].id, (long long)s[i].track_id,
			  (long long)s[i].acked, (long long)s[i].fires,
			  (long long)s[i].missed,
			  (long long)s[i].seat_releases);
		for (size_t k = 0; k < s[i].n_used; k++) {
			html_text(h, s[i].used[k].sku);
			html_rawf(h, " %lld µl%s", (long long)s[i].used[k].ul,
				  k + 1 < s[i].n_used ? "; " : "");
		}
		html_raw(h, "</td></tr>");
	}
	table_end(h);
}

void dash_venue(const struct dash_req *r, struct dash_page *p)
{
	char id[24];
	struct venue_record *v;
	struct show_record *s = NULL;
	struct html h = {0};
	struct sc_err err;
	char *end = NULL;
	long long n_id = 0;
	size_t n = 0;

	err_clear(&err);
	if (segment(r, "/ui/venues/", id, sizeof(id)))
		n_id = strtoll(id, &end, 10);
	if (!end || *end || n_id < 1) {
		page_error(r, p, 400, "Bad request",
			   "a venue id is a positive integer");
		return;
	}
	if (uow_venue_get(r->uow, n_id, r->a, &v, &err) ||
	    uow_show_list(r->uow, n_id, r->a, &s, &n, &err)) {
		page_store_error(r, p, &err);
		return;
	}
	page_start(&h, v->name, 5, r->signed_in);
	html_rawf(&h,
		  "<p>Cartridges of %lld µl; the stock team is alerted "
		  "below %lld µl.</p>",
		  (long long)v->capacity_ul, (long long)v->alert_below_ul);
	cartridge_rows(&h, v);
	show_rows(&h, s, n);
	page_end(&h, p, 200);
}

/* ---- sign-in and the stylesheet --------------------------------------- */

void dash_login(const char *message, unsigned status, struct dash_page *p)
{
	struct html h = {0};

	page_start(&h, "Sign in", -1, false);
	if (message) {
		html_raw(&h, "<p class=\"error\" role=\"alert\">");
		html_text(&h, message);
		html_raw(&h, "</p>");
	}
	html_raw(&h, "<form class=\"login\" method=\"post\" "
		     "action=\"/ui/login\"><label for=\"token\">API token "
		     "with the read scope</label><input id=\"token\" "
		     "name=\"token\" type=\"password\" autocomplete=\"off\" "
		     "required><button type=\"submit\">Sign in</button>"
		     "</form><p>An administrator makes one with "
		     "<code>scents token create --name NAME --scope read"
		     "</code>. The token is kept in a cookie this page's "
		     "scripts cannot read (there are none), sent only to "
		     "this server.</p>");
	page_end(&h, p, status);
}

/*
 * Colours meet WCAG AA on white (4.5:1 for text): #1a1a1a text, links
 * #0b5394 (7.6:1), allocated #0b5394, available #1b7f3b (5.1:1),
 * incoming #8a5a00 (6.1:1), low #b00020 (7.2:1).
 */
static const char css[] =
	":root{color:#1a1a1a;background:#fff;font:16px/1.5 system-ui,"
	"sans-serif}body{margin:0}a{color:#0b5394}"
	".skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;"
	"background:#fff;padding:4px}"
	"header{display:flex;flex-wrap:wrap;justify-content:space-between;"
	"align-items:center;border-bottom:1px solid #ccc;padding:0 1rem}"
	"header ul{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;"
	"margin:0;padding:.5rem 0}header a[aria-current]{font-weight:700;"
	"text-decoration:none;border-bottom:3px solid #0b5394}"
	"main{padding:0 1rem 2rem;max-width:72rem}"
	"h1{font-size:1.6rem}:focus-visible{outline:3px solid #8a5a00;"
	"outline-offset:2px}"
	".scroll{overflow-x:auto}table{border-collapse:collapse;"
	"min-width:100%}caption{text-align:left;font-weight:700;"
	"padding:.5rem 0}th,td{padding:.3rem .6rem;border-bottom:1px "
	"solid #ddd;text-align:left;vertical-align:top}td.num{text-align:"
	"right;font-variant-numeric:tabular-nums}"
	"form.filter,form.login{display:flex;flex-wrap:wrap;gap:.5rem;"
	"align-items:center;margin:1rem 0}input{font:inherit;padding:.3rem}"
	"button{font:inherit;padding:.3rem .8rem;color:#fff;background:"
	"#0b5394;border:0;border-radius:3px}"
	".pager{display:flex;gap:1rem;margin:1rem 0}"
	".error{color:#b00020;font-weight:700}"
	".allocated{fill:#0b5394;background:#0b5394}"
	".available{fill:#1b7f3b;background:#1b7f3b}"
	".incoming{fill:#8a5a00;background:#8a5a00}"
	".low{fill:#b00020;color:#b00020}"
	".purchased{fill:#fff;stroke:#0b5394}"
	".key{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem}"
	"svg text{font:12px system-ui,sans-serif;fill:#1a1a1a}"
	".spark polyline{fill:none;stroke:#0b5394;stroke-width:1.5}"
	".axis{stroke:#555}.interval{stroke:#1a1a1a;stroke-width:2}"
	".threshold{stroke:#b00020;stroke-width:2}"
	"circle.cheap{fill:#1b7f3b}circle.expensive{fill:#fff;"
	"stroke:#0b5394;stroke-width:2}"
	"figure{margin:1rem 0;max-width:40rem}svg.timeline,svg.favour"
	"{width:100%;height:auto}"
	".facts{display:grid;grid-template-columns:max-content auto;"
	"gap:.2rem 1rem}.facts dd{margin:0;font-weight:700}"
	"ul.plain{padding-left:1rem}footer{color:#555;padding:1rem;"
	"border-top:1px solid #ccc}"
	"@media (max-width:40rem){td,th{padding:.2rem .3rem}"
	"svg.bar{width:80px}}";

void dash_css(struct dash_page *p)
{
	p->status = 200;
	p->body = mem_strdup(css);
	p->content_type = "text/css; charset=utf-8";
	p->cacheable = true;
}

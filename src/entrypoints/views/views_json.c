/*
 * entrypoints/views/views_json.c - JSON of products, product pages and
 * allocations, for every transport.
 */
#include "entrypoints/views/views_json.h"

#include <stdio.h>
#include <time.h>

#include "domain/customer.h"
#include "domain/date.h"
#include "domain/model.h"
#include "domain/sourcing.h"
#include "service/handlers.h"
#include "service/uow.h"

static json_t *batch_json(const struct batch *b)
{
	char eta[DATE_STR_MAX];

	if (b->has_eta)
		date_format(b->eta, eta);
	return json_pack("{s:s, s:s?, s:I, s:I, s:I, s:s?}", "ref", b->ref,
			 "eta", b->has_eta ? eta : NULL, "purchased",
			 (json_int_t)b->purchased, "allocated",
			 (json_int_t)b->allocated, "available",
			 (json_int_t)batch_available(b), "supplier",
			 supplier_name(b->supplier));
}

json_t *views_product_json(const struct product *p)
{
	json_t *batches = json_array();

	for (size_t i = 0; batches && i < p->n_batches; i++)
		if (json_array_append_new(batches, batch_json(&p->batches[i])))
			break;
	return json_pack("{s:s, s:I, s:I, s:o}", "sku", p->sku, "version",
			 (json_int_t)p->version, "low_stock_threshold",
			 (json_int_t)p->low_stock, "batches", batches);
}

json_t *views_products_json(const struct product_list *page, size_t limit)
{
	const struct product_summary *rows = page->items;
	size_t n = page->n;
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(
			    arr,
			    json_pack(
				    "{s:s, s:I, s:I, s:I, s:I, s:I}", "sku",
				    rows[i].sku, "purchased",
				    (json_int_t)rows[i].purchased, "allocated",
				    (json_int_t)rows[i].allocated, "available",
				    (json_int_t)(rows[i].purchased -
						 rows[i].allocated),
				    "batches", (json_int_t)rows[i].n_batches,
				    "incoming", (json_int_t)rows[i].incoming)))
			break;
	return json_pack("{s:o, s:s?}", "products", arr, "next",
			 n == limit && n ? rows[n - 1].sku : NULL);
}

json_t *views_allocations_json(const struct allocation_row *rows, size_t n)
{
	json_t *arr = json_array();

	/*
	 * An allocated line keeps the reference app's exact shape (clients
	 * compare it whole); a waiting one says so.
	 */
	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(
			    arr, rows[i].batchref
					 ? json_pack("{s:s, s:s}", "sku",
						     rows[i].sku, "batchref",
						     rows[i].batchref)
					 : json_pack("{s:s, s:I, s:s}", "sku",
						     rows[i].sku, "qty",
						     (json_int_t)rows[i].qty,
						     "status", "backordered")))
			break;
	return arr;
}

json_t *views_freed_json(const char *orderid, const struct freed_line *lines,
			 size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++)
		if (json_array_append_new(
			    arr,
			    json_pack("{s:s, s:I, s:s?}", "sku", lines[i].sku,
				      "qty", (json_int_t)lines[i].qty,
				      "batchref", lines[i].batchref))) {
			json_decref(arr);
			return NULL;
		}
	return arr ? json_pack("{s:s, s:o}", "orderid", orderid, "freed", arr)
		   : NULL;
}

/* Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into @buf (>= 21 bytes). */
static const char *utc(int64_t t, char *buf, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		(void)snprintf(buf, n, "1970-01-01T00:00:00Z");
	return buf;
}

json_t *views_customer_json(const struct customer_record *c)
{
	char when[32];

	return json_pack("{s:s, s:s, s:s?, s:s?, s:s}", "id", c->id, "name",
			 c->name, "email", c->email, "webhook_url",
			 c->webhook_url, "created_at",
			 utc(c->created_at, when, sizeof(when)));
}

json_t *views_deliveries_json(const struct delivery *d, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		char when[32], next[32], eta[DATE_STR_MAX];
		json_t *o;

		if (d[i].has_eta)
			date_format(d[i].eta, eta);
		o = json_pack(
			"{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s?, s:s,"
			" s:i, s:s?, s:s?, s:s, s:s?}",
			"id", (json_int_t)d[i].id, "customer", d[i].customer,
			"channel", d[i].channel, "target", d[i].target, "type",
			notice_name(d[i].kind), "orderid", d[i].ev.orderid,
			"sku", d[i].ev.sku, "qty", (json_int_t)d[i].ev.qty,
			"batchref", d[i].ev.batchref, "state",
			notice_state_name(d[i].state), "attempts",
			(int)d[i].attempts, "last_error", d[i].last_error,
			"next_attempt_at",
			d[i].state == NOTICE_PENDING
				? utc(d[i].next_at_ms / 1000, next,
				      sizeof(next))
				: NULL,
			"created_at", utc(d[i].created_at, when, sizeof(when)),
			"eta", d[i].has_eta ? eta : NULL);

		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

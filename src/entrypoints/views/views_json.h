/*
 * entrypoints/views/views_json.h - the JSON of the read views, one
 * definition shared by the HTTP API and the CLI, so `scents product SKU`
 * prints exactly what GET /products/{sku} answers.
 */
#ifndef SCENTS_ENTRYPOINTS_VIEWS_VIEWS_JSON_H
#define SCENTS_ENTRYPOINTS_VIEWS_VIEWS_JSON_H

#include <jansson.h>
#include <stddef.h>

struct allocation_row;
struct customer_record;
struct delivery;
struct freed_line;
struct product;
struct product_list;

/*
 * {"sku","version","low_stock_threshold","batches":[...]}; NULL when out
 * of memory.
 */
json_t *views_product_json(const struct product *p);

/*
 * {"products":[...],"next"}: one page of @page asked with @limit; "next"
 * is the last sku when the page is full, else null.  NULL on OOM.
 */
json_t *views_products_json(const struct product_list *page, size_t limit);

/*
 * [{"sku","batchref"} or {"sku","qty","status":"backordered"}, ...];
 * NULL when out of memory.
 */
json_t *views_allocations_json(const struct allocation_row *rows, size_t n);

/*
 * What a Deallocate freed: {"orderid","freed":[{"sku","qty","batchref"}]};
 * NULL when out of memory.
 */
json_t *views_freed_json(const char *orderid, const struct freed_line *lines,
			 size_t n);

/* {"id","name","email","webhook_url","created_at"}: never the secret. */
json_t *views_customer_json(const struct customer_record *c);

/* [{"id","customer","channel","target","type","orderid",...}, ...]. */
json_t *views_deliveries_json(const struct delivery *d, size_t n);

#endif

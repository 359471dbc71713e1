/*
 * domain/events.c - the table of outgoing events.
 */
#include "domain/events.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define NONE	 SIZE_MAX
#define AT(m, f) offsetof(struct msg, u.m.f)
#define BIT(f)	 (1u << (f))
#define ALL_FOUR                                                               \
	(BIT(EF_ORDERID) | BIT(EF_SKU) | BIT(EF_QTY) | BIT(EF_BATCHREF))

/*
 * "Out of stock for <SKU>" first (design.md; mail filters match it), then
 * the line that found no stock when the event recorded one.
 */
static void out_of_stock_mail(const struct event_fields *f, char *buf, size_t n)
{
	if (f->orderid && f->has_qty)
		(void)snprintf(buf, n,
			       "Out of stock for %s: order %s wanted %lld",
			       f->sku, f->orderid, (long long)f->qty);
	else
		(void)snprintf(buf, n, "Out of stock for %s", f->sku);
}

static void low_stock_mail(const struct event_fields *f, char *buf, size_t n)
{
	(void)snprintf(buf, n,
		       "Low stock for %s: %lld available, below its threshold",
		       f->sku, (long long)f->qty);
}

static void backorder_waiting_mail(const struct event_fields *f, char *buf,
				   size_t n)
{
	(void)snprintf(buf, n,
		       "Backorder waiting too long for %s: order %s wants %lld",
		       f->sku, f->orderid, (long long)f->qty);
}

static void cartridge_low_mail(const struct event_fields *f, char *buf,
			       size_t n)
{
	(void)snprintf(buf, n, "Cartridge low for %s: %s holds %lld ul%s%s%s",
		       f->sku, f->orderid, (long long)f->qty,
		       f->batchref ? " (batch " : "",
		       f->batchref ? f->batchref : "", f->batchref ? ")" : "");
}

static const struct event_kind kinds[] = {
	{MSG_ALLOCATED,
	 "Allocated",
	 ROUTE_PUBLISH,
	 "line_allocated",
	 ALL_FOUR,
	 0,
	 NULL,
	 {AT(allocated, orderid), AT(allocated, sku), AT(allocated, qty),
	  AT(allocated, batchref)}},
	/* the reference app's Deallocated, as design.md section 5 gives it */
	{MSG_DEALLOCATED,
	 "Deallocated",
	 ROUTE_PUBLISH,
	 "line_deallocated",
	 BIT(EF_ORDERID) | BIT(EF_SKU) | BIT(EF_QTY),
	 0,
	 NULL,
	 {AT(deallocated, orderid), AT(deallocated, sku), AT(deallocated, qty),
	  NONE}},
	/*
	 * The line that found no stock is optional: rows stored before it
	 * was recorded (schema 5 and earlier) must still be delivered.
	 */
	/* a line that waits for stock (issue 14) */
	{MSG_BACKORDERED,
	 "Backordered",
	 ROUTE_PUBLISH,
	 "line_backordered",
	 BIT(EF_ORDERID) | BIT(EF_SKU) | BIT(EF_QTY),
	 0,
	 NULL,
	 {AT(backordered, orderid), AT(backordered, sku), AT(backordered, qty),
	  NONE}},
	{MSG_OUT_OF_STOCK,
	 "OutOfStock",
	 ROUTE_NOTIFY_STOCK,
	 "out_of_stock",
	 BIT(EF_ORDERID) | BIT(EF_SKU) | BIT(EF_QTY),
	 BIT(EF_ORDERID) | BIT(EF_QTY),
	 out_of_stock_mail,
	 {AT(out_of_stock, orderid), AT(out_of_stock, sku),
	  AT(out_of_stock, qty), NONE}},
	/* a sku's available units fell below its threshold (qty: available) */
	{MSG_LOW_STOCK,
	 "LowStock",
	 ROUTE_NOTIFY_STOCK,
	 "low_stock",
	 BIT(EF_SKU) | BIT(EF_QTY),
	 0,
	 low_stock_mail,
	 {NONE, AT(low_stock, sku), AT(low_stock, available), NONE}},
	/* a line's batch arrives at another date (its customer is told) */
	{MSG_ETA_CHANGED,
	 "EtaChanged",
	 ROUTE_PUBLISH,
	 "line_eta_changed",
	 ALL_FOUR,
	 0,
	 NULL,
	 {AT(eta_changed, orderid), AT(eta_changed, sku), AT(eta_changed, qty),
	  AT(eta_changed, batchref)}},
	/* a backorder older than BACKORDER_ALERT_AGE_S, told once */
	{MSG_BACKORDER_WAITING,
	 "BackorderWaiting",
	 ROUTE_NOTIFY_STOCK,
	 "backorder_waiting",
	 BIT(EF_ORDERID) | BIT(EF_SKU) | BIT(EF_QTY),
	 0,
	 backorder_waiting_mail,
	 {AT(backorder_waiting, orderid), AT(backorder_waiting, sku),
	  AT(backorder_waiting, qty), NONE}},
	/*
	 * A seat's cartridge fell below its venue's threshold after a show
	 * (issue 16).  It names no order: the orderid field carries the
	 * cartridge ("Screen 3 A1 slot 1"), qty its level in ul, batchref
	 * the batch it was filled from when known.
	 */
	{MSG_CARTRIDGE_LOW,
	 "CartridgeLow",
	 ROUTE_NOTIFY_STOCK,
	 "cartridge_low",
	 ALL_FOUR,
	 BIT(EF_BATCHREF) | BIT(EF_QTY),
	 cartridge_low_mail,
	 {AT(cartridge_low, cartridge), AT(cartridge_low, sku),
	  AT(cartridge_low, level_ul), AT(cartridge_low, batch)}},
};

const struct event_kind *event_kind_of(enum msg_type type)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].type == type)
			return &kinds[i];
	return NULL;
}

const struct event_kind *event_kind_named(const char *name)
{
	for (size_t i = 0; name && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kinds[i].name, name))
			return &kinds[i];
	return NULL;
}

size_t event_kind_count(void)
{
	return sizeof(kinds) / sizeof(kinds[0]);
}

const struct event_kind *event_kind_at(size_t i)
{
	return i < event_kind_count() ? &kinds[i] : NULL;
}

/* The string field @f of @m as @k places it, or NULL. */
static const char *str_at(const struct event_kind *k, const struct msg *m,
			  enum event_field f)
{
	const char *s;

	if (!(k->fields & BIT(f)))
		return NULL;
	memcpy(&s, (const char *)m + k->offset[f], sizeof(s));
	return s;
}

static void put_str(const struct event_kind *k, struct msg *m,
		    enum event_field f, const char *s)
{
	if (k->fields & BIT(f))
		memcpy((char *)m + k->offset[f], &s, sizeof(s));
}

void event_flatten(const struct msg *ev, struct event_fields *out)
{
	const struct event_kind *k = event_kind_of(ev->type);

	memset(out, 0, sizeof(*out));
	if (!k)
		return;
	out->orderid = str_at(k, ev, EF_ORDERID);
	out->sku = str_at(k, ev, EF_SKU);
	out->batchref = str_at(k, ev, EF_BATCHREF);
	if (k->fields & BIT(EF_QTY)) {
		memcpy(&out->qty, (const char *)ev + k->offset[EF_QTY],
		       sizeof(out->qty));
		/* a line's qty is at least 1: an optional 0 is absent */
		out->has_qty = !(k->optional & BIT(EF_QTY)) || out->qty != 0;
	}
}

int event_unflatten(const struct event_kind *k, const struct event_fields *f,
		    struct msg *out)
{
	unsigned need = k->fields & ~k->optional;

	if (((need & BIT(EF_ORDERID)) && !f->orderid) ||
	    ((need & BIT(EF_SKU)) && !f->sku) ||
	    ((need & BIT(EF_BATCHREF)) && !f->batchref) ||
	    ((need & BIT(EF_QTY)) && !f->has_qty))
		return -1;
	memset(out, 0, sizeof(*out));
	out->type = k->type;
	put_str(k, out, EF_ORDERID, f->orderid);
	put_str(k, out, EF_SKU, f->sku);
	put_str(k, out, EF_BATCHREF, f->batchref);
	if ((k->fields & BIT(EF_QTY)) && f->has_qty)
		memcpy((char *)out + k->offset[EF_QTY], &f->qty,
		       sizeof(f->qty));
	return 0;
}

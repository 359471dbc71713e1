/*
 * domain/events.h - the one table of events that leave the process.
 *
 * Every outgoing event kind is one row here: its stored name, the channel
 * it is published on (or that it goes to the stock team), and where each
 * of its fields lives in struct msg.  Stores keep an event as its kind
 * name plus the flat fields below; the relay, the publishers and every
 * store adapter go through this table and never switch on a kind, so a
 * new outgoing event is one row here and nothing else.
 */
#ifndef SCENTS_DOMAIN_EVENTS_H
#define SCENTS_DOMAIN_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/messages.h"

/* The fields an outgoing event may carry, in their wire order. */
enum event_field {
	EF_ORDERID,  /* string */
	EF_SKU,	     /* string; every event has one */
	EF_QTY,	     /* integer */
	EF_BATCHREF, /* string */
	EF__COUNT
};

/* An event flattened for storage: absent fields are NULL / has_qty false. */
struct event_fields {
	const char *orderid;  /* EF_ORDERID */
	const char *sku;      /* EF_SKU */
	bool has_qty;	      /* EF_QTY present */
	int64_t qty;	      /* EF_QTY */
	const char *batchref; /* EF_BATCHREF */
};

/* Where an event goes once committed. */
enum event_route {
	ROUTE_PUBLISH,	   /* to other systems, on @channel */
	ROUTE_NOTIFY_STOCK /* an email to the stock team */
};

struct event_kind {
	enum msg_type type;	/* the event */
	const char *name;	/* stored and logged: msg_name(type) */
	enum event_route route; /* where it goes */
	const char *channel;	/* wire channel / metrics label */
	unsigned fields;	/* bit (1u << EF_x) per field carried */
	unsigned optional;	/* of those, the ones that may be absent
				   (a NULL string; a qty of 0) */
	/* ROUTE_NOTIFY_STOCK: the mail's body into @buf (@n bytes) */
	void (*stock_mail)(const struct event_fields *f, char *buf, size_t n);
	size_t offset[EF__COUNT]; /* of each carried field in struct msg */
};

/* The row of outgoing event @type, or NULL when @type does not leave. */
const struct event_kind *event_kind_of(enum msg_type type);

/* The row named @name (as stored), or NULL. */
const struct event_kind *event_kind_named(const char *name);

/* Row @i of the table, i < event_kind_count(); for tests and docs. */
const struct event_kind *event_kind_at(size_t i);
size_t event_kind_count(void);

/* @ev's fields, by the table; @ev must be an outgoing event. */
void event_flatten(const struct msg *ev, struct event_fields *out);

/*
 * Rebuild the event of kind @k from @f (strings borrowed).  -1 when a
 * field the kind requires is missing (a damaged row).
 */
int event_unflatten(const struct event_kind *k, const struct event_fields *f,
		    struct msg *out);

#endif

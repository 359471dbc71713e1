/*
 * service/relay.c - one delivery round over the outbox.
 */
#include "service/relay.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "domain/events.h"
#include "domain/messages.h"
#include "domain/model.h"
#include "service/handlers.h"
#include "service/notifier.h"
#include "service/publisher.h"
#include "service/uow.h"

void relay_init(struct relay *r, struct uow *uow, struct publisher *pub,
		struct notifier *notifier, const char *stock_email)
{
	memset(r, 0, sizeof(*r));
	r->uow = uow;
	r->publisher = pub;
	r->notifier = notifier;
	r->stock_email = stock_email;
	arena_init(&r->arena);
}

void relay_release(struct relay *r)
{
	arena_release(&r->arena);
}

/* ROUTE_PUBLISH (Allocated): tell other systems on the kind's channel. */
static int publish_event(struct relay *r, const struct event_kind *k,
			 const struct outbox_item *it, struct sc_err *err)
{
	return publisher_publish(r->publisher, k->channel, it->id, &it->ev,
				 err);
}

/*
 * ROUTE_NOTIFY_STOCK (OutOfStock): tell the stock team, naming the order
 * line that found no stock when the event recorded one (design.md keeps
 * "Out of stock for <SKU>" first: mail filters match it).
 */
static int notify_stock_team(struct relay *r, const struct outbox_item *it,
			     struct sc_err *err)
{
	struct event_fields f;
	char body[2 * SC_ID_MAX + 96];

	event_flatten(&it->ev, &f);
	if (f.orderid && f.has_qty)
		(void)snprintf(body, sizeof(body),
			       "Out of stock for %s: order %s wanted %lld",
			       f.sku, f.orderid, (long long)f.qty);
	else
		(void)snprintf(body, sizeof(body), "Out of stock for %s",
			       f.sku);
	return notifier_send(r->notifier, r->stock_email, body, err);
}

/* Deliver one event; SC_EIO (or the adapter's code) when it fails. */
static int deliver(struct relay *r, const struct outbox_item *it,
		   struct sc_err *err)
{
	const struct event_kind *k = event_kind_of(it->ev.type);
	bool publish = k->route == ROUTE_PUBLISH;
	int rc = publish ? publish_event(r, k, it, err)
			 : notify_stock_team(r, it, err);

	if (r->status) {
		struct delivery_status *st = r->status;

		atomic_store(publish ? &st->publisher : &st->notifier,
			     rc ? DELIVERY_FAILING : DELIVERY_OK);
		atomic_fetch_add(
			publish ? (rc ? &st->publish_failures : &st->published)
				: (rc ? &st->notify_failures : &st->notified),
			1);
	}
	return rc;
}

/* Mark @n ids; a failure here means they will be delivered again. */
static int mark(struct relay *r, const int64_t *ids, size_t n, bool sent,
		struct sc_err *err)
{
	return n ? uow_outbox_mark(r->uow, ids, n, sent, err) : SC_OK;
}

int relay_run_once(struct relay *r, size_t *n_sent, struct sc_err *err)
{
	int64_t sent[RELAY_BATCH], failed[RELAY_BATCH];
	size_t n = 0, n_ok = 0, n_bad = 0;
	bool blocked[MSG__COUNT] = {false};
	struct outbox_item *items;
	int rc;

	arena_reset(&r->arena);
	/* claimed: another server on the same store skips these */
	rc = uow_outbox_claim(r->uow, RELAY_BATCH, &r->arena, &items, &n, err);
	for (size_t i = 0; !rc && i < n; i++) {
		struct sc_err e;
		char esc[SC_ERR_MSG_MAX * 4];

		if (blocked[items[i].ev.type])
			continue; /* keep this channel in order */
		err_clear(&e);
		if (!deliver(r, &items[i], &e)) {
			sent[n_ok++] = items[i].id;
			continue;
		}
		blocked[items[i].ev.type] = true;
		failed[n_bad++] = items[i].id;
		log_msg(LOG_WARN,
			"relay=deliver id=%lld event=%s attempts=%u "
			"error=\"%s\"",
			(long long)items[i].id, msg_name(items[i].ev.type),
			items[i].attempts + 1,
			log_escape(e.msg, strlen(e.msg), esc, sizeof(esc)));
	}
	if (!rc)
		rc = mark(r, sent, n_ok, true, err);
	if (!rc)
		rc = mark(r, failed, n_bad, false, err);
	r->n_sent += n_ok;
	r->n_failed += n_bad;
	if (n_sent)
		*n_sent = n_ok;
	if (!rc && n_bad)
		rc = err_set(err, SC_EIO, "%zu of %zu deliveries failed", n_bad,
			     n);
	return rc;
}

/*
 * service/relay.c - one delivery round over the outbox.
 */
#include "service/relay.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "domain/events.h"
#include "domain/messages.h"
#include "domain/model.h"
#include "service/handlers.h"
#include "service/notifier.h"
#include "service/publisher.h"
#include "service/uow.h"

static int64_t wall_clock(void)
{
	return (int64_t)time(NULL);
}

void relay_init(struct relay *r, struct uow *uow, struct publisher *pub,
		struct notifier *notifier, const char *stock_email)
{
	memset(r, 0, sizeof(*r));
	r->now_s = wall_clock;
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

/* FNV-1a of @k's name and @sku; never 0 (0 marks a free slot). */
static uint64_t fold_key(const struct event_kind *k, const char *sku)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *s = k->name; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL; /* "LowStockX" != "LowStock" "X" */
	for (const char *s = sku; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/*
 * ROUTE_NOTIFY_STOCK: tell the stock team, in the kind's own words, at
 * most once per kind and sku within the coalescing window (relay.h).
 */
static int notify_stock_team(struct relay *r, const struct event_kind *k,
			     const struct outbox_item *it, struct sc_err *err)
{
	struct event_fields f;
	char body[2 * SC_ID_MAX + 200];
	struct relay_fold *slot;
	uint64_t key;
	int64_t now = r->now_s();
	size_t n;
	int rc;

	event_flatten(&it->ev, &f);
	key = fold_key(k, f.sku);
	slot = &r->folds[key % RELAY_FOLD_SLOTS];
	if (r->coalesce_s > 0 && slot->key == key &&
	    now - slot->last < r->coalesce_s) {
		slot->folded++; /* told already: counted, not mailed */
		return SC_OK;
	}
	k->stock_mail(&f, body, sizeof(body));
	n = strlen(body);
	if (slot->key == key && slot->folded)
		(void)snprintf(body + n, sizeof(body) - n,
			       " (and %u more like it since the last mail)",
			       slot->folded);
	rc = notifier_send(r->notifier, r->stock_email, body, err);
	if (!rc) {
		slot->key = key;
		slot->last = now;
		slot->folded = 0;
	}
	return rc;
}

/* Deliver one event; SC_EIO (or the adapter's code) when it fails. */
static int deliver(struct relay *r, const struct outbox_item *it,
		   struct sc_err *err)
{
	const struct event_kind *k = event_kind_of(it->ev.type);
	bool publish = k->route == ROUTE_PUBLISH;
	int rc = publish ? publish_event(r, k, it, err)
			 : notify_stock_team(r, k, it, err);

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

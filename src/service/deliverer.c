/*
 * service/deliverer.c - sending the notices customers are owed.
 */
#include "service/deliverer.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "domain/customer.h"
#include "domain/date.h"
#include "service/notifier.h"
#include "service/relay.h"
#include "service/uow.h"
#include "service/webhook.h"

void deliverer_init(struct deliverer *d, struct uow *uow,
		    struct webhook *webhook, struct notifier *mail,
		    uint64_t seed)
{
	memset(d, 0, sizeof(*d));
	d->uow = uow;
	d->webhook = webhook;
	d->mail = mail;
	d->max_attempts = 8;
	d->backoff_ms = 1000;
	d->backoff_max_ms = 3600 * 1000;
	d->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	arena_init(&d->arena);
}

void deliverer_release(struct deliverer *d)
{
	arena_release(&d->arena);
}

static uint64_t next_rand(struct deliverer *d)
{
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return d->rng;
}

int64_t deliverer_backoff_ms(struct deliverer *d, unsigned attempts)
{
	uint64_t cap = d->backoff_ms ? d->backoff_ms : 1;

	/* doubling stops at the ceiling, long before it could overflow */
	for (unsigned i = 1; i < attempts && cap < d->backoff_max_ms; i++)
		cap *= 2;
	if (cap > d->backoff_max_ms)
		cap = d->backoff_max_ms;
	return (int64_t)(next_rand(d) % (cap + 1));
}

/* The email a customer gets: one line of what happened, then the facts. */
static int send_mail(struct deliverer *d, const struct delivery *dl,
		     struct sc_err *err)
{
	static const char *const what[] = {
		[NOTICE_ALLOCATED] = "is allocated",
		[NOTICE_BACKORDERED] = "is waiting for stock",
		[NOTICE_DEALLOCATED] = "no longer holds stock",
		[NOTICE_ETA_CHANGED] = "arrives at another date",
	};
	char body[4 * 256 + 256];
	int n;

	n = snprintf(body, sizeof(body),
		     "Your order %s: %lld of %s %s.\n\nnotice: %s\nid: %lld\n",
		     dl->ev.orderid, (long long)dl->ev.qty, dl->ev.sku,
		     what[dl->kind], notice_name(dl->kind), (long long)dl->id);
	if (dl->ev.batchref && n > 0 && (size_t)n < sizeof(body)) {
		char eta[32] = "in the warehouse";

		if (dl->has_eta)
			date_format(dl->eta, eta);
		(void)snprintf(body + n, sizeof(body) - (size_t)n,
			       "batch: %s\neta: %s\n", dl->ev.batchref, eta);
	}
	return notifier_send(d->mail, dl->target, body, err);
}

/* Send @dl once; fill @o.  Failures are outcomes. */
static void attempt(struct deliverer *d, const struct delivery *dl,
		    int64_t now_ms, struct delivery_outcome *o, char *why,
		    size_t why_size)
{
	struct sc_err e;
	int rc;

	err_clear(&e);
	rc = !strcmp(dl->channel, "webhook") ? webhook_send(d->webhook, dl, &e)
					     : send_mail(d, dl, &e);
	memset(o, 0, sizeof(*o));
	if (!rc) {
		o->delivered = true;
		atomic_fetch_add(&d->n_delivered, 1);
		if (d->status)
			atomic_fetch_add(&d->status->notices_delivered, 1);
		return;
	}
	(void)snprintf(why, why_size, "%s", e.msg[0] ? e.msg : err_name(rc));
	o->error = why;
	o->dead = dl->attempts + 1 >= d->max_attempts;
	o->next_at_ms = now_ms + deliverer_backoff_ms(d, dl->attempts + 1);
	atomic_fetch_add(&d->n_failed, 1);
	if (o->dead)
		atomic_fetch_add(&d->n_dead, 1);
	if (d->status) {
		atomic_fetch_add(&d->status->notices_failed, 1);
		if (o->dead)
			atomic_fetch_add(&d->status->notices_dead, 1);
	}
	log_msg(o->dead ? LOG_ERROR : LOG_WARN,
		"deliver=%s id=%lld customer=\"%s\" attempts=%u dead=%d "
		"error=\"%s\"",
		dl->channel, (long long)dl->id, dl->customer, dl->attempts + 1,
		o->dead, why);
}

int deliverer_run_once(struct deliverer *d, int64_t now_ms, size_t *n_claimed,
		       struct sc_err *err)
{
	struct delivery *items;
	size_t n = 0;
	int rc;

	arena_reset(&d->arena);
	rc = uow_delivery_claim(d->uow,
				&(struct delivery_claim){now_ms,
							 DELIVERER_BATCH,
							 DELIVERER_LEASE_S},
				&d->arena, &items, &n, err);
	for (size_t i = 0; !rc && i < n && !atomic_load(&d->stop); i++) {
		struct delivery_outcome o;
		char why[SC_ERR_MSG_MAX];

		attempt(d, &items[i], now_ms, &o, why, sizeof(why));
		/*
		 * A failure to record it leaves the lease to expire: the
		 * notice is sent again, never lost (at least once).
		 */
		rc = uow_delivery_finish(d->uow, items[i].id,
					 items[i].attempts + !o.delivered, &o,
					 err);
	}
	if (n_claimed)
		*n_claimed = n;
	return rc;
}

/*
 * service/relay.h - delivers the outbox: events committed with the change
 * that raised them, sent after the commit, marked sent only after success.
 *
 * Where each kind goes is domain/events.h's table: Allocated -> publisher,
 * channel line_allocated (with the outbox id); OutOfStock -> notifier, to
 * the stock team, "Out of stock for <SKU>".  Each round claims its events
 * with a lease (OUTBOX_LEASE_S), so relays of several servers on one store
 * never deliver the same event at the same time.  Delivery is
 * at-least-once: a crash between sending and marking sends again, with the
 * same id, once the lease expires.  A failed delivery stays pending
 * (attempts+1, lease released); after a failure, the rest of that kind
 * waits for the next round, so one relay sends a kind in commit order
 * (across servers, order holds per server only).
 *
 * The relay runs off the request path: a thread of `scents serve` (woken
 * by the bus after each commit that queued something, and polling),
 * `scents relay` on its own, or synchronously in tests and the CLI.
 * One relay per unit of work; not thread-safe.
 */
#ifndef SCENTS_SERVICE_RELAY_H
#define SCENTS_SERVICE_RELAY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"

struct notifier;
struct publisher;
struct uow;

/* Most events read and marked per round. */
#define RELAY_BATCH 256
/*
 * Skus whose last stock-team mail the relay remembers.  A collision only
 * forgets a window (one more mail), never loses an alert.
 */
#define RELAY_FOLD_SLOTS 256

/* What the relay last saw of a way out (Redis, SMTP, the log). */
enum delivery_state {
	DELIVERY_UNKNOWN = 0, /* nothing delivered yet */
	DELIVERY_OK,	      /* the last delivery worked */
	DELIVERY_FAILING      /* the last delivery failed */
};

/*
 * Shared by every relay of a process and read by /readyz from other
 * threads, hence atomics.  Zero-initialised: everything unknown.
 */
struct delivery_status {
	atomic_int publisher;		 /* enum delivery_state */
	atomic_int notifier;		 /* enum delivery_state */
	atomic_ullong published;	 /* events published */
	atomic_ullong publish_failures;	 /* failed publish attempts */
	atomic_ullong notified;		 /* notifications sent */
	atomic_ullong notify_failures;	 /* failed notification attempts */
	atomic_ullong notices_delivered; /* customers' notices sent */
	atomic_ullong notices_failed;	 /* their failed attempts */
	atomic_ullong notices_dead;	 /* notices that went dead */
};

struct relay {
	struct uow *uow;		/* borrowed: its own connection */
	struct publisher *publisher;	/* borrowed */
	struct notifier *notifier;	/* borrowed */
	const char *stock_email;	/* borrowed: OutOfStock recipient */
	struct arena arena;		/* one round's rows */
	uint64_t n_sent;		/* delivered since init */
	uint64_t n_failed;		/* failed attempts since init */
	struct delivery_status *status; /* updated after each delivery;
					   NULL (the default): none */
	/*
	 * Coalescing of the stock team's mail: a second alert of the same
	 * kind and sku within @coalesce_s seconds of the last one mailed is
	 * counted instead of mailed, and the next mail after the window
	 * says how many were folded into it.  0 (the default): every alert
	 * is mailed.  Per process: N servers may each mail once a window.
	 */
	int coalesce_s;
	int64_t (*now_s)(void); /* the clock; tests set their own */
	struct relay_fold {
		uint64_t key;	 /* hash of kind and sku; 0: free */
		int64_t last;	 /* when it was last mailed */
		unsigned folded; /* alerts counted since, not mailed */
	} folds[RELAY_FOLD_SLOTS];
};

/* Set up @r; allocates nothing.  Pointers are borrowed. */
void relay_init(struct relay *r, struct uow *uow, struct publisher *pub,
		struct notifier *notifier, const char *stock_email);

/* Free the arena. */
void relay_release(struct relay *r);

/*
 * One round: deliver up to RELAY_BATCH pending events, oldest first.
 * *@n_sent (may be NULL) counts deliveries.  Returns SC_OK when every
 * event read was delivered (call again while *@n_sent == RELAY_BATCH),
 * SC_EIO when some delivery failed (they stay pending; back off), or the
 * store's error.
 */
int relay_run_once(struct relay *r, size_t *n_sent, struct sc_err *err);

#endif

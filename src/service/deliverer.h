/*
 * service/deliverer.h - one round over the customer-facing outbox.
 *
 * Claims the deliveries that are due (with a lease, so servers sharing a
 * store never send one twice at the same time), sends each on its channel
 * (webhook port, or the notifier for email), and records the outcome: a
 * failure is tried again after an exponential backoff with full jitter,
 * until the last allowed attempt makes it dead (visible and replayable).
 * A slow or failing receiver delays only its own notices: nothing here
 * runs on a request's path.
 */
#ifndef SCENTS_SERVICE_DELIVERER_H
#define SCENTS_SERVICE_DELIVERER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/err.h"

struct delivery_status;
struct notifier;
struct uow;
struct webhook;

/* Deliveries claimed per round. */
#define DELIVERER_BATCH 32
/* Seconds a claimed delivery stays with its claimer. */
#define DELIVERER_LEASE_S 60

struct deliverer {
	struct uow *uow;	   /* its own connection */
	struct webhook *webhook;   /* the webhook adapter */
	struct notifier *mail;	   /* email to customers */
	unsigned max_attempts;	   /* dead after this many failures, >= 1 */
	unsigned backoff_ms;	   /* first retry's ceiling; doubles */
	unsigned backoff_max_ms;   /* the ceiling's ceiling */
	uint64_t rng;		   /* xorshift state for the jitter */
	struct arena arena;	   /* one round's rows */
	atomic_ullong n_delivered; /* for /metrics */
	atomic_ullong n_failed;	   /* failed attempts */
	atomic_ullong n_dead;	   /* deliveries that went dead */
	struct delivery_status *status; /* the process's counters, for
					   /metrics; may be NULL */
	atomic_bool stop;		/* set from another thread: finish the
					   send under way, leave the rest of the
					   round to their lease (a prompt stop
					   even when receivers hang) */
};

/* Set up @d; @uow, @webhook and @mail are borrowed. */
void deliverer_init(struct deliverer *d, struct uow *uow,
		    struct webhook *webhook, struct notifier *mail,
		    uint64_t seed);

void deliverer_release(struct deliverer *d);

/*
 * One round at @now_ms (unix milliseconds): claim, send, record.
 * *@n_claimed (may be NULL) is how many it took.  SC_OK unless the store
 * failed (sending failures are outcomes, not errors).
 */
int deliverer_run_once(struct deliverer *d, int64_t now_ms, size_t *n_claimed,
		       struct sc_err *err);

/*
 * The wait before attempt @attempts + 1 (@attempts >= 1 failures so
 * far): a uniform draw in [0, min(max, base * 2^(attempts-1))] ("full
 * jitter"), so that many receivers coming back at once are not hit
 * together.  Exposed for its test.
 */
int64_t deliverer_backoff_ms(struct deliverer *d, unsigned attempts);

#endif

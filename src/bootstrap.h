/*
 * bootstrap.h - the composition root (the book's bootstrap.py).
 *
 * The only place besides entry points that names concrete adapters.  It
 * picks the store by the scheme of DATABASE_URL (a table, as SQLite's
 * sqlite3_vfs_find), the notifier and the publisher by whether SMTP_URL
 * and REDIS_URL are set, and injects them into a bus.
 *
 * One app per process; one worker (unit of work + bus) per thread.
 */
#ifndef SCENTS_BOOTSTRAP_H
#define SCENTS_BOOTSTRAP_H

#include "service/bus.h"
#include "service/deliverer.h"
#include "service/relay.h"

struct app;
struct config;
struct sc_err;
struct uow;

/* What one thread needs to handle messages. */
struct writer;

struct worker {
	struct uow *uow;      /* this thread's connection */
	struct bus bus;	      /* dispatches through uow */
	struct arena scratch; /* for reads outside the bus; reset by user */
	const struct delivery_status *delivery; /* the relays' last outcomes */
	const struct bus_metrics *bus_metrics;	/* every bus's counters */
	const char *publisher_kind; /* "redis" or "log", for /readyz */
	const char *notifier_kind;  /* "smtp" or "log", for /readyz */
	struct writer *writer;	    /* the batched writer, or NULL */
};

/*
 * Build the shared adapters from @cfg (copied) and check that the store
 * opens (creating and migrating it).  SC_EINVAL for an unsupported store,
 * SC_EIO when it cannot be opened, SC_ENOMEM.
 */
int bootstrap_open(const struct config *cfg, struct app **out /* OUT */,
		   struct sc_err *err);

/* Release what bootstrap_open() built; workers must be released first. */
void bootstrap_close(struct app *app);

/* A new worker with its own store connection.  SC_EIO, SC_ENOMEM. */
int bootstrap_worker_init(struct app *app, struct worker *w,
			  struct sc_err *err);

/* Release @w's bus and connection. */
void bootstrap_worker_release(struct worker *w);

/*
 * Who to wake after a commit that queued events; NULL: nobody (the relay
 * polls).  Set before bootstrap_worker_init(); borrowed.
 */
void bootstrap_set_signal(struct app *app, struct outbox_signal *signal);

/* A relay with its own store connection and the app's transports. */
struct relay_worker {
	struct uow *uow;    /* the relay's connection */
	struct relay relay; /* delivers the outbox */
};

/* Open @rw.  SC_EIO, SC_ENOMEM. */
int bootstrap_relay_init(struct app *app, struct relay_worker *rw,
			 struct sc_err *err);

/* Release @rw. */
void bootstrap_relay_release(struct relay_worker *rw);

/* A connection and a deliverer of customers' notices. */
struct delivery_worker {
	struct uow *uow;	    /* its connection */
	struct deliverer deliverer; /* drains the deliveries */
};

/*
 * Open @dw on @app (config: DELIVERY_MAX_ATTEMPTS, DELIVERY_BACKOFF_MS;
 * webhooks time out after WEBHOOK_TIMEOUT_MS).  SC_EIO, SC_ENOMEM.
 */
int bootstrap_delivery_init(struct app *app, struct delivery_worker *dw,
			    struct sc_err *err);

void bootstrap_delivery_release(struct delivery_worker *dw);

/* The configuration the app was built from. */
const struct config *bootstrap_config(const struct app *app);

#endif

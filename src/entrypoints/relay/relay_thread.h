/*
 * entrypoints/relay/relay_thread.h - a thread that delivers the outbox.
 *
 * Woken by the bus after each commit that queued events (it is the
 * app's outbox_signal) and every RELAY_POLL_MS anyway, so events committed
 * by other processes (the CLI) leave too.  After a wake-up it waits
 * RELAY_COALESCE_MS for more, so that under load one round (one
 * transaction, one fsync to mark them sent) carries many events instead
 * of one: the profile showed a round per request costing 14% of the
 * instructions and a second fsync per allocation.  After a failed delivery it
 * waits RELAY_BACKOFF_MIN_MS, doubling to RELAY_BACKOFF_MAX_MS, and keeps
 * going: a broker or mail server that is down delays events, never loses
 * them.  Used by `scents serve` and `scents relay`.
 */
#ifndef SCENTS_ENTRYPOINTS_RELAY_RELAY_THREAD_H
#define SCENTS_ENTRYPOINTS_RELAY_RELAY_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bootstrap.h"

#define RELAY_POLL_MS	     1000
#define RELAY_COALESCE_MS    10
#define RELAY_BACKOFF_MIN_MS 250
#define RELAY_BACKOFF_MAX_MS 5000
/* How often the deliverer of customers' notices looks for due ones. */
#define DELIVERY_POLL_MS 100

struct relay_thread {
	struct outbox_signal base; /* must stay first: the bus wakes us */
	struct relay_worker rw;	   /* connection and relay */
	pthread_mutex_t lock;	   /* guards stop; waits for kicked */
	pthread_cond_t cond;	   /* signalled on kick and stop */
	atomic_bool kicked;	   /* events were queued since last round */
	bool stop;		   /* leave after one last round */
	pthread_t tid;		   /* the thread */
	/*
	 * Customers' notices go out on a thread of their own: a receiver
	 * that hangs until its timeout delays only them, never Redis or
	 * the stock team's mail.
	 */
	struct delivery_worker dw; /* connection and deliverer */
	pthread_t delivery_tid;	   /* its thread */
	/*
	 * The same thread sends AlertAgedBackorders through a bus of its
	 * own every so often (BACKORDER_ALERT_AGE_S, when not 0).
	 */
	struct worker timer;   /* its bus and connection */
	bool timer_ready;      /* timer was initialised */
	int aged_s;	       /* the age; 0: no alerts */
	int64_t next_check_ms; /* when to send it next */
};

/*
 * Open a relay on @app and start its thread; registers it as the app's
 * signal (call before creating workers).  SC_EIO, SC_ENOMEM.
 */
int relay_thread_start(struct relay_thread *t, struct app *app,
		       struct sc_err *err);

/* Make one last delivery round, stop the thread, release it. */
void relay_thread_stop(struct relay_thread *t);

#endif

/*
 * entrypoints/relay/relay_thread.c - the outbox relay's loop.
 */
#include "entrypoints/relay/relay_thread.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "common/thread.h"

/*
 * Called for every command that queued events, on the writer's thread in
 * the middle of its batch.  Only the first kick of a round wakes anyone:
 * the relay gathers for RELAY_COALESCE_MS and its next round takes what
 * was kicked meanwhile.  Waking both threads on every command (it did)
 * was 47% of the writer's context switches at 64 connections, each a
 * preemption in the middle of a batch (perf sched_switch, 27 Nov).  The
 * flag is set before the lock is taken and read under it by the waiter,
 * so no kick is lost.
 */
static void notify(struct outbox_signal *self)
{
	struct relay_thread *t = (struct relay_thread *)self;

	if (atomic_exchange(&t->kicked, true))
		return;
	(void)pthread_mutex_lock(&t->lock);
	(void)pthread_cond_broadcast(&t->cond); /* two threads wait */
	(void)pthread_mutex_unlock(&t->lock);
}

static struct timespec after_ms(long ms)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/*
 * Wait for a kick, a stop, or @ms.  During a backoff (@ignore_kicks) only
 * a stop or the timeout ends the wait.  Returns true to stop.
 */
static bool wait_turn(struct relay_thread *t, long ms, bool ignore_kicks)
{
	struct timespec until = after_ms(ms);
	bool stop;

	(void)pthread_mutex_lock(&t->lock);
	while (!t->stop && (ignore_kicks || !atomic_load(&t->kicked)))
		if (pthread_cond_timedwait(&t->cond, &t->lock, &until) ==
		    ETIMEDOUT)
			break;
	if (!t->stop && atomic_load(&t->kicked)) {
		/* gather what else commits in the next few milliseconds */
		until = after_ms(RELAY_COALESCE_MS);
		while (!t->stop && pthread_cond_timedwait(&t->cond, &t->lock,
							  &until) != ETIMEDOUT)
			;
	}
	atomic_store(&t->kicked, false);
	stop = t->stop;
	(void)pthread_mutex_unlock(&t->lock);
	return stop;
}

/* Rounds until the outbox is empty or a delivery fails.  SC_OK or not. */
static int drain(struct relay_thread *t)
{
	size_t n_sent;
	int rc;

	do {
		struct sc_err err;

		err_clear(&err);
		rc = relay_run_once(&t->rw.relay, &n_sent, &err);
		if (rc && rc != SC_EIO)
			log_msg(LOG_ERROR, "relay=round code=%s error=\"%s\"",
				err_name(rc), err.msg);
	} while (!rc && n_sent == RELAY_BATCH);
	return rc;
}

static void *run(void *arg)
{
	struct relay_thread *t = arg;
	long backoff = 0;

	thread_name("scents-relay");
	for (;;) {
		bool stop = wait_turn(t, backoff ? backoff : RELAY_POLL_MS,
				      backoff != 0);

		if (drain(t))
			backoff = backoff ? backoff * 2 : RELAY_BACKOFF_MIN_MS;
		else
			backoff = 0;
		if (backoff > RELAY_BACKOFF_MAX_MS)
			backoff = RELAY_BACKOFF_MAX_MS;
		if (stop)
			break;
	}
	return NULL;
}

/* Unix milliseconds now: deliveries are due by the wall clock. */
static int64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep @ms unless stopped (kicks are the relay's).  True to stop. */
static bool nap(struct relay_thread *t, long ms)
{
	struct timespec until = after_ms(ms);
	bool stop;

	(void)pthread_mutex_lock(&t->lock);
	while (!t->stop &&
	       pthread_cond_timedwait(&t->cond, &t->lock, &until) != ETIMEDOUT)
		;
	stop = t->stop;
	(void)pthread_mutex_unlock(&t->lock);
	return stop;
}

/*
 * How often backorders are checked for their age: half the age (so one
 * is told at most half an age late), between 200 ms and a minute.
 */
static int64_t check_every_ms(int age_s)
{
	int64_t ms = (int64_t)age_s * 500;

	return ms < 200 ? 200 : ms > 60000 ? 60000 : ms;
}

/* Send AlertAgedBackorders when it is time to. */
static void check_aged(struct relay_thread *t, int64_t now)
{
	struct msg m = {.type = MSG_ALERT_AGED_BACKORDERS};
	struct sc_err err;

	if (!t->aged_s || now < t->next_check_ms)
		return;
	t->next_check_ms = now + check_every_ms(t->aged_s);
	m.u.alert_aged_backorders.now = now / 1000;
	m.u.alert_aged_backorders.age_s = t->aged_s;
	err_clear(&err);
	if (bus_handle(&t->timer.bus, &m, NULL, &err))
		log_msg(LOG_ERROR, "alert=aged_backorders error=\"%s\"",
			err.msg);
}

/* The deliverer's loop: rounds while they come back full, then a nap. */
static void *deliver(void *arg)
{
	struct relay_thread *t = arg;

	thread_name("scents-deliver");
	for (;;) {
		bool stop = nap(t, DELIVERY_POLL_MS);
		size_t n;
		int rc;

		do {
			struct sc_err err;

			err_clear(&err);
			n = 0;
			rc = deliverer_run_once(&t->dw.deliverer, now_ms(), &n,
						&err);
			if (rc)
				log_msg(LOG_ERROR,
					"deliver=round code=%s error=\"%s\"",
					err_name(rc), err.msg);
		} while (!rc && n == DELIVERER_BATCH &&
			 !atomic_load(&t->dw.deliverer.stop));
		check_aged(t, now_ms());
		if (stop)
			break;
	}
	return NULL;
}

int relay_thread_start(struct relay_thread *t, struct app *app,
		       struct sc_err *err)
{
	int rc;

	memset(t, 0, sizeof(*t));
	atomic_init(&t->kicked, false);
	t->base.notify = notify;
	rc = bootstrap_relay_init(app, &t->rw, err);
	if (rc)
		return rc;
	rc = bootstrap_delivery_init(app, &t->dw, err);
	if (rc) {
		bootstrap_relay_release(&t->rw);
		return rc;
	}
	t->aged_s = bootstrap_config(app)->backorder_alert_age_s;
	if (t->aged_s) {
		rc = bootstrap_worker_init(app, &t->timer, err);
		if (rc) {
			bootstrap_delivery_release(&t->dw);
			bootstrap_relay_release(&t->rw);
			return rc;
		}
		t->timer_ready = true;
		/* the first check after one interval, not at start: a fresh
		   server has nothing to tell, and starts quietly */
		t->next_check_ms = now_ms() + check_every_ms(t->aged_s);
	}
	(void)pthread_mutex_init(&t->lock, NULL);
	(void)pthread_cond_init(&t->cond, NULL);
	if (pthread_create(&t->tid, NULL, run, t)) {
		bootstrap_delivery_release(&t->dw);
		bootstrap_relay_release(&t->rw);
		return err_set(err, SC_EIO, "cannot start the relay thread");
	}
	if (pthread_create(&t->delivery_tid, NULL, deliver, t)) {
		relay_thread_stop(t);
		return err_set(err, SC_EIO, "cannot start the delivery thread");
	}
	bootstrap_set_signal(app, &t->base);
	return SC_OK;
}

void relay_thread_stop(struct relay_thread *t)
{
	atomic_store(&t->dw.deliverer.stop, true);
	(void)pthread_mutex_lock(&t->lock);
	t->stop = true;
	(void)pthread_cond_broadcast(&t->cond); /* two threads wait */
	(void)pthread_mutex_unlock(&t->lock);
	(void)pthread_join(t->tid, NULL);
	if (t->delivery_tid)
		(void)pthread_join(t->delivery_tid, NULL);
	log_msg(LOG_INFO, "relay=stopped sent=%llu failed=%llu",
		(unsigned long long)t->rw.relay.n_sent,
		(unsigned long long)t->rw.relay.n_failed);
	log_msg(LOG_INFO,
		"deliver=stopped delivered=%llu failed=%llu dead=%llu",
		(unsigned long long)atomic_load(&t->dw.deliverer.n_delivered),
		(unsigned long long)atomic_load(&t->dw.deliverer.n_failed),
		(unsigned long long)atomic_load(&t->dw.deliverer.n_dead));
	if (t->timer_ready)
		bootstrap_worker_release(&t->timer);
	bootstrap_delivery_release(&t->dw);
	bootstrap_relay_release(&t->rw);
	(void)pthread_cond_destroy(&t->cond);
	(void)pthread_mutex_destroy(&t->lock);
}

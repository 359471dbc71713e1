/*
 * service/writer.c - the batched writer (service/writer.h).
 */
#include "service/writer.h"

#include <string.h>

#include "common/clock.h"
#include "common/thread.h"
#include "service/uow.h"

/*
 * The batch failed as a whole (@rc, @why): none of it is durable, so no
 * command may report success.  Commands that failed on their own keep
 * their own error: they changed nothing either way.
 */
static void fail_all(struct writer_item *first, int rc,
		     const struct sc_err *why)
{
	for (struct writer_item *it = first; it; it = it->next) {
		if (it->rc && it->rc != SC_ECONFLICT)
			continue;
		it->rc = rc;
		err_clear(it->err);
		(void)err_set(it->err, rc, "%s", why->msg);
	}
}

/* Run @n items (linked from items[0]) as one batch; commit, not sync. */
static void run_batch(struct writer *w, struct writer_item **items, size_t n,
		      struct writer_syncing *out)
{
	struct uow *u = w->bus.deps.uow;
	struct sc_err *why = &out->why;
	uint64_t began = clock_mono_us(), queued = 0;
	size_t i = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	err_clear(why);
	out->first = items[0];
	for (size_t k = 0; k < n; k++) {
		items[k]->rc = SC_OK;
		if (began > items[k]->queued_us)
			queued += began - items[k]->queued_us;
	}
	rc = uow_batch_begin(u, why);
	for (; !rc && i < n; i++) {
		err_clear(items[i]->err);
		items[i]->rc = bus_run(&w->bus, items[i]->m, items[i]->res,
				       items[i]->err);
		if (!uow_batch_alive(u))
			rc = err_set(why, SC_EIO, "%s",
				     items[i]->err->msg[0]
					     ? items[i]->err->msg
					     : "the store ended the batch");
	}
	if (!rc)
		rc = uow_batch_commit(u, &out->ticket, why);
	else
		uow_batch_rollback(u);
	out->rc = rc;
	out->committed_us = clock_mono_us();
	atomic_fetch_add(&w->queued_total_us, queued);
	atomic_fetch_add(&w->running_total_us, n * (out->committed_us - began));
	atomic_fetch_add(&w->batches, 1);
	atomic_fetch_add(&w->commands, n);
}

/* Wait until @s is durable (on @u); a failed sync fails the batch. */
static void make_durable(struct uow *u, struct writer_syncing *s)
{
	if (!s->rc)
		s->rc = uow_wait_durable(u, s->ticket, &s->why);
	if (s->rc)
		fail_all(s->first, s->rc, &s->why);
}

/*
 * Hand a finished batch back.  Waiting submitters own their item (on
 * their stack): once one sees done it may be gone, so each item's link is
 * read before it is marked.  Async items are called back after the lock
 * is released (the callee takes its own); each is the callee's from then.
 */
static void complete(struct writer *w, const struct writer_syncing *s)
{
	struct writer_item *later = NULL, **tail = &later, *it, *next;
	uint64_t now = clock_mono_us(), n = 0;

	(void)pthread_mutex_lock(&w->lock);
	for (it = s->first; it; it = next) {
		n++;
		next = it->next;
		atomic_fetch_sub(&w->pending, 1);
		if (it->on_done) {
			it->next = NULL;
			*tail = it;
			tail = &it->next;
		} else {
			it->done = true;
			(void)pthread_cond_signal(it->wake);
		}
	}
	(void)pthread_mutex_unlock(&w->lock);
	if (now > s->committed_us)
		atomic_fetch_add(&w->syncing_total_us,
				 n * (now - s->committed_us));
	for (it = later; it; it = next) {
		next = it->next;
		it->on_done(it);
	}
}

static void *run(void *arg)
{
	struct writer *w = arg;
	struct writer_item *batch[WRITER_MAX_BATCH];

	thread_name("scents-writer");
	(void)pthread_mutex_lock(&w->lock);
	for (;;) {
		struct writer_syncing s;
		size_t n = 0;

		while (!w->head && !w->stop)
			(void)pthread_cond_wait(&w->work, &w->lock);
		if (!w->head)
			break;
		while (w->head && n < WRITER_MAX_BATCH) {
			batch[n++] = w->head;
			w->head = w->head->next;
		}
		batch[n - 1]->next = NULL; /* the batch's own list */
		if (!w->head)
			w->tail = NULL;
		(void)pthread_mutex_unlock(&w->lock);
		run_batch(w, batch, n, &s);
		if (!w->sync_uow) {
			make_durable(w->bus.deps.uow, &s);
			complete(w, &s);
			(void)pthread_mutex_lock(&w->lock);
			continue;
		}
		/* the syncer's turn; at most WRITER_MAX_SYNCING ahead */
		(void)pthread_mutex_lock(&w->lock);
		while (w->ring_n == WRITER_MAX_SYNCING)
			(void)pthread_cond_wait(&w->synced, &w->lock);
		w->ring[(w->ring_head + w->ring_n++) % WRITER_MAX_SYNCING] = s;
		(void)pthread_cond_broadcast(&w->synced);
	}
	w->writer_gone = true;
	(void)pthread_cond_broadcast(&w->synced);
	(void)pthread_mutex_unlock(&w->lock);
	return NULL;
}

/*
 * The syncer: batches in commit order.  One sync covers every commit made
 * before it started, so a batch that committed while the previous one was
 * being synced is often durable already when its turn comes.
 */
static void *syncer(void *arg)
{
	struct writer *w = arg;

	thread_name("scents-syncer");
	(void)pthread_mutex_lock(&w->lock);
	for (;;) {
		struct writer_syncing s;

		while (!w->ring_n && !w->writer_gone)
			(void)pthread_cond_wait(&w->synced, &w->lock);
		if (!w->ring_n)
			break;
		s = w->ring[w->ring_head];
		w->ring_head = (w->ring_head + 1) % WRITER_MAX_SYNCING;
		w->ring_n--;
		(void)pthread_cond_broadcast(&w->synced);
		(void)pthread_mutex_unlock(&w->lock);
		make_durable(w->sync_uow, &s);
		complete(w, &s);
		(void)pthread_mutex_lock(&w->lock);
	}
	(void)pthread_mutex_unlock(&w->lock);
	return NULL;
}

int writer_start(struct writer *w, const struct deps *d, struct uow *sync_uow,
		 uint64_t seed, struct sc_err *err)
{
	memset(w, 0, sizeof(*w));
	bus_init(&w->bus, d, seed);
	w->sync_uow = sync_uow;
	atomic_init(&w->pending, 0);
	atomic_init(&w->queued_us, 0);
	atomic_init(&w->inline_held, false);
	atomic_init(&w->queued_total_us, 0);
	atomic_init(&w->running_total_us, 0);
	atomic_init(&w->syncing_total_us, 0);
	(void)pthread_mutex_init(&w->lock, NULL);
	(void)pthread_cond_init(&w->work, NULL);
	(void)pthread_cond_init(&w->synced, NULL);
	if (sync_uow && pthread_create(&w->sync_tid, NULL, syncer, w))
		goto fail;
	if (pthread_create(&w->tid, NULL, run, w)) {
		if (sync_uow) { /* the syncer exits once it sees no writer */
			(void)pthread_mutex_lock(&w->lock);
			w->writer_gone = true;
			(void)pthread_cond_broadcast(&w->synced);
			(void)pthread_mutex_unlock(&w->lock);
			(void)pthread_join(w->sync_tid, NULL);
		}
		goto fail;
	}
	return SC_OK;
fail:
	(void)pthread_cond_destroy(&w->synced);
	(void)pthread_cond_destroy(&w->work);
	(void)pthread_mutex_destroy(&w->lock);
	bus_release(&w->bus);
	return err_set(err, SC_EIO, "cannot start the writer threads");
}

/* Append @it to the queue; the caller holds w->lock. */
static void enqueue(struct writer *w, struct writer_item *it)
{
	it->next = NULL;
	it->done = false;
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	atomic_fetch_add(&w->pending, 1);
	it->queued_us = clock_mono_us();
	atomic_store(&w->queued_us, it->queued_us);
	(void)pthread_cond_signal(&w->work);
}

/*
 * Each waiting submitter sleeps on a condition of its own: with one
 * shared condition every batch woke every submitter (64 threads in
 * bench/writer_alone, 256 below), each to take w->lock and sleep again,
 * and the writer queued behind them for that lock; the writer was idle
 * 30% of the time with 256 commands waiting.
 */
int writer_submit(struct writer *w, const struct msg *m, struct bus_result *res,
		  struct sc_err *err)
{
	struct writer_item it = {.m = m, .res = res, .err = err};
	pthread_cond_t wake;

	(void)pthread_cond_init(&wake, NULL);
	it.wake = &wake;
	(void)pthread_mutex_lock(&w->lock);
	enqueue(w, &it);
	while (!it.done)
		(void)pthread_cond_wait(&wake, &w->lock);
	(void)pthread_mutex_unlock(&w->lock);
	(void)pthread_cond_destroy(&wake);
	return it.rc;
}

void writer_submit_async(struct writer *w, struct writer_item *it)
{
	(void)pthread_mutex_lock(&w->lock);
	enqueue(w, it);
	(void)pthread_mutex_unlock(&w->lock);
}

/*
 * No command queued, running or syncing, and none queued lately.  The
 * time of the latest is read first: another thread may store a later one
 * between the two reads, and "now - latest" must not wrap around to a
 * huge unsigned gap (it did: 13k inline runs under load).
 */
static bool quiet(struct writer *w)
{
	uint64_t latest = atomic_load(&w->queued_us);
	uint64_t now = clock_mono_us();

	return !atomic_load(&w->pending) && now > latest &&
	       now - latest > WRITER_INLINE_QUIET_US;
}

/*
 * Inline runs one at a time, only while the writer is quiet: a second
 * submitter meanwhile queues, and from then on batches form as before
 * until WRITER_INLINE_QUIET_US pass without any.  Both conditions were
 * measured to matter.  Under load a batch is nearly always syncing while
 * the queue is empty, and closed-loop clients even empty the queue
 * between batches: an inline command there holds its event loop through
 * an fsync while the writer could take it in its batch, which keeps
 * batches small, which let more commands go inline (3.7k/s and 5.6k/s
 * instead of 11-14k/s at 64 connections).  A lone client never queues,
 * so it always runs inline.  The inline command takes the store's own
 * write lock, so it and a batch that starts meanwhile still run one
 * after the other.
 */
bool writer_try_inline(struct writer *w)
{
	if (!quiet(w) || atomic_exchange(&w->inline_held, true))
		return false;
	if (!quiet(w)) { /* one was queued meanwhile */
		atomic_store(&w->inline_held, false);
		return false;
	}
	return true;
}

void writer_inline_done(struct writer *w)
{
	atomic_fetch_add(&w->inlined, 1);
	atomic_store(&w->inline_held, false);
}

bool writer_idle(struct writer *w)
{
	return quiet(w) && !atomic_load(&w->inline_held);
}

void writer_stop(struct writer *w)
{
	(void)pthread_mutex_lock(&w->lock);
	w->stop = true;
	(void)pthread_cond_signal(&w->work);
	(void)pthread_mutex_unlock(&w->lock);
	(void)pthread_join(w->tid, NULL);
	if (w->sync_uow)
		(void)pthread_join(w->sync_tid, NULL);
	(void)pthread_cond_destroy(&w->synced);
	(void)pthread_cond_destroy(&w->work);
	(void)pthread_mutex_destroy(&w->lock);
	bus_release(&w->bus);
}

/*
 * service/writer.c - the batched writer (service/writer.h).
 */
#include "service/writer.h"

#include <string.h>

#include "service/uow.h"

/*
 * The batch failed as a whole (@rc, @why): none of it is durable, so no
 * command may report success.  Commands that failed on their own keep
 * their own error: they changed nothing either way.
 */
static void fail_all(struct writer_item **items, size_t n, int rc,
		     const struct sc_err *why)
{
	for (size_t i = 0; i < n; i++) {
		if (items[i]->rc && items[i]->rc != SC_ECONFLICT)
			continue;
		items[i]->rc = rc;
		err_clear(items[i]->err);
		(void)err_set(items[i]->err, rc, "%s", why->msg);
	}
}

static void run_batch(struct writer *w, struct writer_item **items, size_t n)
{
	struct uow *u = w->bus.deps.uow;
	struct sc_err why;
	size_t i = 0;
	int rc;

	err_clear(&why);
	for (size_t k = 0; k < n; k++)
		items[k]->rc = SC_OK;
	rc = uow_batch_begin(u, &why);
	for (; !rc && i < n; i++) {
		err_clear(items[i]->err);
		items[i]->rc = bus_handle(&w->bus, items[i]->m, items[i]->res,
					  items[i]->err);
		if (!uow_batch_alive(u))
			rc = err_set(&why, SC_EIO, "%s",
				     items[i]->err->msg[0]
					     ? items[i]->err->msg
					     : "the store ended the batch");
	}
	if (!rc)
		rc = uow_batch_commit(u, &why);
	else
		uow_batch_rollback(u);
	if (rc)
		fail_all(items, n, rc, &why);
	atomic_fetch_add(&w->batches, 1);
	atomic_fetch_add(&w->commands, n);
}

static void *run(void *arg)
{
	struct writer *w = arg;
	struct writer_item *batch[WRITER_MAX_BATCH];
	struct writer_item *later[WRITER_MAX_BATCH];

	(void)pthread_mutex_lock(&w->lock);
	for (;;) {
		size_t n = 0, n_later = 0;

		while (!w->head && !w->stop)
			(void)pthread_cond_wait(&w->work, &w->lock);
		if (!w->head)
			break;
		while (w->head && n < WRITER_MAX_BATCH) {
			batch[n++] = w->head;
			w->head = w->head->next;
		}
		if (!w->head)
			w->tail = NULL;
		(void)pthread_mutex_unlock(&w->lock);
		run_batch(w, batch, n);
		/*
		 * Sort out the async items first: once a waiting submitter
		 * sees done, its item (on its stack) is gone, so no item may
		 * be read after the broadcast.
		 */
		for (size_t i = 0; i < n; i++)
			if (batch[i]->on_done)
				later[n_later++] = batch[i];
		(void)pthread_mutex_lock(&w->lock);
		for (size_t i = 0; i < n; i++)
			if (!batch[i]->on_done)
				batch[i]->done = true;
		(void)pthread_cond_broadcast(&w->done);
		(void)pthread_mutex_unlock(&w->lock);
		/* outside our lock: the callee takes its own */
		for (size_t i = 0; i < n_later; i++)
			later[i]->on_done(later[i]);
		(void)pthread_mutex_lock(&w->lock);
	}
	(void)pthread_mutex_unlock(&w->lock);
	return NULL;
}

int writer_start(struct writer *w, const struct deps *d, uint64_t seed,
		 struct sc_err *err)
{
	memset(w, 0, sizeof(*w));
	bus_init(&w->bus, d, seed);
	(void)pthread_mutex_init(&w->lock, NULL);
	(void)pthread_cond_init(&w->work, NULL);
	(void)pthread_cond_init(&w->done, NULL);
	if (pthread_create(&w->tid, NULL, run, w)) {
		bus_release(&w->bus);
		return err_set(err, SC_EIO, "cannot start the writer thread");
	}
	return SC_OK;
}

int writer_submit(struct writer *w, const struct msg *m, struct bus_result *res,
		  struct sc_err *err)
{
	struct writer_item it = {.m = m, .res = res, .err = err};

	(void)pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = &it;
	else
		w->head = &it;
	w->tail = &it;
	(void)pthread_cond_signal(&w->work);
	while (!it.done)
		(void)pthread_cond_wait(&w->done, &w->lock);
	(void)pthread_mutex_unlock(&w->lock);
	return it.rc;
}

void writer_submit_async(struct writer *w, struct writer_item *it)
{
	it->next = NULL;
	it->done = false;
	(void)pthread_mutex_lock(&w->lock);
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	(void)pthread_cond_signal(&w->work);
	(void)pthread_mutex_unlock(&w->lock);
}

void writer_stop(struct writer *w)
{
	(void)pthread_mutex_lock(&w->lock);
	w->stop = true;
	(void)pthread_cond_signal(&w->work);
	(void)pthread_mutex_unlock(&w->lock);
	(void)pthread_join(w->tid, NULL);
	(void)pthread_cond_destroy(&w->work);
	(void)pthread_cond_destroy(&w->done);
	(void)pthread_mutex_destroy(&w->lock);
	bus_release(&w->bus);
}

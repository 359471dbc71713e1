/*
 * service/bus.c - queue, dispatch table, retries, event collection.
 */
#include "service/bus.h"

#include <assert.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "service/uow.h"
#include "service/writer.h"

/* The pending messages of one bus_handle() call, in the bus arena. */
struct queue {
	struct msg *items; /* FIFO storage */
	size_t head;	   /* next to handle */
	size_t n;	   /* entries used */
	size_t cap;	   /* entries allocated */
};

void bus_init(struct bus *b, const struct deps *d, uint64_t seed)
{
	memset(b, 0, sizeof(*b));
	arena_init(&b->arena);
	b->table = handler_table;
	b->deps = *d;
	b->deps.arena = &b->arena;
	b->max_attempts = BUS_MAX_ATTEMPTS;
	b->backoff_us = 200;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15u;
}

void bus_release(struct bus *b)
{
	arena_release(&b->arena);
}

static uint64_t next_random(struct bus *b)
{
	uint64_t x = b->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	b->rng = x;
	return x;
}

/* Sleep a random time in [0, backoff_us << attempt), capped at ~50 ms. */
static void backoff(struct bus *b, unsigned attempt)
{
	uint64_t cap = (uint64_t)b->backoff_us << (attempt < 8 ? attempt : 8);
	uint64_t us;
	struct timespec ts;

	if (cap > 50000)
		cap = 50000;
	if (!cap)
		return;
	us = next_random(b) % cap;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(us * 1000);
	(void)nanosleep(&ts, NULL);
}

/* Move the events of committed products onto @q; forget the products. */
static int collect_events(struct bus *b, struct queue *q, struct sc_err *err)
{
	struct uow *u = b->deps.uow;

	for (size_t i = 0; i < u->n_seen; i++) {
		struct product *p = u->seen[i];

		if (arena_reserve(&b->arena, (void **)&q->items, &q->cap,
				  q->n + p->n_events, sizeof(*q->items)))
			return err_set(err, SC_ENOMEM, "out of memory");
		if (p->n_events)
			memcpy(q->items + q->n, p->events,
			       p->n_events * sizeof(*p->events));
		q->n += p->n_events;
		p->n_events = 0;
	}
	u->n_seen = 0;
	return SC_OK;
}

static int handle_command(struct bus *b, const struct msg *m,
			  struct bus_result *res, struct sc_err *err)
{
	const struct handler_entry *h = &b->table[m->type];
	int rc = SC_OK;

	/* a table without this command is a bug: refuse, do not crash */
	if (h->n_fns != 1 || !h->fns[0])
		return err_set(err, SC_EINVAL, "no handler for command %s",
			       msg_name(m->type));
	for (unsigned attempt = 0; attempt < b->max_attempts; attempt++) {
		if (attempt) {
			b->n_retries++;
			if (b->deps.metrics)
				atomic_fetch_add(&b->deps.metrics->retries, 1);
			err_clear(err);
			backoff(b, attempt);
		}
		rc = h->fns[0](m, &b->deps, res, err);
		if (rc != SC_ECONFLICT)
			break;
	}
	if (rc == SC_ECONFLICT && b->deps.metrics)
		atomic_fetch_add(&b->deps.metrics->conflicts, 1);
	if (rc)
		log_msg(rc == SC_EIO || rc == SC_ENOMEM || rc == SC_ECONFLICT
				? LOG_ERROR
				: LOG_DEBUG,
			"msg=%s handled=error code=%s", msg_name(m->type),
			err_name(rc));
	return rc;
}

static void handle_event(struct bus *b, const struct msg *m)
{
	const struct handler_entry *h = &b->table[m->type];

	for (size_t i = 0; i < h->n_fns; i++) {
		struct sc_err e;
		char esc[SC_ERR_MSG_MAX * 4];
		int rc;

		err_clear(&e);
		rc = h->fns[i](m, &b->deps, NULL, &e);
		if (rc)
			log_msg(LOG_ERROR,
				"msg=%s handler=%zu code=%s error=\"%s\"",
				msg_name(m->type), i, err_name(rc),
				log_escape(e.msg, strlen(e.msg), esc,
					   sizeof(esc)));
	}
}

/*
 * Queue what the committed work raised.  Failing here cannot undo the
 * commit, so it is logged, not returned: the command itself succeeded.
 */
static void collect_or_log(struct bus *b, struct queue *q, enum msg_type after)
{
	struct sc_err e;

	err_clear(&e);
	if (collect_events(b, q, &e))
		log_msg(LOG_ERROR, "msg=%s collect=%s events_dropped=1",
			msg_name(after), err_name(e.code));
}

int bus_handle(struct bus *b, const struct msg *cmd, struct bus_result *res,
	       struct sc_err *err)
{
	int rc;

	if (!b->writer)
		return bus_run(b, cmd, res, err);
	if (!writer_try_inline(b->writer)) /* it runs bus_run on its bus */
		return writer_submit(b->writer, cmd, res, err);
	rc = bus_run(b, cmd, res, err);
	writer_inline_done(b->writer);
	return rc;
}

int bus_run(struct bus *b, const struct msg *cmd, struct bus_result *res,
	    struct sc_err *err)
{
	struct queue q = {0};
	int rc;

	assert(msg_is_command(cmd));
	if (res) {
		struct arena *keep = res->arena; /* the caller's, not ours */

		memset(res, 0, sizeof(*res));
		res->arena = keep;
	}
	rc = handle_command(b, cmd, res, err);
	if (!rc)
		collect_or_log(b, &q, cmd->type);
	while (q.head < q.n) {
		struct msg ev = q.items[q.head++];

		handle_event(b, &ev);
		collect_or_log(b, &q, ev.type);
	}
	b->deps.uow->n_seen = 0;
	arena_reset(&b->arena);
	return rc;
}

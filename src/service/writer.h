/*
 * service/writer.h - one writer per process that runs many commands in
 * one transaction (docs/decisions/0013).
 *
 * Threads that handle requests submit their commands and wait.  The
 * writer takes every command waiting at that moment (up to
 * WRITER_MAX_BATCH), opens one batch on its own unit of work, runs each
 * command through its own bus inside a savepoint (a command that fails
 * undoes only its own writes and gets its own error), then makes the
 * whole batch durable with one commit, and only then wakes the
 * submitters.  An idle writer adds no wait: a lone command is a batch of
 * one.  Under load the batch grows by itself, with the commands that
 * queued while the previous one was being made durable.
 *
 * When the batch's commit fails, no command of it is acknowledged: each
 * gets that error (SC_EIO), as it would have without batching.
 */
#ifndef SCENTS_SERVICE_WRITER_H
#define SCENTS_SERVICE_WRITER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "service/bus.h"

/* Most commands in one transaction. */
#define WRITER_MAX_BATCH 256

/*
 * A command waiting for its batch.  writer_submit() keeps one on its
 * stack; writer_submit_async() takes one the caller owns until @on_done.
 */
struct writer_item {
	const struct msg *m;	  /* borrowed until done */
	struct bus_result *res;	  /* may be NULL */
	struct sc_err *err;	  /* the command's own error */
	int rc;			  /* its result */
	bool done;		  /* the batch it was in ended */
	struct writer_item *next; /* queue link */
	/* async: called on the writer's thread once the batch ended; the
	   item is the callee's again from then on */
	void (*on_done)(struct writer_item *it);
	void *ctx; /* for on_done */
};

struct writer {
	pthread_mutex_t lock;	       /* guards the queue and stop */
	pthread_cond_t work;	       /* the queue is not empty, or stop */
	pthread_cond_t done;	       /* a batch ended */
	struct writer_item *head;      /* queued, oldest first */
	struct writer_item *tail;      /* last queued */
	bool stop;		       /* finish what is queued, then exit */
	struct bus bus;		       /* runs the commands; deps.uow batches */
	pthread_t tid;		       /* the writer thread */
	atomic_uint_fast64_t batches;  /* batches committed or failed */
	atomic_uint_fast64_t commands; /* commands run in them */
};

/*
 * Start the writer thread on @d (its uow must be one the writer alone
 * uses, and uow_can_batch()).  SC_EIO when the thread cannot start.
 */
int writer_start(struct writer *w, const struct deps *d, uint64_t seed,
		 struct sc_err *err);

/*
 * Run command @m in the next batch and wait until that batch is durable
 * (or failed).  Returns what bus_handle() would; @res and @err as there.
 */
int writer_submit(struct writer *w, const struct msg *m, struct bus_result *res,
		  struct sc_err *err);

/*
 * Queue @it (with @it->on_done set) and return at once; @it->on_done runs
 * on the writer's thread when its batch is durable or failed, with
 * @it->rc set.  Lets an event loop serve other connections meanwhile.
 */
void writer_submit_async(struct writer *w, struct writer_item *it);

/* Run what is queued, then stop the thread.  Submitters must be gone. */
void writer_stop(struct writer *w);

#endif

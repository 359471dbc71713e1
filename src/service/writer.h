/*
 * service/writer.h - one writer per process that runs many commands in
 * one transaction (docs/decisions/0013).
 *
 * Threads that handle requests submit their commands and wait.  The
 * writer takes every command waiting at that moment (up to
 * WRITER_MAX_BATCH), opens one batch on its own unit of work, runs each
 * command through its own bus inside a savepoint (a command that fails
 * undoes only its own writes and gets its own error), then commits the
 * whole batch at once.  A second thread, the syncer, makes it durable
 * (one fsync, on its own unit of work) and only then wakes the
 * submitters, while the writer already runs the next batch: storage and
 * CPU work overlap.  Under load the batch grows by itself, with the
 * commands that queued while the previous one ran.
 *
 * An idle writer adds no hop: while no command is queued, running or
 * syncing, one submitter at a time runs its command on its own bus
 * (writer_try_inline), as it would without batching, so a lone client's
 * latency is unchanged.
 *
 * When the batch's commit or its sync fails, no command of it is
 * acknowledged: each gets that error (SC_EIO), as it would have without
 * batching.
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

/* No inline run until this long after a command was queued. */
#define WRITER_INLINE_QUIET_US 20000

/* Batches committed and waiting for their sync, at most. */
#define WRITER_MAX_SYNCING 8

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
	pthread_cond_t *wake;	  /* writer_submit's own: signalled then */
	struct writer_item *next; /* queue link */
	/* async: called on the writer's thread once the batch ended; the
	   item is the callee's again from then on */
	void (*on_done)(struct writer_item *it);
	void *ctx;	    /* for on_done */
	uint64_t queued_us; /* when it was queued (clock_mono_us) */
};

/* A committed batch waiting for its sync (or failed already). */
struct writer_syncing {
	struct writer_item *first; /* its items, linked by next */
	uint64_t ticket;	   /* uow_wait_durable() this */
	int rc;			   /* the commit failed: every item's error */
	struct sc_err why;	   /* with rc */
	uint64_t committed_us;	   /* when the commit returned */
};

struct writer {
	pthread_mutex_t lock;	  /* guards everything up to stop */
	pthread_cond_t work;	  /* the queue is not empty, or stop */
	pthread_cond_t synced;	  /* the syncer took or ended a batch */
	struct writer_item *head; /* queued, oldest first */
	struct writer_item *tail; /* last queued */
	struct writer_syncing ring[WRITER_MAX_SYNCING]; /* for the syncer */
	size_t ring_head, ring_n;			/* its oldest, count */
	bool stop;			/* finish what is queued, then exit */
	bool writer_gone;		/* the writer thread has exited */
	atomic_size_t pending;		/* submitted, not yet handed back */
	atomic_uint_fast64_t queued_us; /* when the latest was queued */
	atomic_bool inline_held;	/* a submitter runs its own command */
	struct bus bus;		       /* runs the commands; deps.uow batches */
	struct uow *sync_uow;	       /* the syncer's; NULL: no syncer */
	pthread_t tid;		       /* the writer thread */
	pthread_t sync_tid;	       /* the syncer thread */
	atomic_uint_fast64_t batches;  /* batches committed or failed */
	atomic_uint_fast64_t commands; /* commands run in them */
	atomic_uint_fast64_t inlined;  /* commands run by their submitter */
	/*
	 * Where batched commands spend their time, summed over commands in
	 * microseconds: queued (until their batch began), running (until
	 * it committed) and syncing (until it was durable and they were
	 * handed back).  Over commands, each is that stage's mean.
	 */
	atomic_uint_fast64_t queued_total_us, running_total_us,
		syncing_total_us;
};

/*
 * Start the writer thread on @d (its uow must be one the writer alone
 * uses, and uow_can_batch()) and, with @sync_uow (another unit of work of
 * the same store, for the syncer alone), the syncer thread.  Without
 * @sync_uow the writer waits for each batch's sync itself.  SC_EIO when a
 * thread cannot start.
 */
int writer_start(struct writer *w, const struct deps *d, struct uow *sync_uow,
		 uint64_t seed, struct sc_err *err);

/*
 * True when the writer is idle and the caller may run one command on its
 * own bus (bus_run), as without batching; it must then call
 * writer_inline_done().  False: submit it.
 */
bool writer_try_inline(struct writer *w);
void writer_inline_done(struct writer *w);

/* writer_try_inline() would say yes now (it may not by the time it runs). */
bool writer_idle(struct writer *w);

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

/*
 * tests/support/faulty_uow.h - a decorating unit of work (SQLite's
 * test_vfs.c): forwards to an inner adapter, and can fail the Nth port
 * call with SC_EIO, or run a rival writer just before the first N commits
 * so that they lose an optimistic-concurrency race.
 */
#ifndef SCENTS_TESTS_SUPPORT_FAULTY_UOW_H
#define SCENTS_TESTS_SUPPORT_FAULTY_UOW_H

#include "service/uow.h"

struct faulty_uow {
	struct uow base;	  /* must stay first */
	struct uow *inner;	  /* borrowed; does the real work */
	long fail_call;		  /* fail the call numbered this; -1 never */
	long n_calls;		  /* port calls so far */
	int races;		  /* commits that still lose a race */
	void (*rival)(void *ctx); /* commits a competing change */
	void *rival_ctx;	  /* its argument */
	/*
	 * The skus the current transaction wrote (product rows, batches,
	 * lines, outbox rows), and the most any committed transaction wrote:
	 * docs/scaling.md's "every write touches one sku", measured.
	 */
	char touched[8][256];	/* distinct skus of the open transaction */
	size_t n_touched;	/* entries used */
	size_t max_touched;	/* over every commit so far */
	bool fail_batch_commit; /* the next batch_commit fails with SC_EIO */
	bool fail_wait_durable; /* the next wait_durable fails with SC_EIO */
};

/* Wrap @inner; no faults armed. */
void faulty_uow_init(struct faulty_uow *f, struct uow *inner);

#endif

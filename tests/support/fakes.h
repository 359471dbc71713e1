/*
 * tests/support/fakes.h - recording fakes of the service ports, a fault
 * allocator, and a bus over the memory adapter (the book's
 * bootstrap_test_app with FakeUnitOfWork and FakeNotifications).
 */
#ifndef SCENTS_TESTS_SUPPORT_FAKES_H
#define SCENTS_TESTS_SUPPORT_FAKES_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "domain/model.h"
#include "service/bus.h"
#include "service/notifier.h"
#include "service/publisher.h"
#include "service/relay.h"

#define FAKE_MAX 16

struct fake_notifier {
	struct notifier base;	  /* must stay first */
	size_t n_calls;		  /* sends seen */
	char to[FAKE_MAX][64];	  /* destination of each send */
	char body[FAKE_MAX][300]; /* body of each send */
	int fail_with;		  /* nonzero: every send fails so */
};

struct fake_publisher {
	struct publisher base;	     /* must stay first */
	size_t n_calls;		     /* publishes seen */
	long long id[FAKE_MAX];	     /* outbox id of each */
	char channel[FAKE_MAX][32];  /* channel of each */
	char orderid[FAKE_MAX][64];  /* the event's orderid, or "" */
	char batchref[FAKE_MAX][64]; /* the event's batchref, or "" */
	int fail_with;		     /* nonzero: every publish fails so */
};

void fake_notifier_init(struct fake_notifier *n);
void fake_publisher_init(struct fake_publisher *p);

/* Fail the allocation numbered @n from now (0 = the next); -1: never. */
void fault_mem_arm(long n);
/* Allocations seen since fault_mem_arm(); true if the fault fired. */
bool fault_mem_fired(void);
/* Remove the fault hooks. */
void fault_mem_disarm(void);
/*
 * Allocations asked for since fault_mem_arm(): arm with FAULT_MEM_COUNT
 * (never fails) to count a run's failure points first, so a fault loop
 * can prove it failed each one.
 */
long fault_mem_seen(void);

/*
 * End a run armed with fault_mem_arm(@n): abort unless the fault fired
 * (@n FAULT_MEM_COUNT: never meant to), disarm, and return how many
 * allocations the run asked for.
 */
long fault_mem_end(long n);
#define FAULT_MEM_COUNT LONG_MAX

struct memory_store;
struct uow;

/* Runs the relay at once when the bus signals (tests are synchronous). */
struct sync_signal {
	struct outbox_signal base; /* must stay first */
	struct relay *relay;	   /* borrowed */
	size_t n_signals;	   /* how often the bus signalled */
	int last_rc;		   /* the relay's last result */
};

void sync_signal_init(struct sync_signal *s, struct relay *r);

/* A bus over a fresh memory store with recording fakes and a relay. */
struct test_app {
	struct memory_store *store;
	struct uow *uow;
	struct uow *relay_uow; /* the relay's own connection */
	struct fake_notifier notifier;
	struct fake_publisher publisher;
	struct relay relay;
	struct sync_signal signal;
	struct bus bus;
	struct arena scratch; /* for loads made by the test itself */
};

void test_app_init(struct test_app *app);
void test_app_release(struct test_app *app);

/* Send CreateBatch; eta "" = none.  Returns the bus's code. */
int app_add_batch(struct test_app *app, const char *ref, const char *sku,
		  long long qty, const char *eta);
/*
 * Send Deallocate of @orderid's line of @sku (NULL: every line); @res
 * (may be NULL) gets the freed lines in app->scratch.
 */
int app_deallocate(struct test_app *app, const char *orderid, const char *sku,
		   struct bus_result *res, struct sc_err *err);
/* Send Allocate; *ref_out (may be NULL) gets the batchref or "". */
int app_allocate(struct test_app *app, const char *orderid, const char *sku,
		 long long qty, char *ref_out, size_t ref_len);
/* Send ChangeBatchQuantity. */
int app_change_qty(struct test_app *app, const char *ref, long long qty);

/* The committed product @sku, loaded through a fresh unit of work. */
struct product *app_load(struct test_app *app, const char *sku);

#endif

/*
 * bench/writer_alone.c - the batched writer without HTTP: CLIENTS threads
 * each submit allocations (a random orderid on one of 100 skus) and wait
 * for each to be durable, for SECONDS.  Prints allocations/s, the average
 * batch and the writer's CPU per allocation.  What HTTP adds on top is the
 * difference with the allocate rows of bench/run.sh.
 *
 *   writer_alone DIR [CLIENTS [SECONDS [SYNC]]]   SYNC: FULL (default) or
 * NORMAL
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootstrap.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "service/writer.h"

static atomic_long done_total;
static atomic_bool stop;
static struct writer *the_writer;

/* Seconds on the monotonic clock (common/clock.h). */
static double now_s(void)
{
	return (double)clock_mono_us() / 1e6;
}

static void check(int rc, const struct sc_err *err, const char *what)
{
	if (rc) {
		fprintf(stderr, "writer_alone: %s: %s\n", what, err->msg);
		exit(1);
	}
}

static void *client(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u;

	while (!atomic_load(&stop)) {
		char orderid[40], sku[16];
		struct msg m = {.type = MSG_ALLOCATE};
		struct bus_result res = {0};
		struct sc_err err;

		(void)snprintf(orderid, sizeof(orderid), "w-%u-%u",
			       (unsigned)(uintptr_t)arg,
			       (unsigned)rand_r(&seed));
		(void)snprintf(sku, sizeof(sku), "SKU-%d", rand_r(&seed) % 100);
		m.u.allocate.orderid = orderid;
		m.u.allocate.sku = sku;
		m.u.allocate.qty = 1;
		err_clear(&err);
		check(writer_submit(the_writer, &m, &res, &err), &err,
		      "allocate");
		atomic_fetch_add(&done_total, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	int clients = argc > 2 ? atoi(argv[2]) : 64;
	double seconds = argc > 3 ? atof(argv[3]) : 5;
	const char *sync = argc > 4 ? argv[4] : "FULL";
	pthread_t tids[1024];
	struct config cfg;
	struct app *app;
	struct worker w;
	struct sc_err err;
	uint64_t b0, c0;
	struct timespec cpu0, cpu1;
	clockid_t wclock;
	double t0, dt, cpu;
	long n;

	if (clients < 1 || clients > 1024)
		return 2;
	log_set_level(LOG_WARN);
	err_clear(&err);
	check(config_load(&cfg, &err), &err, "config");
	(void)snprintf(cfg.database_url, sizeof(cfg.database_url),
		       "sqlite:%s/writer-alone.db", dir);
	cfg.sqlite_synchronous_full = !strcmp(sync, "FULL");
	cfg.sqlite_batch = 1;
	check(bootstrap_open(&cfg, &app, &err), &err, "open");
	check(bootstrap_worker_init(app, &w, &err), &err, "worker");
	if (!w.writer) {
		fprintf(stderr, "writer_alone: no batched writer\n");
		return 1;
	}
	the_writer = w.writer;
	for (int i = 0; i < 100; i++) {
		char ref[16], sku[16];
		struct msg m = {.type = MSG_CREATE_BATCH};

		(void)snprintf(ref, sizeof(ref), "b%d", i);
		(void)snprintf(sku, sizeof(sku), "SKU-%d", i);
		m.u.create_batch.ref = ref;
		m.u.create_batch.sku = sku;
		m.u.create_batch.qty = 1000000000;
		check(bus_handle(&w.bus, &m, NULL, &err), &err, "add batch");
	}
	check(pthread_getcpuclockid(w.writer->tid, &wclock) ? SC_EIO : SC_OK,
	      &err, "writer clock");
	b0 = atomic_load(&w.writer->batches);
	c0 = atomic_load(&w.writer->commands);
	(void)clock_gettime(wclock, &cpu0);
	t0 = now_s();
	for (int i = 0; i < clients; i++)
		(void)pthread_create(&tids[i], NULL, client,
				     (void *)(uintptr_t)(i + 1));
	while (now_s() - t0 < seconds)
		(void)nanosleep(&(struct timespec){0, 50000000}, NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < clients; i++)
		(void)pthread_join(tids[i], NULL);
	dt = now_s() - t0;
	(void)clock_gettime(wclock, &cpu1);
	n = atomic_load(&done_total);
	cpu = (double)(cpu1.tv_sec - cpu0.tv_sec) +
	      (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
	printf("writer_alone %s clients=%d: %.0f allocations/s, avg batch "
	       "%.1f, writer cpu %.1f us/allocation (%.0f%% of a core)\n",
	       sync, clients, (double)n / dt,
	       (double)(atomic_load(&w.writer->commands) - c0) /
		       (double)(atomic_load(&w.writer->batches) - b0 + !0),
	       cpu / (double)n * 1e6, cpu / dt * 100);
	bootstrap_worker_release(&w);
	bootstrap_close(app);
	return 0;
}

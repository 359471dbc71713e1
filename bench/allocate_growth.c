/*
 * bench/allocate_growth.c - does allocation slow down as a sku's history
 * grows?  (design.md section 9; issue 3)
 *
 * For each depth N in 0, 10 000, 100 000: a fresh SQLite file, one sku
 * with one large batch, N allocations made through the message bus, then
 * the time of MEASURED further allocations, best of ROUNDS.  Prints a table
 * with each row's ratio to the first.  synchronous=NORMAL, so that fsync
 * noise does not hide the cost of queries; the goal is the ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bootstrap.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"

#define MEASURED 2000
#define ROUNDS	 3

static double now_s(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, const struct sc_err *err, const char *what)
{
	if (rc) {
		fprintf(stderr, "allocate_growth: %s: %s\n", what, err->msg);
		exit(1);
	}
}

static void allocate(struct worker *w, long i)
{
	char orderid[32];
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};
	struct sc_err err;

	(void)snprintf(orderid, sizeof(orderid), "order-%ld", i);
	m.u.allocate.orderid = orderid;
	m.u.allocate.sku = "GROWTH";
	m.u.allocate.qty = 1;
	err_clear(&err);
	check(bus_handle(&w->bus, &m, &res, &err), &err, "allocate");
	if (!res.allocated) {
		fprintf(stderr, "allocate_growth: out of stock\n");
		exit(1);
	}
}

/* Microseconds per allocation after @depth earlier ones. */
static double measure(const char *dir, long depth)
{
	struct msg m = {.type = MSG_CREATE_BATCH};
	struct config cfg;
	struct app *app;
	struct worker w;
	struct sc_err err;
	double best = 1e30;
	long next = 0;

	err_clear(&err);
	check(config_load(&cfg, &err), &err, "config");
	(void)snprintf(cfg.database_url, sizeof(cfg.database_url),
		       "sqlite:%s/growth-%ld.db", dir, depth);
	cfg.sqlite_synchronous_full = 0;
	check(bootstrap_open(&cfg, &app, &err), &err, "open");
	check(bootstrap_worker_init(app, &w, &err), &err, "worker");
	m.u.create_batch.ref = "big-batch";
	m.u.create_batch.sku = "GROWTH";
	m.u.create_batch.qty = 1000000000;
	check(bus_handle(&w.bus, &m, NULL, &err), &err, "add batch");
	while (next < depth)
		allocate(&w, next++);
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_s(), dt;

		for (int i = 0; i < MEASURED; i++)
			allocate(&w, next++);
		dt = (now_s() - t0) / MEASURED * 1e6;
		if (dt < best)
			best = dt;
	}
	bootstrap_worker_release(&w);
	bootstrap_close(app);
	return best;
}

int main(int argc, char **argv)
{
	static const long depths[] = {0, 10000, 100000};
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	double base = 0;

	log_set_level(LOG_WARN);
	printf("allocate_growth: SQLite synchronous=NORMAL, best of %d x %d "
	       "allocations per row\n",
	       ROUNDS, MEASURED);
	printf("%-22s %14s %8s\n", "earlier allocations", "us/allocation",
	       "ratio");
	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		double us = measure(dir, depths[i]);

		if (i == 0)
			base = us;
		printf("%-22ld %14.1f %7.2fx\n", depths[i], us, us / base);
		fflush(stdout);
	}
	return 0;
}

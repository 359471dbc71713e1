/*
 * bench/seed_orders.c - fill a database with N allocated orders through
 * the real message bus (the same code as POST /allocate), quickly:
 * synchronous=NORMAL, one process.  Orders are "order-1".."order-N", one
 * unit each, spread over 100 skus BULK-0..BULK-99 (a large batch each)
 * and over the last two years (Allocate's day), so the demand rollup
 * holds what two years of such orders would leave (bench/demand_report).  The
 * outbox is delivered (to the log) before it exits, as a serving relay would
 * have done. Usage: seed_orders DATABASE_PATH N
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bootstrap.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"

static void check(int rc, const struct sc_err *err, const char *what)
{
	if (rc) {
		fprintf(stderr, "seed_orders: %s: %s\n", what, err->msg);
		exit(1);
	}
}

/*
 * Deliver the outbox (to the log publisher, quietly), as a running relay
 * would have, so the server measured next does not spend its time on it.
 */
static void deliver_all(struct app *app)
{
	struct relay_worker rw;
	struct sc_err err;
	size_t n_sent;

	err_clear(&err);
	check(bootstrap_relay_init(app, &rw, &err), &err, "relay");
	do
		check(relay_run_once(&rw.relay, &n_sent, &err), &err, "relay");
	while (n_sent == RELAY_BATCH);
	bootstrap_relay_release(&rw);
}

int main(int argc, char **argv)
{
	struct msg m = {.type = MSG_CREATE_BATCH};
	struct bus_result res = {0};
	struct config cfg;
	struct app *app;
	struct worker w;
	struct sc_err err;
	long n;

	if (argc != 3 || (n = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: seed_orders DATABASE_PATH N\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	err_clear(&err);
	check(config_load(&cfg, &err), &err, "config");
	(void)snprintf(cfg.database_url, sizeof(cfg.database_url), "sqlite:%s",
		       argv[1]);
	cfg.sqlite_synchronous_full = 0;
	check(bootstrap_open(&cfg, &app, &err), &err, "open");
	check(bootstrap_worker_init(app, &w, &err), &err, "worker");
	for (int k = 0; k < 100; k++) {
		char ref[32], sku[32];

		(void)snprintf(ref, sizeof(ref), "bulk-batch-%d", k);
		(void)snprintf(sku, sizeof(sku), "BULK-%d", k);
		m.u.create_batch.ref = ref;
		m.u.create_batch.sku = sku;
		m.u.create_batch.qty = 1000000000;
		check(bus_handle(&w.bus, &m, NULL, &err), &err, "add batch");
	}
	for (long i = 1; i <= n; i++) {
		char orderid[32], sku[32];
		struct msg a = {.type = MSG_ALLOCATE};

		(void)snprintf(orderid, sizeof(orderid), "order-%ld", i);
		(void)snprintf(sku, sizeof(sku), "BULK-%ld", i % 100);
		a.u.allocate.orderid = orderid;
		a.u.allocate.sku = sku;
		a.u.allocate.qty = 1;
		a.u.allocate.day = (int32_t)(time(NULL) / 86400 - i % 730);
		check(bus_handle(&w.bus, &a, &res, &err), &err, "allocate");
	}
	bootstrap_worker_release(&w);
	deliver_all(app);
	bootstrap_close(app);
	return 0;
}

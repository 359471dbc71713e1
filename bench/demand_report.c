/*
 * bench/demand_report.c - the demand report and the production plan on a
 * database seed_orders filled, each against one full scan of the
 * allocations table in the same run (issue 15: analytics aggregate in the
 * store and never load every order line).  Each is timed REPEAT times;
 * the median is reported, and the ratio report / scan.
 *
 *   demand_report DATABASE_PATH [REPEAT]
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bootstrap.h"
#include "common/arena.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/err.h"
#include "common/log.h"
#include "service/reports.h"
#include "service/uow.h"

#define REPEAT_MAX 50

static void check(int rc, const struct sc_err *err, const char *what)
{
	if (rc) {
		fprintf(stderr, "demand_report: %s: %s\n", what, err->msg);
		exit(1);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* One full scan: every allocation row read (no index answers it). */
static double full_scan(sqlite3 *db, long long *rows)
{
	sqlite3_stmt *st;
	uint64_t t0 = clock_mono_us();

	if (sqlite3_prepare_v2(db,
			       "SELECT count(*), sum(qty + length(orderid))"
			       " FROM allocations",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, "demand_report: scan: %s\n",
			sqlite3_errmsg(db));
		exit(1);
	}
	*rows = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (double)(clock_mono_us() - t0) / 1e3;
}

int main(int argc, char **argv)
{
	int repeat = argc > 2 ? atoi(argv[2]) : 5;
	double scan[REPEAT_MAX], report[REPEAT_MAX], plan[REPEAT_MAX];
	int32_t today = (int32_t)(time(NULL) / 86400);
	struct config cfg;
	struct app *app;
	struct worker w;
	struct sc_err err;
	long long rows = 0;
	size_t n_rows = 0, n_lines = 0;
	sqlite3 *db;

	if (argc < 2 || repeat < 1 || repeat > REPEAT_MAX) {
		fprintf(stderr,
			"usage: demand_report DATABASE_PATH [REPEAT]\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	err_clear(&err);
	check(config_load(&cfg, &err), &err, "config");
	(void)snprintf(cfg.database_url, sizeof(cfg.database_url), "sqlite:%s",
		       argv[1]);
	check(bootstrap_open(&cfg, &app, &err), &err, "open");
	check(bootstrap_worker_init(app, &w, &err), &err, "worker");
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL)) {
		fprintf(stderr, "demand_report: cannot open %s\n", argv[1]);
		return 1;
	}
	for (int i = 0; i < repeat; i++) {
		/* two years by week and segment, every sku: GET /demand */
		struct demand_query q = {today - 730, today, 7, true, NULL};
		struct plan_params pp = {today, 4, 12, 100, 14, 1.645};
		struct demand_row *r;
		struct plan_line *l;
		uint64_t t0;

		scan[i] = full_scan(db, &rows);
		t0 = clock_mono_us();
		check(uow_demand(w.uow, &q, &w.scratch, &r, &n_rows, &err),
		      &err, "demand");
		report[i] = (double)(clock_mono_us() - t0) / 1e3;
		arena_reset(&w.scratch);
		t0 = clock_mono_us();
		check(report_plan(w.uow, &pp, &w.scratch, &l, &n_lines, &err),
		      &err, "plan");
		plan[i] = (double)(clock_mono_us() - t0) / 1e3;
		arena_reset(&w.scratch);
	}
	{
		double s = median(scan, repeat), d = median(report, repeat),
		       p = median(plan, repeat);

		printf("RESULT allocations=%lld scan_ms=%.2f report_ms=%.2f "
		       "report_rows=%zu plan_ms=%.2f plan_lines=%zu "
		       "report_over_scan=%.4f plan_over_scan=%.4f\n",
		       rows, s, d, n_rows, p, n_lines, d / s, p / s);
	}
	sqlite3_close(db);
	bootstrap_worker_release(&w);
	bootstrap_close(app);
	return 0;
}

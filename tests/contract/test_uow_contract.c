/*
 * tests/contract/test_uow_contract.c - one contract for every adapter of
 * the unit-of-work port (SQLite's permutations.test): the same cases run
 * against the memory adapter and against SQLite on a real file.
 *
 * Covers the seed's test_repository, test_uow and test_views.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapters/memory/memory_uow.h"
#include "adapters/postgres/pg_uow.h"
#include "adapters/sqlite/sqlite_uow.h"
#include "common/arena.h"
#include "common/clock.h"
#include "common/log.h"
#include "domain/sourcing.h"
#include "domain/venue.h"
#include "service/bus.h"
#include "service/uow.h"
#include "service/writer.h"
#include "support/cmocka.h"
#include "support/fakes.h"
#include "support/faulty_uow.h"

/* How to open units of work on one store, per adapter. */
struct factory {
	const char *name;
	int (*setup)(void **store);		 /* a fresh, empty store */
	int (*open)(void *store, struct uow **); /* one more connection */
	void (*teardown)(void *store);		 /* remove it */
};

static int mem_setup(void **store)
{
	struct sc_err err;

	err_clear(&err);
	return memory_store_new((struct memory_store **)store, &err);
}

static int mem_open(void *store, struct uow **out)
{
	struct sc_err err;

	err_clear(&err);
	return memory_uow_new(store, out, &err);
}

static void mem_teardown(void *store)
{
	memory_store_free(store);
}

/* The SQLite "store": a temp dir and the shared database in it. */
struct sql_store {
	char dir[64];
	struct sqlite_db *db;
};

/* Open a fresh SQLite store with @opt in a temp dir. */
static int sql_setup_with(void **store, const struct sqlite_options *opt);

static int sql_setup(void **store)
{
	struct sqlite_options opt = {.synchronous_full = false,
				     .busy_timeout_ms = 10000};

	return sql_setup_with(store, &opt);
}

static int sql_setup_group(void **store)
{
	/* as served (bootstrap.c), with checkpoints in the background,
	   small ones so that every case here meets a few */
	struct sqlite_options opt = {.synchronous_full = true,
				     .group_commit = true,
				     .busy_timeout_ms = 10000,
				     .checkpoint_frames = 64};

	return sql_setup_with(store, &opt);
}

static int sql_setup_with(void **store, const struct sqlite_options *opt)
{
	struct sql_store *st = calloc(1, sizeof(*st));
	char path[128];
	struct sc_err err;

	if (!st)
		return -1;
	(void)snprintf(st->dir, sizeof(st->dir), "/tmp/scents-contract.XXXXXX");
	if (!mkdtemp(st->dir))
		return -1;
	(void)snprintf(path, sizeof(path), "%s/db/scents.db", st->dir);
	err_clear(&err);
	if (sqlite_db_open(path, opt, &st->db, &err)) {
		fprintf(stderr, "sqlite open: %s\n", err.msg);
		return -1;
	}
	*store = st;
	return 0;
}

static int sql_open(void *store, struct uow **out)
{
	struct sql_store *st = store;
	struct sc_err err;
	int rc;

	err_clear(&err);
	rc = sqlite_uow_new(st->db, out, &err);
	if (rc)
		fprintf(stderr, "sqlite connect: %s\n", err.msg);
	return rc;
}

static void sql_teardown(void *store)
{
	struct sql_store *st = store;
	char cmd[128];

	sqlite_db_close(st->db);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", st->dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", st->dir);
	free(st);
}

/*
 * The PostgreSQL "store": the database at $SCENTS_PG_URL (scripts/pg.sh,
 * started by make test), emptied before each case.
 */
static int pg_setup_with(void **store, enum pg_locking locking)
{
	const char *url = getenv("SCENTS_PG_URL");
	struct pg_options opt = {.locking = locking};
	PGconn *c = PQconnectdb(url);
	PGresult *r;
	struct sc_err err;
	int ok;

	r = PQexec(c, "SET client_min_messages = warning;"
		      " DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "pg reset: %s\n", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	err_clear(&err);
	if (!ok || pg_db_open(url, &opt, (struct pg_db **)store, &err)) {
		fprintf(stderr, "pg open: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int pg_setup(void **store)
{
	return pg_setup_with(store, PG_LOCK_OPTIMISTIC); /* the default */
}

static int pg_setup_row(void **store)
{
	return pg_setup_with(store, PG_LOCK_ROW);
}

static int pg_open(void *store, struct uow **out)
{
	struct sc_err err;

	err_clear(&err);
	return pg_uow_new(store, out, &err);
}

static void pg_teardown(void *store)
{
	pg_db_close(store);
}

static const struct factory memory_factory = {"memory", mem_setup, mem_open,
					      mem_teardown};
static const struct factory pg_factory = {"postgresql", pg_setup, pg_open,
					  pg_teardown};
static const struct factory pg_row_factory = {
	"postgresql (row lock)", pg_setup_row, pg_open, pg_teardown};
static const struct factory sqlite_group_factory = {
	"sqlite (group commit)", sql_setup_group, sql_open, sql_teardown};
static const struct factory sqlite_factory = {"sqlite", sql_setup, sql_open,
					      sql_teardown};

/* Per-test state: a store, one unit of work and a bus over it. */
struct fx {
	const struct factory *f;
	void *store;
	struct uow *uow;
	struct fake_notifier notifier;
	struct fake_publisher publisher;
	struct bus bus;
	struct arena arena;
	struct sc_err err;
};

static struct fx *fx_new(const struct factory *f)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct deps d = {0};

	assert_non_null(x);
	x->f = f;
	assert_int_equal(f->setup(&x->store), 0);
	assert_int_equal(f->open(x->store, &x->uow), 0);
	fake_notifier_init(&x->notifier);
	fake_publisher_init(&x->publisher);
	d.uow = x->uow;
	bus_init(&x->bus, &d, 1);
	x->bus.backoff_us = 50;
	arena_init(&x->arena);
	err_clear(&x->err);
	return x;
}

static int setup_memory(void **state)
{
	*state = fx_new(&memory_factory);
	return 0;
}

static int setup_sqlite_group(void **state)
{
	*state = fx_new(&sqlite_group_factory);
	return 0;
}

static int setup_pg(void **state)
{
	*state = fx_new(&pg_factory);
	return 0;
}

static int setup_pg_row(void **state)
{
	*state = fx_new(&pg_row_factory);
	return 0;
}

static int setup_sqlite(void **state)
{
	*state = fx_new(&sqlite_factory);
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	bus_release(&x->bus);
	uow_free(x->uow);
	x->f->teardown(x->store);
	arena_release(&x->arena);
	free(x);
	return 0;
}

static int send(struct bus *b, struct msg *m, struct bus_result *res)
{
	struct sc_err err;

	err_clear(&err);
	return bus_handle(b, m, res, &err);
}

static void add_batch(struct fx *x, const char *ref, const char *sku,
		      long long qty, int32_t eta)
{
	struct msg m = {.type = MSG_CREATE_BATCH};

	m.u.create_batch.ref = ref;
	m.u.create_batch.sku = sku;
	m.u.create_batch.qty = qty;
	m.u.create_batch.has_eta = eta != 0;
	m.u.create_batch.eta = eta;
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
}

static const char *allocate(struct fx *x, struct bus *b, const char *orderid,
			    const char *sku, long long qty)
{
	static char ref[SC_ID_MAX + 1];
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};

	m.u.allocate.orderid = orderid;
	m.u.allocate.sku = sku;
	m.u.allocate.qty = qty;
	assert_int_equal(send(b ? b : &x->bus, &m, &res), SC_OK);
	(void)snprintf(ref, sizeof(ref), "%s", res.batchref);
	return ref;
}

static void change_qty(struct fx *x, const char *ref, long long qty)
{
	struct msg m = {.type = MSG_CHANGE_BATCH_QUANTITY};

	m.u.change_batch_quantity.ref = ref;
	m.u.change_batch_quantity.qty = qty;
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
}

/* Load @sku in a fresh transaction with @hint, then roll back. */
static struct product *load(struct fx *x, const char *sku,
			    const struct load_hint *hint)
{
	struct product *p = NULL;

	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	if (repo_get(x->uow, sku, hint, &p, &x->err))
		p = NULL;
	uow_rollback(x->uow);
	err_clear(&x->err);
	return p;
}

static void stores_and_loads_products(void **state)
{
	struct fx *x = *state;
	struct product *p;

	add_batch(x, "b-ship", "LAMP", 100, 20000);
	add_batch(x, "b-home", "LAMP", 50, 0);
	p = load(x, "LAMP", NULL);
	assert_non_null(p);
	assert_int_equal(p->version, 2);
	assert_int_equal(p->n_changes, 0); /* loaded: nothing to save */
	assert_int_equal(p->n_batches, 2);
	assert_string_equal(p->batches[0].ref, "b-ship");
	assert_true(p->batches[0].has_eta);
	assert_int_equal(p->batches[0].eta, 20000);
	assert_string_equal(p->batches[1].ref, "b-home");
	assert_false(p->batches[1].has_eta);
	assert_int_equal(p->batches[1].purchased, 50);
	assert_null(load(x, "NOPE", NULL));
}

static void get_by_batchref(void **state)
{
	struct fx *x = *state;
	struct product *p1, *p2;

	add_batch(x, "b1", "sku1", 100, 0);
	add_batch(x, "b2", "sku1", 100, 0);
	add_batch(x, "b3", "sku2", 100, 0);
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(repo_get_by_batchref(x->uow, "b2", &p1, &x->err),
			 SC_OK);
	assert_int_equal(repo_get_by_batchref(x->uow, "b3", &p2, &x->err),
			 SC_OK);
	assert_string_equal(p1->sku, "sku1");
	assert_string_equal(p2->sku, "sku2");
	assert_int_equal(repo_get_by_batchref(x->uow, "b9", &p2, &x->err),
			 SC_ENOTFOUND);
	assert_string_equal(x->err.msg, "unknown batch 'b9'");
	uow_rollback(x->uow);
}

static void uow_can_retrieve_a_batch_and_allocate_to_it(void **state)
{
	struct fx *x = *state;
	struct product *p;
	struct order_line l = {"o1", "HIPSTER-WORKBENCH", 10};
	const char *ref;
	struct load_hint hint = {.orderid = "o1"};

	add_batch(x, "batch1", "HIPSTER-WORKBENCH", 100, 0);
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(
		repo_get(x->uow, "HIPSTER-WORKBENCH", NULL, &p, &x->err),
		SC_OK);
	assert_int_equal(product_allocate(p, &l, &ref, &x->err), SC_OK);
	assert_int_equal(uow_commit(x->uow, &x->err), SC_OK);
	p = load(x, "HIPSTER-WORKBENCH", &hint);
	assert_int_equal(p->batches[0].allocated, 10);
	assert_non_null(batch_find_line(&p->batches[0], "o1"));
}

static void rolls_back_uncommitted_work_by_default(void **state)
{
	struct fx *x = *state;
	struct product *p;

	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(
		product_new(&x->arena, "MEDIUM-PLINTH", 0, true, &p, &x->err),
		SC_OK);
	assert_int_equal(repo_add(x->uow, p, &x->err), SC_OK);
	assert_int_equal(product_add_batch(p,
					   &(struct batch_spec){
						   .ref = "batch1",
						   .qty = 100,
						   .has_eta = false,
						   .eta = 0,
						   .supplier = SUPPLIER_NONE},
					   &x->err),
			 SC_OK);
	uow_rollback(x->uow);
	assert_null(load(x, "MEDIUM-PLINTH", NULL));
}

static void rolls_back_on_error(void **state)
{
	struct fx *x = *state;
	struct msg m = {.type = MSG_ALLOCATE};

	add_batch(x, "b1", "LARGE-FORK", 10, 0);
	/* the second line's conflict fails the whole command */
	allocate(x, NULL, "o1", "LARGE-FORK", 4);
	m.u.allocate.orderid = "o1";
	m.u.allocate.sku = "LARGE-FORK";
	m.u.allocate.qty = 5;
	assert_int_equal(send(&x->bus, &m, NULL), SC_EEXIST);
	assert_int_equal(load(x, "LARGE-FORK", NULL)->batches[0].allocated, 4);
	assert_int_equal(load(x, "LARGE-FORK", NULL)->version, 2);
}

static void stale_version_is_a_conflict_and_saves_nothing(void **state)
{
	struct fx *x = *state;
	struct product *p;
	struct order_line l = {"o1", "T", 1};
	const char *ref;

	add_batch(x, "b1", "T", 10, 0);
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(repo_get(x->uow, "T", NULL, &p, &x->err), SC_OK);
	/* as if another writer committed after we read version 0 */
	p->loaded_version--;
	assert_int_equal(product_allocate(p, &l, &ref, &x->err), SC_OK);
	assert_int_equal(uow_commit(x->uow, &x->err), SC_ECONFLICT);
	uow_rollback(x->uow);
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 0);
	assert_int_equal(load(x, "T", NULL)->version, 1);
}

static void hints_load_what_a_decision_needs(void **state)
{
	struct fx *x = *state;
	struct load_hint order = {.orderid = "o2"};
	struct load_hint lines = {.lines_of = "b1"};
	struct product *p;
	const struct batch *b;

	add_batch(x, "b1", "T", 10, 0);
	add_batch(x, "b2", "T", 10, 0);
	allocate(x, NULL, "o1", "T", 3);
	allocate(x, NULL, "o2", "T", 3);
	allocate(x, NULL, "o3", "T", 5);
	p = load(x, "T", &order);
	b = &p->batches[0];
	assert_int_equal(b->allocated, 6); /* totals always loaded */
	assert_non_null(batch_find_line(b, "o2"));
	p = load(x, "T", &lines);
	b = &p->batches[0];
	assert_true(b->lines_complete);
	assert_int_equal(b->n_lines, 2);
	assert_string_equal(b->lines[0].orderid, "o1"); /* oldest first */
	assert_string_equal(b->lines[1].orderid, "o2");
}

static void allocations_view(void **state)
{
	struct fx *x = *state;
	struct allocation_row *rows;
	size_t n;

	add_batch(x, "sku1batch", "sku1", 50, 0);
	add_batch(x, "sku2batch", "sku2", 50, 20000);
	add_batch(x, "sku1batch-later", "sku1", 50, 20001);
	allocate(x, NULL, "order1", "sku1", 20);
	allocate(x, NULL, "order1", "sku2", 20);
	allocate(x, NULL, "otherorder", "sku1", 30);
	allocate(x, NULL, "otherorder", "sku2", 10);
	assert_int_equal(uow_allocations(x->uow, "order1", &x->arena, &rows, &n,
					 &x->err),
			 SC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].sku, "sku1");
	assert_string_equal(rows[0].batchref, "sku1batch");
	assert_string_equal(rows[1].sku, "sku2");
	assert_string_equal(rows[1].batchref, "sku2batch");
	assert_int_equal(uow_allocations(x->uow, "nobody", &x->arena, &rows, &n,
					 &x->err),
			 SC_OK);
	assert_int_equal(n, 0);
}

static void deallocation(void **state)
{
	struct fx *x = *state;
	struct allocation_row *rows;
	size_t n;

	add_batch(x, "b1", "sku1", 50, 0);
	add_batch(x, "b2", "sku1", 50, 20000);
	allocate(x, NULL, "o1", "sku1", 40);
	change_qty(x, "b1", 10);
	assert_int_equal(
		uow_allocations(x->uow, "o1", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].sku, "sku1");
	assert_string_equal(rows[0].batchref, "b2");
	assert_int_equal(load(x, "sku1", NULL)->batches[0].allocated, 0);
	assert_int_equal(load(x, "sku1", NULL)->batches[1].allocated, 40);
}

/*
 * Every entry of an ops table of @size bytes at @ops is set.  The tables
 * hold function pointers only (service/uow.h), so they are read as an
 * array of them; a new op an adapter forgets is NULL here, not a crash
 * in production.
 */
static void all_set(const void *ops, size_t size, const char *what)
{
	typedef void fn_t(void);

	assert_non_null(ops);
	assert_int_equal(size % sizeof(fn_t *), 0);
	for (size_t i = 0; i < size / sizeof(fn_t *); i++) {
		fn_t *f;

		memcpy(&f, (const char *)ops + i * sizeof(f), sizeof(f));
		if (!f)
			fail_msg("%s: entry %zu is NULL", what, i);
	}
}

/* The port's tables of @u, each complete (the tx core's batch ops are
   optional by contract, and checked by the writer's tests). */
static void port_complete(const struct uow *u)
{
	all_set(u->products, sizeof(*u->products), "product_repo_ops");
	all_set(u->outbox, sizeof(*u->outbox), "outbox_ops");
	all_set(u->queries, sizeof(*u->queries), "query_ops");
	all_set(u->records, sizeof(*u->records), "record_ops");
	all_set(u->admin, sizeof(*u->admin), "admin_ops");
	all_set(u->deliveries, sizeof(*u->deliveries), "delivery_ops");
	all_set(u->analytics, sizeof(*u->analytics), "analytics_ops");
	all_set(u->dispensing, sizeof(*u->dispensing), "dispensing_ops");
	assert_non_null(u->tx->begin);
	assert_non_null(u->tx->commit);
	assert_non_null(u->tx->rollback);
	assert_non_null(u->tx->free);
}

/*
 * Cue tracks (issue 16) on every store: an import checks the track by
 * its rules and stores it with its JSON; lists are newest first without
 * bodies; an unknown id is SC_ENOTFOUND; a broken track stores nothing.
 */
static void cue_tracks_are_checked_and_kept(void **state)
{
	static const struct palette_entry palette[] = {{"SEA", 1}};
	struct fx *x = *state;
	struct cue c = {0};
	struct cue_track t = {"Drift", NULL, "sha256:ab", 24, 1,
			      palette, 1,    &c,	  1};
	struct msg m = {.type = MSG_IMPORT_TRACK};
	struct bus_result res = {0};
	struct track_record *got;
	size_t n;

	c = (struct cue){.id = "c1",
			 .start = 0,
			 .duration = 24,
			 .sku = "SEA",
			 .dose_ul = 10};
	assert_true(cue_zone_parse("all", &c.zone));
	m.u.import_track = (struct cmd_import_track){&t, "{\"v\":1}", 100};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.track_id, 1);
	t.title = "Drift 2";
	m.u.import_track.body = "{\"v\":2}";
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.track_id, 2);
	c.dose_ul = 501; /* above the cap: refused, nothing stored */
	assert_int_equal(send(&x->bus, &m, &res), SC_EINVAL);
	assert_int_equal(uow_track_list(x->uow, &x->arena, &got, &n, &x->err),
			 SC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].id, 2);
	assert_string_equal(got[0].title, "Drift 2");
	assert_string_equal(got[1].content_hash, "sha256:ab");
	assert_int_equal(got[1].cues, 1);
	assert_null(got[0].body);
	assert_int_equal(uow_track_get(x->uow, 1, &x->arena, &got, &x->err),
			 SC_OK);
	assert_string_equal(got->body, "{\"v\":1}");
	assert_int_equal(got->created_at, 100);
	assert_int_equal(uow_track_get(x->uow, 3, &x->arena, &got, &x->err),
			 SC_ENOTFOUND);
}

/*
 * Venues, shows and refills (issue 16) on every store.  Room "R": seats
 * A1-A2, cartridges of 100 ul, alert below 30, one stock unit fills 50.
 * A show takes 80 from A1 slot 1 (SEA, batch b-sea) and 10 from A2:
 * levels 20 and 90, one CartridgeLow (A1), the show kept with 90 ul of
 * SEA from b-sea.  A refill of A1 (SEA) and A2 slot 2 loaded with PINE:
 * SEA needs 80 ul = 2 units, allocated from batch s1 and A1 filled from
 * it; PINE needs 100 ul = 2 units and has no stock: OutOfStock, A2
 * untouched.  The same order again refills nothing.  A stale version,
 * an unknown cartridge, a cartridge twice: refused, nothing changed.
 */
static void venues_shows_and_refills(void **state)
{
	static const struct cartridge a1[] = {{1, "SEA", "b-sea", 100}};
	static const struct cartridge a2[] = {{1, "SEA", "b-sea", 100},
					      {2, "ROSE", NULL, 100}};
	static const struct seat_device dev[] = {{0, 1, a1, 1, 100},
						 {0, 2, a2, 2, 100}};
	static const struct used_line used[] = {{0, 1, 1, 80}, {0, 2, 1, 10}};
	static const struct refill_line fill[] = {{0, 1, 1, "SEA"},
						  {0, 2, 2, "PINE"}};
	struct fx *x = *state;
	struct venue v = {0};
	struct msg m = {.type = MSG_IMPORT_VENUE};
	struct bus_result res = {0};
	struct venue_record *got;
	struct show_record *shows;
	struct outbox_item *items;
	size_t n, lows = 0;

	v.name = "R";
	v.devices = dev;
	v.n_devices = 2;
	v.capacity_ul = 100;
	v.alert_below_ul = 30;
	v.refill_unit_ul = 50;
	v.caps = (struct dispense_caps){100, 5000};
	assert_true(cue_zone_parse("A1-A2", &v.seats));
	m.u.import_venue = (struct cmd_import_venue){&v, "{\"v\":1}", 100};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.venue_id, 1);
	v.capacity_ul = 0; /* broken: refused, nothing stored */
	assert_int_equal(send(&x->bus, &m, &res), SC_EINVAL);
	assert_int_equal(uow_venue_list(x->uow, &x->arena, &got, &n, &x->err),
			 SC_OK);
	assert_int_equal(n, 1);
	assert_null(got[0].body);
	assert_int_equal(got[0].version, 1);

	m.type = MSG_RECORD_SHOW;
	m.u.record_show =
		(struct cmd_record_show){1, 0, 200, 2, 2, 0, 3, used, 2};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.show_id, 1);
	assert_int_equal(res.alerts, 1);
	assert_int_equal(uow_venue_get(x->uow, 1, &x->arena, &got, &x->err),
			 SC_OK);
	assert_string_equal(got->body, "{\"v\":1}");
	assert_int_equal(got->version, 2);
	assert_int_equal(got->n_cartridges, 3);
	assert_int_equal(got->cartridges[0].level_ul, 20);
	assert_int_equal(got->cartridges[1].level_ul, 90);
	assert_string_equal(got->cartridges[1].batch, "b-sea");
	assert_null(got->cartridges[2].batch);
	assert_int_equal(
		uow_outbox_pending(x->uow, 20, &x->arena, &items, &n, &x->err),
		SC_OK);
	for (size_t i = 0; i < n; i++) {
		if (items[i].ev.type != MSG_CARTRIDGE_LOW)
			continue;
		lows++;
		assert_string_equal(items[i].ev.u.cartridge_low.cartridge,
				    "R A1 slot 1");
		assert_int_equal(items[i].ev.u.cartridge_low.level_ul, 20);
		assert_string_equal(items[i].ev.u.cartridge_low.batch, "b-sea");
	}
	assert_int_equal(lows, 1);
	assert_int_equal(
		uow_show_list(x->uow, 1, &x->arena, &shows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(shows[0].seat_releases, 3);
	assert_int_equal(shows[0].track_id, 0);
	assert_int_equal(shows[0].n_used, 1);
	assert_string_equal(shows[0].used[0].sku, "SEA");
	assert_string_equal(shows[0].used[0].batch, "b-sea");
	assert_int_equal(shows[0].used[0].ul, 90);
	assert_int_equal(
		uow_show_list(x->uow, 2, &x->arena, &shows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 0);

	add_batch(x, "s1", "SEA", 10, 0);
	m.type = MSG_REFILL_CARTRIDGES;
	m.u.refill_cartridges =
		(struct cmd_refill_cartridges){1, "refill-1", 20000, fill, 2};
	res.arena = &x->arena;
	/* A scent never stocked: the whole refill is refused. */
	assert_int_equal(send(&x->bus, &m, &res), SC_ENOTFOUND);
	assert_int_equal(load(x, "SEA", NULL)->batches[0].allocated, 0);
	add_batch(x, "p1", "PINE", 1, 0); /* one unit: short of two */
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.n_refills, 2);
	assert_string_equal(res.refills[0].sku, "SEA");
	assert_int_equal(res.refills[0].ul, 80);
	assert_int_equal(res.refills[0].qty, 2);
	assert_true(res.refills[0].allocated);
	assert_string_equal(res.refills[0].batchref, "s1");
	assert_int_equal(res.refills[0].cartridges, 1);
	assert_string_equal(res.refills[1].sku, "PINE");
	assert_int_equal(res.refills[1].ul, 100);
	assert_false(res.refills[1].allocated);
	assert_int_equal(res.refills[1].cartridges, 0);
	assert_int_equal(load(x, "SEA", NULL)->batches[0].allocated, 2);
	assert_int_equal(uow_venue_get(x->uow, 1, &x->arena, &got, &x->err),
			 SC_OK);
	assert_int_equal(got->version, 3);
	assert_int_equal(got->cartridges[0].level_ul, 100);
	assert_string_equal(got->cartridges[0].batch, "s1");
	assert_string_equal(got->cartridges[2].sku, "ROSE");
	/* Another show empties A1 as far; the same order again was placed
	 * before: nothing filled twice, no stock taken twice. */
	m.type = MSG_RECORD_SHOW;
	m.u.record_show =
		(struct cmd_record_show){1, 0, 300, 1, 1, 0, 1, used, 1};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	m.type = MSG_REFILL_CARTRIDGES;
	m.u.refill_cartridges =
		(struct cmd_refill_cartridges){1, "refill-1", 20000, fill, 2};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_true(res.refills[0].repeated);
	assert_int_equal(res.refills[0].cartridges, 0);
	assert_int_equal(load(x, "SEA", NULL)->batches[0].allocated, 2);

	/* Bad input changes nothing. */
	m.type = MSG_RECORD_SHOW;
	m.u.record_show.venue_id = 9;
	assert_int_equal(send(&x->bus, &m, &res), SC_ENOTFOUND);
	m.u.record_show.venue_id = 1;
	m.u.record_show.n_lines = 2;
	{
		struct used_line twice[] = {{0, 1, 1, 5}, {0, 1, 1, 5}};
		struct used_line nowhere[] = {{0, 1, 3, 5}};

		m.u.record_show.lines = twice;
		assert_int_equal(send(&x->bus, &m, &res), SC_EINVAL);
		m.u.record_show.lines = nowhere;
		m.u.record_show.n_lines = 1;
		assert_int_equal(send(&x->bus, &m, &res), SC_EINVAL);
	}
	assert_int_equal(uow_venue_get(x->uow, 1, &x->arena, &got, &x->err),
			 SC_OK);
	assert_int_equal(got->version, 4);
	assert_int_equal(got->cartridges[0].level_ul, 20);
	/* A change made from a stale read is refused: by the write (SQL
	 * stores) or at commit (memory); either way nothing lands. */
	got->cartridges[0].level_ul = 1;
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	{
		int rc = uow_venue_change(
			x->uow,
			&(struct venue_change){1, 3, got->cartridges, 1},
			&x->err);

		if (!rc)
			rc = uow_commit(x->uow, &x->err);
		assert_int_equal(rc, SC_ECONFLICT);
	}
	uow_rollback(x->uow);
	assert_int_equal(uow_venue_get(x->uow, 1, &x->arena, &got, &x->err),
			 SC_OK);
	assert_int_equal(got->cartridges[0].level_ul, 20);
	assert_int_equal(uow_venue_get(x->uow, 7, &x->arena, &got, &x->err),
			 SC_ENOTFOUND);
}

/*
 * Formulas and surveys (issue 15) on every store: versions numbered in
 * order, the first active, a survey's tallies counted by the store, the
 * winner promoted and the promotion reverted, each change logged.
 */
static void formulas_and_surveys_round_trip(void **state)
{
	static const struct ingredient cat[] = {
		{"calone", "28940-11-6", 5000, {12000, 18000}},
		{"ethanol", NULL, -1, {200, 350}},
	};
	static const struct formula_line v1[] = {{"calone", 2000},
						 {"ethanol", 98000}};
	static const struct formula_line v2[] = {{"calone", 4000},
						 {"ethanol", 96000}};
	struct formula f = {"SEA", 0, 10, 1000, "first", 0, v1, 2};
	const char *labels[] = {"A", "B"};
	const int32_t versions[] = {1, 2};
	struct survey_response r[2 * 60];
	char names[60][8];
	struct fx *x = *state;
	struct msg m = {.type = MSG_PUT_INGREDIENTS};
	struct bus_result res = {0};
	struct formula_change *log;
	struct ingredient *in;
	struct formula *got;
	struct survey *sv;
	size_t n;

	m.u.put_ingredients = (struct cmd_put_ingredients){cat, 2};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_int_equal(uow_ingredients(x->uow, &x->arena, &in, &n, &x->err),
			 SC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(in[0].cas, "28940-11-6");
	assert_null(in[1].cas);
	assert_int_equal(in[1].max_milli, -1);
	m = (struct msg){.type = MSG_ADD_FORMULA};
	m.u.add_formula = (struct cmd_add_formula){&f, "tester", 100};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.version, 1);
	assert_true(res.activated);
	f.lines = v2;
	f.note = NULL;
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.version, 2);
	assert_false(res.activated);
	assert_int_equal(
		uow_formula_get(x->uow, "SEA", 0, &x->arena, &got, &x->err),
		SC_OK);
	assert_int_equal(got->version, 1);
	assert_string_equal(got->note, "first");
	assert_int_equal(got->n, 2);
	assert_string_equal(got->lines[1].ingredient, "ethanol");
	assert_int_equal(got->lines[1].milli, 98000);
	assert_int_equal(
		uow_formula_get(x->uow, "SEA", -1, &x->arena, &got, &x->err),
		SC_OK);
	assert_int_equal(got->version, 2);
	assert_int_equal(
		uow_formula_get(x->uow, "SEA", 3, &x->arena, &got, &x->err),
		SC_ENOTFOUND);

	m = (struct msg){.type = MSG_CREATE_SURVEY};
	m.u.create_survey = (struct cmd_create_survey){
		"SEA", "breeze", labels, versions, 2, 100};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.survey_id, 1);
	/* A accepted by 20 of 60, B by 45 of 60; each rated 4 */
	for (int i = 0; i < 60; i++) {
		(void)snprintf(names[i], sizeof(names[i]), "r%d", i);
		r[2 * i] = (struct survey_response){
			"A",	  0,
			names[i], (int8_t)(i < 20),
			4,	  i % 2 ? "cinema" : NULL};
		r[2 * i + 1] = (struct survey_response){
			"B", 0, names[i], (int8_t)(i < 45), 0, NULL};
	}
	m = (struct msg){.type = MSG_ADD_RESPONSES};
	m.u.add_responses = (struct cmd_add_responses){1, r, 120, 0, false};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK); /* replaces */
	assert_int_equal(
		uow_survey_get(x->uow, 1, NULL, &x->arena, &sv, &x->err),
		SC_OK);
	assert_int_equal(sv->n, 2);
	assert_string_equal(sv->sku, "SEA");
	assert_int_equal(sv->variants[0].responses, 60);
	assert_int_equal(sv->variants[0].accepted, 20);
	assert_int_equal(sv->variants[0].rated, 60);
	assert_int_equal(sv->variants[0].rating_sum, 240);
	assert_int_equal(sv->variants[0].rating_sumsq, 960);
	assert_int_equal(sv->variants[1].accepted, 45);
	assert_int_equal(sv->variants[1].rated, 0);
	assert_int_equal(
		uow_survey_get(x->uow, 1, "cinema", &x->arena, &sv, &x->err),
		SC_OK);
	assert_int_equal(sv->variants[0].responses, 30);
	assert_int_equal(sv->variants[1].responses, 0);
	assert_int_equal(
		uow_survey_get(x->uow, 9, NULL, &x->arena, &sv, &x->err),
		SC_ENOTFOUND);

	m = (struct msg){.type = MSG_PROMOTE_WINNER};
	m.u.promote_winner =
		(struct cmd_promote_winner){1, "tester", NULL, 200};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.version, 2);
	m = (struct msg){.type = MSG_ACTIVATE_FORMULA};
	m.u.activate_formula =
		(struct cmd_activate_formula){"SEA", 0, "tester", NULL, 300};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	assert_int_equal(res.version, 1); /* reverted */
	assert_int_equal(
		uow_formula_log(x->uow, "SEA", &x->arena, &log, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(log[0].to_version, 1);
	assert_string_equal(log[0].reason, "revert");
	assert_int_equal(log[1].to_version, 2);
	assert_int_equal(log[1].survey_id, 1);
	assert_string_equal(log[1].reason, "survey winner");
	assert_int_equal(log[2].from_version, 0);
}

/*
 * Demand (issue 15) on every store: each new order line is counted once
 * by outcome (a retried line is not), imports add to the same rollup,
 * and the store groups by week and segment.
 */
static void demand_is_rolled_up_by_day_and_grouped(void **state)
{
	/* day 20000 is a Tuesday (2024-10-04 is 20000: a Friday) */
	static const struct demand_entry past[] = {
		{"T", 19990, "cinema", DEMAND_ALLOCATED, 30, 3},
		{"T", 19991, NULL, DEMAND_REFUSED, 5, 1},
		{"U", 19990, "game", DEMAND_BACKORDERED, 7, 1},
	};
	struct fx *x = *state;
	struct msg m = {.type = MSG_IMPORT_DEMAND};
	struct demand_query q = {19980, 20010, 1, false, "T"};
	struct demand_row *rows;
	size_t n;

	add_batch(x, "b1", "T", 10, 0);
	m.u.import_demand = (struct cmd_import_demand){past, 3, 0, false};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	m = (struct msg){.type = MSG_ALLOCATE};
	m.u.allocate = (struct cmd_allocate){"o1", "T", 4, false, NULL, 20000};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK); /* a retry */
	m.u.allocate = (struct cmd_allocate){"o2", "T", 50, false, NULL, 20000};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK); /* out of stock */
	assert_int_equal(uow_demand(x->uow, &q, &x->arena, &rows, &n, &x->err),
			 SC_OK);
	assert_int_equal(n, 3); /* days 19990, 19991, 20000 */
	assert_int_equal(rows[0].bucket, 19990);
	assert_int_equal(rows[0].units[DEMAND_ALLOCATED], 30);
	assert_int_equal(rows[0].lines[DEMAND_ALLOCATED], 3);
	assert_null(rows[0].segment);
	assert_int_equal(rows[2].units[DEMAND_ALLOCATED], 4);
	assert_int_equal(rows[2].lines[DEMAND_ALLOCATED], 1);
	assert_int_equal(rows[2].units[DEMAND_REFUSED], 50);
	q = (struct demand_query){19980, 20010, 7, true, NULL};
	assert_int_equal(uow_demand(x->uow, &q, &x->arena, &rows, &n, &x->err),
			 SC_OK);
	/* T: week of 19990 by "cinema" and "" (19991 is in the same
	   week), week of 20000 by ""; U: one row */
	assert_int_equal(n, 4);
	assert_string_equal(rows[0].sku, "T");
	assert_int_equal(rows[0].bucket, 19990 - (19990 + 3) % 7);
	assert_string_equal(rows[0].segment, "");
	assert_int_equal(rows[0].units[DEMAND_REFUSED], 5);
	assert_string_equal(rows[1].segment, "cinema");
	assert_string_equal(rows[3].sku, "U");
	assert_int_equal(rows[3].units[DEMAND_BACKORDERED], 7);
}

/* Every store fills every op of the port, and so does the fault wrapper. */
static void every_op_of_the_port_is_implemented(void **state)
{
	struct fx *x = *state;
	struct faulty_uow f;

	port_complete(x->uow);
	faulty_uow_init(&f, x->uow);
	port_complete(&f.base);
}

/* Deallocate(@orderid, @sku or NULL) through @x's bus; its code. */
static int cancel(struct fx *x, const char *orderid, const char *sku,
		  struct bus_result *res)
{
	struct msg m = {.type = MSG_DEALLOCATE};

	m.u.deallocate.orderid = orderid;
	m.u.deallocate.sku = sku;
	memset(res, 0, sizeof(*res));
	res->arena = &x->arena;
	return send(&x->bus, &m, res);
}

/*
 * Cancelling lines (issue 14) on every store: the stock, the read model
 * and the outbox move together, a whole order goes in one transaction,
 * and the store's own check still finds every invariant holding.
 */
static void cancelled_lines_free_stock_and_queue_deallocated(void **state)
{
	struct fx *x = *state;
	struct outbox_item *items;
	struct allocation_row *rows;
	struct check_report rep;
	struct bus_result res;
	size_t n, n_dealloc = 0;

	add_batch(x, "b1", "sku1", 50, 0);
	add_batch(x, "b2", "sku2", 50, 0);
	allocate(x, NULL, "o1", "sku1", 10);
	allocate(x, NULL, "o1", "sku2", 5);
	allocate(x, NULL, "o2", "sku1", 7);
	assert_int_equal(cancel(x, "o1", "sku1", &res), SC_OK);
	assert_int_equal(res.n_freed, 1);
	assert_string_equal(res.freed[0].batchref, "b1");
	assert_int_equal(
		uow_allocations(x->uow, "o1", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].sku, "sku2");
	assert_int_equal(cancel(x, "o1", NULL, &res), SC_OK);
	assert_int_equal(res.n_freed, 1);
	assert_string_equal(res.freed[0].sku, "sku2");
	assert_int_equal(res.freed[0].qty, 5);
	assert_int_equal(cancel(x, "o1", NULL, &res), SC_ENOTFOUND);
	assert_int_equal(
		uow_allocations(x->uow, "o1", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(load(x, "sku1", NULL)->batches[0].allocated, 7);
	assert_int_equal(load(x, "sku2", NULL)->batches[0].allocated, 0);
	/* the freed units serve the next order */
	assert_string_equal(allocate(x, NULL, "o3", "sku2", 50), "b2");
	assert_int_equal(
		uow_outbox_pending(x->uow, 20, &x->arena, &items, &n, &x->err),
		SC_OK);
	for (size_t i = 0; i < n; i++) {
		if (items[i].ev.type != MSG_DEALLOCATED)
			continue;
		assert_string_equal(items[i].ev.u.deallocated.orderid, "o1");
		assert_int_equal(items[i].ev.u.deallocated.qty,
				 n_dealloc ? 5 : 10);
		n_dealloc++;
	}
	assert_int_equal(n_dealloc, 2);
	assert_int_equal(uow_check(x->uow, false, &x->arena, &rep, &x->err),
			 SC_OK);
	assert_int_equal(rep.n_problems, 0);
}

/* Allocate with "backorder": true through @x's bus; the outcome. */
static struct bus_result backorder(struct fx *x, const char *orderid,
				   const char *sku, long long qty)
{
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};

	m.u.allocate = (struct cmd_allocate){orderid, sku, qty, true, NULL, 0};
	assert_int_equal(send(&x->bus, &m, &res), SC_OK);
	return res;
}

/*
 * Backorders (issue 14) on every store: kept oldest first, shown by the
 * read model, loaded whole when stock arrives and filled in that same
 * transaction; a cancelled one is gone; the check still holds.
 */
static void backorders_wait_and_new_stock_fills_them(void **state)
{
	struct fx *x = *state;
	struct allocation_row *rows;
	struct check_report rep;
	struct bus_result res;
	struct product *p;
	size_t n;

	add_batch(x, "b1", "T", 2, 0);
	allocate(x, NULL, "o1", "T", 2);
	assert_true(backorder(x, "o2", "T", 3).backordered);
	assert_true(backorder(x, "o3", "T", 1).backordered);
	assert_true(backorder(x, "o4", "T", 7).backordered);
	assert_true(backorder(x, "o2", "T", 3).backordered); /* a retry */
	assert_int_equal(
		uow_allocations(x->uow, "o2", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
	assert_null(rows[0].batchref);
	assert_int_equal(rows[0].qty, 3);
	p = load(x, "T", &(struct load_hint){.backorders = true});
	assert_true(p->backorders_complete);
	assert_int_equal(p->n_backorders, 3);
	assert_string_equal(p->backorders[0].orderid, "o2");
	assert_string_equal(p->backorders[2].orderid, "o4");
	/* an order's hint loads its backorder (a store may load more) */
	p = load(x, "T", &(struct load_hint){.orderid = "o3"});
	assert_true(p->n_backorders == 1 || p->backorders_complete);
	for (n = 0; strcmp(p->backorders[n].orderid, "o3") != 0; n++)
		assert_true(n + 1 < p->n_backorders);
	assert_int_equal(p->backorders[n].qty, 1);
	/* 4 arrive: o2 (3) and o3 (1) are filled, o4 (7) waits */
	add_batch(x, "b2", "T", 4, 0);
	assert_int_equal(
		uow_allocations(x->uow, "o3", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_string_equal(rows[0].batchref, "b2");
	assert_int_equal(load(x, "T", NULL)->batches[1].allocated, 4);
	assert_int_equal(cancel(x, "o4", "T", &res), SC_OK);
	assert_null(res.freed[0].batchref);
	assert_int_equal(
		uow_allocations(x->uow, "o4", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(load(x, "T", &(struct load_hint){.backorders = true})
				 ->n_backorders,
			 0);
	assert_int_equal(uow_check(x->uow, false, &x->arena, &rep, &x->err),
			 SC_OK);
	assert_int_equal(rep.n_problems, 0);
}

/* CreateCustomer through @x's bus; its code. */
static int add_customer(struct fx *x, const char *id, const char *email,
			const char *url, const uint8_t *secret)
{
	struct msg m = {.type = MSG_CREATE_CUSTOMER};

	m.u.create_customer = (struct cmd_create_customer){
		id, "Cinema One", email, url, secret, 1700000000, NULL};
	return send(&x->bus, &m, NULL);
}

/* Allocate for @customer; its code. */
static int allocate_for(struct fx *x, const char *orderid, const char *sku,
			const char *customer)
{
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};

	m.u.allocate =
		(struct cmd_allocate){orderid, sku, 2, false, customer, 0};
	return send(&x->bus, &m, &res);
}

/*
 * Customers and the notices they are owed (issue 14) on every store:
 * one delivery per channel in the transaction of the change, claimed
 * with a lease and the customer's secret, retried when due, dead after
 * the last attempt, replayed from dead only.
 */
static void customers_get_their_notices_through_deliveries(void **state)
{
	struct fx *x = *state;
	uint8_t key[WEBHOOK_SECRET_LEN];
	struct customer_record *c;
	struct delivery *d;
	struct bus_result res;
	size_t n;
	int64_t now = 1800000000000;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	add_batch(x, "b1", "T", 50, 0);
	add_batch(x, "u1", "U", 50, 0);
	assert_int_equal(add_customer(x, "c1", "buyer@cinema.example",
				      "https://hooks.cinema.example/scents",
				      key),
			 SC_OK);
	assert_int_equal(add_customer(x, "c1", "x@y.example", NULL, NULL),
			 SC_EEXIST);
	assert_int_equal(add_customer(x, "c2", "not-an-address", NULL, NULL),
			 SC_EINVAL);
	assert_int_equal(add_customer(x, "c2", NULL, "ftp://x.example", key),
			 SC_EINVAL);
	assert_int_equal(add_customer(x, "c2", NULL, NULL, NULL), SC_EINVAL);
	assert_int_equal(add_customer(x, "c3", "ops@vr.example", NULL, NULL),
			 SC_OK);
	assert_int_equal(uow_customer_get(x->uow, "c1", &x->arena, &c, &x->err),
			 SC_OK);
	assert_string_equal(c->email, "buyer@cinema.example");
	assert_memory_equal(c->secret, key, sizeof(key));
	assert_int_equal(uow_customer_get(x->uow, "c9", &x->arena, &c, &x->err),
			 SC_ENOTFOUND);
	/* an order is one customer's; an unknown one is bad input */
	assert_int_equal(allocate_for(x, "o1", "T", "c1"), SC_OK);
	assert_int_equal(allocate_for(x, "o1", "U", "c3"), SC_EEXIST);
	assert_int_equal(allocate_for(x, "o2", "T", "c9"), SC_EINVAL);
	assert_int_equal(allocate_for(x, "o1", "U", "c1"), SC_OK);
	allocate(x, NULL, "o3", "T", 1); /* nobody's: no notice */
	assert_int_equal(
		uow_delivery_list(x->uow,
				  &(struct delivery_filter){NOTICE_PENDING, 10},
				  &x->arena, &d, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 4); /* 2 lines x (webhook, email) */
	assert_int_equal(d[0].kind, NOTICE_ALLOCATED);
	/* claimed oldest first, leased, with the secret to sign with */
	assert_int_equal(
		uow_delivery_claim(x->uow, &(struct delivery_claim){now, 3, 60},
				   &x->arena, &d, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 3);
	assert_true(d[0].id < d[1].id && d[1].id < d[2].id);
	assert_string_equal(d[0].channel, "webhook");
	assert_string_equal(d[0].target, "https://hooks.cinema.example/scents");
	assert_memory_equal(d[0].secret, key, sizeof(key));
	assert_string_equal(d[0].ev.orderid, "o1");
	assert_string_equal(d[0].ev.batchref, "b1");
	assert_int_equal(d[0].ev.qty, 2);
	{
		int64_t first = d[0].id, second = d[1].id, third = d[2].id;
		struct delivery_outcome later = {.next_at_ms = now + 1000,
						 .error = "HTTP 500"};
		struct delivery_outcome dead = {.dead = true,
						.error = "timed out"};
		struct delivery_outcome ok = {.delivered = true};

		assert_int_equal(uow_delivery_claim(
					 x->uow,
					 &(struct delivery_claim){now, 10, 60},
					 &x->arena, &d, &n, &x->err),
				 SC_OK);
		assert_int_equal(n, 1); /* the others are leased */
		assert_int_equal(
			uow_delivery_finish(x->uow, first, 1, &later, &x->err),
			SC_OK);
		assert_int_equal(
			uow_delivery_finish(x->uow, second, 1, &dead, &x->err),
			SC_OK);
		assert_int_equal(
			uow_delivery_finish(x->uow, third, 0, &ok, &x->err),
			SC_OK);
		/* not due yet; then due */
		assert_int_equal(uow_delivery_claim(x->uow,
						    &(struct delivery_claim){
							    now + 999, 10, 60},
						    &x->arena, &d, &n, &x->err),
				 SC_OK);
		assert_int_equal(n, 0);
		assert_int_equal(uow_delivery_claim(x->uow,
						    &(struct delivery_claim){
							    now + 1000, 10, 60},
						    &x->arena, &d, &n, &x->err),
				 SC_OK);
		assert_int_equal(n, 1);
		assert_int_equal(d[0].id, first);
		assert_int_equal(d[0].attempts, 1);
		assert_int_equal(uow_delivery_list(x->uow,
						   &(struct delivery_filter){
							   NOTICE_DEAD, 10},
						   &x->arena, &d, &n, &x->err),
				 SC_OK);
		assert_int_equal(n, 1);
		assert_string_equal(d[0].last_error, "timed out");
		assert_int_equal(
			uow_delivery_list(
				x->uow,
				&(struct delivery_filter){NOTICE_DELIVERED, 10},
				&x->arena, &d, &n, &x->err),
			SC_OK);
		assert_int_equal(n, 1);
		/* replay: dead only, back to pending with no attempts */
		struct msg m = {.type = MSG_REPLAY_DELIVERY};

		m.u.replay_delivery = (struct cmd_replay_delivery){second, now};
		assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
		assert_int_equal(send(&x->bus, &m, NULL), SC_EINVAL);
		m.u.replay_delivery.id = 99999;
		assert_int_equal(send(&x->bus, &m, NULL), SC_ENOTFOUND);
		assert_int_equal(uow_delivery_claim(
					 x->uow,
					 &(struct delivery_claim){now, 10, 60},
					 &x->arena, &d, &n, &x->err),
				 SC_OK);
		assert_int_equal(n, 1);
		assert_int_equal(d[0].id, second);
		assert_int_equal(d[0].attempts, 0);
	}
	/* a cancel tells the customer too */
	assert_int_equal(cancel(x, "o1", "U", &res), SC_OK);
	assert_int_equal(uow_delivery_list(x->uow,
					   &(struct delivery_filter){-1, 1},
					   &x->arena, &d, &n, &x->err),
			 SC_OK);
	assert_int_equal(d[0].kind, NOTICE_DEALLOCATED);
	assert_string_equal(d[0].ev.sku, "U");
}

/* Backorders older than an age are listed until each is marked told. */
static void aged_backorders_are_listed_until_told(void **state)
{
	struct fx *x = *state;
	struct msg m = {.type = MSG_ALERT_AGED_BACKORDERS};
	struct aged_list rows;
	struct outbox_item *items;
	int64_t now = (int64_t)time(NULL);
	size_t n, waiting = 0;

	add_batch(x, "b1", "T", 1, 0);
	assert_true(backorder(x, "o1", "T", 3).backordered);
	assert_int_equal(uow_aged_backorders(x->uow, now - 3600, 10, &x->arena,
					     &rows, &x->err),
			 SC_OK);
	assert_int_equal(rows.n, 0); /* not that old */
	assert_int_equal(uow_aged_backorders(x->uow, now + 100, 10, &x->arena,
					     &rows, &x->err),
			 SC_OK);
	assert_int_equal(rows.n, 1);
	assert_string_equal(rows.items[0].orderid, "o1");
	assert_string_equal(rows.items[0].sku, "T");
	assert_int_equal(rows.items[0].qty, 3);
	assert_true(rows.items[0].created_at >= now - 5 &&
		    rows.items[0].created_at <= now + 5);
	m.u.alert_aged_backorders =
		(struct cmd_alert_aged_backorders){now + 200, 100};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK); /* nothing new */
	assert_int_equal(uow_aged_backorders(x->uow, now + 100, 10, &x->arena,
					     &rows, &x->err),
			 SC_OK);
	assert_int_equal(rows.n, 0);
	assert_int_equal(
		uow_outbox_pending(x->uow, 50, &x->arena, &items, &n, &x->err),
		SC_OK);
	for (size_t i = 0; i < n; i++)
		waiting += items[i].ev.type == MSG_BACKORDER_WAITING;
	assert_int_equal(waiting, 1);
}

/* The low-stock threshold is kept by every store, with the product. */
static void the_low_stock_threshold_is_stored(void **state)
{
	struct fx *x = *state;
	struct msg m = {.type = MSG_SET_LOW_STOCK};
	struct product *p;

	add_batch(x, "b1", "T", 10, 0);
	assert_int_equal(load(x, "T", NULL)->low_stock, 0);
	m.u.set_low_stock = (struct cmd_set_low_stock){"T", 7};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_int_equal(load(x, "T", NULL)->low_stock, 7);
	assert_int_equal(uow_read_product(x->uow, "T", &x->arena, &p, &x->err),
			 SC_OK);
	assert_int_equal(p->low_stock, 7);
	allocate(x, NULL, "o1", "T", 4); /* 6 left: one LowStock queued */
	m.u.set_low_stock.threshold = 0;
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_int_equal(load(x, "T", NULL)->low_stock, 0);
	assert_int_equal(load(x, "T", NULL)->version, 4);
}

/* A batch's new ETA is stored, and its customers' notices carry it. */
static void a_new_eta_is_stored_and_told(void **state)
{
	struct fx *x = *state;
	uint8_t key[WEBHOOK_SECRET_LEN] = {9};
	struct msg m = {.type = MSG_CHANGE_BATCH_ETA};
	struct delivery *d;
	size_t n;

	add_batch(x, "ship", "T", 10, 20000);
	assert_int_equal(
		add_customer(x, "c1", NULL, "https://h.example/x", key), SC_OK);
	assert_int_equal(allocate_for(x, "o1", "T", "c1"), SC_OK);
	m.u.change_batch_eta =
		(struct cmd_change_batch_eta){"ship", true, 20031};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_int_equal(load(x, "T", NULL)->batches[0].eta, 20031);
	assert_int_equal(uow_delivery_list(x->uow,
					   &(struct delivery_filter){-1, 10},
					   &x->arena, &d, &n, &x->err),
			 SC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].kind, NOTICE_ETA_CHANGED); /* newest first */
	assert_true(d[0].has_eta);
	assert_int_equal(d[0].eta, 20031);
	assert_int_equal(d[1].kind, NOTICE_ALLOCATED);
	assert_int_equal(d[1].eta, 20000);
	m.u.change_batch_eta.has_eta = false; /* it has arrived */
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_false(load(x, "T", NULL)->batches[0].has_eta);
	m.u.change_batch_eta.ref = "nope";
	assert_int_equal(send(&x->bus, &m, NULL), SC_ENOTFOUND);
}

/* OutOfStock keeps the line that caused it, and may lack it (old rows). */
static void out_of_stock_names_its_line_when_it_has_one(void **state)
{
	struct fx *x = *state;
	struct msg old = {.type = MSG_OUT_OF_STOCK};
	struct outbox_item *items;
	size_t n;

	add_batch(x, "b1", "T", 1, 0);
	assert_string_equal(allocate(x, NULL, "o1", "T", 2), "");
	old.u.out_of_stock.sku = "T";
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(uow_outbox_add(x->uow, &old, &x->err), SC_OK);
	assert_int_equal(uow_commit(x->uow, &x->err), SC_OK);
	assert_int_equal(
		uow_outbox_pending(x->uow, 10, &x->arena, &items, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].ev.type, MSG_OUT_OF_STOCK);
	assert_string_equal(items[0].ev.u.out_of_stock.orderid, "o1");
	assert_int_equal(items[0].ev.u.out_of_stock.qty, 2);
	assert_int_equal(items[1].ev.type, MSG_OUT_OF_STOCK);
	assert_null(items[1].ev.u.out_of_stock.orderid);
	assert_int_equal(items[1].ev.u.out_of_stock.qty, 0);
}

static void data_survives_reopening_the_store(void **state)
{
	struct fx *x = *state;
	struct uow *again;
	struct allocation_row *rows;
	size_t n;

	add_batch(x, "b1", "T", 10, 0);
	allocate(x, NULL, "o1", "T", 3);
	assert_int_equal(x->f->open(x->store, &again), 0);
	assert_int_equal(
		uow_allocations(again, "o1", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
	uow_free(again);
}

static void reads_products_for_display_without_a_transaction(void **state)
{
	struct product_list page;
	struct fx *x = *state;
	struct product_summary *rows;
	struct product *p;
	size_t n;

	add_batch(x, "b1", "BETA", 10, 0);
	add_batch(x, "b2", "BETA", 5, 20000);
	add_batch(x, "b3", "ALPHA", 7, 0);
	add_batch(x, "b4", "GAMMA", 1, 0);
	allocate(x, NULL, "o1", "BETA", 4);
	assert_int_equal(
		uow_read_product(x->uow, "BETA", &x->arena, &p, &x->err),
		SC_OK);
	assert_int_equal(p->n_batches, 2);
	assert_int_equal(p->version, 3);
	assert_int_equal(p->batches[0].allocated, 4);
	assert_int_equal(
		uow_read_product(x->uow, "NOPE", &x->arena, &p, &x->err),
		SC_ENOTFOUND);
	assert_int_equal(
		uow_list_products(x->uow, "", 2, &x->arena, &page, &x->err),
		SC_OK);
	rows = page.items;
	n = page.n;
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].sku, "ALPHA");
	assert_string_equal(rows[1].sku, "BETA");
	assert_int_equal(rows[1].purchased, 15);
	assert_int_equal(rows[1].allocated, 4);
	assert_int_equal(rows[1].n_batches, 2);
	assert_int_equal(rows[1].incoming, 5); /* b2 has an ETA */
	assert_int_equal(rows[0].incoming, 0);
	/* lines for display: by batch, then allocation order, limited */
	allocate(x, NULL, "o2", "BETA", 3);
	{
		struct product_line *l;

		assert_int_equal(
			uow_product_lines(x->uow,
					  &(struct lines_ask){"BETA", 10},
					  &x->arena, &l, &n, &x->err),
			SC_OK);
		assert_int_equal(n, 2);
		assert_string_equal(l[0].batchref, "b1");
		assert_string_equal(l[0].orderid, "o1");
		assert_int_equal(l[0].qty, 4);
		assert_string_equal(l[1].orderid, "o2");
		assert_int_equal(uow_product_lines(
					 x->uow, &(struct lines_ask){"BETA", 1},
					 &x->arena, &l, &n, &x->err),
				 SC_OK);
		assert_int_equal(n, 1);
		assert_int_equal(
			uow_product_lines(x->uow,
					  &(struct lines_ask){"NOPE", 10},
					  &x->arena, &l, &n, &x->err),
			SC_OK);
		assert_int_equal(n, 0);
	}
	assert_int_equal(uow_list_products(x->uow, "BETA", 10, &x->arena, &page,
					   &x->err),
			 SC_OK);
	rows = page.items;
	n = page.n;
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].sku, "GAMMA");
	assert_int_equal(uow_ping(x->uow, &x->err), SC_OK);
}

static void outbox_commits_and_rolls_back_with_the_change(void **state)
{
	struct fx *x = *state;
	struct msg oos = {.type = MSG_OUT_OF_STOCK};
	struct outbox_item *items;
	int64_t ids[2];
	size_t n;

	add_batch(x, "b1", "T", 10, 0);
	allocate(x, NULL, "o1", "T", 3); /* queues Allocated */
	oos.u.out_of_stock.sku = "GONE";
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(uow_outbox_add(x->uow, &oos, &x->err), SC_OK);
	uow_rollback(x->uow); /* never happened */
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(uow_outbox_add(x->uow, &oos, &x->err), SC_OK);
	assert_int_equal(uow_commit(x->uow, &x->err), SC_OK);
	assert_int_equal(
		uow_outbox_pending(x->uow, 10, &x->arena, &items, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 2);
	assert_true(items[0].id < items[1].id);
	assert_int_equal(items[0].ev.type, MSG_ALLOCATED);
	assert_string_equal(items[0].ev.u.allocated.orderid, "o1");
	assert_string_equal(items[0].ev.u.allocated.sku, "T");
	assert_string_equal(items[0].ev.u.allocated.batchref, "b1");
	assert_int_equal(items[0].ev.u.allocated.qty, 3);
	assert_int_equal(items[1].ev.type, MSG_OUT_OF_STOCK);
	assert_string_equal(items[1].ev.u.out_of_stock.sku, "GONE");
	ids[0] = items[0].id;
	ids[1] = items[1].id;
	assert_int_equal(uow_outbox_mark(x->uow, &ids[1], 1, false, &x->err),
			 SC_OK);
	assert_int_equal(uow_outbox_mark(x->uow, ids, 1, true, &x->err), SC_OK);
	assert_int_equal(
		uow_outbox_pending(x->uow, 1, &x->arena, &items, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].id, ids[1]);
	assert_int_equal(items[0].attempts, 1);
	assert_int_equal(uow_outbox_mark(x->uow, &ids[1], 1, true, &x->err),
			 SC_OK);
	assert_int_equal(
		uow_outbox_pending(x->uow, 10, &x->arena, &items, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 0);
}

/*
 * One semantics inside an open transaction, the same on every store:
 * queries answer from committed data (never this transaction's product
 * changes, which uow_commit writes), are refused once the transaction
 * wrote a record, and calls that commit on their own are refused.
 */
static void calls_inside_an_open_transaction(void **state)
{
	struct fx *x = *state;
	struct product *p, *shown;
	struct product_list list;
	struct sku_history hist;
	struct allocation_row *rows;
	struct token_record *tokens;
	struct outbox_item *items;
	struct check_report rep;
	const char *ref;
	int64_t ids[1] = {1};
	size_t n;

	add_batch(x, "b1", "T", 10, 0);
	allocate(x, NULL, "o1", "T", 3);
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(repo_get(x->uow, "T", NULL, &p, &x->err), SC_OK);
	assert_int_equal(product_allocate(p, &(struct order_line){"o2", "T", 5},
					  &ref, &x->err),
			 SC_OK);
	/* reads work, see committed data, and do not deadlock */
	assert_int_equal(
		uow_read_product(x->uow, "T", &x->arena, &shown, &x->err),
		SC_OK);
	assert_int_equal(shown->batches[0].allocated, 3);
	assert_int_equal(
		uow_list_products(x->uow, "", 10, &x->arena, &list, &x->err),
		SC_OK);
	assert_int_equal(list.n, 1);
	assert_int_equal(list.items[0].allocated, 3);
	assert_int_equal(
		uow_allocations(x->uow, "o2", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(
		uow_research_history(x->uow, "T", 1, &x->arena, &hist, &x->err),
		SC_OK);
	assert_int_equal(
		uow_outbox_pending(x->uow, 10, &x->arena, &items, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
	/* calls that commit on their own are refused, and change nothing */
	assert_int_equal(
		uow_outbox_claim(x->uow, 10, &x->arena, &items, &n, &x->err),
		SC_EINVAL);
	assert_int_equal(uow_outbox_mark(x->uow, ids, 1, true, &x->err),
			 SC_EINVAL);
	assert_int_equal(uow_probe_write(x->uow, &x->err), SC_EINVAL);
	assert_int_equal(uow_check(x->uow, false, &x->arena, &rep, &x->err),
			 SC_EINVAL);
	assert_int_equal(uow_backup(x->uow, "/nonexistent/b", &x->err),
			 SC_EINVAL);
	/* once a record is written, queries wait for the commit */
	assert_int_equal(
		uow_token_add(x->uow,
			      &(struct token_record){.name = "t1",
						     .scopes = TOKEN_SCOPE_READ,
						     .hash = {1},
						     .created_at = 1},
			      &x->err),
		SC_OK);
	assert_int_equal(
		uow_token_list(x->uow, &x->arena, &tokens, &n, &x->err),
		SC_EINVAL);
	assert_int_equal(uow_commit(x->uow, &x->err), SC_OK);
	uow_rollback(x->uow);
	/* after the commit: the line, and the outbox still unclaimed */
	assert_int_equal(
		uow_allocations(x->uow, "o2", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(
		uow_token_list(x->uow, &x->arena, &tokens, &n, &x->err), SC_OK);
	assert_int_equal(n, 1);
	/* (o2's Allocated was never queued: this test bypassed the bus) */
	assert_int_equal(
		uow_outbox_claim(x->uow, 10, &x->arena, &items, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 1);
}

/*
 * Two connections (as two servers) claim from one outbox: each event goes
 * to one of them; a failed delivery releases it for anyone, a delivered
 * one is gone for all.
 */
static void outbox_claims_give_each_event_to_one_deliverer(void **state)
{
	struct fx *x = *state;
	struct outbox_item *a_items, *b_items;
	size_t n_a, n_b;
	struct uow *other;
	int64_t id;

	add_batch(x, "b1", "T", 10, 0);
	allocate(x, NULL, "o1", "T", 1);
	allocate(x, NULL, "o2", "T", 1);
	allocate(x, NULL, "o3", "T", 1);
	assert_int_equal(x->f->open(x->store, &other), 0);
	assert_int_equal(
		uow_outbox_claim(x->uow, 2, &x->arena, &a_items, &n_a, &x->err),
		SC_OK);
	assert_int_equal(n_a, 2); /* the two oldest, oldest first */
	assert_true(a_items[0].id < a_items[1].id);
	assert_string_equal(a_items[0].ev.u.allocated.orderid, "o1");
	assert_int_equal(
		uow_outbox_claim(other, 10, &x->arena, &b_items, &n_b, &x->err),
		SC_OK);
	assert_int_equal(n_b, 1); /* only what A does not hold */
	assert_string_equal(b_items[0].ev.u.allocated.orderid, "o3");
	assert_int_equal(
		uow_outbox_claim(other, 10, &x->arena, &b_items, &n_b, &x->err),
		SC_OK);
	assert_int_equal(n_b, 0); /* B's own lease holds too */
	/* A delivers its first, fails its second: that one is free again */
	id = a_items[1].id;
	assert_int_equal(
		uow_outbox_mark(x->uow, &a_items[0].id, 1, true, &x->err),
		SC_OK);
	assert_int_equal(uow_outbox_mark(x->uow, &id, 1, false, &x->err),
			 SC_OK);
	assert_int_equal(
		uow_outbox_claim(other, 10, &x->arena, &b_items, &n_b, &x->err),
		SC_OK);
	assert_int_equal(n_b, 1);
	assert_int_equal(b_items[0].id, id);
	assert_int_equal(b_items[0].attempts, 1);
	uow_free(other);
}

/* Send CreateToken @name with @scopes and a hash made of @fill bytes. */
static int create_token(struct fx *x, const char *name, unsigned scopes,
			uint8_t fill, int64_t now)
{
	struct msg m = {.type = MSG_CREATE_TOKEN};
	uint8_t hash[TOKEN_HASH_LEN];

	memset(hash, fill, sizeof(hash));
	m.u.create_token.name = name;
	m.u.create_token.scopes = scopes;
	m.u.create_token.hash = hash;
	m.u.create_token.now = now;
	return send(&x->bus, &m, NULL);
}

static int revoke_token(struct fx *x, const char *name, int64_t now)
{
	struct msg m = {.type = MSG_REVOKE_TOKEN};

	m.u.revoke_token.name = name;
	m.u.revoke_token.now = now;
	return send(&x->bus, &m, NULL);
}

static void tokens_are_kept_by_hash_and_revoked_in_place(void **state)
{
	struct fx *x = *state;
	struct token_record *rows;
	size_t n;

	assert_int_equal(uow_token_list(x->uow, &x->arena, &rows, &n, &x->err),
			 SC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(create_token(x, "zeta", TOKEN_SCOPE_READ, 0xaa, 100),
			 SC_OK);
	assert_int_equal(create_token(x, "alpha",
				      TOKEN_SCOPE_STOCK | TOKEN_SCOPE_ALLOCATE,
				      0xbb, 200),
			 SC_OK);
	/* a name is never reused, revoked or not; nothing changes */
	assert_int_equal(create_token(x, "zeta", TOKEN_SCOPE_ADMIN, 0xcc, 300),
			 SC_EEXIST);
	assert_int_equal(revoke_token(x, "ghost", 400), SC_ENOTFOUND);
	assert_int_equal(revoke_token(x, "zeta", 500), SC_OK);
	assert_int_equal(revoke_token(x, "zeta", 600), SC_OK); /* idempotent */
	assert_int_equal(uow_token_list(x->uow, &x->arena, &rows, &n, &x->err),
			 SC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].name, "alpha"); /* by name */
	assert_int_equal(rows[0].scopes,
			 TOKEN_SCOPE_STOCK | TOKEN_SCOPE_ALLOCATE);
	assert_int_equal(rows[0].hash[0], 0xbb);
	assert_int_equal(rows[0].hash[TOKEN_HASH_LEN - 1], 0xbb);
	assert_int_equal(rows[0].created_at, 200);
	assert_int_equal(rows[0].revoked_at, 0);
	assert_string_equal(rows[1].name, "zeta");
	assert_int_equal(rows[1].scopes, TOKEN_SCOPE_READ);
	assert_int_equal(rows[1].hash[0], 0xaa);
	assert_int_equal(rows[1].revoked_at, 500); /* the first revocation */
	/* rolled back: never happened */
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(uow_token_revoke(x->uow, "alpha", 700, &x->err),
			 SC_OK);
	uow_rollback(x->uow);
	assert_int_equal(uow_token_list(x->uow, &x->arena, &rows, &n, &x->err),
			 SC_OK);
	assert_int_equal(rows[0].revoked_at, 0);
}

static void token_commands_refuse_bad_names_and_scopes(void **state)
{
	struct fx *x = *state;
	struct token_record *rows;
	size_t n;

	assert_int_equal(create_token(x, "", TOKEN_SCOPE_READ, 1, 1),
			 SC_EINVAL);
	assert_int_equal(create_token(x, "has space", TOKEN_SCOPE_READ, 1, 1),
			 SC_EINVAL);
	assert_int_equal(create_token(x, "ok", 0, 1, 1), SC_EINVAL);
	assert_int_equal(create_token(x, "ok", 1u << 7, 1, 1), SC_EINVAL);
	assert_int_equal(revoke_token(x, "bad/name", 1), SC_EINVAL);
	assert_int_equal(uow_token_list(x->uow, &x->arena, &rows, &n, &x->err),
			 SC_OK);
	assert_int_equal(n, 0);
}

static void readiness_probe_and_outbox_backlog(void **state)
{
	struct fx *x = *state;
	struct outbox_item *items;
	int64_t pending = -1, oldest = -1, before = (int64_t)time(NULL);
	size_t n;

	assert_int_equal(uow_probe_write(x->uow, &x->err), SC_OK);
	assert_int_equal(uow_outbox_stats(x->uow, &pending, &oldest, &x->err),
			 SC_OK);
	assert_int_equal(pending, 0);
	assert_int_equal(oldest, 0);
	add_batch(x, "b1", "P", 10, 0);
	allocate(x, NULL, "o1", "P", 1);
	allocate(x, NULL, "o2", "P", 1);
	assert_int_equal(uow_outbox_stats(x->uow, &pending, &oldest, &x->err),
			 SC_OK);
	assert_int_equal(pending, 2);
	assert_in_range(oldest, before - 1, (int64_t)time(NULL) + 1);
	assert_int_equal(
		uow_outbox_pending(x->uow, 1, &x->arena, &items, &n, &x->err),
		SC_OK);
	assert_int_equal(
		uow_outbox_mark(x->uow, &items[0].id, 1, true, &x->err), SC_OK);
	assert_int_equal(uow_outbox_stats(x->uow, &pending, &oldest, &x->err),
			 SC_OK);
	assert_int_equal(pending, 1);
	/* the probe changes nothing, and leaves no transaction open */
	assert_int_equal(uow_probe_write(x->uow, &x->err), SC_OK);
	assert_int_equal(load(x, "P", NULL)->version, 3);
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	uow_rollback(x->uow);
}

static void research_rounds_round_trip(void **state)
{
	struct sku_history hist;
	struct fx *x = *state;
	struct research_row rows[2] = {
		{"sea breeze", "SEA-BREEZE", 4000, 6000, 2500, 1500, 100},
		{"jungle", "JUNGLE", 7000, 3000, 3000, 2500, 0},
	};
	struct decision d[2];
	struct research_round r = {0, 20000, 4000, rows, d, 2}, *got;
	struct sku_decision *h;
	size_t n;

	sourcing_decide(&rows[0], 4000, &d[0]);
	sourcing_decide(&rows[1], 4000, &d[1]);
	assert_int_equal(
		uow_research_round(x->uow, 0, &x->arena, &got, &x->err),
		SC_ENOTFOUND);
	err_clear(&x->err);
	assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
	assert_int_equal(uow_research_add(x->uow, &r, &r.id, &x->err), SC_OK);
	uow_rollback(x->uow);
	assert_int_equal(
		uow_research_round(x->uow, 0, &x->arena, &got, &x->err),
		SC_ENOTFOUND);
	err_clear(&x->err);
	for (int k = 0; k < 2; k++) {
		r.threshold_bp = 4000 + 1000 * k;
		assert_int_equal(uow_begin(x->uow, &x->arena, &x->err), SC_OK);
		assert_int_equal(uow_research_add(x->uow, &r, &r.id, &x->err),
				 SC_OK);
		assert_int_equal(uow_commit(x->uow, &x->err), SC_OK);
	}
	assert_int_equal(
		uow_research_round(x->uow, 0, &x->arena, &got, &x->err), SC_OK);
	assert_int_equal(got->id, r.id);
	assert_int_equal(got->threshold_bp, 5000);
	assert_int_equal(got->day, 20000);
	assert_int_equal(got->n, 2);
	assert_string_equal(got->rows[0].scent, "sea breeze");
	assert_string_equal(got->rows[1].sku, "JUNGLE");
	assert_int_equal(got->rows[0].respondents, 100);
	assert_int_equal(got->decisions[0].supplier, SUPPLIER_CHEAP);
	assert_int_equal(got->decisions[0].saving_cents, 1000);
	assert_true(got->decisions[0].has_interval);
	assert_true(got->decisions[0].ci_low_pct > 50.2 &&
		    got->decisions[0].ci_low_pct < 50.21);
	assert_false(got->decisions[1].has_interval);
	/* an earlier round by its id; an unknown id is not found */
	assert_int_equal(
		uow_research_round(x->uow, r.id - 1, &x->arena, &got, &x->err),
		SC_OK);
	assert_int_equal(got->threshold_bp, 4000);
	assert_int_equal(
		uow_research_round(x->uow, 999, &x->arena, &got, &x->err),
		SC_ENOTFOUND);
	assert_string_equal(x->err.msg, "unknown research round 999");
	err_clear(&x->err);
	assert_int_equal(uow_research_history(x->uow, "JUNGLE", 10, &x->arena,
					      &hist, &x->err),
			 SC_OK);
	h = hist.items;
	n = hist.n;
	assert_int_equal(n, 2);
	assert_int_equal(h[0].round_id, r.id);
	assert_int_equal(h[0].threshold_bp, 5000);
	assert_int_equal(h[1].threshold_bp, 4000);
	assert_int_equal(h[0].decision.supplier, SUPPLIER_EXPENSIVE);
	assert_int_equal(uow_research_history(x->uow, "NONE", 10, &x->arena,
					      &hist, &x->err),
			 SC_OK);
	h = hist.items;
	n = hist.n;
	assert_int_equal(n, 0);
}

/* Two writers on their own connections race for the last 10 units. */
struct racer {
	struct fx *x;
	pthread_barrier_t *go;
	const char *sku;
	const char *orderid;
	int rc;
	char ref[SC_ID_MAX + 1];
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct uow *u;
	struct bus b;
	struct deps d = {0};
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};
	struct sc_err err;

	if (r->x->f->open(r->x->store, &u))
		abort();
	d.uow = u;
	bus_init(&b, &d, (uint64_t)(uintptr_t)r);
	b.backoff_us = 50;
	m.u.allocate.orderid = r->orderid;
	m.u.allocate.sku = r->sku;
	m.u.allocate.qty = 10;
	err_clear(&err);
	(void)pthread_barrier_wait(r->go);
	r->rc = bus_handle(&b, &m, &res, &err);
	(void)snprintf(r->ref, sizeof(r->ref), "%s", res.batchref);
	bus_release(&b);
	uow_free(u);
	return NULL;
}

static void concurrent_updates_to_version_are_not_allowed(void **state)
{
	struct fx *x = *state;

	/* fakes are shared by the threads: silence them */
	x->notifier.fail_with = 0;
	log_set_level(LOG_ERROR);
	for (int round = 0; round < 20; round++) {
		pthread_barrier_t go;
		pthread_t t1, t2;
		struct racer r1, r2;
		char sku[32], ref[32];
		struct product *p;

		(void)snprintf(sku, sizeof(sku), "RACE-%d", round);
		(void)snprintf(ref, sizeof(ref), "b-%d", round);
		add_batch(x, ref, sku, 10, 0);
		(void)pthread_barrier_init(&go, NULL, 2);
		r1 = (struct racer){x, &go, sku, "order1", -99, ""};
		r2 = (struct racer){x, &go, sku, "order2", -99, ""};
		assert_int_equal(pthread_create(&t1, NULL, race, &r1), 0);
		assert_int_equal(pthread_create(&t2, NULL, race, &r2), 0);
		(void)pthread_join(t1, NULL);
		(void)pthread_join(t2, NULL);
		(void)pthread_barrier_destroy(&go);
		assert_int_equal(r1.rc, SC_OK);
		assert_int_equal(r2.rc, SC_OK);
		/* exactly one wins; the other is out of stock */
		assert_true((r1.ref[0] != 0) != (r2.ref[0] != 0));
		p = load(x, sku, NULL);
		assert_int_equal(p->batches[0].allocated, 10);
		assert_int_equal(p->version, 2); /* add + one allocation */
	}
	log_set_level(LOG_INFO);
}

/* Group commit: 8 writers x 40 allocations, every one durable on return. */
struct committer {
	struct fx *x;
	int id;
	int n_ok;
};

static void *commit_many(void *arg)
{
	struct committer *c = arg;
	struct uow *u;
	struct bus b;
	struct deps d = {0};

	if (c->x->f->open(c->x->store, &u))
		abort();
	d.uow = u;
	bus_init(&b, &d, (uint64_t)c->id + 1);
	for (int i = 0; i < 40; i++) {
		char orderid[32];
		struct msg m = {.type = MSG_ALLOCATE};
		struct bus_result res = {0};
		struct sc_err err;

		(void)snprintf(orderid, sizeof(orderid), "t%d-%d", c->id, i);
		m.u.allocate.orderid = orderid;
		m.u.allocate.sku = "GROUP";
		m.u.allocate.qty = 1;
		err_clear(&err);
		if (!bus_handle(&b, &m, &res, &err) && res.allocated)
			c->n_ok++;
	}
	bus_release(&b);
	uow_free(u);
	return NULL;
}

static void concurrent_commits_share_fsyncs_and_all_last(void **state)
{
	struct fx *x = *state;
	struct sql_store *st = x->store;
	struct committer c[8];
	pthread_t t[8];
	uint64_t commits, syncs;
	struct uow *again;
	int total = 0;

	add_batch(x, "b", "GROUP", 1000, 0);
	for (int i = 0; i < 8; i++) {
		c[i] = (struct committer){x, i, 0};
		assert_int_equal(
			pthread_create(&t[i], NULL, commit_many, &c[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		(void)pthread_join(t[i], NULL);
		total += c[i].n_ok;
	}
	assert_int_equal(total, 320);
	sqlite_db_stats(st->db, &commits, &syncs);
	assert_int_equal(commits, 321); /* the batch and 320 allocations */
	assert_true(syncs >= 1 && syncs < commits);
	/* every acknowledged allocation is in the store */
	assert_int_equal(x->f->open(x->store, &again), 0);
	uow_free(again);
	assert_int_equal(load(x, "GROUP", NULL)->batches[0].allocated, 320);
}

#define CASES(setup)                                                           \
	cmocka_unit_test_setup_teardown(stores_and_loads_products, setup,      \
					teardown),                             \
		cmocka_unit_test_setup_teardown(get_by_batchref, setup,        \
						teardown),                     \
		cmocka_unit_test_setup_teardown(                               \
			uow_can_retrieve_a_batch_and_allocate_to_it, setup,    \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			rolls_back_uncommitted_work_by_default, setup,         \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(rolls_back_on_error, setup,    \
						teardown),                     \
		cmocka_unit_test_setup_teardown(                               \
			stale_version_is_a_conflict_and_saves_nothing, setup,  \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			hints_load_what_a_decision_needs, setup, teardown),    \
		cmocka_unit_test_setup_teardown(allocations_view, setup,       \
						teardown),                     \
		cmocka_unit_test_setup_teardown(                               \
			cancelled_lines_free_stock_and_queue_deallocated,      \
			setup, teardown),                                      \
		cmocka_unit_test_setup_teardown(                               \
			out_of_stock_names_its_line_when_it_has_one, setup,    \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			backorders_wait_and_new_stock_fills_them, setup,       \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			customers_get_their_notices_through_deliveries, setup, \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			every_op_of_the_port_is_implemented, setup, teardown), \
		cmocka_unit_test_setup_teardown(                               \
			formulas_and_surveys_round_trip, setup, teardown),     \
		cmocka_unit_test_setup_teardown(                               \
			cue_tracks_are_checked_and_kept, setup, teardown),     \
		cmocka_unit_test_setup_teardown(venues_shows_and_refills,      \
						setup, teardown),              \
		cmocka_unit_test_setup_teardown(                               \
			demand_is_rolled_up_by_day_and_grouped, setup,         \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			the_low_stock_threshold_is_stored, setup, teardown),   \
		cmocka_unit_test_setup_teardown(a_new_eta_is_stored_and_told,  \
						setup, teardown),              \
		cmocka_unit_test_setup_teardown(                               \
			aged_backorders_are_listed_until_told, setup,          \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(deallocation, setup,           \
						teardown),                     \
		cmocka_unit_test_setup_teardown(                               \
			data_survives_reopening_the_store, setup, teardown),   \
		cmocka_unit_test_setup_teardown(                               \
			reads_products_for_display_without_a_transaction,      \
			setup, teardown),                                      \
		cmocka_unit_test_setup_teardown(                               \
			outbox_commits_and_rolls_back_with_the_change, setup,  \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			calls_inside_an_open_transaction, setup, teardown),    \
		cmocka_unit_test_setup_teardown(                               \
			outbox_claims_give_each_event_to_one_deliverer, setup, \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(research_rounds_round_trip,    \
						setup, teardown),              \
		cmocka_unit_test_setup_teardown(                               \
			tokens_are_kept_by_hash_and_revoked_in_place, setup,   \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			token_commands_refuse_bad_names_and_scopes, setup,     \
			teardown),                                             \
		cmocka_unit_test_setup_teardown(                               \
			readiness_probe_and_outbox_backlog, setup, teardown),  \
		cmocka_unit_test_setup_teardown(                               \
			concurrent_updates_to_version_are_not_allowed, setup,  \
			teardown)

/*
 * SQLite allocates through common/mem.c: a fault armed there reaches
 * sqlite3_malloc, and a store operation that only SQLite allocates in
 * fails cleanly with SC_ENOMEM at each of its allocations.
 */
static void sqlite_allocates_through_the_project_allocator(void **state)
{
	struct fx *x = *state;
	int64_t pending, oldest;
	long points;
	void *p;

	fault_mem_arm(FAULT_MEM_COUNT);
	p = sqlite3_malloc(100);
	assert_int_equal(fault_mem_seen(), 1);
	sqlite3_free(p);
	fault_mem_arm(0);
	assert_null(sqlite3_malloc(100));
	assert_true(fault_mem_fired());
	fault_mem_disarm();
	add_batch(x, "b1", "S", 10, 0);
	for (long n = 0;; n++) { /* a fresh connection allocates inside */
		struct uow *u;
		int rc;

		assert_int_equal(x->f->open(x->store, &u), 0);
		fault_mem_arm(n);
		rc = uow_outbox_stats(u, &pending, &oldest, &x->err);
		points = fault_mem_seen();
		fault_mem_disarm();
		uow_free(u);
		err_clear(&x->err);
		if (!rc)
			break;
		assert_int_equal(rc, SC_ENOMEM);
	}
	assert_true(points > 0);
}

/*
 * Batches (stores that have them): many commands in one transaction,
 * each in a savepoint.  A failing command undoes only its own writes and
 * keeps its own error; the others commit together; a batch rolled back
 * leaves nothing.
 */
static void a_batch_commits_many_and_a_failure_undoes_only_itself(void **st)
{
	struct fx *x = *st;
	struct msg m = {.type = MSG_ALLOCATE};
	struct allocation_row *rows;
	struct sc_err err;
	uint64_t ticket;
	size_t n;

	if (!uow_can_batch(x->uow))
		skip();
	add_batch(x, "b1", "T", 10, 0);
	assert_int_equal(uow_batch_begin(x->uow, &x->err), SC_OK);
	m.u.allocate = (struct cmd_allocate){"o1", "T", 3, false, NULL, 0};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	m.u.allocate = (struct cmd_allocate){"o1",  "T",  4,
					     false, NULL, 0}; /* other qty */
	err_clear(&err);
	assert_int_equal(bus_handle(&x->bus, &m, NULL, &err), SC_EEXIST);
	m.u.allocate = (struct cmd_allocate){"o2", "T", 5, false, NULL, 0};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	assert_true(uow_batch_alive(x->uow));
	assert_int_equal(uow_batch_commit(x->uow, &ticket, &x->err), SC_OK);
	assert_int_equal(uow_wait_durable(x->uow, ticket, &x->err), SC_OK);
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 8);
	/* a batch rolled back: nothing of it stays */
	assert_int_equal(uow_batch_begin(x->uow, &x->err), SC_OK);
	m.u.allocate = (struct cmd_allocate){"o3", "T", 1, false, NULL, 0};
	assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	uow_batch_rollback(x->uow);
	assert_int_equal(
		uow_allocations(x->uow, "o3", &x->arena, &rows, &n, &x->err),
		SC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 8);
}

/* Start writer @w on unit of work @u, with @sync for its syncer (or NULL). */
static void start_writer(struct writer *w, struct uow *u, struct uow *sync)
{
	struct deps d = {0};
	struct sc_err err;

	d.uow = u;
	err_clear(&err);
	assert_int_equal(writer_start(w, &d, sync, 5, &err), SC_OK);
}

/*
 * The batched writer when the batch's durable commit fails: no command of
 * it may report success, and none of it is stored.  Then the writer goes
 * on with the next batch.
 */
static void a_failed_batch_commit_acknowledges_nothing(void **st)
{
	struct fx *x = *st;
	struct faulty_uow f;
	struct writer w;
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};
	struct sc_err err;

	add_batch(x, "b1", "T", 10, 0);
	faulty_uow_init(&f, x->uow);
	start_writer(&w, &f.base, NULL);
	f.fail_batch_commit = true;
	m.u.allocate = (struct cmd_allocate){"o1", "T", 3, false, NULL, 0};
	assert_int_equal(writer_submit(&w, &m, &res, &err), SC_EIO);
	assert_string_equal(err.msg, "injected batch commit failure");
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 0);
	err_clear(&err);
	assert_int_equal(writer_submit(&w, &m, &res, &err), SC_OK);
	assert_string_equal(res.batchref, "b1");
	writer_stop(&w);
	assert_int_equal(atomic_load(&w.batches), 2);
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 3);
}

/*
 * The batch committed but its sync failed (on the syncer's own unit of
 * work): no command of it may report success.  The writer goes on, and
 * the client's retry, an identical allocation, is answered from what the
 * store kept, without allocating twice.
 */
static void a_failed_sync_acknowledges_nothing(void **st)
{
	struct fx *x = *st;
	struct faulty_uow f, g;
	struct uow *u2;
	struct writer w;
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};
	struct sc_err err;

	add_batch(x, "b1", "T", 10, 0);
	assert_int_equal(x->f->open(x->store, &u2), 0);
	faulty_uow_init(&f, x->uow);
	faulty_uow_init(&g, u2);
	start_writer(&w, &f.base, &g.base);
	g.fail_wait_durable = true;
	m.u.allocate = (struct cmd_allocate){"o1", "T", 3, false, NULL, 0};
	assert_int_equal(writer_submit(&w, &m, &res, &err), SC_EIO);
	assert_string_equal(err.msg, "injected sync failure");
	assert_false(g.fail_wait_durable); /* it was injected */
	err_clear(&err);
	assert_int_equal(writer_submit(&w, &m, &res, &err), SC_OK);
	assert_string_equal(res.batchref, "b1");
	m.u.allocate = (struct cmd_allocate){"o2", "T", 2, false, NULL, 0};
	assert_int_equal(writer_submit(&w, &m, &res, &err), SC_OK);
	writer_stop(&w);
	assert_int_equal(atomic_load(&w.batches), 3);
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 5);
	uow_free(u2);
}

/* Many submitters at once: the batches and their syncs overlap. */
struct submitter {
	struct writer *w;
	int id, n_ok;
	uint64_t waited_us; /* in writer_submit, all its commands */
};

static void *submit_many(void *arg)
{
	struct submitter *s = arg;

	for (int i = 0; i < 50; i++) {
		char orderid[32];
		struct msg m = {.type = MSG_ALLOCATE};
		struct bus_result res = {0};
		struct sc_err err;

		(void)snprintf(orderid, sizeof(orderid), "o-%d-%d", s->id, i);
		m.u.allocate =
			(struct cmd_allocate){orderid, "T", 1, false, NULL, 0};
		err_clear(&err);
		uint64_t t0 = clock_mono_us();
		if (writer_submit(s->w, &m, &res, &err) == SC_OK &&
		    res.allocated)
			s->n_ok++;
		s->waited_us += clock_mono_us() - t0;
	}
	return NULL;
}

static void pipelined_batches_acknowledge_only_what_is_stored(void **st)
{
	struct fx *x = *st;
	struct submitter subs[8];
	pthread_t tids[8];
	struct uow *u2, *u3;
	struct writer w;
	struct check_report rep;
	uint64_t waited = 0, staged;
	int acked = 0;

	add_batch(x, "b1", "T", 1000, 0);
	assert_int_equal(x->f->open(x->store, &u2), 0);
	assert_int_equal(x->f->open(x->store, &u3), 0);
	start_writer(&w, u2, u3);
	for (int i = 0; i < 8; i++) {
		subs[i] = (struct submitter){&w, i, 0, 0};
		assert_int_equal(
			pthread_create(&tids[i], NULL, submit_many, &subs[i]),
			0);
	}
	for (int i = 0; i < 8; i++) {
		(void)pthread_join(tids[i], NULL);
		acked += subs[i].n_ok;
		waited += subs[i].waited_us;
	}
	writer_stop(&w);
	assert_int_equal(acked, 400);
	/* the stages of /metrics: each command's lie within its own wait */
	staged = atomic_load(&w.queued_total_us) +
		 atomic_load(&w.running_total_us) +
		 atomic_load(&w.syncing_total_us);
	assert_true(atomic_load(&w.running_total_us) > 0);
	assert_true(atomic_load(&w.syncing_total_us) > 0);
	assert_true(staged <= waited);
	assert_int_equal(atomic_load(&w.commands), 400);
	assert_true(atomic_load(&w.batches) < 400); /* some batched */
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 400);
	assert_int_equal(uow_check(x->uow, false, &x->arena, &rep, &x->err),
			 SC_OK);
	assert_int_equal(rep.n_problems, 0);
	uow_free(u3);
	uow_free(u2);
}

/*
 * An idle writer lets one submitter at a time run its own command
 * (bus_handle on a bus with a writer); a second one meanwhile queues,
 * and then commands keep going to the writer for a quiet spell.
 */
static void an_idle_writer_lets_one_command_run_inline(void **st)
{
	struct fx *x = *st;
	struct uow *u2;
	struct writer w;
	struct msg m = {.type = MSG_ALLOCATE};
	struct bus_result res = {0};
	struct sc_err err;

	add_batch(x, "b1", "T", 10, 0);
	assert_int_equal(x->f->open(x->store, &u2), 0);
	start_writer(&w, u2, NULL);
	assert_true(writer_idle(&w));
	x->bus.writer = &w;
	m.u.allocate = (struct cmd_allocate){"o1", "T", 3, false, NULL, 0};
	assert_int_equal(bus_handle(&x->bus, &m, &res, &err), SC_OK);
	assert_string_equal(res.batchref, "b1");
	assert_int_equal(atomic_load(&w.inlined), 1);
	assert_int_equal(atomic_load(&w.batches), 0);
	assert_true(writer_try_inline(&w));
	assert_false(writer_idle(&w));
	assert_false(writer_try_inline(&w)); /* one at a time */
	m.u.allocate = (struct cmd_allocate){"o2", "T", 2, false, NULL, 0};
	assert_int_equal(bus_handle(&x->bus, &m, &res, &err), SC_OK);
	assert_int_equal(atomic_load(&w.batches), 1); /* it queued */
	writer_inline_done(&w);
	/* a command queued lately: batches, until a quiet spell passes */
	assert_false(writer_idle(&w));
	(void)nanosleep(
		&(struct timespec){0, 2 * WRITER_INLINE_QUIET_US * 1000}, NULL);
	assert_true(writer_idle(&w));
	x->bus.writer = NULL;
	writer_stop(&w);
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 5);
	uow_free(u2);
}

/*
 * Background checkpoints: commits never checkpoint themselves, yet the
 * checkpointer keeps the WAL short.  Without it, 300 allocations grow the
 * WAL past 11 MiB (about ten 4 KiB frames each); with it, the WAL starts
 * over at 8 x 64 frames.
 */
static void the_wal_is_checkpointed_in_the_background(void **st)
{
	struct fx *x = *st;
	struct sql_store *store = x->store;
	char wal[160];
	struct stat sb;

	add_batch(x, "b1", "T", 1000, 0);
	for (int i = 0; i < 300; i++) {
		char orderid[16];
		struct msg m = {.type = MSG_ALLOCATE};

		(void)snprintf(orderid, sizeof(orderid), "o-%d", i);
		m.u.allocate =
			(struct cmd_allocate){orderid, "T", 1, false, NULL, 0};
		assert_int_equal(send(&x->bus, &m, NULL), SC_OK);
	}
	for (int i = 0; i < 500 && !sqlite_db_checkpoints(store->db); i++)
		(void)nanosleep(&(struct timespec){0, 10000000}, NULL);
	assert_true(sqlite_db_checkpoints(store->db) > 0);
	(void)snprintf(wal, sizeof(wal), "%s/db/scents.db-wal", store->dir);
	assert_int_equal(stat(wal, &sb), 0);
	assert_true(sb.st_size < 8 * 1024 * 1024);
	assert_int_equal(load(x, "T", NULL)->batches[0].allocated, 300);
}

/* The writer's larger page cache is set, and a nonsense size refused. */
static void a_connection_takes_a_larger_page_cache(void **st)
{
	struct fx *x = *st;

	assert_int_equal(sqlite_uow_set_cache(x->uow, 32 * 1024, &x->err),
			 SC_OK);
	assert_int_equal(sqlite_uow_set_cache(x->uow, 0, &x->err), SC_EINVAL);
	assert_string_equal(x->err.msg, "cache size 0 KiB");
	add_batch(x, "b1", "T", 10, 0); /* and the connection still works */
	assert_int_equal(load(x, "T", NULL)->batches[0].purchased, 10);
}

/* In CI the PostgreSQL group must run: a skipped adapter is a failure. */
static int fail_msg_pg(void)
{
	fprintf(stderr, "uow contract: postgresql NOT RUN: CI is set but "
			"SCENTS_PG_URL is not\n");
	return 1;
}

int main(void)
{
	const struct CMUnitTest memory_tests[] = {CASES(setup_memory)};
	const struct CMUnitTest sqlite_tests[] = {CASES(setup_sqlite)};
	const struct CMUnitTest pg_tests[] = {
		CASES(setup_pg),
		/* PG_LOCKING=row: every load for a write locks */
		cmocka_unit_test_setup_teardown(
			stale_version_is_a_conflict_and_saves_nothing,
			setup_pg_row, teardown),
		cmocka_unit_test_setup_teardown(
			concurrent_updates_to_version_are_not_allowed,
			setup_pg_row, teardown),
	};
	const struct CMUnitTest group_tests[] = {
		CASES(setup_sqlite_group),
		cmocka_unit_test_setup_teardown(
			concurrent_commits_share_fsyncs_and_all_last,
			setup_sqlite_group, teardown),
		cmocka_unit_test_setup_teardown(
			sqlite_allocates_through_the_project_allocator,
			setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(
			a_batch_commits_many_and_a_failure_undoes_only_itself,
			setup_sqlite_group, teardown),
		cmocka_unit_test_setup_teardown(
			a_batch_commits_many_and_a_failure_undoes_only_itself,
			setup_sqlite, teardown),
		cmocka_unit_test_setup_teardown(
			a_failed_batch_commit_acknowledges_nothing,
			setup_sqlite_group, teardown),
		cmocka_unit_test_setup_teardown(
			a_failed_sync_acknowledges_nothing, setup_sqlite_group,
			teardown),
		cmocka_unit_test_setup_teardown(
			pipelined_batches_acknowledge_only_what_is_stored,
			setup_sqlite_group, teardown),
		cmocka_unit_test_setup_teardown(
			an_idle_writer_lets_one_command_run_inline,
			setup_sqlite_group, teardown),
		cmocka_unit_test_setup_teardown(
			the_wal_is_checkpointed_in_the_background,
			setup_sqlite_group, teardown),
		cmocka_unit_test_setup_teardown(
			a_connection_takes_a_larger_page_cache,
			setup_sqlite_group, teardown),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("uow contract: memory",
					      memory_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("uow contract: sqlite",
					      sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name(
		"uow contract: sqlite group commit", group_tests, NULL, NULL);
	if (getenv("SCENTS_PG_URL"))
		failed += cmocka_run_group_tests_name(
			"uow contract: postgresql", pg_tests, NULL, NULL);
	else if (getenv("CI"))
		failed += fail_msg_pg();
	else
		fprintf(stderr,
			"uow contract: postgresql SKIPPED: "
			"SCENTS_PG_URL is not set (make test sets it)\n");
	return failed;
}

/*
 * tests/contract/test_powerloss.c - power loss below SQLite.
 *
 * A VFS shim in the manner of SQLite's crash tests (src/test6.c): it
 * forwards to the real "unix" VFS and keeps, for the database and its WAL,
 * an undo record of everything written since that file's last successful
 * sync.  At the Nth write, sync or truncate it "loses power": that call
 * fails, and so does every later one.  After the store is closed, the
 * files are put back as a disk would have them: every unsynced write
 * undone (mode LOSE), or a random subset of its 512-byte sectors undone
 * and the size anywhere between synced and written (mode TEAR).  The -shm
 * file is deleted, as a reboot makes it worthless.
 *
 * The store then reopens and must pass every check: integrity, no batch
 * over-allocated, totals equal to lines, the read model and the outbox
 * agreeing with the write model (uow_check), and every allocation the bus
 * acknowledged before the crash present.  Each case asserts that the
 * crash fired where it was armed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/sqlite/sqlite_uow.h"
#include "common/arena.h"
#include "common/log.h"
#include "domain/date.h"
#include "service/bus.h"
#include "service/uow.h"
#include "support/cmocka.h"

#define SECTOR 512

enum crash_mode { LOSE, TEAR };

/* What was there before one unsynced write (or truncate). */
struct undo {
	sqlite3_int64 off;   /* where */
	unsigned char *data; /* the bytes it replaced (n of them) */
	size_t n;	     /* bytes that existed before */
};

/* A tracked file: its synced size and its undo record since then. */
struct tfile {
	char path[512];
	sqlite3_int64 synced_size; /* size at the last sync */
	struct undo *undo;	   /* oldest first */
	size_t n_undo, cap_undo;
};

static struct {
	pthread_mutex_t lock;
	struct tfile files[8];
	size_t n_files;
	long countdown; /* events until the crash; < 0: never */
	long events;	/* writes, syncs and truncates seen */
	int dead;	/* power is off: all I/O fails */
	int fired;	/* the crash happened */
	sqlite3_vfs *real;
} crash = {.lock = PTHREAD_MUTEX_INITIALIZER, .countdown = -1};

struct cfile {
	sqlite3_file base;  /* must stay first */
	struct tfile *t;    /* NULL: not tracked (temp files) */
	sqlite3_file *real; /* follows this struct */
};

static struct tfile *track(const char *path, sqlite3_int64 size)
{
	for (size_t i = 0; i < crash.n_files; i++)
		if (!strcmp(crash.files[i].path, path))
			return &crash.files[i];
	assert_true(crash.n_files < 8);
	struct tfile *t = &crash.files[crash.n_files++];
	memset(t, 0, sizeof(*t));
	(void)snprintf(t->path, sizeof(t->path), "%s", path);
	t->synced_size = size;
	return t;
}

/* Count one event; 1 when it is the one the power fails at. */
static int event_crashes(void)
{
	crash.events++;
	if (crash.countdown >= 0 && crash.events == crash.countdown) {
		crash.dead = 1;
		crash.fired = 1;
		return 1;
	}
	return 0;
}

/* Remember what [off, off+amt) held before it is written or cut. */
static void remember(struct cfile *c, sqlite3_int64 off, sqlite3_int64 amt)
{
	sqlite3_int64 size = 0;
	struct undo *u;

	(void)c->real->pMethods->xFileSize(c->real, &size);
	if (c->t->n_undo == c->t->cap_undo) {
		c->t->cap_undo = c->t->cap_undo ? 2 * c->t->cap_undo : 64;
		c->t->undo = realloc(c->t->undo,
				     c->t->cap_undo * sizeof(*c->t->undo));
		assert_non_null(c->t->undo);
	}
	u = &c->t->undo[c->t->n_undo++];
	u->off = off;
	u->n = off < size
		       ? (size_t)((off + amt < size ? off + amt : size) - off)
		       : 0;
	u->data = malloc(u->n ? u->n : 1);
	assert_non_null(u->data);
	if (u->n)
		assert_int_equal(c->real->pMethods->xRead(c->real, u->data,
							  (int)u->n, off),
				 SQLITE_OK);
}

static int c_close(sqlite3_file *f)
{
	struct cfile *c = (struct cfile *)f;

	return c->real->pMethods->xClose(c->real);
}

static int c_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct cfile *c = (struct cfile *)f;

	return c->real->pMethods->xRead(c->real, buf, amt, off);
}

static int c_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	struct cfile *c = (struct cfile *)f;
	int rc;

	if (!c->t)
		return c->real->pMethods->xWrite(c->real, buf, amt, off);
	(void)pthread_mutex_lock(&crash.lock);
	if (crash.dead || event_crashes()) {
		(void)pthread_mutex_unlock(&crash.lock);
		return SQLITE_IOERR_WRITE;
	}
	remember(c, off, amt);
	rc = c->real->pMethods->xWrite(c->real, buf, amt, off);
	(void)pthread_mutex_unlock(&crash.lock);
	return rc;
}

static int c_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct cfile *c = (struct cfile *)f;
	sqlite3_int64 now = 0;
	int rc;

	if (!c->t)
		return c->real->pMethods->xTruncate(c->real, size);
	(void)pthread_mutex_lock(&crash.lock);
	if (crash.dead || event_crashes()) {
		(void)pthread_mutex_unlock(&crash.lock);
		return SQLITE_IOERR_TRUNCATE;
	}
	(void)c->real->pMethods->xFileSize(c->real, &now);
	if (now > size)
		remember(c, size, now - size);
	rc = c->real->pMethods->xTruncate(c->real, size);
	(void)pthread_mutex_unlock(&crash.lock);
	return rc;
}

static int c_sync(sqlite3_file *f, int flags)
{
	struct cfile *c = (struct cfile *)f;
	int rc;

	if (!c->t)
		return c->real->pMethods->xSync(c->real, flags);
	(void)pthread_mutex_lock(&crash.lock);
	if (crash.dead || event_crashes()) {
		(void)pthread_mutex_unlock(&crash.lock);
		return SQLITE_IOERR_FSYNC;
	}
	rc = c->real->pMethods->xSync(c->real, flags);
	if (rc == SQLITE_OK) { /* on the platter: nothing to undo */
		for (size_t i = 0; i < c->t->n_undo; i++)
			free(c->t->undo[i].data);
		c->t->n_undo = 0;
		(void)c->real->pMethods->xFileSize(c->real, &c->t->synced_size);
	}
	(void)pthread_mutex_unlock(&crash.lock);
	return rc;
}

static int c_size(sqlite3_file *f, sqlite3_int64 *out)
{
	struct cfile *c = (struct cfile *)f;

	return c->real->pMethods->xFileSize(c->real, out);
}

static int c_lock(sqlite3_file *f, int l)
{
	return ((struct cfile *)f)
		->real->pMethods->xLock(((struct cfile *)f)->real, l);
}

static int c_unlock(sqlite3_file *f, int l)
{
	return ((struct cfile *)f)
		->real->pMethods->xUnlock(((struct cfile *)f)->real, l);
}

static int c_reserved(sqlite3_file *f, int *out)
{
	return ((struct cfile *)f)
		->real->pMethods->xCheckReservedLock(((struct cfile *)f)->real,
						     out);
}

static int c_fcntl(sqlite3_file *f, int op, void *arg)
{
	struct cfile *c = (struct cfile *)f;

	return c->real->pMethods->xFileControl(c->real, op, arg);
}

static int c_sector(sqlite3_file *f)
{
	return ((struct cfile *)f)
		->real->pMethods->xSectorSize(((struct cfile *)f)->real);
}

static int c_devchar(sqlite3_file *f)
{
	return ((struct cfile *)f)
		->real->pMethods->xDeviceCharacteristics(
			((struct cfile *)f)->real);
}

static int c_shm_map(sqlite3_file *f, int pg, int sz, int extend,
		     void volatile **pp)
{
	return ((struct cfile *)f)
		->real->pMethods->xShmMap(((struct cfile *)f)->real, pg, sz,
					  extend, pp);
}

static int c_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return ((struct cfile *)f)
		->real->pMethods->xShmLock(((struct cfile *)f)->real, off, n,
					   flags);
}

static void c_shm_barrier(sqlite3_file *f)
{
	((struct cfile *)f)
		->real->pMethods->xShmBarrier(((struct cfile *)f)->real);
}

static int c_shm_unmap(sqlite3_file *f, int del)
{
	return ((struct cfile *)f)
		->real->pMethods->xShmUnmap(((struct cfile *)f)->real, del);
}

/* No memory-mapped I/O: every read and write goes through this shim. */
static int c_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp)
{
	(void)f;
	(void)off;
	(void)amt;
	*pp = NULL;
	return SQLITE_OK;
}

static int c_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	(void)f;
	(void)off;
	(void)p;
	return SQLITE_OK;
}

static const sqlite3_io_methods c_methods = {
	3,	   c_close,   c_read,	  c_write,	 c_truncate,  c_sync,
	c_size,	   c_lock,    c_unlock,	  c_reserved,	 c_fcntl,     c_sector,
	c_devchar, c_shm_map, c_shm_lock, c_shm_barrier, c_shm_unmap, c_fetch,
	c_unfetch,
};

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f,
		  int flags, int *out_flags)
{
	struct cfile *c = (struct cfile *)f;
	sqlite3_int64 size = 0;
	int rc;

	(void)vfs;
	memset(c, 0, sizeof(*c));
	c->real = (sqlite3_file *)(c + 1);
	rc = crash.real->xOpen(crash.real, name, c->real, flags, out_flags);
	if (rc != SQLITE_OK)
		return rc;
	c->base.pMethods = &c_methods;
	if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL))) {
		(void)c->real->pMethods->xFileSize(c->real, &size);
		(void)pthread_mutex_lock(&crash.lock);
		c->t = track(name, size);
		(void)pthread_mutex_unlock(&crash.lock);
	}
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *v, const char *name, int sync)
{
	(void)v;
	if (crash.dead)
		return SQLITE_IOERR_DELETE;
	return crash.real->xDelete(crash.real, name, sync);
}

static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return crash.real->xAccess(crash.real, name, flags, out);
}

static int v_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return crash.real->xFullPathname(crash.real, name, n, out);
}

static int v_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return crash.real->xRandomness(crash.real, n, out);
}

static int v_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return crash.real->xSleep(crash.real, us);
}

static int v_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return crash.real->xCurrentTime(crash.real, out);
}

static int v_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return crash.real->xGetLastError(crash.real, n, out);
}

static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return crash.real->xCurrentTimeInt64(crash.real, out);
}

static sqlite3_vfs crash_vfs = {
	.iVersion = 2,
	.mxPathname = 512,
	.zName = "powerloss",
	.xOpen = v_open,
	.xDelete = v_delete,
	.xAccess = v_access,
	.xFullPathname = v_full,
	.xRandomness = v_random,
	.xSleep = v_sleep,
	.xCurrentTime = v_time,
	.xGetLastError = v_error,
	.xCurrentTimeInt64 = v_time64,
};

/* Put every tracked file back as the disk would have it after the cut. */
static void power_cycle(enum crash_mode mode, unsigned *seed)
{
	for (size_t i = 0; i < crash.n_files; i++) {
		struct tfile *t = &crash.files[i];
		int fd = open(t->path, O_RDWR);
		off_t size;

		if (fd < 0 && errno == ENOENT) { /* deleted, power on */
			for (size_t k = 0; k < t->n_undo; k++)
				free(t->undo[k].data);
			free(t->undo);
			continue;
		}
		assert_true(fd >= 0);
		size = lseek(fd, 0, SEEK_END);
		for (size_t k = t->n_undo; k-- > 0;) {
			struct undo *u = &t->undo[k];

			for (size_t at = 0; at < u->n; at += SECTOR) {
				size_t n =
					u->n - at < SECTOR ? u->n - at : SECTOR;

				if (mode == LOSE || rand_r(seed) % 2)
					assert_int_equal(
						pwrite(fd, u->data + at, n,
						       u->off + (off_t)at),
						(ssize_t)n);
			}
			free(u->data);
		}
		free(t->undo);
		if (mode == LOSE)
			size = t->synced_size;
		else if (size > t->synced_size)
			size = t->synced_size +
			       rand_r(seed) % (size - t->synced_size + 1);
		assert_int_equal(ftruncate(fd, size), 0);
		(void)close(fd);
	}
	crash.n_files = 0;
}

/* ---- the workload ---------------------------------------------------- */

struct acked {
	char orderid[32]; /* acknowledged (202) allocations */
	const char *sku;
};

struct run {
	struct sqlite_db *db;
	struct uow *uow;
	struct bus bus;
	struct acked acked[64];
	size_t n_acked;
};

static int send(struct run *r, struct msg m)
{
	struct sc_err err;

	err_clear(&err);
	return bus_handle(&r->bus, &m, NULL, &err);
}

/*
 * About 40 commands: batches in the warehouse and on their way, three
 * dozen allocations over two skus, a shrink that deallocates and
 * reallocates in the middle.  Orderids go to @ids (storage for them).
 */
static size_t workload_commands(struct msg *out, char (*ids)[32])
{
	static const char *const skus[] = {"SEA-BREEZE", "PINE"};
	size_t n = 0;

	out[n++] = (struct msg){.type = MSG_CREATE_BATCH,
				.u.create_batch = {.ref = "wh-1",
						   .sku = "SEA-BREEZE",
						   .qty = 30}};
	out[n++] = (struct msg){.type = MSG_CREATE_BATCH,
				.u.create_batch = {.ref = "ship-1",
						   .sku = "SEA-BREEZE",
						   .qty = 500,
						   .has_eta = true,
						   .eta = 20000}};
	out[n++] = (struct msg){
		.type = MSG_CREATE_BATCH,
		.u.create_batch = {.ref = "wh-2", .sku = "PINE", .qty = 200}};
	for (int i = 0; i < 36; i++) {
		if (i == 18) /* the shrink: lines move to ship-1 */
			out[n++] =
				(struct msg){.type = MSG_CHANGE_BATCH_QUANTITY,
					     .u.change_batch_quantity = {
						     .ref = "wh-1", .qty = 4}};
		(void)snprintf(ids[i], sizeof(ids[i]), "order-%d", i);
		out[n++] = (struct msg){.type = MSG_ALLOCATE,
					.u.allocate = {.orderid = ids[i],
						       .sku = skus[i % 2],
						       .qty = 1 + i % 3}};
	}
	return n;
}

/*
 * Run the workload, @batch commands per transaction (0: each its own, as
 * the bus runs them without the writer).  Stops at the first failure (the
 * power is off by then).  An allocation counts as acknowledged only once
 * the transaction that holds it is committed, as the writer answers.
 * With @checkpoints, after each batch a round of the background
 * checkpointer runs (PASSIVE), and after every second one its RESTART
 * too, so the cut also falls inside checkpoints and on a WAL that
 * started over.
 */
static void workload(struct run *r, size_t batch, bool checkpoints)
{
	size_t n_batches = 0;
	static char ids[36][32];
	struct msg cmds[48];
	size_t n = workload_commands(cmds, ids);
	struct sc_err err;

	for (size_t i = 0; i < n;) {
		size_t end = batch ? (i + batch < n ? i + batch : n) : i + 1;
		size_t first = r->n_acked, k;
		int rc = SC_OK;

		err_clear(&err);
		if (batch && uow_batch_begin(r->uow, &err))
			return;
		for (k = i; !rc && k < end; k++) {
			rc = send(r, cmds[k]);
			if (!rc && cmds[k].type == MSG_ALLOCATE) {
				struct acked *a = &r->acked[r->n_acked++];

				(void)snprintf(a->orderid, sizeof(a->orderid),
					       "%s",
					       cmds[k].u.allocate.orderid);
				a->sku = cmds[k].u.allocate.sku;
			}
		}
		if (batch && !rc) {
			uint64_t ticket;

			rc = uow_batch_commit(r->uow, &ticket, &err);
			if (!rc)
				rc = uow_wait_durable(r->uow, ticket, &err);
		} else if (batch)
			uow_batch_rollback(r->uow);
		if (rc) {
			r->n_acked =
				first; /* that transaction is not durable */
			return;
		}
		if (checkpoints)
			sqlite_db_checkpoint(r->db, ++n_batches % 2 == 0);
		i = end;
	}
}

/*
 * @checkpoints: checkpoints as served (bootstrap.c), off the committing
 * connection, but run by workload() on this thread (the threshold is
 * never reached, so the checkpointer thread never wakes): a crash point
 * is then the same event on every run.
 */
static void open_run(struct run *r, const char *path, bool group,
		     bool checkpoints)
{
	struct sqlite_options opt = {.synchronous_full = true,
				     .group_commit = group,
				     .busy_timeout_ms = 1000,
				     .checkpoint_frames =
					     checkpoints ? 1000000000 : 0};
	struct deps d = {0};
	struct sc_err err;

	memset(r, 0, sizeof(*r));
	err_clear(&err);
	assert_int_equal(sqlite_db_open(path, &opt, &r->db, &err), SC_OK);
	assert_int_equal(sqlite_uow_new(r->db, &r->uow, &err), SC_OK);
	d.uow = r->uow;
	bus_init(&r->bus, &d, 1);
}

static void close_run(struct run *r)
{
	bus_release(&r->bus);
	uow_free(r->uow);
	sqlite_db_close(r->db);
}

/* Everything the store promises, and everything acknowledged, is there. */
static void verify(const char *path, const struct run *before)
{
	struct run r;
	struct arena a;
	struct check_report rep;
	struct sc_err err;

	open_run(&r, path, true, false);
	arena_init(&a);
	err_clear(&err);
	assert_int_equal(uow_check(r.uow, false, &a, &rep, &err), SC_OK);
	for (size_t i = 0; i < rep.n_problems; i++)
		fprintf(stderr, "after the crash: %s\n", rep.problems[i]);
	assert_int_equal(rep.n_problems, 0);
	for (size_t i = 0; i < before->n_acked; i++) {
		struct allocation_row *rows;
		size_t n = 0;

		assert_int_equal(uow_allocations(r.uow,
						 before->acked[i].orderid, &a,
						 &rows, &n, &err),
				 SC_OK);
		if (n != 1)
			fprintf(stderr, "acknowledged %s lost\n",
				before->acked[i].orderid);
		assert_int_equal(n, 1);
		assert_string_equal(rows[0].sku, before->acked[i].sku);
	}
	arena_release(&a);
	close_run(&r);
}

/* Crash at event @at (< 0: never) of a fresh store; verify; events seen. */
static long one_case(const char *dir, long at, bool group, enum crash_mode mode,
		     size_t batch, bool checkpoints, unsigned *seed)
{
	char path[600];
	struct run r;
	long events;

	(void)snprintf(path, sizeof(path), "%s/case-%ld-%d-%d-%zu-%d/scents.db",
		       dir, at, group, mode, batch, checkpoints);
	crash.countdown = -1; /* create the schema with the power on */
	open_run(&r, path, group, checkpoints);
	crash.events = 0;
	crash.dead = crash.fired = 0;
	crash.countdown = at;
	workload(&r, batch, checkpoints);
	events = crash.events;
	close_run(&r);
	if (at >= 0)
		assert_true(crash.fired); /* the cut happened where armed */
	crash.countdown = -1;
	crash.dead = 0;
	power_cycle(mode, seed);
	{
		char shm[620];

		(void)snprintf(shm, sizeof(shm), "%s-shm", path);
		(void)unlink(shm);
	}
	verify(path, &r);
	return events;
}

static char dir[64];

static void discard(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	(void)line;
}

/*
 * Four ways of committing: one command per transaction with group commit
 * (SQLITE_BATCH=off), the same with SQLite's own sync at each commit,
 * batches of 8 commands (the batched writer's transactions), and batches
 * of 4 with the background checkpointer's rounds between them.
 */
static void every_acknowledged_allocation_survives_power_loss(void **state)
{
	static const struct {
		bool group;
		size_t batch;
		bool checkpoints;
	} ways[] = {{true, 0, false},
		    {false, 0, false},
		    {true, 8, false},
		    {true, 4, true}};
	unsigned seed = 12345;
	long cases = 0;

	(void)state;
	for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
		long n = one_case(dir, -1, ways[w].group, LOSE, ways[w].batch,
				  ways[w].checkpoints, &seed);
		/* spread the crash points over every event of the run */
		long step = n / 40 ? n / 40 : 1;

		assert_true(n > 40);
		for (long at = 1; at <= n; at += step) {
			(void)one_case(dir, at, ways[w].group, LOSE,
				       ways[w].batch, ways[w].checkpoints,
				       &seed);
			/* never past the run's last event: it must fire */
			(void)one_case(dir,
				       at + step / 2 < n ? at + step / 2 : n,
				       ways[w].group, TEAR, ways[w].batch,
				       ways[w].checkpoints, &seed);
			cases += 2;
		}
	}
	fprintf(stderr, "power loss: %ld crash points, every one verified\n",
		cases);
	assert_true(cases >= 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			every_acknowledged_allocation_survives_power_loss),
	};
	struct run warm;
	int failed;

	/* every command after the cut fails: that is the point, not news */
	log_set_sink(discard, NULL);
	char cmd[128], path[128];

	(void)snprintf(dir, sizeof(dir), "/tmp/scents-powerloss.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	/* open once first: the store installs its allocator before SQLite
	   initialises, which registering a VFS would do */
	(void)snprintf(path, sizeof(path), "%s/warm/scents.db", dir);
	open_run(&warm, path, true, false);
	close_run(&warm);
	crash.real = sqlite3_vfs_find(NULL);
	crash_vfs.szOsFile = (int)sizeof(struct cfile) + crash.real->szOsFile;
	if (sqlite3_vfs_register(&crash_vfs, 1) != SQLITE_OK)
		return 1;
	failed = cmocka_run_group_tests_name("power loss", tests, NULL, NULL);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	return failed;
}

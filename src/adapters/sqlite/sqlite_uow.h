/*
 * adapters/sqlite/sqlite_uow.h - the unit-of-work port on SQLite.
 *
 * One connection per unit of work; open one per thread.  The database is
 * created and migrated on open (PRAGMA user_version), in WAL mode with a
 * busy timeout; every write transaction is BEGIN IMMEDIATE, so writers
 * queue on SQLite's lock instead of failing at commit, and the version
 * check on save is a second line of defence (and the first for stores
 * that do not serialise writers).
 */
#ifndef SCENTS_ADAPTERS_SQLITE_SQLITE_UOW_H
#define SCENTS_ADAPTERS_SQLITE_SQLITE_UOW_H

#include <stdbool.h>
#include <stdint.h>

struct sc_err;
struct uow;

/* The schema version this build migrates to. */
#define SQLITE_SCHEMA_VERSION 14

struct sqlite_options {
	bool synchronous_full; /* durable at commit; else (NORMAL) faster,
				  the last commits may be lost on power cut */
	bool group_commit;     /* with synchronous_full: see below */
	int busy_timeout_ms;   /* wait for the write lock this long */
	bool must_exist;       /* never create the file or its directory */
	int checkpoint_frames; /* > 0: checkpoint in a background thread once
				  the WAL holds this many frames (below);
				  0: SQLite's own, in the committing thread */
};

/*
 * Background checkpoints (checkpoint_frames > 0): no connection of the
 * process checkpoints when it commits.  A WAL hook on each connection
 * wakes a thread with its own connection once the WAL holds
 * checkpoint_frames frames; that thread copies them to the database
 * with a PASSIVE checkpoint, which never blocks a writer or a reader,
 * and the next commit starts the WAL over.  Measured in
 * docs/decisions/0013: a checkpoint in the batched writer's thread cost
 * it a third of its time and doubled p99.
 */

/*
 * Group commit (synchronous_full and group_commit): connections run with
 * synchronous=NORMAL, so COMMIT writes the WAL without fsync; then, after
 * releasing the write lock, the unit of work waits until one shared
 * fdatasync() of the WAL has covered its commit.  Each request keeps its
 * own transaction and answer, and commit returns only once it is durable,
 * but many commits share one fsync (docs/decisions/0007).  Other writes
 * (outbox marks, migrations) are made durable by the next sync or
 * checkpoint; at-least-once delivery tolerates losing a mark.
 */

struct sqlite_db;

/*
 * The database at @path, shared by the units of work of one process:
 * creates directories and file as needed and migrates the schema once.
 * Writers of one process queue on its write lock (woken as soon as it is
 * free) rather than in SQLite's sleeping busy handler, which starves
 * unlucky threads; other processes still meet SQLite's own lock.
 * SC_EIO with SQLite's text when it cannot, SC_ENOMEM.
 */
int sqlite_db_open(const char *path, const struct sqlite_options *opt,
		   struct sqlite_db **out /* OUT */, struct sc_err *err);

/* Release @db; its units of work must be freed first.  NULL is a no-op. */
void sqlite_db_close(struct sqlite_db *db);

/* Commits made and fdatasync() calls shared by them (group commit). */
void sqlite_db_stats(struct sqlite_db *db, uint64_t *commits, uint64_t *syncs);

/* Background checkpoints that ran (each may have copied nothing). */
uint64_t sqlite_db_checkpoints(struct sqlite_db *db);

/*
 * One round of the background checkpointer on the caller's thread, and
 * with @restart its RESTART step whatever the WAL's length: for the
 * power-loss test, which must cut the power inside checkpoints
 * deterministically.  No-op without background checkpoints.
 */
void sqlite_db_checkpoint(struct sqlite_db *db, bool restart);

/* A unit of work with its own connection to @db.  SC_EIO, SC_ENOMEM. */
int sqlite_uow_new(struct sqlite_db *db, struct uow **out /* OUT */,
		   struct sc_err *err);

/*
 * Let @u's connection (made by sqlite_uow_new) cache up to @kib KiB of
 * pages instead of SQLite's 2 000 KiB.  For the batched writer, whose
 * inserts land at random places in the (orderid, sku) index: once that
 * index outgrows the cache, every batch reads pages back (measured in
 * docs/benchmarks.md).  The cache fills only as pages are used.
 * SC_EINVAL when @kib is not positive; SC_EIO when SQLite refuses.
 */
int sqlite_uow_set_cache(struct uow *u, int kib, struct sc_err *err);

#endif

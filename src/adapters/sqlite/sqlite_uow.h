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

struct sc_err;
struct uow;

/* The schema version this build migrates to. */
#define SQLITE_SCHEMA_VERSION 3

struct sqlite_options {
	bool synchronous_full; /* FULL: durable at commit; NORMAL: faster,
				  the last commits may be lost on power cut */
	int busy_timeout_ms;   /* wait for the write lock this long */
};

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

/* A unit of work with its own connection to @db.  SC_EIO, SC_ENOMEM. */
int sqlite_uow_new(struct sqlite_db *db, struct uow **out /* OUT */,
		   struct sc_err *err);

#endif

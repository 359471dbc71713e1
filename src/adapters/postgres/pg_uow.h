/*
 * adapters/postgres/pg_uow.h - the storage port on PostgreSQL (libpq).
 *
 * The scale-out store (design.md section 7): several `scents serve`
 * processes share one PostgreSQL database.  Each unit of work owns one
 * connection (one per worker thread); a pg_db holds what they share.
 * Writes are serialised per product by the version check, run as
 * `UPDATE products ... WHERE version_number = $n` inside READ COMMITTED
 * transactions (docs/decisions/0012).
 */
#ifndef SCENTS_ADAPTERS_POSTGRES_PG_UOW_H
#define SCENTS_ADAPTERS_POSTGRES_PG_UOW_H

#include <stdbool.h>
#include <stdint.h>

struct sc_err;
struct uow;

/* The schema version this build migrates to. */
#define PG_SCHEMA_VERSION 9

/* How a product is loaded for a write (docs/decisions/0012). */
enum pg_locking {
	PG_LOCK_ROW,	   /* SELECT ... FOR UPDATE: writers of a sku queue */
	PG_LOCK_OPTIMISTIC /* no lock on the first load; a command that lost
			      the version check locks on its retry */
};

struct pg_options {
	enum pg_locking locking; /* see above */
	int connect_timeout_s;	 /* per connection attempt; 0: 5 s */
};

struct pg_db;

/*
 * Open the database at @url (postgresql://user:pass@host:port/db or
 * postgres://...): connect once, migrate the schema under an advisory
 * lock (so servers starting together migrate once), keep what units of
 * work share.  SC_EINVAL for a bad URL, SC_EIO with the server's words
 * when it cannot connect or migrate, SC_ENOMEM.
 */
int pg_db_open(const char *url, const struct pg_options *opt,
	       struct pg_db **out /* OUT */, struct sc_err *err);

/* Release @db; its units of work must be freed first.  NULL is a no-op. */
void pg_db_close(struct pg_db *db);

/*
 * A unit of work with its own connection to @db, made lazily and again
 * after the server went away.  SC_ENOMEM.
 */
int pg_uow_new(struct pg_db *db, struct uow **out /* OUT */,
	       struct sc_err *err);

#endif

/*
 * adapters/sqlite/sqlite_uow.c - product repository and unit of work on
 * one SQLite connection.
 *
 * Loads read each batch with its allocated total, plus only the lines a
 * decision needs (struct load_hint), so the cost of an allocation does not
 * grow with the sku's history.  Commit replays each product's journal of
 * line changes into `allocations`, in the same transaction as the batches
 * and the version check; the read model `allocations_view` is a view of
 * those rows (schema 6), so it cannot disagree with them.
 */
#include "adapters/sqlite/sqlite_uow.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapters/analytics_sql.h"
#include "common/arena.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/thread.h"
#include "common/util.h"
#include "domain/model.h"
#include "domain/sourcing.h"
#include "service/uow.h"

/* Migration N brings user_version from N-1 to N; never edit a shipped one. */
static const char *const migrations[] = {
	/* 1: products, batches, allocations, read model */
	"CREATE TABLE products ("
	" id INTEGER PRIMARY KEY,"
	" sku TEXT NOT NULL UNIQUE,"
	" version_number INTEGER NOT NULL);"
	"CREATE TABLE batches ("
	" id INTEGER PRIMARY KEY," /* creation order */
	" reference TEXT NOT NULL UNIQUE,"
	" product_id INTEGER NOT NULL REFERENCES products(id),"
	" purchased_quantity INTEGER NOT NULL"
	"  CHECK (purchased_quantity BETWEEN 0 AND 1000000000),"
	" allocated_quantity INTEGER NOT NULL"
	"  CHECK (allocated_quantity BETWEEN 0 AND purchased_quantity),"
	" eta INTEGER);" /* days since 1970-01-01; NULL: in the warehouse */
	"CREATE INDEX batches_by_product ON batches(product_id, id);"
	"CREATE TABLE allocations ("
	" id INTEGER PRIMARY KEY," /* allocation order */
	" batch_id INTEGER NOT NULL REFERENCES batches(id),"
	" orderid TEXT NOT NULL,"
	" sku TEXT NOT NULL,"
	" qty INTEGER NOT NULL CHECK (qty >= 1),"
	" UNIQUE (orderid, sku));"
	"CREATE INDEX allocations_by_batch ON allocations(batch_id, id);"
	"CREATE TABLE allocations_view ("
	" orderid TEXT NOT NULL,"
	" sku TEXT NOT NULL,"
	" batchref TEXT NOT NULL,"
	" PRIMARY KEY (orderid, sku)) WITHOUT ROWID;",
	/* 2: transactional outbox of events leaving the process */
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY," /* stable event id, commit order */
	" kind TEXT NOT NULL CHECK (kind IN ('Allocated', 'OutOfStock')),"
	" orderid TEXT,"
	" sku TEXT NOT NULL,"
	" qty INTEGER,"
	" batchref TEXT,"
	" created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" sent_at INTEGER);"
	"CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL;",
	/* 3: market research rounds; batches know their supplier */
	"ALTER TABLE batches ADD COLUMN supplier TEXT"
	" CHECK (supplier IN ('cheap', 'expensive'));"
	"CREATE TABLE research_rounds ("
	" id INTEGER PRIMARY KEY,"
	" day INTEGER NOT NULL," /* days since 1970-01-01 */
	" threshold_bp INTEGER NOT NULL CHECK (threshold_bp BETWEEN 0 AND"
	" 10000),"
	" created_at INTEGER NOT NULL DEFAULT (unixepoch()));"
	"CREATE TABLE research_rows ("
	" round_id INTEGER NOT NULL REFERENCES research_rounds(id),"
	" seq INTEGER NOT NULL," /* row order in the round */
	" sku TEXT NOT NULL,"
	" scent TEXT NOT NULL,"
	" expensive_bp INTEGER NOT NULL,"
	" cheap_bp INTEGER NOT NULL,"
	" expensive_cost_cents INTEGER NOT NULL,"
	" cheap_cost_cents INTEGER NOT NULL,"
	" respondents INTEGER NOT NULL,"
	" supplier TEXT NOT NULL CHECK (supplier IN ('cheap', 'expensive')),"
	" unit_cost_cents INTEGER NOT NULL,"
	" saving_cents INTEGER NOT NULL,"
	" ci_low_pct REAL,"
	" ci_high_pct REAL,"
	" significant INTEGER NOT NULL,"
	" PRIMARY KEY (sku, round_id));"
	"CREATE UNIQUE INDEX research_rows_by_round ON research_rows(round_id,"
	" seq);",
	/* 4: API tokens; the SHA-256 of each secret, never the secret */
	"CREATE TABLE api_tokens ("
	" name TEXT PRIMARY KEY,"
	" scopes INTEGER NOT NULL CHECK (scopes BETWEEN 1 AND 15),"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" created_at INTEGER NOT NULL,"
	" revoked_at INTEGER);",
	/*
	 * 5: outbox rows are claimed with a lease (one deliverer at a time
	 * across processes); any kind of domain/events.h may be stored, so
	 * the kind CHECK goes (SQLite rebuilds a table to drop one).
	 */
	"CREATE TABLE outbox_v5 ("
	" id INTEGER PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" orderid TEXT,"
	" sku TEXT NOT NULL,"
	" qty INTEGER,"
	" batchref TEXT,"
	" created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" sent_at INTEGER,"
	" lease_until INTEGER);"
	"INSERT INTO outbox_v5 (id, kind, orderid, sku, qty, batchref,"
	" created_at, attempts, sent_at) SELECT id, kind, orderid, sku, qty,"
	" batchref, created_at, attempts, sent_at FROM outbox;"
	"DROP TABLE outbox;"
	"ALTER TABLE outbox_v5 RENAME TO outbox;"
	"CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL;",
	/*
	 * 6: the read model becomes a view of the lines it was copied from
	 * (docs/decisions/0014): same name, columns and answers, found by
	 * allocations' UNIQUE(orderid, sku) index, and nothing to write.
	 * Its table cost each allocation one more randomly placed B-tree
	 * page per commit: 18-39% of durable throughput, measured.
	 */
	"DROP TABLE allocations_view;"
	"CREATE VIEW allocations_view (orderid, sku, batchref) AS"
	" SELECT a.orderid, a.sku, b.reference FROM allocations a"
	" JOIN batches b ON b.id = a.batch_id;",
	/*
	 * 7: order lines waiting for stock (issue 14), filled oldest first
	 * (id order) by the transaction that brings stock for their sku.
	 */
	"CREATE TABLE backorders ("
	" id INTEGER PRIMARY KEY," /* waiting order */
	" orderid TEXT NOT NULL,"
	" sku TEXT NOT NULL,"
	" qty INTEGER NOT NULL CHECK (qty >= 1),"
	" created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
	" UNIQUE (orderid, sku));"
	"CREATE INDEX backorders_by_sku ON backorders(sku, id);",
	/*
	 * 8: customers, whose order is whose, and the notices they are owed
	 * (the customer-facing outbox: one row per channel, retried with
	 * backoff until delivered or dead).
	 */
	"CREATE TABLE customers ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" email TEXT,"
	" webhook_url TEXT,"
	" secret BLOB CHECK (secret IS NULL OR length(secret) = 32),"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE order_customers ("
	" orderid TEXT PRIMARY KEY,"
	" customer TEXT NOT NULL REFERENCES customers(id)) WITHOUT ROWID;"
	"CREATE TABLE deliveries ("
	" id INTEGER PRIMARY KEY,"
	" customer TEXT NOT NULL REFERENCES customers(id),"
	" channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),"
	" target TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" orderid TEXT NOT NULL,"
	" sku TEXT NOT NULL,"
	" qty INTEGER,"
	" batchref TEXT,"
	" state TEXT NOT NULL DEFAULT 'pending'"
	"  CHECK (state IN ('pending', 'delivered', 'dead')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at_ms INTEGER NOT NULL DEFAULT 0,"
	" lease_until INTEGER,"
	" last_error TEXT,"
	" created_at INTEGER NOT NULL DEFAULT (unixepoch()),"
	" delivered_at INTEGER);"
	"CREATE INDEX deliveries_due ON deliveries(next_at_ms)"
	" WHERE state = 'pending';",
	/* 9: the stock team is alerted below this many available (0: never) */
	"ALTER TABLE products ADD COLUMN low_stock INTEGER NOT NULL DEFAULT 0"
	" CHECK (low_stock BETWEEN 0 AND 1000000000);",
	/* 10: when the stock team was told a backorder waits too long */
	"ALTER TABLE backorders ADD COLUMN alerted_at INTEGER;",
	/* 11: a notice says when its batch arrives (NULL: in the warehouse) */
	"ALTER TABLE deliveries ADD COLUMN eta INTEGER;",
	/*
	 * 12: formulas, surveys and the demand rollup (issue 15).  Demand
	 * is aggregated as it is written, one row per day, sku, segment and
	 * outcome, keyed by day first: reports read a date range.
	 */
	"CREATE TABLE ingredients ("
	" name TEXT PRIMARY KEY,"
	" cas TEXT,"
	" max_milli INTEGER CHECK (max_milli BETWEEN 0 AND 100000),"
	" price_cheap INTEGER CHECK (price_cheap >= 0),"
	" price_expensive INTEGER CHECK (price_expensive >= 0)) WITHOUT ROWID;"
	"CREATE TABLE formulas ("
	" sku TEXT NOT NULL,"
	" version INTEGER NOT NULL CHECK (version >= 1),"
	" unit_ml INTEGER NOT NULL,"
	" density INTEGER NOT NULL,"
	" note TEXT,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY (sku, version)) WITHOUT ROWID;"
	"CREATE TABLE formula_lines ("
	" sku TEXT NOT NULL,"
	" version INTEGER NOT NULL,"
	" pos INTEGER NOT NULL,"
	" ingredient TEXT NOT NULL REFERENCES ingredients(name),"
	" milli INTEGER NOT NULL CHECK (milli BETWEEN 1 AND 100000),"
	" PRIMARY KEY (sku, version, pos)) WITHOUT ROWID;"
	"CREATE TABLE formula_active ("
	" sku TEXT PRIMARY KEY,"
	" version INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE formula_log ("
	" id INTEGER PRIMARY KEY,"
	" sku TEXT NOT NULL,"
	" from_version INTEGER NOT NULL,"
	" to_version INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" reason TEXT,"
	" survey_id INTEGER,"
	" at INTEGER NOT NULL);"
	"CREATE INDEX formula_log_by_sku ON formula_log(sku, id);"
	"CREATE TABLE surveys ("
	" id INTEGER PRIMARY KEY,"
	" sku TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE survey_variants ("
	" survey_id INTEGER NOT NULL REFERENCES surveys(id),"
	" idx INTEGER NOT NULL,"
	" label TEXT NOT NULL,"
	" formula_version INTEGER NOT NULL,"
	" PRIMARY KEY (survey_id, idx)) WITHOUT ROWID;"
	"CREATE TABLE survey_responses ("
	" survey_id INTEGER NOT NULL,"
	" variant INTEGER NOT NULL,"
	" respondent TEXT NOT NULL,"
	" accepted INTEGER CHECK (accepted IN (0, 1)),"
	" rating INTEGER CHECK (rating BETWEEN 1 AND 5),"
	" segment TEXT,"
	" PRIMARY KEY (survey_id, variant, respondent)) WITHOUT ROWID;"
	"CREATE TABLE demand ("
	" day INTEGER NOT NULL,"
	" sku TEXT NOT NULL,"
	" segment TEXT NOT NULL DEFAULT '',"
	" outcome INTEGER NOT NULL CHECK (outcome BETWEEN 0 AND 2),"
	" units INTEGER NOT NULL,"
	" lines INTEGER NOT NULL,"
	" PRIMARY KEY (day, sku, segment, outcome)) WITHOUT ROWID;"
	"ALTER TABLE customers ADD COLUMN segment TEXT;",
	/* 13: cinema cue tracks, kept as the JSON they came as (issue 16) */
	"CREATE TABLE tracks ("
	" id INTEGER PRIMARY KEY,"
	" title TEXT NOT NULL,"
	" content_hash TEXT,"
	" cues INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" body TEXT NOT NULL);",
	/* 14: venues, their cartridges, and the shows played (issue 16) */
	"CREATE TABLE venues ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" capacity_ul INTEGER NOT NULL CHECK (capacity_ul > 0),"
	" alert_below_ul INTEGER NOT NULL,"
	" refill_unit_ul INTEGER NOT NULL CHECK (refill_unit_ul > 0),"
	" version INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" body TEXT NOT NULL);"
	"CREATE TABLE cartridges ("
	" venue_id INTEGER NOT NULL REFERENCES venues (id),"
	" row INTEGER NOT NULL,"
	" seat INTEGER NOT NULL,"
	" slot INTEGER NOT NULL,"
	" sku TEXT NOT NULL,"
	" batch TEXT,"
	" level_ul INTEGER NOT NULL CHECK (level_ul >= 0),"
	" PRIMARY KEY (venue_id, row, seat, slot)) WITHOUT ROWID;"
	"CREATE TABLE shows ("
	" id INTEGER PRIMARY KEY,"
	" venue_id INTEGER NOT NULL REFERENCES venues (id),"
	" track_id INTEGER,"
	" played_at INTEGER NOT NULL,"
	" fires INTEGER NOT NULL,"
	" acked INTEGER NOT NULL,"
	" missed INTEGER NOT NULL,"
	" seat_releases INTEGER NOT NULL);"
	"CREATE INDEX shows_by_venue ON shows (venue_id, id);"
	"CREATE TABLE show_use ("
	" show_id INTEGER NOT NULL REFERENCES shows (id),"
	" sku TEXT NOT NULL,"
	" batch TEXT NOT NULL DEFAULT '',"
	" ul INTEGER NOT NULL CHECK (ul >= 0),"
	" PRIMARY KEY (show_id, sku, batch)) WITHOUT ROWID;",
};

static_assert(ARRAY_SIZE(migrations) == SQLITE_SCHEMA_VERSION,
	      "one migration per schema version");

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PRODUCT,
	ST_BATCHES,
	ST_ORDER_LINES,
	ST_BATCH_LINES,
	ST_SKU_OF_BATCH,
	ST_INSERT_PRODUCT,
	ST_BUMP_PRODUCT,
	ST_INSERT_BATCH,
	ST_UPDATE_BATCH,
	ST_INSERT_LINE,
	ST_DELETE_LINE,
	ST_VIEW,
	ST_BEGIN_READ,
	ST_LIST,
	ST_PING,
	ST_OUTBOX_ADD,
	ST_OUTBOX_PENDING,
	ST_OUTBOX_SENT,
	ST_OUTBOX_FAILED,
	ST_OUTBOX_CLAIM,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_ROUND_ADD,
	ST_ROUND_ROW_ADD,
	ST_ROUND_BY_ID,
	ST_ROUND_ROWS,
	ST_SKU_HISTORY,
	ST_TOKEN_ADD,
	ST_TOKEN_REVOKE,
	ST_TOKEN_LIST,
	ST_PROBE_WRITE,
	ST_OUTBOX_STATS,
	ST_BACKORDERS,
	ST_ORDER_BACKORDER,
	ST_INSERT_BACKORDER,
	ST_DELETE_BACKORDER,
	ST_CUSTOMER_ADD,
	ST_CUSTOMER_GET,
	ST_ORDER_CUSTOMER,
	ST_ORDER_CUSTOMER_ADD,
	ST_CONTACT,
	ST_DELIVERY_ADD,
	ST_DELIVERY_CLAIM,
	ST_DELIVERY_FINISH,
	ST_DELIVERY_LIST,
	ST_DELIVERY_REPLAY,
	ST_DELIVERY_STATE,
	ST_SET_LOW_STOCK,
	ST_AGED_BACKORDERS,
	ST_BACKORDER_ALERTED,
	ST_INGREDIENT_PUT,
	ST_INGREDIENTS,
	ST_FORMULA_ADD,
	ST_FORMULA_LINE_ADD,
	ST_FORMULA_GET,
	ST_FORMULA_LINES,
	ST_FORMULA_ACTIVATE,
	ST_FORMULA_LOG_ADD,
	ST_FORMULA_LOG,
	ST_SURVEY_ADD,
	ST_VARIANT_ADD,
	ST_SURVEY_GET,
	ST_SURVEY_TALLY,
	ST_RESPONSE_ADD,
	ST_DEMAND_ADD,
	ST_DEMAND,
	ST_TRACK_ADD,
	ST_TRACK_GET,
	ST_TRACK_LIST,
	ST_PRODUCT_LINES,
	ST_VENUE_ADD,
	ST_CARTRIDGE_ADD,
	ST_VENUE_GET,
	ST_CARTRIDGES,
	ST_VENUE_LIST,
	ST_VENUE_BUMP,
	ST_CARTRIDGE_SET,
	ST_SHOW_ADD,
	ST_SHOW_USE_ADD,
	ST_SHOW_LIST,
	ST_SHOW_USES,
	ST__COUNT
};

/* Columns of a research row as read by research_row_of(). */
#define RESEARCH_COLS                                                          \
	"round_id, sku, scent, expensive_bp, cheap_bp, expensive_cost_cents,"  \
	" cheap_cost_cents, respondents, supplier, unit_cost_cents,"           \
	" saving_cents, ci_low_pct, ci_high_pct, significant"

/* Columns of a customer as customer_of() reads them. */
#define CUSTOMER_COLS                                                          \
	"id, name, email, webhook_url, secret, created_at, segment"

/* Columns of a delivery as delivery_of() reads them (then the secret). */
#define DELIVERY_COLS                                                          \
	"id, customer, channel, target, kind, orderid, sku, qty, batchref,"    \
	" attempts, created_at, state, next_at_ms, last_error, eta"

/* Columns of the analytics rows (issue 15), as their readers take them. */
#define INGREDIENT_COLS "name, cas, max_milli, price_cheap, price_expensive"
#define FORMULA_COLS	"sku, version, unit_ml, density, note, created_at"
#define CHANGE_COLS                                                            \
	"sku, from_version, to_version, actor, reason, survey_id, at"

/* The decimal text of a numeric macro, for SQL written at compile time. */
#define TEXT_OF_(x) #x
#define TEXT_OF(x)  TEXT_OF_(x)

static const char *const stmt_sql[] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PRODUCT] = "SELECT id, version_number, low_stock FROM products"
		       " WHERE sku = ?1",
	[ST_BATCHES] = "SELECT reference, purchased_quantity,"
		       " allocated_quantity, eta, supplier FROM batches"
		       " WHERE product_id = ?1 ORDER BY id",
	[ST_ORDER_LINES] = "SELECT b.reference, a.qty FROM allocations a"
			   " JOIN batches b ON b.id = a.batch_id"
			   " WHERE a.orderid = ?1 AND a.sku = ?2",
	[ST_BATCH_LINES] = "SELECT a.orderid, a.qty FROM allocations a"
			   " JOIN batches b ON b.id = a.batch_id"
			   " WHERE b.reference = ?1 ORDER BY a.id",
	[ST_SKU_OF_BATCH] = "SELECT p.sku FROM batches b"
			    " JOIN products p ON p.id = b.product_id"
			    " WHERE b.reference = ?1",
	[ST_INSERT_PRODUCT] = "INSERT INTO products (sku, version_number)"
			      " VALUES (?1, ?2)",
	[ST_BUMP_PRODUCT] = "UPDATE products SET version_number = ?1"
			    " WHERE sku = ?2 AND version_number = ?3",
	[ST_INSERT_BATCH] = "INSERT INTO batches (reference, product_id,"
			    " purchased_quantity, allocated_quantity, eta,"
			    " supplier) SELECT ?1, id, ?2, ?3, ?4, ?6"
			    " FROM products WHERE sku = ?5",
	[ST_UPDATE_BATCH] = "UPDATE batches SET purchased_quantity = ?1,"
			    " allocated_quantity = ?2, eta = ?4"
			    " WHERE reference = ?3",
	[ST_INSERT_LINE] = "INSERT INTO allocations (batch_id, orderid, sku,"
			   " qty) SELECT id, ?2, ?3, ?4 FROM batches"
			   " WHERE reference = ?1",
	[ST_DELETE_LINE] = "DELETE FROM allocations"
			   " WHERE orderid = ?1 AND sku = ?2",
	[ST_VIEW] = "SELECT sku, batchref, NULL FROM allocations_view"
		    " WHERE orderid = ?1 UNION ALL SELECT sku, NULL, qty"
		    " FROM backorders WHERE orderid = ?1 ORDER BY 1",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_LIST] =
		"SELECT p.sku, COALESCE(SUM(b.purchased_quantity), 0),"
		" COALESCE(SUM(b.allocated_quantity), 0), COUNT(b.id),"
		" COALESCE(SUM(CASE WHEN b.eta IS NOT NULL"
		" THEN b.purchased_quantity END), 0)"
		" FROM products p LEFT JOIN batches b ON b.product_id = p.id"
		" WHERE p.sku > ?1 GROUP BY p.sku ORDER BY p.sku LIMIT ?2",
	[ST_PING] = "SELECT 1",
	[ST_OUTBOX_ADD] =
		"INSERT INTO outbox (kind, orderid, sku, qty, batchref)"
		" VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_OUTBOX_PENDING] = "SELECT id, attempts, kind, orderid, sku, qty,"
			      " batchref FROM outbox WHERE sent_at IS NULL"
			      " ORDER BY id LIMIT ?1",
	[ST_OUTBOX_SENT] = "UPDATE outbox SET sent_at = unixepoch(),"
			   " lease_until = NULL"
			   " WHERE id = ?1 AND sent_at IS NULL",
	[ST_OUTBOX_FAILED] = "UPDATE outbox SET attempts = attempts + 1,"
			     " lease_until = NULL WHERE id = ?1",
	[ST_SAVEPOINT] = "SAVEPOINT command",
	[ST_RELEASE] = "RELEASE command",
	[ST_ROLLBACK_TO] = "ROLLBACK TO command",
	[ST_OUTBOX_CLAIM] = "UPDATE outbox SET lease_until = unixepoch() + ?2"
			    " WHERE id IN (SELECT id FROM outbox"
			    " WHERE sent_at IS NULL AND (lease_until IS NULL"
			    " OR lease_until <= unixepoch())"
			    " ORDER BY id LIMIT ?1)"
			    " RETURNING id, attempts, kind, orderid, sku, qty,"
			    " batchref",
	[ST_ROUND_ADD] = "INSERT INTO research_rounds (day, threshold_bp)"
			 " VALUES (?1, ?2)",
	[ST_ROUND_ROW_ADD] = "INSERT INTO research_rows VALUES (?1, ?2, ?3, ?4,"
			     " ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
			     " ?15)",
	[ST_ROUND_BY_ID] = "SELECT id, day, threshold_bp FROM research_rounds"
			   " WHERE ?1 = 0 OR id = ?1 ORDER BY id DESC LIMIT 1",
	[ST_ROUND_ROWS] = "SELECT " RESEARCH_COLS " FROM research_rows"
			  " WHERE round_id = ?1 ORDER BY seq",
	[ST_SKU_HISTORY] = "SELECT " RESEARCH_COLS ", r.day, r.threshold_bp"
			   " FROM research_rows JOIN research_rounds r"
			   " ON r.id = round_id WHERE sku = ?1"
			   " ORDER BY round_id DESC LIMIT ?2",
	[ST_TOKEN_ADD] = "INSERT INTO api_tokens (name, scopes, hash,"
			 " created_at) VALUES (?1, ?2, ?3, ?4)",
	[ST_TOKEN_REVOKE] = "UPDATE api_tokens SET revoked_at ="
			    " COALESCE(revoked_at, ?2) WHERE name = ?1",
	[ST_TOKEN_LIST] = "SELECT name, scopes, hash, created_at,"
			  " COALESCE(revoked_at, 0) FROM api_tokens"
			  " ORDER BY name",
	/* writes page 1 with the value it holds: a real write, no change */
	[ST_PROBE_WRITE] =
		"PRAGMA user_version = " TEXT_OF(SQLITE_SCHEMA_VERSION),
	[ST_OUTBOX_STATS] = "SELECT COUNT(*), COALESCE(MIN(created_at), 0)"
			    " FROM outbox WHERE sent_at IS NULL",
	[ST_BACKORDERS] = "SELECT orderid, qty FROM backorders WHERE sku = ?1"
			  " ORDER BY id",
	[ST_ORDER_BACKORDER] = "SELECT orderid, qty FROM backorders"
			       " WHERE orderid = ?1 AND sku = ?2",
	[ST_INSERT_BACKORDER] = "INSERT INTO backorders (orderid, sku, qty)"
				" VALUES (?1, ?2, ?3)",
	[ST_DELETE_BACKORDER] = "DELETE FROM backorders"
				" WHERE orderid = ?1 AND sku = ?2",
	[ST_CUSTOMER_ADD] = "INSERT INTO customers (id, name, email,"
			    " webhook_url, secret, created_at, segment)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_CUSTOMER_GET] = "SELECT " CUSTOMER_COLS " FROM customers"
			    " WHERE id = ?1",
	[ST_ORDER_CUSTOMER] = "SELECT customer FROM order_customers"
			      " WHERE orderid = ?1",
	[ST_ORDER_CUSTOMER_ADD] = "INSERT INTO order_customers"
				  " (orderid, customer) VALUES (?1, ?2)",
	[ST_CONTACT] = "SELECT " CUSTOMER_COLS " FROM order_customers o"
		       " JOIN customers ON id = o.customer"
		       " WHERE o.orderid = ?1",
	[ST_DELIVERY_ADD] = "INSERT INTO deliveries (customer, channel,"
			    " target, kind, orderid, sku, qty, batchref, eta)"
			    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_DELIVERY_CLAIM] =
		"UPDATE deliveries SET lease_until = unixepoch() + ?3"
		" WHERE id IN (SELECT id FROM deliveries"
		" WHERE state = 'pending' AND next_at_ms <= ?1"
		" AND (lease_until IS NULL OR lease_until <= unixepoch())"
		" ORDER BY id LIMIT ?2) RETURNING " DELIVERY_COLS ","
		" (SELECT secret FROM customers c"
		" WHERE c.id = deliveries.customer)",
	[ST_DELIVERY_FINISH] = "UPDATE deliveries SET state = ?2,"
			       " attempts = ?3, next_at_ms = ?4,"
			       " last_error = ?5, lease_until = NULL,"
			       " delivered_at = CASE ?2 WHEN 'delivered'"
			       " THEN unixepoch() END WHERE id = ?1",
	[ST_DELIVERY_LIST] = "SELECT " DELIVERY_COLS ", NULL FROM deliveries"
			     " WHERE ?1 IS NULL OR state = ?1"
			     " ORDER BY id DESC LIMIT ?2",
	[ST_DELIVERY_REPLAY] = "UPDATE deliveries SET state = 'pending',"
			       " attempts = 0, next_at_ms = ?2,"
			       " last_error = NULL, lease_until = NULL"
			       " WHERE id = ?1 AND state = 'dead'",
	[ST_DELIVERY_STATE] = "SELECT state FROM deliveries WHERE id = ?1",
	[ST_SET_LOW_STOCK] =
		"UPDATE products SET low_stock = ?1 WHERE sku = ?2",
	[ST_AGED_BACKORDERS] = "SELECT orderid, sku, qty, created_at"
			       " FROM backorders WHERE created_at <= ?1"
			       " AND alerted_at IS NULL ORDER BY id LIMIT ?2",
	[ST_BACKORDER_ALERTED] = "UPDATE backorders SET alerted_at = ?3"
				 " WHERE orderid = ?1 AND sku = ?2",
	[ST_INGREDIENT_PUT] = "INSERT INTO ingredients VALUES (?1, ?2, ?3, ?4,"
			      " ?5) ON CONFLICT (name) DO UPDATE SET"
			      " cas = excluded.cas,"
			      " max_milli = excluded.max_milli,"
			      " price_cheap = excluded.price_cheap,"
			      " price_expensive = excluded.price_expensive",
	[ST_INGREDIENTS] = "SELECT " INGREDIENT_COLS " FROM ingredients"
			   " ORDER BY name",
	[ST_FORMULA_ADD] = "INSERT INTO formulas VALUES (?1, ?2, ?3, ?4, ?5,"
			   " ?6)",
	[ST_FORMULA_LINE_ADD] = "INSERT INTO formula_lines VALUES (?1, ?2,"
				" ?3, ?4, ?5)",
	[ST_FORMULA_GET] = "SELECT " FORMULA_COLS " FROM formulas"
			   " WHERE sku = ?1 AND version = CASE ?2"
			   " WHEN 0 THEN (SELECT version FROM formula_active"
			   "  WHERE sku = ?1)"
			   " WHEN -1 THEN (SELECT max(version) FROM formulas"
			   "  WHERE sku = ?1)"
			   " ELSE ?2 END",
	[ST_FORMULA_LINES] = "SELECT ingredient, milli FROM formula_lines"
			     " WHERE sku = ?1 AND version = ?2 ORDER BY pos",
	[ST_FORMULA_ACTIVATE] = "INSERT INTO formula_active VALUES (?1, ?2)"
				" ON CONFLICT (sku) DO UPDATE SET"
				" version = excluded.version",
	[ST_FORMULA_LOG_ADD] = "INSERT INTO formula_log (sku, from_version,"
			       " to_version, actor, reason, survey_id, at)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_FORMULA_LOG] = "SELECT " CHANGE_COLS " FROM formula_log"
			   " WHERE sku = ?1 ORDER BY id DESC",
	[ST_SURVEY_ADD] = "INSERT INTO surveys (sku, name, created_at)"
			  " VALUES (?1, ?2, ?3)",
	[ST_VARIANT_ADD] = "INSERT INTO survey_variants VALUES (?1, ?2, ?3,"
			   " ?4)",
	[ST_SURVEY_GET] = "SELECT sku, name, created_at FROM surveys"
			  " WHERE id = ?1",
	[ST_SURVEY_TALLY] = SURVEY_TALLY_SQL("?1", "?2"),
	[ST_RESPONSE_ADD] = "INSERT INTO survey_responses VALUES (?1, ?2, ?3,"
			    " ?4, ?5, ?6) ON CONFLICT DO UPDATE SET"
			    " accepted = excluded.accepted,"
			    " rating = excluded.rating,"
			    " segment = excluded.segment",
	[ST_DEMAND_ADD] = "INSERT INTO demand VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
			  " ON CONFLICT DO UPDATE SET"
			  " units = units + excluded.units,"
			  " lines = lines + excluded.lines",
	[ST_DEMAND] = DEMAND_SQL("?1", "?2", "?3", "?4", "?5"),
	[ST_TRACK_ADD] = "INSERT INTO tracks (title, content_hash, cues,"
			 " created_at, body) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_TRACK_GET] = "SELECT id, title, content_hash, cues, created_at,"
			 " body FROM tracks WHERE id = ?1",
	[ST_TRACK_LIST] = "SELECT id, title, content_hash, cues, created_at,"
			  " NULL FROM tracks ORDER BY id DESC",
	[ST_PRODUCT_LINES] = "SELECT b.reference, a.orderid, a.qty"
			     " FROM products p JOIN batches b"
			     " ON b.product_id = p.id JOIN allocations a"
			     " ON a.batch_id = b.id WHERE p.sku = ?1"
			     " ORDER BY b.id, a.id LIMIT ?2",
	[ST_VENUE_ADD] = "INSERT INTO venues (name, capacity_ul,"
			 " alert_below_ul, refill_unit_ul, version, created_at,"
			 " body) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
	[ST_CARTRIDGE_ADD] = "INSERT INTO cartridges VALUES (?1, ?2, ?3, ?4,"
			     " ?5, ?6, ?7)",
	[ST_VENUE_GET] = "SELECT id, name, capacity_ul, alert_below_ul,"
			 " refill_unit_ul, version, created_at, body"
			 " FROM venues WHERE id = ?1",
	[ST_CARTRIDGES] = "SELECT row, seat, slot, sku, batch, level_ul"
			  " FROM cartridges WHERE venue_id = ?1"
			  " ORDER BY row, seat, slot",
	[ST_VENUE_LIST] = "SELECT id, name, capacity_ul, alert_below_ul,"
			  " refill_unit_ul, version, created_at, NULL"
			  " FROM venues ORDER BY id DESC",
	[ST_VENUE_BUMP] = "UPDATE venues SET version = version + 1"
			  " WHERE id = ?1 AND version = ?2",
	[ST_CARTRIDGE_SET] = "UPDATE cartridges SET sku = ?5, batch = ?6,"
			     " level_ul = ?7 WHERE venue_id = ?1 AND row = ?2"
			     " AND seat = ?3 AND slot = ?4",
	[ST_SHOW_ADD] = "INSERT INTO shows (venue_id, track_id, played_at,"
			" fires, acked, missed, seat_releases)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_SHOW_USE_ADD] = "INSERT INTO show_use VALUES (?1, ?2, ?3, ?4)"
			    " ON CONFLICT DO UPDATE SET ul = ul + excluded.ul",
	[ST_SHOW_LIST] = "SELECT id, venue_id, track_id, played_at, fires,"
			 " acked, missed, seat_releases FROM shows"
			 " WHERE venue_id = ?1 ORDER BY id DESC",
	[ST_SHOW_USES] = "SELECT sku, NULLIF(batch, ''), ul FROM show_use"
			 " WHERE show_id = ?1 ORDER BY sku, batch",
};

static_assert(ARRAY_SIZE(stmt_sql) == ST__COUNT, "SQL for every statement");

struct sqlite_db {
	char *path;		    /* the file; owned */
	struct sqlite_options opt;  /* as opened */
	pthread_mutex_t write_lock; /* held from BEGIN IMMEDIATE to its end */
	bool group;		    /* group commit (see sqlite_uow.h) */
	pthread_mutex_t sync_lock;  /* guards the fields below */
	pthread_cond_t synced;	    /* durable moved, or a sync failed */
	uint64_t committed;	    /* commits made, in WAL order */
	uint64_t durable;	    /* commits known to be on disk */
	bool syncing;		    /* a leader is in fdatasync() */
	atomic_bool was_full;	    /* a write failed for want of space */
	uint64_t n_syncs;	    /* fdatasync() calls made */
	uint64_t sync_us;	    /* time spent in them */
	/* background checkpoints (sqlite_uow.h), when ckpt_db is set */
	sqlite3 *ckpt_db;	     /* the checkpointer's own connection */
	pthread_t ckpt_tid;	     /* its thread */
	pthread_mutex_t ckpt_run;    /* held by a checkpoint round */
	pthread_mutex_t ckpt_lock;   /* guards the two flags below */
	pthread_cond_t ckpt_wake;    /* ckpt_due or ckpt_stop was set */
	bool ckpt_due;		     /* the WAL reached checkpoint_frames */
	bool ckpt_stop;		     /* sqlite_db_close: exit */
	atomic_uint_fast64_t n_ckpt; /* checkpoints run */
	atomic_int ckpt_copied;	     /* frames of the WAL copied so far */
};

struct sqlite_uow {
	struct uow base;		/* must stay first */
	struct sqlite_db *shared;	/* borrowed */
	sqlite3 *db;			/* owned connection */
	sqlite3_stmt *stmts[ST__COUNT]; /* prepared once, reused */
	bool locked;			/* holds shared->write_lock */
};

static const struct uow_tx_ops sqlite_tx_ops;

static struct sqlite_uow *to_sqlite_uow(struct uow *u)
{
	assert(u->tx == &sqlite_tx_ops);
	return container_of(u, struct sqlite_uow, base);
}

/* Translate SQLite result @rc at the boundary; SQLite's text in msg. */
static int fail(struct sqlite_uow *s, int rc, const char *what,
		struct sc_err *err)
{
	int ext = sqlite3_extended_errcode(s->db);
	const char *text = sqlite3_errmsg(s->db);

	if (rc == SQLITE_NOMEM)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (ext == SQLITE_CONSTRAINT_UNIQUE ||
	    ext == SQLITE_CONSTRAINT_PRIMARYKEY)
		return err_set(err, SC_ECONFLICT, "%s: %s", what, text);
	return err_set(err, SC_EIO, "sqlite %s: %s", what, text);
}

/* Reset @st for reuse and return it. */
static sqlite3_stmt *stmt(struct sqlite_uow *s, enum stmt which)
{
	sqlite3_stmt *st = s->stmts[which];

	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
	return st;
}

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Step a statement that returns no row. */
static int exec(struct sqlite_uow *s, sqlite3_stmt *st, const char *what,
		struct sc_err *err)
{
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(s, rc, what, err);
	return SC_OK;
}

static int exec_simple(struct sqlite_uow *s, enum stmt which,
		       struct sc_err *err)
{
	return exec(s, stmt(s, which), stmt_sql[which], err);
}

/* Column @col as NULL or text in @a; -1 only when memory runs out. */
static int col_text_opt(struct arena *a, sqlite3_stmt *st, int col,
			const char **out)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	*out = NULL;
	if (!t)
		return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : -1;
	*out = arena_strndup(a, (const char *)t,
			     (size_t)sqlite3_column_bytes(st, col));
	return *out ? 0 : -1;
}

static int col_text(struct arena *a, sqlite3_stmt *st, int col,
		    const char **out)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	if (!t)
		return -1;
	*out = arena_strndup(a, (const char *)t,
			     (size_t)sqlite3_column_bytes(st, col));
	return *out ? 0 : -1;
}

/* Fill the element at @row from the current row of @st; -1 on OOM. */
typedef int row_fill_fn(sqlite3_stmt *st, struct arena *a, void *row);

/* How to read a list: which statement, what elements, by which filler. */
struct row_reader {
	sqlite3_stmt *st;  /* prepared and bound */
	size_t size;	   /* bytes per element */
	row_fill_fn *fill; /* fills one element from a row */
	const char *what;  /* for error messages */
};

/*
 * Step @rd->st to its end, growing an array in @a and filling one element
 * per row.  The one loop behind every list read.
 */
static int read_all(struct sqlite_uow *s, const struct row_reader *rd,
		    struct arena *a, void **items, size_t *n_out,
		    struct sc_err *err)
{
	size_t n = 0, cap = 0;
	void *v = NULL;
	int rc;

	while ((rc = sqlite3_step(rd->st)) == SQLITE_ROW) {
		if (arena_reserve(a, &v, &cap, n + 1, rd->size) ||
		    rd->fill(rd->st, a, (char *)v + n * rd->size)) {
			(void)sqlite3_reset(rd->st);
			return err_set(err, SC_ENOMEM, "out of memory");
		}
		n++;
	}
	(void)sqlite3_reset(rd->st);
	if (rc != SQLITE_DONE)
		return fail(s, rc, rd->what, err);
	*items = v;
	*n_out = n;
	return SC_OK;
}

static void unlock(struct sqlite_uow *s)
{
	if (s->locked) {
		s->locked = false;
		(void)pthread_mutex_unlock(&s->shared->write_lock);
	}
}

/*
 * A database file deleted or renamed under us still takes writes through
 * the open descriptor, and loses them at the next start: refuse to write
 * (one stat per transaction, or per batch with the batched writer).
 */
static int check_not_moved(struct sqlite_uow *s, struct sc_err *err)
{
	int moved = 0;

	if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED,
				 &moved) == SQLITE_OK &&
	    moved)
		return err_set(err, SC_EIO,
			       "sqlite: the database file '%s' was moved or "
			       "deleted",
			       s->shared->path);
	return SC_OK;
}

static int sqlite_begin(struct uow *u, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	int rc = check_not_moved(s, err);

	if (rc)
		return rc;
	(void)pthread_mutex_lock(&s->shared->write_lock);
	s->locked = true;
	rc = exec_simple(s, ST_BEGIN, err);
	if (rc)
		unlock(s);
	return rc;
}

static void sqlite_rollback(struct uow *u)
{
	struct sqlite_uow *s = to_sqlite_uow(u);

	if (s->db && s->stmts[ST_ROLLBACK] && !sqlite3_get_autocommit(s->db))
		(void)exec_simple(s, ST_ROLLBACK, NULL);
	unlock(s);
}

/*
 * A read of its own when no transaction is open; inside one, the read
 * runs in it (service/uow.h).  *@own says whether read_end() ends it.
 */
static int read_begin(struct sqlite_uow *s, bool *own, struct sc_err *err)
{
	*own = sqlite3_get_autocommit(s->db) != 0;
	return *own ? exec_simple(s, ST_BEGIN_READ, err) : SC_OK;
}

static void read_end(struct sqlite_uow *s, bool own)
{
	if (own && !sqlite3_get_autocommit(s->db))
		(void)exec_simple(s, ST_ROLLBACK, NULL);
}

static int load_batches(struct sqlite_uow *s, struct product *p,
			sqlite3_int64 id, struct sc_err *err)
{
	sqlite3_stmt *st = stmt(s, ST_BATCHES);
	int rc;

	(void)sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ref = (const char *)sqlite3_column_text(st, 0);
		const char *sup = (const char *)sqlite3_column_text(st, 4);
		bool has_eta = sqlite3_column_type(st, 3) != SQLITE_NULL;
		enum supplier supplier = SUPPLIER_NONE;
		struct batch *b;
		int r;

		if (sup)
			(void)supplier_parse(sup, &supplier);
		r = product_restore_batch(
			p,
			&(struct batch_spec){
				.ref = ref,
				.qty = sqlite3_column_int64(st, 1),
				.has_eta = has_eta,
				.eta = has_eta ? sqlite3_column_int(st, 3) : 0,
				.supplier = supplier},
			sqlite3_column_int64(st, 2), &b, err);
		if (r) {
			(void)sqlite3_reset(st);
			return r;
		}
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? SC_OK : fail(s, rc, "load batches", err);
}

/*
 * Restore the rows of @st into @p.  With @only, rows are (orderid, qty) of
 * that batch; otherwise (batch ref, qty) of order @orderid.
 */
static int load_lines(struct sqlite_uow *s, struct product *p, sqlite3_stmt *st,
		      struct batch *only, const char *orderid,
		      struct sc_err *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *c0 = (const char *)sqlite3_column_text(st, 0);
		struct batch *b = only ? only : product_find_batch(p, c0);
		int r;

		if (!b || !c0) {
			(void)sqlite3_reset(st);
			return err_set(err, SC_EIO,
				       "allocation of a batch not loaded");
		}
		r = product_restore_line(p, b, only ? c0 : orderid,
					 sqlite3_column_int64(st, 1), err);
		if (r) {
			(void)sqlite3_reset(st);
			return r;
		}
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? SC_OK : fail(s, rc, "load lines", err);
}

/* Restore the (orderid, qty) rows of @st as backorders of @p. */
static int load_backorders(struct sqlite_uow *s, struct product *p,
			   sqlite3_stmt *st, struct sc_err *err)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *orderid = (const char *)sqlite3_column_text(st, 0);
		int r = orderid ? product_restore_backorder(
					  p, orderid,
					  sqlite3_column_int64(st, 1), err)
				: err_set(err, SC_EIO,
					  "backorder without order");

		if (r) {
			(void)sqlite3_reset(st);
			return r;
		}
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_DONE ? SC_OK : fail(s, rc, "load backorders", err);
}

static int load_hinted(struct sqlite_uow *s, struct product *p,
		       const struct load_hint *hint, struct sc_err *err)
{
	sqlite3_stmt *st;
	struct batch *b;
	int rc = SC_OK;

	if (hint && hint->lines_of &&
	    (b = product_find_batch(p, hint->lines_of))) {
		st = stmt(s, ST_BATCH_LINES);
		(void)bind_text(st, 1, hint->lines_of);
		rc = load_lines(s, p, st, b, NULL, err);
		b->lines_complete = !rc;
	}
	if (!rc && hint && hint->orderid) {
		st = stmt(s, ST_ORDER_LINES);
		(void)bind_text(st, 1, hint->orderid);
		(void)bind_text(st, 2, p->sku);
		rc = load_lines(s, p, st, NULL, hint->orderid, err);
	}
	/* all of the sku's backorders hold the order's one, if any */
	if (!rc && hint && (hint->backorders || hint->orderid)) {
		st = stmt(s, hint->backorders ? ST_BACKORDERS
					      : ST_ORDER_BACKORDER);
		(void)bind_text(st, hint->backorders ? 1 : 2, p->sku);
		if (!hint->backorders)
			(void)bind_text(st, 1, hint->orderid);
		rc = load_backorders(s, p, st, err);
		p->backorders_complete = !rc && hint->backorders;
	}
	return rc;
}

/* Product @sku into @a with what @hint asks for. */
static int load_product(struct sqlite_uow *s, struct arena *a, const char *sku,
			const struct load_hint *hint, struct product **out,
			struct sc_err *err)
{
	sqlite3_stmt *st = stmt(s, ST_PRODUCT);
	struct product *p;
	sqlite3_int64 id, version, low;
	int rc;

	(void)bind_text(st, 1, sku);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		(void)sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return err_set(err, SC_ENOTFOUND, "unknown sku '%s'",
				       sku);
		return fail(s, rc, "load product", err);
	}
	id = sqlite3_column_int64(st, 0);
	version = sqlite3_column_int64(st, 1);
	low = sqlite3_column_int64(st, 2);
	(void)sqlite3_reset(st);
	rc = product_new(a, sku, version, false, &p, err);
	if (!rc)
		product_restore_low_stock(p, low);
	if (!rc)
		rc = load_batches(s, p, id, err);
	if (!rc)
		rc = load_hinted(s, p, hint, err);
	if (!rc)
		*out = p;
	return rc;
}

static int sqlite_get(struct uow *u, const char *sku,
		      const struct load_hint *hint, struct product **out,
		      struct sc_err *err)
{
	return load_product(to_sqlite_uow(u), u->arena, sku, hint, out, err);
}

static int sqlite_read_product(struct uow *u, const char *sku, struct arena *a,
			       struct product **out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	bool own;
	int rc = read_begin(s, &own, err);

	if (rc)
		return rc;
	rc = load_product(s, a, sku, NULL, out, err);
	read_end(s, own); /* read-only: nothing to keep */
	return rc;
}

static int fill_summary(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct product_summary *p = row;

	p->purchased = sqlite3_column_int64(st, 1);
	p->allocated = sqlite3_column_int64(st, 2);
	p->n_batches = (size_t)sqlite3_column_int64(st, 3);
	p->incoming = sqlite3_column_int64(st, 4);
	return col_text(a, st, 0, &p->sku);
}

static int sqlite_list_products(struct uow *u, const char *after, size_t limit,
				struct arena *a, struct product_list *out,
				struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_LIST);

	(void)bind_text(st, 1, after);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return read_all(s,
			&(const struct row_reader){st, sizeof(*out->items),
						   fill_summary,
						   "list products"},
			a, (void **)&out->items, &out->n, err);
}

static int sqlite_ping(struct uow *u, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_PING);
	int rc = sqlite3_step(st);

	(void)sqlite3_reset(st);
	return rc == SQLITE_ROW ? SC_OK : fail(s, rc, "ping", err);
}

/*
 * The invariants, as queries whose every row is one violation, already
 * worded.  Run rarely (scents check), so prepared each time.
 */
static const char *const check_sql[] = {
	"SELECT 'integrity: ' || quick_check FROM pragma_quick_check"
	" WHERE quick_check != 'ok'",
	"SELECT printf('schema version %d, this program expects %d',"
	" user_version, " TEXT_OF(
		SQLITE_SCHEMA_VERSION) ")"
				       " FROM pragma_user_version WHERE "
				       "user_version != " TEXT_OF(
					       SQLITE_SCHEMA_VERSION),
	"SELECT printf('foreign key: a row of %s points to no %s', \"table\","
	" parent) FROM pragma_foreign_key_check",
	"SELECT printf('batch ''%s'' is over-allocated: %d of %d', reference,"
	" allocated_quantity, purchased_quantity) FROM batches"
	" WHERE allocated_quantity > purchased_quantity",
	"SELECT printf('batch ''%s'' records %d allocated but its lines sum"
	" to %d', b.reference, b.allocated_quantity, COALESCE(SUM(a.qty), 0))"
	" FROM batches b LEFT JOIN allocations a ON a.batch_id = b.id"
	" GROUP BY b.id HAVING b.allocated_quantity != COALESCE(SUM(a.qty), 0)",
	/* the read model is a view since schema 6: these two now hold
	   unless its definition was changed by hand */
	"SELECT printf('read model: order ''%s'' sku ''%s'' shows %s, the"
	" line is in ''%s''', a.orderid, a.sku, COALESCE('''' || v.batchref"
	" || '''', 'nothing'), b.reference) FROM allocations a"
	" JOIN batches b ON b.id = a.batch_id LEFT JOIN allocations_view v"
	" ON v.orderid = a.orderid AND v.sku = a.sku"
	" WHERE v.batchref IS NOT b.reference",
	"SELECT printf('read model: order ''%s'' sku ''%s'' shows ''%s'' but"
	" has no such line', v.orderid, v.sku, v.batchref)"
	" FROM allocations_view v LEFT JOIN allocations a"
	" ON a.orderid = v.orderid AND a.sku = v.sku WHERE a.id IS NULL",
	"SELECT printf('order ''%s'' sku ''%s'' is both allocated and"
	" backordered', a.orderid, a.sku) FROM allocations a JOIN backorders"
	" w ON w.orderid = a.orderid AND w.sku = a.sku",
	"SELECT printf('outbox: no Allocated event for order ''%s'' sku ''%s''"
	" in ''%s''', a.orderid, a.sku, b.reference) FROM allocations a"
	" JOIN batches b ON b.id = a.batch_id LEFT JOIN (SELECT DISTINCT"
	" orderid, sku, batchref FROM outbox WHERE kind = 'Allocated') o"
	" ON o.orderid = a.orderid AND o.sku = a.sku AND o.batchref ="
	" b.reference WHERE o.orderid IS NULL",
	ANALYTICS_CHECK_ACTIVE,
	ANALYTICS_CHECK_SUM,
	ANALYTICS_CHECK_VARIANT,
};

/*
 * Rebuild what is derived from the source rows (allocations): batch
 * totals (bumping each changed product's version, so a writer holding an
 * old copy fails its check instead of writing the old total back).  The
 * read model is a view of those rows: nothing to rebuild there.  Totals that
 * would exceed the purchase are left for the report: over-allocation is not
 * something a rebuild can fix.
 */
static const char *const repair_sql[] = {
	"UPDATE products SET version_number = version_number + 1 WHERE id IN"
	" (SELECT product_id FROM batches b WHERE allocated_quantity !="
	" (SELECT COALESCE(SUM(qty), 0) FROM allocations WHERE batch_id ="
	" b.id))",
	"UPDATE batches SET allocated_quantity = (SELECT COALESCE(SUM(qty), 0)"
	" FROM allocations WHERE batch_id = batches.id) WHERE"
	" allocated_quantity != (SELECT COALESCE(SUM(qty), 0) FROM allocations"
	" WHERE batch_id = batches.id) AND (SELECT COALESCE(SUM(qty), 0) FROM"
	" allocations WHERE batch_id = batches.id) <= purchased_quantity",
};

/* Run the repairs in one transaction; *@n gets the rows rewritten. */
static int repair(struct sqlite_uow *s, size_t *n, struct sc_err *err)
{
	int rc = sqlite_begin(&s->base, err);

	for (size_t i = 0; !rc && i < ARRAY_SIZE(repair_sql); i++) {
		if (sqlite3_exec(s->db, repair_sql[i], NULL, NULL, NULL) !=
		    SQLITE_OK) {
			rc = fail(s, SQLITE_ERROR, "repair", err);
			break;
		}
		if (i) /* version bumps are not repairs in themselves */
			*n += (size_t)sqlite3_changes(s->db);
	}
	if (!rc)
		rc = exec_simple(s, ST_COMMIT, err);
	sqlite_rollback(&s->base); /* a no-op after the commit */
	return rc;
}

/* Append every row (column 0) of @sql to @out's problems, in @a. */
static int collect(struct sqlite_uow *s, const char *sql, struct arena *a,
		   struct check_report *out, size_t *cap, struct sc_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(s, SQLITE_ERROR, "check", err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = NULL;

		if (arena_reserve(a, (void **)&out->problems, cap,
				  out->n_problems + 1, sizeof(char *)) ||
		    col_text(a, st, 0, &line)) {
			(void)sqlite3_finalize(st);
			return err_set(err, SC_ENOMEM, "out of memory");
		}
		out->problems[out->n_problems++] = line;
	}
	(void)sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SC_OK : fail(s, rc, "check", err);
}

static int sqlite_check(struct uow *u, bool repairing, struct arena *a,
			struct check_report *out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	size_t cap = 0;
	int rc = SC_OK;

	memset(out, 0, sizeof(*out));
	if (repairing)
		rc = repair(s, &out->n_repaired, err);
	/* one read transaction: every check sees the same state */
	if (!rc)
		rc = exec_simple(s, ST_BEGIN_READ, err);
	for (size_t i = 0; !rc && i < ARRAY_SIZE(check_sql); i++) {
		rc = collect(s, check_sql[i], a, out, &cap, err);
		out->n_checked++;
	}
	if (!sqlite3_get_autocommit(s->db))
		(void)exec_simple(s, ST_ROLLBACK, NULL);
	return rc;
}

/*
 * SQLite's online backup: one read transaction copies every page, so the
 * copy is consistent while writers go on (WAL).  Written beside @path,
 * then renamed: a crash never leaves half a backup under the name.
 */
static int sqlite_backup(struct uow *u, const char *path, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	char tmp[4200];
	sqlite3 *dest = NULL;
	sqlite3_backup *b;
	int rc;

	if (!access(path, F_OK))
		return err_set(err, SC_EEXIST, "'%s' exists; not overwriting",
			       path);
	(void)snprintf(tmp, sizeof(tmp), "%s.part", path);
	(void)unlink(tmp);
	rc = sqlite3_open_v2(tmp, &dest,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	b = rc == SQLITE_OK ? sqlite3_backup_init(dest, "main", s->db, "main")
			    : NULL;
	if (b) {
		rc = sqlite3_backup_step(b, -1);
		(void)sqlite3_backup_finish(b);
	}
	if (!b || rc != SQLITE_DONE)
		rc = err_set(err, SC_EIO, "backup to '%s': %s", path,
			     dest ? sqlite3_errmsg(dest) : "out of memory");
	else
		rc = SC_OK;
	(void)sqlite3_close(dest);
	if (!rc && rename(tmp, path))
		rc = err_set(err, SC_EIO, "backup: cannot rename to '%s': %s",
			     path, strerror(errno));
	if (rc)
		(void)unlink(tmp);
	return rc;
}

static int sqlite_stats(struct uow *u, struct store_stats *out,
			struct sc_err *err)
{
	struct sqlite_db *db = to_sqlite_uow(u)->shared;
	char wal[4200];
	struct stat st;

	(void)err;
	(void)pthread_mutex_lock(&db->sync_lock);
	out->commits = db->committed;
	out->syncs = db->n_syncs;
	out->sync_seconds = (double)db->sync_us / 1e6;
	(void)pthread_mutex_unlock(&db->sync_lock);
	out->size_bytes = stat(db->path, &st) ? -1 : (int64_t)st.st_size;
	(void)snprintf(wal, sizeof(wal), "%s-wal", db->path);
	if (out->size_bytes >= 0 && !stat(wal, &st))
		out->size_bytes += (int64_t)st.st_size;
	return SC_OK;
}

static int sqlite_probe_write(struct uow *u, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	int rc = sqlite_begin(u, err); /* refuses a moved file */

	if (!rc)
		rc = exec_simple(s, ST_PROBE_WRITE, err);
	sqlite_rollback(u);
	return rc;
}

static int sqlite_outbox_stats(struct uow *u, int64_t *n_out,
			       int64_t *oldest_out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_STATS);
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*n_out = sqlite3_column_int64(st, 0);
		*oldest_out = sqlite3_column_int64(st, 1);
	}
	(void)sqlite3_reset(st);
	return rc == SQLITE_ROW ? SC_OK : fail(s, rc, "outbox stats", err);
}

static int sqlite_sku_of_batch(struct uow *u, const char *ref, const char **out,
			       struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_SKU_OF_BATCH);
	int rc;

	(void)bind_text(st, 1, ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = col_text(u->arena, st, 0, out)
			     ? err_set(err, SC_ENOMEM, "out of memory")
			     : SC_OK;
	else if (rc == SQLITE_DONE)
		rc = err_set(err, SC_ENOTFOUND, "unknown batch '%s'", ref);
	else
		rc = fail(s, rc, "find batch", err);
	(void)sqlite3_reset(st);
	return rc;
}

static int sqlite_add_product(struct uow *u, const char *sku, int64_t version,
			      struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_INSERT_PRODUCT);

	(void)bind_text(st, 1, sku);
	(void)sqlite3_bind_int64(st, 2, version);
	/* a UNIQUE violation is SC_ECONFLICT: created concurrently */
	return exec(s, st, "insert product", err);
}

static int sqlite_bump_version(struct uow *u, const char *sku, int64_t from,
			       int64_t to, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_BUMP_PRODUCT);
	int rc;

	(void)sqlite3_bind_int64(st, 1, to);
	(void)bind_text(st, 2, sku);
	(void)sqlite3_bind_int64(st, 3, from);
	rc = exec(s, st, "update product", err);
	if (!rc && sqlite3_changes(s->db) != 1)
		rc = err_set(err, SC_ECONFLICT,
			     "product '%s' changed concurrently", sku);
	return rc;
}

static int sqlite_add_batch(struct uow *u, const char *sku,
			    const struct batch *b, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_INSERT_BATCH);

	(void)bind_text(st, 1, b->ref);
	(void)sqlite3_bind_int64(st, 2, b->purchased);
	(void)sqlite3_bind_int64(st, 3, b->allocated);
	if (b->has_eta)
		(void)sqlite3_bind_int(st, 4, b->eta);
	(void)bind_text(st, 5, sku);
	if (b->supplier != SUPPLIER_NONE)
		(void)bind_text(st, 6, supplier_name(b->supplier));
	return exec(s, st, "insert batch", err);
}

static int sqlite_set_batch_totals(struct uow *u, const struct batch *b,
				   struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_UPDATE_BATCH);

	(void)sqlite3_bind_int64(st, 1, b->purchased);
	(void)sqlite3_bind_int64(st, 2, b->allocated);
	(void)bind_text(st, 3, b->ref);
	if (b->has_eta)
		(void)sqlite3_bind_int(st, 4, b->eta);
	return exec(s, st, "update batch", err);
}

/* The allocation row (the read model is a view of it). */
static int sqlite_add_line(struct uow *u, const char *batchref,
			   const struct order_line *l, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_INSERT_LINE);

	(void)bind_text(st, 1, batchref);
	(void)bind_text(st, 2, l->orderid);
	(void)bind_text(st, 3, l->sku);
	(void)sqlite3_bind_int64(st, 4, l->qty);
	return exec(s, st, "insert allocation", err);
}

static int fill_aged(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct aged_backorder *b = row;

	b->qty = sqlite3_column_int64(st, 2);
	b->created_at = sqlite3_column_int64(st, 3);
	return col_text(a, st, 0, &b->orderid) || col_text(a, st, 1, &b->sku)
		       ? -1
		       : 0;
}

static int sqlite_aged_backorders(struct uow *u, int64_t before, size_t limit,
				  struct arena *a, struct aged_list *list,
				  struct sc_err *err)
{
	struct aged_backorder **out = &list->items;
	size_t *n_out = &list->n;
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_AGED_BACKORDERS);

	(void)sqlite3_bind_int64(st, 1, before);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return read_all(s,
			&(const struct row_reader){st, sizeof(**out), fill_aged,
						   "read aged backorders"},
			a, (void **)out, n_out, err);
}

static int sqlite_backorder_alerted(struct uow *u, const char *orderid,
				    const char *sku, int64_t at,
				    struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_BACKORDER_ALERTED);

	(void)bind_text(st, 1, orderid);
	(void)bind_text(st, 2, sku);
	(void)sqlite3_bind_int64(st, 3, at);
	return exec(s, st, "mark backorder alerted", err);
}

static int sqlite_set_low_stock(struct uow *u, const char *sku,
				int64_t threshold, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_SET_LOW_STOCK);

	(void)sqlite3_bind_int64(st, 1, threshold);
	(void)bind_text(st, 2, sku);
	return exec(s, st, "set low stock", err);
}

static int sqlite_add_backorder(struct uow *u, const struct order_line *l,
				struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_INSERT_BACKORDER);

	(void)bind_text(st, 1, l->orderid);
	(void)bind_text(st, 2, l->sku);
	(void)sqlite3_bind_int64(st, 3, l->qty);
	return exec(s, st, "insert backorder", err);
}

static int sqlite_remove_backorder(struct uow *u, const struct order_line *l,
				   struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_DELETE_BACKORDER);

	(void)bind_text(st, 1, l->orderid);
	(void)bind_text(st, 2, l->sku);
	return exec(s, st, "delete backorder", err);
}

static int sqlite_remove_line(struct uow *u, const struct order_line *l,
			      struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_DELETE_LINE);

	(void)bind_text(st, 1, l->orderid);
	(void)bind_text(st, 2, l->sku);
	return exec(s, st, "delete allocation", err);
}

/*
 * fdatasync() the WAL through SQLite's own file object (the VFS), not a
 * descriptor of ours: a VFS below SQLite then sees every sync, which is
 * what the power-loss test (tests/unit/test_powerloss.c) relies on.
 */
static int sync_wal(struct sqlite_uow *s, struct sc_err *err)
{
	sqlite3_file *wal = NULL;
	int rc = sqlite3_file_control(s->db, "main",
				      SQLITE_FCNTL_JOURNAL_POINTER, &wal);

	if (rc != SQLITE_OK || !wal || !wal->pMethods)
		return err_set(err, SC_EIO, "sqlite: no WAL file to sync");
	rc = wal->pMethods->xSync(wal,
				  SQLITE_SYNC_NORMAL | SQLITE_SYNC_DATAONLY);
	return rc == SQLITE_OK
		       ? SC_OK
		       : err_set(err, SC_EIO,
				 "sqlite: sync of the WAL failed (%d)", rc);
}

/*
 * Return once commit number @ticket is on disk.  The first waiter that
 * finds no sync running becomes the leader: it syncs the WAL for every
 * commit made so far while the others wait, so one fdatasync() serves
 * all the commits that queued behind the previous one.
 */
static int wait_durable(struct sqlite_uow *s, uint64_t ticket,
			struct sc_err *err)
{
	struct sqlite_db *db = s->shared;
	int rc = SC_OK;

	(void)pthread_mutex_lock(&db->sync_lock);
	while (!rc && db->durable < ticket) {
		uint64_t target, t0;

		if (db->syncing) {
			(void)pthread_cond_wait(&db->synced, &db->sync_lock);
			continue;
		}
		db->syncing = true;
		target = db->committed;
		(void)pthread_mutex_unlock(&db->sync_lock);
		t0 = clock_mono_us();
		rc = sync_wal(s, err);
		t0 = clock_mono_us() - t0;
		(void)pthread_mutex_lock(&db->sync_lock);
		db->syncing = false;
		if (!rc) {
			db->n_syncs++;
			db->sync_us += t0;
			if (target > db->durable)
				db->durable = target;
		}
		(void)pthread_cond_broadcast(&db->synced);
	}
	(void)pthread_mutex_unlock(&db->sync_lock);
	return rc;
}

/*
 * After a disk-full episode the WAL may have grown past its usual size
 * while checkpoints could not finish.  Once a commit succeeds again,
 * checkpoint and truncate it (journal_size_limit alone only trims a WAL
 * that is reset).  Best effort: a busy reader just leaves it for later.
 */
static void shrink_wal(struct sqlite_uow *s)
{
	(void)sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
					NULL, NULL);
}

/*
 * COMMIT; with group commit, *@ticket numbers it for wait_durable (0:
 * durable already, SQLite synced it).  Either way the write lock is free
 * on return, so the next transaction can run during the sync.
 */
static int sqlite_batch_commit(struct uow *u, uint64_t *ticket,
			       struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	struct sqlite_db *db = s->shared;
	int rc = exec_simple(s, ST_COMMIT, err);

	if (rc && sqlite3_errcode(s->db) == SQLITE_FULL)
		atomic_store(&db->was_full, true);
	if (rc)
		sqlite_rollback(u);
	else if (atomic_exchange(&db->was_full, false))
		shrink_wal(s);
	if (!rc && db->group) {
		/* numbered while the write lock keeps WAL order */
		(void)pthread_mutex_lock(&db->sync_lock);
		*ticket = ++db->committed;
		(void)pthread_mutex_unlock(&db->sync_lock);
	}
	unlock(s);
	return rc;
}

static int sqlite_wait_durable(struct uow *u, uint64_t ticket,
			       struct sc_err *err)
{
	return wait_durable(to_sqlite_uow(u), ticket, err);
}

static int sqlite_commit(struct uow *u, struct sc_err *err)
{
	uint64_t ticket = 0;
	int rc = sqlite_batch_commit(u, &ticket, err);

	return !rc && ticket ? wait_durable(to_sqlite_uow(u), ticket, err) : rc;
}

static int fill_allocation(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct allocation_row *r = row;

	r->qty = sqlite3_column_int64(st, 2);
	return col_text(a, st, 0, &r->sku) ||
			       col_text_opt(a, st, 1, &r->batchref)
		       ? -1
		       : 0;
}

static int sqlite_allocations(struct uow *u, const char *orderid,
			      struct arena *a, struct allocation_row **out,
			      size_t *n_out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_VIEW);

	(void)bind_text(st, 1, orderid);
	return read_all(s,
			&(const struct row_reader){st, sizeof(**out),
						   fill_allocation,
						   "read allocations_view"},
			a, (void **)out, n_out, err);
}

static int fill_product_line(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct product_line *l = row;

	l->qty = sqlite3_column_int64(st, 2);
	return col_text(a, st, 0, &l->batchref) ||
			       col_text(a, st, 1, &l->orderid)
		       ? -1
		       : 0;
}

static int sqlite_product_lines(struct uow *u, const struct lines_ask *ask,
				struct arena *a, struct product_line **out,
				size_t *n_out, struct sc_err *err)
{
	const char *sku = ask->sku;
	size_t limit = ask->limit;

	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_PRODUCT_LINES);

	(void)bind_text(st, 1, sku);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return read_all(s,
			&(const struct row_reader){st, sizeof(**out),
						   fill_product_line,
						   "read product lines"},
			a, (void **)out, n_out, err);
}

static int sqlite_outbox_add(struct uow *u, const struct outbox_row *r,
			     struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_ADD);

	(void)bind_text(st, 1, r->kind);
	(void)bind_text(st, 2, r->ev.orderid);
	(void)bind_text(st, 3, r->ev.sku);
	if (r->ev.has_qty)
		(void)sqlite3_bind_int64(st, 4, r->ev.qty);
	(void)bind_text(st, 5, r->ev.batchref);
	return exec(s, st, "insert outbox", err);
}

/* A row (id, attempts, kind, orderid, sku, qty, batchref) into @row. */
static int outbox_row(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct outbox_row *r = row;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->attempts = (unsigned)sqlite3_column_int(st, 1);
	r->ev.has_qty = sqlite3_column_type(st, 5) != SQLITE_NULL;
	r->ev.qty = sqlite3_column_int64(st, 5);
	return col_text(a, st, 2, &r->kind) ||
			       col_text_opt(a, st, 3, &r->ev.orderid) ||
			       col_text(a, st, 4, &r->ev.sku) ||
			       col_text_opt(a, st, 6, &r->ev.batchref)
		       ? -1
		       : 0;
}

static int sqlite_outbox_pending(struct uow *u, size_t limit, struct arena *a,
				 struct outbox_rows *out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_OUTBOX_PENDING);

	(void)sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
	return read_all(s,
			&(const struct row_reader){st, sizeof(*out->items),
						   outbox_row, "read outbox"},
			a, (void **)&out->items, &out->n, err);
}

static int by_id(const void *a, const void *b)
{
	const struct outbox_row *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int sqlite_outbox_claim(struct uow *u, size_t limit, int lease_s,
			       struct arena *a, struct outbox_rows *out,
			       struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st;
	int rc = sqlite_begin(u, err);

	if (!rc) {
		st = stmt(s, ST_OUTBOX_CLAIM);
		(void)sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
		(void)sqlite3_bind_int(st, 2, lease_s);
		rc = read_all(
			s,
			&(const struct row_reader){st, sizeof(*out->items),
						   outbox_row, "claim outbox"},
			a, (void **)&out->items, &out->n, err);
	}
	if (!rc)
		rc = exec_simple(s, ST_COMMIT, err);
	sqlite_rollback(u); /* after a commit: only releases the lock */
	/* RETURNING gives no order; delivery goes oldest first */
	if (!rc && out->n > 1)
		qsort(out->items, out->n, sizeof(*out->items), by_id);
	return rc;
}

static int sqlite_outbox_mark(struct uow *u, const int64_t *ids, size_t n,
			      bool sent, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	enum stmt which = sent ? ST_OUTBOX_SENT : ST_OUTBOX_FAILED;
	int rc = sqlite_begin(u, err);

	for (size_t i = 0; !rc && i < n; i++) {
		sqlite3_stmt *st = stmt(s, which);

		(void)sqlite3_bind_int64(st, 1, ids[i]);
		rc = exec(s, st, "mark outbox", err);
	}
	if (!rc)
		rc = exec_simple(s, ST_COMMIT, err);
	sqlite_rollback(u); /* after a commit: only releases the lock */
	return rc;
}

/* Bind row @i of @r to ST_ROUND_ROW_ADD. */
static void bind_research_row(sqlite3_stmt *st, const struct research_round *r,
			      size_t i)
{
	const struct research_row *row = &r->rows[i];
	const struct decision *d = &r->decisions[i];

	(void)sqlite3_bind_int64(st, 1, r->id);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
	(void)bind_text(st, 3, row->sku);
	(void)bind_text(st, 4, row->scent);
	(void)sqlite3_bind_int(st, 5, row->expensive_bp);
	(void)sqlite3_bind_int(st, 6, row->cheap_bp);
	(void)sqlite3_bind_int64(st, 7, row->expensive_cost_cents);
	(void)sqlite3_bind_int64(st, 8, row->cheap_cost_cents);
	(void)sqlite3_bind_int64(st, 9, row->respondents);
	(void)bind_text(st, 10, supplier_name(d->supplier));
	(void)sqlite3_bind_int64(st, 11, d->unit_cost_cents);
	(void)sqlite3_bind_int64(st, 12, d->saving_cents);
	if (d->has_interval) {
		(void)sqlite3_bind_double(st, 13, d->ci_low_pct);
		(void)sqlite3_bind_double(st, 14, d->ci_high_pct);
	}
	(void)sqlite3_bind_int(st, 15, d->significant);
}

static int sqlite_research_add(struct uow *u, const struct research_round *r,
			       int64_t *id_out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	struct research_round copy = *r;
	sqlite3_stmt *st = stmt(s, ST_ROUND_ADD);
	int rc;

	(void)sqlite3_bind_int(st, 1, r->day);
	(void)sqlite3_bind_int(st, 2, r->threshold_bp);
	rc = exec(s, st, "insert research round", err);
	copy.id = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; !rc && i < r->n; i++) {
		st = stmt(s, ST_ROUND_ROW_ADD);
		bind_research_row(st, &copy, i);
		rc = exec(s, st, "insert research row", err);
	}
	if (!rc)
		*id_out = copy.id;
	return rc;
}

/* Columns 0..13 (RESEARCH_COLS) into @row and @d; -1 on OOM. */
static int research_row_of(sqlite3_stmt *st, struct arena *a,
			   struct research_row *row, struct decision *d)
{
	const char *sup = (const char *)sqlite3_column_text(st, 8);

	memset(row, 0, sizeof(*row));
	memset(d, 0, sizeof(*d));
	if (col_text(a, st, 1, &row->sku) || col_text(a, st, 2, &row->scent))
		return -1;
	row->expensive_bp = sqlite3_column_int(st, 3);
	row->cheap_bp = sqlite3_column_int(st, 4);
	row->expensive_cost_cents = sqlite3_column_int64(st, 5);
	row->cheap_cost_cents = sqlite3_column_int64(st, 6);
	row->respondents = sqlite3_column_int64(st, 7);
	if (sup)
		(void)supplier_parse(sup, &d->supplier);
	d->unit_cost_cents = sqlite3_column_int64(st, 9);
	d->saving_cents = sqlite3_column_int64(st, 10);
	d->has_interval = sqlite3_column_type(st, 11) != SQLITE_NULL;
	d->ci_low_pct = sqlite3_column_double(st, 11);
	d->ci_high_pct = sqlite3_column_double(st, 12);
	d->significant = sqlite3_column_int(st, 13) != 0;
	return 0;
}

/* The rows of round @r->id into @r, in @a. */
/* A research row and its decision, as read for a whole round. */
struct row_and_decision {
	struct research_row row;  /* the research */
	struct decision decision; /* what was decided */
};

static int fill_row_and_decision(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct row_and_decision *rd = row;

	return research_row_of(st, a, &rd->row, &rd->decision);
}

/* The rows of round @r->id into @r, in @a. */
static int load_round_rows(struct sqlite_uow *s, struct research_round *r,
			   struct arena *a, struct sc_err *err)
{
	sqlite3_stmt *st = stmt(s, ST_ROUND_ROWS);
	struct row_and_decision *rd = NULL;
	struct research_row *rows;
	int rc;

	(void)sqlite3_bind_int64(st, 1, r->id);
	rc = read_all(s,
		      &(const struct row_reader){st, sizeof(*rd),
						 fill_row_and_decision,
						 "read research"},
		      a, (void **)&rd, &r->n, err);
	if (rc || !r->n)
		return rc;
	rows = arena_calloc(a, r->n, sizeof(*rows));
	r->decisions = arena_calloc(a, r->n, sizeof(*r->decisions));
	if (!rows || !r->decisions)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t i = 0; i < r->n; i++) {
		rows[i] = rd[i].row;
		r->decisions[i] = rd[i].decision;
	}
	r->rows = rows;
	return SC_OK;
}

static int sqlite_research_round(struct uow *u, int64_t id, struct arena *a,
				 struct research_round **out,
				 struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	struct research_round *r = arena_calloc(a, 1, sizeof(*r));
	sqlite3_stmt *st;
	bool own;
	int rc;

	if (!r)
		return err_set(err, SC_ENOMEM, "out of memory");
	rc = read_begin(s, &own, err);
	if (rc)
		return rc;
	st = stmt(s, ST_ROUND_BY_ID);
	(void)sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		r->day = sqlite3_column_int(st, 1);
		r->threshold_bp = sqlite3_column_int(st, 2);
		rc = SC_OK;
	} else {
		rc = rc != SQLITE_DONE ? fail(s, rc, "read research", err)
		     : id	       ? err_set(err, SC_ENOTFOUND,
						 "unknown research round %lld",
						 (long long)id)
			  : err_set(err, SC_ENOTFOUND, "no research yet");
	}
	(void)sqlite3_reset(st);
	if (!rc)
		rc = load_round_rows(s, r, a, err);
	read_end(s, own); /* read-only */
	if (!rc)
		*out = r;
	return rc;
}

static int fill_sku_decision(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct sku_decision *d = row;

	d->round_id = sqlite3_column_int64(st, 0);
	d->day = sqlite3_column_int(st, 14);
	d->threshold_bp = sqlite3_column_int(st, 15);
	return research_row_of(st, a, &d->row, &d->decision);
}

static int sqlite_research_history(struct uow *u, const char *sku, size_t limit,
				   struct arena *a, struct sku_history *out,
				   struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_SKU_HISTORY);

	(void)bind_text(st, 1, sku);
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return read_all(s,
			&(const struct row_reader){st, sizeof(*out->items),
						   fill_sku_decision,
						   "read research history"},
			a, (void **)&out->items, &out->n, err);
}

static int sqlite_token_add(struct uow *u, const struct token_record *t,
			    struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_TOKEN_ADD);
	int rc;

	(void)bind_text(st, 1, t->name);
	(void)sqlite3_bind_int(st, 2, (int)t->scopes);
	(void)sqlite3_bind_blob(st, 3, t->hash, sizeof(t->hash), SQLITE_STATIC);
	(void)sqlite3_bind_int64(st, 4, t->created_at);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return err_set(err, SC_EEXIST, "token '%s' exists", t->name);
	return rc == SQLITE_DONE ? SC_OK : fail(s, rc, "add token", err);
}

static int sqlite_token_revoke(struct uow *u, const char *name, int64_t at,
			       struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_TOKEN_REVOKE);
	int rc;

	(void)bind_text(st, 1, name);
	(void)sqlite3_bind_int64(st, 2, at);
	rc = exec(s, st, "revoke token", err);
	if (!rc && !sqlite3_changes(s->db))
		rc = err_set(err, SC_ENOTFOUND, "no token named '%s'", name);
	return rc;
}

static int fill_token(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct token_record *t = row;
	const void *hash = sqlite3_column_blob(st, 2);

	if (col_text(a, st, 0, &t->name))
		return -1;
	t->scopes = (unsigned)sqlite3_column_int(st, 1);
	if (hash && sqlite3_column_bytes(st, 2) == TOKEN_HASH_LEN)
		memcpy(t->hash, hash, TOKEN_HASH_LEN);
	else
		memset(t->hash, 0, TOKEN_HASH_LEN); /* matches no secret */
	t->created_at = sqlite3_column_int64(st, 3);
	t->revoked_at = sqlite3_column_int64(st, 4);
	return 0;
}

static int sqlite_token_list(struct uow *u, struct arena *a,
			     struct token_record **out, size_t *n_out,
			     struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);

	return read_all(s,
			&(const struct row_reader){stmt(s, ST_TOKEN_LIST),
						   sizeof(**out), fill_token,
						   "read tokens"},
			a, (void **)out, n_out, err);
}

/* ---- customers and their notices (issue 14) ------------------------- */

/* A row of CUSTOMER_COLS into @row (a struct customer_record). */
static int customer_of(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct customer_record *c = row;
	const void *secret = sqlite3_column_blob(st, 4);

	memset(c, 0, sizeof(*c));
	if (secret && sqlite3_column_bytes(st, 4) == (int)sizeof(c->secret))
		memcpy(c->secret, secret, sizeof(c->secret));
	c->created_at = sqlite3_column_int64(st, 5);
	return col_text(a, st, 0, &c->id) || col_text(a, st, 1, &c->name) ||
			       col_text_opt(a, st, 2, &c->email) ||
			       col_text_opt(a, st, 3, &c->webhook_url) ||
			       col_text_opt(a, st, 6, &c->segment)
		       ? -1
		       : 0;
}

/* One customer from @st (bound), or *@out NULL when there is none. */
static int one_customer(struct sqlite_uow *s, sqlite3_stmt *st, struct arena *a,
			struct customer_record **out, struct sc_err *err)
{
	size_t n = 0;
	int rc = read_all(s,
			  &(const struct row_reader){st, sizeof(**out),
						     customer_of,
						     "read customer"},
			  a, (void **)out, &n, err);

	if (!rc && !n)
		*out = NULL;
	return rc;
}

static int sqlite_customer_add(struct uow *u, const struct customer_record *c,
			       struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_CUSTOMER_ADD);
	int rc;

	(void)bind_text(st, 1, c->id);
	(void)bind_text(st, 2, c->name);
	(void)bind_text(st, 3, c->email);
	(void)bind_text(st, 4, c->webhook_url);
	if (c->webhook_url)
		(void)sqlite3_bind_blob(st, 5, c->secret, sizeof(c->secret),
					SQLITE_STATIC);
	(void)sqlite3_bind_int64(st, 6, c->created_at);
	(void)bind_text(st, 7, c->segment);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return err_set(err, SC_EEXIST, "customer '%s' exists", c->id);
	return rc == SQLITE_DONE ? SC_OK : fail(s, rc, "add customer", err);
}

static int sqlite_customer_get(struct uow *u, const char *id, struct arena *a,
			       struct customer_record **out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_CUSTOMER_GET);
	int rc;

	(void)bind_text(st, 1, id);
	rc = one_customer(s, st, a, out, err);
	if (!rc && !*out)
		rc = err_set(err, SC_ENOTFOUND, "unknown customer '%s'", id);
	return rc;
}

static int sqlite_order_customer_set(struct uow *u, const char *orderid,
				     const char *customer, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_ORDER_CUSTOMER);
	const char *have;
	char owner[SC_ID_MAX + 1] = "";
	int rc;

	(void)bind_text(st, 1, orderid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW &&
	    (have = (const char *)sqlite3_column_text(st, 0)))
		(void)snprintf(owner, sizeof(owner), "%s", have);
	(void)sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, rc, "read order customer", err);
	if (rc == SQLITE_ROW)
		return strcmp(owner, customer) == 0
			       ? SC_OK
			       : err_set(err, SC_EEXIST,
					 "order '%s' belongs to customer '%s'",
					 orderid, owner);
	st = stmt(s, ST_ORDER_CUSTOMER_ADD);
	(void)bind_text(st, 1, orderid);
	(void)bind_text(st, 2, customer);
	return exec(s, st, "add order customer", err);
}

static int sqlite_contact(struct uow *u, const char *orderid, struct arena *a,
			  struct customer_record **out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_CONTACT);

	(void)bind_text(st, 1, orderid);
	return one_customer(s, st, a, out, err);
}

static int sqlite_delivery_add(struct uow *u, const struct delivery *d,
			       struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_DELIVERY_ADD);

	(void)bind_text(st, 1, d->customer);
	(void)bind_text(st, 2, d->channel);
	(void)bind_text(st, 3, d->target);
	(void)bind_text(st, 4, notice_name(d->kind));
	(void)bind_text(st, 5, d->ev.orderid);
	(void)bind_text(st, 6, d->ev.sku);
	if (d->ev.has_qty)
		(void)sqlite3_bind_int64(st, 7, d->ev.qty);
	(void)bind_text(st, 8, d->ev.batchref);
	if (d->has_eta)
		(void)sqlite3_bind_int(st, 9, d->eta);
	return exec(s, st, "add delivery", err);
}

/* A row of DELIVERY_COLS, then the secret (or NULL), into @row. */
static int delivery_of(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct delivery *d = row;
	const char *kind = (const char *)sqlite3_column_text(st, 4);
	const char *state = (const char *)sqlite3_column_text(st, 11);
	const void *secret = sqlite3_column_blob(st, 15);
	int k = notice_named(kind), sn = notice_state_named(state);

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	d->kind = k < 0 ? NOTICE_ALLOCATED : (enum notice_kind)k;
	d->ev.has_qty = sqlite3_column_type(st, 7) != SQLITE_NULL;
	d->ev.qty = sqlite3_column_int64(st, 7);
	d->attempts = (unsigned)sqlite3_column_int(st, 9);
	d->created_at = sqlite3_column_int64(st, 10);
	d->state = sn < 0 ? NOTICE_PENDING : (enum notice_state)sn;
	d->next_at_ms = sqlite3_column_int64(st, 12);
	if (secret && sqlite3_column_bytes(st, 15) == (int)sizeof(d->secret))
		memcpy(d->secret, secret, sizeof(d->secret));
	d->has_eta = sqlite3_column_type(st, 14) != SQLITE_NULL;
	d->eta = d->has_eta ? sqlite3_column_int(st, 14) : 0;
	return col_text(a, st, 1, &d->customer) ||
			       col_text(a, st, 2, &d->channel) ||
			       col_text(a, st, 3, &d->target) ||
			       col_text(a, st, 5, &d->ev.orderid) ||
			       col_text(a, st, 6, &d->ev.sku) ||
			       col_text_opt(a, st, 8, &d->ev.batchref) ||
			       col_text_opt(a, st, 13, &d->last_error)
		       ? -1
		       : 0;
}

static int by_delivery_id(const void *a, const void *b)
{
	const struct delivery *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int sqlite_delivery_claim(struct uow *u, const struct delivery_claim *c,
				 struct arena *a, struct delivery **out,
				 size_t *n_out, struct sc_err *err)
{
	int64_t now_ms = c->now_ms;
	size_t limit = c->limit;
	int lease_s = c->lease_s;
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st;
	int rc = sqlite_begin(u, err);

	if (!rc) {
		st = stmt(s, ST_DELIVERY_CLAIM);
		(void)sqlite3_bind_int64(st, 1, now_ms);
		(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
		(void)sqlite3_bind_int(st, 3, lease_s);
		rc = read_all(s,
			      &(const struct row_reader){st, sizeof(**out),
							 delivery_of,
							 "claim deliveries"},
			      a, (void **)out, n_out, err);
	}
	if (!rc)
		rc = exec_simple(s, ST_COMMIT, err);
	sqlite_rollback(u);    /* after a commit: only releases the lock */
	if (!rc && *n_out > 1) /* RETURNING gives no order */
		qsort(*out, *n_out, sizeof(**out), by_delivery_id);
	return rc;
}

static int sqlite_delivery_finish(struct uow *u, int64_t id, unsigned attempts,
				  const struct delivery_outcome *o,
				  struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st;
	int rc = sqlite_begin(u, err);

	if (!rc) {
		st = stmt(s, ST_DELIVERY_FINISH);
		(void)sqlite3_bind_int64(st, 1, id);
		(void)bind_text(st, 2,
				notice_state_name(o->delivered
							  ? NOTICE_DELIVERED
						  : o->dead ? NOTICE_DEAD
							    : NOTICE_PENDING));
		(void)sqlite3_bind_int(st, 3, (int)attempts);
		(void)sqlite3_bind_int64(st, 4, o->next_at_ms);
		(void)bind_text(st, 5, o->error);
		rc = exec(s, st, "finish delivery", err);
	}
	if (!rc)
		rc = exec_simple(s, ST_COMMIT, err);
	sqlite_rollback(u);
	return rc;
}

static int sqlite_delivery_list(struct uow *u, const struct delivery_filter *f,
				struct arena *a, struct delivery **out,
				size_t *n_out, struct sc_err *err)
{
	int state = f->state;
	size_t limit = f->limit;
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_DELIVERY_LIST);

	if (state >= 0)
		(void)bind_text(st, 1,
				notice_state_name((enum notice_state)state));
	(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	return read_all(s,
			&(const struct row_reader){st, sizeof(**out),
						   delivery_of,
						   "list deliveries"},
			a, (void **)out, n_out, err);
}

static int sqlite_delivery_replay(struct uow *u, int64_t id, int64_t now_ms,
				  struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_DELIVERY_REPLAY);
	int rc;

	(void)sqlite3_bind_int64(st, 1, id);
	(void)sqlite3_bind_int64(st, 2, now_ms);
	rc = exec(s, st, "replay delivery", err);
	if (rc || sqlite3_changes(s->db) > 0)
		return rc;
	st = stmt(s, ST_DELIVERY_STATE);
	(void)sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	(void)sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return err_set(err, SC_ENOTFOUND, "no delivery %lld",
			       (long long)id);
	if (rc != SQLITE_ROW)
		return fail(s, rc, "read delivery", err);
	return err_set(err, SC_EINVAL,
		       "delivery %lld is not dead: only a dead one is replayed",
		       (long long)id);
}

/* ---- formulas, surveys and demand (issue 15) ------------------------- */

/* Bind @v, or NULL when it is -1 (not given). */
static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
	if (v < 0)
		(void)sqlite3_bind_null(st, i);
	else
		(void)sqlite3_bind_int64(st, i, v);
}

static int64_t col_opt_int(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL
		       ? -1
		       : sqlite3_column_int64(st, col);
}

static int sqlite_ingredient_put(struct uow *u, const struct ingredient *in,
				 struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_INGREDIENT_PUT);

	(void)bind_text(st, 1, in->name);
	(void)bind_text(st, 2, in->cas);
	bind_opt_int(st, 3, in->max_milli);
	bind_opt_int(st, 4, in->price[0]);
	bind_opt_int(st, 5, in->price[1]);
	return exec(s, st, "put ingredient", err);
}

static int fill_ingredient(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct ingredient *in = row;

	in->max_milli = (int32_t)col_opt_int(st, 2);
	in->price[0] = col_opt_int(st, 3);
	in->price[1] = col_opt_int(st, 4);
	return col_text(a, st, 0, &in->name) || col_text_opt(a, st, 1, &in->cas)
		       ? -1
		       : 0;
}

static int sqlite_ingredients(struct uow *u, struct arena *a,
			      struct ingredient **out, size_t *n_out,
			      struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);

	return read_all(s,
			&(const struct row_reader){
				stmt(s, ST_INGREDIENTS), sizeof(**out),
				fill_ingredient, "read ingredients"},
			a, (void **)out, n_out, err);
}

static int sqlite_formula_add(struct uow *u, const struct formula *f,
			      struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_FORMULA_ADD);
	int rc;

	(void)bind_text(st, 1, f->sku);
	(void)sqlite3_bind_int(st, 2, f->version);
	(void)sqlite3_bind_int(st, 3, f->unit_ml);
	(void)sqlite3_bind_int(st, 4, f->density_mg_ml);
	(void)bind_text(st, 5, f->note);
	(void)sqlite3_bind_int64(st, 6, f->created_at);
	rc = exec(s, st, "add formula", err);
	for (size_t i = 0; !rc && i < f->n; i++) {
		st = stmt(s, ST_FORMULA_LINE_ADD);
		(void)bind_text(st, 1, f->sku);
		(void)sqlite3_bind_int(st, 2, f->version);
		(void)sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		(void)bind_text(st, 4, f->lines[i].ingredient);
		(void)sqlite3_bind_int(st, 5, f->lines[i].milli);
		rc = exec(s, st, "add formula line", err);
	}
	return rc;
}

static int fill_formula(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct formula *f = row;

	f->version = sqlite3_column_int(st, 1);
	f->unit_ml = sqlite3_column_int(st, 2);
	f->density_mg_ml = sqlite3_column_int(st, 3);
	f->created_at = sqlite3_column_int64(st, 5);
	return col_text(a, st, 0, &f->sku) || col_text_opt(a, st, 4, &f->note)
		       ? -1
		       : 0;
}

static int fill_formula_line(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct formula_line *l = row;

	l->milli = sqlite3_column_int(st, 1);
	return col_text(a, st, 0, &l->ingredient);
}

static int sqlite_formula_get(struct uow *u, const char *sku, int32_t version,
			      struct arena *a, struct formula **out,
			      struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_FORMULA_GET);
	struct formula_line *lines = NULL;
	size_t n = 0;
	bool own;
	int rc = read_begin(s, &own, err);

	if (rc)
		return rc;
	(void)bind_text(st, 1, sku);
	(void)sqlite3_bind_int(st, 2, version);
	rc = read_all(s,
		      &(const struct row_reader){st, sizeof(**out),
						 fill_formula, "read formula"},
		      a, (void **)out, &n, err);
	if (!rc && !n)
		rc = err_set(err, SC_ENOTFOUND, "'%s' has no %s formula", sku,
			     version > 0 ? "such" : "");
	if (!rc) {
		st = stmt(s, ST_FORMULA_LINES);
		(void)bind_text(st, 1, sku);
		(void)sqlite3_bind_int(st, 2, (*out)->version);
		rc = read_all(s,
			      &(const struct row_reader){st, sizeof(*lines),
							 fill_formula_line,
							 "read formula"},
			      a, (void **)&lines, &n, err);
		(*out)->lines = lines;
		(*out)->n = n;
	}
	read_end(s, own);
	return rc;
}

static int sqlite_formula_activate(struct uow *u,
				   const struct formula_change *c,
				   struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_FORMULA_ACTIVATE);
	int rc;

	(void)bind_text(st, 1, c->sku);
	(void)sqlite3_bind_int(st, 2, c->to_version);
	rc = exec(s, st, "activate formula", err);
	if (rc)
		return rc;
	st = stmt(s, ST_FORMULA_LOG_ADD);
	(void)bind_text(st, 1, c->sku);
	(void)sqlite3_bind_int(st, 2, c->from_version);
	(void)sqlite3_bind_int(st, 3, c->to_version);
	(void)bind_text(st, 4, c->actor);
	(void)bind_text(st, 5, c->reason);
	bind_opt_int(st, 6, c->survey_id ? c->survey_id : -1);
	(void)sqlite3_bind_int64(st, 7, c->at);
	return exec(s, st, "log formula change", err);
}

static int fill_change(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct formula_change *c = row;

	c->from_version = sqlite3_column_int(st, 1);
	c->to_version = sqlite3_column_int(st, 2);
	c->survey_id = sqlite3_column_int64(st, 5);
	c->at = sqlite3_column_int64(st, 6);
	return col_text(a, st, 0, &c->sku) || col_text(a, st, 3, &c->actor) ||
			       col_text_opt(a, st, 4, &c->reason)
		       ? -1
		       : 0;
}

static int sqlite_formula_log(struct uow *u, const char *sku, struct arena *a,
			      struct formula_change **out, size_t *n_out,
			      struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_FORMULA_LOG);

	(void)bind_text(st, 1, sku);
	return read_all(s,
			&(const struct row_reader){st, sizeof(**out),
						   fill_change,
						   "read formula log"},
			a, (void **)out, n_out, err);
}

static int sqlite_survey_add(struct uow *u, const struct survey *sv,
			     int64_t *id_out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_SURVEY_ADD);
	int64_t id;
	int rc;

	(void)bind_text(st, 1, sv->sku);
	(void)bind_text(st, 2, sv->name);
	(void)sqlite3_bind_int64(st, 3, sv->created_at);
	rc = exec(s, st, "add survey", err);
	id = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; !rc && i < sv->n; i++) {
		st = stmt(s, ST_VARIANT_ADD);
		(void)sqlite3_bind_int64(st, 1, id);
		(void)sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		(void)bind_text(st, 3, sv->variants[i].label);
		(void)sqlite3_bind_int(st, 4, sv->variants[i].formula_version);
		rc = exec(s, st, "add survey variant", err);
	}
	if (!rc)
		*id_out = id;
	return rc;
}

static int fill_survey(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct survey *sv = row;

	sv->created_at = sqlite3_column_int64(st, 2);
	return col_text(a, st, 0, &sv->sku) || col_text(a, st, 1, &sv->name)
		       ? -1
		       : 0;
}

static int fill_tally(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct variant_tally *t = row;

	t->formula_version = sqlite3_column_int(st, 1);
	t->responses = sqlite3_column_int64(st, 2);
	t->answered = sqlite3_column_int64(st, 3);
	t->accepted = sqlite3_column_int64(st, 4);
	t->rated = sqlite3_column_int64(st, 5);
	t->rating_sum = sqlite3_column_int64(st, 6);
	t->rating_sumsq = sqlite3_column_int64(st, 7);
	return col_text(a, st, 0, &t->label);
}

static int sqlite_survey_get(struct uow *u, int64_t id, const char *segment,
			     struct arena *a, struct survey **out,
			     struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_SURVEY_GET);
	size_t n = 0;
	bool own;
	int rc = read_begin(s, &own, err);

	if (rc)
		return rc;
	(void)sqlite3_bind_int64(st, 1, id);
	rc = read_all(s,
		      &(const struct row_reader){st, sizeof(**out), fill_survey,
						 "read survey"},
		      a, (void **)out, &n, err);
	if (!rc && !n)
		rc = err_set(err, SC_ENOTFOUND, "unknown survey %lld",
			     (long long)id);
	if (!rc) {
		(*out)->id = id;
		st = stmt(s, ST_SURVEY_TALLY);
		(void)sqlite3_bind_int64(st, 1, id);
		(void)bind_text(st, 2, segment);
		rc = read_all(s,
			      &(const struct row_reader){
				      st, sizeof(*(*out)->variants), fill_tally,
				      "tally survey"},
			      a, (void **)&(*out)->variants, &(*out)->n, err);
	}
	read_end(s, own);
	return rc;
}

static int sqlite_responses_add(struct uow *u, int64_t id,
				const struct survey_response *r, size_t n,
				struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	int rc = SC_OK;

	for (size_t i = 0; !rc && i < n; i++) {
		sqlite3_stmt *st = stmt(s, ST_RESPONSE_ADD);

		(void)sqlite3_bind_int64(st, 1, id);
		(void)sqlite3_bind_int(st, 2, r[i].variant_idx);
		(void)bind_text(st, 3, r[i].respondent);
		bind_opt_int(st, 4, r[i].accepted);
		bind_opt_int(st, 5, r[i].rating ? r[i].rating : -1);
		(void)bind_text(st, 6, r[i].segment);
		rc = exec(s, st, "add response", err);
	}
	return rc;
}

static int sqlite_demand_add(struct uow *u, const struct demand_entry *e,
			     struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_DEMAND_ADD);

	(void)sqlite3_bind_int(st, 1, e->day);
	(void)bind_text(st, 2, e->sku);
	(void)bind_text(st, 3, e->segment ? e->segment : "");
	(void)sqlite3_bind_int(st, 4, (int)e->outcome);
	(void)sqlite3_bind_int64(st, 5, e->units);
	(void)sqlite3_bind_int64(st, 6, e->lines);
	return exec(s, st, "add demand", err);
}

static int fill_demand(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct demand_row *d = row;

	d->bucket = sqlite3_column_int(st, 1);
	for (int k = 0; k < DEMAND__OUTCOMES; k++) {
		d->units[k] = sqlite3_column_int64(st, 3 + k);
		d->lines[k] = sqlite3_column_int64(st, 6 + k);
	}
	return col_text(a, st, 0, &d->sku) ||
			       col_text_opt(a, st, 2, &d->segment)
		       ? -1
		       : 0;
}

static int sqlite_demand(struct uow *u, const struct demand_query *q,
			 struct arena *a, struct demand_row **out,
			 size_t *n_out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_DEMAND);

	(void)sqlite3_bind_int(st, 1, q->from_day);
	(void)sqlite3_bind_int(st, 2, q->to_day);
	(void)sqlite3_bind_int(st, 3, q->bucket);
	(void)sqlite3_bind_int(st, 4, q->by_segment);
	(void)bind_text(st, 5, q->sku);
	return read_all(s,
			&(const struct row_reader){st, sizeof(**out),
						   fill_demand, "read demand"},
			a, (void **)out, n_out, err);
}

static const struct analytics_ops sqlite_analytics_ops = {
	.ingredient_put = sqlite_ingredient_put,
	.ingredients = sqlite_ingredients,
	.formula_add = sqlite_formula_add,
	.formula_get = sqlite_formula_get,
	.formula_activate = sqlite_formula_activate,
	.formula_log = sqlite_formula_log,
	.survey_add = sqlite_survey_add,
	.survey_get = sqlite_survey_get,
	.responses_add = sqlite_responses_add,
	.demand_add = sqlite_demand_add,
	.demand = sqlite_demand,
};

/* ---- cinema cue tracks (issue 16) ----------------------------------- */

static int sqlite_track_add(struct uow *u, const struct track_record *t,
			    int64_t *id_out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_TRACK_ADD);
	int rc;

	(void)bind_text(st, 1, t->title);
	(void)bind_text(st, 2, t->content_hash);
	(void)sqlite3_bind_int64(st, 3, t->cues);
	(void)sqlite3_bind_int64(st, 4, t->created_at);
	(void)bind_text(st, 5, t->body);
	rc = exec(s, st, "add track", err);
	if (!rc)
		*id_out = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static int fill_track(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct track_record *t = row;

	t->id = sqlite3_column_int64(st, 0);
	t->cues = sqlite3_column_int64(st, 3);
	t->created_at = sqlite3_column_int64(st, 4);
	return col_text(a, st, 1, &t->title) ||
			       col_text_opt(a, st, 2, &t->content_hash) ||
			       col_text_opt(a, st, 5, &t->body)
		       ? -1
		       : 0;
}

static int sqlite_track_get(struct uow *u, int64_t id, struct arena *a,
			    struct track_record **out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_TRACK_GET);
	size_t n = 0;
	int rc;

	(void)sqlite3_bind_int64(st, 1, id);
	rc = read_all(s,
		      &(const struct row_reader){st, sizeof(**out), fill_track,
						 "read track"},
		      a, (void **)out, &n, err);
	if (!rc && !n)
		rc = err_set(err, SC_ENOTFOUND, "unknown track %lld",
			     (long long)id);
	return rc;
}

static int sqlite_track_list(struct uow *u, struct arena *a,
			     struct track_record **out, size_t *n_out,
			     struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);

	return read_all(s,
			&(const struct row_reader){stmt(s, ST_TRACK_LIST),
						   sizeof(**out), fill_track,
						   "read tracks"},
			a, (void **)out, n_out, err);
}

/* ---- venues, cartridges and shows (issue 16) ------------------------ */

static void bind_cartridge(sqlite3_stmt *st, int64_t venue,
			   const struct cartridge_row *c)
{
	(void)sqlite3_bind_int64(st, 1, venue);
	(void)sqlite3_bind_int(st, 2, c->row);
	(void)sqlite3_bind_int(st, 3, c->seat);
	(void)sqlite3_bind_int(st, 4, c->slot);
	(void)bind_text(st, 5, c->sku);
	(void)bind_text(st, 6, c->batch);
	(void)sqlite3_bind_int64(st, 7, c->level_ul);
}

static int sqlite_venue_add(struct uow *u, const struct venue_record *v,
			    int64_t *id_out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_VENUE_ADD);
	int rc;

	(void)bind_text(st, 1, v->name);
	(void)sqlite3_bind_int64(st, 2, v->capacity_ul);
	(void)sqlite3_bind_int64(st, 3, v->alert_below_ul);
	(void)sqlite3_bind_int64(st, 4, v->refill_unit_ul);
	(void)sqlite3_bind_int64(st, 5, v->created_at);
	(void)bind_text(st, 6, v->body);
	rc = exec(s, st, "add venue", err);
	if (!rc)
		*id_out = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; !rc && i < v->n_cartridges; i++) {
		st = stmt(s, ST_CARTRIDGE_ADD);
		bind_cartridge(st, *id_out, &v->cartridges[i]);
		rc = exec(s, st, "add cartridge", err);
	}
	return rc;
}

static int fill_venue(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct venue_record *v = row;

	v->id = sqlite3_column_int64(st, 0);
	v->capacity_ul = sqlite3_column_int64(st, 2);
	v->alert_below_ul = sqlite3_column_int64(st, 3);
	v->refill_unit_ul = sqlite3_column_int64(st, 4);
	v->version = sqlite3_column_int64(st, 5);
	v->created_at = sqlite3_column_int64(st, 6);
	return col_text(a, st, 1, &v->name) || col_text_opt(a, st, 7, &v->body)
		       ? -1
		       : 0;
}

static int fill_cartridge(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct cartridge_row *c = row;

	c->row = sqlite3_column_int(st, 0);
	c->seat = sqlite3_column_int(st, 1);
	c->slot = sqlite3_column_int(st, 2);
	c->level_ul = sqlite3_column_int64(st, 5);
	return col_text(a, st, 3, &c->sku) || col_text_opt(a, st, 4, &c->batch)
		       ? -1
		       : 0;
}

static int sqlite_venue_get(struct uow *u, int64_t id, struct arena *a,
			    struct venue_record **out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_VENUE_GET);
	size_t n = 0;
	int rc;

	(void)sqlite3_bind_int64(st, 1, id);
	rc = read_all(s,
		      &(const struct row_reader){st, sizeof(**out), fill_venue,
						 "read venue"},
		      a, (void **)out, &n, err);
	if (!rc && !n)
		return err_set(err, SC_ENOTFOUND, "unknown venue %lld",
			       (long long)id);
	if (rc)
		return rc;
	st = stmt(s, ST_CARTRIDGES);
	(void)sqlite3_bind_int64(st, 1, id);
	return read_all(
		s,
		&(const struct row_reader){st, sizeof(*(*out)->cartridges),
					   fill_cartridge, "read cartridges"},
		a, (void **)&(*out)->cartridges, &(*out)->n_cartridges, err);
}

static int sqlite_venue_list(struct uow *u, struct arena *a,
			     struct venue_record **out, size_t *n_out,
			     struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);

	return read_all(s,
			&(const struct row_reader){stmt(s, ST_VENUE_LIST),
						   sizeof(**out), fill_venue,
						   "read venues"},
			a, (void **)out, n_out, err);
}

static int sqlite_venue_change(struct uow *u, const struct venue_change *c,
			       struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_VENUE_BUMP);
	int rc;

	(void)sqlite3_bind_int64(st, 1, c->id);
	(void)sqlite3_bind_int64(st, 2, c->version);
	rc = exec(s, st, "update venue", err);
	if (!rc && sqlite3_changes(s->db) != 1)
		rc = err_set(err, SC_ECONFLICT,
			     "venue %lld changed concurrently",
			     (long long)c->id);
	for (size_t i = 0; !rc && i < c->n_rows; i++) {
		const struct cartridge_row *r = &c->rows[i];

		st = stmt(s, ST_CARTRIDGE_SET);
		bind_cartridge(st, c->id, r);
		rc = exec(s, st, "update cartridge", err);
		if (!rc && sqlite3_changes(s->db) != 1)
			rc = err_set(err, SC_ENOTFOUND,
				     "venue %lld has no cartridge at %c%d "
				     "slot %d",
				     (long long)c->id, 'A' + r->row,
				     (int)r->seat, (int)r->slot);
	}
	return rc;
}

static int sqlite_show_add(struct uow *u, const struct show_record *sh,
			   int64_t *id_out, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_SHOW_ADD);
	int rc;

	(void)sqlite3_bind_int64(st, 1, sh->venue_id);
	if (sh->track_id)
		(void)sqlite3_bind_int64(st, 2, sh->track_id);
	else
		(void)sqlite3_bind_null(st, 2);
	(void)sqlite3_bind_int64(st, 3, sh->played_at);
	(void)sqlite3_bind_int64(st, 4, sh->fires);
	(void)sqlite3_bind_int64(st, 5, sh->acked);
	(void)sqlite3_bind_int64(st, 6, sh->missed);
	(void)sqlite3_bind_int64(st, 7, sh->seat_releases);
	rc = exec(s, st, "add show", err);
	if (!rc)
		*id_out = sqlite3_last_insert_rowid(s->db);
	for (size_t i = 0; !rc && i < sh->n_used; i++) {
		st = stmt(s, ST_SHOW_USE_ADD);
		(void)sqlite3_bind_int64(st, 1, *id_out);
		(void)bind_text(st, 2, sh->used[i].sku);
		(void)bind_text(st, 3,
				sh->used[i].batch ? sh->used[i].batch : "");
		(void)sqlite3_bind_int64(st, 4, sh->used[i].ul);
		rc = exec(s, st, "add show use", err);
	}
	return rc;
}

static int fill_show(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct show_record *sh = row;

	(void)a;
	sh->id = sqlite3_column_int64(st, 0);
	sh->venue_id = sqlite3_column_int64(st, 1);
	sh->track_id = sqlite3_column_int64(st, 2); /* NULL: 0 */
	sh->played_at = sqlite3_column_int64(st, 3);
	sh->fires = sqlite3_column_int64(st, 4);
	sh->acked = sqlite3_column_int64(st, 5);
	sh->missed = sqlite3_column_int64(st, 6);
	sh->seat_releases = sqlite3_column_int64(st, 7);
	return 0;
}

static int fill_use(sqlite3_stmt *st, struct arena *a, void *row)
{
	struct consumption_row *c = row;

	c->ul = sqlite3_column_int64(st, 2);
	return col_text(a, st, 0, &c->sku) || col_text_opt(a, st, 1, &c->batch)
		       ? -1
		       : 0;
}

static int sqlite_show_list(struct uow *u, int64_t venue_id, struct arena *a,
			    struct show_record **out, size_t *n_out,
			    struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = stmt(s, ST_SHOW_LIST);
	int rc;

	(void)sqlite3_bind_int64(st, 1, venue_id);
	rc = read_all(s,
		      &(const struct row_reader){st, sizeof(**out), fill_show,
						 "read shows"},
		      a, (void **)out, n_out, err);
	for (size_t i = 0; !rc && i < *n_out; i++) {
		struct consumption_row *used = NULL;

		st = stmt(s, ST_SHOW_USES);
		(void)sqlite3_bind_int64(st, 1, (*out)[i].id);
		rc = read_all(s,
			      &(const struct row_reader){st, sizeof(*used),
							 fill_use,
							 "read show use"},
			      a, (void **)&used, &(*out)[i].n_used, err);
		(*out)[i].used = used;
	}
	return rc;
}

static const struct dispensing_ops sqlite_dispensing_ops = {
	.track_add = sqlite_track_add,
	.track_get = sqlite_track_get,
	.track_list = sqlite_track_list,
	.venue_add = sqlite_venue_add,
	.venue_get = sqlite_venue_get,
	.venue_list = sqlite_venue_list,
	.venue_change = sqlite_venue_change,
	.show_add = sqlite_show_add,
	.show_list = sqlite_show_list,
};

static const struct delivery_ops sqlite_delivery_ops = {
	.contact = sqlite_contact,
	.add = sqlite_delivery_add,
	.claim = sqlite_delivery_claim,
	.finish = sqlite_delivery_finish,
	.list = sqlite_delivery_list,
	.replay = sqlite_delivery_replay,
};

static void sqlite_free(struct uow *u)
{
	struct sqlite_uow *s = to_sqlite_uow(u);

	sqlite_rollback(u);
	for (size_t i = 0; i < ST__COUNT; i++)
		(void)sqlite3_finalize(s->stmts[i]);
	(void)sqlite3_close(s->db);
	mem_free(s);
}

/*
 * A command inside a batch (service/writer.c) is a savepoint of the
 * batch's transaction: its failure undoes only its own writes.
 */
static int sqlite_savepoint(struct uow *u, struct sc_err *err)
{
	return exec_simple(to_sqlite_uow(u), ST_SAVEPOINT, err);
}

static int sqlite_release(struct uow *u, struct sc_err *err)
{
	return exec_simple(to_sqlite_uow(u), ST_RELEASE, err);
}

static void sqlite_rollback_to(struct uow *u)
{
	struct sqlite_uow *s = to_sqlite_uow(u);

	/* a full disk may have ended the whole transaction already */
	if (sqlite3_get_autocommit(s->db))
		return;
	(void)exec_simple(s, ST_ROLLBACK_TO, NULL);
	(void)exec_simple(s, ST_RELEASE, NULL);
}

static bool sqlite_batch_alive(struct uow *u)
{
	return !sqlite3_get_autocommit(to_sqlite_uow(u)->db);
}

static const struct uow_tx_ops sqlite_tx_ops = {
	.name = "sqlite",
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.free = sqlite_free,
	.batch_begin = sqlite_begin,
	.savepoint = sqlite_savepoint,
	.release = sqlite_release,
	.rollback_to = sqlite_rollback_to,
	.batch_alive = sqlite_batch_alive,
	.batch_commit = sqlite_batch_commit,
	.wait_durable = sqlite_wait_durable,
	.batch_rollback = sqlite_rollback,
};

static const struct product_repo_ops sqlite_product_ops = {
	.get = sqlite_get,
	.sku_of_batch = sqlite_sku_of_batch,
	.add_product = sqlite_add_product,
	.bump_version = sqlite_bump_version,
	.add_batch = sqlite_add_batch,
	.set_batch_totals = sqlite_set_batch_totals,
	.add_line = sqlite_add_line,
	.remove_line = sqlite_remove_line,
	.add_backorder = sqlite_add_backorder,
	.set_low_stock = sqlite_set_low_stock,
	.remove_backorder = sqlite_remove_backorder,
};

static const struct outbox_ops sqlite_outbox_ops = {
	.add = sqlite_outbox_add,
	.claim = sqlite_outbox_claim,
	.mark = sqlite_outbox_mark,
	.pending = sqlite_outbox_pending,
	.stats = sqlite_outbox_stats,
};

static const struct query_ops sqlite_query_ops = {
	.allocations = sqlite_allocations,
	.product_lines = sqlite_product_lines,
	.read_product = sqlite_read_product,
	.list_products = sqlite_list_products,
	.research_round = sqlite_research_round,
	.research_history = sqlite_research_history,
	.token_list = sqlite_token_list,
	.customer_get = sqlite_customer_get,
	.aged_backorders = sqlite_aged_backorders,
};

static const struct record_ops sqlite_record_ops = {
	.research_add = sqlite_research_add,
	.token_add = sqlite_token_add,
	.token_revoke = sqlite_token_revoke,
	.customer_add = sqlite_customer_add,
	.order_customer_set = sqlite_order_customer_set,
	.backorder_alerted = sqlite_backorder_alerted,
};

static const struct admin_ops sqlite_admin_ops = {
	.ping = sqlite_ping,
	.probe_write = sqlite_probe_write,
	.stats = sqlite_stats,
	.check = sqlite_check,
	.backup = sqlite_backup,
};

/* mkdir -p of the directory part of @path. */
static int make_parent_dirs(const char *path, struct sc_err *err)
{
	char dir[4096];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return err_set(err, SC_EINVAL, "database path too long");
	memcpy(dir, path, n + 1);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return err_set(err, SC_EIO, "cannot create '%s': %s",
				       dir, strerror(errno));
		*p = '/';
	}
	return SC_OK;
}

/* Apply every migration newer than the file's user_version. */
static int migrate(struct sqlite_uow *s, struct sc_err *err)
{
	sqlite3_stmt *st;
	int version = 0, rc;
	char *msg = NULL;

	rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
					NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc, "migrate", err);
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	(void)sqlite3_finalize(st);
	if (version > SQLITE_SCHEMA_VERSION) {
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return err_set(err, SC_EIO,
			       "database schema %d is newer than this "
			       "program's %d",
			       version, SQLITE_SCHEMA_VERSION);
	}
	for (; version < SQLITE_SCHEMA_VERSION; version++) {
		char pragma[64];

		(void)snprintf(pragma, sizeof(pragma),
			       "PRAGMA user_version = %d", version + 1);
		rc = sqlite3_exec(s->db, migrations[version], NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(s->db, pragma, NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			err_set(err, SC_EIO, "migration %d: %s", version + 1,
				msg ? msg : "failed");
			sqlite3_free(msg);
			(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return SC_EIO;
		}
	}
	rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	return rc == SQLITE_OK ? SC_OK : fail(s, rc, "migrate", err);
}

/* Pragmas; then either migrate (@migrate_only) or prepare statements. */
static int configure(struct sqlite_uow *s, const struct sqlite_options *opt,
		     bool migrate_only, struct sc_err *err)
{
	char sql[256];
	int rc;

	(void)sqlite3_busy_timeout(s->db, opt->busy_timeout_ms);
	(void)snprintf(sql, sizeof(sql),
		       "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;"
		       " PRAGMA foreign_keys = ON;"
		       " PRAGMA journal_size_limit = 67108864;",
		       opt->synchronous_full && !opt->group_commit ? "FULL"
								   : "NORMAL");
	rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc, "configure", err);
	if (migrate_only)
		return migrate(s, err);
	for (size_t i = 0; !rc && i < ST__COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->stmts[i],
				       NULL) != SQLITE_OK)
			rc = fail(s, SQLITE_ERROR, "prepare", err);
	return rc;
}

/*
 * After each commit, on the committing thread (SQLite holds the
 * connection): wake the checkpointer once the WAL is long enough.  Only
 * a flag and a signal, so a commit never waits for a checkpoint.
 */
static int wal_hook(void *ctx, sqlite3 *conn, const char *name, int frames)
{
	struct sqlite_db *db = ctx;

	int copied = atomic_load(&db->ckpt_copied);

	(void)conn;
	(void)name;
	if (copied > frames) /* the WAL started over */
		copied = 0;
	if (frames - copied < db->opt.checkpoint_frames)
		return SQLITE_OK;
	(void)pthread_mutex_lock(&db->ckpt_lock);
	if (!db->ckpt_due) {
		db->ckpt_due = true;
		(void)pthread_cond_signal(&db->ckpt_wake);
	}
	(void)pthread_mutex_unlock(&db->ckpt_lock);
	return SQLITE_OK;
}

/*
 * The checkpointer, in two steps.  PASSIVE copies the bulk while the
 * writer goes on: it never waits for a lock.  But a WAL only starts over
 * when a transaction begins after a checkpoint has copied all of it, and
 * a busy writer always begins its next batch before the checkpoint ends:
 * with PASSIVE alone the WAL grew without end (the contract test
 * the_wal_is_checkpointed_in_the_background caught it).  So once the WAL
 * is CKPT_RESTART_TIMES x checkpoint_frames long, holding the process's
 * write lock (writers of this process wait on the mutex, not in SQLite's
 * sleeping busy handler), RESTART copies the frames committed since the
 * last round and makes the next writer start the WAL over.  That pause
 * is a small copy and two fsyncs (WAL, then database, whose pages were
 * written back just before: checkpoint_round), 2-4 ms measured, so it
 * comes once per 16 000 frames, not once per 2 000.  A RESTART that
 * meets a reader for longer than busy_restart allows, or a failure (disk
 * full), is left to the next round, as SQLite's own autocheckpoint
 * leaves it: the WAL keeps every commit meanwhile.
 */
/* Frames a PASSIVE round may leave for the next one. */
#define CKPT_LEFT_FRAMES 64

/* RESTART once the WAL is this many times checkpoint_frames long. */
#define CKPT_RESTART_TIMES 8

static int busy_restart(void *ctx, int tries)
{
	(void)ctx;
	if (tries >= 50) /* 5 ms: readers here are short */
		return 0;
	(void)nanosleep(&(struct timespec){0, 100000}, NULL);
	return 1;
}

/*
 * PASSIVE rounds until few frames are left to copy (the writer commits
 * meanwhile).  Returns the WAL's length in frames.
 */
static int catch_up(struct sqlite_db *db)
{
	int log = 0, copied = 0;

	for (int round = 0; round < 4; round++) {
		if (sqlite3_wal_checkpoint_v2(db->ckpt_db, NULL,
					      SQLITE_CHECKPOINT_PASSIVE, &log,
					      &copied) != SQLITE_OK)
			break;
		atomic_store(&db->ckpt_copied, copied);
		if (log - copied < CKPT_LEFT_FRAMES)
			break;
	}
	return log;
}

/*
 * fsync() the database file through SQLite's own file object, as
 * sync_wal does the WAL, so that a VFS below sees it.  Best effort: it
 * only moves work out of the RESTART's pause; SQLite syncs again there.
 */
static void sync_db_file(sqlite3 *c)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(c, "main", SQLITE_FCNTL_FILE_POINTER, &f) ==
		    SQLITE_OK &&
	    f && f->pMethods)
		(void)f->pMethods->xSync(f, SQLITE_SYNC_NORMAL |
						    SQLITE_SYNC_DATAONLY);
}

/* One round of the checkpointer (see above); @restart: RESTART anyway. */
static void checkpoint_round(struct sqlite_db *db, bool restart)
{
	(void)pthread_mutex_lock(&db->ckpt_run);
	/* 64 bits: checkpoint_frames may be anything an int holds */
	if (catch_up(db) >=
		    (int64_t)CKPT_RESTART_TIMES * db->opt.checkpoint_frames ||
	    restart) {
		/*
		 * SQLite syncs the database only when a checkpoint copies
		 * the whole WAL, which under load only the RESTART does:
		 * every page the PASSIVE rounds wrote was then written back
		 * inside the pause, 5.5 ms on average and up to 12 ms with
		 * the writer waiting (p99 10.5 ms at 64 connections).  So
		 * sync them before taking the lock, and copy what came
		 * meanwhile: the pause keeps only the last few frames.
		 */
		sync_db_file(db->ckpt_db);
		(void)catch_up(db);
		(void)pthread_mutex_lock(&db->write_lock);
		(void)sqlite3_wal_checkpoint_v2(db->ckpt_db, NULL,
						SQLITE_CHECKPOINT_RESTART, NULL,
						NULL);
		(void)pthread_mutex_unlock(&db->write_lock);
		atomic_store(&db->ckpt_copied, 0);
	}
	atomic_fetch_add(&db->n_ckpt, 1);
	(void)pthread_mutex_unlock(&db->ckpt_run);
}

void sqlite_db_checkpoint(struct sqlite_db *db, bool restart)
{
	if (db->ckpt_db)
		checkpoint_round(db, restart);
}

static void *checkpointer(void *arg)
{
	struct sqlite_db *db = arg;

	thread_name("scents-ckpt");
	(void)pthread_mutex_lock(&db->ckpt_lock);
	for (;;) {
		while (!db->ckpt_due && !db->ckpt_stop)
			(void)pthread_cond_wait(&db->ckpt_wake, &db->ckpt_lock);
		if (db->ckpt_stop)
			break;
		db->ckpt_due = false;
		(void)pthread_mutex_unlock(&db->ckpt_lock);
		checkpoint_round(db, false);
		(void)pthread_mutex_lock(&db->ckpt_lock);
	}
	(void)pthread_mutex_unlock(&db->ckpt_lock);
	return NULL;
}

/*
 * Start the checkpointer on its own connection.  Without it (it cannot
 * open), connections keep SQLite's autocheckpoint: slower, still right.
 * synchronous=NORMAL is what makes a checkpoint fsync the database before
 * the WAL may start over; with OFF the power-loss test loses acknowledged
 * allocations at once (tried: "acknowledged order-0 lost").
 */
static void start_checkpointer(struct sqlite_db *db)
{
	sqlite3 *c = NULL;

	if (sqlite3_open_v2(db->path, &c,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK ||
	    sqlite3_exec(c, "PRAGMA synchronous = NORMAL;", NULL, NULL, NULL) !=
		    SQLITE_OK) {
		log_msg(LOG_WARN,
			"event=checkpointer error=\"%s\" using=autocheckpoint",
			c ? sqlite3_errmsg(c) : "out of memory");
		(void)sqlite3_close_v2(c);
		return;
	}
	(void)sqlite3_busy_handler(c, busy_restart, NULL);
	db->ckpt_db = c;
	if (pthread_create(&db->ckpt_tid, NULL, checkpointer, db)) {
		db->ckpt_db = NULL;
		(void)sqlite3_close_v2(c);
	}
}

/* A connection to @path; with @migrate_only, migrate and prepare nothing. */
static int connect(struct sqlite_db *shared, bool migrate_only,
		   struct sqlite_uow **out, struct sc_err *err)
{
	struct sqlite_uow *s = mem_calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return err_set(err, SC_ENOMEM, "out of memory");
	s->base.tx = &sqlite_tx_ops;
	s->base.products = &sqlite_product_ops;
	s->base.outbox = &sqlite_outbox_ops;
	s->base.queries = &sqlite_query_ops;
	s->base.records = &sqlite_record_ops;
	s->base.admin = &sqlite_admin_ops;
	s->base.deliveries = &sqlite_delivery_ops;
	s->base.analytics = &sqlite_analytics_ops;
	s->base.dispensing = &sqlite_dispensing_ops;
	s->shared = shared;
	rc = sqlite3_open_v2(shared->path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		err_set(err, SC_EIO, "cannot open '%s': %s", shared->path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		rc = SC_EIO;
	} else {
		rc = configure(s, &shared->opt, migrate_only, err);
	}
	if (rc) {
		sqlite_free(&s->base);
		return rc;
	}
	/* replaces SQLite's autocheckpoint, itself a WAL hook */
	if (shared->ckpt_db)
		(void)sqlite3_wal_hook(s->db, wal_hook, shared);
	*out = s;
	return SC_OK;
}

void sqlite_db_close(struct sqlite_db *db)
{
	if (!db)
		return;
	if (db->ckpt_db) {
		(void)pthread_mutex_lock(&db->ckpt_lock);
		db->ckpt_stop = true;
		(void)pthread_cond_signal(&db->ckpt_wake);
		(void)pthread_mutex_unlock(&db->ckpt_lock);
		(void)pthread_join(db->ckpt_tid, NULL);
		(void)sqlite3_close_v2(db->ckpt_db);
	}
	(void)pthread_mutex_destroy(&db->ckpt_lock);
	(void)pthread_mutex_destroy(&db->ckpt_run);
	(void)pthread_cond_destroy(&db->ckpt_wake);
	(void)pthread_mutex_destroy(&db->write_lock);
	(void)pthread_mutex_destroy(&db->sync_lock);
	(void)pthread_cond_destroy(&db->synced);
	mem_free(db->path);
	mem_free(db);
}

uint64_t sqlite_db_checkpoints(struct sqlite_db *db)
{
	return atomic_load(&db->n_ckpt);
}

void sqlite_db_stats(struct sqlite_db *db, uint64_t *commits, uint64_t *syncs)
{
	(void)pthread_mutex_lock(&db->sync_lock);
	*commits = db->committed;
	*syncs = db->n_syncs;
	(void)pthread_mutex_unlock(&db->sync_lock);
}

/*
 * SQLite's allocations go through common/mem.c like ours (conventions
 * B4), so out-of-memory loops reach inside SQLite too.  SQLite asks for
 * each block's size (xSize): it is kept in a 16-byte header, which keeps
 * the alignment malloc gives.
 */
#define SQ_HEAD 16

static void *sq_malloc(int n)
{
	unsigned char *b = n > 0 ? mem_alloc((size_t)n + SQ_HEAD) : NULL;

	if (!b)
		return NULL;
	memcpy(b, &n, sizeof(n));
	return b + SQ_HEAD;
}

static void sq_free(void *p)
{
	if (p)
		mem_free((unsigned char *)p - SQ_HEAD);
}

static void *sq_realloc(void *p, int n)
{
	unsigned char *b;

	if (!p)
		return sq_malloc(n);
	if (n <= 0)
		return NULL; /* SQLite never asks: it frees instead */
	b = mem_realloc((unsigned char *)p - SQ_HEAD, (size_t)n + SQ_HEAD);
	if (!b)
		return NULL;
	memcpy(b, &n, sizeof(n));
	return b + SQ_HEAD;
}

static int sq_size(void *p)
{
	int n = 0;

	if (p)
		memcpy(&n, (unsigned char *)p - SQ_HEAD, sizeof(n));
	return n;
}

static int sq_roundup(int n)
{
	return (n + 7) & ~7;
}

static int sq_init(void *ctx)
{
	(void)ctx;
	return SQLITE_OK;
}

static void sq_shutdown(void *ctx)
{
	(void)ctx;
}

static void use_project_allocator(void)
{
	static const sqlite3_mem_methods methods = {
		sq_malloc,  sq_free, sq_realloc,  sq_size,
		sq_roundup, sq_init, sq_shutdown, NULL};

	/* before SQLite initialises; SQLITE_MISUSE after, and harmless */
	(void)sqlite3_config(SQLITE_CONFIG_MALLOC, &methods);
	/*
	 * No memory statistics: SQLite keeps them under one process-wide
	 * mutex taken on every allocation, and nothing here reads them (no
	 * sqlite3_memory_used, no soft heap limit).  The writer's CPU per
	 * allocation fell 18.7 -> 16.8 us (bench/writer_alone, 256 clients,
	 * three runs each, alternated).
	 */
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int sqlite_db_open(const char *path, const struct sqlite_options *opt,
		   struct sqlite_db **out, struct sc_err *err)
{
	static pthread_once_t allocator_once = PTHREAD_ONCE_INIT;
	struct sqlite_db *db;
	struct sqlite_uow *probe = NULL;
	int rc;

	(void)pthread_once(&allocator_once, use_project_allocator);
	if (opt->must_exist && access(path, F_OK))
		return err_set(err, SC_ENOTFOUND,
			       "no database at '%s' (nothing stored yet?)",
			       path);
	rc = opt->must_exist ? SC_OK : make_parent_dirs(path, err);
	if (rc)
		return rc;
	db = mem_calloc(1, sizeof(*db));
	if (!db || !(db->path = mem_strdup(path))) {
		mem_free(db);
		return err_set(err, SC_ENOMEM, "out of memory");
	}
	db->opt = *opt;
	db->group = opt->synchronous_full && opt->group_commit;
	atomic_init(&db->was_full, false);
	(void)pthread_mutex_init(&db->write_lock, NULL);
	(void)pthread_mutex_init(&db->sync_lock, NULL);
	(void)pthread_cond_init(&db->synced, NULL);
	(void)pthread_mutex_init(&db->ckpt_lock, NULL);
	(void)pthread_mutex_init(&db->ckpt_run, NULL);
	(void)pthread_cond_init(&db->ckpt_wake, NULL);
	atomic_init(&db->n_ckpt, 0);
	atomic_init(&db->ckpt_copied, 0);
	rc = connect(db, true, &probe, err);
	if (rc) {
		sqlite_db_close(db);
		return rc;
	}
	sqlite_free(&probe->base);
	if (opt->checkpoint_frames > 0) /* migrated: the file is there */
		start_checkpointer(db);
	*out = db;
	return SC_OK;
}

int sqlite_uow_set_cache(struct uow *u, int kib, struct sc_err *err)
{
	struct sqlite_uow *s = to_sqlite_uow(u);
	sqlite3_stmt *st = NULL;
	char sql[64];
	int now = 0;

	if (kib <= 0)
		return err_set(err, SC_EINVAL, "cache size %d KiB", kib);
	(void)snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "PRAGMA cache_size", -1, &st, NULL) !=
		    SQLITE_OK)
		return fail(s, SQLITE_ERROR, "cache size", err);
	if (sqlite3_step(st) == SQLITE_ROW)
		now = sqlite3_column_int(st, 0);
	(void)sqlite3_finalize(st);
	return now == -kib
		       ? SC_OK
		       : err_set(err, SC_EIO, "sqlite kept cache_size %d", now);
}

int sqlite_uow_new(struct sqlite_db *db, struct uow **out, struct sc_err *err)
{
	struct sqlite_uow *s = NULL;
	int rc = connect(db, false, &s, err);

	if (!rc)
		*out = &s->base;
	return rc;
}

/*
 * adapters/postgres/pg_uow.c - product repository, outbox, queries and
 * records on one PostgreSQL connection per unit of work.
 *
 * Everything goes through statements prepared once per connection
 * (PQprepare on connect) with text parameters: nothing user-supplied is
 * ever spliced into SQL.  Errors are mapped by SQLSTATE at one place,
 * fail(): serialization failures and deadlocks are SC_ECONFLICT, so the
 * bus retries them; a lost connection is SC_EIO (503 to HTTP clients) and
 * the next call reconnects.
 */
#include "adapters/postgres/pg_uow.h"

#include <assert.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/analytics_sql.h"
#include "common/arena.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/util.h"
#include "domain/model.h"
#include "domain/sourcing.h"
#include "service/uow.h"

/* Migration N brings scents_schema.version from N-1 to N. */
static const char *const migrations[] = {
	/*
	 * 1: the schema of SQLite's 1..5, in PostgreSQL's types.  Keys sort
	 * as bytes (COLLATE "C"), as SQLite's do, so paging by sku and
	 * every listing come out the same on both stores.
	 */
	"CREATE TABLE products ("
	" id BIGSERIAL PRIMARY KEY,"
	" sku TEXT COLLATE \"C\" NOT NULL UNIQUE,"
	" version_number BIGINT NOT NULL);"
	"CREATE TABLE batches ("
	" id BIGSERIAL PRIMARY KEY,"
	" reference TEXT COLLATE \"C\" NOT NULL UNIQUE,"
	" product_id BIGINT NOT NULL REFERENCES products(id),"
	" purchased_quantity BIGINT NOT NULL"
	"  CHECK (purchased_quantity BETWEEN 0 AND 1000000000),"
	" allocated_quantity BIGINT NOT NULL"
	"  CHECK (allocated_quantity BETWEEN 0 AND purchased_quantity),"
	" eta INTEGER,"
	" supplier TEXT CHECK (supplier IN ('cheap', 'expensive')));"
	"CREATE INDEX batches_by_product ON batches(product_id, id);"
	"CREATE TABLE allocations ("
	" id BIGSERIAL PRIMARY KEY,"
	" batch_id BIGINT NOT NULL REFERENCES batches(id),"
	" orderid TEXT NOT NULL,"
	" sku TEXT NOT NULL,"
	" qty BIGINT NOT NULL CHECK (qty >= 1),"
	" UNIQUE (orderid, sku));"
	"CREATE INDEX allocations_by_batch ON allocations(batch_id, id);"
	/* the read model: its own table, keyed by order (docs/scaling.md) */
	"CREATE TABLE allocations_view ("
	" orderid TEXT COLLATE \"C\" NOT NULL,"
	" sku TEXT COLLATE \"C\" NOT NULL,"
	" batchref TEXT NOT NULL,"
	" PRIMARY KEY (orderid, sku));"
	"CREATE TABLE outbox ("
	" id BIGSERIAL PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" orderid TEXT,"
	" sku TEXT NOT NULL,"
	" qty BIGINT,"
	" batchref TEXT,"
	" created_at BIGINT NOT NULL"
	"  DEFAULT extract(epoch FROM now())::bigint,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" sent_at BIGINT,"
	" lease_until BIGINT);"
	"CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL;"
	"CREATE TABLE research_rounds ("
	" id BIGSERIAL PRIMARY KEY,"
	" day INTEGER NOT NULL,"
	" threshold_bp INTEGER NOT NULL CHECK (threshold_bp BETWEEN 0 AND"
	" 10000),"
	" created_at BIGINT NOT NULL"
	"  DEFAULT extract(epoch FROM now())::bigint);"
	"CREATE TABLE research_rows ("
	" round_id BIGINT NOT NULL REFERENCES research_rounds(id),"
	" seq INTEGER NOT NULL,"
	" sku TEXT NOT NULL,"
	" scent TEXT NOT NULL,"
	" expensive_bp INTEGER NOT NULL,"
	" cheap_bp INTEGER NOT NULL,"
	" expensive_cost_cents BIGINT NOT NULL,"
	" cheap_cost_cents BIGINT NOT NULL,"
	" respondents BIGINT NOT NULL,"
	" supplier TEXT NOT NULL CHECK (supplier IN ('cheap', 'expensive')),"
	" unit_cost_cents BIGINT NOT NULL,"
	" saving_cents BIGINT NOT NULL,"
	" ci_low_pct DOUBLE PRECISION,"
	" ci_high_pct DOUBLE PRECISION,"
	" significant BOOLEAN NOT NULL,"
	" PRIMARY KEY (sku, round_id),"
	" UNIQUE (round_id, seq));"
	"CREATE TABLE api_tokens ("
	" name TEXT COLLATE \"C\" PRIMARY KEY,"
	" scopes INTEGER NOT NULL CHECK (scopes BETWEEN 1 AND 15),"
	" hash BYTEA NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" created_at BIGINT NOT NULL,"
	" revoked_at BIGINT);",
	/* 2: order lines waiting for stock (SQLite's 7), filled oldest first */
	"CREATE TABLE backorders ("
	" id BIGSERIAL PRIMARY KEY,"
	" orderid TEXT COLLATE \"C\" NOT NULL,"
	" sku TEXT COLLATE \"C\" NOT NULL,"
	" qty BIGINT NOT NULL CHECK (qty >= 1),"
	" created_at BIGINT NOT NULL"
	"  DEFAULT extract(epoch FROM now())::bigint,"
	" UNIQUE (orderid, sku));"
	"CREATE INDEX backorders_by_sku ON backorders(sku, id);",
	/* 3: customers and their notices (SQLite's 8) */
	"CREATE TABLE customers ("
	" id TEXT COLLATE \"C\" PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" email TEXT,"
	" webhook_url TEXT,"
	" secret BYTEA CHECK (secret IS NULL OR length(secret) = 32),"
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE order_customers ("
	" orderid TEXT COLLATE \"C\" PRIMARY KEY,"
	" customer TEXT COLLATE \"C\" NOT NULL REFERENCES customers(id));"
	"CREATE TABLE deliveries ("
	" id BIGSERIAL PRIMARY KEY,"
	" customer TEXT COLLATE \"C\" NOT NULL REFERENCES customers(id),"
	" channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),"
	" target TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" orderid TEXT NOT NULL,"
	" sku TEXT NOT NULL,"
	" qty BIGINT,"
	" batchref TEXT,"
	" state TEXT NOT NULL DEFAULT 'pending'"
	"  CHECK (state IN ('pending', 'delivered', 'dead')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at_ms BIGINT NOT NULL DEFAULT 0,"
	" lease_until BIGINT,"
	" last_error TEXT,"
	" created_at BIGINT NOT NULL"
	"  DEFAULT extract(epoch FROM now())::bigint,"
	" delivered_at BIGINT);"
	"CREATE INDEX deliveries_due ON deliveries(next_at_ms)"
	" WHERE state = 'pending';",
	/* 4: the low-stock threshold (SQLite's 9) */
	"ALTER TABLE products ADD COLUMN low_stock BIGINT NOT NULL DEFAULT 0"
	" CHECK (low_stock BETWEEN 0 AND 1000000000);",
	/* 5: when the stock team was told a backorder waits (SQLite's 10) */
	"ALTER TABLE backorders ADD COLUMN alerted_at BIGINT;",
	/* 6: a notice's batch ETA (SQLite's 11) */
	"ALTER TABLE deliveries ADD COLUMN eta INTEGER;",
	/* 7: formulas, surveys and the demand rollup (SQLite's 12) */
	"CREATE TABLE ingredients ("
	" name TEXT COLLATE \"C\" PRIMARY KEY,"
	" cas TEXT,"
	" max_milli INTEGER CHECK (max_milli BETWEEN 0 AND 100000),"
	" price_cheap BIGINT CHECK (price_cheap >= 0),"
	" price_expensive BIGINT CHECK (price_expensive >= 0));"
	"CREATE TABLE formulas ("
	" sku TEXT COLLATE \"C\" NOT NULL,"
	" version INTEGER NOT NULL CHECK (version >= 1),"
	" unit_ml INTEGER NOT NULL,"
	" density INTEGER NOT NULL,"
	" note TEXT,"
	" created_at BIGINT NOT NULL,"
	" PRIMARY KEY (sku, version));"
	"CREATE TABLE formula_lines ("
	" sku TEXT COLLATE \"C\" NOT NULL,"
	" version INTEGER NOT NULL,"
	" pos INTEGER NOT NULL,"
	" ingredient TEXT COLLATE \"C\" NOT NULL"
	"  REFERENCES ingredients(name),"
	" milli INTEGER NOT NULL CHECK (milli BETWEEN 1 AND 100000),"
	" PRIMARY KEY (sku, version, pos));"
	"CREATE TABLE formula_active ("
	" sku TEXT COLLATE \"C\" PRIMARY KEY,"
	" version INTEGER NOT NULL);"
	"CREATE TABLE formula_log ("
	" id BIGSERIAL PRIMARY KEY,"
	" sku TEXT COLLATE \"C\" NOT NULL,"
	" from_version INTEGER NOT NULL,"
	" to_version INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" reason TEXT,"
	" survey_id BIGINT,"
	" at BIGINT NOT NULL);"
	"CREATE INDEX formula_log_by_sku ON formula_log(sku, id);"
	"CREATE TABLE surveys ("
	" id BIGSERIAL PRIMARY KEY,"
	" sku TEXT COLLATE \"C\" NOT NULL,"
	" name TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE survey_variants ("
	" survey_id BIGINT NOT NULL REFERENCES surveys(id),"
	" idx INTEGER NOT NULL,"
	" label TEXT NOT NULL,"
	" formula_version INTEGER NOT NULL,"
	" PRIMARY KEY (survey_id, idx));"
	"CREATE TABLE survey_responses ("
	" survey_id BIGINT NOT NULL,"
	" variant INTEGER NOT NULL,"
	" respondent TEXT COLLATE \"C\" NOT NULL,"
	" accepted SMALLINT CHECK (accepted IN (0, 1)),"
	" rating SMALLINT CHECK (rating BETWEEN 1 AND 5),"
	" segment TEXT,"
	" PRIMARY KEY (survey_id, variant, respondent));"
	"CREATE TABLE demand ("
	" day INTEGER NOT NULL,"
	" sku TEXT COLLATE \"C\" NOT NULL,"
	" segment TEXT COLLATE \"C\" NOT NULL DEFAULT '',"
	" outcome SMALLINT NOT NULL CHECK (outcome BETWEEN 0 AND 2),"
	" units BIGINT NOT NULL,"
	" lines BIGINT NOT NULL,"
	" PRIMARY KEY (day, sku, segment, outcome));"
	"ALTER TABLE customers ADD COLUMN segment TEXT;",
	/* 8: cinema cue tracks (SQLite's 13) */
	"CREATE TABLE tracks ("
	" id BIGSERIAL PRIMARY KEY,"
	" title TEXT NOT NULL,"
	" content_hash TEXT,"
	" cues BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" body TEXT NOT NULL);",
	/* 9: venues, cartridges, shows (SQLite's 14) */
	"CREATE TABLE venues ("
	" id BIGSERIAL PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" capacity_ul BIGINT NOT NULL CHECK (capacity_ul > 0),"
	" alert_below_ul BIGINT NOT NULL,"
	" refill_unit_ul BIGINT NOT NULL CHECK (refill_unit_ul > 0),"
	" version BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" body TEXT NOT NULL);"
	"CREATE TABLE cartridges ("
	" venue_id BIGINT NOT NULL REFERENCES venues (id),"
	" row INTEGER NOT NULL,"
	" seat INTEGER NOT NULL,"
	" slot INTEGER NOT NULL,"
	" sku TEXT NOT NULL,"
	" batch TEXT,"
	" level_ul BIGINT NOT NULL CHECK (level_ul >= 0),"
	" PRIMARY KEY (venue_id, row, seat, slot));"
	"CREATE TABLE shows ("
	" id BIGSERIAL PRIMARY KEY,"
	" venue_id BIGINT NOT NULL REFERENCES venues (id),"
	" track_id BIGINT,"
	" played_at BIGINT NOT NULL,"
	" fires BIGINT NOT NULL,"
	" acked BIGINT NOT NULL,"
	" missed BIGINT NOT NULL,"
	" seat_releases BIGINT NOT NULL);"
	"CREATE INDEX shows_by_venue ON shows (venue_id, id);"
	"CREATE TABLE show_use ("
	" show_id BIGINT NOT NULL REFERENCES shows (id),"
	" sku TEXT NOT NULL,"
	" batch TEXT NOT NULL DEFAULT '',"
	" ul BIGINT NOT NULL CHECK (ul >= 0),"
	" PRIMARY KEY (show_id, sku, batch));",
};

static_assert(ARRAY_SIZE(migrations) == PG_SCHEMA_VERSION,
	      "one migration per schema version");

/* Any constant would do: it only has to be the same in every server. */
#define MIGRATION_LOCK_KEY "7300111"

#define NOW_S "extract(epoch FROM now())::bigint"

/* The decimal text of a numeric macro, for SQL written at compile time. */
#define TEXT_OF_(x) #x
#define TEXT_OF(x)  TEXT_OF_(x)

/* Columns of a research row as research_row_of() reads them. */
#define RESEARCH_COLS                                                          \
	"round_id, sku, scent, expensive_bp, cheap_bp, expensive_cost_cents,"  \
	" cheap_cost_cents, respondents, supplier, unit_cost_cents,"           \
	" saving_cents, ci_low_pct, ci_high_pct, significant"

/* Columns of a customer as customer_of() reads them. */
#define CUSTOMER_COLS                                                          \
	"id, name, email, webhook_url, secret, created_at, segment"

/* Columns of the analytics rows (issue 15), as their readers take them. */
#define INGREDIENT_COLS "name, cas, max_milli, price_cheap, price_expensive"
#define FORMULA_COLS	"sku, version, unit_ml, density, note, created_at"
#define CHANGE_COLS                                                            \
	"sku, from_version, to_version, actor, reason, survey_id, at"

/* Columns of a delivery as delivery_of() reads them (then the secret). */
#define DELIVERY_COLS                                                          \
	"id, customer, channel, target, kind, orderid, sku, qty, batchref,"    \
	" attempts, created_at, state, next_at_ms, last_error, eta"

enum stmt {
	ST_PRODUCT,
	ST_PRODUCT_LOCK,
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
	ST_UPSERT_VIEW,
	ST_DELETE_VIEW,
	ST_VIEW,
	ST_LIST,
	ST_OUTBOX_ADD,
	ST_OUTBOX_PENDING,
	ST_OUTBOX_CLAIM,
	ST_OUTBOX_SENT,
	ST_OUTBOX_FAILED,
	ST_OUTBOX_STATS,
	ST_ROUND_ADD,
	ST_ROUND_ROW_ADD,
	ST_ROUND_BY_ID,
	ST_ROUND_ROWS,
	ST_SKU_HISTORY,
	ST_TOKEN_ADD,
	ST_TOKEN_REVOKE,
	ST_TOKEN_LIST,
	ST_PROBE_WRITE,
	ST_SIZE,
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

static const char *const stmt_sql[] = {
	[ST_PRODUCT] = "SELECT id, version_number, low_stock FROM products"
		       " WHERE sku = $1",
	[ST_PRODUCT_LOCK] = "SELECT id, version_number, low_stock FROM products"
			    " WHERE sku = $1 FOR UPDATE",
	[ST_BATCHES] = "SELECT reference, purchased_quantity,"
		       " allocated_quantity, eta, supplier FROM batches"
		       " WHERE product_id = $1 ORDER BY id",
	[ST_ORDER_LINES] = "SELECT b.reference, a.qty FROM allocations a"
			   " JOIN batches b ON b.id = a.batch_id"
			   " WHERE a.orderid = $1 AND a.sku = $2",
	[ST_BATCH_LINES] = "SELECT a.orderid, a.qty FROM allocations a"
			   " JOIN batches b ON b.id = a.batch_id"
			   " WHERE b.reference = $1 ORDER BY a.id",
	[ST_SKU_OF_BATCH] = "SELECT p.sku FROM batches b"
			    " JOIN products p ON p.id = b.product_id"
			    " WHERE b.reference = $1",
	[ST_INSERT_PRODUCT] = "INSERT INTO products (sku, version_number)"
			      " VALUES ($1, $2)",
	[ST_BUMP_PRODUCT] = "UPDATE products SET version_number = $1"
			    " WHERE sku = $2 AND version_number = $3",
	[ST_INSERT_BATCH] = "INSERT INTO batches (reference, product_id,"
			    " purchased_quantity, allocated_quantity, eta,"
			    " supplier) SELECT $1, id, $2, $3, $4, $6"
			    " FROM products WHERE sku = $5",
	[ST_UPDATE_BATCH] = "UPDATE batches SET purchased_quantity = $1,"
			    " allocated_quantity = $2, eta = $4"
			    " WHERE reference = $3",
	[ST_INSERT_LINE] = "INSERT INTO allocations (batch_id, orderid, sku,"
			   " qty) SELECT id, $2, $3, $4 FROM batches"
			   " WHERE reference = $1",
	[ST_DELETE_LINE] = "DELETE FROM allocations"
			   " WHERE orderid = $1 AND sku = $2",
	[ST_UPSERT_VIEW] = "INSERT INTO allocations_view (orderid, sku,"
			   " batchref) VALUES ($1, $2, $3)"
			   " ON CONFLICT (orderid, sku)"
			   " DO UPDATE SET batchref = excluded.batchref",
	[ST_DELETE_VIEW] = "DELETE FROM allocations_view"
			   " WHERE orderid = $1 AND sku = $2",
	[ST_VIEW] = "SELECT sku, batchref, NULL FROM allocations_view"
		    " WHERE orderid = $1 UNION ALL SELECT sku, NULL, qty"
		    " FROM backorders WHERE orderid = $1 ORDER BY 1",
	[ST_LIST] = "SELECT p.sku, COALESCE(SUM(b.purchased_quantity), 0),"
		    " COALESCE(SUM(b.allocated_quantity), 0), COUNT(b.id),"
		    " COALESCE(SUM(CASE WHEN b.eta IS NOT NULL"
		    " THEN b.purchased_quantity END), 0)"
		    " FROM products p LEFT JOIN batches b ON b.product_id ="
		    " p.id WHERE p.sku > $1 GROUP BY p.sku"
		    " ORDER BY p.sku LIMIT $2",
	[ST_OUTBOX_ADD] =
		"INSERT INTO outbox (kind, orderid, sku, qty, batchref)"
		" VALUES ($1, $2, $3, $4, $5)",
	[ST_OUTBOX_PENDING] = "SELECT id, attempts, kind, orderid, sku, qty,"
			      " batchref FROM outbox WHERE sent_at IS NULL"
			      " ORDER BY id LIMIT $1",
	/*
	 * SKIP LOCKED: a claimer never waits for another one; rows being
	 * claimed elsewhere are simply not this claimer's (decision 0011).
	 */
	[ST_OUTBOX_CLAIM] = "UPDATE outbox SET lease_until = " NOW_S " + $2"
			    " WHERE id IN (SELECT id FROM outbox"
			    " WHERE sent_at IS NULL AND (lease_until IS NULL"
			    " OR lease_until <= " NOW_S ")"
			    " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)"
			    " RETURNING id, attempts, kind, orderid, sku, qty,"
			    " batchref",
	[ST_OUTBOX_SENT] = "UPDATE outbox SET sent_at = " NOW_S ","
			   " lease_until = NULL WHERE id = ANY($1::bigint[])"
			   " AND sent_at IS NULL",
	[ST_OUTBOX_FAILED] = "UPDATE outbox SET attempts = attempts + 1,"
			     " lease_until = NULL"
			     " WHERE id = ANY($1::bigint[])",
	[ST_OUTBOX_STATS] = "SELECT COUNT(*), COALESCE(MIN(created_at), 0)"
			    " FROM outbox WHERE sent_at IS NULL",
	[ST_ROUND_ADD] = "INSERT INTO research_rounds (day, threshold_bp)"
			 " VALUES ($1, $2) RETURNING id",
	[ST_ROUND_ROW_ADD] = "INSERT INTO research_rows VALUES ($1, $2, $3,"
			     " $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
			     " $14, $15)",
	[ST_ROUND_BY_ID] = "SELECT id, day, threshold_bp FROM research_rounds"
			   " WHERE $1 = 0 OR id = $1 ORDER BY id DESC LIMIT 1",
	[ST_ROUND_ROWS] = "SELECT " RESEARCH_COLS " FROM research_rows"
			  " WHERE round_id = $1 ORDER BY seq",
	[ST_SKU_HISTORY] = "SELECT " RESEARCH_COLS ", r.day, r.threshold_bp"
			   " FROM research_rows JOIN research_rounds r"
			   " ON r.id = round_id WHERE sku = $1"
			   " ORDER BY round_id DESC LIMIT $2",
	[ST_TOKEN_ADD] = "INSERT INTO api_tokens (name, scopes, hash,"
			 " created_at) VALUES ($1, $2, $3, $4)",
	[ST_TOKEN_REVOKE] = "UPDATE api_tokens SET revoked_at ="
			    " COALESCE(revoked_at, $2) WHERE name = $1",
	[ST_TOKEN_LIST] = "SELECT name, scopes, hash, created_at,"
			  " COALESCE(revoked_at, 0) FROM api_tokens"
			  " ORDER BY name",
	/* a real write of the row it already holds; rolled back */
	[ST_PROBE_WRITE] = "UPDATE scents_schema SET version = version",
	[ST_SIZE] = "SELECT pg_database_size(current_database())",
	[ST_BACKORDERS] = "SELECT orderid, qty FROM backorders WHERE sku = $1"
			  " ORDER BY id",
	[ST_ORDER_BACKORDER] = "SELECT orderid, qty FROM backorders"
			       " WHERE orderid = $1 AND sku = $2",
	[ST_INSERT_BACKORDER] = "INSERT INTO backorders (orderid, sku, qty)"
				" VALUES ($1, $2, $3)",
	[ST_DELETE_BACKORDER] = "DELETE FROM backorders"
				" WHERE orderid = $1 AND sku = $2",
	[ST_CUSTOMER_ADD] = "INSERT INTO customers (id, name, email,"
			    " webhook_url, secret, created_at, segment)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7)",
	[ST_CUSTOMER_GET] = "SELECT " CUSTOMER_COLS " FROM customers"
			    " WHERE id = $1",
	/* FOR UPDATE: two servers naming two customers for one order */
	[ST_ORDER_CUSTOMER] = "SELECT customer FROM order_customers"
			      " WHERE orderid = $1 FOR UPDATE",
	[ST_ORDER_CUSTOMER_ADD] = "INSERT INTO order_customers"
				  " (orderid, customer) VALUES ($1, $2)",
	[ST_CONTACT] = "SELECT " CUSTOMER_COLS " FROM order_customers o"
		       " JOIN customers ON id = o.customer"
		       " WHERE o.orderid = $1",
	[ST_DELIVERY_ADD] = "INSERT INTO deliveries (customer, channel,"
			    " target, kind, orderid, sku, qty, batchref, eta)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	[ST_DELIVERY_CLAIM] =
		"UPDATE deliveries d SET lease_until = " NOW_S " + $3"
		" FROM customers c WHERE c.id = d.customer AND d.id IN"
		" (SELECT id FROM deliveries WHERE state = 'pending'"
		" AND next_at_ms <= $1 AND (lease_until IS NULL"
		" OR lease_until <= " NOW_S ") ORDER BY id LIMIT $2"
		" FOR UPDATE SKIP LOCKED) RETURNING d.id, d.customer,"
		" d.channel, d.target, d.kind, d.orderid, d.sku, d.qty,"
		" d.batchref, d.attempts, d.created_at, d.state,"
		" d.next_at_ms, d.last_error, d.eta, c.secret",
	[ST_DELIVERY_FINISH] = "UPDATE deliveries SET state = $2,"
			       " attempts = $3, next_at_ms = $4,"
			       " last_error = $5, lease_until = NULL,"
			       " delivered_at = CASE WHEN $2 = 'delivered'"
			       " THEN " NOW_S " END WHERE id = $1",
	[ST_DELIVERY_LIST] = "SELECT " DELIVERY_COLS ", NULL FROM deliveries"
			     " WHERE $1::text IS NULL OR state = $1"
			     " ORDER BY id DESC LIMIT $2",
	[ST_DELIVERY_REPLAY] = "UPDATE deliveries SET state = 'pending',"
			       " attempts = 0, next_at_ms = $2,"
			       " last_error = NULL, lease_until = NULL"
			       " WHERE id = $1 AND state = 'dead'",
	[ST_DELIVERY_STATE] = "SELECT state FROM deliveries WHERE id = $1",
	[ST_SET_LOW_STOCK] =
		"UPDATE products SET low_stock = $1 WHERE sku = $2",
	[ST_AGED_BACKORDERS] = "SELECT orderid, sku, qty, created_at"
			       " FROM backorders WHERE created_at <= $1"
			       " AND alerted_at IS NULL ORDER BY id LIMIT $2",
	[ST_BACKORDER_ALERTED] = "UPDATE backorders SET alerted_at = $3"
				 " WHERE orderid = $1 AND sku = $2",
	[ST_INGREDIENT_PUT] = "INSERT INTO ingredients VALUES ($1, $2, $3, $4,"
			      " $5) ON CONFLICT (name) DO UPDATE SET"
			      " cas = excluded.cas,"
			      " max_milli = excluded.max_milli,"
			      " price_cheap = excluded.price_cheap,"
			      " price_expensive = excluded.price_expensive",
	[ST_INGREDIENTS] = "SELECT " INGREDIENT_COLS " FROM ingredients"
			   " ORDER BY name",
	[ST_FORMULA_ADD] = "INSERT INTO formulas VALUES ($1, $2, $3, $4, $5,"
			   " $6)",
	[ST_FORMULA_LINE_ADD] = "INSERT INTO formula_lines VALUES ($1, $2,"
				" $3, $4, $5)",
	[ST_FORMULA_GET] = "SELECT " FORMULA_COLS " FROM formulas"
			   " WHERE sku = $1 AND version = CASE $2::int"
			   " WHEN 0 THEN (SELECT version FROM formula_active"
			   "  WHERE sku = $1)"
			   " WHEN -1 THEN (SELECT max(version) FROM formulas"
			   "  WHERE sku = $1)"
			   " ELSE $2::int END",
	[ST_FORMULA_LINES] = "SELECT ingredient, milli FROM formula_lines"
			     " WHERE sku = $1 AND version = $2 ORDER BY pos",
	[ST_FORMULA_ACTIVATE] = "INSERT INTO formula_active VALUES ($1, $2)"
				" ON CONFLICT (sku) DO UPDATE SET"
				" version = excluded.version",
	[ST_FORMULA_LOG_ADD] = "INSERT INTO formula_log (sku, from_version,"
			       " to_version, actor, reason, survey_id, at)"
			       " VALUES ($1, $2, $3, $4, $5, $6, $7)",
	[ST_FORMULA_LOG] = "SELECT " CHANGE_COLS " FROM formula_log"
			   " WHERE sku = $1 ORDER BY id DESC",
	[ST_SURVEY_ADD] = "INSERT INTO surveys (sku, name, created_at)"
			  " VALUES ($1, $2, $3) RETURNING id",
	[ST_VARIANT_ADD] = "INSERT INTO survey_variants VALUES ($1, $2, $3,"
			   " $4)",
	[ST_SURVEY_GET] = "SELECT sku, name, created_at FROM surveys"
			  " WHERE id = $1",
	[ST_SURVEY_TALLY] = SURVEY_TALLY_SQL("$1::bigint", "$2::text"),
	[ST_RESPONSE_ADD] = "INSERT INTO survey_responses VALUES ($1, $2, $3,"
			    " $4, $5, $6)"
			    " ON CONFLICT (survey_id, variant, respondent)"
			    " DO UPDATE SET accepted = excluded.accepted,"
			    " rating = excluded.rating,"
			    " segment = excluded.segment",
	[ST_DEMAND_ADD] =
		"INSERT INTO demand VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (day, sku, segment, outcome)"
		" DO UPDATE SET units = demand.units + excluded.units,"
		" lines = demand.lines + excluded.lines",
	[ST_DEMAND] = DEMAND_SQL("$1::int", "$2::int", "$3::int", "$4::boolean",
				 "$5::text"),
	[ST_TRACK_ADD] = "INSERT INTO tracks (title, content_hash, cues,"
			 " created_at, body) VALUES ($1, $2, $3, $4, $5)"
			 " RETURNING id",
	[ST_TRACK_GET] = "SELECT id, title, content_hash, cues, created_at,"
			 " body FROM tracks WHERE id = $1",
	[ST_TRACK_LIST] = "SELECT id, title, content_hash, cues, created_at,"
			  " NULL FROM tracks ORDER BY id DESC",
	[ST_PRODUCT_LINES] = "SELECT b.reference, a.orderid, a.qty"
			     " FROM products p JOIN batches b"
			     " ON b.product_id = p.id JOIN allocations a"
			     " ON a.batch_id = b.id WHERE p.sku = $1"
			     " ORDER BY b.id, a.id LIMIT $2",
	[ST_VENUE_ADD] =
		"INSERT INTO venues (name, capacity_ul,"
		" alert_below_ul, refill_unit_ul, version, created_at,"
		" body) VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING id",
	[ST_CARTRIDGE_ADD] = "INSERT INTO cartridges VALUES ($1, $2, $3, $4,"
			     " $5, $6, $7)",
	[ST_VENUE_GET] = "SELECT id, name, capacity_ul, alert_below_ul,"
			 " refill_unit_ul, version, created_at, body"
			 " FROM venues WHERE id = $1",
	[ST_CARTRIDGES] = "SELECT row, seat, slot, sku, batch, level_ul"
			  " FROM cartridges WHERE venue_id = $1"
			  " ORDER BY row, seat, slot",
	[ST_VENUE_LIST] = "SELECT id, name, capacity_ul, alert_below_ul,"
			  " refill_unit_ul, version, created_at, NULL"
			  " FROM venues ORDER BY id DESC",
	[ST_VENUE_BUMP] = "UPDATE venues SET version = version + 1"
			  " WHERE id = $1 AND version = $2",
	[ST_CARTRIDGE_SET] = "UPDATE cartridges SET sku = $5, batch = $6,"
			     " level_ul = $7 WHERE venue_id = $1 AND row = $2"
			     " AND seat = $3 AND slot = $4",
	[ST_SHOW_ADD] = "INSERT INTO shows (venue_id, track_id, played_at,"
			" fires, acked, missed, seat_releases)"
			" VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
	[ST_SHOW_USE_ADD] = "INSERT INTO show_use VALUES ($1, $2, $3, $4)"
			    " ON CONFLICT (show_id, sku, batch)"
			    " DO UPDATE SET ul = show_use.ul + excluded.ul",
	[ST_SHOW_LIST] = "SELECT id, venue_id, track_id, played_at, fires,"
			 " acked, missed, seat_releases FROM shows"
			 " WHERE venue_id = $1 ORDER BY id DESC",
	[ST_SHOW_USES] = "SELECT sku, NULLIF(batch, ''), ul FROM show_use"
			 " WHERE show_id = $1 ORDER BY sku, batch",
};

static_assert(ARRAY_SIZE(stmt_sql) == ST__COUNT, "SQL for every statement");

struct pg_db {
	char *url;		      /* owned; holds the password */
	struct pg_options opt;	      /* as opened */
	atomic_uint_fast64_t commits; /* write transactions committed */
};

struct pg_uow {
	struct uow base;      /* must stay first */
	struct pg_db *shared; /* borrowed */
	PGconn *conn;	      /* NULL until connected, and after a loss */
	bool in_tx;	      /* between BEGIN and COMMIT/ROLLBACK */
	bool lock_load;	      /* the next load_product is for a write */
	bool lost_race;	      /* the last version check failed: the retry
				 locks (PG_LOCK_OPTIMISTIC, decision 0012) */
};

/* Text parameters of one statement, with room to format numbers. */
struct params {
	const char *v[16]; /* the values; NULL is SQL NULL */
	char num[16][24];  /* storage of formatted numbers */
	int n;		   /* values used */
};

static void p_str(struct params *p, const char *s)
{
	p->v[p->n++] = s;
}

static void p_int(struct params *p, int64_t x)
{
	(void)snprintf(p->num[p->n], sizeof(p->num[0]), "%" PRId64, x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

static void p_dbl(struct params *p, double x)
{
	(void)snprintf(p->num[p->n], sizeof(p->num[0]), "%.17g", x);
	p->v[p->n] = p->num[p->n];
	p->n++;
}

/* A constant return, so the analyzer knows every caller's rc is set. */
static int oom(struct sc_err *err)
{
	(void)err_set(err, SC_ENOMEM, "out of memory");
	return SC_ENOMEM;
}

static const struct uow_tx_ops pg_tx_ops;

static struct pg_uow *to_pg(struct uow *u)
{
	assert(u->tx == &pg_tx_ops);
	return container_of(u, struct pg_uow, base);
}

static void disconnect(struct pg_uow *s)
{
	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
	s->in_tx = false;
}

/*
 * Map a failed result (or a NULL one: the connection broke) to our codes,
 * by SQLSTATE.  The server's text goes into the message for the log; the
 * HTTP layer shows clients only a generic 503 for SC_EIO.
 */
static int fail(struct pg_uow *s, PGresult *res, const char *what,
		struct sc_err *err)
{
	const char *state =
		res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *text = res ? PQresultErrorMessage(res)
			       : (s->conn ? PQerrorMessage(s->conn) : "");
	char msg[SC_ERR_MSG_MAX];
	size_t n;

	(void)snprintf(msg, sizeof(msg), "%s", text ? text : "");
	/* libpq's text spans lines; ours is one line (logs, CLI errors) */
	for (char *c = msg; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	n = strlen(msg);
	while (n && msg[n - 1] == ' ')
		msg[--n] = '\0';
	if (!s->conn || PQstatus(s->conn) != CONNECTION_OK || !state ||
	    !strncmp(state, "08", 2) || !strncmp(state, "57P", 3)) {
		/* connection exception or server shutdown: start afresh */
		disconnect(s);
		return err_set(err, SC_EIO, "postgresql %s: %s", what,
			       msg[0] ? msg : "connection lost");
	}
	if (!strcmp(state, "40001") || !strcmp(state, "40P01"))
		return err_set(err, SC_ECONFLICT, "%s: %s", what, msg);
	if (!strcmp(state, "23505")) /* unique: created concurrently */
		return err_set(err, SC_ECONFLICT, "%s: %s", what, msg);
	return err_set(err, SC_EIO, "postgresql %s: %s (%s)", what, msg, state);
}

/*
 * libpq prints the server's NOTICEs on stderr by default ("relation
 * already exists, skipping" at every start): they are not ours to show.
 */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Connect; with @prepare, prepare every statement.  SC_EIO: away. */
static int connect_as(struct pg_uow *s, bool prepare, struct sc_err *err)
{
	char timeout[16];
	const char *keys[] = {"dbname", "connect_timeout", "application_name",
			      NULL};
	const char *vals[] = {s->shared->url, timeout, "scents", NULL};
	PGresult *res;

	(void)snprintf(timeout, sizeof(timeout), "%d",
		       s->shared->opt.connect_timeout_s
			       ? s->shared->opt.connect_timeout_s
			       : 5);
	disconnect(s);
	/* expand_dbname: the URL in "dbname" gives every other setting */
	s->conn = PQconnectdbParams(keys, vals, 1);
	if (!s->conn)
		return err_set(err, SC_ENOMEM, "out of memory");
	if (PQstatus(s->conn) != CONNECTION_OK) {
		int rc = fail(s, NULL, "connect", err);

		return rc;
	}
	(void)PQsetNoticeProcessor(s->conn, quiet, NULL);
	for (size_t i = 0; prepare && i < ST__COUNT; i++) {
		char name[8];

		(void)snprintf(name, sizeof(name), "s%zu", i);
		res = PQprepare(s->conn, name, stmt_sql[i], 0, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			int rc = fail(s, res, "prepare", err);

			PQclear(res);
			disconnect(s);
			return rc;
		}
		PQclear(res);
	}
	return SC_OK;
}

static int connect_now(struct pg_uow *s, struct sc_err *err)
{
	return connect_as(s, true, err);
}

/* A connection for a call outside a transaction: reconnect if it broke. */
static int ensure(struct pg_uow *s, struct sc_err *err)
{
	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return SC_OK;
	if (s->in_tx)
		return err_set(err, SC_EIO,
			       "postgresql: connection lost in a transaction");
	return connect_now(s, err);
}

/*
 * Run prepared statement @which; *@out gets the result (caller clears)
 * when it is rows or a command.  Else the mapped error.
 */
static int run(struct pg_uow *s, enum stmt which, const struct params *p,
	       const char *what, PGresult **out, struct sc_err *err)
{
	char name[8];
	PGresult *res;
	ExecStatusType st;
	int rc = ensure(s, err);

	if (rc)
		return rc;
	(void)snprintf(name, sizeof(name), "s%d", (int)which);
	res = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, NULL,
			     NULL, 0);
	st = PQresultStatus(res);
	if (res && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)) {
		*out = res;
		return SC_OK;
	}
	rc = fail(s, res, what, err);
	PQclear(res);
	return rc;
}

/* Run @which for its effect; *@changed (may be NULL) gets rows touched. */
static int run_cmd(struct pg_uow *s, enum stmt which, const struct params *p,
		   const char *what, long *changed, struct sc_err *err)
{
	PGresult *res = NULL;
	int rc = run(s, which, p, what, &res, err);

	if (!rc && changed)
		*changed = strtol(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return rc;
}

/* A plain SQL command (BEGIN, COMMIT, ROLLBACK). */
static int simple(struct pg_uow *s, const char *sql, struct sc_err *err)
{
	PGresult *res = PQexec(s->conn, sql);
	int rc = PQresultStatus(res) == PGRES_COMMAND_OK
			 ? SC_OK
			 : fail(s, res, sql, err);

	PQclear(res);
	return rc;
}

static int64_t int_at(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Column @col of @row as a copy in @a, NULL for SQL NULL; -1 on OOM. */
static int text_at(const PGresult *r, int row, int col, struct arena *a,
		   const char **out)
{
	*out = NULL;
	if (PQgetisnull(r, row, col))
		return 0;
	*out = arena_strndup(a, PQgetvalue(r, row, col),
			     (size_t)PQgetlength(r, row, col));
	return *out ? 0 : -1;
}

/* ---- transaction core ------------------------------------------------ */

static int pg_begin(struct uow *u, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	int rc = ensure(s, err);

	if (!rc)
		rc = simple(s, "BEGIN", err);
	/*
	 * A connection that broke while idle (the server restarted) is only
	 * found out now; nothing is lost by opening a new one and trying
	 * once more.
	 */
	if (rc == SC_EIO && !s->conn) {
		err_clear(err);
		rc = connect_now(s, err);
		if (!rc)
			rc = simple(s, "BEGIN", err);
	}
	s->in_tx = !rc;
	return rc;
}

static void pg_rollback(struct uow *u)
{
	struct pg_uow *s = to_pg(u);

	if (s->conn && s->in_tx && PQstatus(s->conn) == CONNECTION_OK) {
		PGresult *res = PQexec(s->conn, "ROLLBACK");

		PQclear(res);
	}
	s->in_tx = false;
}

static int pg_commit(struct uow *u, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	int rc = s->conn ? simple(s, "COMMIT", err)
			 : err_set(err, SC_EIO, "postgresql: connection lost");

	if (rc) {
		/* a COMMIT that failed for want of a connection may have
		   happened: the client's retry is idempotent (an equal line
		   answers with its batch) */
		pg_rollback(u);
		return rc;
	}
	s->in_tx = false;
	s->lost_race = false;
	atomic_fetch_add(&s->shared->commits, 1);
	return SC_OK;
}

static void pg_free(struct uow *u)
{
	struct pg_uow *s = to_pg(u);

	pg_rollback(u);
	disconnect(s);
	mem_free(s);
}

/* ---- product repository ---------------------------------------------- */

static int load_batches(struct pg_uow *s, struct product *p, const char *id,
			struct sc_err *err)
{
	struct params q = {0};
	PGresult *r = NULL;
	int rc;

	p_str(&q, id);
	rc = run(s, ST_BATCHES, &q, "load batches", &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		enum supplier supplier = SUPPLIER_NONE;
		bool has_eta = !PQgetisnull(r, i, 3);
		struct batch *b;

		if (!PQgetisnull(r, i, 4))
			(void)supplier_parse(PQgetvalue(r, i, 4), &supplier);
		rc = product_restore_batch(
			p,
			&(struct batch_spec){
				.ref = PQgetvalue(r, i, 0),
				.qty = int_at(r, i, 1),
				.has_eta = has_eta,
				.eta = has_eta ? (int32_t)int_at(r, i, 3) : 0,
				.supplier = supplier},
			int_at(r, i, 2), &b, err);
	}
	PQclear(r);
	return rc;
}

/*
 * Restore stored lines into @p: with @only, every line of that batch
 * (@key is its ref); otherwise the lines of order @key in this product.
 */
static int load_lines(struct pg_uow *s, struct product *p, struct batch *only,
		      const char *key, struct sc_err *err)
{
	struct params q = {0};
	PGresult *r = NULL;
	int rc;

	p_str(&q, key);
	if (!only)
		p_str(&q, p->sku);
	rc = run(s, only ? ST_BATCH_LINES : ST_ORDER_LINES, &q, "load lines",
		 &r, err);
	for (int i = 0; !rc && i < PQntuples(r); i++) {
		const char *c0 = PQgetvalue(r, i, 0);
		struct batch *b = only ? only : product_find_batch(p, c0);

		rc = b ? product_restore_line(p, b, only ? c0 : key,
					      int_at(r, i, 1), err)
		       : err_set(err, SC_EIO,
				 "allocation of a batch not loaded");
	}
	PQclear(r);
	return rc;
}

static int load_hinted(struct pg_uow *s, struct product *p,
		       const struct load_hint *hint, struct sc_err *err)
{
	struct batch *b;
	int rc = SC_OK;

	if (hint && hint->lines_of &&
	    (b = product_find_batch(p, hint->lines_of))) {
		rc = load_lines(s, p, b, hint->lines_of, err);
		b->lines_complete = !rc;
	}
	if (!rc && hint && hint->orderid)
		rc = load_lines(s, p, NULL, hint->orderid, err);
	/* all of the sku's backorders hold the order's one, if any */
	if (!rc && hint && (hint->backorders || hint->orderid)) {
		struct params q = {0};
		PGresult *r = NULL;

		if (!hint->backorders)
			p_str(&q, hint->orderid);
		p_str(&q, p->sku);
		rc = run(s,
			 hint->backorders ? ST_BACKORDERS : ST_ORDER_BACKORDER,
			 &q, "load backorders", &r, err);
		for (int i = 0; !rc && i < PQntuples(r); i++)
			rc = product_restore_backorder(p, PQgetvalue(r, i, 0),
						       int_at(r, i, 1), err);
		PQclear(r);
		p->backorders_complete = !rc && hint->backorders;
	}
	return rc;
}

/*
 * Product @sku into @a.  A load for a write (s->lock_load, set by pg_get
 * with PG_LOCK_ROW) takes the product row's lock first, so the batches
 * read after it are the ones the version check will compare against.
 */
static int load_product(struct pg_uow *s, struct arena *a, const char *sku,
			const struct load_hint *hint, struct product **out,
			struct sc_err *err)
{
	bool lock = s->lock_load;
	struct params q = {0};
	struct product *p = NULL;
	PGresult *r = NULL;
	int rc;

	s->lock_load = false;
	p_str(&q, sku);
	rc = run(s, lock ? ST_PRODUCT_LOCK : ST_PRODUCT, &q, "load product", &r,
		 err);
	if (!rc && PQntuples(r) == 0)
		rc = err_set(err, SC_ENOTFOUND, "unknown sku '%s'", sku);
	if (!rc)
		rc = product_new(a, sku, int_at(r, 0, 1), false, &p, err);
	if (!rc)
		product_restore_low_stock(p, int_at(r, 0, 2));
	if (!rc)
		rc = load_batches(s, p, PQgetvalue(r, 0, 0), err);
	PQclear(r);
	if (!rc)
		rc = load_hinted(s, p, hint, err);
	if (!rc)
		*out = p;
	return rc;
}

static int pg_get(struct uow *u, const char *sku, const struct load_hint *hint,
		  struct product **out, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);

	/* optimistic mode races once; a command that lost queues instead,
	   so a hot sku cannot starve it into a 503 */
	s->lock_load = s->shared->opt.locking == PG_LOCK_ROW || s->lost_race;
	return load_product(s, u->arena, sku, hint, out, err);
}

static int pg_sku_of_batch(struct uow *u, const char *ref, const char **out,
			   struct sc_err *err)
{
	struct params q = {0};
	PGresult *r = NULL;
	int rc;

	p_str(&q, ref);
	rc = run(to_pg(u), ST_SKU_OF_BATCH, &q, "find batch", &r, err);
	if (!rc && PQntuples(r) == 0)
		rc = err_set(err, SC_ENOTFOUND, "unknown batch '%s'", ref);
	else if (!rc && text_at(r, 0, 0, u->arena, out))
		rc = oom(err);
	PQclear(r);
	return rc;
}

static int pg_add_product(struct uow *u, const char *sku, int64_t version,
			  struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, sku);
	p_int(&q, version);
	/* a unique violation maps to SC_ECONFLICT: created concurrently */
	return run_cmd(to_pg(u), ST_INSERT_PRODUCT, &q, "insert product", NULL,
		       err);
}

static int pg_bump_version(struct uow *u, const char *sku, int64_t from,
			   int64_t to, struct sc_err *err)
{
	struct params q = {0};
	long changed = 0;
	int rc;

	p_int(&q, to);
	p_str(&q, sku);
	p_int(&q, from);
	/*
	 * Under READ COMMITTED this UPDATE waits for a concurrent writer of
	 * the row, then re-checks the WHERE on its committed version: the
	 * loser sees 0 rows, never a lost update.
	 */
	rc = run_cmd(to_pg(u), ST_BUMP_PRODUCT, &q, "update product", &changed,
		     err);
	if (!rc && changed != 1) {
		to_pg(u)->lost_race = true;
		rc = err_set(err, SC_ECONFLICT,
			     "product '%s' changed concurrently", sku);
	}
	return rc;
}

static int pg_add_batch(struct uow *u, const char *sku, const struct batch *b,
			struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, b->ref);
	p_int(&q, b->purchased);
	p_int(&q, b->allocated);
	if (b->has_eta)
		p_int(&q, b->eta);
	else
		p_str(&q, NULL);
	p_str(&q, sku);
	p_str(&q,
	      b->supplier != SUPPLIER_NONE ? supplier_name(b->supplier) : NULL);
	return run_cmd(to_pg(u), ST_INSERT_BATCH, &q, "insert batch", NULL,
		       err);
}

static int pg_set_batch_totals(struct uow *u, const struct batch *b,
			       struct sc_err *err)
{
	struct params q = {0};

	p_int(&q, b->purchased);
	p_int(&q, b->allocated);
	p_str(&q, b->ref);
	if (b->has_eta)
		p_int(&q, b->eta);
	else
		p_str(&q, NULL);
	return run_cmd(to_pg(u), ST_UPDATE_BATCH, &q, "update batch", NULL,
		       err);
}

static int pg_add_line(struct uow *u, const char *batchref,
		       const struct order_line *l, struct sc_err *err)
{
	struct params q = {0};
	int rc;

	p_str(&q, batchref);
	p_str(&q, l->orderid);
	p_str(&q, l->sku);
	p_int(&q, l->qty);
	rc = run_cmd(to_pg(u), ST_INSERT_LINE, &q, "insert allocation", NULL,
		     err);
	q.n = 0;
	p_str(&q, l->orderid);
	p_str(&q, l->sku);
	p_str(&q, batchref);
	return rc ? rc
		  : run_cmd(to_pg(u), ST_UPSERT_VIEW, &q,
			    "update allocations_view", NULL, err);
}

static int pg_remove_line(struct uow *u, const struct order_line *l,
			  struct sc_err *err)
{
	struct params q = {0};
	int rc;

	p_str(&q, l->orderid);
	p_str(&q, l->sku);
	rc = run_cmd(to_pg(u), ST_DELETE_LINE, &q, "delete allocation", NULL,
		     err);
	return rc ? rc
		  : run_cmd(to_pg(u), ST_DELETE_VIEW, &q,
			    "update allocations_view", NULL, err);
}

static int pg_aged_backorders(struct uow *u, int64_t before, size_t limit,
			      struct arena *a, struct aged_list *list,
			      struct sc_err *err)
{
	struct aged_backorder **out = &list->items;
	size_t *n_out = &list->n;
	struct params q = {0};
	PGresult *r = NULL;
	struct aged_backorder *rows = NULL;
	int rc, n = 0;

	p_int(&q, before);
	p_int(&q, (int64_t)limit);
	rc = run(to_pg(u), ST_AGED_BACKORDERS, &q, "read aged backorders", &r,
		 err);
	if (!rc && (n = PQntuples(r)) > 0 &&
	    !(rows = arena_calloc(a, (size_t)n, sizeof(*rows))))
		rc = oom(err);
	for (int i = 0; !rc && i < n; i++) {
		rows[i].qty = int_at(r, i, 2);
		rows[i].created_at = int_at(r, i, 3);
		if (text_at(r, i, 0, a, &rows[i].orderid) ||
		    text_at(r, i, 1, a, &rows[i].sku))
			rc = oom(err);
	}
	PQclear(r);
	if (!rc) {
		*out = rows;
		*n_out = (size_t)n;
	}
	return rc;
}

static int pg_backorder_alerted(struct uow *u, const char *orderid,
				const char *sku, int64_t at, struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, orderid);
	p_str(&q, sku);
	p_int(&q, at);
	return run_cmd(to_pg(u), ST_BACKORDER_ALERTED, &q,
		       "mark backorder alerted", NULL, err);
}

static int pg_set_low_stock(struct uow *u, const char *sku, int64_t threshold,
			    struct sc_err *err)
{
	struct params q = {0};

	p_int(&q, threshold);
	p_str(&q, sku);
	return run_cmd(to_pg(u), ST_SET_LOW_STOCK, &q, "set low stock", NULL,
		       err);
}

static int pg_add_backorder(struct uow *u, const struct order_line *l,
			    struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, l->orderid);
	p_str(&q, l->sku);
	p_int(&q, l->qty);
	return run_cmd(to_pg(u), ST_INSERT_BACKORDER, &q, "insert backorder",
		       NULL, err);
}

static int pg_remove_backorder(struct uow *u, const struct order_line *l,
			       struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, l->orderid);
	p_str(&q, l->sku);
	return run_cmd(to_pg(u), ST_DELETE_BACKORDER, &q, "delete backorder",
		       NULL, err);
}

/* ---- outbox ---------------------------------------------------------- */

static int pg_outbox_add(struct uow *u, const struct outbox_row *r,
			 struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, r->kind);
	p_str(&q, r->ev.orderid);
	p_str(&q, r->ev.sku);
	if (r->ev.has_qty)
		p_int(&q, r->ev.qty);
	else
		p_str(&q, NULL);
	p_str(&q, r->ev.batchref);
	return run_cmd(to_pg(u), ST_OUTBOX_ADD, &q, "insert outbox", NULL, err);
}

/* Rows (id, attempts, kind, orderid, sku, qty, batchref) into @out. */
static int outbox_rows_of(const PGresult *r, struct arena *a,
			  struct outbox_rows *out, struct sc_err *err)
{
	int n = PQntuples(r);

	out->n = 0;
	out->items = n ? arena_calloc(a, (size_t)n, sizeof(*out->items)) : NULL;
	if (n && !out->items)
		return oom(err);
	for (int i = 0; i < n; i++) {
		struct outbox_row *o = &out->items[i];

		o->id = int_at(r, i, 0);
		o->attempts = (unsigned)int_at(r, i, 1);
		o->ev.has_qty = !PQgetisnull(r, i, 5);
		o->ev.qty = o->ev.has_qty ? int_at(r, i, 5) : 0;
		if (text_at(r, i, 2, a, &o->kind) ||
		    text_at(r, i, 3, a, &o->ev.orderid) ||
		    text_at(r, i, 4, a, &o->ev.sku) ||
		    text_at(r, i, 6, a, &o->ev.batchref))
			return oom(err);
	}
	out->n = (size_t)n;
	return SC_OK;
}

static int pg_outbox_pending(struct uow *u, size_t limit, struct arena *a,
			     struct outbox_rows *out, struct sc_err *err)
{
	struct params q = {0};
	PGresult *r = NULL;
	int rc;

	p_int(&q, (int64_t)limit);
	rc = run(to_pg(u), ST_OUTBOX_PENDING, &q, "read outbox", &r, err);
	if (!rc)
		rc = outbox_rows_of(r, a, out, err);
	PQclear(r);
	return rc;
}

static int by_id(const void *a, const void *b)
{
	const struct outbox_row *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int pg_outbox_claim(struct uow *u, size_t limit, int lease_s,
			   struct arena *a, struct outbox_rows *out,
			   struct sc_err *err)
{
	struct params q = {0};
	PGresult *r = NULL;
	int rc;

	p_int(&q, (int64_t)limit);
	p_int(&q, lease_s);
	/* one statement: its own transaction */
	rc = run(to_pg(u), ST_OUTBOX_CLAIM, &q, "claim outbox", &r, err);
	if (!rc)
		rc = outbox_rows_of(r, a, out, err);
	PQclear(r);
	/* RETURNING gives no order; delivery goes oldest first */
	if (!rc && out->n > 1)
		qsort(out->items, out->n, sizeof(*out->items), by_id);
	return rc;
}

static int pg_outbox_mark(struct uow *u, const int64_t *ids, size_t n,
			  bool sent, struct sc_err *err)
{
	struct params q = {0};
	char *list = mem_alloc(n * 21 + 3);
	size_t at = 0;
	int rc;

	if (!list)
		return oom(err);
	/* one statement for the whole round: ANY('{1,2,3}'::bigint[]) */
	list[at++] = '{';
	for (size_t i = 0; i < n; i++)
		at += (size_t)snprintf(list + at, 22, "%s%" PRId64,
				       i ? "," : "", ids[i]);
	list[at++] = '}';
	list[at] = '\0';
	p_str(&q, list);
	rc = run_cmd(to_pg(u), sent ? ST_OUTBOX_SENT : ST_OUTBOX_FAILED, &q,
		     "mark outbox", NULL, err);
	mem_free(list);
	return rc;
}

static int pg_outbox_stats(struct uow *u, int64_t *n_out, int64_t *oldest_out,
			   struct sc_err *err)
{
	PGresult *r = NULL;
	int rc = run(to_pg(u), ST_OUTBOX_STATS, NULL, "outbox stats", &r, err);

	if (!rc) {
		*n_out = int_at(r, 0, 0);
		*oldest_out = int_at(r, 0, 1);
	}
	PQclear(r);
	return rc;
}

/* ---- queries --------------------------------------------------------- */

static int pg_allocations(struct uow *u, const char *orderid, struct arena *a,
			  struct allocation_row **out, size_t *n_out,
			  struct sc_err *err)
{
	struct params q = {0};
	struct allocation_row *rows = NULL;
	PGresult *r = NULL;
	int n = 0, rc;

	p_str(&q, orderid);
	rc = run(to_pg(u), ST_VIEW, &q, "read allocations_view", &r, err);
	if (!rc && (n = PQntuples(r)) > 0 &&
	    !(rows = arena_calloc(a, (size_t)n, sizeof(*rows))))
		rc = oom(err);
	for (int i = 0; !rc && i < n; i++)
		if (text_at(r, i, 0, a, &rows[i].sku) ||
		    text_at(r, i, 1, a, &rows[i].batchref))
			rc = oom(err);
		else if (!rows[i].batchref) /* backordered */
			rows[i].qty = int_at(r, i, 2);
	PQclear(r);
	if (!rc) {
		*out = rows;
		*n_out = (size_t)n;
	}
	return rc;
}

/*
 * Outside a transaction a read of several statements gets one snapshot
 * (REPEATABLE READ, read only); inside one it runs in it.
 */
static int read_begin(struct pg_uow *s, bool *own, struct sc_err *err)
{
	int rc;

	*own = !s->in_tx;
	if (!*own)
		return SC_OK;
	rc = ensure(s, err);
	if (!rc)
		rc = simple(s,
			    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
			    err);
	return rc;
}

static void read_end(struct pg_uow *s, bool own)
{
	if (own && s->conn) {
		PGresult *res = PQexec(s->conn, "ROLLBACK");

		PQclear(res);
	}
}

static int pg_read_product(struct uow *u, const char *sku, struct arena *a,
			   struct product **out, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	bool own;
	int rc = read_begin(s, &own, err);

	if (rc)
		return rc;
	rc = load_product(s, a, sku, NULL, out, err);
	read_end(s, own);
	return rc;
}

static int pg_list_products(struct uow *u, const char *after, size_t limit,
			    struct arena *a, struct product_list *out,
			    struct sc_err *err)
{
	struct params q = {0};
	PGresult *r = NULL;
	int n = 0, rc;

	p_str(&q, after);
	p_int(&q, (int64_t)limit);
	rc = run(to_pg(u), ST_LIST, &q, "list products", &r, err);
	out->items = NULL;
	out->n = 0;
	if (!rc && (n = PQntuples(r)) > 0 &&
	    !(out->items = arena_calloc(a, (size_t)n, sizeof(*out->items))))
		rc = oom(err);
	for (int i = 0; !rc && i < n; i++) {
		struct product_summary *p = &out->items[i];

		p->purchased = int_at(r, i, 1);
		p->allocated = int_at(r, i, 2);
		p->n_batches = (size_t)int_at(r, i, 3);
		p->incoming = int_at(r, i, 4);
		if (text_at(r, i, 0, a, &p->sku))
			rc = oom(err);
	}
	if (!rc)
		out->n = (size_t)n;
	PQclear(r);
	return rc;
}

/* Columns @c..@c+13 (RESEARCH_COLS) of row @i into @row and @d. */
static int research_row_of(const PGresult *r, int i, struct arena *a,
			   struct research_row *row, struct decision *d)
{
	memset(row, 0, sizeof(*row));
	memset(d, 0, sizeof(*d));
	if (text_at(r, i, 1, a, &row->sku) || text_at(r, i, 2, a, &row->scent))
		return -1;
	row->expensive_bp = (int32_t)int_at(r, i, 3);
	row->cheap_bp = (int32_t)int_at(r, i, 4);
	row->expensive_cost_cents = int_at(r, i, 5);
	row->cheap_cost_cents = int_at(r, i, 6);
	row->respondents = int_at(r, i, 7);
	(void)supplier_parse(PQgetvalue(r, i, 8), &d->supplier);
	d->unit_cost_cents = int_at(r, i, 9);
	d->saving_cents = int_at(r, i, 10);
	d->has_interval = !PQgetisnull(r, i, 11);
	d->ci_low_pct = strtod(PQgetvalue(r, i, 11), NULL);
	d->ci_high_pct = strtod(PQgetvalue(r, i, 12), NULL);
	d->significant = PQgetvalue(r, i, 13)[0] == 't';
	return 0;
}

static int load_round_rows(struct pg_uow *s, struct research_round *rd,
			   struct arena *a, struct sc_err *err)
{
	struct params q = {0};
	struct research_row *rows = NULL;
	PGresult *r = NULL;
	int n = 0, rc;

	p_int(&q, rd->id);
	rc = run(s, ST_ROUND_ROWS, &q, "read research", &r, err);
	if (!rc && (n = PQntuples(r)) > 0) {
		rows = arena_calloc(a, (size_t)n, sizeof(*rows));
		rd->decisions =
			arena_calloc(a, (size_t)n, sizeof(*rd->decisions));
		if (!rows || !rd->decisions)
			rc = oom(err);
	}
	for (int i = 0; !rc && i < n; i++)
		if (research_row_of(r, i, a, &rows[i], &rd->decisions[i]))
			rc = oom(err);
	PQclear(r);
	rd->rows = rows;
	rd->n = rc ? 0 : (size_t)n;
	return rc;
}

static int pg_research_round(struct uow *u, int64_t id, struct arena *a,
			     struct research_round **out, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct research_round *rd = arena_calloc(a, 1, sizeof(*rd));
	struct params q = {0};
	PGresult *r = NULL;
	bool own;
	int rc;

	if (!rd)
		return oom(err);
	rc = read_begin(s, &own, err);
	if (rc)
		return rc;
	p_int(&q, id);
	rc = run(s, ST_ROUND_BY_ID, &q, "read research", &r, err);
	if (!rc && PQntuples(r) == 0)
		rc = id ? err_set(err, SC_ENOTFOUND,
				  "unknown research round %lld", (long long)id)
			: err_set(err, SC_ENOTFOUND, "no research yet");
	if (!rc) {
		rd->id = int_at(r, 0, 0);
		rd->day = (int32_t)int_at(r, 0, 1);
		rd->threshold_bp = (int32_t)int_at(r, 0, 2);
	}
	PQclear(r);
	if (!rc)
		rc = load_round_rows(s, rd, a, err);
	read_end(s, own);
	if (!rc)
		*out = rd;
	return rc;
}

static int pg_research_history(struct uow *u, const char *sku, size_t limit,
			       struct arena *a, struct sku_history *out,
			       struct sc_err *err)
{
	struct params q = {0};
	PGresult *r = NULL;
	int n = 0, rc;

	p_str(&q, sku);
	p_int(&q, (int64_t)limit);
	rc = run(to_pg(u), ST_SKU_HISTORY, &q, "read research history", &r,
		 err);
	out->items = NULL;
	out->n = 0;
	if (!rc && (n = PQntuples(r)) > 0 &&
	    !(out->items = arena_calloc(a, (size_t)n, sizeof(*out->items))))
		rc = oom(err);
	for (int i = 0; !rc && i < n; i++) {
		struct sku_decision *d = &out->items[i];

		d->round_id = int_at(r, i, 0);
		d->day = (int32_t)int_at(r, i, 14);
		d->threshold_bp = (int32_t)int_at(r, i, 15);
		if (research_row_of(r, i, a, &d->row, &d->decision))
			rc = oom(err);
	}
	if (!rc)
		out->n = (size_t)n;
	PQclear(r);
	return rc;
}

/* bytea's text output, "\x" and hex digits, into @out (@len bytes). */
static bool unhex(const char *s, uint8_t *out, size_t len)
{
	if (strncmp(s, "\\x", 2) != 0 || strlen(s) != 2 + 2 * len)
		return false;
	for (size_t i = 0; i < 2 * len; i++) {
		char c = s[2 + i];
		int v = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
					       : -1;

		if (v < 0)
			return false;
		out[i / 2] = (uint8_t)(i % 2 ? out[i / 2] | v : v << 4);
	}
	return true;
}

static int pg_token_list(struct uow *u, struct arena *a,
			 struct token_record **out, size_t *n_out,
			 struct sc_err *err)
{
	struct token_record *t = NULL;
	PGresult *r = NULL;
	int n = 0,
	    rc = run(to_pg(u), ST_TOKEN_LIST, NULL, "read tokens", &r, err);

	if (!rc && (n = PQntuples(r)) > 0 &&
	    !(t = arena_calloc(a, (size_t)n, sizeof(*t))))
		rc = oom(err);
	for (int i = 0; !rc && i < n; i++) {
		if (text_at(r, i, 0, a, &t[i].name))
			rc = oom(err);
		t[i].scopes = (unsigned)int_at(r, i, 1);
		if (!unhex(PQgetvalue(r, i, 2), t[i].hash, TOKEN_HASH_LEN))
			memset(t[i].hash, 0, TOKEN_HASH_LEN); /* matches none */
		t[i].created_at = int_at(r, i, 3);
		t[i].revoked_at = int_at(r, i, 4);
	}
	PQclear(r);
	if (!rc) {
		*out = t;
		*n_out = (size_t)n;
	}
	return rc;
}

/* Run INSERT ... RETURNING id @which; *@id gets the new row's id. */
static int insert_id(struct pg_uow *s, enum stmt which, const struct params *q,
		     int64_t *id, struct sc_err *err)
{
	PGresult *r = NULL;
	int rc = run(s, which, q, "insert", &r, err);

	if (!rc)
		*id = int_at(r, 0, 0);
	PQclear(r);
	return rc;
}

/* ---- records --------------------------------------------------------- */

static int add_research_row(struct pg_uow *s, const struct research_round *r,
			    int64_t id, size_t i, struct sc_err *err)
{
	const struct research_row *row = &r->rows[i];
	const struct decision *d = &r->decisions[i];
	struct params q = {0};

	p_int(&q, id);
	p_int(&q, (int64_t)i);
	p_str(&q, row->sku);
	p_str(&q, row->scent);
	p_int(&q, row->expensive_bp);
	p_int(&q, row->cheap_bp);
	p_int(&q, row->expensive_cost_cents);
	p_int(&q, row->cheap_cost_cents);
	p_int(&q, row->respondents);
	p_str(&q, supplier_name(d->supplier));
	p_int(&q, d->unit_cost_cents);
	p_int(&q, d->saving_cents);
	if (d->has_interval) {
		p_dbl(&q, d->ci_low_pct);
		p_dbl(&q, d->ci_high_pct);
	} else {
		p_str(&q, NULL);
		p_str(&q, NULL);
	}
	p_str(&q, d->significant ? "true" : "false");
	return run_cmd(s, ST_ROUND_ROW_ADD, &q, "insert research row", NULL,
		       err);
}

static int pg_research_add(struct uow *u, const struct research_round *r,
			   int64_t *id_out, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct params q = {0};
	int64_t id = 0;
	int rc;

	p_int(&q, r->day);
	p_int(&q, r->threshold_bp);
	rc = insert_id(s, ST_ROUND_ADD, &q, &id, err);
	for (size_t i = 0; !rc && i < r->n; i++)
		rc = add_research_row(s, r, id, i, err);
	if (!rc)
		*id_out = id;
	return rc;
}

static int pg_token_add(struct uow *u, const struct token_record *t,
			struct sc_err *err)
{
	char hex[2 + 2 * TOKEN_HASH_LEN + 1] = "\\x";
	struct params q = {0};
	int rc;

	for (size_t i = 0; i < TOKEN_HASH_LEN; i++)
		(void)snprintf(hex + 2 + 2 * i, 3, "%02x", t->hash[i]);
	p_str(&q, t->name);
	p_int(&q, t->scopes);
	p_str(&q, hex);
	p_int(&q, t->created_at);
	rc = run_cmd(to_pg(u), ST_TOKEN_ADD, &q, "add token", NULL, err);
	if (rc == SC_ECONFLICT) /* a unique violation: the name is taken */
		return err_set(err, SC_EEXIST, "token '%s' exists", t->name);
	return rc;
}

static int pg_token_revoke(struct uow *u, const char *name, int64_t at,
			   struct sc_err *err)
{
	struct params q = {0};
	long changed = 0;
	int rc;

	p_str(&q, name);
	p_int(&q, at);
	rc = run_cmd(to_pg(u), ST_TOKEN_REVOKE, &q, "revoke token", &changed,
		     err);
	if (!rc && !changed)
		rc = err_set(err, SC_ENOTFOUND, "no token named '%s'", name);
	return rc;
}

/* ---- admin ----------------------------------------------------------- */

static int pg_ping(struct uow *u, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	PGresult *r;
	int rc = ensure(s, err);

	if (rc)
		return rc;
	r = PQexec(s->conn, "SELECT 1");
	rc = PQresultStatus(r) == PGRES_TUPLES_OK ? SC_OK
						  : fail(s, r, "ping", err);
	PQclear(r);
	return rc;
}

static int pg_probe_write(struct uow *u, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	int rc = pg_begin(u, err);

	if (!rc)
		rc = run_cmd(s, ST_PROBE_WRITE, NULL, "probe", NULL, err);
	pg_rollback(u);
	return rc;
}

static int pg_stats(struct uow *u, struct store_stats *out, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	PGresult *r = NULL;

	(void)err;
	memset(out, 0, sizeof(*out));
	out->commits = atomic_load(&s->shared->commits);
	out->size_bytes = -1;
	/* PostgreSQL makes commits durable itself: no syncs of ours */
	if (!run(s, ST_SIZE, NULL, "size", &r, NULL))
		out->size_bytes = int_at(r, 0, 0);
	PQclear(r);
	return SC_OK;
}

/* The invariants, as queries whose every row is one violation. */
static const char *const check_sql[] = {
	"SELECT format('schema version %s, this program expects %s', version,"
	" " TEXT_OF(PG_SCHEMA_VERSION) ") FROM scents_schema WHERE version"
				       " != " TEXT_OF(PG_SCHEMA_VERSION),
	"SELECT format('batch ''%s'' is over-allocated: %s of %s', reference,"
	" allocated_quantity, purchased_quantity) FROM batches"
	" WHERE allocated_quantity > purchased_quantity",
	"SELECT format('batch ''%s'' records %s allocated but its lines sum"
	" to %s', b.reference, b.allocated_quantity, COALESCE(SUM(a.qty), 0))"
	" FROM batches b LEFT JOIN allocations a ON a.batch_id = b.id"
	" GROUP BY b.id HAVING b.allocated_quantity != COALESCE(SUM(a.qty), 0)",
	"SELECT format('read model: order ''%s'' sku ''%s'' shows %s, the"
	" line is in ''%s''', a.orderid, a.sku, COALESCE('''' || v.batchref"
	" || '''', 'nothing'), b.reference) FROM allocations a"
	" JOIN batches b ON b.id = a.batch_id LEFT JOIN allocations_view v"
	" ON v.orderid = a.orderid AND v.sku = a.sku"
	" WHERE v.batchref IS DISTINCT FROM b.reference",
	"SELECT format('read model: order ''%s'' sku ''%s'' shows ''%s'' but"
	" has no such line', v.orderid, v.sku, v.batchref)"
	" FROM allocations_view v LEFT JOIN allocations a"
	" ON a.orderid = v.orderid AND a.sku = v.sku WHERE a.id IS NULL",
	"SELECT format('order ''%s'' sku ''%s'' is both allocated and"
	" backordered', a.orderid, a.sku) FROM allocations a JOIN backorders"
	" w ON w.orderid = a.orderid AND w.sku = a.sku",
	"SELECT format('outbox: no Allocated event for order ''%s'' sku ''%s''"
	" in ''%s''', a.orderid, a.sku, b.reference) FROM allocations a"
	" JOIN batches b ON b.id = a.batch_id WHERE NOT EXISTS (SELECT 1"
	" FROM outbox o WHERE o.kind = 'Allocated' AND o.orderid = a.orderid"
	" AND o.sku = a.sku AND o.batchref = b.reference)",
	ANALYTICS_CHECK_ACTIVE,
	ANALYTICS_CHECK_SUM,
	ANALYTICS_CHECK_VARIANT,
};

/* What can be rebuilt from the source rows (see sqlite_uow.c). */
static const char *const repair_sql[] = {
	"UPDATE products SET version_number = version_number + 1 WHERE id IN"
	" (SELECT product_id FROM batches b WHERE allocated_quantity !="
	" (SELECT COALESCE(SUM(qty), 0) FROM allocations WHERE batch_id ="
	" b.id))",
	"UPDATE batches SET allocated_quantity = t.total FROM (SELECT b.id,"
	" COALESCE(SUM(a.qty), 0) AS total FROM batches b LEFT JOIN"
	" allocations a ON a.batch_id = b.id GROUP BY b.id) t WHERE"
	" t.id = batches.id AND allocated_quantity != t.total AND t.total <="
	" purchased_quantity",
	"DELETE FROM allocations_view v WHERE NOT EXISTS (SELECT 1 FROM"
	" allocations a JOIN batches b ON b.id = a.batch_id WHERE a.orderid ="
	" v.orderid AND a.sku = v.sku AND b.reference = v.batchref)",
	"INSERT INTO allocations_view (orderid, sku, batchref) SELECT"
	" a.orderid, a.sku, b.reference FROM allocations a JOIN batches b ON"
	" b.id = a.batch_id ON CONFLICT (orderid, sku) DO UPDATE SET batchref"
	" = excluded.batchref WHERE allocations_view.batchref !="
	" excluded.batchref",
};

/* Run @sql (no parameters, several statements allowed) into *@out. */
static int exec_sql(struct pg_uow *s, const char *sql, PGresult **out,
		    struct sc_err *err)
{
	PGresult *r = PQexec(s->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		*out = r;
		return SC_OK;
	}
	rc = fail(s, r, "statement", err);
	PQclear(r);
	return rc;
}

static int repair(struct pg_uow *s, size_t *n, struct sc_err *err)
{
	int rc = pg_begin(&s->base, err);

	for (size_t i = 0; !rc && i < ARRAY_SIZE(repair_sql); i++) {
		PGresult *r = NULL;

		rc = exec_sql(s, repair_sql[i], &r, err);
		if (!rc && i) /* version bumps are not repairs themselves */
			*n += strtoul(PQcmdTuples(r), NULL, 10);
		PQclear(r);
	}
	if (!rc)
		rc = pg_commit(&s->base, err);
	pg_rollback(&s->base);
	return rc;
}

static int pg_check(struct uow *u, bool repairing, struct arena *a,
		    struct check_report *out, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	size_t cap = 0;
	bool own = false;
	int rc = SC_OK;

	memset(out, 0, sizeof(*out));
	if (repairing)
		rc = repair(s, &out->n_repaired, err);
	if (!rc) /* one snapshot: every check sees the same state */
		rc = read_begin(s, &own, err);
	for (size_t i = 0; !rc && i < ARRAY_SIZE(check_sql); i++) {
		PGresult *r = NULL;

		rc = exec_sql(s, check_sql[i], &r, err);
		for (int k = 0; !rc && k < PQntuples(r); k++) {
			if (arena_reserve(a, (void **)&out->problems, &cap,
					  out->n_problems + 1,
					  sizeof(char *)) ||
			    text_at(r, k, 0, a,
				    &out->problems[out->n_problems]))
				rc = oom(err);
			else
				out->n_problems++;
		}
		PQclear(r);
		out->n_checked++;
	}
	read_end(s, own);
	return rc;
}

static int pg_backup(struct uow *u, const char *path, struct sc_err *err)
{
	(void)u;
	(void)path;
	return err_set(err, SC_EINVAL,
		       "a PostgreSQL store is backed up with its own tools: "
		       "pg_dump, or base backups with WAL archiving");
}

/* ---- tables and opening ---------------------------------------------- */

static const struct uow_tx_ops pg_tx_ops = {
	.name = "postgresql",
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.free = pg_free,
};

static const struct product_repo_ops pg_product_ops = {
	.get = pg_get,
	.sku_of_batch = pg_sku_of_batch,
	.add_product = pg_add_product,
	.bump_version = pg_bump_version,
	.add_batch = pg_add_batch,
	.set_batch_totals = pg_set_batch_totals,
	.add_line = pg_add_line,
	.remove_line = pg_remove_line,
	.add_backorder = pg_add_backorder,
	.set_low_stock = pg_set_low_stock,
	.remove_backorder = pg_remove_backorder,
};

static const struct outbox_ops pg_outbox_ops = {
	.add = pg_outbox_add,
	.claim = pg_outbox_claim,
	.mark = pg_outbox_mark,
	.pending = pg_outbox_pending,
	.stats = pg_outbox_stats,
};

/* ---- customers and their notices (issue 14) ------------------------- */

/* Row @i of CUSTOMER_COLS into @c (strings in @a); -1 on OOM. */
static int customer_of(const PGresult *r, int i, struct arena *a,
		       struct customer_record *c)
{
	memset(c, 0, sizeof(*c));
	if (!PQgetisnull(r, i, 4) &&
	    !unhex(PQgetvalue(r, i, 4), c->secret, sizeof(c->secret)))
		memset(c->secret, 0, sizeof(c->secret));
	c->created_at = int_at(r, i, 5);
	return text_at(r, i, 0, a, &c->id) || text_at(r, i, 1, a, &c->name) ||
			       text_at(r, i, 2, a, &c->email) ||
			       text_at(r, i, 3, a, &c->webhook_url) ||
			       text_at(r, i, 6, a, &c->segment)
		       ? -1
		       : 0;
}

/* The one customer @which finds by @key, or *@out NULL. */
static int one_customer(struct pg_uow *s, enum stmt which, const char *key,
			struct arena *a, struct customer_record **out,
			struct sc_err *err)
{
	struct params q = {0};
	PGresult *r = NULL;
	int rc;

	*out = NULL;
	p_str(&q, key);
	rc = run(s, which, &q, "read customer", &r, err);
	if (!rc && PQntuples(r) > 0 &&
	    (!(*out = arena_calloc(a, 1, sizeof(**out))) ||
	     customer_of(r, 0, a, *out)))
		rc = oom(err);
	PQclear(r);
	return rc;
}

static int pg_customer_add(struct uow *u, const struct customer_record *c,
			   struct sc_err *err)
{
	char hex[2 + 2 * WEBHOOK_SECRET_LEN + 1] = "\\x";
	struct params q = {0};
	int rc;

	for (size_t i = 0; i < WEBHOOK_SECRET_LEN; i++)
		(void)snprintf(hex + 2 + 2 * i, 3, "%02x", c->secret[i]);
	p_str(&q, c->id);
	p_str(&q, c->name);
	p_str(&q, c->email);
	p_str(&q, c->webhook_url);
	p_str(&q, c->webhook_url ? hex : NULL);
	p_int(&q, c->created_at);
	p_str(&q, c->segment);
	rc = run_cmd(to_pg(u), ST_CUSTOMER_ADD, &q, "add customer", NULL, err);
	if (rc == SC_ECONFLICT) /* a unique violation: the id is taken */
		return err_set(err, SC_EEXIST, "customer '%s' exists", c->id);
	return rc;
}

static int pg_customer_get(struct uow *u, const char *id, struct arena *a,
			   struct customer_record **out, struct sc_err *err)
{
	int rc = one_customer(to_pg(u), ST_CUSTOMER_GET, id, a, out, err);

	if (!rc && !*out)
		rc = err_set(err, SC_ENOTFOUND, "unknown customer '%s'", id);
	return rc;
}

static int pg_contact(struct uow *u, const char *orderid, struct arena *a,
		      struct customer_record **out, struct sc_err *err)
{
	return one_customer(to_pg(u), ST_CONTACT, orderid, a, out, err);
}

static int pg_order_customer_set(struct uow *u, const char *orderid,
				 const char *customer, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct params q = {0};
	PGresult *r = NULL;
	char owner[SC_ID_MAX + 1] = "";
	int rc, n = 0;

	p_str(&q, orderid);
	rc = run(s, ST_ORDER_CUSTOMER, &q, "read order customer", &r, err);
	if (!rc && (n = PQntuples(r)) > 0)
		(void)snprintf(owner, sizeof(owner), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if (rc || n > 0)
		return rc ? rc
		       : !strcmp(owner, customer)
			       ? SC_OK
			       : err_set(err, SC_EEXIST,
					 "order '%s' belongs to customer '%s'",
					 orderid, owner);
	p_str(&q, customer);
	/* a rival's insert of the same order is a conflict: retried */
	return run_cmd(s, ST_ORDER_CUSTOMER_ADD, &q, "add order customer", NULL,
		       err);
}

static int pg_delivery_add(struct uow *u, const struct delivery *d,
			   struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, d->customer);
	p_str(&q, d->channel);
	p_str(&q, d->target);
	p_str(&q, notice_name(d->kind));
	p_str(&q, d->ev.orderid);
	p_str(&q, d->ev.sku);
	if (d->ev.has_qty)
		p_int(&q, d->ev.qty);
	else
		p_str(&q, NULL);
	p_str(&q, d->ev.batchref);
	if (d->has_eta)
		p_int(&q, d->eta);
	else
		p_str(&q, NULL);
	return run_cmd(to_pg(u), ST_DELIVERY_ADD, &q, "add delivery", NULL,
		       err);
}

/* Rows of DELIVERY_COLS then the secret into @out (in @a). */
static int deliveries_of(const PGresult *r, struct arena *a,
			 struct delivery **out, size_t *n_out,
			 struct sc_err *err)
{
	int n = PQntuples(r);
	struct delivery *d = n ? arena_calloc(a, (size_t)n, sizeof(*d)) : NULL;

	if (n && !d)
		return oom(err);
	for (int i = 0; i < n; i++) {
		int k = notice_named(PQgetvalue(r, i, 4));
		int st = notice_state_named(PQgetvalue(r, i, 11));

		d[i].id = int_at(r, i, 0);
		d[i].kind = k < 0 ? NOTICE_ALLOCATED : (enum notice_kind)k;
		d[i].ev.has_qty = !PQgetisnull(r, i, 7);
		d[i].ev.qty = d[i].ev.has_qty ? int_at(r, i, 7) : 0;
		d[i].attempts = (unsigned)int_at(r, i, 9);
		d[i].created_at = int_at(r, i, 10);
		d[i].state = st < 0 ? NOTICE_PENDING : (enum notice_state)st;
		d[i].next_at_ms = int_at(r, i, 12);
		if (!PQgetisnull(r, i, 15) &&
		    !unhex(PQgetvalue(r, i, 15), d[i].secret,
			   sizeof(d[i].secret)))
			memset(d[i].secret, 0, sizeof(d[i].secret));
		d[i].has_eta = !PQgetisnull(r, i, 14);
		d[i].eta = d[i].has_eta ? (int32_t)int_at(r, i, 14) : 0;
		if (text_at(r, i, 1, a, &d[i].customer) ||
		    text_at(r, i, 2, a, &d[i].channel) ||
		    text_at(r, i, 3, a, &d[i].target) ||
		    text_at(r, i, 5, a, &d[i].ev.orderid) ||
		    text_at(r, i, 6, a, &d[i].ev.sku) ||
		    text_at(r, i, 8, a, &d[i].ev.batchref) ||
		    text_at(r, i, 13, a, &d[i].last_error))
			return oom(err);
	}
	*out = d;
	*n_out = (size_t)n;
	return SC_OK;
}

static int by_delivery(const void *a, const void *b)
{
	const struct delivery *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static int pg_delivery_claim(struct uow *u, const struct delivery_claim *c,
			     struct arena *a, struct delivery **out,
			     size_t *n_out, struct sc_err *err)
{
	int64_t now_ms = c->now_ms;
	size_t limit = c->limit;
	int lease_s = c->lease_s;
	struct params q = {0};
	PGresult *r = NULL;
	int rc;

	p_int(&q, now_ms);
	p_int(&q, (int64_t)limit);
	p_int(&q, lease_s);
	/* one statement: its own transaction */
	rc = run(to_pg(u), ST_DELIVERY_CLAIM, &q, "claim deliveries", &r, err);
	if (!rc)
		rc = deliveries_of(r, a, out, n_out, err);
	PQclear(r);
	if (!rc && *n_out > 1) /* RETURNING gives no order */
		qsort(*out, *n_out, sizeof(**out), by_delivery);
	return rc;
}

static int pg_delivery_finish(struct uow *u, int64_t id, unsigned attempts,
			      const struct delivery_outcome *o,
			      struct sc_err *err)
{
	struct params q = {0};

	p_int(&q, id);
	p_str(&q, notice_state_name(o->delivered ? NOTICE_DELIVERED
				    : o->dead	 ? NOTICE_DEAD
						 : NOTICE_PENDING));
	p_int(&q, attempts);
	p_int(&q, o->next_at_ms);
	p_str(&q, o->error);
	return run_cmd(to_pg(u), ST_DELIVERY_FINISH, &q, "finish delivery",
		       NULL, err);
}

static int pg_delivery_list(struct uow *u, const struct delivery_filter *f,
			    struct arena *a, struct delivery **out,
			    size_t *n_out, struct sc_err *err)
{
	int state = f->state;
	size_t limit = f->limit;
	struct params q = {0};
	PGresult *r = NULL;
	int rc;

	p_str(&q,
	      state >= 0 ? notice_state_name((enum notice_state)state) : NULL);
	p_int(&q, (int64_t)limit);
	rc = run(to_pg(u), ST_DELIVERY_LIST, &q, "list deliveries", &r, err);
	if (!rc)
		rc = deliveries_of(r, a, out, n_out, err);
	PQclear(r);
	return rc;
}

static int pg_delivery_replay(struct uow *u, int64_t id, int64_t now_ms,
			      struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct params q = {0};
	PGresult *r = NULL;
	long changed = 0;
	int rc, n;

	p_int(&q, id);
	p_int(&q, now_ms);
	rc = run_cmd(s, ST_DELIVERY_REPLAY, &q, "replay delivery", &changed,
		     err);
	if (rc || changed > 0)
		return rc;
	q.n = 1;
	rc = run(s, ST_DELIVERY_STATE, &q, "read delivery", &r, err);
	n = rc ? 0 : PQntuples(r);
	PQclear(r);
	if (rc)
		return rc;
	if (!n)
		return err_set(err, SC_ENOTFOUND, "no delivery %lld",
			       (long long)id);
	return err_set(err, SC_EINVAL,
		       "delivery %lld is not dead: only a dead one is replayed",
		       (long long)id);
}

/* ---- formulas, surveys and demand (issue 15) ------------------------- */

/* @v as a parameter, or SQL NULL when it is -1 (not given). */
static void p_opt(struct params *p, int64_t v)
{
	if (v < 0)
		p_str(p, NULL);
	else
		p_int(p, v);
}

static int64_t opt_at(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? -1 : int_at(r, row, col);
}

/* Fill element @i of a list from row @i of @r; -1 on OOM. */
typedef int pg_fill_fn(const PGresult *r, int i, struct arena *a, void *row);

/* A list read: which statement with which parameters, filled how. */
struct pg_list {
	enum stmt which;	/* the statement */
	const struct params *q; /* its parameters, or NULL */
	size_t size;		/* bytes per element */
	pg_fill_fn *fill;	/* fills one element */
};

/* Run @l's statement and read every row into an array in @a. */
static int pg_read_all(struct pg_uow *s, const struct pg_list *l,
		       struct arena *a, void **items, size_t *n_out,
		       struct sc_err *err)
{
	PGresult *r = NULL;
	size_t size = l->size;
	pg_fill_fn *fill = l->fill;
	int rc = run(s, l->which, l->q, "read analytics", &r, err);
	int n = rc ? 0 : PQntuples(r);
	char *v = NULL;

	if (!rc && n > 0 && !(v = arena_calloc(a, (size_t)n, size)))
		rc = oom(err);
	for (int i = 0; !rc && i < n; i++)
		if (fill(r, i, a, v + (size_t)i * size))
			rc = oom(err);
	PQclear(r);
	if (!rc) {
		*items = v;
		*n_out = (size_t)n;
	}
	return rc;
}

static int pg_ingredient_put(struct uow *u, const struct ingredient *in,
			     struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, in->name);
	p_str(&q, in->cas);
	p_opt(&q, in->max_milli);
	p_opt(&q, in->price[0]);
	p_opt(&q, in->price[1]);
	return run_cmd(to_pg(u), ST_INGREDIENT_PUT, &q, "put ingredient", NULL,
		       err);
}

static int fill_ingredient(const PGresult *r, int i, struct arena *a, void *row)
{
	struct ingredient *in = row;

	in->max_milli = (int32_t)opt_at(r, i, 2);
	in->price[0] = opt_at(r, i, 3);
	in->price[1] = opt_at(r, i, 4);
	return text_at(r, i, 0, a, &in->name) || text_at(r, i, 1, a, &in->cas);
}

static int pg_ingredients(struct uow *u, struct arena *a,
			  struct ingredient **out, size_t *n_out,
			  struct sc_err *err)
{
	return pg_read_all(to_pg(u),
			   &(const struct pg_list){ST_INGREDIENTS, NULL,
						   sizeof(**out),
						   fill_ingredient},
			   a, (void **)out, n_out, err);
}

static int pg_formula_add(struct uow *u, const struct formula *f,
			  struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct params q = {0};
	int rc;

	p_str(&q, f->sku);
	p_int(&q, f->version);
	p_int(&q, f->unit_ml);
	p_int(&q, f->density_mg_ml);
	p_str(&q, f->note);
	p_int(&q, f->created_at);
	rc = run_cmd(s, ST_FORMULA_ADD, &q, "add formula", NULL, err);
	for (size_t i = 0; !rc && i < f->n; i++) {
		q = (struct params){0};
		p_str(&q, f->sku);
		p_int(&q, f->version);
		p_int(&q, (int64_t)i);
		p_str(&q, f->lines[i].ingredient);
		p_int(&q, f->lines[i].milli);
		rc = run_cmd(s, ST_FORMULA_LINE_ADD, &q, "add formula line",
			     NULL, err);
	}
	return rc;
}

static int fill_formula(const PGresult *r, int i, struct arena *a, void *row)
{
	struct formula *f = row;

	f->version = (int32_t)int_at(r, i, 1);
	f->unit_ml = (int32_t)int_at(r, i, 2);
	f->density_mg_ml = (int32_t)int_at(r, i, 3);
	f->created_at = int_at(r, i, 5);
	return text_at(r, i, 0, a, &f->sku) || text_at(r, i, 4, a, &f->note);
}

static int fill_formula_line(const PGresult *r, int i, struct arena *a,
			     void *row)
{
	struct formula_line *l = row;

	l->milli = (int32_t)int_at(r, i, 1);
	return text_at(r, i, 0, a, &l->ingredient);
}

static int pg_formula_get(struct uow *u, const char *sku, int32_t version,
			  struct arena *a, struct formula **out,
			  struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct formula_line *lines = NULL;
	struct params q = {0};
	size_t n = 0;
	bool own;
	int rc = read_begin(s, &own, err);

	if (rc)
		return rc;
	p_str(&q, sku);
	p_int(&q, version);
	rc = pg_read_all(s,
			 &(const struct pg_list){ST_FORMULA_GET, &q,
						 sizeof(**out), fill_formula},
			 a, (void **)out, &n, err);
	if (!rc && !n)
		rc = err_set(err, SC_ENOTFOUND, "'%s' has no %s formula", sku,
			     version > 0 ? "such" : "");
	if (!rc) {
		q = (struct params){0};
		p_str(&q, sku);
		p_int(&q, (*out)->version);
		rc = pg_read_all(s,
				 &(const struct pg_list){ST_FORMULA_LINES, &q,
							 sizeof(*lines),
							 fill_formula_line},
				 a, (void **)&lines, &n, err);
		(*out)->lines = lines;
		(*out)->n = n;
	}
	read_end(s, own);
	return rc;
}

static int pg_formula_activate(struct uow *u, const struct formula_change *c,
			       struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct params q = {0};
	int rc;

	p_str(&q, c->sku);
	p_int(&q, c->to_version);
	rc = run_cmd(s, ST_FORMULA_ACTIVATE, &q, "activate formula", NULL, err);
	if (rc)
		return rc;
	q = (struct params){0};
	p_str(&q, c->sku);
	p_int(&q, c->from_version);
	p_int(&q, c->to_version);
	p_str(&q, c->actor);
	p_str(&q, c->reason);
	p_opt(&q, c->survey_id ? c->survey_id : -1);
	p_int(&q, c->at);
	return run_cmd(s, ST_FORMULA_LOG_ADD, &q, "log formula change", NULL,
		       err);
}

static int fill_change(const PGresult *r, int i, struct arena *a, void *row)
{
	struct formula_change *c = row;

	c->from_version = (int32_t)int_at(r, i, 1);
	c->to_version = (int32_t)int_at(r, i, 2);
	c->survey_id = PQgetisnull(r, i, 5) ? 0 : int_at(r, i, 5);
	c->at = int_at(r, i, 6);
	return text_at(r, i, 0, a, &c->sku) || text_at(r, i, 3, a, &c->actor) ||
			       text_at(r, i, 4, a, &c->reason)
		       ? -1
		       : 0;
}

static int pg_formula_log(struct uow *u, const char *sku, struct arena *a,
			  struct formula_change **out, size_t *n_out,
			  struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, sku);
	return pg_read_all(to_pg(u),
			   &(const struct pg_list){ST_FORMULA_LOG, &q,
						   sizeof(**out), fill_change},
			   a, (void **)out, n_out, err);
}

static int pg_survey_add(struct uow *u, const struct survey *sv,
			 int64_t *id_out, struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct params q = {0};
	int64_t id = 0;
	int rc;

	p_str(&q, sv->sku);
	p_str(&q, sv->name);
	p_int(&q, sv->created_at);
	rc = insert_id(s, ST_SURVEY_ADD, &q, &id, err);
	for (size_t i = 0; !rc && i < sv->n; i++) {
		q = (struct params){0};
		p_int(&q, id);
		p_int(&q, (int64_t)i);
		p_str(&q, sv->variants[i].label);
		p_int(&q, sv->variants[i].formula_version);
		rc = run_cmd(s, ST_VARIANT_ADD, &q, "add survey variant", NULL,
			     err);
	}
	if (!rc)
		*id_out = id;
	return rc;
}

static int fill_survey(const PGresult *r, int i, struct arena *a, void *row)
{
	struct survey *sv = row;

	sv->created_at = int_at(r, i, 2);
	return text_at(r, i, 0, a, &sv->sku) || text_at(r, i, 1, a, &sv->name);
}

static int fill_tally(const PGresult *r, int i, struct arena *a, void *row)
{
	struct variant_tally *t = row;

	t->formula_version = (int32_t)int_at(r, i, 1);
	t->responses = int_at(r, i, 2);
	t->answered = int_at(r, i, 3);
	t->accepted = int_at(r, i, 4);
	t->rated = int_at(r, i, 5);
	t->rating_sum = int_at(r, i, 6);
	t->rating_sumsq = int_at(r, i, 7);
	return text_at(r, i, 0, a, &t->label);
}

static int pg_survey_get(struct uow *u, int64_t id, const char *segment,
			 struct arena *a, struct survey **out,
			 struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	struct params q = {0};
	size_t n = 0;
	bool own;
	int rc = read_begin(s, &own, err);

	if (rc)
		return rc;
	p_int(&q, id);
	rc = pg_read_all(s,
			 &(const struct pg_list){ST_SURVEY_GET, &q,
						 sizeof(**out), fill_survey},
			 a, (void **)out, &n, err);
	if (!rc && !n)
		rc = err_set(err, SC_ENOTFOUND, "unknown survey %lld",
			     (long long)id);
	if (!rc) {
		(*out)->id = id;
		p_str(&q, segment);
		rc = pg_read_all(s,
				 &(const struct pg_list){
					 ST_SURVEY_TALLY, &q,
					 sizeof(*(*out)->variants), fill_tally},
				 a, (void **)&(*out)->variants, &(*out)->n,
				 err);
	}
	read_end(s, own);
	return rc;
}

static int pg_responses_add(struct uow *u, int64_t id,
			    const struct survey_response *r, size_t n,
			    struct sc_err *err)
{
	struct pg_uow *s = to_pg(u);
	int rc = SC_OK;

	for (size_t i = 0; !rc && i < n; i++) {
		struct params q = {0};

		p_int(&q, id);
		p_int(&q, r[i].variant_idx);
		p_str(&q, r[i].respondent);
		p_opt(&q, r[i].accepted);
		p_opt(&q, r[i].rating ? r[i].rating : -1);
		p_str(&q, r[i].segment);
		rc = run_cmd(s, ST_RESPONSE_ADD, &q, "add response", NULL, err);
	}
	return rc;
}

static int pg_demand_add(struct uow *u, const struct demand_entry *e,
			 struct sc_err *err)
{
	struct params q = {0};

	p_int(&q, e->day);
	p_str(&q, e->sku);
	p_str(&q, e->segment ? e->segment : "");
	p_int(&q, (int64_t)e->outcome);
	p_int(&q, e->units);
	p_int(&q, e->lines);
	return run_cmd(to_pg(u), ST_DEMAND_ADD, &q, "add demand", NULL, err);
}

static int fill_demand(const PGresult *r, int i, struct arena *a, void *row)
{
	struct demand_row *d = row;

	d->bucket = (int32_t)int_at(r, i, 1);
	for (int k = 0; k < DEMAND__OUTCOMES; k++) {
		d->units[k] = int_at(r, i, 3 + k);
		d->lines[k] = int_at(r, i, 6 + k);
	}
	return text_at(r, i, 0, a, &d->sku) || text_at(r, i, 2, a, &d->segment);
}

static int pg_demand(struct uow *u, const struct demand_query *dq,
		     struct arena *a, struct demand_row **out, size_t *n_out,
		     struct sc_err *err)
{
	struct params q = {0};

	p_int(&q, dq->from_day);
	p_int(&q, dq->to_day);
	p_int(&q, dq->bucket);
	p_int(&q, dq->by_segment);
	p_str(&q, dq->sku);
	return pg_read_all(to_pg(u),
			   &(const struct pg_list){ST_DEMAND, &q, sizeof(**out),
						   fill_demand},
			   a, (void **)out, n_out, err);
}

static const struct analytics_ops pg_analytics_ops = {
	.ingredient_put = pg_ingredient_put,
	.ingredients = pg_ingredients,
	.formula_add = pg_formula_add,
	.formula_get = pg_formula_get,
	.formula_activate = pg_formula_activate,
	.formula_log = pg_formula_log,
	.survey_add = pg_survey_add,
	.survey_get = pg_survey_get,
	.responses_add = pg_responses_add,
	.demand_add = pg_demand_add,
	.demand = pg_demand,
};

/* ---- cinema cue tracks (issue 16) ----------------------------------- */

static int pg_track_add(struct uow *u, const struct track_record *t,
			int64_t *id_out, struct sc_err *err)
{
	struct params q = {0};

	p_str(&q, t->title);
	p_str(&q, t->content_hash);
	p_int(&q, t->cues);
	p_int(&q, t->created_at);
	p_str(&q, t->body);
	return insert_id(to_pg(u), ST_TRACK_ADD, &q, id_out, err);
}

static int fill_track(const PGresult *r, int i, struct arena *a, void *row)
{
	struct track_record *t = row;

	t->id = int_at(r, i, 0);
	t->cues = int_at(r, i, 3);
	t->created_at = int_at(r, i, 4);
	return text_at(r, i, 1, a, &t->title) ||
			       text_at(r, i, 2, a, &t->content_hash) ||
			       text_at(r, i, 5, a, &t->body)
		       ? -1
		       : 0;
}

static int pg_track_get(struct uow *u, int64_t id, struct arena *a,
			struct track_record **out, struct sc_err *err)
{
	struct params q = {0};
	size_t n = 0;
	int rc;

	p_int(&q, id);
	rc = pg_read_all(to_pg(u),
			 &(const struct pg_list){ST_TRACK_GET, &q,
						 sizeof(**out), fill_track},
			 a, (void **)out, &n, err);
	if (!rc && !n)
		rc = err_set(err, SC_ENOTFOUND, "unknown track %lld",
			     (long long)id);
	return rc;
}

static int pg_track_list(struct uow *u, struct arena *a,
			 struct track_record **out, size_t *n_out,
			 struct sc_err *err)
{
	return pg_read_all(to_pg(u),
			   &(const struct pg_list){ST_TRACK_LIST, NULL,
						   sizeof(**out), fill_track},
			   a, (void **)out, n_out, err);
}

/* ---- a product's lines, for display ------------------------------- */

static int fill_product_line(const PGresult *r, int i, struct arena *a,
			     void *row)
{
	struct product_line *l = row;

	l->qty = int_at(r, i, 2);
	return text_at(r, i, 0, a, &l->batchref) ||
			       text_at(r, i, 1, a, &l->orderid)
		       ? -1
		       : 0;
}

static int pg_product_lines(struct uow *u, const struct lines_ask *ask,
			    struct arena *a, struct product_line **out,
			    size_t *n_out, struct sc_err *err)
{
	const char *sku = ask->sku;
	size_t limit = ask->limit;

	struct params q = {0};

	p_str(&q, sku);
	p_int(&q, (int64_t)limit);
	return pg_read_all(to_pg(u),
			   &(const struct pg_list){ST_PRODUCT_LINES, &q,
						   sizeof(**out),
						   fill_product_line},
			   a, (void **)out, n_out, err);
}

/* ---- venues, cartridges and shows (issue 16) ------------------------ */

static void p_cartridge(struct params *q, int64_t venue,
			const struct cartridge_row *c)
{
	p_int(q, venue);
	p_int(q, c->row);
	p_int(q, c->seat);
	p_int(q, c->slot);
	p_str(q, c->sku);
	p_str(q, c->batch);
	p_int(q, c->level_ul);
}

static int pg_venue_add(struct uow *u, const struct venue_record *v,
			int64_t *id_out, struct sc_err *err)
{
	struct params q = {0};
	int rc;

	p_str(&q, v->name);
	p_int(&q, v->capacity_ul);
	p_int(&q, v->alert_below_ul);
	p_int(&q, v->refill_unit_ul);
	p_int(&q, v->created_at);
	p_str(&q, v->body);
	rc = insert_id(to_pg(u), ST_VENUE_ADD, &q, id_out, err);
	for (size_t i = 0; !rc && i < v->n_cartridges; i++) {
		memset(&q, 0, sizeof(q));
		p_cartridge(&q, *id_out, &v->cartridges[i]);
		rc = run_cmd(to_pg(u), ST_CARTRIDGE_ADD, &q, "add cartridge",
			     NULL, err);
	}
	return rc;
}

static int fill_venue(const PGresult *r, int i, struct arena *a, void *row)
{
	struct venue_record *v = row;

	v->id = int_at(r, i, 0);
	v->capacity_ul = int_at(r, i, 2);
	v->alert_below_ul = int_at(r, i, 3);
	v->refill_unit_ul = int_at(r, i, 4);
	v->version = int_at(r, i, 5);
	v->created_at = int_at(r, i, 6);
	return text_at(r, i, 1, a, &v->name) || text_at(r, i, 7, a, &v->body)
		       ? -1
		       : 0;
}

static int fill_cartridge(const PGresult *r, int i, struct arena *a, void *row)
{
	struct cartridge_row *c = row;

	c->row = (int32_t)int_at(r, i, 0);
	c->seat = (int32_t)int_at(r, i, 1);
	c->slot = (int32_t)int_at(r, i, 2);
	c->level_ul = int_at(r, i, 5);
	return text_at(r, i, 3, a, &c->sku) || text_at(r, i, 4, a, &c->batch)
		       ? -1
		       : 0;
}

static int pg_venue_get(struct uow *u, int64_t id, struct arena *a,
			struct venue_record **out, struct sc_err *err)
{
	struct params q = {0};
	size_t n = 0;
	int rc;

	p_int(&q, id);
	rc = pg_read_all(to_pg(u),
			 &(const struct pg_list){ST_VENUE_GET, &q,
						 sizeof(**out), fill_venue},
			 a, (void **)out, &n, err);
	if (!rc && !n)
		return err_set(err, SC_ENOTFOUND, "unknown venue %lld",
			       (long long)id);
	if (rc)
		return rc;
	return pg_read_all(to_pg(u),
			   &(const struct pg_list){ST_CARTRIDGES, &q,
						   sizeof(*(*out)->cartridges),
						   fill_cartridge},
			   a, (void **)&(*out)->cartridges,
			   &(*out)->n_cartridges, err);
}

static int pg_venue_list(struct uow *u, struct arena *a,
			 struct venue_record **out, size_t *n_out,
			 struct sc_err *err)
{
	return pg_read_all(to_pg(u),
			   &(const struct pg_list){ST_VENUE_LIST, NULL,
						   sizeof(**out), fill_venue},
			   a, (void **)out, n_out, err);
}

static int pg_venue_change(struct uow *u, const struct venue_change *c,
			   struct sc_err *err)
{
	struct params q = {0};
	long changed = 0;
	int rc;

	p_int(&q, c->id);
	p_int(&q, c->version);
	/* READ COMMITTED re-checks the WHERE after a concurrent writer: the
	 * loser updates nothing (as for products). */
	rc = run_cmd(to_pg(u), ST_VENUE_BUMP, &q, "update venue", &changed,
		     err);
	if (!rc && changed != 1) {
		to_pg(u)->lost_race = true;
		rc = err_set(err, SC_ECONFLICT,
			     "venue %lld changed concurrently",
			     (long long)c->id);
	}
	for (size_t i = 0; !rc && i < c->n_rows; i++) {
		const struct cartridge_row *r = &c->rows[i];

		memset(&q, 0, sizeof(q));
		p_cartridge(&q, c->id, r);
		rc = run_cmd(to_pg(u), ST_CARTRIDGE_SET, &q, "update cartridge",
			     &changed, err);
		if (!rc && changed != 1)
			rc = err_set(err, SC_ENOTFOUND,
				     "venue %lld has no cartridge at %c%d "
				     "slot %d",
				     (long long)c->id, 'A' + r->row,
				     (int)r->seat, (int)r->slot);
	}
	return rc;
}

static int pg_show_add(struct uow *u, const struct show_record *sh,
		       int64_t *id_out, struct sc_err *err)
{
	struct params q = {0};
	int rc;

	p_int(&q, sh->venue_id);
	if (sh->track_id)
		p_int(&q, sh->track_id);
	else
		p_str(&q, NULL);
	p_int(&q, sh->played_at);
	p_int(&q, sh->fires);
	p_int(&q, sh->acked);
	p_int(&q, sh->missed);
	p_int(&q, sh->seat_releases);
	rc = insert_id(to_pg(u), ST_SHOW_ADD, &q, id_out, err);
	for (size_t i = 0; !rc && i < sh->n_used; i++) {
		memset(&q, 0, sizeof(q));
		p_int(&q, *id_out);
		p_str(&q, sh->used[i].sku);
		p_str(&q, sh->used[i].batch ? sh->used[i].batch : "");
		p_int(&q, sh->used[i].ul);
		rc = run_cmd(to_pg(u), ST_SHOW_USE_ADD, &q, "add show use",
			     NULL, err);
	}
	return rc;
}

static int fill_show(const PGresult *r, int i, struct arena *a, void *row)
{
	struct show_record *sh = row;

	(void)a;
	sh->id = int_at(r, i, 0);
	sh->venue_id = int_at(r, i, 1);
	sh->track_id = int_at(r, i, 2); /* NULL: "" -> 0 */
	sh->played_at = int_at(r, i, 3);
	sh->fires = int_at(r, i, 4);
	sh->acked = int_at(r, i, 5);
	sh->missed = int_at(r, i, 6);
	sh->seat_releases = int_at(r, i, 7);
	return 0;
}

static int fill_use(const PGresult *r, int i, struct arena *a, void *row)
{
	struct consumption_row *c = row;

	c->ul = int_at(r, i, 2);
	return text_at(r, i, 0, a, &c->sku) || text_at(r, i, 1, a, &c->batch)
		       ? -1
		       : 0;
}

static int pg_show_list(struct uow *u, int64_t venue_id, struct arena *a,
			struct show_record **out, size_t *n_out,
			struct sc_err *err)
{
	struct params q = {0};
	int rc;

	p_int(&q, venue_id);
	rc = pg_read_all(to_pg(u),
			 &(const struct pg_list){ST_SHOW_LIST, &q,
						 sizeof(**out), fill_show},
			 a, (void **)out, n_out, err);
	for (size_t i = 0; !rc && i < *n_out; i++) {
		struct consumption_row *used = NULL;

		memset(&q, 0, sizeof(q));
		p_int(&q, (*out)[i].id);
		rc = pg_read_all(to_pg(u),
				 &(const struct pg_list){ST_SHOW_USES, &q,
							 sizeof(*used),
							 fill_use},
				 a, (void **)&used, &(*out)[i].n_used, err);
		(*out)[i].used = used;
	}
	return rc;
}

static const struct dispensing_ops pg_dispensing_ops = {
	.track_add = pg_track_add,
	.track_get = pg_track_get,
	.track_list = pg_track_list,
	.venue_add = pg_venue_add,
	.venue_get = pg_venue_get,
	.venue_list = pg_venue_list,
	.venue_change = pg_venue_change,
	.show_add = pg_show_add,
	.show_list = pg_show_list,
};

static const struct delivery_ops pg_delivery_ops = {
	.contact = pg_contact,
	.add = pg_delivery_add,
	.claim = pg_delivery_claim,
	.finish = pg_delivery_finish,
	.list = pg_delivery_list,
	.replay = pg_delivery_replay,
};

static const struct query_ops pg_query_ops = {
	.allocations = pg_allocations,
	.product_lines = pg_product_lines,
	.read_product = pg_read_product,
	.list_products = pg_list_products,
	.research_round = pg_research_round,
	.research_history = pg_research_history,
	.token_list = pg_token_list,
	.customer_get = pg_customer_get,
	.aged_backorders = pg_aged_backorders,
};

static const struct record_ops pg_record_ops = {
	.research_add = pg_research_add,
	.token_add = pg_token_add,
	.token_revoke = pg_token_revoke,
	.customer_add = pg_customer_add,
	.order_customer_set = pg_order_customer_set,
	.backorder_alerted = pg_backorder_alerted,
};

static const struct admin_ops pg_admin_ops = {
	.ping = pg_ping,
	.probe_write = pg_probe_write,
	.stats = pg_stats,
	.check = pg_check,
	.backup = pg_backup,
};

int pg_uow_new(struct pg_db *db, struct uow **out, struct sc_err *err)
{
	struct pg_uow *s = mem_calloc(1, sizeof(*s));

	if (!s)
		return oom(err);
	s->base.tx = &pg_tx_ops;
	s->base.products = &pg_product_ops;
	s->base.outbox = &pg_outbox_ops;
	s->base.queries = &pg_query_ops;
	s->base.records = &pg_record_ops;
	s->base.admin = &pg_admin_ops;
	s->base.deliveries = &pg_delivery_ops;
	s->base.analytics = &pg_analytics_ops;
	s->base.dispensing = &pg_dispensing_ops;
	s->shared = db;
	*out = &s->base;
	return SC_OK;
}

/*
 * Bring the schema to PG_SCHEMA_VERSION in one transaction, under an
 * advisory lock: servers started together wait for the first, then find
 * nothing to do.  DDL is transactional here, so a failed migration leaves
 * the old schema.  A database from a newer program is refused.
 */
static int migrate(struct pg_uow *s, struct sc_err *err)
{
	PGresult *r = NULL;
	int version = 0;
	int rc = pg_begin(&s->base, err);

	if (!rc)
		rc = exec_sql(s,
			      "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY
			      ")",
			      &r, err);
	PQclear(r);
	r = NULL;
	if (!rc)
		rc = exec_sql(s,
			      "CREATE TABLE IF NOT EXISTS scents_schema"
			      " (version INTEGER NOT NULL);"
			      "INSERT INTO scents_schema SELECT 0 WHERE NOT"
			      " EXISTS (SELECT 1 FROM scents_schema)",
			      &r, err);
	PQclear(r);
	r = NULL;
	if (!rc)
		rc = exec_sql(s, "SELECT version FROM scents_schema", &r, err);
	if (!rc)
		version = (int)int_at(r, 0, 0);
	PQclear(r);
	if (!rc && version > PG_SCHEMA_VERSION)
		rc = err_set(err, SC_EIO,
			     "the database has schema version %d; this "
			     "program knows up to %d (upgrade scents)",
			     version, PG_SCHEMA_VERSION);
	for (; !rc && version < PG_SCHEMA_VERSION; version++) {
		char bump[64];

		r = NULL;
		rc = exec_sql(s, migrations[version], &r, err);
		PQclear(r);
		(void)snprintf(bump, sizeof(bump),
			       "UPDATE scents_schema SET version = %d",
			       version + 1);
		r = NULL;
		if (!rc)
			rc = exec_sql(s, bump, &r, err);
		PQclear(r);
	}
	if (!rc)
		rc = pg_commit(&s->base, err);
	pg_rollback(&s->base);
	return rc;
}

int pg_db_open(const char *url, const struct pg_options *opt,
	       struct pg_db **out, struct sc_err *err)
{
	struct pg_db *db = mem_calloc(1, sizeof(*db));
	struct pg_uow *s;
	struct uow *u = NULL;
	int rc;

	if (!db)
		return oom(err);
	db->url = mem_strdup(url);
	db->opt = *opt;
	if (!db->url) {
		mem_free(db);
		return oom(err);
	}
	rc = pg_uow_new(db, &u, err);
	if (!rc) {
		s = to_pg(u);
		/* statements are prepared after the tables exist */
		rc = connect_as(s, false, err);
		if (!rc)
			rc = migrate(s, err);
	}
	uow_free(u);
	if (rc) {
		pg_db_close(db);
		return rc;
	}
	*out = db;
	return SC_OK;
}

void pg_db_close(struct pg_db *db)
{
	if (!db)
		return;
	mem_free(db->url);
	mem_free(db);
}

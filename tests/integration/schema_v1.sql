-- Schema 1 as the first release created it (migration 1 of
-- src/adapters/sqlite/sqlite_uow.c), for the upgrade test.
CREATE TABLE products ( id INTEGER PRIMARY KEY, sku TEXT NOT NULL UNIQUE, version_number INTEGER NOT NULL);
CREATE TABLE batches ( id INTEGER PRIMARY KEY, reference TEXT NOT NULL UNIQUE, product_id INTEGER NOT NULL REFERENCES products(id), purchased_quantity INTEGER NOT NULL  CHECK (purchased_quantity BETWEEN 0 AND 1000000000), allocated_quantity INTEGER NOT NULL  CHECK (allocated_quantity BETWEEN 0 AND purchased_quantity), eta INTEGER);
CREATE INDEX batches_by_product ON batches(product_id, id);
CREATE TABLE allocations ( id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL REFERENCES batches(id), orderid TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL CHECK (qty >= 1), UNIQUE (orderid, sku));
CREATE INDEX allocations_by_batch ON allocations(batch_id, id);
CREATE TABLE allocations_view ( orderid TEXT NOT NULL, sku TEXT NOT NULL, batchref TEXT NOT NULL, PRIMARY KEY (orderid, sku)) WITHOUT ROWID;


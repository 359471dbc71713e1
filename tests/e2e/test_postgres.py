"""`scents serve` on PostgreSQL (issue 12): the same API, several servers
on one database, and a database that goes away and comes back.

Each test gets a fresh database on the cluster scripts/test.sh started."""
import collections
import re

import requests

from conftest import pg_ctl, psql, run, wait_for


def pg_env(url, **more):
    return dict({"DATABASE_URL": url}, **more)


def test_the_api_behaves_the_same_on_postgresql(make_server, pg_url, db):
    s = make_server(pg_env(pg_url))
    assert s.post("/add_batch", json={"ref": "later", "sku": "LAMP",
                                      "qty": 10, "eta": "2031-01-02"}
                  ).status_code == 201
    assert s.post("/add_batch", json={"ref": "stock", "sku": "LAMP",
                                      "qty": 5}).status_code == 201
    # warehouse stock first; an equal retry answers the same
    for _ in range(2):
        r = s.post("/allocate", json={"orderid": "o1", "sku": "LAMP",
                                      "qty": 4})
        assert (r.status_code, r.json()) == (202, {"batchref": "stock"})
    r = s.post("/allocate", json={"orderid": "o1", "sku": "LAMP", "qty": 5})
    assert r.status_code == 409  # same order, other qty
    r = s.post("/allocate", json={"orderid": "o2", "sku": "LAMP", "qty": 99})
    assert r.status_code == 409 and "out of stock" in r.text.lower()
    # a shrinking batch moves its newest lines to the next one
    r = s.post("/change_batch_quantity", json={"ref": "stock", "qty": 3})
    assert r.status_code == 200, r.text
    assert s.get("/allocations/o1").json() == [{"sku": "LAMP",
                                                 "batchref": "later"}]
    p = s.get("/products/LAMP").json()
    assert [(b["ref"], b["purchased"], b["allocated"]) for b in
            p["batches"]] == [("later", 10, 4), ("stock", 3, 0)]
    # cancelling frees the line (issue 14); a retry finds nothing
    for status in (200, 404):
        r = requests.delete(s.url + "/allocations/o1/LAMP", timeout=30)
        assert r.status_code == status, r.text
    assert r.json() == {"message": "order 'o1' holds no 'LAMP'"}
    assert s.get("/allocations/o1").status_code == 404
    assert s.get("/products/LAMP").json()["batches"][0]["allocated"] == 0
    # paging by sku sorts bytes, as SQLite does
    for sku in ("b", "B", "a", "_"):
        s.post("/add_batch", json={"ref": "r" + sku, "sku": sku, "qty": 1})
    page = s.get("/products?limit=3").json()
    assert [x["sku"] for x in page["products"]] == ["B", "LAMP", "_"]
    rest = s.get("/products?limit=3&after=_").json()
    assert [x["sku"] for x in rest["products"]] == ["a", "b"]
    assert s.get("/readyz").json()["status"] == "ready"
    # the CLI on the same database: tokens and the invariants
    assert run(db, "token", "create", "--name", "ops", "--scope", "admin",
               env=pg_env(pg_url)).returncode == 0
    c = run(db, "check", env=pg_env(pg_url))
    assert c.returncode == 0 and "0 problems" in c.stdout, c.stdout
    b = run(db, "backup", "/tmp/nowhere.db", env=pg_env(pg_url))
    assert b.returncode != 0 and "pg_dump" in b.stderr
    wait_for(lambda: "publish=log channel=line_allocated" in s.text(),
             what="the relay published from the PostgreSQL outbox")


def test_each_event_is_delivered_by_one_of_two_servers(make_server, pg_url):
    a = make_server(pg_env(pg_url))
    b = make_server(pg_env(pg_url))
    a.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 1000})
    for i in range(120):
        srv = a if i % 2 else b
        r = srv.post("/allocate", json={"orderid": f"o{i}", "sku": "S",
                                        "qty": 1})
        assert r.status_code == 202, r.text
    wait_for(lambda: psql(pg_url, "SELECT COUNT(*) FROM outbox WHERE"
                          " sent_at IS NULL") == [["0"]],
             what="every event delivered")
    # both servers log to one file (make_server's), read once
    assert a.log_path == b.log_path
    ids = collections.Counter(re.findall(
        r"publish=log channel=line_allocated id=(\d+)", a.text()))
    assert len(ids) == 120
    # claims are exclusive: nothing failed, so nothing went out twice
    assert max(ids.values()) == 1, ids.most_common(3)


def test_a_database_that_goes_away_gets_503_with_retry_after(make_server,
                                                              pg_url):
    s = make_server(pg_env(pg_url))
    s.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 100})
    assert s.post("/allocate", json={"orderid": "before", "sku": "S",
                                     "qty": 1}).status_code == 202
    pg_ctl("stop")
    try:
        for path, body in (("/allocate", {"orderid": "down", "sku": "S",
                                          "qty": 1}),
                           ("/add_batch", {"ref": "b2", "sku": "S",
                                           "qty": 1})):
            r = s.post(path, json=body)
            assert r.status_code == 503, r.text
            assert r.headers["Retry-After"] == "1"
            assert r.json() == {"message": "the store is unavailable; "
                                           "try again later"}
        for path in ("/products", "/products/S", "/allocations/before"):
            r = s.get(path)
            assert r.status_code == 503, (path, r.text)
            assert r.headers["Retry-After"] == "1"
        assert s.get("/readyz").status_code == 503
        assert s.get("/healthz").status_code == 503  # it pings the store
    finally:
        pg_ctl("resume")

    def allocates():
        r = s.post("/allocate", json={"orderid": "after", "sku": "S",
                                      "qty": 1})
        assert r.status_code in (202, 503), r.text
        return r.status_code == 202
    wait_for(allocates, timeout=30, step=0.2, what="service back")
    assert s.get("/allocations/before").json() == [{"sku": "S",
                                                     "batchref": "b1"}]
    assert s.get("/allocations/down").status_code == 404  # never made
    assert s.get("/readyz").status_code == 200

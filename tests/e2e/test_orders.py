"""Order lifecycle (issue 14) against the real binary: cancelling a line or
a whole order over HTTP and the CLI, line_deallocated on a real Redis, and
the shrink scenario that ends with the stock team told whose order lost
its stock, on a real SMTP sink."""
import json
import time

import requests

from conftest import error_line, outbox_pending, run, snapshot, wait_for


def published(pubsub, want, timeout=15):
    """(channel, payload) pairs until @want(list) is true."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline and not want(got):
        m = pubsub.get_message(timeout=0.2)
        if m and m["type"] == "message":
            got.append((m["channel"], json.loads(m["data"])))
    assert want(got), got
    return got


def subscribe(redis_server):
    ps = redis_server.client().pubsub(ignore_subscribe_messages=True)
    ps.subscribe("line_allocated", "line_deallocated")
    return ps


def delete(s, path):
    return requests.delete(s.url + path, timeout=30)


def test_cancel_a_line_frees_its_stock_and_publishes_line_deallocated(
        make_server, redis_server, db):
    s = make_server({"REDIS_URL": redis_server.url})
    ps = subscribe(redis_server)
    s.post("/add_batch", json={"ref": "b1", "sku": "OCEAN-BREEZE",
                               "qty": 10})
    assert s.post("/allocate", json={"orderid": "o1", "sku": "OCEAN-BREEZE",
                                     "qty": 10}).status_code == 202
    # out of stock for the next order, until o1 is cancelled
    assert s.post("/allocate", json={"orderid": "o2", "sku": "OCEAN-BREEZE",
                                     "qty": 4}).status_code == 409
    r = delete(s, "/allocations/o1/OCEAN-BREEZE")
    assert (r.status_code, r.json()) == (200, {
        "orderid": "o1",
        "freed": [{"sku": "OCEAN-BREEZE", "qty": 10, "batchref": "b1"}]})
    assert s.get("/allocations/o1").status_code == 404
    r = s.post("/allocate", json={"orderid": "o2", "sku": "OCEAN-BREEZE",
                                  "qty": 4})
    assert (r.status_code, r.json()) == (202, {"batchref": "b1"})
    got = published(ps, lambda g: len(g) == 3)
    assert [c for c, _ in got] == ["line_allocated", "line_deallocated",
                                   "line_allocated"]
    dealloc = got[1][1]
    # design.md section 5: exactly these fields, with a stable id
    assert dealloc == {"id": dealloc["id"], "orderid": "o1",
                       "sku": "OCEAN-BREEZE", "qty": 10}
    assert got[0][1]["id"] < dealloc["id"] < got[2][1]["id"]
    # a retry finds nothing to free and changes nothing (once the relay
    # is done marking, so that its writes are not mistaken for ours)
    wait_for(lambda: outbox_pending(s.db) == 0, what="outbox drained")
    before = snapshot(db)
    r = delete(s, "/allocations/o1/OCEAN-BREEZE")
    assert r.status_code == 404
    assert r.json() == {"message": "order 'o1' holds no 'OCEAN-BREEZE'"}
    assert snapshot(db) == before
    wait_for(lambda: outbox_pending(s.db) == 0, what="outbox drained")
    assert published(ps, lambda g: True, timeout=0.5) == []
    c = run(db, "check")
    assert c.returncode == 0 and "0 problems" in c.stdout, c.stdout


def test_cancel_a_whole_order_in_one_request(server, db):
    for ref, sku in (("t1", "PINE"), ("u1", "RAIN")):
        server.post("/add_batch", json={"ref": ref, "sku": sku, "qty": 10})
    for sku, qty in (("RAIN", 3), ("PINE", 2)):
        assert server.post("/allocate", json={
            "orderid": "order 7", "sku": sku, "qty": qty}).status_code == 202
    server.post("/allocate", json={"orderid": "keep", "sku": "PINE",
                                   "qty": 1})
    r = delete(server, "/allocations/order%207")
    assert r.status_code == 200
    assert r.json() == {"orderid": "order 7", "freed": [
        {"sku": "PINE", "qty": 2, "batchref": "t1"},
        {"sku": "RAIN", "qty": 3, "batchref": "u1"}]}
    assert server.get("/allocations/order%207").status_code == 404
    assert server.get("/allocations/keep").json() == [
        {"sku": "PINE", "batchref": "t1"}]
    totals = {p["sku"]: p["allocated"]
              for p in server.get("/products").json()["products"]}
    assert totals == {"PINE": 1, "RAIN": 0}
    r = delete(server, "/allocations/order%207")
    assert (r.status_code, r.json()) == (
        404, {"message": "order 'order 7' holds no lines"})
    # bad ids are refused before anything runs
    wait_for(lambda: outbox_pending(db) == 0, what="outbox drained")
    before = snapshot(db)
    assert delete(server, "/allocations/%01").status_code == 400
    # (raw: requests would re-encode the bad escape)
    assert server.raw("DELETE", "/allocations/keep/%ZZ")[0] == 400
    r = requests.put(server.url + "/allocations/keep", timeout=30)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, DELETE"
    assert snapshot(db) == before


def test_the_cli_cancels_what_the_api_allocated(server, db):
    server.post("/add_batch", json={"ref": "b1", "sku": "SMOKE", "qty": 5})
    server.post("/allocate", json={"orderid": "o1", "sku": "SMOKE",
                                   "qty": 5})
    p = run(db, "deallocate", "o1")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"orderid": "o1", "freed": [
        {"sku": "SMOKE", "qty": 5, "batchref": "b1"}]}
    p = run(db, "deallocate", "o1", "SMOKE")
    assert p.returncode == 1
    assert error_line(p) == "scents: order 'o1' holds no 'SMOKE'\n"
    p = run(db, "deallocate", "")
    assert p.returncode == 2
    assert "orderid must be 1 to 255 bytes" in error_line(p)
    assert server.get("/products/SMOKE").json()["batches"][0][
        "allocated"] == 0


def test_a_shrink_tells_the_stock_team_whose_order_lost_its_stock(
        make_server, redis_server, smtp_sink):
    """The issue's scenario: a shrinking batch leaves an acknowledged line
    with no stock anywhere.  Redis hears line_deallocated and the stock
    team's mail names the order and its quantity."""
    s = make_server({"REDIS_URL": redis_server.url,
                     "SMTP_URL": smtp_sink.url})
    ps = subscribe(redis_server)
    assert s.post("/customers", json={
        "id": "grand", "name": "Grand Cinema",
        "email": "orders@grand.example"}).status_code == 201
    s.post("/add_batch", json={"ref": "r1", "sku": "CAMPFIRE", "qty": 10})
    assert s.post("/allocate", json={"orderid": "cinema-42",
                                     "sku": "CAMPFIRE", "qty": 8,
                                     "customer": "grand"}).status_code == 202
    r = s.post("/change_batch_quantity", json={"ref": "r1", "qty": 5})
    assert r.status_code == 200
    got = published(ps, lambda g: len(g) == 2)
    assert got[1] == ("line_deallocated", {"id": got[1][1]["id"],
                                           "orderid": "cinema-42",
                                           "sku": "CAMPFIRE", "qty": 8})
    def mails_to(who):
        return [m["data"] for m in smtp_sink.mails() if m["to"] == [who]]
    staff = wait_for(lambda: mails_to("stock@scents.example"),
                     what="the stock team's mail")
    assert "Out of stock for CAMPFIRE: order cinema-42 wanted 8" in staff[0]
    # the customer is told too, naming the order: allocated, then no
    # longer holding stock, then waiting for it
    told = wait_for(lambda: len(mails_to("orders@grand.example")) == 3 and
                    mails_to("orders@grand.example"), what="three mails")
    text = "\n".join(told)
    for what in ("is allocated.", "no longer holds stock.",
                 "is waiting for stock."):
        assert "Your order cinema-42: 8 of CAMPFIRE " + what in text
    # and the line is not lost: it waits for the next stock
    assert s.get("/allocations/cinema-42").json() == [
        {"sku": "CAMPFIRE", "qty": 8, "status": "backordered"}]


def test_a_backorder_waits_and_the_next_batch_fills_it(make_server,
                                                       redis_server, db):
    """The issue's backorder filled by a new batch in the same
    transaction: the batch's 201 is answered only once the waiting line
    holds its stock, and line_allocated follows line_backordered."""
    s = make_server({"REDIS_URL": redis_server.url})
    ps = redis_server.client().pubsub(ignore_subscribe_messages=True)
    ps.subscribe("line_allocated", "line_backordered")
    s.post("/add_batch", json={"ref": "b1", "sku": "VR-RAIN", "qty": 2})
    body = {"orderid": "vr-9", "sku": "VR-RAIN", "qty": 5,
            "backorder": True}
    for _ in range(2):  # a retry is the same waiting line
        r = s.post("/allocate", json=body)
        assert (r.status_code, r.json()) == (202, {"status": "backordered"})
    assert s.get("/allocations/vr-9").json() == [
        {"sku": "VR-RAIN", "qty": 5, "status": "backordered"}]
    r = s.post("/allocate", json=dict(body, qty=4))
    assert r.status_code == 409 and "already has 5" in r.json()["message"]
    r = s.post("/allocate", json=dict(body, backorder="yes"))
    assert (r.status_code, r.json()) == (
        400, {"message": "field 'backorder' must be true or false"})
    # without the flag, no stock is still 409 (the reference contract)
    r = s.post("/allocate", json={"orderid": "x", "sku": "VR-RAIN",
                                  "qty": 5})
    assert r.status_code == 409
    assert s.post("/add_batch", json={"ref": "b2", "sku": "VR-RAIN",
                                      "qty": 10}).status_code == 201
    # filled by that same transaction: no wait needed
    assert s.get("/allocations/vr-9").json() == [
        {"sku": "VR-RAIN", "batchref": "b2"}]
    got = published(ps, lambda g: len(g) == 2)
    assert got[0] == ("line_backordered", {"id": got[0][1]["id"],
                                           "orderid": "vr-9",
                                           "sku": "VR-RAIN", "qty": 5})
    assert got[1][0] == "line_allocated"
    assert got[1][1]["batchref"] == "b2"
    c = run(db, "check")
    assert c.returncode == 0 and "0 problems" in c.stdout, c.stdout


def test_a_shrink_backorders_what_it_cannot_place_and_growth_fills_it(
        server, db):
    server.post("/add_batch", json={"ref": "r1", "sku": "POPCORN",
                                    "qty": 10})
    for order, qty in (("a", 4), ("b", 5)):
        server.post("/allocate", json={"orderid": order, "sku": "POPCORN",
                                       "qty": qty})
    # b (newest) no longer fits: it waits rather than being lost
    assert server.post("/change_batch_quantity",
                       json={"ref": "r1", "qty": 6}).status_code == 200
    assert server.get("/allocations/b").json() == [
        {"sku": "POPCORN", "qty": 5, "status": "backordered"}]
    assert server.post("/change_batch_quantity",
                       json={"ref": "r1", "qty": 9}).status_code == 200
    assert server.get("/allocations/b").json() == [
        {"sku": "POPCORN", "batchref": "r1"}]
    # cancelling a waiting line frees nothing and drops it
    server.post("/allocate", json={"orderid": "c", "sku": "POPCORN",
                                   "qty": 3, "backorder": True})
    r = delete(server, "/allocations/c")
    assert r.json() == {"orderid": "c", "freed": [
        {"sku": "POPCORN", "qty": 3, "batchref": None}]}
    assert server.get("/allocations/c").status_code == 404
    p = run(db, "allocate", "--backorder", "d", "POPCORN", "2")
    assert (p.returncode, p.stdout) == (0, "backordered\n")

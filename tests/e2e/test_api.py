"""The HTTP API over real HTTP against `scents serve` (issue 4; the seed's
test_api)."""
import json
import os
import re
import signal
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import snapshot


def rnd(name=""):
    return f"{name}-{uuid.uuid4().hex[:6]}"


def add_batch(server, ref, sku, qty, eta=None):
    r = server.post("/add_batch", json={"ref": ref, "sku": sku, "qty": qty,
                                        "eta": eta})
    assert r.status_code == 201, r.text
    return r


def test_happy_path_returns_202_and_batch_is_allocated(server):
    orderid, sku, othersku = rnd("order"), rnd("sku"), rnd("other")
    earlybatch, laterbatch, otherbatch = rnd("b1"), rnd("b2"), rnd("b3")
    add_batch(server, laterbatch, sku, 100, "2011-01-02")
    add_batch(server, earlybatch, sku, 100, "2011-01-01")
    add_batch(server, otherbatch, othersku, 100, None)
    r = server.post("/allocate", json={"orderid": orderid, "sku": sku,
                                       "qty": 3})
    assert r.status_code == 202
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"batchref": earlybatch}
    r = server.get(f"/allocations/{orderid}")
    assert r.status_code == 200
    assert r.json() == [{"sku": sku, "batchref": earlybatch}]


def test_unhappy_path_returns_400_and_error_message(server):
    unknown_sku, orderid = rnd("sku"), rnd("order")
    r = server.post("/allocate", json={"orderid": orderid,
                                       "sku": unknown_sku, "qty": 20})
    assert r.status_code == 400
    assert r.json()["message"] == f"Invalid sku {unknown_sku}"
    r = server.get(f"/allocations/{orderid}")
    assert r.status_code == 404
    assert r.json() == {"message": "not found"}


def test_out_of_stock_is_409(server):
    add_batch(server, "b1", "FOREST", 5)
    r = server.post("/allocate", json={"orderid": "o1", "sku": "FOREST",
                                       "qty": 6})
    assert r.status_code == 409
    assert r.json() == {"message": "out of stock for sku 'FOREST'"}


def test_identical_retry_returns_the_same_batch(server):
    add_batch(server, "b1", "JUNGLE", 5)
    add_batch(server, "b2", "JUNGLE", 5)
    body = {"orderid": "o1", "sku": "JUNGLE", "qty": 5}
    first = server.post("/allocate", json=body)
    again = server.post("/allocate", json=body)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json() == again.json() == {"batchref": "b1"}
    p = server.get("/products/JUNGLE").json()
    assert [b["allocated"] for b in p["batches"]] == [5, 0]


def test_conflicting_resend_is_409_and_changes_nothing(server, db):
    add_batch(server, "b1", "JUNGLE", 10)
    server.post("/allocate", json={"orderid": "o1", "sku": "JUNGLE",
                                   "qty": 2})
    before = snapshot(db)
    r = server.post("/allocate", json={"orderid": "o1", "sku": "JUNGLE",
                                       "qty": 3})
    assert r.status_code == 409
    assert r.json() == {"message": "order 'o1' already has 2 of 'JUNGLE'"}
    assert snapshot(db) == before


def test_duplicate_batch_refs(server, db):
    add_batch(server, "b1", "SEA", 10, "2027-01-01")
    add_batch(server, "b1", "SEA", 10, "2027-01-01")  # identical: no change
    before = snapshot(db)
    for body in ({"ref": "b1", "sku": "SEA", "qty": 11, "eta": "2027-01-01"},
                 {"ref": "b1", "sku": "SEA", "qty": 10, "eta": None},
                 {"ref": "b1", "sku": "OTHER", "qty": 10, "eta": None}):
        r = server.post("/add_batch", json=body)
        assert r.status_code == 409, body
        assert "b1" in r.json()["message"]
    assert snapshot(db) == before
    assert server.get("/products/SEA").json()["version"] == 1


LONG = "x" * 256
INVALID = [
    # (path, raw body, status, words the message must contain)
    ("/allocate", b"not json", 400, "not valid JSON"),
    ("/allocate", b"[1,2]", 400, "JSON object"),
    ("/allocate", b"", 400, "JSON object"),
    ("/allocate", b'{"sku":"S","qty":1}', 400, "'orderid'"),
    ("/allocate", b'{"orderid":"o","sku":"S"}', 400, "'qty'"),
    ("/allocate", b'{"orderid":"o","sku":"S","qty":"1"}', 400, "'qty'"),
    ("/allocate", b'{"orderid":"o","sku":"S","qty":1.5}', 400, "'qty'"),
    ("/allocate", b'{"orderid":"o","sku":"S","qty":true}', 400, "'qty'"),
    ("/allocate", b'{"orderid":"o","sku":"S","qty":0}', 400, "'qty'"),
    ("/allocate", b'{"orderid":"o","sku":"S","qty":1000000001}', 400,
     "'qty'"),
    ("/allocate", b'{"orderid":"o","sku":"S","qty":-1}', 400, "'qty'"),
    ("/allocate", b'{"orderid":"","sku":"S","qty":1}', 400, "'orderid'"),
    ("/allocate", b'{"orderid":7,"sku":"S","qty":1}', 400, "'orderid'"),
    ("/allocate", json.dumps({"orderid": LONG, "sku": "S", "qty": 1}
                             ).encode(), 400, "'orderid'"),
    ("/allocate", b'{"orderid":"a\\nb","sku":"S","qty":1}', 400,
     "'orderid'"),
    ("/allocate", b'{"orderid":"a\\u0000b","sku":"S","qty":1}', 400,
     "not valid JSON"),
    ("/allocate", b'{"orderid":"\xff","sku":"S","qty":1}', 400,
     "not valid JSON"),
    ("/allocate", b'{"orderid":"o","orderid":"p","sku":"S","qty":1}', 400,
     "not valid JSON"),
    ("/allocate", b"[" * 5000 + b"]" * 5000, 400, "not valid JSON"),
    ("/add_batch", b'{"ref":"r","sku":"S","qty":-1,"eta":null}', 400,
     "'qty'"),
    ("/add_batch", b'{"ref":"r","sku":"S","qty":1,"eta":"2027-02-30"}', 400,
     "'eta'"),
    ("/add_batch", b'{"ref":"r","sku":"S","qty":1,"eta":"tomorrow"}', 400,
     "'eta'"),
    ("/add_batch", b'{"ref":"r","sku":"S","qty":1,"eta":20270101}', 400,
     "'eta'"),
    ("/add_batch", b'{"ref":"r","qty":1}', 400, "'sku'"),
    ("/change_batch_quantity", b'{"ref":"b1","qty":-5}', 400, "'qty'"),
    ("/change_batch_quantity", b'{"qty":5}', 400, "'ref'"),
]


@pytest.mark.parametrize("path,body,status,words", INVALID)
def test_invalid_input_gets_a_clear_4xx_and_changes_nothing(
        server, db, path, body, status, words):
    add_batch(server, "b1", "S", 10)
    before = snapshot(db)
    r = server.post(path, data=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert words in r.json()["message"]
    assert snapshot(db) == before


def test_oversized_bodies_get_413(server, db):
    add_batch(server, "b1", "S", 10)
    before = snapshot(db)
    big = b'{"orderid":"o","sku":"S","qty":1,"pad":"' + b"x" * 70000 + b'"}'
    r = server.post("/allocate", data=big)
    assert r.status_code == 413
    # no Content-Length: counted as the chunks arrive
    r = server.post("/allocate", data=(big[i:i + 4096]
                                       for i in range(0, len(big), 4096)))
    assert r.status_code == 413
    assert "65536" in r.json()["message"]
    assert snapshot(db) == before


def test_unknown_paths_and_wrong_methods(server):
    r = server.get("/nowhere")
    assert r.status_code == 404 and "message" in r.json()
    r = server.get("/allocate")
    assert r.status_code == 405
    assert r.headers["Allow"] == "POST"
    r = server.post("/allocations/o1")
    assert r.status_code == 405 and r.headers["Allow"] == "GET, DELETE"
    assert server.get("/allocations/").status_code == 404
    r = server.get("/allocations/a/b")  # a line: it can only be deleted
    assert r.status_code == 405 and r.headers["Allow"] == "DELETE"
    assert server.get("/allocations/a/b/c").status_code == 404


def test_allocations_path_is_percent_decoded_and_validated(server):
    add_batch(server, "b1", "S", 10)
    r = server.post("/allocate", json={"orderid": "order 1/é", "sku": "S",
                                       "qty": 1})
    assert r.status_code == 202
    r = server.get("/allocations/order%201%2F%C3%A9")
    assert r.status_code == 200
    assert r.json() == [{"sku": "S", "batchref": "b1"}]
    for bad in ("a%00b", "a%zz", "%ff", "a%0Ab", "a%2"):
        status, body = server.raw("GET", "/allocations/" + bad)
        assert status == 400, bad
        assert "orderid" in json.loads(body)["message"]


def test_change_batch_quantity_endpoint(server):
    add_batch(server, "b1", "S", 10)
    add_batch(server, "b2", "S", 10, "2027-01-01")
    server.post("/allocate", json={"orderid": "o1", "sku": "S", "qty": 8})
    r = server.post("/change_batch_quantity", json={"ref": "b1", "qty": 5})
    assert r.status_code == 200
    assert server.get("/allocations/o1").json() == [
        {"sku": "S", "batchref": "b2"}]
    r = server.post("/change_batch_quantity", json={"ref": "zz", "qty": 5})
    assert r.status_code == 404
    assert r.json() == {"message": "unknown batch 'zz'"}


def test_products_listing_and_detail(server):
    for i in range(5):
        add_batch(server, f"b{i}", f"SKU-{i}", 10 + i)
    add_batch(server, "b9", "SKU-0", 5, "2027-03-04")
    server.post("/allocate", json={"orderid": "o", "sku": "SKU-0", "qty": 8})
    page = server.get("/products?limit=2").json()
    assert [p["sku"] for p in page["products"]] == ["SKU-0", "SKU-1"]
    assert page["products"][0] == {"sku": "SKU-0", "purchased": 15,
                                   "allocated": 8, "available": 7,
                                   "batches": 2, "incoming": 5}
    assert page["next"] == "SKU-1"
    page = server.get("/products?limit=2&after=SKU-1").json()
    assert [p["sku"] for p in page["products"]] == ["SKU-2", "SKU-3"]
    page = server.get("/products?after=SKU-3").json()
    assert [p["sku"] for p in page["products"]] == ["SKU-4"]
    assert page["next"] is None
    d = server.get("/products/SKU-0").json()
    assert d["version"] == 3
    assert d["batches"][1] == {"ref": "b9", "eta": "2027-03-04",
                               "purchased": 5, "allocated": 0,
                               "available": 5, "supplier": None}
    assert server.get("/products/NOPE").status_code == 404
    assert server.get("/products?limit=0").status_code == 400
    assert server.get("/products?limit=abc").status_code == 400


def test_healthz(server):
    r = server.get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_access_log_has_one_escaped_line_per_request(server):
    server.raw("GET", '/no"where%01')
    server.get("/healthz", headers={"Authorization": "Bearer s3cret"})
    time.sleep(0.2)
    log = server.text()
    assert 'method=GET path="/no\\x22where%01" status=404' in log
    assert "s3cret" not in log
    assert "path=\"/healthz\" status=200 us=" in log


def test_data_survives_kill_9_and_restart(make_server):
    s = make_server()
    add_batch(s, "b1", "S", 10)
    for i in range(20):
        assert s.post("/allocate", json={"orderid": f"o{i}", "sku": "S",
                                         "qty": 1}).status_code in (202, 409)
    s.stop(signal.SIGKILL)
    s2 = make_server()
    assert s2.get("/products/S").json()["batches"][0]["allocated"] == 10
    assert s2.get("/allocations/o9").json() == [{"sku": "S",
                                                 "batchref": "b1"}]
    assert s2.get("/allocations/o10").status_code == 404
    assert s2.stop() == 0


def test_concurrent_clients_allocate_exactly_the_stock(server, db):
    add_batch(server, "b1", "HOT", 100)

    def allocate(i):
        with requests.Session() as sess:
            return sess.post(server.url + "/allocate", timeout=60,
                             json={"orderid": f"o{i}", "sku": "HOT",
                                   "qty": 1}).status_code
    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(allocate, range(300)))
    assert codes.count(202) == 100
    assert codes.count(409) == 200
    assert server.get("/products/HOT").json()["batches"][0]["allocated"] \
        == 100
    assert snapshot(db)["allocations_view"].__len__() == 100


def raw_request(url, head_and_partial_body):
    host, port = url.replace("http://", "").rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(head_and_partial_body)
    return sock


def read_response(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                      if l.lower().startswith(b"content-length")]
            if length and len(body) >= length[0]:
                break
    return data


def test_graceful_shutdown_finishes_an_in_flight_request(make_server):
    s = make_server()
    add_batch(s, "b1", "S", 10)
    body = b'{"orderid":"late","sku":"S","qty":2}'
    sock = raw_request(s.url, b"POST /allocate HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert s.proc.poll() is None  # still draining the request
    sock.sendall(body[10:])
    resp = read_response(sock)
    sock.close()
    assert resp.startswith(b"HTTP/1.1 202")
    assert b'"batchref":"b1"' in resp
    assert s.proc.wait(20) == 0
    assert "event=stopped" in s.text()


def test_a_client_trickling_headers_does_not_block_others(server):
    slow = [raw_request(server.url, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            for _ in range(8)]
    try:
        t0 = time.time()
        for _ in range(20):
            assert server.get("/healthz").status_code == 200
        assert time.time() - t0 < 10
    finally:
        for sock in slow:
            sock.close()


def test_the_api_description_is_served_and_agrees_with_the_docs(server):
    import conftest
    r = server.get("/openapi.json")
    assert r.status_code == 200
    assert r.json() == conftest.SPEC  # byte for byte the repository's
    # docs/api.md names exactly the operations the description has
    with open(os.path.join(conftest.ROOT, "docs", "api.md")) as f:
        doc = set(re.findall(r"^\| `(GET|POST|PUT|DELETE) (/[^`? ]*)", f.read(),
                             re.M))
    spec = {(m.upper(), p) for p, ops in conftest.SPEC["paths"].items()
            for m in ops}
    assert doc == spec, (doc - spec, spec - doc)


def test_the_response_check_catches_what_the_description_does_not_allow():
    import jsonschema
    from conftest import check_response
    ok = b'{"batchref":"b1"}'
    check_response("POST", "http://x/allocate", 202,
                   {"Content-Type": "application/json"}, ok)
    for status, body in ((202, b'{"batchref":"b1","extra":1}'),
                         (202, b'{"batchref":""}'),
                         (418, ok),
                         (200, b'{"message":"OK"}')):
        with pytest.raises((AssertionError, jsonschema.ValidationError)):
            check_response("POST", "http://x/allocate", status,
                           {"Content-Type": "application/json"}, body)

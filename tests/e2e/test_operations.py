"""What operators and integrators expect (issue 11): request ids, JSON
logs, the start-up line, metrics, and the conventional CLI - against the
real binary."""
import json
import re

import requests

from conftest import Server


def test_request_ids_are_echoed_or_made_and_logged(server):
    r = server.get("/products", headers={"X-Request-Id": "trace-42.a:b"})
    assert r.headers["X-Request-Id"] == "trace-42.a:b"
    made = server.get("/products").headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{16}", made)
    other = server.get("/products").headers["X-Request-Id"]
    assert other != made
    # an unsafe id is replaced, not echoed
    r = server.get("/products", headers={"X-Request-Id": "a b\"c" * 3})
    assert re.fullmatch(r"[0-9a-f]{16}", r.headers["X-Request-Id"])
    r = server.post("/allocate", json={"orderid": "o", "sku": "NOPE",
                                       "qty": 1},
                    headers={"X-Request-Id": "bad-sku-1"})
    assert r.headers["X-Request-Id"] == "bad-sku-1"
    log = server.text()
    assert re.search(r'path="/products" status=200 .* client=127\.0\.0\.1 '
                     r'request_id=trace-42\.a:b', log)
    assert f"request_id={made}" in log
    assert 'path="/allocate" status=400' in log and "request_id=bad-sku-1" \
        in log


def test_json_logs_and_the_start_line(db):
    s = Server(db, {"LOG_FORMAT": "json",
                    "SMTP_URL": "smtp://u:hunter2@127.0.0.1:1"})
    s.env["HTTP_PORT"] = "0"
    import subprocess
    import time
    from conftest import BIN
    log = open(db + ".jsonlog", "wb")
    p = subprocess.Popen([BIN, "serve"], env=s.env, stdout=log, stderr=log)
    try:
        for _ in range(200):
            lines = open(db + ".jsonlog").read().splitlines()
            listening = [json.loads(l) for l in lines
                         if '"event":"listening"' in l]
            if listening:
                break
            time.sleep(0.05)
        url = listening[0]["url"].rstrip("/")
        requests.get(url + "/products", headers={"X-Request-Id": "j1"},
                     timeout=10)
    finally:
        p.terminate()
        p.wait(20)
        log.close()
    objs = [json.loads(l) for l in open(db + ".jsonlog").read().splitlines()]
    start = [o for o in objs if o.get("event") == "start"][0]
    assert start["version"] and start["database_url"] == "sqlite:" + db
    assert start["smtp_url"] == "smtp://u:***@127.0.0.1:1/"
    access = [o for o in objs if o.get("path") == "/products"][0]
    assert access["status"] == "200" and access["request_id"] == "j1"
    assert all(o["ts"] and o["level"] for o in objs)
    assert "hunter2" not in open(db + ".jsonlog").read()

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


def metrics(server):
    from prometheus_client.parser import text_string_to_metric_families
    r = server.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    out = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def sample(m, name, **labels):
    return m.get((name, tuple(sorted(labels.items()))), 0)


def test_metrics_move_as_requests_are_made(server):
    before = metrics(server)
    server.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 2})
    for i in range(3):
        server.post("/allocate", json={"orderid": f"o{i}", "sku": "S",
                                       "qty": 1})
    server.get("/nope")
    after = metrics(server)
    assert sample(after, "scents_http_requests_total", route="/allocate",
                  status="202") - sample(before, "scents_http_requests_total",
                                         route="/allocate", status="202") == 2
    assert sample(after, "scents_http_requests_total", route="/allocate",
                  status="409") == 1  # the third: out of stock
    assert sample(after, "scents_http_requests_total", route="other",
                  status="404") == 1
    assert sample(after, "scents_http_request_duration_seconds_count",
                  route="/allocate") == 3
    assert sample(after, "scents_http_request_duration_seconds_bucket",
                  route="/allocate", le="+Inf") == 3
    assert sample(after, "scents_store_commits_total") >= 4
    assert 1 <= sample(after, "scents_store_syncs_total") <= \
        sample(after, "scents_store_commits_total")
    assert sample(after, "scents_database_size_bytes") > 0
    assert ("scents_outbox_pending", ()) in after
    assert ("scents_bus_retries_total", ()) in after
    assert sample(after, "scents_http_connections_open") >= 1
    assert ("scents_http_connections_evicted_total", ()) in after
    # the relay delivers to the log here: counted as deliveries
    from conftest import wait_for
    wait_for(lambda: sample(metrics(server), "scents_deliveries_total",
                            channel="line_allocated") >= 2,
             what="deliveries counted")

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


def test_the_batched_writer_runs_concurrent_commands_in_shared_transactions(
        db):
    """SQLITE_BATCH=on (decisions/0013): 32 clients allocate at once through
    16 event loops; every 202 is stored, commands shared transactions, a
    failing command in a batch got its own error, and the store's checks
    pass."""
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from conftest import BIN
    s = Server(db, {"SQLITE_BATCH": "on", "HTTP_THREADS": "16"}).start()
    try:
        assert s.post("/add_batch", json={"ref": "b1", "sku": "S",
                                          "qty": 500}).status_code == 201

        def client(n):
            http = requests.Session()
            out = []
            for i in range(15):
                r = http.post(s.url + "/allocate", timeout=30, json={
                    "orderid": f"c{n}-{i}", "sku": "S", "qty": 1})
                out.append((f"c{n}-{i}", r.status_code))
            # the same order with another qty: refused alone, in a batch
            r = http.post(s.url + "/allocate", timeout=30, json={
                "orderid": f"c{n}-0", "sku": "S", "qty": 2})
            out.append(("conflict", r.status_code))
            return out

        with ThreadPoolExecutor(32) as ex:
            results = [x for part in ex.map(client, range(32)) for x in part]
        acked = [o for o, st in results if o != "conflict" and st == 202]
        assert len(acked) == 32 * 15
        assert [st for o, st in results if o == "conflict"] == [409] * 32
        for orderid in acked[::7]:
            assert s.get(f"/allocations/{orderid}").json() == [
                {"sku": "S", "batchref": "b1"}]
        assert s.get("/products/S").json()["batches"][0]["allocated"] == \
            32 * 15
        m = dict(re.findall(r"^(scents_writer_\w+) (\d+)",
                            s.get("/metrics").text, re.M))
        batches = int(m["scents_writer_batches_total"])
        commands = int(m["scents_writer_commands_total"])
        inline = int(m["scents_writer_inline_total"])
        # add_batch, allocations, conflicts: in batches, or inline while
        # the writer was idle (the lone add_batch at least)
        assert commands + inline == 1 + 32 * 16, m
        assert inline >= 1, m
        assert batches < commands, m     # some commands shared a commit
        # where batched commands waited: every stage took some time, and
        # their mean is below the slowest request's whole round trip
        stage = {k: float(v) for k, v in re.findall(
            r'^scents_writer_seconds_total\{stage="(\w+)"\} ([0-9.]+)',
            s.get("/metrics").text, re.M)}
        assert sorted(stage) == ["queued", "running", "syncing"], stage
        assert stage["running"] > 0 and stage["syncing"] > 0, stage
        assert sum(stage.values()) / commands < 30, stage
    finally:
        assert s.stop() == 0
    check = subprocess.run([BIN, "check"], capture_output=True, text=True,
                           env={"DATABASE_URL": "sqlite:" + db})
    assert check.returncode == 0 and " 0 problems" in check.stdout, \
        check.stdout + check.stderr


def test_pipelined_commands_are_answered_in_order_while_parked(db):
    """Three allocations sent in one write on one connection while other
    clients keep the batched writer busy (so each is parked, decisions/
    0013): the connection is muted while parked, and every request is
    answered, in order, with its own result."""
    import socket
    import threading
    import time
    s = Server(db, {"SQLITE_BATCH": "on"}).start()
    stop = threading.Event()
    try:
        assert s.post("/add_batch", json={"ref": "b1", "sku": "S",
                                          "qty": 100000}).status_code == 201

        def busy(n):
            http = requests.Session()
            i = 0
            while not stop.is_set():
                http.post(s.url + "/allocate", timeout=30, json={
                    "orderid": f"busy-{n}-{i}", "sku": "S", "qty": 1})
                i += 1
        threads = [threading.Thread(target=busy, args=(n,))
                   for n in range(8)]
        for t in threads:
            t.start()
        host, port = s.url.replace("http://", "").rsplit(":", 1)
        for k in range(10):  # the timing below hits the muted path often
            bodies = [
                json.dumps({"orderid": f"pipe-{k}", "sku": "S", "qty": 1}),
                json.dumps({"orderid": f"pipe-{k}", "sku": "S", "qty": 2}),
                json.dumps({"orderid": f"nope-{k}", "sku": "NOPE",
                            "qty": 1})]
            wire = b"".join(
                (f"POST /allocate HTTP/1.1\r\nHost: x\r\n"
                 f"Content-Type: application/json\r\n"
                 f"Content-Length: {len(b)}\r\n\r\n{b}").encode()
                for b in bodies)
            first = len(wire) // 3 + 10  # request 1, a piece of request 2
            with socket.create_connection((host, int(port)),
                                          timeout=30) as sock:
                sock.sendall(wire[:first])
                # the rest arrives while request 1 is parked (the writer
                # is busy for milliseconds per batch): the muted path
                time.sleep(0.0005)
                sock.sendall(wire[first:])
                data = b""
                statuses = []
                while len(statuses) < 3:
                    chunk = sock.recv(65536)
                    assert chunk, (statuses, data)
                    data += chunk
                    while b"\r\n\r\n" in data:
                        head, _, rest = data.partition(b"\r\n\r\n")
                        length = int(re.search(
                            rb"(?i)content-length: *(\d+)", head).group(1))
                        if len(rest) < length:
                            break
                        statuses.append((int(head.split()[1]),
                                         json.loads(rest[:length])))
                        data = rest[length:]
            assert statuses[0] == (202, {"batchref": "b1"})
            assert statuses[1][0] == 409  # same line, another qty
            assert statuses[2][0] == 400  # unknown sku
        stop.set()
        for t in threads:
            t.join()
        m = dict(re.findall(r"^(scents_writer_\w+) (\d+)",
                            s.get("/metrics").text, re.M))
        assert int(m["scents_writer_batches_total"]) > 0, m
    finally:
        stop.set()
        assert s.stop() == 0

"""Scale-out (issue 12): three `scents serve` processes on one PostgreSQL,
32 clients over a hot and ten cold SKUs, batch quantities changing under
them, one server killed with SIGKILL and restarted, and PostgreSQL itself
restarted in immediate mode (a crash), all during the load.

A checker samples the database throughout: no batch over-allocated (by
its lines, not only its total), every total equal to its lines, the read
model equal to the write model.  Every 202 is journaled and must be
readable afterwards; no 5xx but 503, and 503 only around the outages;
every Allocated event delivered at least once."""
import collections
import json
import os
import random
import re
import signal
import threading
import time

import pytest
import requests

from conftest import SANITIZER, Server, pg_ctl, psql, run, wait_for


@pytest.fixture
def started():
    """Servers a test starts; any still running when it ends (a failed
    assertion) are killed, so nothing outlives the test."""
    servers = []
    yield servers
    for s in servers:
        if s.proc and s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()

CLIENTS = 32
SECONDS = 24
KILL_AT, PG_RESTART_AT = 7, 14
COLD = [f"COLD-{i}" for i in range(10)]

# Every row is one violation; run as one statement, so one snapshot.
CHECK_SQL = """
SELECT
 (SELECT count(*) FROM batches b WHERE (SELECT COALESCE(SUM(qty), 0)
   FROM allocations WHERE batch_id = b.id) > b.purchased_quantity),
 (SELECT count(*) FROM batches WHERE allocated_quantity > purchased_quantity),
 (SELECT count(*) FROM (SELECT b.id FROM batches b LEFT JOIN allocations a
   ON a.batch_id = b.id GROUP BY b.id
   HAVING b.allocated_quantity != COALESCE(SUM(a.qty), 0)) t),
 (SELECT count(*) FROM allocations a JOIN batches b ON b.id = a.batch_id
   LEFT JOIN allocations_view v ON v.orderid = a.orderid AND v.sku = a.sku
   WHERE v.batchref IS DISTINCT FROM b.reference),
 (SELECT count(*) FROM allocations_view v LEFT JOIN allocations a
   ON a.orderid = v.orderid AND a.sku = v.sku WHERE a.id IS NULL)
"""


class Load:
    def __init__(self, servers):
        self.servers = servers          # list, replaced on restart
        self.lock = threading.Lock()
        self.acked = []                 # (orderid, sku) answered 202
        self.status = collections.Counter()
        self.err503 = []                # (time, message)
        self.bad = []                   # 5xx other than 503, with text
        self.dropped = 0                # connections cut (server killed)
        self.stop = threading.Event()

    def url(self, i):
        return self.servers[i % len(self.servers)].url

    def client(self, n):
        rnd = random.Random(n)
        http = requests.Session()
        i = 0
        while not self.stop.is_set():
            i += 1
            sku = "HOT" if rnd.random() < 0.5 else rnd.choice(COLD)
            orderid = f"c{n}-{i}"
            try:
                r = http.post(self.url(n + i) + "/allocate", timeout=30,
                              json={"orderid": orderid, "sku": sku,
                                    "qty": rnd.randint(1, 3)})
            except requests.ConnectionError:
                with self.lock:
                    self.dropped += 1
                http = requests.Session()
                time.sleep(0.05)
                continue
            self.record(r, (orderid, sku))

    def record(self, r, line=None):
        with self.lock:
            self.status[r.status_code] += 1
            if r.status_code == 202 and line:
                self.acked.append(line)
            elif r.status_code == 503:
                self.err503.append((time.monotonic(), r.text))
            elif r.status_code >= 500:
                self.bad.append((r.status_code, r.text))

    def changer(self, redis_client):
        """Resize the hot warehouse batch up and down: a shrink below its
        allocation moves the newest lines to the big shipment.  Every
        other change goes as a message on the change_batch_quantity
        stream, which the servers share through one consumer group."""
        rnd = random.Random(99)
        http = requests.Session()
        self.stream_ids = []
        while not self.stop.is_set():
            qty = rnd.randint(200, 600)
            if rnd.random() < 0.5:
                self.stream_ids.append(redis_client.xadd(
                    "change_batch_quantity", {"data": json.dumps(
                        {"batchref": "hot-wh", "qty": qty})}))
            else:
                try:
                    r = http.post(self.url(rnd.randrange(3)) +
                                  "/change_batch_quantity", timeout=30,
                                  json={"ref": "hot-wh", "qty": qty})
                    self.record(r)
                except requests.ConnectionError:
                    http = requests.Session()
            time.sleep(0.1)


def test_three_servers_one_postgresql_under_load_and_failures(
        tmp_path, pg_url, redis_server, started):
    env = {"DATABASE_URL": pg_url, "HTTP_THREADS": "4",
           "REDIS_URL": redis_server.url, "REDIS_MODE": "streams"}
    servers = [Server(str(tmp_path / f"s{i}.db"), env).start()
               for i in range(3)]
    started.extend(servers)
    load = Load(servers)
    s0 = servers[0]
    s0.post("/add_batch", json={"ref": "hot-wh", "sku": "HOT", "qty": 400})
    s0.post("/add_batch", json={"ref": "hot-ship", "sku": "HOT",
                                "qty": 1000000, "eta": "2031-01-01"})
    for sku in COLD:
        s0.post("/add_batch", json={"ref": sku.lower(), "sku": sku,
                                    "qty": 1000000})

    samples, violations, unreachable = 0, [], 0

    def checker():
        nonlocal samples, unreachable
        while not load.stop.is_set():
            try:
                row = psql(pg_url, CHECK_SQL)[0]
            except AssertionError:      # PostgreSQL restarting
                unreachable += 1
                time.sleep(0.2)
                continue
            samples += 1
            if row != ["0"] * 5:
                violations.append(row)
            time.sleep(0.2)

    threads = [threading.Thread(target=load.client, args=(n,))
               for n in range(CLIENTS)]
    for s in servers:
        wait_for(lambda: "consumer=subscribed stream=" in s.text(),
                 what="consumer group joined")
    threads += [threading.Thread(target=load.changer,
                                 args=(redis_server.client(),)),
                threading.Thread(target=checker)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    try:
        time.sleep(KILL_AT)
        servers[1].proc.send_signal(signal.SIGKILL)     # kill -9 ...
        servers[1].proc.wait()
        servers[1].log.close()
        servers[1] = Server(servers[1].db, env).start()  # ... and restart
        started.append(servers[1])
        time.sleep(PG_RESTART_AT - (time.monotonic() - t0))
        t_pg = time.monotonic()
        pg_ctl("restart-immediate")
        t_pg_up = time.monotonic()
        time.sleep(max(0, SECONDS - (time.monotonic() - t0)))
    finally:
        load.stop.set()
        for t in threads:
            t.join(60)

    # the figures, for the closing note and docs/scaling.md
    print(f"\nscale-out: {sum(load.status.values())} requests, "
          f"{dict(load.status)}, {len(load.acked)} acknowledged, "
          f"{load.dropped} connections cut by the kill, "
          f"{samples} checker samples ({unreachable} while PostgreSQL was "
          f"down), {len(violations)} violations")

    assert samples >= 20
    assert not violations, violations[:5]
    assert not load.bad, load.bad[:5]
    # 503 only while PostgreSQL was down (and the moment around it)
    late = [(t - t_pg, m) for t, m in load.err503
            if not (t_pg - 1 <= t <= t_pg_up + 5)]
    assert not late, late[:5]
    assert len(load.acked) > 500

    # every acknowledged line is readable, on every server
    wait_for(lambda: servers[0].get("/readyz").status_code == 200,
             what="ready after the restart")
    http = requests.Session()
    for k, (orderid, sku) in enumerate(load.acked):
        url = servers[k % 3].url + "/allocations/" + orderid
        r = http.get(url, timeout=30)
        assert r.status_code == 200, (orderid, r.text)
        assert [x["sku"] for x in r.json()] == [sku], (orderid, r.text)

    # each stream message applied by one server of the group
    def applied():
        seen = collections.Counter()
        for s in servers:
            with open(s.log_path, "rb") as f:
                seen.update(m.decode() for m in re.findall(
                    rb"consumer=applied stream=change_batch_quantity "
                    rb"id=(\S+)", f.read()))
        return seen
    # First: the killed server's pending stream messages are claimed by
    # another one after 30 s, and a shrink they carry writes new events
    # (its reallocations).  Counting events before they are all applied
    # once found 5 Allocated rows written after the outbox looked drained.
    wait_for(lambda: set(load.stream_ids) <= set(applied()), timeout=60,
             step=1, what="every stream message applied")
    # every event leaves, at least once with its id (a lease held by the
    # killed server expires after 30 s, then another server sends it)
    wait_for(lambda: psql(pg_url, "SELECT count(*) FROM outbox WHERE"
                          " sent_at IS NULL") == [["0"]],
             timeout=90, step=1, what="outbox drained")
    # published on the line_allocated stream, each entry with its id
    published = collections.Counter(
        fields["id"] for _, fields in
        redis_server.client().xrange("line_allocated", "-", "+"))
    allocated_ids = {r[0] for r in psql(
        pg_url, "SELECT id FROM outbox WHERE kind = 'Allocated'")}
    missing = allocated_ids - set(published)
    assert not missing, sorted(missing)[:5]
    dupes = sum(1 for i in allocated_ids if published[i] > 1)
    print(f"scale-out: {len(allocated_ids)} Allocated events, all "
          f"delivered; {dupes} delivered twice (at least once)")
    seen = applied()
    twice = [i for i in load.stream_ids if seen[i] > 1]
    print(f"scale-out: {len(load.stream_ids)} stream messages, each "
          f"applied by one server; {len(twice)} applied twice")
    assert not twice, twice[:5]
    check = run(str(tmp_path / "cli.db"), "check", env={
        "DATABASE_URL": pg_url})
    assert check.returncode == 0 and " 0 problems" in check.stdout, \
        check.stdout + check.stderr
    for s in servers:
        assert s.stop() == 0, s.text()[-2000:]
        assert not SANITIZER.search(s.text()), s.text()[-4000:]


def test_nginx_config_in_the_repo_spreads_and_routes_around(tmp_path,
                                                            pg_url, started):
    """dist/nginx/scents.conf, as shipped (ports substituted), in front of
    three servers on one PostgreSQL."""
    import shutil
    import subprocess
    from conftest import ROOT, free_port
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    env = {"DATABASE_URL": pg_url}
    servers = [Server(str(tmp_path / f"n{i}.db"), env).start()
               for i in range(3)]
    started.extend(servers)
    with open(os.path.join(ROOT, "dist", "nginx", "scents.conf")) as f:
        conf = f.read()
    for i, s in enumerate(servers):
        conf = conf.replace(f"127.0.0.1:{5005 + i}",
                            s.url.replace("http://", ""))
    port = free_port()
    conf = conf.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
    (tmp_path / "scents.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\nhttp {\n"
        f"  access_log {tmp_path}/access.log;\n"
        f"  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/scents.conf;\n}}\n")
    proc = subprocess.Popen([nginx, "-p", str(tmp_path), "-c",
                             str(tmp_path / "nginx.conf"), "-g",
                             "daemon off;"], stderr=subprocess.PIPE)
    try:
        front = f"http://127.0.0.1:{port}"
        def up():
            try:
                return requests.get(front + "/healthz",
                                    timeout=5).status_code == 200
            except requests.ConnectionError:
                assert proc.poll() is None, proc.stderr.read().decode()
                return False
        wait_for(up, what="nginx up")
        assert requests.post(front + "/add_batch", timeout=10, json={
            "ref": "b1", "sku": "S", "qty": 1000}).status_code == 201
        with requests.Session() as http:
            for i in range(60):
                r = http.post(front + "/allocate", timeout=10, json={
                    "orderid": f"o{i}", "sku": "S", "qty": 1})
                assert r.status_code == 202, r.text
                rid = r.headers["X-Request-Id"]
                assert re.fullmatch(r"[0-9a-f]{32}", rid), rid
        # every server took a share (least_conn over keep-alive)
        for s in servers:
            assert s.text().count('method=POST path="/allocate"') >= 1, \
                s.text()[-500:]
        # nginx's request id is the one scents logs and answers with
        assert any(f"request_id={rid}" in s.text() for s in servers)
        # one server dies: reads still answer, through the others
        servers[0].proc.send_signal(signal.SIGKILL)
        servers[0].proc.wait()
        for i in range(30):
            r = requests.get(front + f"/allocations/o{i}", timeout=10)
            assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(10)
        for s in servers[1:]:
            assert s.stop() == 0

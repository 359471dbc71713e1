"""Safe to expose (issue 10): API tokens and scopes, strict requests,
protocol hardening, secrets kept out of logs, readiness.  Every test runs
the real binary over real sockets on loopback."""
import os
import re
import resource
import socket
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

from conftest import (BIN, SANITIZER, Server, error_line, free_port, run,
                      snapshot, wait_for)

JSON = {"Content-Type": "application/json"}
SCOPES = ("read", "allocate", "stock", "admin")


def make_token(db, name, *scopes):
    p = run(db, "token", "create", "--name", name, "--scope", ",".join(scopes))
    assert p.returncode == 0, p.stderr
    token = p.stdout.strip()
    assert re.fullmatch(r"sct_[A-Za-z0-9_-]{43}", token), token
    return token


def bearer(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


# (method, path, json body, scope needed); one row per route.
ROUTES = [
    ("GET", "/products", None, "read"),
    ("GET", "/products/SKU", None, "read"),
    ("GET", "/allocations/o1", None, "read"),
    ("GET", "/sourcing/decisions", None, "read"),
    ("GET", "/sourcing/decisions/SKU", None, "read"),
    ("POST", "/allocate", {"orderid": "o1", "sku": "SKU", "qty": 1},
     "allocate"),
    ("POST", "/add_batch", {"ref": "b1", "sku": "SKU", "qty": 5}, "stock"),
    ("POST", "/change_batch_quantity", {"ref": "b1", "qty": 5}, "stock"),
    ("POST", "/change_batch_eta", {"ref": "b1", "eta": None}, "stock"),
    ("DELETE", "/allocations/o1", None, "allocate"),
    ("DELETE", "/allocations/o1/SKU", None, "allocate"),
    ("PUT", "/products/SKU/low_stock", {"threshold": 1}, "stock"),
    ("GET", "/customers/c1", None, "read"),
    ("POST", "/customers", {"id": "c1", "name": "C"}, "admin"),
    ("GET", "/deliveries", None, "admin"),
    ("POST", "/deliveries/1/replay", None, "admin"),
    ("POST", "/sourcing/research", {"rows": []}, "admin"),
    ("GET", "/tokens", None, "admin"),
    ("POST", "/tokens", {"name": "x", "scopes": ["nope"]}, "admin"),
    ("DELETE", "/tokens/nobody", None, "admin"),
]


def test_every_route_needs_its_scope_once_a_token_exists(make_server, db):
    tokens = {scope: make_token(db, f"t-{scope}", scope) for scope in SCOPES}
    s = make_server()
    checked = 0
    for method, path, body, need in ROUTES:
        for who in (None, "sct_" + "A" * 43, *SCOPES):
            token = tokens.get(who, who)
            r = requests.request(method, s.url + path, json=body,
                                 headers=bearer(token), timeout=30)
            what = f"{method} {path} as {who}"
            assert r.headers["Content-Type"] == "application/json", what
            assert "message" in r.json() or r.ok, what
            if who is None or who.startswith("sct_"):
                assert r.status_code == 401, what
                assert r.headers["WWW-Authenticate"].startswith(
                    'Bearer realm="scents"'), what
            elif who == need or who == "admin":
                assert r.status_code not in (401, 403), what
            else:
                assert r.status_code == 403, what
                assert "insufficient_scope" in r.headers["WWW-Authenticate"]
            checked += 1
    assert checked == len(ROUTES) * (2 + len(SCOPES))
    for path in ("/healthz", "/readyz"):  # liveness and readiness: open
        assert s.get(path).status_code == 200


def test_without_tokens_loopback_stays_open_and_others_refuse(make_server,
                                                              db):
    s = make_server()
    assert s.post("/add_batch", json={"ref": "b", "sku": "S",
                                      "qty": 1}).status_code == 201
    s.stop()
    p = subprocess.run([BIN, "serve"], capture_output=True, text=True,
                       timeout=30,
                       env=dict(os.environ, DATABASE_URL="sqlite:" + db,
                                HTTP_HOST="0.0.0.0", HTTP_PORT="0"))
    assert p.returncode == 1
    assert "refusing to serve on 0.0.0.0 without an API token" in p.stderr
    assert "scents token create" in p.stderr


def test_a_revoked_token_stops_working_and_the_secret_is_never_stored(
        make_server, db):
    admin = make_token(db, "ops", "admin")
    s = make_server()
    r = s.post("/tokens", json={"name": "reader", "scopes": ["read"]},
               headers=bearer(admin))
    assert r.status_code == 201
    reader = r.json()["token"]
    assert r.json()["scopes"] == ["read"]
    assert s.get("/products", headers=bearer(reader)).status_code == 200
    listed = s.get("/tokens", headers=bearer(admin)).json()
    assert [t["name"] for t in listed] == ["ops", "reader"]
    assert all("token" not in t and "hash" not in t for t in listed)
    r = s.post("/tokens", json={"name": "reader", "scopes": ["read"]},
               headers=bearer(admin))
    assert r.status_code == 409  # names are never reused
    r = requests.delete(s.url + "/tokens/reader", headers=bearer(admin),
                        timeout=30)
    assert r.status_code == 200
    wait_for(lambda: s.get("/products", headers=bearer(reader)
                           ).status_code == 401, timeout=5,
             what="revocation to take effect (at most 1 s)")
    p = run(db, "token", "list")
    assert re.search(r"reader\s+revoked\s+read", p.stdout), p.stdout
    s.stop()
    with open(db, "rb") as f:
        raw = f.read()
    for secret in (admin, reader):
        assert secret.encode() not in raw
        assert secret not in s.text()


def test_token_commands_check_their_input(db):
    cases = [
        (["token", "create", "--name", "x"], 2),
        (["token", "create", "--scope", "read"], 2),
        (["token", "create", "--name", "x", "--scope", "root"], 2),
        (["token", "create", "--name", "bad name", "--scope", "read"], 2),
        (["token", "revoke", "ghost"], 1),
        (["token", "frobnicate"], 2),
    ]
    for args, code in cases:
        p = run(db, *args)
        assert p.returncode == code, (args, p.stderr)
        assert error_line(p).startswith("scents: "), args
        assert p.stdout == "", args
    assert run(db, "token", "list").stdout == ""


def test_a_cross_site_text_plain_post_is_refused(server, db):
    server.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 10})
    before = snapshot(db)
    for ctype in ("text/plain", "application/x-www-form-urlencoded",
                  "multipart/form-data; boundary=x", None):
        headers = {"Content-Type": ctype} if ctype else {}
        r = server.post("/change_batch_quantity",
                        data=b'{"ref":"b1","qty":0}', headers=headers)
        assert r.status_code == 415, ctype
        assert r.json() == {"message": "Content-Type must be "
                                       "application/json"}
    r = server.post("/change_batch_quantity", data=b'{"ref":"b1","qty":0}',
                    headers={"Content-Type": "application/json; "
                                             "charset=utf-8"})
    assert r.status_code == 200  # parameters after the type are fine
    assert snapshot(db) != before


def test_an_unknown_field_is_named_and_changes_nothing(server, db):
    before = snapshot(db)
    r = server.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 10,
                                        "ETA": "2027-06-01"})
    assert r.status_code == 400
    assert r.json() == {"message": "unknown field 'ETA'"}
    r = server.post("/allocate", json={"orderid": "o", "sku": "S", "qty": 1,
                                       "priority": 1})
    assert r.json() == {"message": "unknown field 'priority'"}
    r = server.post("/sourcing/research", json={"rows": [
        {"scent": "x", "expensive_favorability_pct": 1,
         "cheap_favorability_pct": 1, "expensive_cost_usd": 1,
         "cheap_cost_usd": 1, "respondent": 3}]})
    assert r.status_code == 400
    assert "unknown field 'respondent'" in r.json()["message"]
    assert snapshot(db) == before


def raw_exchange(url, data, timeout=10):
    host, port = url.replace("http://", "").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


@pytest.mark.parametrize("request_bytes,status", ids=[
    "no-host", "two-hosts", "two-lengths", "chunked-and-length",
    "huge-header", "http2", "garbage", "huge-chunk-extension",
    "bad-chunk-size", "gzip-coding"], argvalues=[
    (b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"POST /allocate HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
     b"Content-Length: 3\r\n\r\n{}x", 400),
    (b"POST /allocate HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
     b"Content-Length: 5\r\n\r\n2\r\n{}\r\n0\r\n\r\n", 400),
    (b"GET /healthz HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 70000 +
     b"\r\n\r\n", 431),
    (b"GET /healthz HTTP/2.0\r\nHost: a\r\n\r\n", 505),
    (b"HELLO\r\n\r\n", 400),
    (b"POST /allocate HTTP/1.1\r\nHost: a\r\nContent-Type: application/json"
     b"\r\nTransfer-Encoding: chunked\r\n\r\n2;" + b"x" * 100000 +
     b"\r\n{}\r\n0\r\n\r\n", 400),
    (b"POST /allocate HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
     b"\r\nzz\r\n{}\r\n0\r\n\r\n", 400),
    (b"POST /allocate HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
     b"\r\nxx", 501),
])
def test_protocol_errors_are_json_and_delivered(server, request_bytes,
                                                status):
    resp = raw_exchange(server.url, request_bytes)
    head, _, body = resp.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), resp[:200]
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert b"\r\nConnection: close\r\n" in head + b"\r\n"
    assert body.startswith(b'{"message":"'), body


def test_large_bodies_get_413_never_a_reset(server):
    resets, statuses = 0, {}
    one_mib, big = b"x" * (1 << 20), b"x" * (16 << 20)
    for i in range(400):
        body = big if i % 4 == 0 else one_mib  # 100 of 16 MiB, 300 of 1
        try:
            r = server.post("/allocate", data=body, headers=JSON)
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        except requests.exceptions.ConnectionError:
            resets += 1
    print(f"large bodies: {statuses}, resets {resets} of 400")
    assert resets == 0
    assert statuses == {413: 400}


def test_trickling_sockets_do_not_starve_a_normal_client(server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    assert min(hard, 8192) >= 1200, "this test needs 1 200 descriptors"
    host, port = server.url.replace("http://", "").rsplit(":", 1)
    slow, stop = [], threading.Event()
    for _ in range(1000):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"G")
        slow.append(s)

    def trickle():  # one more byte of the head every 2 s, on every socket
        while not stop.wait(2):
            for s in slow:
                try:
                    s.sendall(b"E")
                except OSError:
                    pass
    t = threading.Thread(target=trickle, daemon=True)
    t.start()
    ok, times = 0, []
    deadline = time.time() + 45
    try:
        for _ in range(200):
            if time.time() > deadline:
                break
            t0 = time.time()
            try:
                ok += server.get("/products").status_code == 200
            except requests.exceptions.RequestException:
                pass
            times.append(time.time() - t0)
            time.sleep(0.05)
    finally:
        stop.set()
        t.join()
        for s in slow:
            s.close()
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    m = re.search(r"^scents_http_connections_evicted_total (\S+)$",
                  server.get("/metrics").text, re.M)
    evicted = float(m.group(1))
    print(f"trickling: {ok}/200 ok, p99 {p99 * 1000:.1f} ms, "
          f"{evicted:.0f} idlers evicted")
    assert ok >= 198  # >= 99%
    assert p99 < 0.1
    assert evicted >= 1000 - 256  # the address's limit made room


def test_a_second_server_on_the_same_port_fails_clearly(make_server, db):
    first = make_server()
    port = first.url.rsplit(":", 1)[1]
    p = subprocess.run([BIN, "serve"], capture_output=True, text=True,
                       timeout=30, env=dict(os.environ,
                                            DATABASE_URL="sqlite:" + db + "2",
                                            HTTP_PORT=port))
    assert p.returncode == 1
    assert f"cannot listen on 127.0.0.1 port {port}: Address already in " \
        "use" in error_line(p)
    with socket.socket() as other:  # someone else's listener, too
        other.bind(("127.0.0.1", 0))
        other.listen()
        p = subprocess.run([BIN, "serve"], capture_output=True, text=True,
                           timeout=30, env=dict(
                               os.environ, DATABASE_URL="sqlite:" + db + "3",
                               HTTP_PORT=str(other.getsockname()[1])))
        assert p.returncode == 1 and "already in use" in p.stderr


def test_passwords_and_tokens_never_reach_the_logs(make_server, db,
                                                   redis_with_password):
    token = make_token(db, "ops", "admin")
    closed = free_port()
    env = {"SMTP_URL": f"smtp://mailer:hunter2-smtp@127.0.0.1:{closed}",
           "REDIS_URL": redis_with_password.url}
    s = make_server(env)
    s.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 1},
           headers=bearer(token))
    s.post("/allocate", json={"orderid": "o1", "sku": "S", "qty": 5},
           headers=bearer(token))  # out of stock: a mail that fails
    wait_for(lambda: "smtp smtp://mailer:***@127.0.0.1" in s.text(),
             what="a failed delivery logged")
    p = run(db, "allocations", "o1", env={
        "DATABASE_URL": "postgresql://app:hunter2-pg@127.0.0.1:1/db"})
    s.stop()
    logs = s.text() + p.stderr
    for secret in ("hunter2-smtp", "hunter2-pg", "s3cret-redis-pw", token):
        assert secret not in logs, secret
    assert "token=ops" in logs


def test_redis_with_a_password_is_used_both_ways(make_server,
                                                 redis_with_password):
    import json
    s = make_server({"REDIS_URL": redis_with_password.url})
    wait_for(lambda: "consumer=subscribed" in s.text(), what="subscribe")
    client = redis_with_password.client()
    ps = client.pubsub(ignore_subscribe_messages=True)
    ps.subscribe("line_allocated")
    s.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 10})
    s.post("/allocate", json={"orderid": "o1", "sku": "S", "qty": 2})
    got = wait_for(lambda: ps.get_message(timeout=0.2), what="published")
    assert json.loads(got["data"])["orderid"] == "o1"
    client.publish("change_batch_quantity",
                   json.dumps({"batchref": "b1", "qty": 3}))
    wait_for(lambda: s.get("/products/S").json()["batches"][0][
        "purchased"] == 3, what="message applied")
    wrong = redis_with_password.url.replace("s3cret-redis-pw", "nope")
    s2 = make_server({"REDIS_URL": wrong, "DATABASE_URL": "memory:"})
    wait_for(lambda: "consumer=connect" in s2.text(), what="auth refused")
    assert "redis auth: " in s2.text() and "nope" not in s2.text()


def test_readiness_proves_the_store_takes_writes(make_server, db):
    s = make_server()
    r = s.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "store_writable": True,
                        "outbox": {"pending": 0, "oldest_age_s": 0},
                        "redis": "not configured",
                        "smtp": "not configured"}
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    r = s.get("/readyz")
    assert r.status_code == 503
    assert r.json()["store_writable"] is False
    assert s.get("/healthz").status_code == 200  # alive, not ready
    r = s.post("/add_batch", json={"ref": "b", "sku": "S", "qty": 1})
    assert r.status_code == 503
    assert r.json() == {"message": "the store is unavailable; try again "
                                   "later"}
    assert os.path.dirname(db) not in r.text


def test_a_database_that_cannot_be_written_stops_serve_at_start():
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="scents-ro-")  # in /tmp: nobody can reach
    db = os.path.join(d, "scents.db")
    assert run(db, "add-batch", "b1", "S", "1").returncode == 0
    os.chmod(db, 0o444)
    os.chmod(d, 0o755)
    # root writes through file modes: run as nobody when we are root
    prefix = ["runuser", "-u", "nobody", "--"] if os.getuid() == 0 else []
    p = subprocess.run([*prefix, "env", f"DATABASE_URL=sqlite:{db}",
                        "HTTP_PORT=0", BIN, "serve"], capture_output=True,
                       text=True, timeout=30)
    shutil.rmtree(d)
    assert p.returncode == 1, p.stderr
    assert "readonly database" in error_line(p)
    assert not SANITIZER.search(p.stderr)


@pytest.mark.parametrize("name,value,message", [
    ("HTTP_PORT", " 21010", "HTTP_PORT must be 0 to 65535"),
    ("HTTP_PORT", "+5", "HTTP_PORT must be 0 to 65535"),
    ("SMTP_URL", "smtp://h:abc", "SMTP_URL is not a valid URL"),
    ("SMTP_URL", "http://h:25", "SMTP_URL must start with smtp:// or "
                                "smtps://"),
    ("REDIS_URL", "redis://:pw@h:0", "REDIS_URL has a bad port"),
    ("DATABASE_URL", "mysql://u:pw@h/db", "DATABASE_URL must be"),
])
def test_bad_settings_are_refused_at_start(db, name, value, message):
    p = run(db, "serve", env={name: value, "HTTP_PORT": "0"}
            if name != "HTTP_PORT" else {name: value})
    assert p.returncode == 2
    assert message in error_line(p)
    assert "pw" not in p.stderr


def self_signed(tmp_path):
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                    "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def test_smtps_with_a_password(make_server, tmp_path):
    from conftest import SmtpSink
    cert, key = self_signed(tmp_path)
    sink = SmtpSink(tmp_path, [cert, key, "mailer", "pw", "implicit"]).start()
    try:
        s = make_server({"SMTP_URL": f"smtps://mailer:pw@127.0.0.1:{sink.port}",
                         "SMTP_CA_FILE": cert})
        s.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 1})
        s.post("/allocate", json={"orderid": "o1", "sku": "S", "qty": 5})
        mail = wait_for(sink.mails, what="a mail over smtps")[0]
        # the sink speaks only TLS here, so a mail at all means TLS
        assert mail["login"] == "mailer"
    finally:
        sink.stop()


def test_smtp_with_starttls_and_a_password(make_server, tmp_path):
    from conftest import SmtpSink
    cert, key = self_signed(tmp_path)
    sink = SmtpSink(tmp_path, [cert, key, "mailer", "p@ss w0rd"]).start()
    try:
        url = f"smtp://mailer:p%40ss%20w0rd@127.0.0.1:{sink.port}"
        s = make_server({"SMTP_URL": url, "SMTP_CA_FILE": cert})
        s.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 1})
        s.post("/allocate", json={"orderid": "o1", "sku": "S", "qty": 5})
        mail = wait_for(sink.mails, what="a mail over STARTTLS")[0]
        assert mail["tls"] is True and mail["login"] == "mailer"
        assert "Out of stock for S" in mail["data"]
        assert "p@ss" not in s.text() and "p%40ss" not in s.text()
        # without our CA the server is not trusted: nothing is sent
        s2 = make_server({"SMTP_URL": url, "DATABASE_URL": "memory:"})
        s2.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 1})
        s2.post("/allocate", json={"orderid": "o1", "sku": "S", "qty": 5})
        wait_for(lambda: "relay=deliver" in s2.text(), what="refused")
        assert len(sink.mails()) == 1
    finally:
        sink.stop()


def test_expect_100_continue_is_answered_before_the_body(server):
    host, port = server.url.replace("http://", "").rsplit(":", 1)
    body = b'{"ref":"b1","sku":"S","qty":3}'
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /add_batch HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Expect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        assert s.recv(1000).startswith(b"HTTP/1.1 201 ")


def test_a_client_that_never_reads_is_dropped_and_blocks_nobody(server):
    """A response the client does not read within SERVER_WRITE_MS (10 s)
    is dropped with its connection; the loop serves others meanwhile."""
    doc = server.get("/openapi.json").content
    host, port = server.url.replace("http://", "").rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n" * 100)
    t0 = time.time()
    for _ in range(20):  # every loop still answers
        assert server.get("/healthz").status_code == 200
    time.sleep(max(0, 11 - (time.time() - t0)))
    got = 0
    s.settimeout(5)
    try:
        while chunk := s.recv(1 << 16):
            got += len(chunk)
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    assert got < 100 * len(doc)  # cut off long before the end

"""Shared fixtures for the black-box tests: run the real `scents` binary.

SCENTS_BIN (set by scripts/test.sh) names the binary under test; each test
gets its own temp directory and SQLite file.  Servers are started with
HTTP_PORT=0 and the port is read from the start-up log line.
"""
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time

import json
import urllib.parse

import jsonschema
import pytest
import requests

BIN = os.environ.get("SCENTS_BIN", os.path.join(
    os.path.dirname(__file__), "..", "build", "scents"))
ROOT = os.path.join(os.path.dirname(__file__), "..")
with open(os.path.join(ROOT, "api", "openapi.json")) as _f:
    SPEC = json.load(_f)
SERVER_URLS = set()     # every scents server started by these tests
CHECKED = []            # (method, path template, status) validated


def _template(path):
    """The API description's path for a concrete @path, or None."""
    for tpl in SPEC["paths"]:
        parts = re.split(r"\{[^}]+\}", tpl)
        pattern = "^" + "[^/]+".join(re.escape(x) for x in parts) + "$"
        if re.match(pattern, path):
            return tpl
    return None


def check_response(method, url, status, headers, body):
    """Hold one response of a scents server to api/openapi.json: the
    operation exists, the status is documented, and a JSON body matches
    its schema (additionalProperties false: no undocumented field)."""
    path = urllib.parse.urlsplit(url).path
    tpl = _template(path)
    if tpl is None:  # an unknown path: 404 with the error body
        assert status == 404, (method, path, status)
        jsonschema.validate(json.loads(body),
                            SPEC["components"]["schemas"]["Error"])
        return
    op = SPEC["paths"][tpl].get(method.lower())
    if op is None:  # a known path, another method: 405
        assert status == 405, (method, path, status)
        return
    responses = op["responses"]
    assert str(status) in responses, \
        f"{method} {tpl} answered {status}, not in api/openapi.json"
    r = responses[str(status)]
    if "$ref" in r:
        r = SPEC["components"]["responses"][r["$ref"].rsplit("/", 1)[1]]
    if "text/plain" in r.get("content", {}):  # /metrics
        assert headers.get("Content-Type", "").startswith("text/plain")
        CHECKED.append((method, tpl, status))
        return
    ctype = headers.get("Content-Type", "")
    for kind in ("text/csv", "text/html", "text/css"):  # ?format=csv,
        if ctype.startswith(kind):  # the dashboard: documented as such
            assert kind in r.get("content", {}), (method, tpl, status)
            CHECKED.append((method, tpl, status))
            return
    schema = r["content"]["application/json"]["schema"]
    assert headers.get("Content-Type") == "application/json", (path, headers)
    resolver = jsonschema.RefResolver.from_schema(SPEC)
    jsonschema.Draft202012Validator(schema, resolver=resolver).validate(
        json.loads(body))
    CHECKED.append((method, tpl, status))


_send = requests.Session.send


def _checked_send(self, request, **kw):
    resp = _send(self, request, **kw)
    base = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(request.url))
    if base in SERVER_URLS:
        check_response(request.method, request.url, resp.status_code,
                       resp.headers, resp.content)
    return resp


requests.Session.send = _checked_send
SANITIZER = re.compile(r"(AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:)")


class Server:
    """One `scents serve` process on an ephemeral loopback port."""

    def __init__(self, db, env=None):
        self.db = db
        self.env = dict(os.environ, DATABASE_URL="sqlite:" + db,
                        HTTP_PORT="0", LOG_LEVEL="info")
        self.env.update(env or {})
        self.log_path = db + ".log"
        self.proc = None
        self.url = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.log_from = self.log.tell()  # this run's lines only
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env,
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 20
        while time.time() < deadline:
            m = re.search(r"event=listening url=(http://\S+)/", self.text())
            if m and self.proc.poll() is None:
                self.url = m.group(1)
                SERVER_URLS.add(self.url)
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("server did not start:\n" + self.text())

    def text(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.log_from)
            return f.read().decode("utf-8", "replace")

    def raw(self, method, path, body=b"", headers=""):
        """Send bytes exactly as given; returns (status, body)."""
        host, port = self.url.replace("http://", "").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as s:
            s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\n"
                      f"Connection: close\r\n{headers}"
                      f"Content-Length: {len(body)}\r\n\r\n".encode()
                      + body)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, payload = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), payload

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        self.log.close()
        return self.proc.returncode

    def post(self, path, json=None, data=None, **kw):
        return requests.post(self.url + path, json=json, data=data,
                             timeout=30, **kw)

    def get(self, path, **kw):
        return requests.get(self.url + path, timeout=30, **kw)


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "scents.db")


@pytest.fixture
def server(db):
    s = Server(db).start()
    yield s
    code = s.stop()
    assert code == 0, s.text()
    assert not SANITIZER.search(s.text()), s.text()


@pytest.fixture
def make_server(db):
    """Factory for tests that start, kill and restart servers."""
    started = []

    def make(env=None):
        s = Server(db, env).start()
        started.append(s)
        return s
    yield make
    for s in started:
        if s.proc.poll() is None:
            s.stop()
        assert not SANITIZER.search(s.text()), s.text()


def run(db, *args, env=None):
    """Run a CLI command; returns the CompletedProcess."""
    e = dict(os.environ, DATABASE_URL="sqlite:" + db)
    e.update(env or {})
    p = subprocess.run([BIN, *args], env=e, capture_output=True, text=True,
                       timeout=60)
    assert not SANITIZER.search(p.stderr), p.stderr
    return p


def error_line(p):
    """The CLI's one error line: the last line of stderr, the only one
    starting with 'scents: ' (log lines may come before it)."""
    lines = p.stderr.splitlines()
    assert lines, "no error printed"
    assert [l for l in lines if l.startswith("scents: ")] == lines[-1:], \
        p.stderr
    return lines[-1] + "\n"


def snapshot(db):
    """Every row of every table and view (the read model is one), to
    prove an error changed nothing."""
    if not os.path.exists(db):
        return {}
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            " ORDER BY 1")]
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall())
                for t in tables}
    finally:
        con.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=15, step=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


class RedisServer:
    """redis-server on a free loopback port in a temp dir; restartable."""

    def __init__(self, tmp, password=None):
        self.port = free_port()
        self.dir = str(tmp)
        self.proc = None
        self.password = password
        auth = f":{password}@" if password else ""
        self.url = f"redis://{auth}127.0.0.1:{self.port}"

    def start(self):
        import redis
        extra = ["--requirepass", self.password] if self.password else []
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir, *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, password=self.password)
        wait_for(lambda: self._ping(client), what="redis")
        return self

    @staticmethod
    def _ping(client):
        try:
            return client.ping()
        except Exception:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self):
        import redis
        return redis.Redis(port=self.port, password=self.password,
                           decode_responses=True)


class SmtpSink:
    """aiosmtpd recording mails to files; restartable."""

    def __init__(self, tmp, tls_auth=None):
        self.port = free_port()
        self.dir = str(tmp / "mail")
        self.proc = None
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.tls_auth = list(tls_auth or [])  # cert, key, user, password

    def start(self):
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                              "support", "smtp_sink.py"),
             str(self.port), self.dir, *self.tls_auth],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def mails(self):
        import json as _json
        if not os.path.isdir(self.dir):
            return []
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".json"):
                with open(os.path.join(self.dir, name)) as f:
                    out.append(_json.load(f))
        return out


@pytest.fixture
def redis_server(tmp_path):
    r = RedisServer(tmp_path).start()
    yield r
    r.stop()


@pytest.fixture
def redis_with_password(tmp_path):
    r = RedisServer(tmp_path, password="s3cret-redis-pw").start()
    yield r
    r.stop()


@pytest.fixture
def smtp_sink(tmp_path):
    s = SmtpSink(tmp_path).start()
    yield s
    s.stop()


PG_URL = os.environ.get("SCENTS_PG_URL")  # scripts/test.sh starts one
PG_DIR = os.environ.get("SCENTS_PG_DIR")


def psql(url, sql):
    """Run @sql through psql on the database at @url; rows as lists."""
    u = urllib.parse.urlsplit(url)
    env = dict(os.environ, PGPASSWORD=urllib.parse.unquote(u.password or ""))
    p = subprocess.run(
        ["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
         "-h", u.hostname, "-p", str(u.port), "-U", u.username,
         "-d", u.path.lstrip("/"), "-c", sql],
        env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [line.split("\t") for line in p.stdout.splitlines()]


def pg_ctl(action):
    """scripts/pg.sh ACTION on the test cluster (stop, resume, ...)."""
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg.sh"), action,
                    PG_DIR], check=True, timeout=120)


@pytest.fixture
def pg_url():
    """A fresh, empty database on the test cluster; dropped afterwards."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI is set but SCENTS_PG_URL is not (make test)")
        pytest.skip("no PostgreSQL: SCENTS_PG_URL is not set (make test)")
    name = "t_" + os.urandom(6).hex()
    psql(PG_URL, f"CREATE DATABASE {name}")
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    psql(PG_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def outbox_pending(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"
                           ).fetchone()[0]
    finally:
        con.close()


def pytest_terminal_summary(terminalreporter):
    """How much of the API description the suite held responses to."""
    if CHECKED:
        ops = {(m, t) for m, t, _ in CHECKED}
        statuses = set(CHECKED)
        terminalreporter.write_line(
            f"openapi: {len(CHECKED)} responses validated against "
            f"api/openapi.json, {len(ops)} operations, "
            f"{len(statuses)} (operation, status) pairs")

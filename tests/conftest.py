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

import pytest
import requests

BIN = os.environ.get("SCENTS_BIN", os.path.join(
    os.path.dirname(__file__), "..", "build", "scents"))
SANITIZER = re.compile(r"(AddressSanitizer|LeakSanitizer|runtime error:)")


class Server:
    """One `scents serve` process on an ephemeral loopback port."""

    def __init__(self, db, env=None):
        self.db = db
        self.env = dict(os.environ, DATABASE_URL="sqlite:" + db,
                        HTTP_PORT="0", LOG_LEVEL="info", **(env or {}))
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
    """Every row of every table, to prove an error changed nothing."""
    if not os.path.exists(db):
        return {}
    con = sqlite3.connect(db)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY 1")]
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall())
                for t in tables}
    finally:
        con.close()

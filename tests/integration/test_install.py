"""Install and package (issue 11): `cmake --install` into a DESTDIR puts
the binary, man page, systemd unit, completion and docs where Debian
expects them, and the installed binary runs; the systemd unit's
readiness protocol (Type=notify) is spoken."""
import os
import shutil
import socket
import subprocess

import pytest

from conftest import BIN

REL = os.environ.get("SCENTS_RELEASE_BUILD")


@pytest.mark.skipif(not REL, reason="needs SCENTS_RELEASE_BUILD (make test)")
def test_install_into_a_destdir_and_run_the_installed_binary(tmp_path):
    dest = tmp_path / "root"
    subprocess.run(["cmake", "--install", REL, "--prefix", "/usr"],
                   env=dict(os.environ, DESTDIR=str(dest)), check=True,
                   capture_output=True, timeout=120)
    for f in ("usr/bin/scents", "usr/share/man/man1/scents.1.gz",
              "usr/lib/systemd/system/scents.service",
              "usr/share/bash-completion/completions/scents",
              "usr/share/doc/scents/copyright",
              "usr/share/doc/scents/openapi.json",
              "usr/share/doc/scents/examples/market-research.csv"):
        assert (dest / f).is_file(), f
    scents = str(dest / "usr/bin/scents")
    p = subprocess.run([scents, "--version"], capture_output=True, text=True,
                       timeout=30)
    assert (p.returncode, p.stdout) == (0, "scents 0.1.0\n")
    db = str(tmp_path / "x.db")
    env = dict(os.environ, DATABASE_URL="sqlite:" + db)
    for args in (["add-batch", "b1", "S", "3"], ["allocate", "o1", "S", "1"],
                 ["check"]):
        p = subprocess.run([scents, *args], env=env, capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 0, (args, p.stderr)
    if shutil.which("man"):
        p = subprocess.run(["man", "-l", str(dest / "usr/share/man/man1/"
                                             "scents.1.gz")],
                           capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, MANPAGER="cat",
                                    MANWIDTH="80"))
        assert "inventory allocation" in p.stdout
    unit = (dest / "usr/lib/systemd/system/scents.service").read_text()
    for line in ("Type=notify", "DynamicUser=yes", "StateDirectory=scents",
                 "ProtectSystem=strict", "NoNewPrivileges=yes",
                 "ExecStart=/usr/bin/scents serve"):
        assert line in unit


def test_serve_tells_systemd_when_it_is_ready_and_stopping(tmp_path):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    env = dict(os.environ, DATABASE_URL="sqlite:" + str(tmp_path / "d.db"),
               HTTP_PORT="0", NOTIFY_SOCKET=path)
    p = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        assert sock.recv(100) == b"READY=1"
        p.terminate()
        assert sock.recv(100) == b"STOPPING=1"
        assert p.wait(20) == 0
    finally:
        if p.poll() is None:
            p.kill()
        sock.close()

#!/usr/bin/python3
"""bench/dashboard.py BUILD_DIR - the dashboard's products page with
10 000 skus (issue 17: "paged for 10 000 SKUs without slowing"): the
page sorted by sku, sorted by available stock (all 10 000 sorted in
memory), and filtered, each against GET /products?limit=50 (one keyset
page of JSON) measured in the same run; medians of 200 requests, one
client, a release build on a temp SQLite file."""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import requests

build = sys.argv[1] if len(sys.argv) > 1 else "build-release"
N = int(os.environ.get("DASH_SKUS", "10000"))
tmp = tempfile.mkdtemp()
log = open(os.path.join(tmp, "serve.log"), "w")
with socket.socket() as sk:
    sk.bind(("127.0.0.1", 0))
    port = sk.getsockname()[1]
env = dict(os.environ, DATABASE_URL="sqlite:" + os.path.join(tmp, "s.db"),
           HTTP_PORT=str(port), LOG_LEVEL="warn")
env.pop("HTTP_HOST", None)
srv = subprocess.Popen([os.path.join(build, "scents"), "serve"], env=env,
                       stdout=log, stderr=subprocess.STDOUT)
try:
    url = "http://127.0.0.1:%d" % port
    for _ in range(200):
        time.sleep(0.05)
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                break
        except requests.RequestException:
            pass
    else:
        raise SystemExit("server did not start")
    s = requests.Session()
    t0 = time.time()
    for i in range(N):
        r = s.post(url + "/add_batch", json={
            "ref": "b%05d" % i, "sku": "SKU-%05d" % i,
            "qty": 1 + (i * 7919) % 1000,
            **({"eta": "2027-02-01"} if i % 4 == 0 else {})})
        assert r.status_code == 201, r.text
    print("  (%d skus stored in %.1f s)" % (N, time.time() - t0),
          file=sys.stderr)

    def median_ms(path):
        times = []
        for _ in range(200):
            t = time.perf_counter()
            r = s.get(url + path)
            times.append(time.perf_counter() - t)
            assert r.status_code == 200, (path, r.status_code)
        return statistics.median(times) * 1000

    base = median_ms("/products?limit=50")
    rows = [("GET /products?limit=50 (JSON, baseline)", base)]
    for name, path in (("dashboard, by sku, page 1", "/"),
                       ("dashboard, by available, page 100",
                        "/?sort=available&dir=desc&page=100"),
                       ("dashboard, filtered 'SKU-09'", "/?q=SKU-09")):
        rows.append((name, median_ms(path)))
    print("\n%-40s %10s %9s" % ("products, %d skus" % N, "median ms",
                                "× base"))
    for name, ms in rows:
        print("%-40s %10.2f %9.1f" % (name, ms, ms / base))
finally:
    srv.terminate()
    srv.wait(20)

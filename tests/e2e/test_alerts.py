"""Staff alerts (issue 14) against the real binary and a real SMTP sink:
a sku's low-stock threshold set over HTTP and the CLI, one mail when
available units cross below it, and repeated out-of-stock alerts for one
sku folded into one mail per window."""
import time

import requests

from conftest import error_line, run, wait_for


def put(s, path, body):
    return requests.put(s.url + path, json=body, timeout=30)


def test_one_mail_when_stock_falls_below_the_threshold(make_server,
                                                        smtp_sink, db):
    s = make_server({"SMTP_URL": smtp_sink.url})
    s.post("/add_batch", json={"ref": "b1", "sku": "FOG", "qty": 10})
    r = put(s, "/products/FOG/low_stock", {"threshold": 5})
    assert (r.status_code, r.json()) == (
        200, {"sku": "FOG", "low_stock_threshold": 5})
    assert s.get("/products/FOG").json()["low_stock_threshold"] == 5
    for i, qty in enumerate((4, 2, 1)):  # 6 left, then 4, then 3
        s.post("/allocate", json={"orderid": "o%d" % i, "sku": "FOG",
                                  "qty": qty})
    mail = wait_for(smtp_sink.mails, what="the low-stock mail")
    assert "Low stock for FOG: 4 available, below its threshold" in \
        mail[0]["data"]
    # bad input: named, nothing changed
    assert put(s, "/products/FOG/low_stock",
               {"threshold": -1}).status_code == 400
    assert put(s, "/products/NOPE/low_stock",
               {"threshold": 1}).status_code == 404
    assert put(s, "/products/FOG/low_stock",
               {"limit": 1}).status_code == 400
    assert s.get("/products/FOG").json()["low_stock_threshold"] == 5
    # the CLI sets it too; 0 turns it off
    assert run(db, "low-stock", "FOG", "0").returncode == 0
    assert s.get("/products/FOG").json()["low_stock_threshold"] == 0
    p = run(db, "low-stock", "FOG", "x")
    assert p.returncode == 2 and "threshold" in error_line(p)
    assert len(smtp_sink.mails()) == 1


def test_out_of_stock_alerts_for_one_sku_are_folded(make_server, smtp_sink):
    s = make_server({"SMTP_URL": smtp_sink.url, "STOCK_ALERT_WINDOW_S": "60"})
    for sku in ("ICE", "SAND"):
        s.post("/add_batch", json={"ref": "b-" + sku, "sku": sku, "qty": 1})
    for i in range(5):
        assert s.post("/allocate", json={"orderid": "o%d" % i, "sku": "ICE",
                                         "qty": 9}).status_code == 409
    s.post("/allocate", json={"orderid": "x", "sku": "SAND", "qty": 9})
    wait_for(lambda: len(smtp_sink.mails()) == 2, what="two mails")
    s.stop()  # everything delivered by now: no third mail hides behind
    bodies = sorted(m["data"] for m in smtp_sink.mails())
    assert "Out of stock for ICE: order o0 wanted 9" in bodies[0]
    assert "Out of stock for SAND: order x wanted 9" in bodies[1]


def test_a_backorder_waiting_too_long_is_told_once(make_server, smtp_sink):
    s = make_server({"SMTP_URL": smtp_sink.url, "BACKORDER_ALERT_AGE_S": "1",
                     "STOCK_ALERT_WINDOW_S": "0"})
    s.post("/add_batch", json={"ref": "b1", "sku": "MOSS", "qty": 1})
    assert s.post("/allocate", json={"orderid": "late-1", "sku": "MOSS",
                                     "qty": 4, "backorder": True}
                  ).json() == {"status": "backordered"}

    def told():
        return [m for m in smtp_sink.mails()
                if "Backorder waiting too long for MOSS: order late-1 "
                   "wants 4" in m["data"]]
    wait_for(told, what="the aged-backorder mail")
    # checked every half age: several more checks, still one mail
    time.sleep(2)
    assert len(told()) == 1

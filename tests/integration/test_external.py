"""Events leaving the process (issue 5): the transactional outbox, Redis
pub/sub in both directions, and mail over SMTP, all against real servers
started on free loopback ports (the seed's test_email and
test_external_events, plus fault tests)."""
import json
import time

from conftest import (BIN, SANITIZER, error_line, outbox_pending, run,
                      wait_for)


def messages(pubsub, want, timeout=15):
    """Collect line_allocated payloads until @want(list) is true."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline and not want(got):
        m = pubsub.get_message(timeout=0.2)
        if m and m["type"] == "message":
            got.append(json.loads(m["data"]))
    assert want(got), got
    return got


def subscribed(redis_server):
    ps = redis_server.client().pubsub(ignore_subscribe_messages=True)
    ps.subscribe("line_allocated")
    return ps


def test_out_of_stock_email(make_server, smtp_sink):
    s = make_server({"SMTP_URL": smtp_sink.url})
    s.post("/add_batch", json={"ref": "b1", "sku": "MINIATURE-SCENT",
                               "qty": 9, "eta": None})
    r = s.post("/allocate", json={"orderid": "o1", "sku": "MINIATURE-SCENT",
                                  "qty": 10})
    assert r.status_code == 409
    mail = wait_for(smtp_sink.mails, what="mail")[0]
    assert mail["from"] == "allocations@example.com"
    assert mail["to"] == ["stock@scents.example"]
    assert "Subject: allocation service notification" in mail["data"]
    assert "From: <allocations@example.com>" in mail["data"]
    assert "To: <stock@scents.example>" in mail["data"]
    assert "Out of stock for MINIATURE-SCENT" in mail["data"]
    wait_for(lambda: outbox_pending(s.db) == 0, what="outbox drained")


def test_change_batch_quantity_leading_to_reallocation(make_server,
                                                       redis_server):
    s = make_server({"REDIS_URL": redis_server.url})
    wait_for(lambda: "consumer=subscribed" in s.text(), what="subscribe")
    s.post("/add_batch", json={"ref": "earlier", "sku": "SEA-BREEZE",
                               "qty": 10, "eta": "2027-01-01"})
    s.post("/add_batch", json={"ref": "later", "sku": "SEA-BREEZE",
                               "qty": 10, "eta": "2027-01-02"})
    ps = subscribed(redis_server)
    r = s.post("/allocate", json={"orderid": "o1", "sku": "SEA-BREEZE",
                                  "qty": 10})
    assert r.json() == {"batchref": "earlier"}
    redis_server.client().publish("change_batch_quantity", json.dumps(
        {"batchref": "earlier", "qty": 5}))
    got = messages(ps, lambda g: any(m["batchref"] == "later" for m in g))
    assert got[0]["orderid"] == "o1" and got[0]["batchref"] == "earlier"
    assert got[-1] == {"id": got[-1]["id"], "orderid": "o1",
                       "sku": "SEA-BREEZE", "qty": 10, "batchref": "later"}
    assert got[-1]["id"] > got[0]["id"]
    assert s.get("/allocations/o1").json() == [{"sku": "SEA-BREEZE",
                                                "batchref": "later"}]
    wait_for(lambda: outbox_pending(s.db) == 0, what="outbox drained")


def test_no_line_allocated_event_is_lost_while_redis_is_down(make_server,
                                                             redis_server):
    s = make_server({"REDIS_URL": redis_server.url})
    s.post("/add_batch", json={"ref": "b1", "sku": "JUNGLE", "qty": 100,
                               "eta": None})
    redis_server.stop()
    for i in range(20):
        r = s.post("/allocate", json={"orderid": f"o{i}", "sku": "JUNGLE",
                                      "qty": 1})
        assert r.status_code == 202  # allocation does not wait for Redis
    time.sleep(1)
    assert outbox_pending(s.db) == 20
    redis_server.start()
    ps = subscribed(redis_server)
    got = messages(ps, lambda g: len({m["orderid"] for m in g}) == 20,
                   timeout=30)
    assert {m["orderid"] for m in got} == {f"o{i}" for i in range(20)}
    assert len({m["id"] for m in got}) == len(got)
    wait_for(lambda: outbox_pending(s.db) == 0, what="outbox drained")
    assert "relay=deliver" in s.text()  # the failures were logged


def test_mail_goes_out_once_when_smtp_comes_back(make_server, smtp_sink):
    s = make_server({"SMTP_URL": smtp_sink.url})
    smtp_sink.stop()
    s.post("/add_batch", json={"ref": "b1", "sku": "FOREST", "qty": 1,
                               "eta": None})
    r = s.post("/allocate", json={"orderid": "o1", "sku": "FOREST",
                                  "qty": 2})
    assert r.status_code == 409
    time.sleep(1)
    assert outbox_pending(s.db) == 1
    smtp_sink.start()
    wait_for(smtp_sink.mails, timeout=30, what="mail")
    wait_for(lambda: outbox_pending(s.db) == 0, what="outbox drained")
    time.sleep(1.5)
    mails = smtp_sink.mails()
    assert len(mails) == 1
    assert "Out of stock for FOREST" in mails[0]["data"]


def test_consumer_skips_malformed_and_hostile_messages(make_server,
                                                       redis_server):
    s = make_server({"REDIS_URL": redis_server.url})
    wait_for(lambda: "consumer=subscribed" in s.text(), what="subscribe")
    s.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 10,
                               "eta": None})
    c = redis_server.client()
    bad = ["not json", "[1,2]", "{}", '{"batchref":"b1"}',
           '{"batchref":"b1","qty":"5"}', '{"batchref":"b1","qty":-1}',
           '{"batchref":"b1","qty":1.5}', '{"batchref":"b1","qty":1e20}',
           '{"batchref":"b\\u0001","qty":1}', '{"batchref":7,"qty":1}',
           '{"batchref":"nope","qty":1}', '{"batchref":"b1","qty":1,'
           '"batchref":"b1"}', '"\x1b[31mred\x00"', "{" * 10000,
           "x" * 1_000_000]
    for payload in bad:
        c.publish("change_batch_quantity", payload)
    c.publish("change_batch_quantity", '{"batchref":"b1","qty":3}')
    wait_for(lambda: s.get("/products/S").json()["batches"][0][
        "purchased"] == 3, what="valid message applied")
    log = s.text()
    assert log.count("consumer=skip") == len(bad)
    assert "\x1b" not in log and "\\x1b[31mred" in log
    assert "unknown batch 'nope'" in log
    assert s.get("/healthz").status_code == 200


def test_consumer_resubscribes_after_redis_restarts(make_server,
                                                    redis_server):
    s = make_server({"REDIS_URL": redis_server.url})
    wait_for(lambda: "consumer=subscribed" in s.text(), what="subscribe")
    s.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 10,
                               "eta": None})
    redis_server.stop()
    wait_for(lambda: "consumer=disconnected" in s.text(), what="drop")
    redis_server.start()
    wait_for(lambda: s.text().count("consumer=subscribed") >= 2,
             what="resubscribe")
    redis_server.client().publish("change_batch_quantity",
                                  '{"batchref":"b1","qty":4}')
    wait_for(lambda: s.get("/products/S").json()["batches"][0][
        "purchased"] == 4, what="message after restart")


def test_scents_consume_and_the_cli_deliver_events(db, redis_server,
                                                    smtp_sink, tmp_path):
    import os
    import signal
    import subprocess
    env = {"REDIS_URL": redis_server.url, "SMTP_URL": smtp_sink.url}
    run(db, "add-batch", "b1", "NIGHTCLUB", "5", env=env)
    run(db, "add-batch", "b2", "NIGHTCLUB", "5", "2027-01-01", env=env)
    ps = subscribed(redis_server)
    # the CLI delivers what its command queued before it exits
    assert run(db, "allocate", "o1", "NIGHTCLUB", "4", env=env).stdout \
        == "b1\n"
    assert messages(ps, lambda g: len(g) == 1)[0]["orderid"] == "o1"
    p = run(db, "allocate", "o2", "NIGHTCLUB", "9", env=env)
    assert error_line(p) == "scents: out of stock for sku 'NIGHTCLUB'\n"
    wait_for(smtp_sink.mails, what="mail")
    # scents consume applies change_batch_quantity on its own
    log = open(tmp_path / "consume.log", "wb")
    proc = subprocess.Popen([BIN, "consume"], stdout=log, stderr=log,
                            env=dict(os.environ, DATABASE_URL="sqlite:" + db,
                                     **env))
    try:
        wait_for(lambda: "consumer=subscribed" in open(
            tmp_path / "consume.log").read(), what="subscribe")
        redis_server.client().publish("change_batch_quantity",
                                      '{"batchref":"b1","qty":2}')
        got = messages(ps, lambda g: len(g) == 1)
        assert got[0]["orderid"] == "o1" and got[0]["batchref"] == "b2"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert not SANITIZER.search(open(tmp_path / "consume.log").read())
    assert outbox_pending(db) == 0


def test_consume_without_redis_url_is_a_usage_error(db):
    p = run(db, "consume")
    assert p.returncode == 2
    assert error_line(p) == "scents: consume needs REDIS_URL\n"


def test_scents_relay_delivers_what_the_cli_could_not(db, redis_server,
                                                      tmp_path):
    import os
    import signal
    import subprocess
    env = {"REDIS_URL": redis_server.url}
    run(db, "add-batch", "b1", "FOREST", "5", env=env)
    redis_server.stop()
    p = run(db, "allocate", "o1", "FOREST", "2", env=env)
    assert p.returncode == 0 and p.stdout == "b1\n"  # allocated anyway
    assert "relay=deferred" in p.stderr
    assert outbox_pending(db) == 1
    redis_server.start()
    ps = subscribed(redis_server)
    log = open(tmp_path / "relay.log", "wb")
    proc = subprocess.Popen([BIN, "relay"], stdout=log, stderr=log,
                            env=dict(os.environ, DATABASE_URL="sqlite:" + db,
                                     **env))
    try:
        got = messages(ps, lambda g: len(g) == 1)
        assert got[0]["orderid"] == "o1" and got[0]["batchref"] == "b1"
        wait_for(lambda: outbox_pending(db) == 0, what="outbox drained")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    assert not SANITIZER.search(open(tmp_path / "relay.log").read())


def test_a_hung_smtp_server_does_not_slow_allocation(make_server):
    """A server that accepts and never answers: a mail sent on the request
    path would hold it for curl's 5 s connect timeout (measured: the CLI,
    which delivers before it exits, takes 5.0 s against such a server)."""
    import socket
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(16)  # connections complete in the backlog, never served
    try:
        s = make_server({"SMTP_URL": "smtp://127.0.0.1:%d"
                         % hung.getsockname()[1]})
        s.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 1,
                                   "eta": None})
        for i in range(3):
            t0 = time.time()
            r = s.post("/allocate", json={"orderid": f"o{i}", "sku": "S",
                                          "qty": 5})
            assert r.status_code == 409
            assert time.time() - t0 < 3, "allocation waited for SMTP"
        assert outbox_pending(s.db) == 3  # queued, not lost
    finally:
        hung.close()


def consumers_handled(server):
    """Messages applied, summed over the servers logging to @server's
    log (servers started on one db path share it)."""
    import re
    return sum(int(n) for n in re.findall(r"consumer=stopped handled=(\d+)",
                                          server.text()))


def test_streams_publish_and_apply_each_message_once_across_servers(
        make_server, redis_server, tmp_path):
    """REDIS_MODE=streams: line_allocated is an XADDed stream, and
    change_batch_quantity entries are shared by a consumer group - each
    applied by one of two servers, none twice, and those sent while every
    server was away are applied when one comes back."""
    env = {"REDIS_URL": redis_server.url, "REDIS_MODE": "streams"}
    a = make_server(env)
    b = make_server(dict(env, DATABASE_URL="sqlite:" + str(tmp_path / "b.db")))
    for s in (a, b):
        wait_for(lambda s=s: "consumer=subscribed stream=" in s.text(),
                 what="group joined")
        for i in range(20):
            s.post("/add_batch", json={"ref": f"b{i}", "sku": "S",
                                       "qty": 1000})
    a.post("/allocate", json={"orderid": "o1", "sku": "S", "qty": 2})
    r = redis_server.client()
    entries = wait_for(lambda: r.xrange("line_allocated"), what="XADD")
    data = json.loads(entries[0][1]["data"])
    assert data["orderid"] == "o1" and data["batchref"] == "b0"
    assert entries[0][1]["id"] == str(data["id"])
    for i in range(20):
        r.xadd("change_batch_quantity",
               {"data": json.dumps({"batchref": f"b{i}", "qty": 500 + i})})
    r.xadd("change_batch_quantity", {"data": "not json"})  # refused, acked
    wait_for(lambda: r.xpending("change_batch_quantity", "scents")
             ["pending"] == 0 and r.xinfo_groups("change_batch_quantity")
             [0]["entries-read"] == 21, what="all entries settled")
    a.stop()
    b.stop()
    assert consumers_handled(a) == 20  # both servers' lines: each once
    for i in range(3):  # nobody listening: kept in the stream
        r.xadd("change_batch_quantity",
               {"data": json.dumps({"batchref": f"b{i}", "qty": 7})})
    a2 = make_server(env)
    wait_for(lambda: [x["purchased"] for x in
                      a2.get("/products/S").json()["batches"][:3]] == [7] * 3,
             what="entries sent while away applied after the restart")

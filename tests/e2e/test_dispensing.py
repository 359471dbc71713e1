"""Cue tracks (issue 16) through the real binary: the example track is
checked and its doses summed as hand-counted; each rule a track can break
is refused naming the cue, exit 2."""
import copy
import json
import os
import signal
import socket
import subprocess
import time

from conftest import BIN, ROOT, SANITIZER, error_line, run, wait_for

EXAMPLE = os.path.join(ROOT, "examples", "ocean-drift.track.json")


def test_the_example_track_and_its_doses(db):
    p = run(db, "track", "check", EXAMPLE, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    # SEA-BREEZE: 12 ul x 1664 seats + 25 ul x 40 front seats; 6 s + 4 s
    # PINE: 20 ul x 1664; 4 pulses of 2 s.  BUSY-STREET: 8 ul x 6 rows x
    # 64 seats; 2 pulses of 1.5 s
    assert [(s["sku"], s["max_seat_ul"], s["total_ul"], s["seats"],
             s["release_ms"]) for s in out["scents"]] == [
        ("SEA-BREEZE", 37, 20968, 1664, 10000),
        ("PINE", 20, 33280, 1664, 8000),
        ("BUSY-STREET", 8, 3072, 384, 3000)]
    assert not os.path.exists(db)  # a check stores nothing


def broken(tmp_path, change):
    with open(EXAMPLE) as f:
        track = json.load(f)
    change(track)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(track))
    return str(path)


def cue(track, cid):
    return [c for c in track["cues"] if c["id"] == cid][0]


def test_each_rule_is_refused_naming_the_cue(db, tmp_path):
    cases = [
        (lambda t: cue(t, "forest-walk").update(scent="ROSE"),
         "cue 'forest-walk': scent 'ROSE' is not in the palette"),
        (lambda t: (cue(t, "forest-walk").pop("pulse"),
                    cue(t, "forest-walk").update(duration=504)),
         "cue 'forest-walk': 21000 ms of continuous release is above the "
         "20000 ms burst cap"),
        (lambda t: cue(t, "harbour-town").update(start="00:00:49:00"),
         "cue 'harbour-town' (BUSY-STREET) starts 1000 ms after cue "
         "'opening-surf' (SEA-BREEZE) ends in the same seats"),
        (lambda t: cue(t, "storm-front-row").update(start="00:00:45:00"),
         "cues 'opening-surf' and 'storm-front-row' of exclusive group "
         "'coast' overlap"),
        (lambda t: cue(t, "opening-surf").update(dose_ul=501),
         "cue 'opening-surf': dose 501 ul is not 1 to 500 ul per seat"),
        (lambda t: cue(t, "opening-surf").update(zone="A0"),
         "cue 'opening-surf': scent and exclusive are strings; zone is"),
        (lambda t: cue(t, "opening-surf").update(start="00:00:42:24"),
         "cue 'opening-surf': start is a frame or HH:MM:SS:FF"),
        (lambda t: t["cues"].append(copy.deepcopy(t["cues"][0])),
         "cue 'opening-surf' is listed twice"),
        (lambda t: t["palette"].append({"sku": "PINE", "slot": 4}),
         "palette: 'PINE' and 'PINE' share a sku or a slot"),
        (lambda t: t.update(format="scents-cue-track/2"),
         "format must be \"scents-cue-track/1\""),
        (lambda t: cue(t, "opening-surf").update(colour="blue"),
         "cue 1: unknown field 'colour'"),
    ]
    for change, want in cases:
        p = run(db, "track", "check", broken(tmp_path, change))
        assert p.returncode == 2, (want, p.stdout, p.stderr)
        assert error_line(p).startswith("scents: " + want), p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{\"format\": ")
    p = run(db, "track", "check", str(bad))
    assert p.returncode == 2 and "line 1" in error_line(p)


def test_tracks_are_stored_over_http_and_the_cli(server, db):
    with open(EXAMPLE, "rb") as f:
        body = f.read()
    r = server.post("/tracks", data=body,
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
    t = r.json()
    assert t["id"] == 1 and t["cues"] == 4
    assert t["track"] == json.loads(body)
    assert t["scents"][0]["max_seat_ul"] == 37
    track = json.loads(body)
    track["cues"][0]["dose_ul"] = 600
    r = server.post("/tracks", json=track)
    assert r.status_code == 400
    assert r.json()["message"] == ("cue 'opening-surf': dose 600 ul is not "
                                   "1 to 500 ul per seat")
    assert [x["id"] for x in server.get("/tracks").json()] == [1]
    assert server.get("/tracks/1").json() == t
    assert server.get("/tracks/2").status_code == 404
    assert server.get("/tracks/x").status_code == 400
    p = run(db, "track", "import", EXAMPLE)
    assert p.stdout == "track 2: Ocean Drift (feature, OV), 4 cues\n", \
        p.stderr
    p = run(db, "track", "list")
    assert [l.split("\t")[0] for l in p.stdout.splitlines()] == ["2", "1"]
    p = run(db, "track", "show", "2", "--json")
    assert json.loads(p.stdout)["scents"] == t["scents"]
    p = run(db, "track", "show", "9")
    assert p.returncode == 1 and error_line(p) == "scents: unknown track 9\n"


VENUE = os.path.join(ROOT, "examples", "screen-3.venue.json")


def test_preshow_lists_the_refills_and_the_seats_that_cannot_play(db,
                                                                   tmp_path):
    """Screen 3 sells A1-A20 and B1-B10, A3 opted out: 29 seats playing.
    SEA-BREEZE reaches A1-A20 and B1-B20 with 12 + 25 = 37 ul; A1-A10
    hold 30 (A3 out): 9 refills of 970 ul to the 1 000 ul capacity, 8 730
    ul to order.  A20 holds ROSE in PINE's slot; B5 has no device (three
    scents reach it)."""
    p = run(db, "track", "preshow", EXAMPLE, VENUE, "--json")
    assert p.returncode == 1, p.stderr  # not ready
    r = json.loads(p.stdout)
    assert r["seats_playing"] == 29 and not r["ready"]
    assert r["refill_ul"] == {"SEA-BREEZE": 8730, "PINE": 0,
                              "BUSY-STREET": 0}
    lines = [(l["seat"], l["sku"], l["problem"], l["needed_ul"],
              l["level_ul"], l["refill_ul"]) for l in r["lines"]]
    assert lines == [(f"A{s}", "SEA-BREEZE", "refill", 37, 30, 970)
                     for s in (1, 2, 4, 5, 6, 7, 8, 9, 10)] + [
        ("A20", "PINE", "wrong scent", 20, 500, 0),
        ("B5", "SEA-BREEZE", "no device", 37, 0, 0),
        ("B5", "PINE", "no device", 20, 0, 0),
        ("B5", "BUSY-STREET", "no device", 8, 0, 0)]
    # refilled and fixed: ready, exit 0
    with open(VENUE) as f:
        venue = json.load(f)
    for slot in venue["devices"][0]["slots"]:
        slot["level_ul"] = 1000
    venue["devices"][2]["slots"][1]["sku"] = "PINE"
    venue["opted_out"] = "A3,B5"
    path = tmp_path / "v.json"
    path.write_text(json.dumps(venue))
    p = run(db, "track", "preshow", EXAMPLE, str(path))
    assert p.returncode == 0, p.stdout
    assert "28 seats playing, ready" in p.stdout
    # a venue that breaks its own rules
    venue["devices"][1]["seats"] += ",A1"  # A1 now has two devices
    path.write_text(json.dumps(venue))
    p = run(db, "track", "preshow", EXAMPLE, str(path))
    assert p.returncode == 2
    assert error_line(p) == "scents: seat A1 has two devices\n"
    venue["devices"][1]["seats"] = "D1"
    path.write_text(json.dumps(venue))
    p = run(db, "track", "preshow", EXAMPLE, str(path))
    assert error_line(p) == \
        "scents: device of seat D1: no such seat in the map\n"


# ---- shows through the gateway simulator (issue 16) ---------------------


LTCGEN = os.path.join(os.path.dirname(BIN), "tests", "ltcgen")


def udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venue_on_free_ports(tmp_path, change=None):
    """The example venue with its three gateways on free loopback ports."""
    with open(VENUE) as f:
        venue = json.load(f)
    for g in venue["gateways"]:
        g["address"] = "127.0.0.1:%d" % udp_port()
    if change:
        change(venue)
    path = tmp_path / "venue.json"
    path.write_text(json.dumps(venue))
    return venue, str(path)


class Sim:
    """`scents gatewaysim` with its fire log and the levels it writes."""

    def __init__(self, db, tmp_path, venue, *opts):
        self.log = str(tmp_path / "sim.log")
        self.levels = str(tmp_path / "levels.json")
        env = dict(os.environ, DATABASE_URL="sqlite:" + db)
        self.proc = subprocess.Popen(
            [BIN, "gatewaysim", venue, "--log", self.log, "--levels",
             self.levels, *opts], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        time.sleep(0.3)
        assert self.proc.poll() is None, self.proc.stderr.read()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=20)
        assert self.proc.returncode == 0, err
        assert not SANITIZER.search(err), err
        with open(self.levels) as f:
            levels = json.load(f)
        with open(self.log) as f:
            fires = [json.loads(l) for l in f]
        return levels, fires


def test_a_show_through_the_simulator_with_latency_and_loss(server, db,
                                                            tmp_path):
    """The example track in the example room, both stored: the pre-show
    report's refills allocated from stock through the bus, then the show
    through three simulated gateways with 3 +- 2 ms each way and 5% of
    datagrams lost.  Every fire is acknowledged within its window (or
    reported missed), and what the seats released comes off the right
    cartridges and batches, as the simulator counted it."""
    venue, vpath = venue_on_free_ports(tmp_path)
    with open(EXAMPLE) as f:
        assert server.post("/tracks", json=json.load(f)).status_code == 201
    r = server.post("/venues", json=venue)
    assert r.status_code == 201, r.text
    assert r.json()["id"] == 1 and len(r.json()["cartridges"]) == 59 * 3
    pre = server.get("/venues/1/preshow?track=1").json()
    assert pre["refill_ul"]["SEA-BREEZE"] == 8730 and not pre["ready"]
    # stock for the refills: 9 units of SEA-BREEZE (1 000 ul each), 1 PINE
    for ref, sku, qty in (("sea-9", "SEA-BREEZE", 20), ("pine-3", "PINE", 1)):
        assert server.post("/add_batch", json={
            "ref": ref, "sku": sku, "qty": qty}).status_code == 201
    r = server.post("/venues/1/refills", json={"orderid": "refill-1",
                                               "track": 1})
    assert r.status_code == 200, r.text
    assert r.json()["refills"] == [
        {"sku": "SEA-BREEZE", "ul": 8730, "qty": 9, "allocated": True,
         "repeated": False, "batchref": "sea-9", "cartridges": 9},
        {"sku": "PINE", "ul": 1000, "qty": 1, "allocated": True,
         "repeated": False, "batchref": "pine-3", "cartridges": 1}]
    assert sorted(server.get("/allocations/refill-1").json(),
                  key=lambda a: a["sku"]) == [
        {"sku": "PINE", "batchref": "pine-3"},
        {"sku": "SEA-BREEZE", "batchref": "sea-9"}]
    pre = server.get("/venues/1/preshow?track=1").json()
    assert [l["problem"] for l in pre["lines"]] == ["no device"] * 3
    before = {(c["seat"], c["slot"]): c
              for c in server.get("/venues/1").json()["cartridges"]}

    sim = Sim(db, tmp_path, "1", "--latency-ms", "3", "--jitter-ms", "2",
              "--loss", "5", "--seed", "11")
    log = str(tmp_path / "show.log")
    p = run(db, "show", "1", "1", "--speed", "120", "--json", "--log", log)
    levels, fired = sim.stop()
    assert p.returncode == 0, p.stderr  # nothing lost
    out = json.loads(p.stdout)
    assert "recorded as show 1 of venue 1" in p.stderr
    assert out["fires"] == out["acked"] == 8  # 4 cues x rows reached
    assert out["missed"] == out["unacked"] == 0
    assert out["dry_seats"] == 0 and out["skipped"] == 0
    assert levels["dropped"] > 0  # the loss was real
    with open(log) as f:
        shown = [json.loads(l) for l in f]
    assert all(s["status"] == "acked" for s in shown)
    # each fire once, at most the 200 ms tolerance late, by its own clock
    assert len(fired) == 8
    assert all(abs(f["late_us"]) < 200000 for f in fired)
    # the store's levels fell by what the simulator's seats released
    after = {(c["seat"], c["slot"]): c
             for c in server.get("/venues/1").json()["cartridges"]}
    used = {(c["seat"], c["slot"]): c["used_ul"]
            for c in levels["cartridges"] if c["used_ul"]}
    assert used and {k: before[k]["level_ul"] - after[k]["level_ul"]
                     for k in before if before[k] != after[k]} == used
    assert sum(used.values()) == sum(c["released_ul"]
                                     for c in out["consumption"])
    # per scent and batch, as the show is kept
    by_batch = {}
    for (seat, slot), ul in used.items():
        c = before[(seat, slot)]
        key = (c["sku"], c["batch"])
        by_batch[key] = by_batch.get(key, 0) + ul
    show = server.get("/venues/1/shows").json()
    assert len(show) == 1 and show[0]["track_id"] == 1
    assert {(u["sku"], u["batch"]): u["ul"] for u in show[0]["used"]} == \
        by_batch
    # the refilled cartridges released from the refill's batch
    assert by_batch[("SEA-BREEZE", "sea-9")] == 9 * 37


def test_cartridge_alerts_reach_the_stock_team(make_server, smtp_sink, db,
                                               tmp_path):
    """A show posted over HTTP takes A1's SEA-BREEZE below the 100 ul
    threshold: one CartridgeLow mail naming the room, seat and batch."""
    venue, _ = venue_on_free_ports(tmp_path)
    s = make_server({"SMTP_URL": smtp_sink.url})
    assert s.post("/venues", json=venue).status_code == 201
    show = {"fires": 1, "acked": 1, "missed": 0, "seat_releases": 2,
            "consumption": [
                {"seat": "A1", "slot": 1, "released_ul": 25},
                {"seat": "A11", "slot": 2, "released_ul": 20}]}
    r = s.post("/venues/1/shows", json=show)
    assert (r.status_code, r.json()) == (201, {"show_id": 1, "alerts": 1})
    mail = wait_for(smtp_sink.mails, what="the cartridge mail")
    assert "Cartridge low for SEA-BREEZE: Screen 3 A1 slot 1 holds 5 ul " \
        "(batch b-sea-7)" in mail[0]["data"]
    cart = {(c["seat"], c["slot"]): c["level_ul"]
            for c in s.get("/venues/1").json()["cartridges"]}
    assert cart[("A1", 1)] == 5 and cart[("A11", 2)] == 480
    # bad shows change nothing
    for bad, status in (
            ({"consumption": [{"seat": "Z9", "slot": 1,
                               "released_ul": 1}]}, 400),
            ({"consumption": [{"seat": "A1", "slot": 1,
                               "released_ul": -1}]}, 400),
            ({"consumption": [{"seat": "A1", "slot": 1, "released_ul": 1},
                              {"seat": "A1", "slot": 1,
                               "released_ul": 1}]}, 400),
            ({"fires": "many"}, 400), ({"colour": 1}, 400)):
        r = s.post("/venues/1/shows", json=bad)
        assert r.status_code == status, (bad, r.text)
    assert s.post("/venues/9/shows", json=show).status_code == 404
    assert {(c["seat"], c["slot"]): c["level_ul"]
            for c in s.get("/venues/1").json()["cartridges"]} == cart
    assert len(s.get("/venues/1/shows").json()) == 1
    time.sleep(0.5)
    assert len(smtp_sink.mails()) == 1


def test_bad_venues_and_refills_are_refused_and_change_nothing(server,
                                                               tmp_path):
    venue, _ = venue_on_free_ports(tmp_path)
    cases = [
        (lambda v: v.update(capacity_ul=0),
         "cartridge capacity must be 1 to 100000 ul"),
        (lambda v: v["gateways"][1].update(seats="A20-A20,B1-B20"),
         "gateway 127.0.0.1:%s: a seat of row A is served by another "
         "gateway"),
        (lambda v: v["gateways"].pop(),
         "device of seat C1: no gateway serves it"),
        (lambda v: v.update(latency_ms=20000),
         "latency_ms (0 to 10000), alert_below_ul and refill_unit_ul (up "
         "to 100000) are integers"),
        (lambda v: v.update(scent_latency_ms={"PINE": "slow"}),
         "scent_latency_ms of PINE must be an integer"),
        (lambda v: v.update(caps={"max_burst_ms": 0}),
         "caps: {\"max_ul_per_min\": 1 to 100000, \"max_burst_ms\": 1 to "
         "20000}"),
    ]
    for change, message in cases:
        v = copy.deepcopy(venue)
        change(v)
        r = server.post("/venues", json=v)
        assert r.status_code == 400, r.text
        if "%s" in message:
            message = message % v["gateways"][1]["address"].split(":")[1]
        assert r.json()["message"] == message
    assert server.get("/venues").json() == []
    assert server.post("/venues", json=venue).status_code == 201
    assert server.post("/add_batch", json={
        "ref": "s1", "sku": "SEA-BREEZE", "qty": 100}).status_code == 201
    for body, status in (
            ({"orderid": "r1"}, 400),  # neither track nor cartridges
            ({"orderid": "r1", "track": 9}, 404),
            ({"orderid": "r1", "cartridges": [
                {"seat": "A1", "slot": 9, "sku": "SEA-BREEZE"}]}, 400),
            ({"orderid": "r1", "cartridges": [
                {"seat": "A1", "slot": 1, "sku": "NEVER-STOCKED"}]}, 404),
            ({"cartridges": []}, 400)):
        r = server.post("/venues/1/refills", json=body)
        assert r.status_code == status, (body, r.text)
    assert server.get("/allocations/r1").status_code == 404
    assert server.get("/venues/1").json()["version"] == 1
    assert server.get("/venues/2").status_code == 404
    assert server.get("/venues/x").status_code == 400
    assert server.get("/venues/1/preshow").status_code == 400
    # explicit cartridges: A1's SEA-BREEZE to full from s1, one unit
    r = server.post("/venues/1/refills", json={"orderid": "r2", "cartridges": [
        {"seat": "A1", "slot": 1, "sku": "SEA-BREEZE"}]})
    assert r.json()["refills"][0]["qty"] == 1 and \
        r.json()["refills"][0]["cartridges"] == 1
    cart = server.get("/venues/1").json()["cartridges"]
    assert cart[0] == {"seat": "A1", "slot": 1, "sku": "SEA-BREEZE",
                       "batch": "s1", "level_ul": 1000}


def test_an_ltc_chased_show_fires_what_the_timecode_reaches(db, tmp_path):
    """LTC from 00:00:30:00 for five seconds, made with libltc: the cues
    at 31 s and 33 s fire and are acknowledged; the one at 40 s lies past
    the end of the timecode (and the 2 s freewheel) and is missed, exit
    1; strict lock stops at once."""
    track = {"format": "scents-cue-track/1", "title": "Short",
             "edit_rate": "24/1",
             "palette": [{"sku": "SEA-BREEZE", "slot": 1},
                         {"sku": "PINE", "slot": 2}],
             "cues": [{"id": "a", "start": "00:00:31:00", "duration": 24,
                       "scent": "SEA-BREEZE", "dose_ul": 5, "zone": "A"},
                      {"id": "b", "start": "00:00:33:00", "duration": 24,
                       "scent": "PINE", "dose_ul": 5, "zone": "A"},
                      {"id": "c", "start": "00:00:40:00", "duration": 24,
                       "scent": "PINE", "dose_ul": 5, "zone": "A"}]}
    tpath = tmp_path / "short.json"
    tpath.write_text(json.dumps(track))
    audio = str(tmp_path / "tc.u8")
    subprocess.run([LTCGEN, audio, "48000", "24", "00:00:30", "5"],
                   check=True)
    _, vpath = venue_on_free_ports(tmp_path)
    sim = Sim(db, tmp_path, vpath)
    log = str(tmp_path / "show.log")
    p = run(db, "show", str(tpath), vpath, "--ltc", audio, "--json",
            "--log", log)
    _, fired = sim.stop()
    assert p.returncode == 1, p.stderr  # a cue was missed
    out = json.loads(p.stdout)
    assert (out["fires"], out["acked"], out["missed"]) == (3, 2, 1)
    with open(log) as f:
        status = {json.loads(l)["cue"]: json.loads(l)["status"] for l in f}
    assert status == {"a": "acked", "b": "acked", "c": "missed"}
    with open(log) as f:
        assert {json.loads(l)["timecode"] for l in f} == {
            "00:00:31:00", "00:00:33:00", "00:00:40:00"}
    # row A plays 19 seats (A3 opted out), 5 ul each of SEA-BREEZE; PINE
    # skips A20, whose slot 2 holds ROSE: 19 x 5 + 18 x 5
    assert out["consumption"][0]["released_ul"] == 5
    assert sum(c["released_ul"] for c in out["consumption"]) == 185
    assert sorted(f["cue"] for f in fired) == [0, 1]
    # a bad lock mode or LTC file is refused before anything is sent
    p = run(db, "show", str(tpath), vpath, "--ltc", audio, "--lock",
            "loose")
    assert p.returncode == 2 and "--lock" in error_line(p)
    p = run(db, "show", str(tpath), vpath, "--ltc", str(tmp_path / "no"))
    assert p.returncode == 2
    for args, word in ((["--speed", "0"], "--speed"),
                       (["--tolerance-ms", "x"], "--tolerance-ms")):
        p = run(db, "show", str(tpath), vpath, *args)
        assert p.returncode == 2 and word in error_line(p), p.stderr
    for args, word in ((["--loss", "101"], "--loss"),
                       (["--latency-ms", "-1"], "--latency-ms")):
        p = run(db, "gatewaysim", vpath, *args)
        assert p.returncode == 2 and word in error_line(p), p.stderr
    p = run(db, "gatewaysim", str(tpath))  # a track is not a venue
    assert p.returncode == 2


def test_vr_dispense_within_the_device_caps(server, db, tmp_path):
    """A headset is a one-seat venue: POST /dispense fires it through the
    gateway protocol and records the release; the caps refuse a burst
    over 2 s (400) and more than 30 ul a minute (429); no gateway
    answering is a 504 with nothing recorded; a dry cartridge is a 409."""
    port = udp_port()
    headset = {"format": "scents-venue/1", "name": "Headset 7",
               "seats": "A1", "occupied": "A1", "capacity_ul": 200,
               "alert_below_ul": 20, "latency_ms": 80,
               "caps": {"max_ul_per_min": 30, "max_burst_ms": 2000},
               "gateways": [{"address": "127.0.0.1:%d" % port,
                             "seats": "A1"}],
               "devices": [{"seats": "A1", "slots": [
                   {"slot": 1, "sku": "PINE", "batch": "p1",
                    "level_ul": 40},
                   {"slot": 2, "sku": "SMOKE", "level_ul": 2}]}]}
    vpath = tmp_path / "headset.json"
    vpath.write_text(json.dumps(headset))
    assert server.post("/venues", json=headset).status_code == 201
    sim = Sim(db, tmp_path, str(vpath))

    def dispense(**kw):
        body = {"venue": 1, "scent": "PINE", "dose_ul": 10,
                "duration_ms": 1500}
        body.update(kw)
        return server.post("/dispense", json=body)

    r = dispense()
    assert r.status_code == 200, r.text
    assert r.json() == {"fired": True, "scent": "PINE", "slot": 1,
                        "level_ul": 30, "show_id": 1, "alerts": 0}
    assert dispense(duration_ms=2500).status_code == 400
    assert dispense(dose_ul=0).status_code == 400
    assert dispense(scent="ROSE").status_code == 404
    assert dispense(seat="B1").status_code == 404
    assert dispense().status_code == 200
    r = dispense(dose_ul=11)  # 20 + 11 > 30 in a minute
    assert r.status_code == 429, r.text
    assert "30 ul per minute" in r.json()["message"]
    assert dispense(scent="SMOKE", dose_ul=5).status_code == 409
    _, fired = sim.stop()
    assert len(fired) == 2
    # a headset stored without a gateway: nothing can reach it
    lone = dict(headset, name="Headset 8")
    lone.pop("gateways")
    assert server.post("/venues", json=lone).status_code == 201
    r = dispense(venue=2)
    assert r.status_code == 400, r.text
    assert r.json()["message"] == "no gateway serves seat A1"
    r = dispense(dose_ul=5)  # nobody answers now
    assert r.status_code == 504, r.text
    cart = server.get("/venues/1").json()["cartridges"]
    assert cart[0]["level_ul"] == 20  # 40 - 10 - 10; the 504 took none
    assert len(server.get("/venues/1/shows").json()) == 2


def test_venues_through_the_cli(db, tmp_path):
    """`scents venue`: import, list, show today's cartridges, the
    pre-show of a stored track (exit 1: not ready), a refill from stock
    through the bus, then ready for SEA-BREEZE; the shows list."""
    venue, vpath = venue_on_free_ports(tmp_path)
    assert run(db, "track", "import", EXAMPLE).returncode == 0
    p = run(db, "venue", "import", vpath)
    assert p.stdout == "venue 1: Screen 3, 59 seat devices\n", p.stderr
    p = run(db, "venue", "list")
    assert p.stdout.split("\t")[:2] == ["1", "Screen 3"]
    p = run(db, "venue", "show", "1")
    assert "A1       1 SEA-BREEZE               b-sea-7                 30" \
        in p.stdout, p.stdout
    p = run(db, "venue", "preshow", "1", "1", "--json")
    assert p.returncode == 1
    assert json.loads(p.stdout)["refill_ul"]["SEA-BREEZE"] == 8730
    assert run(db, "add-batch", "s9", "SEA-BREEZE", "9").returncode == 0
    # PINE was never stocked: the whole refill is refused, nothing taken
    p = run(db, "venue", "refill", "1", "1", "r-cli")
    assert p.returncode == 1
    assert error_line(p) == "scents: unknown sku 'PINE'\n"
    assert run(db, "allocations", "r-cli").returncode == 1  # none placed
    assert run(db, "add-batch", "p0", "PINE", "0").returncode == 0
    p = run(db, "venue", "refill", "1", "1", "r-cli")
    assert p.returncode == 0, p.stderr
    assert "SEA-BREEZE: 8730 ul, 9 units of order r-cli: allocated from " \
        "s9, 9 cartridges filled" in p.stdout
    assert "PINE: 1000 ul, 1 units of order r-cli: out of stock" in p.stdout
    p = run(db, "venue", "show", "1", "--json")
    assert json.loads(p.stdout)["cartridges"][0] == {
        "seat": "A1", "slot": 1, "sku": "SEA-BREEZE", "batch": "s9",
        "level_ul": 1000}
    assert run(db, "venue", "shows", "1").stdout == "[]\n"
    # bad input: named, nothing changed
    p = run(db, "venue", "show", "9")
    assert p.returncode == 1 and error_line(p) == "scents: unknown venue 9\n"
    p = run(db, "venue", "show", "x")
    assert p.returncode == 2
    p = run(db, "venue", "import", EXAMPLE)  # a track, not a venue
    assert p.returncode == 2 and "format" in error_line(p)
    assert run(db, "venue", "list").stdout.count("\n") == 1

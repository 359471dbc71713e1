"""Cue tracks (issue 16) through the real binary: the example track is
checked and its doses summed as hand-counted; each rule a track can break
is refused naming the cue, exit 2."""
import copy
import json
import os

from conftest import ROOT, error_line, run

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

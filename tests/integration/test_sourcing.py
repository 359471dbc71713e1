"""Sourcing decisions from market research (issue 6), through the CLI and
the HTTP API, on the seed's table in examples/market-research.csv."""
import json
import os

from conftest import error_line, run, snapshot

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                       "market-research.csv")
SEED = {  # the seed's table: sku -> (supplier, unit cost, saving)
    "SEA-BREEZE": ("cheap", "15.00", "10.00"),
    "NIGHTCLUB": ("cheap", "16.00", "2.00"),
    "JUNGLE": ("expensive", "30.00", "0.00"),
    "FOREST": ("cheap", "14.00", "8.00"),
    "BUSY-STREET": ("cheap", "20.00", "7.00"),
}


def test_import_then_report_prints_the_table(db):
    p = run(db, "sourcing", "import", EXAMPLE)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("imported round 1: 5 scents\n")
    p = run(db, "sourcing", "report")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert "cheap supplier when favoured by 40.00% or more" in lines[0]
    table = {l.split()[0] + (" " + l.split()[1] if l.startswith("sea") or
                             l.startswith("busy") else ""): l
             for l in lines[3:]}
    assert "SEA-BREEZE" in table["sea breeze"]
    assert table["sea breeze"].split()[3:7] == ["60.00", "cheap", "$15.00",
                                                "$10.00"]
    assert table["jungle"].split()[2:6] == ["30.00", "expensive", "$30.00",
                                            "$0.00"]
    assert table["busy street"].split()[3:7] == ["51.00", "cheap", "$20.00",
                                                 "$7.00"]


def test_report_as_json(db):
    run(db, "sourcing", "import", EXAMPLE)
    r = json.loads(run(db, "sourcing", "report", "--json").stdout)
    assert r["round"] == 1 and r["threshold_pct"] == 40.0
    got = {d["sku"]: (d["supplier"], d["unit_cost_usd"], d["saving_usd"])
           for d in r["decisions"]}
    assert got == SEED


def test_threshold_override_and_round_history(db):
    run(db, "sourcing", "import", EXAMPLE)
    p = run(db, "sourcing", "import", EXAMPLE, "--threshold", "55")
    assert p.returncode == 0
    r = json.loads(run(db, "sourcing", "report", "--json").stdout)
    got = {d["sku"]: d["supplier"] for d in r["decisions"]}
    assert got == {"SEA-BREEZE": "cheap", "NIGHTCLUB": "cheap",
                   "JUNGLE": "expensive", "FOREST": "expensive",
                   "BUSY-STREET": "expensive"}
    assert r["round"] == 2 and r["threshold_pct"] == 55.0


def test_bad_research_file_names_the_line_and_changes_nothing(db, tmp_path):
    run(db, "sourcing", "import", EXAMPLE)
    before = snapshot(db)
    bad = tmp_path / "bad.csv"
    bad.write_text(open(EXAMPLE).read() + "rain,45,45,1.00,2.00\n")
    p = run(db, "sourcing", "import", str(bad))
    assert p.returncode == 2
    assert error_line(p) == ("scents: line 7: favourabilities sum to 90.00, "
                             "not 100 (within 0.5)\n")
    p = run(db, "sourcing", "import", str(tmp_path / "missing.csv"))
    assert p.returncode == 1 and "cannot read" in error_line(p)
    p = run(db, "sourcing", "import", EXAMPLE, "--threshold", "101")
    assert p.returncode == 2
    p = run(db, "sourcing", "frobnicate")
    assert p.returncode == 2 and "usage: scents sourcing" in error_line(p)
    assert snapshot(db) == before


def test_report_before_any_research(db):
    p = run(db, "sourcing", "report")  # a report never creates a database
    assert p.returncode == 1
    assert "no database at" in error_line(p)
    assert not os.path.exists(db)
    assert run(db, "add-batch", "b1", "S", "1").returncode == 0
    p = run(db, "sourcing", "report")
    assert p.returncode == 1
    assert error_line(p) == "scents: no research yet\n"


def test_batches_record_the_supplier_of_the_latest_decision(server):
    server.post("/add_batch", json={"ref": "old", "sku": "JUNGLE", "qty": 1,
                                    "eta": None})
    r = server.post("/sourcing/research", data=open(EXAMPLE, "rb").read(),
                    headers={"Content-Type": "text/csv"})
    assert r.status_code == 201
    for ref, sku, supplier in (("j1", "JUNGLE", None), ("s1", "SEA-BREEZE",
                                                        None),
                               ("s2", "SEA-BREEZE", "expensive")):
        body = {"ref": ref, "sku": sku, "qty": 5, "eta": None}
        if supplier:
            body["supplier"] = supplier
        assert server.post("/add_batch", json=body).status_code == 201
    j = {b["ref"]: b["supplier"] for b in
         server.get("/products/JUNGLE").json()["batches"]}
    s = {b["ref"]: b["supplier"] for b in
         server.get("/products/SEA-BREEZE").json()["batches"]}
    assert j == {"old": None, "j1": "expensive"}
    assert s == {"s1": "cheap", "s2": "expensive"}
    r = server.post("/add_batch", json={"ref": "x", "sku": "S", "qty": 1,
                                        "supplier": "cheapest"})
    assert r.status_code == 400 and "'supplier'" in r.json()["message"]


def test_research_over_http_csv_and_json(server, db):
    r = server.post("/sourcing/research?threshold=51.5",
                    data=open(EXAMPLE, "rb").read(),
                    headers={"Content-Type": "text/csv; charset=utf-8"})
    assert r.status_code == 201
    body = r.json()
    assert body["threshold_pct"] == 51.5
    assert {d["sku"]: d["supplier"] for d in body["decisions"]}[
        "BUSY-STREET"] == "expensive"
    rows = [{"scent": "sea breeze", "expensive_favorability_pct": 60.1,
             "cheap_favorability_pct": 39.9, "expensive_cost_usd": "25.00",
             "cheap_cost_usd": 15, "respondents": 400},
            {"scent": "forest", "expensive_favorability_pct": 60,
             "cheap_favorability_pct": 40, "expensive_cost_usd": 22,
             "cheap_cost_usd": 14}]
    r = server.post("/sourcing/research", json={"rows": rows})
    assert r.status_code == 201
    d = {x["sku"]: x for x in r.json()["decisions"]}
    assert d["SEA-BREEZE"]["supplier"] == "expensive"  # 39.9% < 40%
    assert d["FOREST"]["supplier"] == "cheap"  # exactly 40%
    assert d["SEA-BREEZE"]["respondents"] == 400
    lo, hi = d["SEA-BREEZE"]["interval_pct"]
    assert (lo, hi) == (35.22, 44.77)  # Wilson, p=.399, n=400
    assert d["SEA-BREEZE"]["significant"] is False
    assert d["FOREST"]["interval_pct"] is None
    latest = server.get("/sourcing/decisions").json()
    assert latest["round"] == 2 and len(latest["decisions"]) == 2
    h = server.get("/sourcing/decisions/SEA-BREEZE").json()
    assert [x["round"] for x in h["history"]] == [2, 1]
    assert h["latest"]["supplier"] == "expensive"
    assert h["history"][1]["supplier"] == "cheap"
    assert server.get("/sourcing/decisions/NOPE").status_code == 404
    before = snapshot(db)
    for data, ctype, words in (
                        (b"scent,x\n", "text/csv", "line 1: unknown column 'x'"),
            # found by fuzzing: untrusted bytes that are not UTF-8 must
            # give a 400 with an escaped message, not a 503, and not be
            # stored
            (b"scent,x\xff\n", "text/csv", "unknown column 'x\\xff'"),
            (open(EXAMPLE, "rb").read() + b"bad\x95name,40,60,1,1\n",
             "text/csv", "line 7: scent name must be 1 to 255 bytes"),
            (open(EXAMPLE, "rb").read() + b"jungle,70,30,1,1\n", "text/csv",
             "line 7: scent 'jungle' (JUNGLE) is already on line 4"),
            (json.dumps({"rows": []}).encode(), "application/json",
             "'rows' must be an array"),
            (json.dumps({"rows": [dict(rows[0], cheap_cost_usd=-1)]}
                        ).encode(), "application/json",
             "row 1: 'cheap_cost_usd' must be a non-negative number"),
            (json.dumps({"rows": rows, "threshold_pct": "high"}).encode(),
             "application/json", "'threshold_pct'")):
        r = server.post("/sourcing/research", data=data,
                        headers={"Content-Type": ctype})
        assert r.status_code == 400, r.text
        assert words in r.json()["message"]
    assert snapshot(db) == before


def test_no_decisions_yet_is_404(server):
    r = server.get("/sourcing/decisions")
    assert r.status_code == 404
    assert r.json() == {"message": "no research yet"}


def test_import_prints_its_round_even_as_a_dry_run(db):
    p = run(db, "--database", "memory:", "sourcing", "import", EXAMPLE)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("imported round 1: 5 scents\n\nround 1 of ")
    assert "SEA-BREEZE" in p.stdout


def test_json_rows_are_checked_by_the_handler(server, db):
    before = snapshot(db)
    rows = [{"scent": "a", "expensive_favorability_pct": 40,
             "cheap_favorability_pct": 50, "expensive_cost_usd": 1,
             "cheap_cost_usd": 1},
            {"scent": "b", "expensive_favorability_pct": 40,
             "cheap_favorability_pct": 60, "expensive_cost_usd": 1,
             "cheap_cost_usd": 1}]
    r = server.post("/sourcing/research", json={"rows": rows})
    assert r.status_code == 400
    assert r.json()["message"] == ("row 1: favourabilities sum to 90.00, "
                                   "not 100 (within 0.5)")
    r = server.post("/sourcing/research", json={"rows": [rows[1], rows[1]]})
    assert r.status_code == 400
    assert "row 2: scent 'b' (B) is already on row 1" == r.json()["message"]
    assert snapshot(db) == before

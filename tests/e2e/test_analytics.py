"""Formulas, surveys, demand and the production plan (issue 15) against the
real binary over HTTP: the walkthrough of docs/analytics.md with the files
in examples/, and bad input answered with clear errors and nothing
changed."""
import datetime
import json
import os

import requests

from conftest import ROOT, snapshot

CSV = {"Content-Type": "text/csv"}


def example(name):
    with open(os.path.join(ROOT, "examples", name), "rb") as f:
        return f.read()


def test_survey_to_winner_to_formula_to_cost_to_plan_to_batches(server):
    r = server.raw("PUT", "/ingredients", example("ingredients.csv"),
                   "Content-Type: text/csv\r\n")
    assert r[0] == 200, r
    r = server.post("/formulas/SEA-BREEZE", data=example("sea-breeze-a.csv"),
                    headers=CSV)
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["version"] == 1 and a["active"]
    # 10 ml at 1 g/ml: 0.25 g calone at $120/kg, 1.25 g hedione at $40,
    # 8.5 g ethanol at $2: 3 + 5 + 1.7 = 9.7 cents; expensive $180, $55,
    # $3.50: 4.5 + 6.875 + 2.975 = 14.35 cents
    assert a["unit_cost_usd"] == {"cheap": "0.0970", "expensive": "0.1435"}
    r = server.post("/formulas/SEA-BREEZE", data=example("sea-breeze-b.csv"),
                    headers=CSV)
    assert r.status_code == 201 and not r.json()["active"]
    r = server.post("/surveys", json={
        "sku": "SEA-BREEZE", "name": "ocean breeze, round 1",
        "variants": [{"label": "A", "version": 1},
                     {"label": "B", "version": 2}]})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    r = server.post(f"/surveys/{sid}/responses",
                    data=example("survey-responses.csv"), headers=CSV)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert [v["answered"] for v in rep["variants"]] == [200, 200]
    assert rep["winner"] == "B"
    assert rep["variants"][0]["p_vs_leader"] < 0.05
    lo, hi = rep["variants"][1]["acceptance_interval_pct"]
    assert lo < rep["variants"][1]["acceptance_pct"] < hi
    r = server.get(f"/surveys/{sid}?segment=cinema")
    assert r.status_code == 200
    assert sum(v["answered"] for v in r.json()["variants"]) < 400
    # the winner becomes the scent's formula, logged, and reversibly so
    r = server.post(f"/surveys/{sid}/promote", json={"reason": "round 1"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["active"]
    log = server.get("/formulas/SEA-BREEZE/log").json()
    assert log[0]["to_version"] == 2 and log[0]["survey"] == sid
    r = server.post("/formulas/SEA-BREEZE/activate", json={"revert": True})
    assert r.json()["version"] == 1
    r = server.get("/formulas/SEA-BREEZE?version=2&format=csv")
    assert r.headers["Content-Type"].startswith("text/csv")
    assert r.text == ("ingredient,pct\ncalone,4.000\nhedione,10.000\n"
                      "dihydromyrcenol,6.000\nethanol,80.000\n")
    assert server.get("/ingredients?format=xml").status_code == 400
    r = server.post("/formulas/SEA-BREEZE/activate", json={"version": 2})
    assert r.json()["version"] == 2
    bom = server.get("/formulas/SEA-BREEZE/bom?units=1000&ml=50").json()
    assert bom["total_grams"] == "50000.000"
    assert [l["grams"] for l in bom["lines"]] == [
        "2000.000", "5000.000", "3000.000", "40000.000"]
    # sourcing decides the supplier; the plan prices it from the formula
    r = server.post("/sourcing/research", data=example("market-research.csv"),
                    headers=CSV)
    assert r.status_code == 201, r.text
    today = datetime.date.today()
    rows = ["date,sku,outcome,units,lines,segment"]
    for w in range(1, 13):
        d = today - datetime.timedelta(days=7 * w)
        rows.append(f"{d},SEA-BREEZE,allocated,{200 + 10 * (12 - w)},20,"
                    "cinema")
        rows.append(f"{d},SEA-BREEZE,refused,20,2,game")
    r = server.post("/demand", data="\n".join(rows).encode(), headers=CSV)
    assert r.json() == {"imported": 24}
    assert server.post("/add_batch", json={
        "ref": "b1", "sku": "SEA-BREEZE", "qty": 100}).status_code == 201
    assert server.post("/allocate", json={
        "orderid": "o1", "sku": "SEA-BREEZE", "qty": 10}).status_code == 202
    d = server.get("/demand?period=week&by=segment").json()
    sea = [s for s in d["skus"] if s["sku"] == "SEA-BREEZE"][0]
    assert sea["refused"] >= 20 and sea["allocated"] >= 210
    # weekly units grow by 10 a week (200 + 10 * (12 - w) allocated w
    # weeks ago, 20 refused each week): a rising trend, under 10 because
    # the window's first week has no data and this week only 10 units
    assert 0 < sea["trend_per_week"] < 10
    assert d["top"][0]["sku"] == "SEA-BREEZE"
    assert d["top_by_segment"]["cinema"][0]["sku"] == "SEA-BREEZE"
    assert d["top_by_segment"]["game"][0]["units"] == sum(
        20 for w in range(1, 13)
        if today - datetime.timedelta(days=7 * w) >=
        today - datetime.timedelta(days=90))
    assert server.get("/demand").json()["top_by_segment"] is None
    plan = server.get("/plan?weeks=4&min_batch=500").json()
    line = plan["lines"][0]
    assert line["sku"] == "SEA-BREEZE"
    assert line["available"] == 90
    assert line["make"] % 500 == 0 and line["make"] > 0
    assert line["supplier"] in ("cheap", "expensive")
    assert line["cost_source"] == "formula"
    assert line["holdout_mae"] is not None


def test_bad_input_is_refused_and_changes_nothing(server, db):
    assert server.raw("PUT", "/ingredients", example("ingredients.csv"),
                      "Content-Type: text/csv\r\n")[0] == 200
    before = snapshot(db)
    bad = [
        ("/formulas/X", {"lines": [{"ingredient": "ethanol", "pct": "90"}]},
         "sum to 90.000%"),
        ("/formulas/X", {"lines": [{"ingredient": "ambrox", "pct": "100"}]},
         "unknown ingredient 'ambrox'"),
        ("/formulas/X", {"lines": [{"ingredient": "calone", "pct": "10"},
                                   {"ingredient": "ethanol", "pct": "90"}]},
         "above its limit"),
        ("/surveys", {"sku": "X", "name": "one", "variants": [
            {"label": "A", "version": 1}]}, "2 to 10 variants"),
        ("/surveys", {"sku": "X", "name": "none", "variants": []},
         "2 to 10 variants"),
    ]
    for path, body, want in bad:
        r = server.post(path, json=body)
        assert r.status_code == 400, (path, r.text)
        assert want in r.json()["message"], r.text
    r = server.raw("PUT", "/ingredients",
                   b"name,cheap_usd_per_kg\nrose,-5\n",
                   "Content-Type: text/csv\r\n")
    assert r[0] == 400 and b"line 2" in r[1]
    r = server.raw("PUT", "/ingredients", b"name,cas\nrose,123-45-6\n",
                   "Content-Type: text/csv\r\n")
    assert r[0] == 400 and b"CAS" in r[1]
    assert server.get("/surveys/7").status_code == 404
    r = server.post("/demand", json=[{"date": "2026-01-01"}])
    assert r.status_code == 415 and "text/csv" in r.json()["message"]
    # the ImportDemand handler's own rules: all lines or none
    r = server.post("/demand", data=b"date,sku,outcome,units,lines\n"
                    b"2026-01-05,SEA,allocated,5,1\n"
                    b"2026-01-06,SEA,allocated,2,3\n", headers=CSV)
    assert r.status_code == 400
    assert r.json()["message"].startswith("line 3: needs a sku")
    assert server.get("/plan?weeks=0").status_code == 400
    assert server.get("/demand?period=month").status_code == 400
    assert snapshot(db) == before


def test_an_empty_survey_has_no_winner_and_cannot_be_promoted(server, db):
    server.raw("PUT", "/ingredients", example("ingredients.csv"),
               "Content-Type: text/csv\r\n")
    for name in ("sea-breeze-a.csv", "sea-breeze-b.csv"):
        server.post("/formulas/S", data=example(name), headers=CSV)
    sid = server.post("/surveys", json={
        "sku": "S", "name": "r", "variants": [
            {"label": "A", "version": 1},
            {"label": "B", "version": 2}]}).json()["id"]
    before = snapshot(db)
    r = server.post(f"/surveys/{sid}/promote")
    assert r.status_code == 409 and "no clear winner" in r.text
    r = server.post(f"/surveys/{sid}/responses", data=(
        b"respondent,variant,accepted\np1,A,yes\np2,C,no\n"), headers=CSV)
    assert r.status_code == 400 and "line 3: unknown variant 'C'" in r.text
    r = server.post(f"/surveys/{sid}/responses",
                    json=[{"respondent": "p1", "variant": "A"}])
    assert r.status_code == 400 and "accepted, a rating" in r.text
    assert snapshot(db) == before
    # close results: no winner, and how many more would be needed
    rows = ["respondent,variant,accepted"]
    rows += [f"p{i},A,{'yes' if i < 55 else 'no'}" for i in range(100)]
    rows += [f"p{i},B,{'yes' if i < 50 else 'no'}" for i in range(100)]
    r = server.post(f"/surveys/{sid}/responses",
                    data="\n".join(rows).encode(), headers=CSV)
    rep = r.json()
    assert rep["winner"] is None
    assert rep["respondents_needed_per_variant"] == 1565
    assert rep["more_respondents_needed"] == 1465
    r = server.post(f"/surveys/{sid}/promote")
    assert r.status_code == 409 and "1465 more" in r.text


def test_the_sourcing_report_shows_the_formula_cost_beside_the_entered(
        server):
    server.raw("PUT", "/ingredients", example("ingredients.csv"),
               "Content-Type: text/csv\r\n")
    server.post("/formulas/SEA-BREEZE", data=example("sea-breeze-b.csv"),
                headers=CSV)
    r = server.post("/sourcing/research", data=example("market-research.csv"),
                    headers=CSV)
    sea = [d for d in r.json()["decisions"] if d["sku"] == "SEA-BREEZE"][0]
    # 60% favour cheap: the cheap formula cost replaces the entered $15
    assert sea["supplier"] == "cheap"
    assert sea["formula_version"] == 1
    assert sea["unit_cost_usd"] == "0.1148"
    assert sea["entered_unit_cost_usd"] == "15.00"
    assert sea["formula_unit_cost_usd"] == {"cheap": "0.1148",
                                            "expensive": "0.1706"}
    assert sea["saving_usd"] == "0.0558"
    other = [d for d in server.get("/sourcing/decisions").json()["decisions"]
             if d["sku"] != "SEA-BREEZE"][0]
    assert other["formula_version"] is None
    assert "entered_unit_cost_usd" not in other


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_the_cli_walkthrough_and_a_streamed_import(db, tmp_path):
    from conftest import error_line, run
    ex = os.path.join(ROOT, "examples")
    assert run(db, "ingredients", "import",
               os.path.join(ex, "ingredients.csv")).returncode == 0
    p = run(db, "formula", "add", "SEA-BREEZE",
            os.path.join(ex, "sea-breeze-a.csv"), "--unit-ml", "50",
            "--density", "0.9")
    assert p.stdout == "SEA-BREEZE formula version 1 (active)\n", p.stderr
    run(db, "formula", "add", "SEA-BREEZE",
        os.path.join(ex, "sea-breeze-b.csv"))
    p = run(db, "formula", "show", "SEA-BREEZE")
    assert "unit cost: cheap $0.4365, expensive $0.6458" in p.stdout
    # export and import again: the same lines, as a new version
    p = run(db, "formula", "show", "SEA-BREEZE", "--version", "2", "--csv")
    assert p.stdout.startswith("ingredient,pct\ncalone,4.000\n"), p.stdout
    again = write(tmp_path, "again.csv", p.stdout)
    assert run(db, "formula", "add", "SEA-BREEZE", again).stdout == \
        "SEA-BREEZE formula version 3\n"
    v2 = json.loads(run(db, "formula", "show", "SEA-BREEZE", "--version",
                        "2", "--json").stdout)
    v3 = json.loads(run(db, "formula", "show", "SEA-BREEZE", "--version",
                        "3", "--json").stdout)
    assert v2["lines"] == v3["lines"]
    p = run(db, "ingredients", "list", "--csv")
    assert p.stdout.splitlines()[1] == "calone,28940-11-6,5.000,120.00,180.00"
    assert run(db, "survey", "create", "SEA-BREEZE", "round 1", "A=1",
               "B=2").stdout == "survey 1\n"
    # 12 000 responses: three chunks; a bad line in the last one means
    # nothing at all is written
    rows = ["respondent,variant,accepted,rating,segment"]
    rows += [f"r{i},{'AB'[i % 2]},{'yes' if i % 3 else 'no'},4,cinema"
             for i in range(12000)]
    bad = write(tmp_path, "bad.csv", "\n".join(rows + ["r1,C,yes,,"]) + "\n")
    before = snapshot(db)
    p = run(db, "survey", "import", "1", bad)
    assert p.returncode == 2
    assert error_line(p) == "scents: line 12002: unknown variant 'C'\n"
    assert snapshot(db) == before
    good = write(tmp_path, "good.csv", "\n".join(rows) + "\n")
    p = run(db, "survey", "import", "1", good)
    assert p.stdout == "12000 records imported\n", p.stderr
    p = run(db, "survey", "report", "1", "--json")
    rep = json.loads(p.stdout)
    assert [v["answered"] for v in rep["variants"]] == [6000, 6000]
    assert run(db, "survey", "import", "1",
               os.path.join(ex, "survey-responses.csv")).returncode == 0
    p = run(db, "survey", "report", "1")
    assert "winner" in p.stdout or "no clear winner" in p.stdout
    rows = ["date,sku,outcome,units"]
    today = datetime.date.today()
    rows += [f"{today - datetime.timedelta(days=7 * w)},SEA-BREEZE,"
             f"allocated,{100 + w}" for w in range(1, 13)]
    assert run(db, "demand", "import",
               write(tmp_path, "d.csv", "\n".join(rows))).returncode == 0
    p = run(db, "demand", "report", "--by-segment")
    assert p.returncode == 0, p.stderr
    assert "top overall: SEA-BREEZE (" in p.stdout
    p = run(db, "demand", "report", "--period", "day", "--json")
    assert sum(r["allocated"] for r in json.loads(p.stdout)["rows"]) == sum(
        100 + w for w in range(1, 13)
        if datetime.timedelta(days=7 * w) <= datetime.timedelta(days=90))
    bom = json.loads(run(db, "formula", "bom", "SEA-BREEZE", "1000",
                         "--ml", "50", "--version", "1").stdout)
    # version 1 at 0.9 g/ml: 45 kg; calone 2.5% = 1 125 g
    assert bom["total_grams"] == "45000.000"
    assert bom["lines"][0] == {"ingredient": "calone", "pct": "2.500",
                               "grams": "1125.000"}
    log = json.loads(run(db, "formula", "log", "SEA-BREEZE").stdout)
    assert log[-1]["reason"] == "first formula"
    p = run(db, "plan", "--min-batch", "100", "--apply")
    assert p.returncode == 0, p.stderr
    ref = f"plan-{today}-SEA-BREEZE"
    assert f"created {ref}: " in p.stdout
    batch = json.loads(run(db, "product", "SEA-BREEZE").stdout)["batches"]
    assert [b["ref"] for b in batch] == [ref]
    assert batch[0]["purchased"] % 100 == 0
    assert batch[0]["eta"] == str(today + datetime.timedelta(days=14))
    # usage errors
    for args in (("plan", "--weeks", "0"), ("formula", "bom", "SEA-BREEZE",
                                             "0"),
                 ("survey", "create", "SEA-BREEZE", "x", "A1"),
                 ("demand", "report", "--period", "month")):
        p = run(db, *args)
        assert p.returncode == 2, (args, p.stderr)


def test_the_walkthrough_of_analytics_md(server, db):
    """docs/analytics.md, step by step, with examples/ as it ships."""
    from conftest import run
    steps = [
        ("PUT", "/ingredients", "ingredients.csv", CSV),
        ("POST", "/formulas/SEA-BREEZE", "sea-breeze-a.csv", CSV),
        ("POST", "/formulas/SEA-BREEZE", "sea-breeze-b.csv", CSV),
    ]
    for method, path, name, headers in steps:
        r = requests.request(method, server.url + path, data=example(name),
                             headers=headers, timeout=30)
        assert r.status_code in (200, 201), r.text
    r = server.post("/surveys", json={
        "sku": "SEA-BREEZE", "name": "ocean breeze",
        "variants": [{"label": "A", "version": 1},
                     {"label": "B", "version": 2}]})
    assert r.status_code == 201
    r = server.post("/surveys/1/responses",
                    data=example("survey-responses.csv"), headers=CSV)
    survey = r.json()
    print("\nsurvey:", [(v["label"], v["acceptance_pct"],
                         v["acceptance_interval_pct"], v["mean_rating"],
                         v["p_vs_leader"]) for v in survey["variants"]],
          "winner", survey["winner"])
    assert survey["winner"] == "B"
    r = server.post("/surveys/1/promote", json={"reason": "round 1"})
    assert r.json()["version"] == 2 and r.json()["active"]
    print("active formula:", r.json()["version"], r.json()["unit_cost_usd"])
    r = server.post("/sourcing/research", data=example("market-research.csv"),
                    headers=CSV)
    sea = [d for d in r.json()["decisions"] if d["sku"] == "SEA-BREEZE"][0]
    print("sourcing:", sea["supplier"], sea["unit_cost_usd"], "entered",
          sea["entered_unit_cost_usd"])
    assert sea["supplier"] == "cheap" and sea["unit_cost_usd"] == "0.1148"
    r = server.post("/demand", data=example("past-demand.csv"), headers=CSV)
    assert r.json() == {"imported": 48}
    plan = server.get("/plan?as_of=2026-11-26&min_batch=500").json()
    for line in plan["lines"]:
        print("plan:", {k: line[k] for k in (
            "sku", "forecast_per_week", "holdout_mae", "naive_mae",
            "forecast", "safety", "available", "incoming", "make",
            "supplier", "unit_cost_usd", "cost_source", "eta")})
    sea = [l for l in plan["lines"] if l["sku"] == "SEA-BREEZE"][0]
    assert sea["make"] > 0 and sea["make"] % 500 == 0
    assert sea["cost_source"] == "formula" and sea["eta"] == "2026-12-10"
    p = run(db, "plan", "--as-of", "2026-11-26", "--min-batch", "500",
            "--apply")
    assert p.returncode == 0, p.stderr
    print(p.stdout)
    batch = server.get("/products/SEA-BREEZE").json()["batches"]
    assert [(b["ref"], b["purchased"], b["eta"], b["supplier"])
            for b in batch] == [("plan-2026-11-26-SEA-BREEZE", sea["make"],
                                 "2026-12-10", "cheap")]


def test_check_finds_broken_formulas_and_responses(db):
    """scents check verifies issue 15's rows too: an active version that
    does not exist, a formula that no longer sums to 100%, a response to
    a variant its survey lacks (each broken by hand, below the program)."""
    import sqlite3
    from conftest import run
    ex = os.path.join(ROOT, "examples")
    run(db, "ingredients", "import", os.path.join(ex, "ingredients.csv"))
    run(db, "formula", "add", "SEA", os.path.join(ex, "sea-breeze-a.csv"))
    run(db, "formula", "add", "SEA", os.path.join(ex, "sea-breeze-b.csv"))
    run(db, "survey", "create", "SEA", "r", "A=1", "B=2")
    assert run(db, "check").returncode == 0
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE formula_lines SET milli = 1000 WHERE pos = 0"
                    " AND version = 2")
        con.execute("UPDATE formula_active SET version = 7")
        con.execute("INSERT INTO survey_responses VALUES (1, 5, 'p1', 1,"
                    " NULL, NULL)")
    con.close()
    p = run(db, "check")
    assert p.returncode == 1
    assert "formula 'SEA' is active at version 7, which does not exist" \
        in p.stdout
    assert "formula 'SEA' version 2 sums to 97000 thousandths" in p.stdout
    assert "survey 1 has responses to variant 5, which it lacks" in p.stdout

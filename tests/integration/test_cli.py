"""The `scents` command line against a real SQLite file (issue 3)."""
import os
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import BIN, error_line, run, snapshot


def test_help_lists_every_command(db):
    p = run(db, "help")
    assert p.returncode == 0
    for cmd in ("serve", "add-batch", "allocate", "change-batch-quantity",
                "allocations", "version"):
        assert cmd in p.stdout


def test_unknown_command_is_a_usage_error(db):
    p = run(db, "frobnicate")
    assert p.returncode == 2
    assert p.stderr == "scents: unknown command 'frobnicate' (see 'scents help')\n"


def test_wrong_argument_count_prints_usage(db):
    p = run(db, "allocate", "o1")
    assert p.returncode == 2
    assert ("usage: scents allocate [--backorder] [--customer ID] ORDERID "
            "SKU QTY") in p.stderr


def test_state_persists_across_processes(db):
    assert run(db, "add-batch", "b-later", "SEA-BREEZE", "10",
               "2027-01-01").returncode == 0
    assert run(db, "add-batch", "b-now", "SEA-BREEZE", "10").returncode == 0
    p = run(db, "allocate", "o1", "SEA-BREEZE", "4")
    assert (p.returncode, p.stdout) == (0, "b-now\n")
    p = run(db, "allocations", "o1")
    assert p.returncode == 0
    assert p.stdout == '[{"sku":"SEA-BREEZE","batchref":"b-now"}]\n'


def test_change_batch_quantity_reallocates(db):
    run(db, "add-batch", "b1", "JUNGLE", "10")
    run(db, "add-batch", "b2", "JUNGLE", "10", "2027-01-01")
    run(db, "allocate", "o1", "JUNGLE", "6")
    assert run(db, "change-batch-quantity", "b1", "5").returncode == 0
    p = run(db, "allocations", "o1")
    assert p.stdout == '[{"sku":"JUNGLE","batchref":"b2"}]\n'


def test_errors_are_one_line_with_exit_codes(db):
    run(db, "add-batch", "b1", "FOREST", "5")
    before = snapshot(db)
    cases = [
        (("allocate", "o1", "NOPE", "1"), 1, "scents: unknown sku 'NOPE'\n"),
        (("allocate", "o1", "FOREST", "9"), 1,
         "scents: out of stock for sku 'FOREST'\n"),
        (("allocate", "o1", "FOREST", "0"), 2, None),
        (("deallocate", "o1"), 1, "scents: order 'o1' holds no lines\n"),
        (("deallocate", "o1", "FOREST"), 1,
         "scents: order 'o1' holds no 'FOREST'\n"),
        (("deallocate", "o1", "FOREST", "x"), 2, None),
        (("customer", "add", "x"), 2, None),
        (("customer", "show", "ghost"), 1,
         "scents: unknown customer 'ghost'\n"),
        (("deliveries", "--state", "zombie"), 2, None),
        (("deliveries", "replay", "x"), 2,
         "scents: a delivery id is a positive integer\n"),
        (("low-stock", "NOPE", "1"), 1, "scents: unknown sku 'NOPE'\n"),
        (("change-batch-eta", "nope", "-"), 1,
         "scents: unknown batch 'nope'\n"),
        (("change-batch-eta", "b1", "2027-13-01"), 2, None),
        (("allocate", "o1", "FOREST", "1x"), 2, None),
        (("add-batch", "b2", "FOREST", "-1"), 2, None),
        (("add-batch", "b2", "FOREST", "1", "2027-02-30"), 2, None),
        (("add-batch", "b1", "FOREST", "6"), 1,
         "scents: batch 'b1' exists with other values\n"),
        (("change-batch-quantity", "zz", "1"), 1,
         "scents: unknown batch 'zz'\n"),
        (("allocations", "nobody"), 1,
         "scents: no allocations for order 'nobody'\n"),
        (("allocate", "o\x01", "FOREST", "1"), 2, None),
    ]
    for args, code, text in cases:
        p = run(db, *args)
        assert p.returncode == code, (args, p.stderr)
        line = error_line(p)
        if text:
            assert line == text
    after = snapshot(db)
    # out of stock is not an error of input: it records OutOfStock (with
    # the line that found none) for the stock team, and the refused units
    # in the demand rollup (issue 15); nothing else changed
    assert [r[1:5] for r in after.pop("outbox")] == [
        ("OutOfStock", "o1", "FOREST", 9)]
    assert [r[1:] for r in after.pop("demand")] == [("FOREST", "", 2, 9, 1)]
    before.pop("outbox")
    before.pop("demand")
    assert after == before


def test_bad_database_url_is_a_usage_error(db):
    p = run(db, "allocations", "o1", env={"DATABASE_URL": "mysql://x"})
    assert p.returncode == 2
    assert "DATABASE_URL" in p.stderr


def test_unwritable_database_is_a_runtime_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        p = run(str(ro / "sub" / "x.db"), "add-batch", "b", "S", "1")
    finally:
        os.chmod(ro, 0o700)
    if os.geteuid() == 0:  # root ignores the mode bits; use a file as dir
        f = tmp_path / "file"
        f.write_text("")
        p = run(str(f / "x.db"), "add-batch", "b", "S", "1")
    assert p.returncode == 1
    assert p.stderr.startswith("scents: ")


def test_migrated_database_reopens_and_keeps_its_data(db):
    run(db, "add-batch", "b1", "NIGHTCLUB", "5")
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 14
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()
    # reopening migrates nothing again and loses nothing
    assert run(db, "allocate", "o1", "NIGHTCLUB", "5").stdout == "b1\n"
    assert run(db, "allocations", "o1").returncode == 0


def test_database_from_a_newer_program_is_refused(db):
    run(db, "add-batch", "b1", "NIGHTCLUB", "5")
    con = sqlite3.connect(db)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    p = run(db, "allocate", "o1", "NIGHTCLUB", "1")
    assert p.returncode == 1
    assert "schema 99 is newer" in p.stderr


def test_processes_racing_for_the_last_units_never_oversell(db):
    run(db, "add-batch", "b1", "BUSY-STREET", "10")
    env = dict(os.environ, DATABASE_URL="sqlite:" + db)

    def allocate(i):
        return subprocess.run([BIN, "allocate", f"o{i}", "BUSY-STREET", "1"],
                              env=env, capture_output=True, text=True,
                              timeout=120)
    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(allocate, range(30)))
    won = [r for r in results if r.returncode == 0]
    assert len(won) == 10
    assert all(error_line(r) == "scents: out of stock for sku 'BUSY-STREET'\n"
               for r in results if r.returncode != 0)
    con = sqlite3.connect(db)
    assert con.execute("SELECT allocated_quantity FROM batches").fetchone() \
        == (10,)
    assert con.execute("SELECT COUNT(*), SUM(qty) FROM allocations"
                       ).fetchone() == (10, 10)
    assert con.execute("SELECT COUNT(*) FROM allocations_view"
                       ).fetchone() == (10,)
    con.close()


def test_memory_store_is_a_dry_run(db):
    p = run(db, "--database", "memory:", "add-batch", "b1", "S", "5")
    assert p.returncode == 0
    # nothing persisted: a new process starts empty
    p = run(db, "--database", "memory:", "allocate", "o1", "S", "1")
    assert p.returncode == 1
    assert error_line(p) == "scents: unknown sku 'S'\n"
    assert not os.path.exists(db)


def test_existing_empty_database_file_is_migrated(db):
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE unrelated (x)")  # a file at user_version 0
    con.commit()
    con.close()
    assert run(db, "add-batch", "b1", "S", "5").returncode == 0
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 14
    names = {r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"products", "batches", "allocations", "outbox",
            "unrelated"} <= names
    # the read model is a view of the lines (schema 6, decisions/0014)
    assert con.execute("SELECT type FROM sqlite_master WHERE name ="
                       " 'allocations_view'").fetchone() == ("view",)
    con.close()


def test_version_1_database_is_upgraded_keeping_its_data(db):
    """A file written by the first release (schema 1: no outbox, no
    research, batches without supplier) is upgraded to the current one."""
    con = sqlite3.connect(db)
    con.executescript(open(os.path.join(os.path.dirname(__file__),
                                        "schema_v1.sql")).read())
    con.execute("INSERT INTO products VALUES (1, 'OLD', 1)")
    con.execute("INSERT INTO batches VALUES (1, 'old-b', 1, 10, 0, NULL)")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    assert run(db, "allocate", "o1", "OLD", "3").stdout == "old-b\n"
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 14
    assert con.execute("SELECT kind, orderid FROM outbox").fetchall() == [
        ("Allocated", "o1")]
    con.close()


def test_a_postgresql_store_that_is_down_is_one_clear_error(db):
    p = run(db, "allocations", "o1",
            env={"DATABASE_URL": "postgresql://u:hunter2@127.0.0.1:1/db"})
    assert p.returncode == 1
    line = error_line(p)
    assert line.startswith("scents: postgresql connect: connection to "
                           "server at \"127.0.0.1\", port 1 failed"), line
    assert "hunter2" not in p.stderr


def test_a_store_that_is_not_built_in_is_a_usage_error(db):
    p = run(db, "allocations", "o1",
            env={"DATABASE_URL": "mysql://u:p@127.0.0.1:1/db"})
    assert p.returncode == 2
    assert error_line(p).startswith("scents: DATABASE_URL must be sqlite:PATH,"
                                    " memory: or postgresql://...")


def test_every_command_has_help_on_stdout_with_exit_0(db):
    import re
    listed = re.findall(r"^  ([a-z-]+) ", run(db, "help").stdout, re.M)
    assert len(listed) >= 13
    for cmd in listed:
        for args in (["help", cmd], [cmd, "--help"], [cmd, "-h"]):
            p = run(db, *args)
            assert p.returncode == 0, (args, p.stderr)
            assert p.stdout.startswith(f"usage: scents {cmd}"), args
            assert p.stderr == ""
    assert not os.path.exists(db)  # asking for help creates nothing


def test_version_and_global_options(db):
    for args in (["--version"], ["-V"], ["version"]):
        p = run(db, *args)
        assert (p.returncode, p.stdout) == (0, "scents 0.1.0\n")
    p = run(db, "--bogus")
    assert p.returncode == 2 and "unknown option '--bogus'" in p.stderr
    p = run(db, "help", "frobnicate")
    assert p.returncode == 2


def test_options_go_anywhere_and_unknown_ones_are_usage_errors(db, tmp_path):
    csv = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                       "market-research.csv")
    p = run(db, "sourcing", "import", "--threshold", "55", csv)
    assert p.returncode == 0, p.stderr
    p = run(db, "sourcing", "--json", "report")
    assert p.returncode == 0 and '"threshold_pct":55.0' in p.stdout
    p = run(db, "allocate", "--frob", "o", "S", "1")
    assert p.returncode == 2
    assert error_line(p) == ("scents: allocate: unknown option '--frob' "
                             "(see 'scents help allocate')\n")
    p = run(db, "products", "--json")  # an option of another command
    assert p.returncode == 2
    p = run(db, "products", "--limit")
    assert p.returncode == 2 and "needs a value" in p.stderr
    p = run(db, "allocations", "--help")
    assert p.returncode == 0 and "no allocations" not in p.stdout


def test_read_commands_never_create_a_database_or_directory(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    for args in (["allocations", "o1"], ["products"], ["product", "S"],
                 ["sourcing", "report"], ["token", "list"]):
        p = run(str(missing), *args)
        assert p.returncode == 1, args
        assert "no database at" in error_line(p), args
    assert not (tmp_path / "no").exists()


def test_products_and_product_mirror_the_api(server, db):
    import json
    server.post("/add_batch", json={"ref": "b1", "sku": "A", "qty": 5})
    server.post("/add_batch", json={"ref": "b2", "sku": "B", "qty": 7,
                                    "eta": "2027-01-02"})
    server.post("/allocate", json={"orderid": "o", "sku": "B", "qty": 2})
    for cli, path in ((["products"], "/products"),
                      (["products", "--limit", "1", "--after", "A"],
                       "/products?limit=1&after=A"),
                      (["product", "B"], "/products/B")):
        p = run(db, *cli)
        assert p.returncode == 0, p.stderr
        assert json.loads(p.stdout) == server.get(path).json()


def test_check_finds_corrupted_derived_data_and_repair_fixes_it(db):
    for args in (("add-batch", "b1", "S", "10"), ("add-batch", "b2", "T", "5"),
                 ("allocate", "o1", "S", "3"), ("allocate", "o2", "S", "4"),
                 ("allocate", "o1", "T", "2")):
        assert run(db, *args).returncode == 0
    p = run(db, "check")
    assert (p.returncode, p.stdout) == (0, "12 checks, 0 problems\n")
    con = sqlite3.connect(db)
    con.execute("PRAGMA ignore_check_constraints = 1")
    con.execute("UPDATE batches SET allocated_quantity = 99 "
                "WHERE reference = 'b1'")        # over, and not its lines
    con.execute("UPDATE batches SET allocated_quantity = 0 "
                "WHERE reference = 'b2'")        # a total that lies
    con.execute("DELETE FROM outbox WHERE orderid = 'o1' AND sku = 'S'")
    con.execute("INSERT INTO backorders (orderid, sku, qty) "
                "VALUES ('o1', 'T', 1)")          # waiting and allocated
    # the read model is a view of the lines: it cannot be written...
    with pytest.raises(sqlite3.OperationalError):
        con.execute("DELETE FROM allocations_view WHERE orderid = 'o2'")
    # ...but a definition changed by hand is caught
    con.execute("DROP VIEW allocations_view")
    con.execute("CREATE VIEW allocations_view (orderid, sku, batchref) AS"
                " SELECT orderid, sku, 'b9' FROM allocations"
                " WHERE orderid != 'o2' UNION ALL SELECT 'ghost', 'S', 'b1'")
    con.commit()
    con.close()
    p = run(db, "check")
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert lines[-1] == "12 checks, 10 problems", lines
    assert set(lines[:-1]) == {
        "integrity: CHECK constraint failed in batches",
        "batch 'b1' is over-allocated: 99 of 10",
        "batch 'b1' records 99 allocated but its lines sum to 7",
        "batch 'b2' records 0 allocated but its lines sum to 2",
        "read model: order 'o2' sku 'S' shows nothing, the line is in 'b1'",
        "read model: order 'o1' sku 'S' shows 'b9', the line is in 'b1'",
        "read model: order 'o1' sku 'T' shows 'b9', the line is in 'b2'",
        "read model: order 'ghost' sku 'S' shows 'b1' but has no such line",
        "outbox: no Allocated event for order 'o1' sku 'S' in 'b1'",
        "order 'o1' sku 'T' is both allocated and backordered",
    }
    con = sqlite3.connect(db)  # what a repair cannot guess: the view
    con.execute("DROP VIEW allocations_view")
    con.execute("CREATE VIEW allocations_view (orderid, sku, batchref) AS"
                " SELECT a.orderid, a.sku, b.reference FROM allocations a"
                " JOIN batches b ON b.id = a.batch_id")
    con.commit()
    con.close()
    p = run(db, "check", "--repair")
    assert p.returncode == 1  # neither the lost event nor which of the
    assert p.stdout.splitlines() == [  # two states is right can be guessed
        "repaired: 2 rows of derived data rebuilt",  # the 2 totals
        "order 'o1' sku 'T' is both allocated and backordered",
        "outbox: no Allocated event for order 'o1' sku 'S' in 'b1'",
        "12 checks, 2 problems"]
    p = run(db, "allocations", "o1")
    assert p.stdout == ('[{"sku":"S","batchref":"b1"},'
                        '{"sku":"T","batchref":"b2"},'
                        '{"sku":"T","qty":1,"status":"backordered"}]\n')
    p = run(db, "allocate", "o3", "S", "3")  # totals are right again
    assert (p.returncode, p.stdout) == (0, "b1\n")
    p = run(db, "allocate", "o4", "S", "1")
    assert p.returncode == 1  # 3 + 4 + 3 = 10: b1 is full


def test_backup_copies_a_live_database(db, tmp_path, server):
    server.post("/add_batch", json={"ref": "b1", "sku": "S", "qty": 10})
    server.post("/allocate", json={"orderid": "o1", "sku": "S", "qty": 4})
    copy = str(tmp_path / "copy.db")
    p = run(db, "backup", copy)  # while the server runs
    assert (p.returncode, p.stdout) == (0, copy + "\n")
    assert snapshot(copy) == snapshot(db)
    p = run(copy, "check")
    assert p.returncode == 0
    p = run(db, "backup", copy)
    assert p.returncode == 1 and "exists; not overwriting" in p.stderr
    p = run(db, "backup", str(tmp_path / "no" / "dir" / "x.db"))
    assert p.returncode == 1 and "backup to" in error_line(p)
    p = run(db, "backup", copy, env={"DATABASE_URL": "memory:"})
    assert p.returncode == 2 and "nothing to back up" in p.stderr
    assert not os.path.exists(copy + ".part")

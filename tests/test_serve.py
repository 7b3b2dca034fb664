"""The serving copy for BI tools: complete, read-only, replaced atomically while readers keep reading."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from fcr import tables
from fcr.cli import app
from fcr.config import build_config
from fcr.generate import SampleSpec, write_sample
from fcr.publish.serve import CURRENT, MANIFEST, SERVING_DATABASE, SNAPSHOTS, serve
from fcr.run import run
from tests.conftest import write_contacts

ROWS = [
    {"contact_id": "a1", "customer_id": "A", "channel": "phone", "started_at": "2026-03-02 09:00:00"},
    {"contact_id": "a2", "customer_id": "A", "channel": "email", "started_at": "2026-03-03 09:00:00"},
    {"contact_id": "b1", "customer_id": "B", "channel": "chat", "started_at": "2026-03-04 09:00:00"},
]


def contents(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple]:
    return con.execute(f"select * from {relation} order by all").fetchall()


def test_the_serving_copy_holds_every_published_table_and_view(run_log):
    result, con = run_log(ROWS)
    directory = result.db_path.parent / "fcr_serving"
    assert result.serving is not None and result.serving.directory == directory
    published = sorted(
        [staged.split(".")[1] for staged in tables.PUBLISH_MAP.values()] + [tables.METRIC_RATES.split(".")[1]]
    )
    assert "metrics" in published and "cases" in published
    assert sorted(result.serving.rows) == published
    served = duckdb.connect(str(directory / SERVING_DATABASE), read_only=True)
    served.execute("set TimeZone = 'UTC'")
    for name in published:
        expected = contents(con, f"published.{name}")
        assert contents(served, f"published.{name}") == expected, name
        assert contents(con, f"read_parquet('{directory / CURRENT / name}.parquet')") == expected, name
    served.close()
    manifest = json.loads((directory / MANIFEST).read_text())
    assert {name: t["rows"] for name, t in manifest["tables"].items()} == result.serving.rows
    assert manifest["run_id"] == result.run_id
    assert (directory / manifest["snapshot"]).resolve() == (directory / CURRENT).resolve()
    assert result.serving.rows["cases"] == 2
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [SERVING_DATABASE, MANIFEST, CURRENT, SNAPSHOTS]
    )
    snapshot = directory / CURRENT
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(
        [MANIFEST, *(f"{n}.parquet" for n in published)]
    )
    for path in [directory / SERVING_DATABASE, directory / MANIFEST, *snapshot.iterdir()]:
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path


@pytest.mark.slow
def test_serve_dir_option_and_config(tmp_path: Path):
    csv = write_contacts(tmp_path / "c.csv", ROWS)
    target = tmp_path / "bi"
    result = CliRunner().invoke(
        app, ["run", "--contacts", str(csv), "--db", str(tmp_path / "x.duckdb"), "--serve-dir", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert (target / SERVING_DATABASE).exists() and not (tmp_path / "x_serving").exists()
    off = run([str(csv)], tmp_path / "y.duckdb", build_config({"serving": {"enabled": False}}))
    assert off.serving is None and not (tmp_path / "y_serving").exists()
    configured = run(
        [str(csv)], tmp_path / "z.duckdb", build_config({"serving": {"dir": str(tmp_path / "z")}})
    )
    assert configured.serving.directory == tmp_path / "z"


def test_serve_first_removes_temp_files_a_failed_or_killed_serve_left(tmp_path: Path):
    directory = tmp_path / "serving"
    directory.mkdir()
    dead = 99999999  # above Linux's pid_max: no process has this pid
    stale = [
        f".{SERVING_DATABASE}.{dead}.tmp",
        f".{SERVING_DATABASE}.{dead}.tmp.wal",
        f".cases.parquet.{dead}.tmp",
        f".{MANIFEST}.{dead}.tmp",
        f".metrics.parquet.{10**12}.tmp",  # not even a possible pid
        f".dropped_table.parquet.{os.getpid()}.tmp",  # this process's own, from an earlier serve
    ]
    kept = [
        f".cases.parquet.{os.getppid()}.tmp",  # a live process may still be writing it
        "notes.txt",
        "cases.parquet.1.tmp",
        ".cases.parquet.tmp",
        ".cases.parquet.x1.tmp",
    ]
    for name in stale + kept:
        (directory / name).write_text("left over")
    (directory / stale[0]).chmod(stat.S_IRUSR)  # killed after marking read-only, before the rename
    con = duckdb.connect(str(tmp_path / "fcr.duckdb"))
    con.execute("create schema published; create table published.cases as select 'a' as case_id")

    (directory / SNAPSHOTS).mkdir()
    (directory / SNAPSHOTS / f".20261101T000000000000Z_run.{dead}.tmp").mkdir()  # a killed serve's snapshot
    (directory / SNAPSHOTS / f".20261101T000000000000Z_run.{os.getppid()}.tmp").mkdir()  # a live one's
    (directory / "cases.parquet").write_text("an earlier version's copy, which would go stale")

    serve(con, directory)

    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [SERVING_DATABASE, MANIFEST, CURRENT, SNAPSHOTS, *kept]
    )
    assert sorted(p.name for p in (directory / SNAPSHOTS).iterdir()) == sorted(
        [(directory / CURRENT).resolve().name, f".20261101T000000000000Z_run.{os.getppid()}.tmp"]
    )


def test_each_publish_is_a_snapshot_current_points_at_and_only_the_newest_are_kept(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "fcr.duckdb"))
    con.execute("create schema published")
    directory, resolved = tmp_path / "serving", []
    for publish in range(4):
        con.execute(
            f"create or replace table published.cases as select range as case_id from range({publish + 1})"
        )
        con.execute(f"create or replace table published.metrics as select {publish} as publish")
        result = serve(
            con, directory, run_id=f"scheduled__2026-11-0{publish + 1}T00:00:00+00:00", keep_snapshots=2
        )
        resolved.append((directory / CURRENT).resolve())
        assert resolved[-1] == result.snapshot
        snapshot_manifest = json.loads((result.snapshot / MANIFEST).read_text())
        assert snapshot_manifest["tables"]["cases"] == {"rows": publish + 1, "parquet": "cases.parquet"}
        assert snapshot_manifest["run_id"] == f"scheduled__2026-11-0{publish + 1}T00:00:00+00:00"
    assert len(set(resolved)) == 4 and ":" not in resolved[-1].name
    assert sorted((directory / SNAPSHOTS).iterdir()) == resolved[-2:]  # the two newest, in serving order
    # a reader that resolved `current` once reads one publish, whatever was served since
    earlier = resolved[-2]
    cases = con.execute(f"select count(*) from '{earlier}/cases.parquet'").fetchone()[0]
    metrics = con.execute(f"select publish from '{earlier}/metrics.parquet'").fetchone()[0]
    assert (cases, metrics) == (3, 2)


def _poll(directory: str, stop, results) -> None:
    """Read the serving copy in a loop as a BI tool would; report what was seen and any error."""
    seen, errors = [], []
    database = Path(directory) / SERVING_DATABASE
    while not stop.is_set():
        try:
            con = duckdb.connect(str(database), read_only=True)
            case_contacts, from_cases, metrics, rates = con.execute(
                "select (select count(*) from published.case_contacts), "
                "(select sum(contact_count) from published.cases), "
                "(select count(*) from published.metrics), (select count(*) from published.metric_rates)"
            ).fetchone()
            con.close()
            # a Parquet reader resolves `current` once, then reads that snapshot's files
            snapshot = (Path(directory) / CURRENT).resolve()
            listed = json.loads((snapshot / MANIFEST).read_text())["tables"]
            reader = duckdb.connect()
            counted = {
                name: reader.execute(
                    f"select count(*) from read_parquet('{snapshot / table['parquet']}')"
                ).fetchone()[0]
                for name, table in listed.items()
            }
            reader.close()
            assert counted == {name: table["rows"] for name, table in listed.items()}, "a mix of publishes"
            seen.append((case_contacts, from_cases, metrics, rates, counted["case_contacts"]))
        except Exception as exc:  # anything a reader would see as a failure
            errors.append(repr(exc))
    results.put((seen, errors))


@pytest.mark.slow
def test_a_reader_polling_during_publishes_never_errors_nor_sees_a_partial_table(tmp_path: Path):
    db_path = tmp_path / "fcr.duckdb"
    write_sample(SampleSpec(contacts=4000), tmp_path / "all.csv")
    samples = []
    for name, rows in (  # the log delivered in three parts by month (bad rows in the first)
        ("early", "started_at < '2026-09' or started_at not like '2026-%'"),
        ("september", "started_at like '2026-09%'"),
        ("late", "started_at >= '2026-10'"),
    ):
        samples.append(tmp_path / f"{name}.csv")
        source = f"read_csv('{tmp_path / 'all.csv'}', all_varchar = true)"
        duckdb.execute(f"copy (from {source} where {rows}) to '{samples[-1]}'")
    first = run([str(samples[0])], db_path, build_config({}))
    expected_case_contacts = {first.serving.rows["case_contacts"]}

    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    reader = context.Process(target=_poll, args=(str(first.serving.directory), stop, results))
    reader.start()
    try:
        for sample in samples[1:]:
            later = run([str(sample)], db_path, build_config({}))
            expected_case_contacts.add(later.serving.rows["case_contacts"])
    finally:
        stop.set()
        seen, errors = results.get(timeout=120)
        reader.join(timeout=60)

    assert errors == []
    assert len(seen) > 3
    for case_contacts, from_cases, metrics, rates, parquet_rows in seen:
        assert from_cases == case_contacts  # cases and their contacts come from the same publish
        assert metrics == rates
        assert case_contacts in expected_case_contacts
        assert parquet_rows in expected_case_contacts
    assert len({s[0] for s in seen}) >= 2, "the reader should have seen a publish replace the copy"


def test_the_bi_guides_parquet_examples_read_the_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import re

    guide = (Path(__file__).resolve().parents[1] / "docs" / "bi.md").read_text()
    examples = re.findall(r"```python\n(.*?)```", guide, flags=re.S)
    assert len(examples) == 3
    csv = write_contacts(tmp_path / "c.csv", ROWS)
    run(
        [str(csv)], tmp_path / "fcr.duckdb", build_config({"serving": {"dir": str(tmp_path / "fcr_serving")}})
    )
    monkeypatch.chdir(tmp_path)
    for example in examples:
        names: dict = {}
        exec(compile(example, "docs/bi.md", "exec"), names)
    assert len(names["cases"]) == 2 and len(names["contacts"]) == 3

"""Runs killed at any point, or started side by side, never leave wrong figures after one re-run."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from fcr import tables
from fcr.config import build_config
from fcr.generate import SampleSpec, generate_sample, write_table
from fcr.run import run

# Each run prints these before the step; a kill is aimed just after one of them.
STEPS = (
    "loading",
    "validating the loaded batch",
    "linking contacts into cases",
    "linking under",
    "computing metrics",
    "validating outputs",
    "publishing",
    "serving copy written",
)
KILLS = 20


def published(db_path: Path) -> dict[str, list[tuple]]:
    """Every published table (not the run log), sorted, and the raw contacts."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        names = [*tables.PUBLISH_MAP.values(), tables.METRIC_RATES, tables.CONTACTS]
        return {name: con.execute(f"select * from {name} order by all").fetchall() for name in names}
    finally:
        con.close()


def runs(db_path: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(
            "select run_id, status from published.pipeline_runs order by started_at"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A database holding 45 published days, the next 15 days' file (with 100 old contacts re-delivered
    under a changed reason), and the published tables of a clean run of that file."""
    folder = tmp_path_factory.mktemp("faults")
    write_table(generate_sample(SampleSpec(contacts=3000, seed=11, days=60)).contacts, folder / "all.csv")
    con = duckdb.connect()
    con.execute(
        "create table all_rows as select *, try_cast(started_at as timestamp) as ts "
        "from read_csv($p, all_varchar = true)",
        {"p": str(folder / "all.csv")},
    )
    split = con.execute("select min(ts) + interval 45 day from all_rows").fetchone()[0]
    new_rows = "ts >= $s"
    changed = "ts < $s and reason <> 'refund_request' order by contact_id limit 100"
    con.execute(
        f"copy (select * exclude (ts) from all_rows where not coalesce({new_rows}, false)) to $p (header)",
        {"s": split, "p": str(folder / "history.csv")},
    )
    con.execute(
        f"copy (select * exclude (ts) from all_rows where {new_rows} union all "
        f"(select * exclude (ts) replace ('refund_request' as reason) from all_rows where {changed})) "
        "to $p (header)",
        {"s": split, "p": str(folder / "new.csv")},
    )
    con.close()
    base = folder / "base" / "fcr.duckdb"
    config = build_config({})
    run([str(folder / "history.csv")], base, config)
    reference = folder / "reference" / "fcr.duckdb"
    shutil.copytree(base.parent, reference.parent)
    run([str(folder / "new.csv")], reference, config)
    return {"folder": folder, "base": base, "new": folder / "new.csv", "reference": reference}


def _killed_run(contacts: Path, db_path: Path, step: str, delay: float, *options: str) -> None:
    """Start `fcr run` in a child process and SIGKILL it `delay` seconds after it prints `step`."""
    child = subprocess.Popen(
        [sys.executable, "-m", "fcr", "run", "--contacts", str(contacts), "--db", str(db_path), *options],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert child.stderr is not None
    for line in child.stderr:
        if step in line:
            time.sleep(delay)
            break
    child.send_signal(signal.SIGKILL)
    child.wait()


@pytest.mark.slow
def test_a_run_killed_anywhere_is_healed_by_one_rerun(history: dict[str, Path], tmp_path: Path):
    expected = published(history["reference"])
    rng = random.Random(14)
    config = build_config({})
    for kill in range(KILLS):
        folder = tmp_path / f"kill{kill}"
        shutil.copytree(history["base"].parent, folder)
        db_path = folder / "fcr.duckdb"
        before = {run_id for run_id, _ in runs(db_path)}
        step, delay = STEPS[kill % len(STEPS)], rng.uniform(0, 0.4)
        _killed_run(history["new"], db_path, step, delay)
        killed = [(r, s) for r, s in runs(db_path) if r not in before]

        healed = run([str(history["new"])], db_path, config)

        where = f"kill {kill} after {step!r} + {delay:.2f}s"
        assert published(db_path) == expected, where
        log = runs(db_path)
        assert len({r for r, _ in log}) == len(log), f"{where}: one row per run"
        assert (healed.run_id, "published") in log, where
        for run_id, status in killed:
            final = dict(log)[run_id]
            assert final == ("published" if status == "published" else "interrupted"), where
        leftovers = [p.name for p in (folder / "fcr_serving").glob(".*.tmp*")]
        assert leftovers == [], where


@pytest.mark.slow
@pytest.mark.parametrize(
    ("step", "delay"), [("split the run's contacts", 0.0), ("linking 2 of 2 shards", 0.5), ("linked:", 0.0)]
)
def test_a_sharded_run_killed_while_its_shards_link_is_healed_by_one_rerun(
    history: dict[str, Path], tmp_path: Path, step: str, delay: float
):
    shutil.copytree(history["base"].parent, tmp_path / "db")
    db_path = tmp_path / "db" / "fcr.duckdb"
    _killed_run(history["new"], db_path, step, delay, "--shards", "2")
    healed = run([str(history["new"])], db_path, build_config({"shards": 2}))
    assert published(db_path) == published(history["reference"])
    assert healed.published
    # the killed run's shard folder is cleared by the next run, which removes its own once read
    assert not (tmp_path / "db" / "fcr_shards").exists()


@pytest.mark.slow
def test_two_runs_started_together_never_interleave(history: dict[str, Path], tmp_path: Path):
    folder = tmp_path / "together"
    shutil.copytree(history["base"].parent, folder)
    db_path = folder / "fcr.duckdb"
    command = [sys.executable, "-m", "fcr", "run", "--contacts", str(history["new"]), "--db", str(db_path)]
    children = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    outcomes = [(output, child.returncode) for child in children for output in [child.communicate()[0]]]
    outcomes = [(code, output) for output, code in outcomes]
    codes = sorted(code for code, _ in outcomes)
    refused = [output for code, output in outcomes if code != 0]
    assert codes in ([0, 0], [0, 1]), outcomes
    for output in refused:
        assert "is open for writing in another process" in output or "the database is busy" in output, output
        assert "Traceback" not in output
    if refused:
        run([str(history["new"])], db_path, build_config({}))
    assert published(db_path) == published(history["reference"])


# --- the same faults, one at a time, on logs small enough to check by eye --------------------------

DAY = [
    {
        "contact_id": "a",
        "customer_id": "K1",
        "channel": "phone",
        "started_at": "2026-03-02 09:00:00",
        "reason": "billing",
    },
    {
        "contact_id": "b",
        "customer_id": "K1",
        "channel": "phone",
        "started_at": "2026-03-04 09:00:00",
        "reason": "billing",
    },
    {
        "contact_id": "c",
        "customer_id": "K2",
        "channel": "chat",
        "started_at": "2026-03-05 09:00:00",
        "reason": "outage",
    },
]


def _write(path: Path, rows: list[dict]) -> Path:
    from tests.conftest import write_contacts

    return write_contacts(path, rows)


def test_a_transform_killed_half_way_makes_the_next_run_rebuild_everything(tmp_path: Path):
    from fcr import db
    from fcr.transform import incremental

    first = _write(tmp_path / "day1.csv", DAY)
    db_path = tmp_path / "fcr.duckdb"
    config = build_config({})
    run([str(first)], db_path, config)
    expected = published(db_path)
    # what a SIGKILL between a merge's delete and its insert leaves: rows gone, the state half-built
    con = db.connect(db_path)
    con.execute("delete from staging.cases where customer_id = 'K1'")
    incremental.set_build_state(con, "run-killed", incremental.BUILDING)
    con.close()
    again = run([], db_path, config)
    assert again.counts["full"] == 1
    assert published(db_path) == expected


def test_the_same_file_under_another_path_or_name_loads_once(tmp_path: Path):
    config = build_config({})
    first = _write(tmp_path / "a.csv", DAY)
    twin = tmp_path / "sub" / "copy.csv"
    twin.parent.mkdir()
    twin.write_bytes(first.read_bytes())
    result = run(
        [str(first), str(tmp_path / "sub" / ".." / "a.csv"), str(twin)], tmp_path / "fcr.duckdb", config
    )
    assert result.load.rows_read == 3  # a.csv once: the same path spelled twice, then its copy skipped
    assert result.load.files_skipped == [str(twin)]


@pytest.mark.slow
def test_re_loading_an_old_file_never_reverts_a_later_correction(tmp_path: Path):
    config = build_config({})
    db_path = tmp_path / "fcr.duckdb"
    old = _write(tmp_path / "2026-03-05" / "contacts.csv", DAY)
    run([str(old)], db_path, config)
    corrected = [{**DAY[2], "reason": "billing"}]
    run([str(_write(tmp_path / "2026-03-06" / "corrections.csv", corrected))], db_path, config)
    backfill = run([str(old)], db_path, config)  # the scheduler re-runs the old day
    assert backfill.load.files_skipped == [str(old)]
    con = duckdb.connect(str(db_path), read_only=True)
    reason = con.execute("select reason from published.cases where case_id = 'c'").fetchone()[0]
    con.close()
    assert reason == "billing"


@pytest.mark.slow
def test_a_mistyped_future_as_of_is_refused_and_full_as_of_resets_the_watermark(tmp_path: Path):
    from datetime import UTC, datetime

    from fcr.run import AsOfRejected

    config = build_config({})
    db_path = tmp_path / "fcr.duckdb"
    path = str(_write(tmp_path / "day.csv", DAY))
    with pytest.raises(AsOfRejected, match="--force-as-of"):
        run([path], db_path, config, as_of=datetime(2062, 11, 1, tzinfo=UTC))
    assert runs(db_path)[-1][1] == "failed"
    run([path], db_path, config, as_of=datetime(2062, 11, 1, tzinfo=UTC), force_as_of=True)
    back = datetime(2026, 3, 6, tzinfo=UTC)
    assert run([], db_path, config, as_of=back).watermark.year == 2062  # never backwards on its own
    reset = run([], db_path, config, as_of=back, full=True)
    assert reset.watermark == back
    con = duckdb.connect(str(db_path), read_only=True)
    message = con.execute(
        "select message from published.pipeline_runs where run_id = $id", {"id": reset.run_id}
    ).fetchone()[0]
    mature = con.execute("select case_id from published.cases where is_mature order by 1").fetchall()
    con.close()
    assert "watermark reset from 2062-11-01" in message
    assert mature == []  # 7-day windows from 03-02..03-05 are still open on 03-06


def test_a_retried_publish_leaves_one_run_row(tmp_path: Path):
    from fcr import tasks

    landing = tmp_path / "landing"
    path = _write(landing / "2026-03-05" / "contacts.csv", DAY)
    settings = {"landing_dir": str(landing), "db_path": str(tmp_path / "fcr.duckdb"), "config_path": None}
    from datetime import UTC, datetime

    start, end = datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC)
    ready = tasks.validate(tasks.transform(tasks.load(settings, [str(path)], start, end)))
    tasks.publish(ready)
    before = published(tmp_path / "fcr.duckdb")
    tasks.publish(ready)  # the scheduler retries a publish whose commit it did not see
    assert [status for _, status in runs(tmp_path / "fcr.duckdb")] == ["published"]
    assert published(tmp_path / "fcr.duckdb") == before

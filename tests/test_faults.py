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
from fcr.pipeline import run

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


def _killed_run(contacts: Path, db_path: Path, step: str, delay: float) -> None:
    """Start `fcr run` in a child process and SIGKILL it `delay` seconds after it prints `step`."""
    child = subprocess.Popen(
        [sys.executable, "-m", "fcr", "run", "--contacts", str(contacts), "--db", str(db_path)],
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

"""One run, two front doors: the CLI and the scheduler's tasks run the same steps on the same run state."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from fcr import config as config_module
from fcr import db, tasks
from fcr import run as runner
from fcr.config import build_config, load_config
from fcr.load import quarantine
from fcr.load.contacts import QuarantineThresholdError
from fcr.transform import incremental
from tests.conftest import write_contacts

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DAY_1 = datetime(2026, 11, 1, tzinfo=UTC)
STEP_NAMES = [step.name for step in runner.STEPS]
ROWS = [
    {"contact_id": "a", "customer_id": "K1", "channel": "phone", "started_at": "2026-11-01 09:00:00"},
    {"contact_id": "b", "customer_id": "K2", "channel": "chat", "started_at": "2026-11-01 10:00:00"},
    {"contact_id": "c", "customer_id": "K1", "channel": "phone", "started_at": "2026-11-01 15:00:00"},
]
CUSTOMERS = "customer_id,segment,lifetime_value,churned_at\nK1,gold,1200,\nK2,silver,300,2026-11-20\n"


def _landing(tmp_path: Path) -> Path:
    write_contacts(tmp_path / "landing" / "2026-11-01" / "contacts.csv", ROWS)
    return tmp_path / "landing"


def _run_log(db_path: Path) -> list[dict]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        cursor = con.execute("select * from published.pipeline_runs order by started_at")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def _interval(settings: dict) -> dict:
    """Every task of fcr_daily for the day of DAY_1, as the scheduler calls them."""
    files, missing = tasks.landed_files(settings, DAY_1, DAY_1 + timedelta(days=1))
    assert missing is None
    run = tasks.load(settings, files, DAY_1, DAY_1 + timedelta(days=1))
    for name in STEP_NAMES[1:]:
        run = getattr(tasks, name)(run)
    return tasks.scorecard(run)


@pytest.mark.parametrize(
    "source",
    [
        {},
        {
            "exclude": [{"column": "Status", "in": ["TEST", "SPAM"]}],
            "dedupe": {"order_by": "Version", "order_type": "number"},
            "columns": {"started_at": {"join": ["Date", "Time"]}, "customer_id": {"source": "Req"}},
            "linking": {"repeat_window": "90m", "transfer_gap": "15m", "allow_unusual_windows": True},
            "sensitivity": {"windows": ["30m", "1.5h", "400d"]},
            "validation": {"earliest_started_at": "2001-01-01T00:00:00+00:00", "as_of_tolerance": "45d"},
            "serving": {"dir": "/srv/fcr"},
            "customers": {"columns": {"customer_id": "Account"}},
        },
        *(EXAMPLES.glob("*.toml")),
    ],
    ids=lambda source: source.name if isinstance(source, Path) else f"{len(source)} keys",
)
def test_the_validated_config_passed_between_tasks_reads_back_equal(source: dict | Path):
    config = load_config(source) if isinstance(source, Path) else build_config(source)
    assert build_config(json.loads(json.dumps(runner.config_json(config)))) == config


def test_a_run_passed_between_tasks_reads_back_equal(tmp_path: Path):
    contacts = write_contacts(tmp_path / "contacts.csv", ROWS)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    done = runner.run(
        [str(contacts)],
        tmp_path / "fcr.duckdb",
        build_config({"linking": {"repeat_window": "24h"}}),
        customers=[str(tmp_path / "customers.csv")],
        serve_dir=tmp_path / "served",
        data_interval=(DAY_1, DAY_1 + timedelta(days=1)),
    )
    assert runner.Run.from_xcom(json.loads(json.dumps(done.to_xcom()))) == done


@pytest.mark.slow
def test_the_run_row_times_every_step_of_a_cli_run_and_of_a_scheduled_one(tmp_path: Path):
    landing = _landing(tmp_path)
    cli = runner.run(
        [str(landing / "2026-11-01" / "contacts.csv")], tmp_path / "cli.duckdb", build_config({})
    )
    settings = tasks.run_settings({"landing_dir": str(landing), "db_path": str(tmp_path / "dag.duckdb")}, {})
    scheduled = _interval(settings)
    for db_path, run_id in (
        (tmp_path / "cli.duckdb", cli.run_id),
        (tmp_path / "dag.duckdb", scheduled["run_id"]),
    ):
        (row,) = _run_log(db_path)
        assert row["run_id"] == run_id and row["status"] == "published"
        steps = json.loads(row["step_seconds"])
        assert list(steps) == STEP_NAMES
        assert all(seconds >= 0 for seconds in steps.values())
        assert row["duration_seconds"] >= sum(steps.values()) * 0.99
        parts = json.loads(row["transform_seconds"])
        assert list(parts) == [
            "scope",
            "link",
            "sensitivity",
            "follow_ups",
            "merge",
            "metrics",
            "insights",
            "sensitivity_metrics",
        ]
        assert sum(parts.values()) <= steps["transform"] * 1.01


def test_a_failed_run_row_times_the_steps_up_to_the_one_that_failed(tmp_path: Path):
    bad = write_contacts(tmp_path / "bad.csv", [{**row, "started_at": "not a date"} for row in ROWS])
    with pytest.raises(QuarantineThresholdError):
        runner.run([str(bad)], tmp_path / "fcr.duckdb", build_config({}))
    (row,) = _run_log(tmp_path / "fcr.duckdb")
    assert row["status"] == "failed"
    assert list(json.loads(row["step_seconds"])) == ["load"]


def test_a_scheduled_run_reads_its_config_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    landing = _landing(tmp_path)
    (tmp_path / "fcr.toml").write_text('[linking]\nrepeat_window = "24h"\n')
    reads = []

    def counted(path):
        reads.append(path)
        return load_config(path)

    monkeypatch.setattr(tasks, "load_config", counted)
    monkeypatch.setattr(config_module, "load_config", counted)
    settings = {"landing_dir": str(landing), "db_path": str(tmp_path / "fcr.duckdb")}
    settings["config_path"] = str(tmp_path / "fcr.toml")
    run = _interval(tasks.run_settings(settings, {}))
    assert reads == [str(tmp_path / "fcr.toml")]
    assert runner.Run.from_xcom(run).config.linking.repeat_window == timedelta(hours=24)


def test_a_config_edited_during_a_scheduled_run_does_not_change_that_run(tmp_path: Path):
    landing = _landing(tmp_path)
    config_path = tmp_path / "fcr.toml"
    config_path.write_text('[linking]\nrepeat_window = "24h"\n')
    settings = {
        "landing_dir": str(landing),
        "db_path": str(tmp_path / "fcr.duckdb"),
        "config_path": str(config_path),
    }
    settings = tasks.run_settings(settings, {})
    files, _ = tasks.landed_files(settings, DAY_1, DAY_1 + timedelta(days=1))
    run = tasks.load(settings, files, DAY_1, DAY_1 + timedelta(days=1))
    config_path.write_text("this is not TOML [")
    tasks.publish(tasks.validate(tasks.transform(tasks.validate_input(run))))
    (row,) = _run_log(tmp_path / "fcr.duckdb")
    assert row["status"] == "published"
    assert json.loads(row["linking_settings"])["linking"]["repeat_window"] == "P1D"


def test_scheduled_run_options_do_what_the_cli_options_do(tmp_path: Path):
    landing = _landing(tmp_path)
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    as_of = DAY_1 + timedelta(hours=20)
    params = {
        "customers": str(tmp_path / "customers.csv"),
        "as_of": as_of.isoformat(),
        "full": True,
        "serve_dir": str(tmp_path / "served"),
    }
    settings = tasks.run_settings(
        {"landing_dir": str(landing), "db_path": str(tmp_path / "fcr.duckdb")}, params
    )
    run = _interval(settings)
    assert run["customers"]["customers_delivered"] == 2
    assert run["counts"]["full"] == 1
    assert run["watermark"] == as_of.isoformat()
    assert Path(run["serving"]["directory"]) == tmp_path / "served"
    assert (tmp_path / "served" / "scorecard.html").exists()
    con = duckdb.connect(str(tmp_path / "fcr.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.customers").fetchone() == (2,)
    con.close()


def test_a_mistyped_as_of_param_fails_the_first_task_for_good(tmp_path: Path):
    with pytest.raises(config_module.ConfigError, match="not an ISO timestamp") as failure:
        tasks.run_settings({"db_path": str(tmp_path / "fcr.duckdb")}, {"as_of": "2026-13-01"})
    assert runner.is_permanent(failure.value)


def test_contacts_and_customers_loads_share_one_quarantine_and_commit(tmp_path: Path, monkeypatch):
    contacts = write_contacts(tmp_path / "contacts.csv", ROWS)
    (tmp_path / "customers.csv").write_text(CUSTOMERS + ",gold,1,\n" * 3)  # three rows without an id
    calls = []
    commit = quarantine.commit_load

    def counted(con, sources, *args):
        calls.append([s.path.name for s in sources])
        return commit(con, sources, *args)

    monkeypatch.setattr(quarantine, "commit_load", counted)
    with pytest.raises(QuarantineThresholdError, match="customer rows"):
        runner.run(
            [str(contacts)],
            tmp_path / "fcr.duckdb",
            build_config({}),
            customers=[str(tmp_path / "customers.csv")],
        )
    assert calls == [["contacts.csv"], ["customers.csv"]]
    con = duckdb.connect(str(tmp_path / "fcr.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.customers").fetchone() == (0,)  # above the share: not merged
    assert con.execute("select count(*) from raw.contacts").fetchone() == (3,)
    con.close()


def test_metrics_and_insights_replace_their_periods_with_one_merge(tmp_path: Path, monkeypatch):
    merged = []
    merge = incremental.merge_periods

    def counted(con, full, state, delta):
        merged.append(state)
        merge(con, full, state, delta)

    monkeypatch.setattr(incremental, "merge_periods", counted)
    runner.run([str(write_contacts(tmp_path / "c.csv", ROWS))], tmp_path / "fcr.duckdb", build_config({}))
    assert sorted(merged) == sorted(["staging.metrics", "staging.channel_flow", "staging.reason_priority"])


def _lease(db_path: Path) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute("select run_id from raw.run_lease").fetchall()
    finally:
        con.close()


def test_a_failure_a_retry_can_fix_keeps_a_scheduled_run_but_ends_a_cli_run(tmp_path: Path, monkeypatch):
    landing = _landing(tmp_path)
    link = runner.link_delta

    def hiccup(*_):
        raise RuntimeError("hiccup")

    monkeypatch.setattr(runner, "link_delta", hiccup)
    settings = tasks.run_settings({"landing_dir": str(landing), "db_path": str(tmp_path / "dag.duckdb")}, {})
    files, _ = tasks.landed_files(settings, DAY_1, DAY_1 + timedelta(days=1))
    loaded = tasks.shard(tasks.validate_input(tasks.load(settings, files, DAY_1, DAY_1 + timedelta(days=1))))
    with pytest.raises(RuntimeError, match="hiccup") as failure:
        tasks.transform(loaded)
    assert not runner.is_permanent(failure.value)
    (row,) = _run_log(tmp_path / "dag.duckdb")
    assert (row["status"], row["message"]) == ("running", "retrying after: hiccup")
    assert _lease(tmp_path / "dag.duckdb") == [(loaded["run_id"],)]  # kept for the retry
    with pytest.raises(RuntimeError, match="hiccup"):
        runner.run(files, tmp_path / "cli.duckdb", build_config({}))
    (row,) = _run_log(tmp_path / "cli.duckdb")
    assert row["status"] == "failed" and list(json.loads(row["step_seconds"]))[-1] == "transform"
    assert _lease(tmp_path / "cli.duckdb") == []  # no one retries a CLI run: the next may start

    monkeypatch.setattr(runner, "link_delta", link)
    tasks.serve(tasks.publish(tasks.validate(tasks.transform(loaded))))  # the retry
    (row,) = _run_log(tmp_path / "dag.duckdb")
    assert row["status"] == "published" and list(json.loads(row["step_seconds"])) == STEP_NAMES
    assert _lease(tmp_path / "dag.duckdb") == []


def test_a_serving_copy_that_fails_after_the_publish_says_so_in_the_published_row(
    tmp_path: Path, monkeypatch
):
    from fcr.publish.serve import ServeError

    def broken(*_):
        raise ServeError("the disk is full")

    monkeypatch.setattr(runner, "serve", broken)
    contacts = write_contacts(tmp_path / "c.csv", ROWS)
    with pytest.raises(ServeError):
        runner.run([str(contacts)], tmp_path / "fcr.duckdb", build_config({}))
    (row,) = _run_log(tmp_path / "fcr.duckdb")
    assert (row["status"], row["message"]) == ("published", "the disk is full")
    assert list(json.loads(row["step_seconds"])) == STEP_NAMES


def test_a_database_from_an_earlier_version_runs_and_loses_the_tables_it_left(tmp_path: Path):
    """Earlier versions kept the load's scratch tables and the case starts as tables in the file."""
    db_path = tmp_path / "fcr.duckdb"
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema staging")
        for name in ("staging.delta_case_starts", "staging.load_typed", "staging.load_good"):
            con.execute(f"create table {name} as select 'x' as contact_id")
    done = runner.run([str(write_contacts(tmp_path / "c.csv", ROWS))], db_path, build_config({}))
    assert done.published
    with duckdb.connect(str(db_path), read_only=True) as con:
        left = con.execute("select table_name from duckdb_tables() where schema_name = 'staging'").fetchall()
    assert not {"delta_case_starts", "load_typed", "load_good"} & {name for (name,) in left}


def _hold_file(db_path: Path, seconds: float) -> subprocess.Popen:
    """Another process with the database file open for writing for `seconds`, once it has the lock."""
    script = (
        "import duckdb, sys, time\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "print('holding', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(db_path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_a_step_waits_for_another_process_to_let_go_of_the_file(tmp_path: Path):
    db_path = tmp_path / "fcr.duckdb"
    db.connect(db_path).close()
    holder = _hold_file(db_path, 1.5)
    clock = time.monotonic()
    con = runner.connect(db_path, build_config({}))
    waited = time.monotonic() - clock
    con.close()
    holder.wait()
    assert waited > 0.5  # it opened the file once the holder had gone, not beside it


def test_a_step_gives_up_on_a_file_held_longer_than_the_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    db_path = tmp_path / "fcr.duckdb"
    db.connect(db_path).close()
    monkeypatch.setattr(runner, "LOCK_WAIT_SECONDS", 0.3)
    holder = _hold_file(db_path, 5)
    try:
        with pytest.raises(db.DatabaseLocked, match="is open for writing in another process"):
            runner.connect(db_path, build_config({}))
    finally:
        holder.kill()
        holder.wait()

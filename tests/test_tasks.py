"""The scheduler's tasks without a scheduler: intervals run one by one, in any order, and again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from fcr import db, lease, tables, tasks
from fcr import run as runner
from fcr.config import Config
from fcr.load.contacts import QuarantineThresholdError, load_files
from fcr.run import run as run_once
from fcr.validate.suites import ValidationFailed
from tests.conftest import cases_of, write_contacts

DAY_1 = datetime(2026, 11, 1, tzinfo=UTC)
PUBLISHED = tuple(tables.PUBLISH_MAP.values())


def published_rows(db_path: Path | str) -> dict[str, list[tuple]]:
    """Every row of the published tables, sorted, to compare two databases."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {table: con.execute(f"select * from {table} order by all").fetchall() for table in PUBLISHED}
    finally:
        con.close()


def _c(contact_id: str, started_at: str, customer: str, reason: str = "billing") -> dict:
    return {
        "contact_id": contact_id,
        "customer_id": customer,
        "channel": "phone",
        "started_at": started_at,
        "reason": reason,
    }


# Three days of contacts; K1's billing problem spans days 1 and 3, so its case crosses intervals.
DAYS = {
    "2026-11-01": [_c("a", "2026-11-01 09:00:00", "K1"), _c("b", "2026-11-01 10:00:00", "K2")],
    "2026-11-02": [_c("c", "2026-11-02 11:00:00", "K3", "refund"), _c("d", "2026-11-02 12:00:00", "K2")],
    "2026-11-03": [_c("e", "2026-11-03 09:30:00", "K1"), _c("f", "2026-11-03 13:00:00", "K4")],
}


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    for day, rows in DAYS.items():
        write_contacts(tmp_path / "landing" / day / "contacts.csv", rows)
    return tmp_path / "landing"


def _first_two_days_in_one_run(landing: Path, tmp_path: Path) -> Path:
    """One CLI run over the files of 11-01 and 11-02 up to 11-03: what the tasks must end with."""
    files = [str(landing / day / "contacts.csv") for day in ("2026-11-01", "2026-11-02")]
    return run_once(files, tmp_path / "once.duckdb", Config(), as_of=DAY_1 + timedelta(days=2)).db_path


def _settings(landing: Path, db_path: Path) -> dict:
    return {"landing_dir": str(landing), "db_path": str(db_path), "config_path": None}


def run_interval(settings: dict, day: int) -> dict:
    """What fcr_daily does for the interval starting on November <day>."""
    start = DAY_1 + timedelta(days=day - 1)
    end = start + timedelta(days=1)
    files, missing = tasks.landed_files(settings, start, end)
    assert missing is None
    run = tasks.validate_input(tasks.load(settings, files, start, end))
    return tasks.publish(tasks.validate(tasks.transform(run)))


def test_settings_come_from_params_then_variables_then_defaults():
    variables = {"fcr_db_path": "/var/fcr.duckdb", "fcr_landing_dir": "/landing"}
    settings = tasks.resolve_settings(
        ("landing_dir", "db_path", "config_path"),
        {"landing_dir": "/override", "db_path": None},
        variables.get,
        {"landing_dir": "demo/landing", "db_path": "demo/fcr.duckdb", "config_path": None},
    )
    assert settings == {"landing_dir": "/override", "db_path": "/var/fcr.duckdb", "config_path": None}


def test_landed_files_lists_the_intervals_files_or_says_what_is_missing(landing: Path, tmp_path: Path):
    settings = _settings(landing, tmp_path / "fcr.duckdb")
    files, missing = tasks.landed_files(settings, DAY_1, DAY_1 + timedelta(days=2))
    assert files == [str(landing / "2026-11-01/contacts.csv"), str(landing / "2026-11-02/contacts.csv")]
    assert missing is None
    files, missing = tasks.landed_files(settings, DAY_1 + timedelta(days=3), DAY_1 + timedelta(days=4))
    assert files == []
    assert "business date(s) 2026-11-04" in missing


@pytest.mark.slow
def test_three_intervals_publish_what_one_run_over_the_same_files_publishes(landing: Path, tmp_path: Path):
    settings = _settings(landing, tmp_path / "fcr.duckdb")
    runs = [run_interval(settings, day) for day in (1, 2, 3)]

    files = [str(path) for path in sorted(landing.rglob("*.csv"))]
    run_once(files, tmp_path / "once.duckdb", Config(), as_of=DAY_1 + timedelta(days=3))
    assert published_rows(tmp_path / "fcr.duckdb") == published_rows(tmp_path / "once.duckdb")

    con = duckdb.connect(str(tmp_path / "fcr.duckdb"), read_only=True)
    assert cases_of(con) == [["a", "e"], ["b", "d"], ["c"], ["f"]]
    recorded = con.execute(
        "select run_id, status, data_interval_start, data_interval_end, as_of, rows_read, contacts, "
        "validation_result from published.pipeline_runs order by finished_at"
    ).fetchall()
    con.close()
    assert [row[0] for row in recorded] == [run["run_id"] for run in runs]
    assert [row[1:] for row in recorded] == [
        ("published", DAY_1, DAY_1 + timedelta(days=1), DAY_1 + timedelta(days=1), 2, 2, "passed"),
        (
            "published",
            DAY_1 + timedelta(days=1),
            DAY_1 + timedelta(days=2),
            DAY_1 + timedelta(days=2),
            2,
            4,
            "passed",
        ),
        (
            "published",
            DAY_1 + timedelta(days=2),
            DAY_1 + timedelta(days=3),
            DAY_1 + timedelta(days=3),
            2,
            6,
            "passed",
        ),
    ]


def test_each_run_records_what_each_validation_stage_checked(landing: Path, tmp_path: Path):
    settings = _settings(landing, tmp_path / "fcr.duckdb")
    run_interval(settings, 1)
    broken = tasks.transform(tasks.validate_input(tasks.load(settings, [], DAY_1, DAY_1 + timedelta(days=2))))
    con = duckdb.connect(settings["db_path"])
    con.execute(f"update {tables.STG_METRICS} set cases_1 = -1 where dimension = 'all'")
    con.close()
    with pytest.raises(ValidationFailed):
        tasks.validate(broken)
    con = duckdb.connect(settings["db_path"], read_only=True)
    recorded = con.execute(
        "select status, validation_result, validation_detail "
        "from published.pipeline_runs order by finished_at"
    ).fetchall()
    con.close()
    (passed_status, passed, passed_detail), (failed_status, failed, failed_detail) = recorded
    passed_detail, failed_detail = json.loads(passed_detail), json.loads(failed_detail)
    assert (passed_status, passed, failed_status, failed) == ("published", "passed", "failed", "failed")
    assert passed_detail["input"]["passed"] and "contacts_batch" in passed_detail["input"]["suites"]
    assert passed_detail["output"]["passed"] and "metrics" in passed_detail["output"]["suites"]
    assert "metrics.cases_1_not_negative" in failed_detail["output"]["failed"]
    assert not failed_detail["output"]["passed"]


@pytest.mark.slow
def test_intervals_in_any_order_end_where_they_end_in_order(landing: Path, tmp_path: Path):
    for day in (1, 2, 3):
        run_interval(_settings(landing, tmp_path / "in_order.duckdb"), day)
    backfilled = [run_interval(_settings(landing, tmp_path / "any_order.duckdb"), day) for day in (3, 1, 2)]
    assert published_rows(tmp_path / "any_order.duckdb") == published_rows(tmp_path / "in_order.duckdb")
    # the watermark never moves back to an earlier interval's end
    assert [run["watermark"] for run in backfilled] == [(DAY_1 + timedelta(days=3)).isoformat()] * 3


@pytest.mark.slow
def test_rerunning_an_interval_changes_nothing(landing: Path, tmp_path: Path):
    settings = _settings(landing, tmp_path / "fcr.duckdb")
    for day in (1, 2, 3):
        run_interval(settings, day)
    before = published_rows(settings["db_path"])
    run_interval(settings, 2)
    assert published_rows(settings["db_path"]) == before
    con = duckdb.connect(settings["db_path"], read_only=True)
    assert con.execute("select count(*) from raw.contacts").fetchone() == (6,)
    con.close()


def test_a_failed_step_is_recorded_with_its_interval_and_raises_an_error_retries_cannot_fix(tmp_path: Path):
    bad = [_c(f"x{i}", "not a date", "K1") for i in range(3)]
    path = write_contacts(tmp_path / "landing/2026-11-01/contacts.csv", bad)
    settings = _settings(tmp_path / "landing", tmp_path / "fcr.duckdb")
    with pytest.raises(QuarantineThresholdError) as failure:
        tasks.load(settings, [str(path)], DAY_1, DAY_1 + timedelta(days=1))
    assert runner.is_permanent(failure.value)
    con = duckdb.connect(settings["db_path"], read_only=True)
    recorded = con.execute(
        "select status, data_interval_start, validation_result, message from published.pipeline_runs"
    ).fetchall()
    con.close()
    assert len(recorded) == 1
    status, start, validation, message = recorded[0]
    assert (status, start, validation) == ("failed", DAY_1, "not run")
    assert "3 of 3 rows" in message and "Nothing was published" in message


@pytest.mark.slow
def test_a_second_run_waits_until_the_first_has_published(landing: Path, tmp_path: Path):
    settings = _settings(landing, tmp_path / "fcr.duckdb")
    day_1, day_2, day_3 = (DAY_1 + timedelta(days=n) for n in range(3))
    first = tasks.transform(tasks.load(settings, [str(landing / "2026-11-01/contacts.csv")], day_1, day_2))
    with pytest.raises(lease.DatabaseBusy, match=f"run {first['run_id']} .*holds it"):
        tasks.load(settings, [str(landing / "2026-11-02/contacts.csv")], day_2, day_3)
    tasks.publish(tasks.validate(first))
    second = tasks.load(settings, [str(landing / "2026-11-02/contacts.csv")], day_2, day_3)
    tasks.publish(tasks.validate(tasks.transform(second)))
    con = duckdb.connect(settings["db_path"], read_only=True)
    runs = con.execute("select run_id, status from published.pipeline_runs order by finished_at").fetchall()
    con.close()
    assert runs == [(first["run_id"], "published"), (second["run_id"], "published")]
    once = _first_two_days_in_one_run(landing, tmp_path)
    assert published_rows(settings["db_path"]) == published_rows(once)


def test_a_retried_load_keeps_its_scheduler_runs_database_and_the_killed_attempt_is_interrupted(
    landing: Path, tmp_path: Path
):
    settings = _settings(landing, tmp_path / "fcr.duckdb")
    day_1, day_2 = DAY_1, DAY_1 + timedelta(days=1)
    files = [str(landing / "2026-11-01/contacts.csv")]
    killed = tasks.load(settings, files, day_1, day_2, owner="fcr_daily/scheduled__2026-11-01")
    retry = tasks.load(settings, files, day_1, day_2, owner="fcr_daily/scheduled__2026-11-01")
    with pytest.raises(lease.LeaseLost, match=f"{killed['run_id']} no longer holds the database"):
        tasks.transform(killed)
    tasks.publish(tasks.validate(tasks.transform(retry)))
    con = duckdb.connect(settings["db_path"], read_only=True)
    runs = dict(con.execute("select run_id, status from published.pipeline_runs").fetchall())
    con.close()
    assert runs == {killed["run_id"]: "interrupted", retry["run_id"]: "published"}


@pytest.mark.slow
def test_a_publish_forgets_only_the_changes_its_transform_took_in(landing: Path, tmp_path: Path):
    settings = _settings(landing, tmp_path / "fcr.duckdb")
    day_1, day_2, day_3 = (DAY_1 + timedelta(days=n) for n in range(3))
    first = tasks.validate(
        tasks.transform(tasks.load(settings, [str(landing / "2026-11-01/contacts.csv")], day_1, day_2))
    )
    # a load that slips in between the transform and the publish (a writer that ignores the lease)
    con = db.connect(settings["db_path"])
    load_files(con, [landing / "2026-11-02/contacts.csv"], Config(), "run-between")
    con.close()
    tasks.publish(first)
    con = duckdb.connect(settings["db_path"], read_only=True)
    left = con.execute("select distinct run_id from raw.touched").fetchall()
    con.close()
    assert left == [("run-between",)]
    later = tasks.load(settings, [], day_2, day_3)
    tasks.publish(tasks.validate(tasks.transform(later)))
    once = _first_two_days_in_one_run(landing, tmp_path)
    assert published_rows(settings["db_path"]) == published_rows(once)

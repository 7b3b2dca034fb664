"""Write, audit, publish: a run that fails validation publishes nothing and keeps the last good tables."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from fcr import db
from fcr.cli import app
from fcr.config import build_config
from fcr.publish.commit import StagingReplaced, publish
from fcr.runlog import RunRecord
from fcr.transform.incremental import BUILT, set_build_state
from tests.conftest import write_contacts

runner = CliRunner()
CONFIG_TOML = "[validation]\ncase_drop_min_cases = 0\n"


def pair(customer: str, first_day: int, gap_days: int) -> list[dict]:
    """Two contacts of one customer, one reason, gap_days apart: two cases when the gap exceeds 7 days."""
    return [
        {
            "contact_id": f"{customer}-{day}",
            "customer_id": customer,
            "channel": "phone",
            "started_at": f"2026-03-{day:02d} 10:00:00",
            "reason": "billing",
        }
        for day in (first_day, first_day + gap_days)
    ]


def published_state(db_path: Path) -> dict[str, list[tuple]]:
    """Every published table and view, all rows in a fixed order."""
    con = duckdb.connect(str(db_path), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    names = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'published' "
            "and table_name <> 'pipeline_runs' order by 1"
        ).fetchall()
    ]
    state = {name: con.execute(f"select * from published.{name} order by all").fetchall() for name in names}
    con.close()
    return state


def file_digests(directory: Path) -> dict[str, str]:
    """sha256 of every file under a directory and the target of every link, by relative path."""
    return {
        str(p.relative_to(directory)): f"-> {p.readlink()}"
        if p.is_symlink()
        else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


def cli_run(tmp_path: Path, csv: Path) -> object:
    config = tmp_path / "fcr.toml"
    config.write_text(CONFIG_TOML)
    return runner.invoke(
        app, ["run", "--contacts", str(csv), "--db", str(tmp_path / "fcr.duckdb"), "--config", str(config)]
    )


# Each failing second run: its extra rows, and the expectation that must stop it.
FAILING_RUNS = {
    # an export that turns every first contact outbound: half the cases lose their contacts
    "output": (
        [{**row, "direction": "outbound"} for c in "ABCD" for row in pair(c, 4, 8)[:1]],
        "cases_vs_previous_run.cases_did_not_drop",
    ),
    # a contact dated decades ahead is a parsing or source-clock error
    "input": (
        [{"contact_id": "Z-1", "customer_id": "Z", "channel": "chat", "started_at": "2099-03-01 10:00:00"}],
        "contacts_batch.started_at_plausible",
    ),
}


@pytest.mark.parametrize("stage", sorted(FAILING_RUNS))
def test_a_failed_validation_keeps_the_last_published_tables_and_exits_non_zero(tmp_path: Path, stage: str):
    first = [row for c in "ABCD" for row in pair(c, 4, 8)]  # 8 cases: every gap is over 7 days
    extra, expectation = FAILING_RUNS[stage]
    good = cli_run(tmp_path, write_contacts(tmp_path / "day1.csv", first))
    assert good.exit_code == 0, good.output
    db_path, serving = tmp_path / "fcr.duckdb", tmp_path / "fcr_serving"
    before, served_before = published_state(db_path), file_digests(serving)
    assert len(before["cases"]) == 8

    failed = cli_run(tmp_path, write_contacts(tmp_path / "day2.csv", extra))

    assert failed.exit_code != 0
    message = " ".join(failed.output.split())
    assert expectation in message
    assert "nothing was published" in message
    assert published_state(db_path) == before
    assert file_digests(serving) == served_before
    con = duckdb.connect(str(db_path), read_only=True)
    status, result, detail = con.execute(
        "select status, validation_result, validation_detail from published.pipeline_runs "
        "order by finished_at desc limit 1"
    ).fetchone()
    con.close()
    assert (status, result) == ("failed", "failed")
    assert json.loads(detail)[stage]["failed"] == [expectation]


def test_a_good_run_records_what_each_stage_checked(run_log):
    result, con = run_log(pair("A", 4, 8))
    detail = json.loads(
        con.execute(
            "select validation_detail from published.pipeline_runs where run_id = $id", {"id": result.run_id}
        ).fetchone()[0]
    )
    assert detail["input"]["passed"] and detail["output"]["passed"]
    assert detail["input"]["rows"]["contacts_batch"] == 2
    assert "metrics" in detail["output"]["suites"]
    assert detail["output"]["skipped"] == {
        "cases_vs_previous_run": "no published run with these linking settings",
        "channel_flow": "no rows to check",  # two one-contact cases: no channel hops to check
        "follow_ups_conserved": "no rows to check",  # and no repeat contact
    }


def test_the_swap_is_one_transaction(tmp_path: Path, run_log):
    result, con = run_log(pair("A", 4, 8))
    con.close()
    before = published_state(result.db_path)
    runs_before = query(result.db_path, "select run_id, status from published.pipeline_runs")
    writer = db.connect(result.db_path)
    set_build_state(writer, "run-2", BUILT)
    writer.execute("update staging.cases set contact_count = 99")
    writer.execute("drop table staging.metrics")  # the swap fails after replacing cases
    with pytest.raises(duckdb.CatalogException):
        publish(writer, RunRecord("run-2", datetime.now(UTC), status="published"))
    writer.close()
    assert published_state(result.db_path) == before
    assert query(result.db_path, "select run_id, status from published.pipeline_runs") == runs_before


def test_publish_refuses_staging_tables_another_run_built(run_log):
    result, con = run_log(pair("A", 4, 8))
    con.close()
    writer = db.connect(result.db_path)
    set_build_state(writer, "run-other", BUILT)
    with pytest.raises(StagingReplaced, match="run-other"):
        publish(writer, RunRecord("run-mine", datetime.now(UTC), status="published"))
    writer.close()


def query(db_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_run_without_new_files_checks_no_batch_but_still_audits_the_outputs(run_log, tmp_path: Path):
    from fcr.run import run

    result, con = run_log(pair("A", 4, 8))
    con.close()
    again = run([], result.db_path, build_config({}))
    assert again.validation == "passed"
    assert again.validation_detail["input"]["skipped"] == {"contacts_batch": "no rows to check"}
    assert again.validation_detail["output"]["passed"]


@pytest.mark.slow
def test_a_late_day_that_merges_cases_publishes_on_the_defaults(tmp_path: Path):
    # K1 on 10-20 and 10-29 (9 days apart: two cases); the 10-26 file arrives last and links them.
    days = {
        "2026-10-20": [("a", "2026-10-20 09:00:00")],
        "2026-10-29": [("c", "2026-10-29 09:00:00")],
        "2026-10-26": [("b", "2026-10-26 09:00:00")],
    }
    config = tmp_path / "fcr.toml"
    config.write_text(CONFIG_TOML)  # every period compared, however small, as on a large centre's day
    db_path = tmp_path / "fcr.duckdb"
    for day, rows in days.items():
        path = write_contacts(
            tmp_path / day / "contacts.csv",
            [
                {
                    "contact_id": i,
                    "customer_id": "K1",
                    "channel": "phone",
                    "started_at": t,
                    "reason": "billing",
                }
                for i, t in rows
            ],
        )
        result = runner.invoke(
            app, ["run", "--contacts", str(path), "--db", str(db_path), "--config", str(config)]
        )
        assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db_path), read_only=True)
    cases = con.execute("select case_id, contact_count from published.cases").fetchall()
    con.close()
    assert cases == [("a", 3)]  # day 10-29 lost its case to the merge, and that is no lost input


def test_the_rates_view_reads_in_a_plain_duckdb_session(tmp_path: Path):
    """A BI tool opening the file without fcr's session macros still gets published.metric_rates."""
    csv = write_contacts(tmp_path / "c.csv", pair("a", 1, 2) + pair("b", 1, 20))
    assert cli_run(tmp_path, csv).exit_code == 0
    with duckdb.connect(str(tmp_path / "fcr.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select m.cases_1, m.mature_cases, r.fcr from published.metric_rates r "
            "join published.metrics m using (grain, period_start, dimension, dimension_value) "
            "where m.mature_cases > 0"
        ).fetchall()
    assert rows and all(fcr == cases_1 / mature for cases_1, mature, fcr in rows)

"""Swap validated staging tables into the published schema in one transaction, and record runs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb

from fcr import db, sqlfiles, tables
from fcr.incremental import clear_touched


@dataclass
class RunRecord:
    """One row of published.pipeline_runs."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    status: str  # published | failed
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    as_of: datetime | None
    rows_read: int
    rows_excluded: int
    rows_quarantined: int
    contacts: int
    cases: int
    metrics_rows: int
    validation_result: str  # passed | failed | not run
    message: str
    linking_settings: str
    duration_seconds: float


def publish(con: duckdb.DuckDBPyConnection) -> None:
    """Replace every published table with its staged copy atomically; readers see old or new."""
    con.execute("begin transaction")
    try:
        for staged, published in tables.PUBLISH_MAP.items():
            con.execute(f"create or replace table {published} as select * from {staged}")
        sqlfiles.execute(con, "marts/metric_rates")
        clear_touched(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def record_run(con: duckdb.DuckDBPyConnection, record: RunRecord) -> None:
    """Append the run to published.pipeline_runs (kept for failed runs too)."""
    con.execute(
        f"""create table if not exists {tables.PIPELINE_RUNS} (
            run_id varchar, started_at timestamptz, finished_at timestamptz, status varchar,
            data_interval_start timestamptz, data_interval_end timestamptz, as_of timestamptz,
            rows_read bigint, rows_excluded bigint, rows_quarantined bigint, contacts bigint, cases bigint,
            metrics_rows bigint, validation_result varchar, message varchar,
            linking_settings varchar, duration_seconds double)"""
    )
    values = asdict(record)
    placeholders = ", ".join(f"${k}" for k in values)
    con.execute(f"insert into {tables.PIPELINE_RUNS} values ({placeholders})", values)


def last_published(con: duckdb.DuckDBPyConnection) -> tuple[datetime | None, dict | None]:
    """The watermark and linking settings of the last successful run, if any."""
    if not db.table_exists(con, tables.PIPELINE_RUNS):
        return None, None
    row = con.execute(
        f"select as_of, linking_settings from {tables.PIPELINE_RUNS} "
        "where status = 'published' order by finished_at desc limit 1"
    ).fetchone()
    if row is None:
        return None, None
    return row[0], json.loads(row[1])

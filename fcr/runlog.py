"""published.pipeline_runs: the one writer and reader of the run log.

A run writes its row when it starts (status `running`), so a run that is killed leaves a trace;
the publish transaction turns it into `published`, a failure into `failed`, and the next run that
finds a `running` row whose process is gone marks it `interrupted`. One row per run_id, always.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import duckdb

from fcr import db, tables

RUNNING = "running"
PUBLISHED = "published"
FAILED = "failed"
INTERRUPTED = "interrupted"

_DDL = f"""create table if not exists {tables.PIPELINE_RUNS} (
    run_id varchar, started_at timestamptz, finished_at timestamptz, status varchar,
    data_interval_start timestamptz, data_interval_end timestamptz, as_of timestamptz,
    rows_read bigint, rows_excluded bigint, rows_quarantined bigint, contacts bigint, cases bigint,
    metrics_rows bigint, validation_result varchar, message varchar,
    linking_settings varchar, duration_seconds double, validation_detail varchar, rows_loaded bigint,
    rows_replaced bigint, local_times_shifted bigint, local_times_ambiguous bigint, step_seconds varchar,
    transform_seconds varchar)"""
# Columns an older run log lacks: added, in this order, when a run opens it.
_ADDED = (
    "validation_detail varchar",
    "rows_loaded bigint",
    "rows_replaced bigint",
    "local_times_shifted bigint",
    "local_times_ambiguous bigint",
    "step_seconds varchar",
    "transform_seconds varchar",
)


@dataclass
class RunRecord:
    """One row of published.pipeline_runs."""

    run_id: str
    started_at: datetime
    status: str = RUNNING  # running | published | failed | interrupted
    finished_at: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    as_of: datetime | None = None
    rows_read: int = 0
    rows_excluded: int = 0
    rows_quarantined: int = 0
    rows_loaded: int = 0  # rows_read = rows_loaded + rows_quarantined + rows_excluded + rows_replaced
    rows_replaced: int = 0
    local_times_shifted: int = 0
    local_times_ambiguous: int = 0
    contacts: int = 0
    cases: int = 0
    metrics_rows: int = 0
    validation_result: str = "not run"  # passed | failed | not run
    message: str = ""
    linking_settings: str = ""
    duration_seconds: float = 0.0
    validation_detail: str = field(default="{}")  # JSON: per stage, suites run, rows, failed expectations
    step_seconds: str = field(default="{}")  # JSON: step -> seconds, for the steps that ran, in order
    transform_seconds: str = field(default="{}")  # JSON: part of the transform -> seconds, in order


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the run log (and columns added since) when missing."""
    con.execute(_DDL)
    for column in _ADDED:
        con.execute(f"alter table {tables.PIPELINE_RUNS} add column if not exists {column}")


def write(con: duckdb.DuckDBPyConnection, record: RunRecord) -> None:
    """Insert or replace the run's row; the caller's transaction, if any, makes it atomic with its work."""
    ensure_table(con)
    values = asdict(record)
    values["message"] = values["message"][:2000]
    columns = ", ".join(values)
    placeholders = ", ".join(f"${k}" for k in values)
    con.execute(f"delete from {tables.PIPELINE_RUNS} where run_id = $run_id", {"run_id": record.run_id})
    con.execute(f"insert into {tables.PIPELINE_RUNS} ({columns}) values ({placeholders})", values)


def set_message(con: duckdb.DuckDBPyConnection, run_id: str, message: str) -> None:
    """Replace a finished run's message (a serving copy that failed after the run published)."""
    con.execute(
        f"update {tables.PIPELINE_RUNS} set message = $message where run_id = $run_id",
        {"message": message[:2000], "run_id": run_id},
    )


def set_timing(
    con: duckdb.DuckDBPyConnection, run_id: str, step_seconds: dict[str, float], seconds: float
) -> None:
    """Add the steps that ran after the publish (the serving copy) to a published run's row."""
    con.execute(
        f"update {tables.PIPELINE_RUNS} set step_seconds = $steps, duration_seconds = $seconds "
        "where run_id = $run_id",
        {"steps": json.dumps(step_seconds), "seconds": seconds, "run_id": run_id},
    )


def mark_interrupted(con: duckdb.DuckDBPyConnection, run_ids: list[str], by_run: str) -> int:
    """Close the rows of runs that stopped without finishing (killed or crashed); return how many."""
    if not run_ids or not db.table_exists(con, tables.PIPELINE_RUNS):
        return 0
    rows = con.execute(
        f"update {tables.PIPELINE_RUNS} set status = $status, finished_at = $now, "
        "message = $message where run_id in (select unnest($ids::varchar[])) and status = $running "
        "returning run_id",
        {
            "status": INTERRUPTED,
            "now": datetime.now(UTC),
            "message": f"interrupted: the run stopped before it finished (killed or crashed); "
            f"found by run {by_run}, which rebuilt everything",
            "ids": run_ids,
            "running": RUNNING,
        },
    ).fetchall()
    return len(rows)


def status(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    """The run's status as logged, if it has a row."""
    if not db.table_exists(con, tables.PIPELINE_RUNS):
        return None
    row = con.execute(
        f"select status from {tables.PIPELINE_RUNS} where run_id = $run_id", {"run_id": run_id}
    ).fetchone()
    return row[0] if row else None


def running_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Run ids whose row still says running."""
    if not db.table_exists(con, tables.PIPELINE_RUNS):
        return []
    rows = con.execute(
        f"select run_id from {tables.PIPELINE_RUNS} where status = $running order by started_at",
        {"running": RUNNING},
    ).fetchall()
    return [r[0] for r in rows]


def last_published(con: duckdb.DuckDBPyConnection) -> tuple[datetime | None, str | None]:
    """The watermark and definition fingerprint of the last run that published, if any."""
    if not db.table_exists(con, tables.PIPELINE_RUNS):
        return None, None
    row = con.execute(
        f"select as_of, linking_settings from {tables.PIPELINE_RUNS} "
        "where status = $published order by finished_at desc limit 1",
        {"published": PUBLISHED},
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def latest_runs(con: duckdb.DuckDBPyConnection) -> tuple[dict | None, dict | None]:
    """The run whose tables are published, and a later unpublished run if there is one (for the scorecard)."""
    if not db.table_exists(con, tables.PIPELINE_RUNS):
        return None, None
    cursor = con.execute(
        "select run_id, status, finished_at, as_of, validation_result, message, linking_settings "
        f"from {tables.PIPELINE_RUNS} order by finished_at desc"
    )
    names = [d[0] for d in cursor.description]
    runs = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    published = next((r for r in runs if r["status"] == PUBLISHED), None)
    if published is not None:
        settings = json.loads(published["linking_settings"])
        # {"linking": {...}, ...} since incremental runs; older runs stored the linking settings alone
        published["linking_settings"] = settings.get("linking", settings)
    later_failure = runs[0] if runs and runs[0]["status"] != PUBLISHED else None
    return published, later_failure

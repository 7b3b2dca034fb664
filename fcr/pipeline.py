"""One run end to end: load, link, compute metrics, validate, publish, record."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from fcr import db, tables
from fcr.config import Config
from fcr.link import link
from fcr.load import LoadResult, load_files
from fcr.metrics import compute_metrics
from fcr.publish import RunRecord, last_published, publish, record_run
from fcr.read import expand_paths
from fcr.validate import ValidationFailed, validate_outputs

Progress = Callable[[str], None]


@dataclass
class RunResult:
    """What a run did, for the CLI summary, the DAG and tests."""

    run_id: str
    db_path: Path
    watermark: datetime | None
    load: LoadResult
    counts: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0


def _watermark(
    con: duckdb.DuckDBPyConnection, as_of: datetime | None, previous: datetime | None
) -> datetime | None:
    """The run's watermark: as given (default: latest contact start), never behind the last run's."""
    if as_of is None:
        as_of = con.execute(f"select max(started_at) from {tables.CONTACTS}").fetchone()[0]
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    if previous is not None and (as_of is None or previous > as_of):
        return previous
    return as_of


def _contacts_table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = $schema and table_name = 'contacts'",
            {"schema": tables.RAW},
        ).fetchone()[0]
    )


def run(
    contacts: list[str],
    db_path: Path | str,
    config: Config,
    as_of: datetime | None = None,
    run_id: str | None = None,
    data_interval: tuple[datetime | None, datetime | None] = (None, None),
    progress: Progress = lambda _: None,
) -> RunResult:
    """Load the files into the database, recompute, validate and publish; raise on failure."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    run_id = run_id or f"run-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    paths = expand_paths(contacts) if contacts else []
    result = RunResult(run_id=run_id, db_path=Path(db_path), watermark=None, load=LoadResult())
    status, validation, message = "failed", "not run", ""
    con = db.connect(db_path, memory_limit=config.memory_limit)
    try:
        previous_as_of, _ = last_published(con)
        if paths:
            progress(f"loading {len(paths)} file(s)")
            result.load = load_files(con, paths, config, run_id, progress)
        if not _contacts_table_exists(con):
            raise RuntimeError(f"{db_path} holds no contacts yet: pass --contacts PATH")
        result.watermark = _watermark(con, as_of, previous_as_of)
        progress(f"linking contacts into cases (watermark {result.watermark:%Y-%m-%d %H:%M:%S %Z})")
        result.counts.update(link(con, config, result.watermark))
        progress("computing metrics")
        result.counts["metrics"] = compute_metrics(con, config, result.watermark)
        progress("validating outputs")
        report = validate_outputs(con)
        validation = "passed" if report.passed else "failed"
        if not report.passed:
            raise ValidationFailed(report.describe())
        progress("publishing")
        publish(con)
        status, message = "published", "ok"
        return result
    except Exception as exc:
        message = str(exc)[:2000]
        raise
    finally:
        result.duration_seconds = time.perf_counter() - clock
        record_run(
            con,
            RunRecord(
                run_id=run_id,
                started_at=started,
                finished_at=datetime.now(UTC),
                status=status,
                data_interval_start=data_interval[0],
                data_interval_end=data_interval[1],
                as_of=result.watermark,
                rows_read=result.load.rows_read,
                rows_quarantined=result.load.rows_quarantined,
                contacts=result.counts.get("contacts", 0),
                cases=result.counts.get("cases", 0),
                metrics_rows=result.counts.get("metrics", 0),
                validation_result=validation,
                message=message,
                linking_settings=json.dumps(config.linking.model_dump(mode="json"), sort_keys=True),
                duration_seconds=result.duration_seconds,
            ),
        )
        con.close()

"""One run end to end: load, link, compute metrics, validate, publish, record.

Each step is a function of an open connection, so the CLI runs them in one go and
the Airflow DAG runs them as separate tasks on the same database file.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from fcr import db, incremental, tables
from fcr.config import Config
from fcr.customers import CustomersLoad, load_customers
from fcr.link import link_delta, link_sensitivity_delta, linking_params, sensitivity_definitions
from fcr.load import LoadResult, QuarantineThresholdError, load_files
from fcr.metrics import compute_insights, compute_metrics, compute_sensitivity, insight_params
from fcr.publish import RunRecord, last_published, publish, record_run
from fcr.read import expand_paths
from fcr.validate import ValidationFailed, validate_outputs

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Progress sink that prints nothing."""


@dataclass
class RunResult:
    """What a run did, for the CLI summary, the DAG and tests."""

    run_id: str
    db_path: Path
    watermark: datetime | None
    load: LoadResult
    counts: dict[str, int] = field(default_factory=dict)
    customers: CustomersLoad | None = None
    validation: str = "not run"
    duration_seconds: float = 0.0


def new_run_id(now: datetime | None = None) -> str:
    """A unique, sortable run id."""
    now = now or datetime.now(UTC)
    return f"run-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def resolve_watermark(con: duckdb.DuckDBPyConnection, as_of: datetime | None) -> datetime:
    """The run's watermark: as given (default: latest contact start), never behind the last run's."""
    if not db.table_exists(con, tables.CONTACTS):
        raise RuntimeError("the database holds no contacts yet: pass --contacts PATH")
    if as_of is None:
        as_of = con.execute(f"select max(started_at) from {tables.CONTACTS}").fetchone()[0]
    if as_of is None:
        raise RuntimeError("no contacts were loaded, so there is no watermark: check the input files")
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    previous, _ = last_published(con)
    return max(as_of, previous) if previous is not None else as_of


def step_load(
    con: duckdb.DuckDBPyConnection,
    contacts: list[str],
    config: Config,
    run_id: str,
    progress: Progress = _quiet,
) -> LoadResult:
    """Load the files (paths or globs) into raw.contacts; bad rows to raw.quarantine."""
    paths = expand_paths(contacts) if contacts else []
    if not paths:
        return LoadResult()
    progress(f"loading {len(paths)} file(s)")
    return load_files(con, paths, config, run_id, progress)


def step_load_customers(
    con: duckdb.DuckDBPyConnection,
    customers: list[str],
    config: Config,
    run_id: str,
    progress: Progress = _quiet,
) -> CustomersLoad | None:
    """Load the optional customers file(s) into raw.customers (kept for later runs)."""
    if not customers:
        return None
    progress(f"loading customers from {', '.join(customers)}")
    return load_customers(con, customers, config, run_id, progress)


def step_transform(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    watermark: datetime,
    progress: Progress = _quiet,
    force_full: bool = False,
) -> dict[str, int]:
    """Link contacts into cases and compute metrics into the staging schema, incrementally when it can.

    Pass force_full after loading a customers file: segments and churn can move every period.
    """
    scope = incremental.plan_scope(con, config, force_full)
    progress(f"{scope.reason} (watermark {watermark:%Y-%m-%d %H:%M:%S %Z})")
    params = {
        **linking_params(config, watermark),
        **incremental.scope_params(scope, watermark),
        **insight_params(con, config),
    }
    incremental.prepare(con, scope, params)
    progress("linking contacts into cases")
    counts = link_delta(con, config, params)
    progress(f"linking under {len(sensitivity_definitions(config))} sensitivity definitions")
    link_sensitivity_delta(con, config, params)
    incremental.mark_affected(con, scope, params)
    incremental.merge_state(con, scope, params)
    progress("computing metrics, channel flow and reason priority")
    counts["metrics_recomputed"] = compute_metrics(con, params)
    incremental.merge_metrics(con, scope)
    counts.update(compute_insights(con, config, params))
    counts["sensitivity"] = compute_sensitivity(con, params, config.linking.repeat_window.total_seconds())
    for name, table in (
        ("contacts", tables.STG_CONTACTS),
        ("cases", tables.STG_CASES),
        ("metrics", tables.STG_METRICS),
    ):
        counts[name] = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    counts["full"] = int(scope.full)
    return counts


def step_validate(con: duckdb.DuckDBPyConnection, progress: Progress = _quiet) -> str:
    """Audit the staged outputs; raise ValidationFailed (nothing published) when a check fails."""
    progress("validating outputs")
    report = validate_outputs(con)
    if not report.passed:
        raise ValidationFailed(report.describe())
    return "passed"


def step_publish(con: duckdb.DuckDBPyConnection, progress: Progress = _quiet) -> None:
    """Swap the validated staging tables into the published schema."""
    progress("publishing")
    publish(con)


def record(
    con: duckdb.DuckDBPyConnection,
    result: RunResult,
    config: Config,
    started: datetime,
    status: str,
    message: str,
    data_interval: tuple[datetime | None, datetime | None] = (None, None),
) -> None:
    """Append the run to published.pipeline_runs."""
    record_run(
        con,
        RunRecord(
            run_id=result.run_id,
            started_at=started,
            finished_at=datetime.now(UTC),
            status=status,
            data_interval_start=data_interval[0],
            data_interval_end=data_interval[1],
            as_of=result.watermark,
            rows_read=result.load.rows_read,
            rows_excluded=result.load.rows_excluded,
            rows_quarantined=result.load.rows_quarantined,
            contacts=result.counts.get("contacts", 0),
            cases=result.counts.get("cases", 0),
            metrics_rows=result.counts.get("metrics", 0),
            validation_result=result.validation,
            message=message[:2000],
            linking_settings=incremental.definition_fingerprint(config),
            duration_seconds=result.duration_seconds,
        ),
    )


def run(
    contacts: list[str],
    db_path: Path | str,
    config: Config,
    as_of: datetime | None = None,
    run_id: str | None = None,
    data_interval: tuple[datetime | None, datetime | None] = (None, None),
    progress: Progress = _quiet,
    full: bool = False,
    customers: list[str] | None = None,
) -> RunResult:
    """Load the files, recompute, validate and publish; raise (publishing nothing) on failure."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    result = RunResult(run_id or new_run_id(started), Path(db_path), None, LoadResult())
    status, message = "failed", ""
    con = db.connect(db_path, memory_limit=config.memory_limit)
    try:
        result.load = step_load(con, contacts, config, result.run_id, progress)
        result.customers = step_load_customers(con, customers or [], config, result.run_id, progress)
        result.watermark = resolve_watermark(con, as_of)
        full = full or result.customers is not None  # segments and churn can move every period
        result.counts = step_transform(con, config, result.watermark, progress, force_full=full)
        result.validation = "failed"
        result.validation = step_validate(con, progress)
        step_publish(con, progress)
        status, message = "published", "ok"
        return result
    except QuarantineThresholdError as exc:
        result.load, message = exc.result, str(exc)
        raise
    except Exception as exc:
        message = str(exc)
        raise
    finally:
        result.duration_seconds = time.perf_counter() - clock
        record(con, result, config, started, status, message, data_interval)
        con.close()

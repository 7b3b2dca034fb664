"""One run end to end: load, link, compute metrics, validate, publish, record.

Each step is a function of an open connection, so the CLI runs them in one go and
the Airflow DAG runs them as separate tasks on the same database file.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from fcr import db, incremental, lease, runlog, tables
from fcr.config import Config, ConfigError
from fcr.customers import CustomersLoad, load_customers
from fcr.link import link_delta, link_sensitivity_delta, linking_params, sensitivity_definitions
from fcr.load import LoadResult, QuarantineThresholdError, load_files
from fcr.metrics import compute_insights, compute_metrics, compute_sensitivity, insight_params
from fcr.publish import StagingReplaced, check_staged_by, publish
from fcr.read import FileLoadError, expand_paths
from fcr.serve import ServeError, ServeResult, serve
from fcr.validate import ValidationFailed, ValidationReport, validate_input, validate_outputs

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
    validation_detail: dict[str, dict] = field(default_factory=dict)
    serving: ServeResult | None = None
    duration_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # what a reader of the run log should know


class AsOfRejected(ValueError):
    """An --as-of far past the data, most likely mistyped: it would make every case final for good."""

    permanent = True


# Errors with a message that says what to do: the CLI prints them, the DAG fails (or retries) on them.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    ConfigError,
    FileLoadError,
    QuarantineThresholdError,
    ValidationFailed,
    ServeError,
    StagingReplaced,
    AsOfRejected,
    db.DatabaseError,
    lease.DatabaseBusy,
    lease.LeaseLost,
)


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying the step cannot help: bad input, config or outputs (a busy or full disk can)."""
    return isinstance(exc, EXPECTED_ERRORS) and bool(getattr(exc, "permanent", True))


def new_run_id(now: datetime | None = None) -> str:
    """A unique, sortable run id."""
    now = now or datetime.now(UTC)
    return f"run-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def resolve_watermark(
    con: duckdb.DuckDBPyConnection,
    as_of: datetime | None,
    config: Config,
    *,
    reset: bool = False,
    force: bool = False,
) -> tuple[datetime, str | None]:
    """The run's watermark and a note when it was set back; never behind the last run's unless reset.

    reset (a full run given --as-of) sets the watermark exactly; force accepts an --as-of further
    past the latest contact than [validation] as_of_tolerance.
    """
    if not db.table_exists(con, tables.CONTACTS):
        raise RuntimeError("the database holds no contacts yet: pass --contacts PATH")
    latest = con.execute(f"select max(started_at) from {tables.CONTACTS}").fetchone()[0]
    if latest is None:
        raise RuntimeError("no contacts were loaded, so there is no watermark: check the input files")
    if as_of is None:
        as_of, reset = latest, False
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    tolerance = config.validation.as_of_tolerance
    if not force and as_of > latest + tolerance:
        raise AsOfRejected(
            f"--as-of {as_of:%Y-%m-%d %H:%M:%S %Z} is {as_of - latest} after the latest contact "
            f"({latest:%Y-%m-%d %H:%M:%S %Z}), more than [validation] as_of_tolerance ({tolerance}): "
            "it would publish every case as mature and final. Fix the date, or give --force-as-of "
            "to use it anyway."
        )
    previous, _ = runlog.last_published(con)
    if reset:
        moved = previous is not None and previous != as_of
        return as_of, (f"watermark reset from {previous:%Y-%m-%d %H:%M:%S %Z}" if moved else None)
    return (max(as_of, previous) if previous is not None else as_of), None


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
    run_id: str,
    progress: Progress = _quiet,
    force_full: bool = False,
) -> dict[str, int]:
    """Link contacts into cases and compute metrics into the staging schema, incrementally when it can.

    The staged state is marked `building` first: a transform killed half-way makes the next one full.
    Pass force_full after loading a customers file: segments and churn can move every period.
    """
    scope = incremental.plan_scope(con, config, force_full)
    progress(f"{scope.reason} (watermark {watermark:%Y-%m-%d %H:%M:%S %Z})")
    params = {
        **linking_params(config, watermark),
        **incremental.scope_params(scope, watermark),
        **insight_params(con, config),
    }
    incremental.set_build_state(con, run_id, incremental.BUILDING)
    incremental.consume_touched(con)
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
    incremental.set_build_state(con, run_id, incremental.BUILT)
    return counts


def step_validate_input(
    con: duckdb.DuckDBPyConnection, config: Config, files: list[str], progress: Progress = _quiet
) -> ValidationReport:
    """Audit the batch loaded from `files` with the input suites; raise ValidationFailed when one breaks."""
    progress("validating the loaded batch")
    report = validate_input(con, config, files)
    if not report.passed:
        raise ValidationFailed(report)
    return report


def step_validate(
    con: duckdb.DuckDBPyConnection, config: Config, run_id: str, progress: Progress = _quiet
) -> ValidationReport:
    """Audit this run's staged outputs with the output suites; raise ValidationFailed (nothing published)."""
    progress("validating outputs")
    check_staged_by(con, run_id)
    report = validate_outputs(con, config)
    if not report.passed:
        raise ValidationFailed(report)
    return report


def step_publish(
    con: duckdb.DuckDBPyConnection, record: runlog.RunRecord, progress: Progress = _quiet
) -> None:
    """Swap the validated staging tables into the published schema with the run's log row."""
    progress("publishing")
    publish(con, record)


def start(
    con: duckdb.DuckDBPyConnection, holder: lease.Holder, config: Config, record: runlog.RunRecord
) -> list[str]:
    """Take the database for the run and log it as running; return the runs found interrupted."""
    replaced = lease.acquire(con, holder, config.run_lease_timeout)
    stale = [r for r in runlog.running_runs(con) if r != holder.run_id]
    stale += [replaced] if replaced and replaced not in stale else []
    runlog.mark_interrupted(con, stale, holder.run_id)
    runlog.write(con, record)
    return stale


def fail(con: duckdb.DuckDBPyConnection, record: runlog.RunRecord) -> None:
    """Log the run as failed and free the database for the next run, in one transaction."""
    con.execute("begin transaction")
    try:
        runlog.write(con, record)
        lease.release(con, record.run_id)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def step_serve(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    serve_dir: Path | None = None,
    progress: Progress = _quiet,
) -> ServeResult | None:
    """Replace the read-only serving copy (DuckDB file and Parquet) of the published tables."""
    if not config.serving.enabled:
        return None
    result = serve(con, serve_dir or config.serving.dir)
    progress(f"serving copy written to {result.directory}")
    return result


def run_record(
    result: RunResult,
    config: Config,
    started: datetime,
    status: str,
    message: str,
    data_interval: tuple[datetime | None, datetime | None] = (None, None),
) -> runlog.RunRecord:
    """The run's row of published.pipeline_runs as it stands."""
    finished = None if status == runlog.RUNNING else datetime.now(UTC)
    return runlog.RunRecord(
        run_id=result.run_id,
        started_at=started,
        finished_at=finished,
        status=status,
        data_interval_start=data_interval[0],
        data_interval_end=data_interval[1],
        as_of=result.watermark,
        rows_read=result.load.rows_read,
        rows_excluded=result.load.rows_excluded,
        rows_quarantined=result.load.rows_quarantined,
        rows_loaded=result.load.contacts_delivered,
        rows_replaced=result.load.rows_replaced,
        local_times_shifted=result.load.local_times_shifted,
        local_times_ambiguous=result.load.local_times_ambiguous,
        contacts=result.counts.get("contacts", 0),
        cases=result.counts.get("cases", 0),
        metrics_rows=result.counts.get("metrics", 0),
        validation_result=result.validation,
        validation_detail=json.dumps(result.validation_detail, sort_keys=True),
        message="; ".join([message, *result.notes]) if result.notes else message,
        linking_settings=incremental.definition_fingerprint(config),
        duration_seconds=(datetime.now(UTC) - started).total_seconds(),
    )


def connect(db_path: Path | str, config: Config) -> duckdb.DuckDBPyConnection:
    """Open the pipeline database for a step, with the config's memory limit."""
    return db.connect(db_path, memory_limit=config.memory_limit)


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
    serve_dir: Path | None = None,
    force_as_of: bool = False,
) -> RunResult:
    """Load, validate, recompute, validate, publish and serve; raise (publishing nothing) on failure."""
    started = datetime.now(UTC)
    result = RunResult(run_id or new_run_id(started), Path(db_path), None, LoadResult())
    con = connect(db_path, config)
    holder = lease.Holder.process(result.run_id)
    published = False
    try:
        interrupted = start(con, holder, config, run_record(result, config, started, runlog.RUNNING, ""))
        if interrupted:
            result.notes.append(f"found interrupted run(s) {', '.join(interrupted)}")
            progress(f"run(s) {', '.join(interrupted)} stopped before finishing: marked interrupted")
        result.load = step_load(con, contacts, config, result.run_id, progress)
        if result.load.files_skipped:
            result.notes.append(f"{len(result.load.files_skipped)} file(s) skipped as already loaded")
        result.customers = step_load_customers(con, customers or [], config, result.run_id, progress)
        report = step_validate_input(con, config, result.load.files, progress)
        result.validation_detail[report.stage] = report.summary()
        result.watermark, reset_note = resolve_watermark(
            con, as_of, config, reset=full and as_of is not None, force=force_as_of
        )
        if reset_note:
            result.notes.append(f"{reset_note} to {result.watermark:%Y-%m-%d %H:%M:%S %Z} (--full --as-of)")
        full = full or result.customers is not None  # segments and churn can move every period
        result.counts = step_transform(
            con, config, result.watermark, result.run_id, progress, force_full=full
        )
        report = step_validate(con, config, result.run_id, progress)
        result.validation_detail[report.stage] = report.summary()
        result.validation = "passed"
        record = run_record(result, config, started, runlog.PUBLISHED, "ok", data_interval)
        step_publish(con, record, progress)
        published = True
        try:
            result.serving = step_serve(con, config, serve_dir, progress)
        except ServeError as exc:
            runlog.set_message(con, result.run_id, str(exc))
            raise
        return result
    except lease.DatabaseBusy:
        raise
    except BaseException as exc:
        if isinstance(exc, QuarantineThresholdError):
            result.load = exc.result
        if isinstance(exc, ValidationFailed):
            result.validation = "failed"
            result.validation_detail[exc.report.stage] = exc.report.summary()
        clear = db.explain(exc, db_path) if isinstance(exc, duckdb.Error | OSError) else None
        if not published:
            message = str(clear or exc) or type(exc).__name__
            # a run that cannot log its failure (disk full) stays `running`: the next run marks it interrupted
            with contextlib.suppress(duckdb.Error, OSError):
                fail(con, run_record(result, config, started, runlog.FAILED, message, data_interval))
        if clear is not None:
            raise clear from exc
        raise
    finally:
        result.duration_seconds = (datetime.now(UTC) - started).total_seconds()
        with contextlib.suppress(duckdb.Error):
            con.close()

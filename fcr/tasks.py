"""The pipeline's steps as scheduler tasks: plain values in and out, one DuckDB connection each.

Airflow's tasks call these (see dags/fcr_daily.py); they need no Airflow, so they are tested and can
be run by hand. A run's state travels between tasks as a JSON-able dict (XCom): each step takes the
dict the previous one returned and returns it with its own results added. A step that fails after
opening the database records the failed run in published.pipeline_runs and re-raises.

The staging tables are shared by all runs: transform marks them as its run's, and the steps that
read them refuse another run's outputs instead of validating or publishing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from fcr import db, landing, lease, pipeline, runlog
from fcr.config import Config, load_config
from fcr.export import export_published
from fcr.load import LoadResult
from fcr.validate import ValidationFailed, ValidationReport

Run = dict[str, Any]


def resolve_settings(
    names: tuple[str, ...],
    params: Mapping[str, Any],
    variable: Callable[[str], str | None],
    defaults: Mapping[str, str | None],
) -> dict[str, str | None]:
    """Each setting from the run's params, else the variable `fcr_<name>`, else the default."""
    return {name: params.get(name) or variable(f"fcr_{name}") or defaults.get(name) for name in names}


def landed_files(settings: Mapping[str, Any], start: datetime, end: datetime) -> tuple[list[str], str | None]:
    """The files landed for the interval, and what is still missing (None once every date has one)."""
    config = load_config(settings.get("config_path"))
    found = landing.find_files(
        settings["landing_dir"], landing.interval_dates(start, end, config.business_timezone)
    )
    return found.paths, (found.describe_missing() if found.missing else None)


def load(
    settings: Mapping[str, Any], files: list[str], start: datetime, end: datetime, owner: str | None = None
) -> Run:
    """Start the run for the interval (start, end]: take the database, load its files into raw.contacts.

    owner names the scheduler run the tasks belong to: its retries keep the database, others wait
    (default: a run of its own).
    """
    run_id = pipeline.new_run_id()
    run: Run = {
        "run_id": run_id,
        "owner": owner or f"manual/{run_id}",
        "started_at": datetime.now(UTC).isoformat(),
        "db_path": str(settings["db_path"]),
        "config_path": settings.get("config_path"),
        "data_interval_start": start.isoformat(),
        "data_interval_end": end.isoformat(),
        "files": list(files),
        "watermark": None,
        "counts": {},
        "validation": "not run",
        "validation_detail": {},
    }
    config = load_config(run["config_path"])
    with _step(run, config, first=True) as con:
        result = pipeline.step_load(con, run["files"], config, run["run_id"])
        run.update(
            rows_read=result.rows_read,
            rows_excluded=result.rows_excluded,
            rows_quarantined=result.rows_quarantined,
            contacts_delivered=result.contacts_delivered,
            rows_replaced=result.rows_replaced,
            local_times_shifted=result.local_times_shifted,
            local_times_ambiguous=result.local_times_ambiguous,
        )
    return run


def validate_input(run: Run) -> Run:
    """Audit the batch the run loaded with the input suites before anything is computed from it."""
    run, config = dict(run), load_config(run["config_path"])
    with _step(run, config) as con:
        files = [str(Path(f).resolve()) for f in run["files"]]
        _audit(run, lambda: pipeline.step_validate_input(con, config, files))
    return run


def transform(run: Run) -> Run:
    """Link contacts into cases and compute metrics up to the interval's end (never backwards)."""
    run, config = dict(run), load_config(run["config_path"])
    with _step(run, config) as con:
        end = datetime.fromisoformat(run["data_interval_end"])
        # the interval's end comes from the scheduler, not from a person typing it: always accepted
        watermark, _ = pipeline.resolve_watermark(con, end, config, force=True)
        run["watermark"] = watermark.isoformat()
        run["counts"] = pipeline.step_transform(con, config, watermark, run["run_id"])
    return run


def validate(run: Run) -> Run:
    """Audit the staged outputs; a failed check stops the run before anything is published."""
    run, config = dict(run), load_config(run["config_path"])
    with _step(run, config) as con:
        _audit(run, lambda: pipeline.step_validate(con, config, run["run_id"]))
        run["validation"] = "passed"
    return run


def publish(run: Run) -> Run:
    """Swap the validated outputs into the published schema with the run's log row, in one transaction."""
    run, config = dict(run), load_config(run["config_path"])
    with pipeline.connect(run["db_path"], config) as con:
        if runlog.status(con, run["run_id"]) == runlog.PUBLISHED:
            return run  # a retry of a publish that committed before its task was lost
    with _step(run, config) as con:
        pipeline.step_publish(con, _record(run, config, runlog.PUBLISHED, "ok"))
    return run


def serve(run: Run) -> Run:
    """Replace the read-only serving copy for BI tools (DuckDB file and Parquet), atomically."""
    run, config = dict(run), load_config(run["config_path"])
    con = db.connect(run["db_path"], memory_limit=config.memory_limit)
    try:
        result = pipeline.step_serve(con, config)
    finally:
        con.close()
    run["serving_dir"] = str(result.directory) if result else None
    return run


def scorecard(run: Run) -> Run:
    """Write the manager scorecard beside the serving copy (or beside the database)."""
    from fcr.scorecard import write_scorecard

    config = load_config(run["config_path"])
    folder = Path(run.get("serving_dir") or Path(run["db_path"]).parent)
    run = {**run, "scorecard": str(write_scorecard(run["db_path"], folder / "scorecard.html", config))}
    return run


def export(db_path: str, export_dir: str) -> dict[str, str]:
    """Write the published tables as Parquet for BI tools; return table -> file."""
    return {table: str(path) for table, path in export_published(db_path, export_dir).items()}


@contextmanager
def _step(run: Run, config: Config, first: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one step of a run that holds the database (the first step takes it).

    A failure is logged: a permanent one fails the run and frees the database; a transient one
    leaves both to the retry.
    """
    con = pipeline.connect(run["db_path"], config)
    try:
        if first:
            holder = lease.Holder(run["run_id"], run["owner"])
            pipeline.start(con, holder, config, _record(run, config, runlog.RUNNING, ""))
        else:
            lease.hold(con, run["run_id"])
        yield con
    except lease.DatabaseBusy:
        raise
    except Exception as exc:
        clear = db.explain(exc, run["db_path"]) if isinstance(exc, duckdb.Error | OSError) else None
        error = clear or exc
        with suppress(duckdb.Error, OSError):
            if pipeline.is_permanent(error) and not isinstance(error, lease.LeaseLost):
                pipeline.fail(con, _record(run, config, runlog.FAILED, str(error)))
            elif not isinstance(error, lease.LeaseLost):
                runlog.write(con, _record(run, config, runlog.RUNNING, f"retrying after: {error}"))
        if clear is not None:
            raise clear from exc
        raise
    finally:
        con.close()


def _audit(run: Run, check: Callable[[], ValidationReport]) -> None:
    """Run a validation step, keeping its digest in the run (for pipeline_runs) whether it passes or not."""
    report: ValidationReport | None = None
    try:
        report = check()
    except ValidationFailed as exc:
        run["validation"], report = "failed", exc.report
        raise
    finally:
        if report is not None:
            run["validation_detail"] = {**run.get("validation_detail", {}), report.stage: report.summary()}


def _record(run: Run, config: Config, status: str, message: str) -> runlog.RunRecord:
    """The run's log row from the state the tasks pass along."""
    started = datetime.fromisoformat(run["started_at"])
    watermark = run.get("watermark")
    result = pipeline.RunResult(
        run_id=run["run_id"],
        db_path=Path(run["db_path"]),
        watermark=datetime.fromisoformat(watermark) if watermark else None,
        load=LoadResult(
            files=run["files"],
            rows_read=run.get("rows_read", 0),
            rows_excluded=run.get("rows_excluded", 0),
            rows_quarantined=run.get("rows_quarantined", 0),
            contacts_delivered=run.get("contacts_delivered", 0),
            rows_replaced=run.get("rows_replaced", 0),
            local_times_shifted=run.get("local_times_shifted", 0),
            local_times_ambiguous=run.get("local_times_ambiguous", 0),
        ),
        counts=run["counts"],
        validation=run["validation"],
        validation_detail=run.get("validation_detail", {}),
    )
    interval = (
        datetime.fromisoformat(run["data_interval_start"]),
        datetime.fromisoformat(run["data_interval_end"]),
    )
    return pipeline.run_record(result, config, started, status, message, interval)

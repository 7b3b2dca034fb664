"""One run end to end, for the CLI and the DAG alike: the run's state and its ordered steps.

`run()` (the CLI) calls every step of STEPS in one process; the DAG calls one step per task and
passes the run between tasks as `Run.to_xcom()`. Each step gets its own connection, so both
front doors take the lease, log the run, time the steps and record failures the same way.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from fcr import db, lease, runlog, sqlfiles, tables
from fcr.config import Config, ConfigError, build_config
from fcr.load import touched
from fcr.load.contacts import LoadResult, QuarantineThresholdError, load_files
from fcr.load.customers import CustomersLoad, load_customers
from fcr.load.read import FileLoadError, expand_paths
from fcr.publish.commit import StagingReplaced, check_staged_by, publish
from fcr.publish.postgres import serve_postgres
from fcr.publish.serve import ServeError, ServeResult, serve
from fcr.transform import incremental, shards
from fcr.transform.link import link_delta, link_sensitivity_delta, linking_params, sensitivity_definitions
from fcr.transform.metrics import compute_insights, compute_metrics, compute_sensitivity, insight_params
from fcr.validate.suites import ValidationFailed, ValidationReport, validate_input, validate_outputs

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Progress sink that prints nothing."""


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
    shards.ShardFailed,
)


def is_permanent(exc: BaseException) -> bool:
    """Whether retrying the step cannot help: bad input, config or outputs (a busy or full disk can)."""
    return isinstance(exc, EXPECTED_ERRORS) and bool(getattr(exc, "permanent", True))


def new_run_id(now: datetime | None = None) -> str:
    """A unique, sortable run id."""
    now = now or datetime.now(UTC)
    return f"run-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def config_json(config: Config) -> dict[str, Any]:
    """The validated config as JSON that build_config reads back to an equal Config."""

    def plain(value: Any) -> Any:
        if isinstance(value, timedelta):
            return f"{value.total_seconds()!r}s"  # a duration with its unit, exact to the microsecond
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    return plain(config.model_dump(mode="python", by_alias=True))


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass
class Run:
    """A run's inputs and everything its steps found out: the one state the CLI and the DAG pass on."""

    run_id: str
    db_path: Path
    config: Config
    started_at: datetime
    owner: str = lease.PROCESS
    contacts: list[str] = field(default_factory=list)  # paths or globs
    customer_files: list[str] = field(default_factory=list)
    as_of: datetime | None = None
    force_as_of: bool = False  # accept an as_of further past the latest contact than as_of_tolerance
    full: bool = False
    reset_watermark: bool = False  # a full run given an explicit as_of sets the watermark exactly
    serve_dir: Path | None = None
    data_interval: tuple[datetime | None, datetime | None] = (None, None)
    watermark: datetime | None = None
    shards_pending: list[int] = field(default_factory=list)  # the shards with contacts to link
    shard_plan: str | None = None  # the scope the shards were split for (see _shard_plan)
    shards_linked: list[dict[str, Any]] = field(default_factory=list)  # figures of shards linked here
    load: LoadResult = field(default_factory=LoadResult)
    customers: CustomersLoad | None = None
    counts: dict[str, int] = field(default_factory=dict)
    validation: str = "not run"
    validation_detail: dict[str, dict] = field(default_factory=dict)
    published: bool = False
    serving: ServeResult | None = None
    notes: list[str] = field(default_factory=list)  # what a reader of the run log should know
    step_seconds: dict[str, float] = field(default_factory=dict)
    transform_seconds: dict[str, float] = field(default_factory=dict)  # link, sensitivity, ...
    duration_seconds: float = 0.0
    _step_clock: tuple[str, float] | None = field(default=None, repr=False, compare=False)

    def record(self, status: str, message: str) -> runlog.RunRecord:
        """The run's row of published.pipeline_runs as it stands (the step under way timed so far)."""
        now = datetime.now(UTC)
        steps = dict(self.step_seconds)
        if self._step_clock is not None:
            steps[self._step_clock[0]] = time.perf_counter() - self._step_clock[1]
        return runlog.RunRecord(
            run_id=self.run_id,
            started_at=self.started_at,
            finished_at=None if status == runlog.RUNNING else now,
            status=status,
            data_interval_start=self.data_interval[0],
            data_interval_end=self.data_interval[1],
            as_of=self.watermark,
            rows_read=self.load.rows_read,
            rows_excluded=self.load.rows_excluded,
            rows_quarantined=self.load.rows_quarantined,
            rows_loaded=self.load.contacts_delivered,
            rows_replaced=self.load.rows_replaced,
            local_times_shifted=self.load.local_times_shifted,
            local_times_ambiguous=self.load.local_times_ambiguous,
            contacts=self.counts.get("contacts", 0),
            cases=self.counts.get("cases", 0),
            metrics_rows=self.counts.get("metrics", 0),
            validation_result=self.validation,
            validation_detail=json.dumps(self.validation_detail, sort_keys=True),
            message="; ".join([message, *self.notes]) if self.notes else message,
            linking_settings=incremental.definition_fingerprint(self.config),
            duration_seconds=(now - self.started_at).total_seconds(),
            step_seconds=json.dumps(steps),
            transform_seconds=json.dumps(self.transform_seconds),
        )

    def to_xcom(self) -> dict[str, Any]:
        """The run as plain JSON values, to pass from one scheduler task to the next."""
        return {
            "run_id": self.run_id,
            "db_path": str(self.db_path),
            "config": config_json(self.config),
            "started_at": self.started_at.isoformat(),
            "owner": self.owner,
            "contacts": list(self.contacts),
            "customer_files": list(self.customer_files),
            "as_of": _iso(self.as_of),
            "force_as_of": self.force_as_of,
            "full": self.full,
            "reset_watermark": self.reset_watermark,
            "serve_dir": str(self.serve_dir) if self.serve_dir else None,
            "data_interval_start": _iso(self.data_interval[0]),
            "data_interval_end": _iso(self.data_interval[1]),
            "watermark": _iso(self.watermark),
            "shards_pending": list(self.shards_pending),
            "shard_plan": self.shard_plan,
            "shards_linked": list(self.shards_linked),
            **asdict(self.load),  # rows_read, files, ...: the load figures at the top level
            "customers": asdict(self.customers) if self.customers else None,
            "counts": dict(self.counts),
            "validation": self.validation,
            "validation_detail": self.validation_detail,
            "published": self.published,
            "serving": _serving_json(self.serving),
            "notes": list(self.notes),
            "step_seconds": dict(self.step_seconds),
            "transform_seconds": dict(self.transform_seconds),
            "duration_seconds": self.duration_seconds,
        }

    @classmethod
    def from_xcom(cls, value: dict[str, Any]) -> Run:
        """The run a previous task passed on (see to_xcom); its config is validated again, not re-read."""
        return cls(
            run_id=value["run_id"],
            db_path=Path(value["db_path"]),
            config=build_config(value["config"], "(passed on by the previous task)"),
            started_at=datetime.fromisoformat(value["started_at"]),
            owner=value["owner"],
            contacts=list(value["contacts"]),
            customer_files=list(value["customer_files"]),
            as_of=_time(value["as_of"]),
            force_as_of=value["force_as_of"],
            full=value["full"],
            reset_watermark=value["reset_watermark"],
            serve_dir=Path(value["serve_dir"]) if value["serve_dir"] else None,
            data_interval=(_time(value["data_interval_start"]), _time(value["data_interval_end"])),
            watermark=_time(value["watermark"]),
            shards_pending=list(value["shards_pending"]),
            shard_plan=value["shard_plan"],
            shards_linked=list(value["shards_linked"]),
            load=LoadResult(**{name: value[name] for name in _LOAD_FIELDS}),
            customers=CustomersLoad(**value["customers"]) if value["customers"] else None,
            counts=dict(value["counts"]),
            validation=value["validation"],
            validation_detail=value["validation_detail"],
            published=value["published"],
            serving=_serving(value["serving"]),
            notes=list(value["notes"]),
            step_seconds=dict(value["step_seconds"]),
            transform_seconds=dict(value["transform_seconds"]),
            duration_seconds=value["duration_seconds"],
        )


RunResult = Run  # what the CLI summary reads
_LOAD_FIELDS = tuple(f.name for f in fields(LoadResult))


def _serving_json(result: ServeResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "directory": str(result.directory),
        "database": str(result.database),
        "snapshot": str(result.snapshot) if result.snapshot else None,
        "parquet": {name: str(path) for name, path in result.parquet.items()},
        "rows": result.rows,
        "seconds": result.seconds,
    }


def _serving(value: dict[str, Any] | None) -> ServeResult | None:
    if value is None:
        return None
    return ServeResult(
        directory=Path(value["directory"]),
        database=Path(value["database"]),
        snapshot=Path(value["snapshot"]) if value.get("snapshot") else None,
        parquet={name: Path(path) for name, path in value["parquet"].items()},
        rows=value["rows"],
        seconds=value["seconds"],
    )


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


def _load(con: duckdb.DuckDBPyConnection, run: Run, progress: Progress) -> None:
    """Load the contact files (paths or globs) and the optional customers file(s); bad rows to quarantine."""
    paths = expand_paths(run.contacts) if run.contacts else []
    if paths:
        progress(f"loading {len(paths)} file(s)")
        run.load = load_files(con, paths, run.config, run.run_id, progress)
    if run.load.files_skipped:
        run.notes.append(f"{len(run.load.files_skipped)} file(s) skipped as already loaded")
    if run.customer_files:
        progress(f"loading customers from {', '.join(run.customer_files)}")
        run.customers = load_customers(con, run.customer_files, run.config, run.run_id, progress)


def _audit(run: Run, check: Callable[[], ValidationReport]) -> None:
    """Run a validation, keeping its digest in the run (for pipeline_runs) whether it passes or not."""
    try:
        report = check()
    except ValidationFailed as exc:
        run.validation = "failed"
        run.validation_detail[exc.report.stage] = exc.report.summary()
        raise
    run.validation_detail[report.stage] = report.summary()
    if not report.passed:
        run.validation = "failed"
        raise ValidationFailed(report)


def _validate_input(con: duckdb.DuckDBPyConnection, run: Run, progress: Progress) -> None:
    """Audit the batch the run loaded with the input suites before anything is computed from it."""
    progress("validating the loaded batch")
    _audit(run, lambda: validate_input(con, run.config, run.load.files))


def _plan(con: duckdb.DuckDBPyConnection, run: Run) -> tuple[incremental.Scope, dict[str, Any]]:
    """The run's watermark, what it recomputes, and the bind parameters its models take.

    A customers file forces a full recompute: segments and churn can move every period.
    """
    config = run.config
    run.watermark, reset_note = resolve_watermark(
        con, run.as_of, config, reset=run.reset_watermark, force=run.force_as_of
    )
    if reset_note and not any(note.startswith(reset_note) for note in run.notes):
        run.notes.append(f"{reset_note} to {run.watermark:%Y-%m-%d %H:%M:%S %Z} (--full --as-of)")
    scope = incremental.plan_scope(con, config, run.full or run.customers is not None)
    params = {
        **linking_params(config, run.watermark),
        **incremental.scope_params(scope, run.watermark),
        **insight_params(con, config),
    }
    return scope, params


def _shard_plan(run: Run, scope: incremental.Scope) -> str:
    """What a split into shards was made for: a transform whose plan differs splits again."""
    return json.dumps([run.config.shards, scope.full, _iso(scope.previous_watermark), _iso(run.watermark)])


def _shard(con: duckdb.DuckDBPyConnection, run: Run, progress: Progress) -> None:
    """Split the run's scope by customer into shards, for the shard tasks to link (unsharded: nothing)."""
    if run.config.shards == 1:
        return
    scope, params = _plan(con, run)
    incremental.prepare(con, scope, params)
    run.shards_pending = shards.export_shards(con, shard_directory(run), run.config.shards, params)
    run.shard_plan = _shard_plan(run, scope)
    progress(f"split the run's contacts into {len(run.shards_pending)} of {run.config.shards} shards")


def shard_directory(run: Run) -> Path:
    """Where the run's shards read their contacts and write their cases."""
    return shards.store_dir(run.config, run.db_path) / run.run_id


def _link_in_shards(
    con: duckdb.DuckDBPyConnection, run: Run, scope: incremental.Scope, params: dict, progress: Progress
) -> dict[str, int]:
    """Link the scope shard by shard: shards the scheduler's tasks linked are read, the others linked here.

    With no contacts in the scope there is no shard: the empty scope is linked here, which only
    shapes the delta tables.
    """
    directory, parts = shard_directory(run), run.transform_seconds
    if run.shard_plan != _shard_plan(run, scope):  # not split for this scope (a retry after a kill): split
        run.shards_pending = shards.export_shards(con, directory, run.config.shards, params)
        run.shard_plan = _shard_plan(run, scope)
    if not run.shards_pending:
        shards.remove(directory)
        counts = link_delta(con, run.config, params)
        link_sensitivity_delta(con, run.config, params)
        return {**counts, "shards_linked": 0}
    with _timed(parts, "shards"):
        run.shards_linked = shards.link_pending(
            run.config, directory, run.shards_pending, config_json(run.config), run.watermark, progress
        )
    with _timed(parts, "collect"):
        counts = shards.collect_shards(con, directory, run.shards_pending)
    shards.remove(directory)
    return {**counts, "shards_linked": len(run.shards_pending)}


def _transform(con: duckdb.DuckDBPyConnection, run: Run, progress: Progress) -> None:
    """Link contacts into cases and compute metrics into staging, incrementally when it can.

    The staged state is marked `building` first: a transform killed half-way makes the next one full.
    """
    config = run.config
    scope, params = _plan(con, run)
    progress(f"{scope.reason} (watermark {run.watermark:%Y-%m-%d %H:%M:%S %Z})")
    parts = run.transform_seconds
    with _timed(parts, "scope"):
        incremental.set_build_state(con, run.run_id, incremental.BUILDING)
        touched.consume_touched(con)
        incremental.prepare(con, scope, params)
    progress("linking contacts into cases")
    if config.shards > 1:
        counts = _link_in_shards(con, run, scope, params, progress)
    else:
        with _timed(parts, "link"):
            counts = link_delta(con, config, params)
        progress(f"linking under {len(sensitivity_definitions(config))} sensitivity definitions")
        with _timed(parts, "sensitivity"):
            link_sensitivity_delta(con, config, params)
    with _timed(parts, "follow_ups"):
        counts["follow_ups"] = sqlfiles.build(con, "marts/follow_ups", tables.DELTA_FOLLOW_UPS, params)
    with _timed(parts, "merge"):
        incremental.mark_affected(con, scope, params)
        incremental.merge_state(con, scope, params)
    progress("computing metrics, channel flow and reason priority")
    with _timed(parts, "metrics"):
        counts["metrics_recomputed"] = compute_metrics(con, params)
        incremental.merge_periods(con, scope.full, tables.STG_METRICS, tables.DELTA_METRICS)
    with _timed(parts, "insights"):
        counts.update(compute_insights(con, config, params))
    with _timed(parts, "sensitivity_metrics"):
        counts["sensitivity"] = compute_sensitivity(con, params, config.linking.repeat_window.total_seconds())
    for name, table in (
        ("contacts", tables.STG_CONTACTS),
        ("cases", tables.STG_CASES),
        ("metrics", tables.STG_METRICS),
    ):
        counts[name] = con.execute(f"select count(*) from {table}").fetchall()[0][0]
    counts["full"] = int(scope.full)
    run.counts = counts
    incremental.set_build_state(con, run.run_id, incremental.BUILT)


@contextlib.contextmanager
def _timed(seconds: dict[str, float], name: str):
    """Time one part of the transform into seconds[name], so a run log shows where time goes."""
    clock = time.perf_counter()
    try:
        yield
    finally:
        seconds[name] = round(time.perf_counter() - clock, 3)


def _validate(con: duckdb.DuckDBPyConnection, run: Run, progress: Progress) -> None:
    """Audit this run's staged outputs with the output suites; a failed check publishes nothing."""
    progress("validating outputs")
    check_staged_by(con, run.run_id)
    _audit(run, lambda: validate_outputs(con, run.config))
    run.validation = "passed"


def _publish(con: duckdb.DuckDBPyConnection, run: Run, progress: Progress) -> None:
    """Swap the validated staging tables into the published schema with the run's row, in one transaction."""
    progress("publishing")
    publish(con, run.record(runlog.PUBLISHED, "ok"), incremental_run=run.counts.get("full") == 0)
    run.published = True


def _serve(con: duckdb.DuckDBPyConnection, run: Run, progress: Progress) -> None:
    """Replace the read-only serving copies of the published tables: files, and PostgreSQL if configured."""
    settings = run.config.serving
    if not settings.enabled:
        return
    run.serving = serve(con, run.serve_dir or settings.dir, run.run_id, settings.keep_snapshots)
    progress(f"serving copy written to {run.serving.directory}")
    url = settings.postgres_target()
    if url:
        served = serve_postgres(con, url, settings.postgres_schema, run.run_id)
        progress(f"{len(served.rows)} tables served to PostgreSQL at {served.server}, schema {served.schema}")


@dataclass(frozen=True)
class Step:
    """One step of a run; steps before the publish hold the lease and a failure of theirs fails the run."""

    name: str
    do: Callable[[duckdb.DuckDBPyConnection, Run, Progress], None]
    before_publish: bool = True


STEPS = (
    Step("load", _load),
    Step("validate_input", _validate_input),
    Step("shard", _shard),
    Step("transform", _transform),
    Step("validate", _validate),
    Step("publish", _publish),
    Step("serve", _serve, before_publish=False),
)
_BY_NAME = {step.name: step for step in STEPS}


# how long a step waits for another process to let go of the database file before it gives up
LOCK_WAIT_SECONDS = 30.0


def connect(db_path: Path | str, config: Config) -> duckdb.DuckDBPyConnection:
    """Open the pipeline database for a step, with the config's memory limit.

    Another process can hold the file for a moment (a second run opening it to find the database
    busy, between two of this run's steps): the step waits up to LOCK_WAIT_SECONDS for it instead
    of failing a run that holds the lease.
    """
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    pause = 0.05
    while True:
        try:
            return db.connect(db_path, memory_limit=config.memory_limit)
        except db.DatabaseLocked:
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _start(con: duckdb.DuckDBPyConnection, run: Run, progress: Progress) -> None:
    """Take the database for the run and log it as running; mark the runs found interrupted."""
    run.config.serving.postgres_target()  # a URL variable that is not set fails the run before it loads
    db.drop_retired_tables(con)
    replaced = lease.acquire(con, lease.Holder(run.run_id, run.owner), run.config.run_lease_timeout)
    stale = [r for r in runlog.running_runs(con) if r != run.run_id]
    stale += [replaced] if replaced and replaced not in stale else []
    runlog.mark_interrupted(con, stale, run.run_id)
    if stale:
        run.notes.append(f"found interrupted run(s) {', '.join(stale)}")
        progress(f"run(s) {', '.join(stale)} stopped before finishing: marked interrupted")
    runlog.write(con, run.record(runlog.RUNNING, ""))


def _fail(con: duckdb.DuckDBPyConnection, run: Run, message: str) -> None:
    """Log the run as failed and free the database for the next run, in one transaction."""
    con.execute("begin transaction")
    try:
        runlog.write(con, run.record(runlog.FAILED, message))
        lease.release(con, run.run_id)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _record_failure(con: duckdb.DuckDBPyConnection, run: Run, error: BaseException) -> None:
    """Log why the step stopped: after the publish as the run's message; before it, the run fails
    (a run in one process, or an error a retry cannot fix) or stays running for the scheduler's retry.

    A run that lost its lease writes nothing: the run that took the database over marked it interrupted.
    """
    if isinstance(error, QuarantineThresholdError) and error.result is not None:
        run.load = error.result
    message = str(error) or type(error).__name__
    if run.published:
        runlog.set_message(con, run.run_id, message)
    elif isinstance(error, lease.LeaseLost):
        return
    elif run.owner == lease.PROCESS or is_permanent(error) or not isinstance(error, Exception):
        _fail(con, run, message)
    else:
        runlog.write(con, run.record(runlog.RUNNING, f"retrying after: {error}"))


def run_step(run: Run, name: str, progress: Progress = _quiet) -> Run:
    """Carry out one step of the run on its own connection, timed into run.step_seconds; raise on failure.

    The first step takes the database; later steps before the publish refuse to go on without it. A run
    that has published already skips those (a retried publish whose commit the scheduler did not see).
    """
    step = _BY_NAME[name]
    clock = time.perf_counter()
    con = connect(run.db_path, run.config)
    try:
        if step.before_publish and runlog.status(con, run.run_id) == runlog.PUBLISHED:
            run.published = True
            return run
        run._step_clock = (name, clock)
        if step is STEPS[0]:
            _start(con, run, progress)
        elif step.before_publish:
            lease.hold(con, run.run_id)
        step.do(con, run, progress)
        return run
    except lease.DatabaseBusy:
        raise
    except BaseException as exc:
        clear = db.explain(exc, run.db_path) if isinstance(exc, duckdb.Error | OSError) else None
        # a run that cannot log its failure (disk full) stays `running`: the next run marks it interrupted
        with contextlib.suppress(duckdb.Error, OSError):
            _record_failure(con, run, clear or exc)
        if clear is not None:
            raise clear from exc
        raise
    finally:
        if run._step_clock is not None:
            run.step_seconds[name] = time.perf_counter() - clock
            run._step_clock = None
        run.duration_seconds = (datetime.now(UTC) - run.started_at).total_seconds()
        if not step.before_publish:  # the publish wrote the row: add the steps after it
            with contextlib.suppress(duckdb.Error, OSError):
                runlog.set_timing(con, run.run_id, run.step_seconds, run.duration_seconds)
        with contextlib.suppress(duckdb.Error):
            con.close()


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
) -> Run:
    """Load, validate, recompute, validate, publish and serve; raise (publishing nothing) on failure."""
    started = datetime.now(UTC)
    state = Run(
        run_id=run_id or new_run_id(started),
        db_path=Path(db_path),
        config=config,
        started_at=started,
        contacts=list(contacts),
        customer_files=list(customers or []),
        as_of=as_of,
        force_as_of=force_as_of,
        full=full,
        reset_watermark=full and as_of is not None,
        serve_dir=serve_dir,
        data_interval=data_interval,
    )
    for step in STEPS:
        run_step(state, step.name, progress)
    return state

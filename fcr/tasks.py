"""The pipeline's steps as scheduler tasks: plain values in and out, one step of fcr.run each.

Airflow's tasks call these (see dags/fcr_daily.py); they need no Airflow, so they are tested and can
be run by hand. The first task reads and validates the config once (`run_settings`); the run's state
travels between tasks as `runner.Run.to_xcom()`, the validated config inside it, so every task of
a run uses the config the run started with, even if the file is edited meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fcr import run as runner
from fcr.config import Config, ConfigError, build_config, load_config
from fcr.load import landing
from fcr.publish.export import export_published

# Run params the DAG passes on to the run (the CLI's options); absent, a run does what it always did.
RUN_OPTIONS = ("customers", "as_of", "full", "force_as_of", "serve_dir")


def resolve_settings(
    names: tuple[str, ...],
    params: Mapping[str, Any],
    variable: Callable[[str], str | None],
    defaults: Mapping[str, str | None],
) -> dict[str, str | None]:
    """Each setting from the run's params, else the variable `fcr_<name>`, else the default."""
    return {name: params.get(name) or variable(f"fcr_{name}") or defaults.get(name) for name in names}


def run_settings(settings: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """The run's paths, its options from the params and its config, read and validated once for the run."""
    options = {name: params.get(name) for name in RUN_OPTIONS}
    customers = options["customers"]
    options["customers"] = [customers] if isinstance(customers, str) else list(customers or [])
    if options["as_of"]:
        _as_of(options["as_of"])  # a mistyped date fails the first task, not the transform
    config = load_config(settings.get("config_path"))
    return {**settings, **options, "config": runner.config_json(config)}


def _config(settings: Mapping[str, Any]) -> Config:
    """The run's config as the first task validated it (else read from config_path, for calls by hand)."""
    if "config" in settings:
        return build_config(settings["config"], "(passed on by the previous task)")
    return load_config(settings.get("config_path"))


def _as_of(value: str) -> datetime:
    try:
        as_of = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"as_of {value!r} is not an ISO timestamp, e.g. 2026-11-01T00:00:00+00:00"
        ) from None
    return as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)


def landed_files(settings: Mapping[str, Any], start: datetime, end: datetime) -> tuple[list[str], str | None]:
    """The files landed for the interval, and what is still missing (None once every date has one)."""
    found = landing.find_files(
        settings["landing_dir"], landing.interval_dates(start, end, _config(settings).business_timezone)
    )
    return found.paths, (found.describe_missing() if found.missing else None)


def load(
    settings: Mapping[str, Any], files: list[str], start: datetime, end: datetime, owner: str | None = None
) -> dict[str, Any]:
    """Start the run for the interval (start, end]: take the database, load its files into raw.contacts.

    The watermark is the interval's end unless the params give as_of. owner names the scheduler run the
    tasks belong to: its retries keep the database, others wait (default: a run of its own).
    """
    run_id = runner.new_run_id()
    as_of = _as_of(settings["as_of"]) if settings.get("as_of") else None
    full = bool(settings.get("full"))
    run = runner.Run(
        run_id=run_id,
        db_path=Path(settings["db_path"]),
        config=_config(settings),
        started_at=datetime.now(UTC),
        owner=owner or f"manual/{run_id}",
        contacts=list(files),
        customer_files=list(settings.get("customers") or []),
        # the interval's end comes from the scheduler, not from a person typing it: always accepted
        as_of=as_of or end,
        force_as_of=as_of is None or bool(settings.get("force_as_of")),
        full=full,
        reset_watermark=full and as_of is not None,
        serve_dir=Path(settings["serve_dir"]) if settings.get("serve_dir") else None,
        data_interval=(start, end),
    )
    return runner.run_step(run, "load").to_xcom()


def _step(name: str, run: dict[str, Any]) -> dict[str, Any]:
    """One step of fcr.run on the state the previous task passed on; return it updated."""
    return runner.run_step(runner.Run.from_xcom(run), name).to_xcom()


def validate_input(run: dict[str, Any]) -> dict[str, Any]:
    """Audit the batch the run loaded with the input suites before anything is computed from it."""
    return _step("validate_input", run)


def shard(run: dict[str, Any]) -> dict[str, Any]:
    """Split the run's contacts by customer into shards for the shard tasks (unsharded: nothing)."""
    return _step("shard", run)


def shards_to_link(run: dict[str, Any]) -> list[int]:
    """The shard numbers the shard step split contacts into: one shard task each."""
    return list(run["shards_pending"])


def link_shard(run: dict[str, Any], shard: int) -> dict[str, int]:
    """Link one shard's contacts into its own DuckDB file; needs the shard directory, not the database."""
    from fcr.transform import shards

    state = runner.Run.from_xcom(run)
    job = shards.ShardJob(
        directory=str(runner.shard_directory(state)),
        shard=shard,
        shards=state.config.shards,
        config=run["config"],
        watermark=run["watermark"],
    )
    return shards.link_shard(job)


def transform(run: dict[str, Any]) -> dict[str, Any]:
    """Link contacts into cases and compute metrics up to the watermark (never backwards)."""
    return _step("transform", run)


def validate(run: dict[str, Any]) -> dict[str, Any]:
    """Audit the staged outputs; a failed check stops the run before anything is published."""
    return _step("validate", run)


def publish(run: dict[str, Any]) -> dict[str, Any]:
    """Swap the validated outputs into the published schema with the run's row; a retry changes nothing."""
    return _step("publish", run)


def serve(run: dict[str, Any]) -> dict[str, Any]:
    """Replace the read-only serving copy for BI tools (DuckDB file and Parquet), atomically."""
    return _step("serve", run)


def scorecard(run: dict[str, Any]) -> dict[str, Any]:
    """Write the manager scorecard beside the serving copy (or beside the database)."""
    from fcr.scorecard import write_scorecard

    serving = run["serving"]
    folder = Path(serving["directory"] if serving else Path(run["db_path"]).parent)
    page = write_scorecard(run["db_path"], folder / "scorecard.html", _config(run))
    return {**run, "scorecard": str(page)}


def export(db_path: str, export_dir: str) -> dict[str, str]:
    """Write the published tables as Parquet for BI tools; return table -> file."""
    return {table: str(path) for table, path in export_published(db_path, export_dir).items()}

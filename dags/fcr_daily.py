"""
### FCR daily

One run per data interval (a business day by default): wait for the contact files landed for
the interval, load them, link contacts into cases and compute metrics with the interval's end as
watermark, validate, publish, and record the run in `published.pipeline_runs`. Publishing updates
the asset `fcr_published_metrics`, which triggers `fcr_export`.

Tasks are the steps of `fcr.run.STEPS`, the ones `fcr run` runs, each a thin call into
`fcr.tasks`; the run's state (`fcr.run.Run`, with the config read once by `get_settings`)
passes between them as XCom. A new step goes in `fcr.run.STEPS` and in the chain below, in
the same order; the scorecard is a report on the published tables after the run.

* **Idempotent**: clearing and re-running an interval finds its files already loaded (by content)
  and changes nothing; the watermark never moves backwards, so catch-up and backfills in any
  order end where one run over all files ends.
* **One writer**: every task that opens the DuckDB file runs in the pool `fcr_duckdb` (1 slot),
  one run of this DAG is active at a time, and `load` takes the database for its run until
  `publish` (`raw.run_lease`): another run's tasks fail with "the database is busy" and retry.
* **Settings**: `landing_dir`, `db_path`, `config_path` come from the trigger params, else the
  Variables `fcr_landing_dir`, `fcr_db_path`, `fcr_config_path`, else the demo files under
  `demo/`. The params `customers`, `as_of`, `full`, `force_as_of` and `serve_dir` do what the
  `fcr run` options of those names do; left empty, a run loads no customers file, uses the
  interval's end as watermark and serves where the config says.
  Schedule, time zone, start date, catch-up and how long to wait for files come from the
  environment when the file is parsed: `FCR_SCHEDULE`, `FCR_TIMEZONE`, `FCR_START_DATE`,
  `FCR_CATCHUP`, `FCR_FILE_WAIT_HOURS`.
* **Shards**: with `shards = N` in the config, `shard` splits the run's contacts by customer and
  one mapped `link_shard` task per shard links them outside the pool (they never open the
  database file), side by side on as many worker slots as the executor gives; `transform` reads
  their cases back. Unsharded, no shard task is mapped and `transform` links everything itself.
  `FCR_SHARD_QUEUE` sends the shard tasks to a Celery queue of their own.
* **Landing convention**: a file belongs to the first date in its path below `landing_dir`
  (`2026-11-01/export.csv`, `contacts_20261101.parquet`); see `fcr/landing.py`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from airflow.sdk import CronDataIntervalTimetable, Param, PokeReturnValue, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout
from fcr_common import DEFAULT_ARGS, DUCKDB_POOL, PUBLISHED_METRICS, resolve_settings

log = logging.getLogger(__name__)

# The cron should fire at midnight of the config's business time zone: the interval's end is the
# watermark, so it must be the end of the business dates the interval loads.
SCHEDULE = os.environ.get("FCR_SCHEDULE", "0 0 * * *")
TIMEZONE = os.environ.get("FCR_TIMEZONE", "UTC")
START_DATE = datetime.combine(date.fromisoformat(os.environ.get("FCR_START_DATE", "2026-11-01")), time())
CATCHUP = os.environ.get("FCR_CATCHUP", "true").lower() in {"1", "true", "yes"}
FILE_WAIT = timedelta(hours=float(os.environ.get("FCR_FILE_WAIT_HOURS", "6")))
POKE_INTERVAL = timedelta(minutes=10)
SETTINGS = ("landing_dir", "db_path", "config_path")
# the Celery queue of the shard tasks, which need the shard directory but not the database file
SHARD_QUEUE = os.environ.get("FCR_SHARD_QUEUE")


def _path_param(description: str) -> Param:
    return Param(None, type=["null", "string"], description=description)


def _fail_fast(step: Callable[..., Any], *args: Any) -> Any:
    """Call an fcr.tasks step: errors a retry cannot fix fail at once; others are retried."""
    from fcr.run import is_permanent

    try:
        return step(*args)
    except Exception as exc:
        if is_permanent(exc):
            raise AirflowFailException(str(exc)) from exc
        raise


def pipeline_step(name: str, doc: str, trigger_rule: str = "all_success") -> Callable[[Any], Any]:
    """A task in the pool that runs fcr.tasks.<name> on the run's state and passes it on updated."""

    @task(task_id=name, pool=DUCKDB_POOL, doc_md=doc, trigger_rule=trigger_rule)
    def step(run: dict) -> dict:
        from fcr import tasks

        return _fail_fast(getattr(tasks, name), run)

    return step


@dag(
    dag_id="fcr_daily",
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone=TIMEZONE),
    start_date=START_DATE.replace(tzinfo=ZoneInfo(TIMEZONE)),
    catchup=CATCHUP,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "landing_dir": _path_param("Folder the contact files land in (default: Variable fcr_landing_dir)"),
        "db_path": _path_param("DuckDB file to load into and publish to (default: Variable fcr_db_path)"),
        "config_path": _path_param("TOML config file (default: Variable fcr_config_path, else defaults)"),
        "customers": Param(None, type=["null", "string", "array"], description="Customers file(s) to load"),
        "as_of": Param(None, type=["null", "string"], description="Watermark (default: the interval's end)"),
        "full": Param(False, type="boolean", description="Recompute everything; with as_of, set it exactly"),
        "force_as_of": Param(False, type="boolean", description="Accept an as_of far past the data"),
        "serve_dir": _path_param("Folder of the serving copy (default: the config's [serving] dir)"),
    },
    tags=["fcr", "duckdb", "daily"],
    doc_md=__doc__,
)
def fcr_daily():
    @task
    def get_settings(params: dict | None = None) -> dict:
        """Resolve the run's paths, options and config once, so every task uses the same."""
        from fcr import tasks

        params = params or {}
        return _fail_fast(tasks.run_settings, resolve_settings(SETTINGS, params), params)

    @task.sensor(mode="reschedule", poke_interval=POKE_INTERVAL, timeout=FILE_WAIT + POKE_INTERVAL)
    def wait_for_files(
        settings: dict, data_interval_start: datetime | None = None, data_interval_end: datetime | None = None
    ) -> PokeReturnValue:
        """Wait, without holding a worker slot, until every business date of the interval has a file."""
        from fcr import tasks

        files, missing = _fail_fast(tasks.landed_files, settings, data_interval_start, data_interval_end)
        if missing is None:
            return PokeReturnValue(is_done=True, xcom_value=files)
        if datetime.now(UTC) >= data_interval_end + FILE_WAIT:
            raise AirflowSensorTimeout(
                f"{missing}. Gave up {FILE_WAIT} after the interval ended ({data_interval_end}); "
                "land the files and clear this task to run the interval."
            )
        log.info("still waiting: %s", missing)
        return PokeReturnValue(is_done=False)

    @task(pool=DUCKDB_POOL)
    def load(
        settings: dict,
        files: list[str],
        data_interval_start: datetime | None = None,
        data_interval_end: datetime | None = None,
        run_id: str | None = None,
    ) -> dict:
        """Start the run: take the database, load the interval's files and customers, bad rows aside."""
        from fcr import tasks

        owner = f"fcr_daily/{run_id}"
        return _fail_fast(tasks.load, settings, files, data_interval_start, data_interval_end, owner)

    @task
    def shards_to_link(run: dict) -> list[int]:
        """The shards the run's contacts were split into: one link_shard task each."""
        from fcr import tasks

        return tasks.shards_to_link(run)

    @task(
        doc_md="Link one shard's customers into a DuckDB file of its own, beside the database.",
        **({"queue": SHARD_QUEUE} if SHARD_QUEUE else {}),
    )
    def link_shard(run: dict, shard: int) -> dict:
        """Link one shard: it reads and writes the shard directory, never the database (no pool)."""
        from fcr import tasks

        return _fail_fast(tasks.link_shard, run, shard)

    @task(pool=DUCKDB_POOL, outlets=[PUBLISHED_METRICS])
    def publish(run: dict, *, outlet_events=None) -> dict:
        """Swap the outputs into the published schema, record the run, update the asset."""
        from fcr import tasks

        run = _fail_fast(tasks.publish, run)
        outlet_events[PUBLISHED_METRICS].extra = {
            key: run[key] for key in ("run_id", "watermark", "data_interval_start", "data_interval_end")
        }
        return run

    settings = get_settings()
    run = load(settings, wait_for_files(settings))  # the steps of fcr.run.STEPS, in order
    run = pipeline_step("validate_input", "Audit the loaded batch with the input suites.")(run)
    run = pipeline_step("shard", "Split the run's contacts by customer into shards (unsharded: nothing).")(
        run
    )
    linked = link_shard.partial(run=run).expand(shard=shards_to_link(run))
    # with one shard nothing is mapped (the shard tasks are skipped) and the transform links in place
    transform = pipeline_step(
        "transform", "Link contacts into cases, compute metrics to the interval's end.", "none_failed"
    )
    run = transform(run)
    linked >> run
    run = pipeline_step("validate", "Audit the staged outputs; a failed check publishes nothing.")(run)
    run = publish(run)
    run = pipeline_step("serve", "Replace the read-only serving copy (DuckDB and Parquet) for BI tools.")(run)
    pipeline_step("scorecard", "Write the manager scorecard beside the serving copy.")(run)


fcr_daily()

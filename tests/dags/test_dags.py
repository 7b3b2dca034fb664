"""The DAGs as Airflow parses and runs them: structure, one writer, real runs with dag.test()."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from fcr.generate import SampleSpec, generate_sample, write_sample, write_table
from fcr.load.landing import land_by_day
from fcr.publish.export import EXPORTED
from fcr.run import STEPS
from tests.dags.conftest import DAGS_FOLDER
from tests.test_tasks import published_rows

pytestmark = pytest.mark.airflow

POOL = "fcr_duckdb"
# Tasks that never open the DuckDB file; every other task must run in the pool.
NO_DATABASE_TASKS = {"get_settings", "wait_for_files", "shards_to_link", "link_shard"}
DAYS = [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)]
CONFIG = 'business_timezone = "UTC"\n\n[linking]\nrepeat_window = "24h"\n'


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _run_day(dag, day: date):
    """dag.test() for the daily interval of `day` (a manual run covers the interval before its date)."""
    return dag.test(logical_date=_midnight(day + timedelta(days=1)))


def test_dags_import_cleanly_and_say_who_owns_them(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"fcr_daily", "fcr_export"}
    for dag in dagbag.dags.values():
        assert dag.tags and "fcr" in dag.tags, dag.dag_id
        assert dag.doc_md and dag.doc_md.strip(), dag.dag_id
        for task in dag.tasks:
            assert task.owner == "data-engineering", task.task_id
            assert task.retries >= 1 and task.retry_exponential_backoff, task.task_id


def test_every_task_that_opens_the_database_waits_for_the_one_slot_pool(dagbag):
    for dag in dagbag.dags.values():
        assert dag.max_active_runs == 1, dag.dag_id
        for task in dag.tasks:
            if task.task_id not in NO_DATABASE_TASKS:
                assert (task.pool, task.pool_slots) == (POOL, 1), f"{dag.dag_id}.{task.task_id}"
            # the run furthest along takes the pool first, so runs' steps do not interleave
            assert task.weight_rule == "upstream", f"{dag.dag_id}.{task.task_id}"


def test_each_daily_database_task_runs_the_fcr_task_of_its_name(dagbag):
    from fcr import tasks

    for task in dagbag.dags["fcr_daily"].tasks:
        if task.task_id not in NO_DATABASE_TASKS:
            assert callable(getattr(tasks, task.task_id, None)), task.task_id


def test_the_daily_tasks_are_the_steps_of_a_cli_run_in_its_order(dagbag):
    dag, chain = dagbag.dags["fcr_daily"], ["load"]
    while downstream := dag.get_task(chain[-1]).downstream_task_ids - NO_DATABASE_TASKS:
        (following,) = downstream
        chain.append(following)
    assert chain == [step.name for step in STEPS] + ["scorecard"]


def test_the_shard_tasks_are_mapped_between_the_split_and_the_transform_outside_the_pool(dagbag):
    dag = dagbag.dags["fcr_daily"]
    link = dag.get_task("link_shard")
    assert link.upstream_task_ids == {"shard", "shards_to_link"}
    assert link.downstream_task_ids == {"transform"}
    assert link.pool != POOL  # shard tasks run side by side: they never open the database
    # an unsharded run maps no shard task: the transform still runs, after a skipped upstream
    assert dag.get_task("transform").trigger_rule == "none_failed"


def test_the_daily_dag_has_data_intervals_and_catches_up(dagbag):
    from airflow.sdk import CronDataIntervalTimetable

    dag = dagbag.dags["fcr_daily"]
    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.catchup
    assert [t.task_id for t in dag.get_task("publish").upstream_list] == ["validate"]
    assert [a.name for a in dag.get_task("publish").outlets] == ["fcr_published_metrics"]


def test_waiting_for_files_frees_the_worker_slot_and_gives_up(dagbag):
    sensor = dagbag.dags["fcr_daily"].get_task("wait_for_files")
    assert sensor.mode == "reschedule"
    assert sensor.timeout <= timedelta(days=1).total_seconds()


def test_parsing_the_dags_imports_neither_fcr_nor_duckdb():
    script = (
        "import sys; from pathlib import Path\n"
        "from airflow.dag_processing.dagbag import BundleDagBag\n"
        f"bag = BundleDagBag(dag_folder={str(DAGS_FOLDER)!r}, bundle_path=Path({str(DAGS_FOLDER)!r}),"
        " bundle_name='dags-folder')\n"
        "assert len(bag.dags) == 2, bag.import_errors\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'fcr', 'duckdb', 'pandas'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.fixture(scope="module")
def daily(dagbag, tmp_path_factory) -> dict:
    """Three consecutive daily intervals run by dag.test() on generated contacts landed by day."""
    from airflow.models.variable import Variable

    folder = tmp_path_factory.mktemp("fcr_daily")
    end = _midnight(DAYS[-1] + timedelta(days=1))
    spec = SampleSpec(contacts=3000, days=len(DAYS), end=end)
    write_sample(spec, folder / "contacts.csv")
    write_table(generate_sample(spec).customers, folder / "customers.csv")
    landed = land_by_day(folder / "contacts.csv", folder / "landing")
    (folder / "fcr.toml").write_text(CONFIG)
    settings = {
        "landing_dir": folder / "landing",
        "db_path": folder / "fcr.duckdb",
        "config_path": folder / "fcr.toml",
        "export_dir": folder / "export",
    }
    for name, value in settings.items():
        Variable.set(f"fcr_{name}", str(value))
    dag = dagbag.dags["fcr_daily"]
    runs = [_run_day(dag, day) for day in DAYS]
    return {"folder": folder, "files": [landed[day] for day in DAYS], "runs": runs, "dag": dag, **settings}


def _query(db_path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_each_run_covers_its_day_and_succeeds(daily):
    assert [run.state for run in daily["runs"]] == ["success"] * 3
    assert [(run.data_interval_start, run.data_interval_end) for run in daily["runs"]] == [
        (_midnight(day), _midnight(day + timedelta(days=1))) for day in DAYS
    ]
    recorded = _query(
        daily["db_path"],
        "select data_interval_start, as_of, status from published.pipeline_runs order by finished_at",
    )
    assert recorded == [(_midnight(d), _midnight(d + timedelta(days=1)), "published") for d in DAYS]


def test_the_runs_publish_what_one_fcr_run_over_the_same_files_publishes(daily):
    once = daily["folder"] / "once.duckdb"
    contacts = [arg for path in daily["files"] for arg in ("--contacts", str(path))]
    as_of = _midnight(DAYS[-1] + timedelta(days=1)).isoformat()
    command = [sys.executable, "-m", "fcr", "run", *contacts, "--db", str(once)]
    command += ["--config", str(daily["config_path"]), "--as-of", as_of]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert published_rows(daily["db_path"]) == published_rows(once)
    mature, cases = _query(once, "select count(*) filter (where is_mature), count(*) from published.cases")[0]
    assert 0 < mature < cases  # the 24-hour window from the config matured some cases, not all


def test_each_publish_updates_the_asset_and_queues_the_export(daily):
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (
            session.query(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .filter(AssetModel.name == "fcr_published_metrics")
            .order_by(AssetEvent.timestamp)
            .all()
        )
        extras = [event.extra for event in events]
        queued = {row.target_dag_id for row in session.query(AssetDagRunQueue).all()}
    published = _query(
        daily["db_path"], "select run_id from published.pipeline_runs where status = 'published' order by 1"
    )
    assert sorted(extra["run_id"] for extra in extras) == [row[0] for row in published]
    assert "fcr_export" in queued


def test_the_export_dag_writes_the_published_tables_as_parquet(dagbag, daily):
    run = dagbag.dags["fcr_export"].test()
    assert run.state == "success"
    con = duckdb.connect(str(daily["db_path"]), read_only=True)
    for table in EXPORTED:
        path = daily["export_dir"] / f"{table.split('.')[1]}.parquet"
        exported = con.execute("select * from read_parquet($p) order by all", {"p": str(path)}).fetchall()
        assert exported == con.execute(f"select * from {table} order by all").fetchall(), table
    con.close()


def test_rerunning_the_middle_interval_changes_nothing(daily):
    before = published_rows(daily["db_path"])
    contacts_before = _query(daily["db_path"], "select count(*) from raw.contacts")
    run = _run_day(daily["dag"], DAYS[1])
    assert run.state == "success"
    assert published_rows(daily["db_path"]) == before
    assert _query(daily["db_path"], "select count(*) from raw.contacts") == contacts_before
    last = _query(
        daily["db_path"],
        "select data_interval_start, as_of from published.pipeline_runs order by finished_at desc limit 1",
    )
    # the re-run covers its own interval, but the watermark stays at the latest interval's end
    assert last == [(_midnight(DAYS[1]), _midnight(DAYS[-1] + timedelta(days=1)))]


def test_missing_files_fail_the_run_at_once_with_a_clear_message(daily):
    from airflow.sdk.exceptions import AirflowSensorTimeout

    dag, day = daily["dag"], date(2024, 1, 10)
    run = _run_day(dag, day)
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["wait_for_files"] == "failed"
    assert states["load"] == "upstream_failed"

    settings = {k: str(daily[k]) for k in ("landing_dir", "db_path", "config_path")}
    wait = dag.get_task("wait_for_files").python_callable
    start, end = _midnight(day), _midnight(day + timedelta(days=1))
    with pytest.raises(
        AirflowSensorTimeout, match=r"no contact file has landed for business date\(s\) 2024-01-10"
    ):
        wait(settings, start, end)
    now = datetime.now(UTC)
    assert wait(settings, now - timedelta(days=1), now).is_done is False  # not overdue yet: keep waiting


def test_each_run_validates_its_input_and_ends_with_a_serving_copy_and_a_scorecard(daily):
    tasks = {ti.task_id: ti.state for ti in daily["runs"][-1].get_task_instances()}
    for task_id in ("validate_input", "serve", "scorecard"):
        assert tasks[task_id] == "success", tasks
    serving = daily["db_path"].parent / f"{daily['db_path'].stem}_serving"
    published = _query(daily["db_path"], "select count(*) from published.cases")[0][0]
    assert _query(serving / "fcr_published.duckdb", "select count(*) from published.cases")[0][0] == published
    page = (serving / "scorecard.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page  # charts inlined; the browser test opens it


def test_a_run_given_the_cli_options_as_params_does_what_fcr_run_does(daily):
    folder = daily["folder"]
    as_of = _midnight(DAYS[0]) + timedelta(hours=20)
    conf = {
        "db_path": str(folder / "options.duckdb"),
        "customers": str(folder / "customers.csv"),
        "as_of": as_of.isoformat(),
        "full": True,
        "serve_dir": str(folder / "options_served"),
    }
    run = daily["dag"].test(logical_date=_midnight(DAYS[0] + timedelta(days=1)), run_conf=conf)
    assert run.state == "success"
    customers = _query(folder / "options.duckdb", "select count(*) from raw.customers")[0][0]
    assert customers > 0
    ((watermark, steps),) = _query(
        folder / "options.duckdb", "select as_of, step_seconds from published.pipeline_runs"
    )
    assert watermark == as_of
    assert list(json.loads(steps)) == [step.name for step in STEPS]
    segments = _query(
        folder / "options.duckdb", "select count(*) from published.metrics where dimension = 'segment'"
    )
    assert segments[0][0] > 0
    assert (folder / "options_served" / "fcr_published.duckdb").exists()
    assert (folder / "options_served" / "scorecard.html").exists()

    cli = folder / "options_cli.duckdb"
    command = [sys.executable, "-m", "fcr", "run", "--contacts", str(daily["files"][0]), "--db", str(cli)]
    command += ["--config", str(daily["config_path"]), "--customers", str(folder / "customers.csv")]
    command += ["--as-of", as_of.isoformat(), "--full", "--serve-dir", str(folder / "options_cli_served")]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert published_rows(folder / "options.duckdb") == published_rows(cli)
    # the run rows agree too, but for what only a scheduled run has (ids, times, its interval)
    same = (
        "select status, as_of, rows_read, rows_excluded, rows_quarantined, rows_loaded, rows_replaced, "
        "contacts, cases, metrics_rows, validation_result, message, linking_settings "
        "from published.pipeline_runs"
    )
    assert _query(folder / "options.duckdb", same) == _query(cli, same)


def test_a_sharded_run_maps_a_task_per_shard_and_publishes_what_an_unsharded_run_does(daily):
    from fcr.config import load_config
    from fcr.run import run as cli_run

    folder = daily["folder"]
    (folder / "sharded.toml").write_text("shards = 3\n" + CONFIG)
    landing = folder / "sharded_landing"  # its own copy: other tests land more files in the shared one
    for landed in daily["files"]:
        copy = landing / Path(landed).relative_to(daily["landing_dir"])
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(Path(landed).read_bytes())
    conf = {
        "landing_dir": str(landing),
        "db_path": str(folder / "sharded.duckdb"),
        "config_path": str(folder / "sharded.toml"),
        # every run option spelled out, so the runs do not depend on what other tests ran on the shared DAG
        **{"customers": None, "as_of": None, "full": False, "force_as_of": False, "serve_dir": None},
    }
    for day in DAYS[:2]:
        run = daily["dag"].test(logical_date=_midnight(day + timedelta(days=1)), run_conf=conf)
        assert run.state == "success"
        shard_tasks = [ti for ti in run.get_task_instances() if ti.task_id == "link_shard"]
        assert sorted(ti.map_index for ti in shard_tasks) == [0, 1, 2]
        assert {ti.state for ti in shard_tasks} == {"success"}
    unsharded = folder / "unsharded.duckdb"
    end = _midnight(DAYS[1] + timedelta(days=1))
    cli_run([str(f) for f in daily["files"][:2]], unsharded, load_config(folder / "fcr.toml"), as_of=end)
    assert published_rows(folder / "sharded.duckdb") == published_rows(unsharded)
    assert not (folder / "sharded_shards").exists()


def test_an_unsharded_run_skips_the_shard_tasks_and_still_transforms(daily):
    states = {ti.task_id: ti.state for ti in daily["runs"][-1].get_task_instances()}
    assert states["link_shard"] == "skipped"
    assert states["transform"] == states["publish"] == "success"

"""
### FCR export

Runs each time `fcr_daily` publishes (the asset `fcr_published_metrics`): writes every published
table, the `metric_rates` view and `pipeline_runs` to `<export_dir>/<table>.parquet` for BI tools,
each file replaced atomically, so readers never open the DuckDB file the pipeline writes.

`db_path` and `export_dir` come from the trigger params, else the Variables `fcr_db_path` and
`fcr_export_dir`, else the demo files under `demo/`. The export opens the DuckDB file, so it runs
in the pool `fcr_duckdb` with the pipeline's writers.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from fcr_common import DEFAULT_ARGS, DUCKDB_POOL, PUBLISHED_METRICS, resolve_settings

SETTINGS = ("db_path", "export_dir")


@dag(
    dag_id="fcr_export",
    schedule=[PUBLISHED_METRICS],
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={
        "db_path": Param(None, type=["null", "string"], description="DuckDB file (default: fcr_db_path)"),
        "export_dir": Param(None, type=["null", "string"], description="Parquet folder (fcr_export_dir)"),
    },
    tags=["fcr", "duckdb", "export"],
    doc_md=__doc__,
)
def fcr_export():
    @task
    def get_settings(params: dict | None = None) -> dict:
        """Resolve the run's paths."""
        return resolve_settings(SETTINGS, params or {})

    @task(pool=DUCKDB_POOL)
    def export_parquet(settings: dict) -> dict[str, str]:
        """Write the published tables as Parquet files; return table -> file."""
        from fcr import tasks

        return tasks.export(settings["db_path"], settings["export_dir"])

    export_parquet(get_settings())


fcr_export()

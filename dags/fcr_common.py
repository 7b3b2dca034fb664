"""What the FCR DAGs share: the DuckDB pool, the published asset, retries, and where settings come from.

Not a DAG (listed in .airflowignore); imported by fcr_daily.py and fcr_export.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Asset, WeightRule

# Every task that opens the DuckDB file runs in this pool of one slot. Task code cannot create a
# pool in Airflow 3 (no ORM, no pool route in the Task SDK), and a task in a missing pool is never
# queued, so whoever starts Airflow runs POOL_COMMAND first (python -m fcr.airflow_local does).
DUCKDB_POOL = "fcr_duckdb"
DUCKDB_POOL_SLOTS = 1
DUCKDB_POOL_DESCRIPTION = "One task at a time on the FCR DuckDB file"
POOL_COMMAND = ("airflow", "pools", "set", DUCKDB_POOL, str(DUCKDB_POOL_SLOTS), DUCKDB_POOL_DESCRIPTION)
POOL_COMMAND_LINE = f'airflow pools set {DUCKDB_POOL} {DUCKDB_POOL_SLOTS} "{DUCKDB_POOL_DESCRIPTION}"'

# Updated each time a run publishes: published.metrics with cases, case_contacts and metric_rates.
PUBLISHED_METRICS = Asset(name="fcr_published_metrics", uri="duckdb://fcr/published/metrics")

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    # When runs compete for the pool, the run furthest along goes first, so one run's transform,
    # validate and publish follow each other instead of interleaving with another run's steps.
    "weight_rule": WeightRule.UPSTREAM,
}

# Used when neither the run's params nor an Airflow Variable fcr_<name> sets a path.
DEMO_DIR = Path(__file__).resolve().parent.parent / "demo"
DEMO_SETTINGS = {
    "landing_dir": str(DEMO_DIR / "landing"),
    "db_path": str(DEMO_DIR / "airflow" / "fcr.duckdb"),
    "config_path": None,
    "export_dir": str(DEMO_DIR / "airflow" / "export"),
}


def resolve_settings(names: tuple[str, ...], params: Mapping[str, Any]) -> dict[str, str | None]:
    """At run time: each path from the params, else the Variable fcr_<name>, else the demo default."""
    from airflow.sdk import Variable

    from fcr import tasks

    return tasks.resolve_settings(names, params, lambda key: Variable.get(key, default=None), DEMO_SETTINGS)

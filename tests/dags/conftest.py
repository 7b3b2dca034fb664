"""Airflow for the DAG tests: a throwaway AIRFLOW_HOME and SQLite metadata DB, set before airflow loads.

Airflow reads its settings once, when first imported, so the environment is set when pytest
collects this folder; only Airflow reads these variables, so other tests are unaffected.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="fcr-airflow-home-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)

if "airflow" in sys.modules:
    raise RuntimeError("airflow was imported before tests/dags/conftest.py could point it at a test home")
os.environ.update(
    {
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        # the consumer DAG must be active for the asset to queue a run of it
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # intervals in the past, so a missing file is overdue whatever today's date
        "FCR_START_DATE": "2024-01-01",
    }
)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A fresh metadata database for the session."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def dagbag(airflow_db):
    """The DAG folder parsed the way the DAG processor and workers parse it (as a bundle)."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=DAGS_FOLDER, bundle_path=DAGS_FOLDER, bundle_name="dags-folder")

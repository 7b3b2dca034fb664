"""The README's Airflow section matches the DAGs Airflow parses: tasks, their order, pool and outputs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fcr.airflow_local import dag_common
from fcr.publish.serve import default_directory

pytestmark = pytest.mark.airflow

ROOT = Path(__file__).resolve().parents[2]
HEADING = "## Scheduling with Airflow"


def _section() -> str:
    """The README from the Airflow heading to the next top-level section."""
    text = (ROOT / "README.md").read_text()
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    return text[start : end if end > 0 else None]


def _diagram() -> str:
    """The first fenced block under the Airflow heading."""
    match = re.search(r"^```[^\n]*\n(.*?)^```", _section(), re.S | re.M)
    assert match, "no fenced block under " + HEADING
    return match[1]


def _listed(diagram: str, dag_ids: set[str]) -> dict[str, list[str]]:
    """Words of the diagram by DAG: a line starting with a DAG id opens it, later lines continue it."""
    words: dict[str, list[str]] = {dag_id: [] for dag_id in dag_ids}
    current = None
    for line in diagram.splitlines():
        tokens = line.split()
        if tokens and tokens[0] in dag_ids:
            current, tokens = tokens[0], tokens[1:]
        if current:
            words[current] += tokens
    return words


def test_the_readme_diagram_lists_every_task_of_both_dags_in_dependency_order(dagbag):
    dags = {dag_id: dagbag.dags[dag_id] for dag_id in ("fcr_daily", "fcr_export")}
    words = _listed(_diagram(), set(dags))
    for dag_id, dag in dags.items():
        listed = [word for word in words[dag_id] if word in dag.task_ids]
        assert sorted(listed) == sorted(dag.task_ids), f"{dag_id}: each task once, got {listed}"
        for position, task_id in enumerate(listed):
            upstream = dag.get_task(task_id).upstream_task_ids
            assert upstream <= set(listed[:position]), f"{dag_id}: {task_id} is listed before {upstream}"


def test_the_readme_says_where_the_airflow_runs_write_the_serving_copy_and_scorecard():
    db_path = Path(dag_common().DEMO_SETTINGS["db_path"])
    serving = default_directory(db_path).relative_to(ROOT).as_posix()
    section = _section()
    assert f"{serving}/scorecard.html" in section
    assert f"{serving}/fcr_published.duckdb" in section


def test_the_readme_gives_the_exact_command_that_creates_the_pool_the_dags_use(dagbag):
    common = dag_common()
    pools = {task.pool for dag in dagbag.dags.values() for task in dag.tasks} - {"default_pool"}
    assert pools == {common.DUCKDB_POOL} and common.POOL_COMMAND[3] == common.DUCKDB_POOL
    assert common.POOL_COMMAND[4] == "1"
    section = _section()
    assert common.POOL_COMMAND_LINE in section
    assert "never queued" in " ".join(section.split())  # what a missing pool looks like


def test_the_readme_recipe_starts_and_stops_airflow_with_the_supervisor():
    blocks = "\n".join(re.findall(r"^```bash\n(.*?)^```", _section(), re.S | re.M))
    assert "python -m fcr.airflow_local start" in blocks
    assert "python -m fcr.airflow_local stop" in blocks
    assert "airflow standalone" not in blocks

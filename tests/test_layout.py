"""The package's folders follow the data's way, and no stage imports one that runs after it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fcr"
FLOW = ("load", "transform", "validate", "publish", "scorecard")  # the stages, in the order data passes
# below every stage (docs reads fcr/schema.yml, which the serving copies take their keys and comments from)
FOUNDATION = {"config", "db", "tables", "sqlfiles", "lease", "runlog", "prefetch", "docs"}
FRONT_DOORS = {"run", "tasks", "cli", "report", "airflow_local", "generate", "__main__"}


def _imported(path: Path) -> set[str]:
    """The fcr modules one file imports, at any depth, as dotted names below fcr."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "fcr":
            below = node.module.split(".")[1:]
            if below:
                found.add(".".join(below))
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".", 1)[1] for a in node.names if a.name.startswith("fcr."))
    return found


def _stage_files() -> list[tuple[str, Path]]:
    return [(stage, path) for stage in FLOW for path in sorted((PACKAGE / stage).glob("*.py"))]


def test_every_module_has_a_place() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    unplaced = top - FOUNDATION - FRONT_DOORS
    assert not unplaced, f"move these into a stage folder, or name them in the lists above: {unplaced}"
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(FLOW)


@pytest.mark.parametrize(("stage", "path"), _stage_files(), ids=lambda v: getattr(v, "name", v))
def test_a_stage_imports_only_the_foundation_and_earlier_stages(stage: str, path: Path) -> None:
    allowed = set(FLOW[: FLOW.index(stage) + 1])
    for module in _imported(path):
        top = module.split(".")[0]
        assert top in FOUNDATION or top in allowed, f"{path.relative_to(PACKAGE)} imports fcr.{module}"


@pytest.mark.parametrize("name", sorted(FOUNDATION))
def test_the_foundation_imports_no_stage(name: str) -> None:
    for module in _imported(PACKAGE / f"{name}.py"):
        assert module.split(".")[0] in FOUNDATION, f"fcr/{name}.py imports fcr.{module}"

"""`fcr scorecard` and the end of `fcr demo`: one HTML file, its path printed, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fcr.cli import app
from tests.test_scorecard import build_fixture_db

runner = CliRunner()


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_db(tmp_path_factory.mktemp("cli"))


def test_scorecard_command_writes_the_file_it_names(fixture_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "week.html"
    args = ["--db", str(fixture_db), "--out", str(out), "--grain", "week", "--period", "2026-10-07"]
    result = runner.invoke(app, ["scorecard", *args])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"scorecard: {out.resolve()}"
    html = out.read_text()
    assert 'data-grain="week" data-period-start="2026-10-05" data-final="true"' in html


def test_scorecard_defaults_to_a_file_next_to_the_database(fixture_db: Path) -> None:
    result = runner.invoke(app, ["scorecard", "--db", str(fixture_db)])
    assert result.exit_code == 0, result.output
    assert (fixture_db.parent / "scorecard.html").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--grain", "day"], "grain 'day' is not one of week, month"),
        (["--period", "7/10/2026"], "is not a date (YYYY-MM-DD)"),
        (["--period", "2024-01-01"], "no published month contains 2024-01-01"),
    ],
)
def test_scorecard_command_explains_bad_options(fixture_db: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["scorecard", "--db", str(fixture_db), *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())


@pytest.mark.slow
def test_demo_ends_with_the_scorecard(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--contacts", "3000", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    scorecard = tmp_path / "scorecard.html"
    assert result.output.rstrip().endswith(f"scorecard: {scorecard.resolve()}")
    assert "First-contact resolution scorecard" in scorecard.read_text()

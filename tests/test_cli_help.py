"""Every command's --help as a newcomer reads it: flags take no value, help text shown as written."""

from __future__ import annotations

import re
from importlib.metadata import version

import pytest
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.main import get_command
from typer.testing import CliRunner

from fcr.cli import app

runner = CliRunner()
GROUP = get_command(app)
assert isinstance(GROUP, TyperGroup)
COMMANDS = sorted(GROUP.commands)
# One row of the options panel, rendered wide enough never to wrap: name, value placeholder, help.
OPTION_ROW = re.compile(r"^│\s*\*?\s*(?P<name>--[\w-]+)\s+(?P<placeholder><[^>]*>)?\s*(?P<help>.*?)\s*│$")


def option_rows(args: list[str]) -> dict[str, re.Match[str]]:
    """The options panel of `fcr <args> --help`, by option name."""
    result = runner.invoke(app, [*args, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    rows = [OPTION_ROW.match(line) for line in result.output.splitlines()]
    return {row["name"]: row for row in rows if row}


def flags(command: TyperCommand | TyperGroup) -> set[str]:
    """The command's options that take no value, --help among them."""
    return {
        "--help",
        *(opt for p in command.params if isinstance(p, TyperOption) and p.is_flag for opt in p.opts),
    }


@pytest.mark.parametrize("name", ["", *COMMANDS])
def test_option_help_is_shown_as_written_and_flags_have_no_value_placeholder(name: str):
    command = GROUP.commands[name] if name else GROUP
    rows = option_rows([name] if name else [])
    assert flags(command) <= set(rows)
    for option, row in rows.items():
        assert "  " not in row["help"], f"{name} {option}: {row['help']!r}"
        if option in flags(command):
            assert row["placeholder"] is None, f"{name} {option} shows {row['placeholder']}"


def test_demo_help_names_only_its_own_options():
    rows = option_rows(["demo"])
    assert "--db" not in rows
    assert not any("--db" in row["help"] for row in rows.values())


def test_version_prints_the_installed_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output == f"fcr {version('fcr')}\n"

"""Shared fixtures: a tiny given/expect contact-log builder and a run helper on a temp DuckDB file."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, settings

from fcr.config import build_config
from fcr.run import RunResult, run

# `make test` and CI run each property test's full budget; the quick loop passes
# `--hypothesis-profile quick`, which runs one example of each.
settings.register_profile("quick", max_examples=1)


def property_settings(examples: int) -> settings:
    """A property test's settings: `examples` runs of the pipeline, capped by the profile (quick: 1)."""
    return settings(
        max_examples=min(examples, settings.default.max_examples),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


HEADER = (
    "contact_id",
    "customer_id",
    "channel",
    "started_at",
    "ended_at",
    "direction",
    "reason",
    "interaction_id",
    "ticket_id",
    "agent_id",
    "team",
)


def write_contacts(path: Path, rows: list[dict], header: tuple[str, ...] = HEADER) -> Path:
    """Write rows (dicts with any subset of the header) as a CSV file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})
    return path


@pytest.fixture
def run_log(tmp_path: Path) -> Callable[..., tuple[RunResult, duckdb.DuckDBPyConnection]]:
    """Run the pipeline on given rows; return the result and a read-only connection to the DB.

    as_of is taken as given (force_as_of): these tiny logs often set it far past the data on purpose.
    """
    connections: list[duckdb.DuckDBPyConnection] = []

    def _run(rows: list[dict], config: dict | None = None, as_of=None, name="contacts.csv"):
        folder = tmp_path / f"run{len(connections)}"
        path = write_contacts(folder / name, rows)
        db_path = folder / "fcr.duckdb"
        result = run([str(path)], db_path, build_config(config or {}), as_of=as_of, force_as_of=True)
        con = duckdb.connect(str(db_path), read_only=True)
        con.execute("set TimeZone = 'UTC'")
        connections.append(con)
        return result, con

    yield _run
    for con in connections:
        con.close()


def cases_of(con: duckdb.DuckDBPyConnection) -> list[list[str]]:
    """Cases as sorted lists of their contact ids, sorted: easy to compare by eye."""
    rows = con.execute(
        "select list(contact_id order by contact_number) from published.case_contacts "
        "group by case_id order by min(started_at), case_id"
    ).fetchall()
    return [r[0] for r in rows]

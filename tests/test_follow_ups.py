"""published.follow_ups: each repeat contact beside the contact before it in its case, and the CLI view."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fcr.cli import app
from fcr.docs import load_schema
from tests.full_log import given, query, run_log, run_sample

# 2026-03-02 is a Monday; the repeat window is 7 days and forwards are contacts within 10 minutes.
#   A: three contacts, one case: A2 follows ann's "resolved" call, A3 follows bob's unresolved chat
#   B: B2 follows ann's "resolved" call two days later
#   C: one contact, no follow-up
#   D: D2 comes 18 days after D1: a new case, not a follow-up
#   E: E2 is a forward of E1 (within 10 minutes): never a repeat; E3 follows E1
LOG = given("""
contact_id customer_id channel started_at  reason   agent_id team agent_resolved
A1         A           phone   03-02T09:00 billing  ann      t1   yes
A2         A           chat    03-03T10:00 billing  bob      t2   no
A3         A           phone   03-05T09:00 billing  cat      t1   .
B1         B           phone   03-02T11:00 billing  ann      t1   yes
B2         B           email   03-04T11:00 billing  dan      t2   yes
C1         C           chat    03-02T12:00 delivery bob      t2   yes
D1         D           phone   03-02T09:00 billing  ann      t1   yes
D2         D           phone   03-20T09:00 billing  ann      t1   .
E1         E           phone   03-10T09:00 billing  cat      t1   no
E2         E           phone   03-10T09:05 billing  dan      t2   .
E3         E           chat    03-11T09:00 billing  bob      t2   .
""")
AS_OF = datetime(2026, 3, 25, tzinfo=UTC)
CONFIG = {"linking": {"transfer_gap": "10m"}}
ROWS = (
    "select contact_id, contact_number, previous_contact_id, previous_agent_id, previous_team, "
    "previous_agent_resolved, previous_channel, channel, gap_seconds from published.follow_ups order by all"
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made log, run once."""
    directory = tmp_path_factory.mktemp("follow_ups")
    run_log(directory, LOG, config=CONFIG, as_of=AS_OF)
    return directory / "fcr.duckdb"


def test_each_repeat_contact_is_listed_beside_the_contact_before_it(db: Path) -> None:
    rows = [tuple(row.values()) for row in query(db, ROWS)]
    assert rows == [
        ("A2", 2, "A1", "ann", "t1", True, "phone", "chat", 25 * 3600.0),
        ("A3", 3, "A2", "bob", "t2", False, "chat", "phone", 47 * 3600.0),
        ("B2", 2, "B1", "ann", "t1", True, "phone", "email", 48 * 3600.0),
        ("E3", 2, "E1", "cat", "t1", False, "phone", "chat", 24 * 3600.0),
    ]


def _repeats(db: Path) -> tuple[int, int]:
    (row,) = query(
        db,
        "select (select count(*) from published.follow_ups) as follow_ups, "
        "(select count(*) from published.case_contacts where contact_number > 1 and not is_forward) "
        "as repeats",
    )
    return row["follow_ups"], row["repeats"]


def test_follow_ups_are_the_repeat_contacts_of_case_contacts(db: Path, tmp_path: Path) -> None:
    assert _repeats(db) == (4, 4)
    run_sample(tmp_path)
    follow_ups, repeats = _repeats(tmp_path / "fcr.duckdb")
    assert follow_ups == repeats > 100


def test_columns_are_documented(db: Path) -> None:
    columns = query(
        db,
        "select column_name from information_schema.columns "
        "where table_schema = 'published' and table_name = 'follow_ups' order by ordinal_position",
    )
    assert [c["column_name"] for c in columns] == list(load_schema()["published.follow_ups"]["columns"])


def test_the_cli_lists_an_agents_resolved_contacts_that_came_back_and_writes_them_as_csv(
    db: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    csv_path = tmp_path / "ann.csv"
    args = ["follow-ups", "--db", str(db), "--agent", "ann", "--resolved", "--csv", str(csv_path)]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 repeat contact(s) match" in result.output
    assert "phone -> chat" in result.output and "phone -> email" in result.output
    assert "wrote 2 follow-up(s)" in result.output
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("business_date,case_id,contact_number,previous_agent_id")
    assert sorted(line.split(",")[12] for line in lines[1:]) == ["A2", "B2"]

    since = runner.invoke(
        app, ["follow-ups", "--db", str(db), "--since", "2026-03-05"], env={"COLUMNS": "200"}
    )
    assert since.exit_code == 0, since.output
    assert "2 repeat contact(s) match" in since.output  # A3 on the 5th, E3 on the 11th
    bad = runner.invoke(app, ["follow-ups", "--db", str(db), "--since", "March"])
    assert bad.exit_code != 0 and "--since 'March' is not a date" in bad.output

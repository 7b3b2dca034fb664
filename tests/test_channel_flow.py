"""published.channel_flow: where customers hop between channels inside a case (SPEC section 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fcr.docs import load_schema
from tests.full_log import given, query, run_log, run_sample

# Four customers, each with one case (2026-03-02 is a Monday):
#   A: bot -> phone -> email (the email two days later still belongs to the case's day, 03-02)
#   B: phone -> phone the next day
#   C: one chat (no hop)
#   D: bot -> phone on 03-03
#   E: phone -> chat near the end of the log: not mature at the watermark, so not counted
LOG = given("""
contact_id customer_id channel started_at
A1         A           bot     03-02T09:00
A2         A           phone   03-02T10:00
A3         A           email   03-04T09:00
B1         B           phone   03-02T11:00
B2         B           phone   03-03T11:00
C1         C           chat    03-02T12:00
D1         D           bot     03-03T09:00
D2         D           phone   03-03T09:30
E1         E           phone   03-18T09:00
E2         E           chat    03-19T09:00
""")
AS_OF = datetime(2026, 3, 20, tzinfo=UTC)
FLOWS = (
    "select grain, period_start::varchar as period, flow_kind, from_channel, to_channel, transitions "
    "from published.channel_flow where grain = $grain order by all"
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made log, run once."""
    directory = tmp_path_factory.mktemp("flow")
    run_log(directory, LOG, as_of=AS_OF)
    return directory / "fcr.duckdb"


def flows(db: Path, grain: str) -> list[tuple]:
    """(period, flow_kind, from, to, transitions) of one grain, sorted."""
    rows = query(db, FLOWS, {"grain": grain})
    return [(r["period"], r["flow_kind"], r["from_channel"], r["to_channel"], r["transitions"]) for r in rows]


def test_daily_hops_belong_to_the_cases_day(db: Path) -> None:
    assert flows(db, "day") == [
        ("2026-03-02", "consecutive", "bot", "phone", 1),
        ("2026-03-02", "consecutive", "phone", "email", 1),
        ("2026-03-02", "consecutive", "phone", "phone", 1),
        ("2026-03-02", "first_last", "bot", "email", 1),
        ("2026-03-02", "first_last", "phone", "phone", 1),
        ("2026-03-03", "consecutive", "bot", "phone", 1),
        ("2026-03-03", "first_last", "bot", "phone", 1),
    ]


def test_weeks_add_up_their_days(db: Path) -> None:
    assert flows(db, "week") == [
        ("2026-03-02", "consecutive", "bot", "phone", 2),
        ("2026-03-02", "consecutive", "phone", "email", 1),
        ("2026-03-02", "consecutive", "phone", "phone", 1),
        ("2026-03-02", "first_last", "bot", "email", 1),
        ("2026-03-02", "first_last", "bot", "phone", 1),
        ("2026-03-02", "first_last", "phone", "phone", 1),
    ]


def test_consecutive_hops_are_the_repeat_contacts(db: Path) -> None:
    [metrics] = query(
        db,
        "select repeat_contacts, mature_cases - cases_1 as multi_contact_cases from published.metrics "
        "where grain = 'month' and dimension = 'all'",
    )
    totals = {
        r["flow_kind"]: r["n"]
        for r in query(
            db,
            "select flow_kind, sum(transitions) as n from published.channel_flow "
            "where grain = 'month' group by flow_kind",
        )
    }
    assert metrics == {"repeat_contacts": 4, "multi_contact_cases": 3}  # A: 2, B: 1, D: 1; cases A, B, D
    assert totals == {"consecutive": 4, "first_last": 3}


def test_only_mature_cases_flow_and_periods_carry_is_final(tmp_path: Path) -> None:
    # at 03-10 10:00, A (last contact 03-04 09:00) and B (03-03 11:00) can still grow; D (03-03 09:30) cannot.
    # D's flow is counted; its day is still provisional: B's repeat on 03-03 can still be followed
    run_log(tmp_path, LOG, as_of=datetime(2026, 3, 10, 10, tzinfo=UTC))
    rows = query(
        tmp_path / "fcr.duckdb",
        "select grain, period_start::varchar as period, flow_kind, from_channel, to_channel, is_final, "
        "transitions from published.channel_flow where flow_kind = 'consecutive' order by grain",
    )
    assert [tuple(r.values()) for r in rows] == [
        ("day", "2026-03-03", "consecutive", "bot", "phone", False, 1),
        ("month", "2026-03-01", "consecutive", "bot", "phone", False, 1),
        ("week", "2026-03-02", "consecutive", "bot", "phone", False, 1),
    ]


def test_columns_are_documented(db: Path) -> None:
    columns = query(
        db,
        "select column_name from information_schema.columns "
        "where table_schema = 'published' and table_name = 'channel_flow' order by ordinal_position",
    )
    assert [c["column_name"] for c in columns] == list(load_schema()["published.channel_flow"]["columns"])


def test_generated_flows_sum_to_the_contacts_that_follow_another(tmp_path: Path) -> None:
    run_sample(tmp_path)
    mismatched = query(
        tmp_path / "fcr.duckdb",
        """
        with flow as (
            select grain, period_start,
                sum(transitions) filter (where flow_kind = 'consecutive') as consecutive,
                sum(transitions) filter (where flow_kind = 'first_last') as first_last
            from published.channel_flow group by all
        )
        select * from published.metrics m
        left join flow using (grain, period_start)
        where m.dimension = 'all'
            and (coalesce(flow.consecutive, 0) <> m.repeat_contacts
                or coalesce(flow.first_last, 0) <> m.mature_cases - m.cases_1)
        """,
    )
    assert mismatched == []
    [hops] = query(
        tmp_path / "fcr.duckdb", "select count(*) as n from published.channel_flow where grain = 'day'"
    )
    assert hops["n"] > 100

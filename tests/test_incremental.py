"""Incremental runs equal a full recompute; settings changes rebuild; late and repeated files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fcr.config import build_config
from fcr.run import run
from tests.conftest import property_settings, write_contacts

START = datetime(2026, 1, 1, tzinfo=UTC)
PUBLISHED = {
    "published.cases": "*",
    "published.case_contacts": "*",
    "published.metrics": "*",
    "published.fcr_sensitivity": "*",
    "published.channel_flow": "*",
    "published.reason_priority": "*",
    "published.follow_ups": "*",
}


def snapshot(db_path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {
            t: con.execute(f"select {cols} from {t} order by all").fetchall() for t, cols in PUBLISHED.items()
        }
    finally:
        con.close()


@st.composite
def batches(draw) -> list[list[dict]]:
    """Daily files: mostly that day's contacts, sometimes late ones, re-deliveries and repeated files."""
    days = draw(st.integers(min_value=2, max_value=5))
    files: list[list[dict]] = []
    next_id = 0
    for day in range(days):
        rows = []
        for _ in range(draw(st.integers(min_value=0, max_value=6))):
            late = draw(st.sampled_from([0, 0, 0, 0, 9, 20]))  # some contacts arrive weeks late
            offset = (day * 3 - late) * 86400 + draw(st.sampled_from([0, 1, 3600, 7 * 86400]))
            rows.append(
                {
                    "contact_id": f"c{next_id:03d}",
                    "customer_id": draw(st.sampled_from(["", "K1", "K2", "K3"])),
                    "channel": draw(st.sampled_from(["phone", "chat", "bot"])),
                    "started_at": (START + timedelta(days=30, seconds=offset)).isoformat(),
                    "reason": draw(st.sampled_from(["billing", "delivery"])),
                    "interaction_id": draw(st.sampled_from(["", "", "", "I1"])),
                    "ticket_id": draw(st.sampled_from(["", "", "T1", "T2"])),
                }
            )
            next_id += 1
        if files and draw(st.booleans()):
            # re-deliver an earlier contact with a changed reason (a correction)
            earlier = draw(st.sampled_from([r for f in files for r in f] or [None]))
            if earlier is not None:
                rows.append({**earlier, "reason": "refund"})
        files.append(rows)
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            files.append(list(rows))  # the same file delivered twice
    return [f for f in files if f]


def final_rows(db_path: Path) -> dict[tuple, tuple]:
    """published.metrics rows of final periods, by their key."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute("select * from published.metrics where is_final").fetchall()
        names = [d[0] for d in con.description]
    finally:
        con.close()
    key = [names.index(k) for k in ("grain", "period_start", "dimension", "dimension_value")]
    return {tuple(row[i] for i in key): row for row in rows}


@pytest.mark.slow
@property_settings(10)
@given(
    files=batches(), link_by=st.sampled_from(["window", "ticket"]), transfer_gap=st.sampled_from([None, "2h"])
)
def test_incremental_runs_equal_one_full_run(tmp_path_factory, files, link_by, transfer_gap):
    assume(files)
    folder = tmp_path_factory.mktemp("inc")
    linking = {"link_by": link_by, **({"transfer_gap": transfer_gap} if transfer_gap else {})}
    config = build_config({"sensitivity": {"windows": ["24h", "7d"]}, "linking": linking})
    paths = [str(write_contacts(folder / f"day{i:02d}.csv", rows)) for i, rows in enumerate(files)]
    finals: dict[tuple, tuple] = {}
    watermark = ""
    for path, rows in zip(paths, files, strict=True):
        run([path], folder / "incremental.duckdb", config)
        now = final_rows(folder / "incremental.duckdb")
        # a period marked final never moves, unless a contact dated before the last watermark arrives
        # (late, or a correction): that can reopen any period, and the promise starts again from there
        if all(row["started_at"] > watermark for row in rows):
            assert {k: now.get(k) for k in finals} == finals
        finals = now
        watermark = max([watermark, *(row["started_at"] for row in rows)])
    run(paths, folder / "full.duckdb", config)
    assert snapshot(folder / "incremental.duckdb") == snapshot(folder / "full.duckdb")


def _row(contact_id: str, started_at: str, customer: str = "K1", reason: str = "billing") -> dict:
    return {
        "contact_id": contact_id,
        "customer_id": customer,
        "channel": "phone",
        "started_at": started_at,
        "reason": reason,
    }


def test_a_daily_run_recomputes_only_what_it_touches(tmp_path: Path):
    history = [_row(f"h{i}", f"2026-01-{1 + i % 28:02d} 09:00:00", customer=f"K{i}") for i in range(60)]
    day = [_row("new", "2026-01-29 10:00:00", customer="K5")]
    db = tmp_path / "db.duckdb"
    first = run([str(write_contacts(tmp_path / "history.csv", history))], db, build_config({}))
    second = run([str(write_contacts(tmp_path / "day.csv", day))], db, build_config({}))
    assert first.counts["full"] == 1 and second.counts["full"] == 0
    assert second.counts["metrics_recomputed"] < first.counts["metrics_recomputed"]
    con = duckdb.connect(str(db), read_only=True)
    scope = con.execute("select customer_id from staging.scope_customers").fetchall()
    con.close()
    assert scope == [("K5",)]


def test_a_returning_customer_does_not_reopen_the_periods_of_cases_that_did_not_change(tmp_path: Path):
    history = [
        _row("old", "2026-01-05 09:00:00"),  # K1's January case: far outside the 7-day window
        _row("recent", "2026-06-01 09:00:00"),
        _row("other", "2026-06-01 10:00:00", customer="K2"),
    ]
    db = tmp_path / "db.duckdb"
    run([str(write_contacts(tmp_path / "history.csv", history))], db, build_config({}))
    day = write_contacts(tmp_path / "day.csv", [_row("new", "2026-06-02 09:00:00")])
    run([str(day)], db, build_config({}))
    con = duckdb.connect(str(db), read_only=True)
    earliest = con.execute("select min(period_start)::varchar from staging.affected_periods").fetchall()
    con.close()
    # the watermark's move (May 31 to June 2) and K1's new case; its January case is untouched
    assert earliest == [("2026-05-01",)]


def _day_is_final(db: Path, day: str) -> bool:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "select is_final from published.metrics where grain = 'day' and period_start = $day "
            "and dimension = 'all'",
            {"day": day},
        ).fetchone()[0]
    finally:
        con.close()


def test_provisional_periods_become_final_as_the_watermark_passes(tmp_path: Path):
    db = tmp_path / "db.duckdb"
    config = build_config({})
    run([str(write_contacts(tmp_path / "a.csv", [_row("a", "2026-01-01 09:00:00")]))], db, config)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("select bool_or(is_final) from published.metrics").fetchone()[0] is False
    con.close()
    later = [_row("b", "2026-01-20 09:00:00", customer="K2")]
    run([str(write_contacts(tmp_path / "b.csv", later))], db, config)
    assert _day_is_final(db, "2026-01-01") is True


def test_a_day_holding_only_a_repeat_stays_provisional_until_that_repeats_case_is_mature(tmp_path: Path):
    # K1's case starts on the 1st; its repeat on the 5th starts no case, so "every case started on the
    # 5th is mature" holds at once, yet a contact on the 8th can still follow the 5th's repeat
    db, config = tmp_path / "db.duckdb", build_config({})
    first = [
        _row("a", "2026-01-01 09:00:00"),
        _row("b", "2026-01-05 09:00:00"),
        _row("x", "2026-01-07 09:00:00", "K9"),
    ]
    run([str(write_contacts(tmp_path / "a.csv", first))], db, config)
    assert _day_is_final(db, "2026-01-05") is False  # b's case is open until the 12th
    run([str(write_contacts(tmp_path / "b.csv", [_row("c", "2026-01-08 09:00:00")]))], db, config)
    con = duckdb.connect(str(db), read_only=True)
    followed = con.execute(
        "select contacts_followed_by_repeat from published.metrics where grain = 'day' "
        "and period_start = '2026-01-05' and dimension = 'all'"
    ).fetchone()[0]
    con.close()
    assert followed == 1  # it moved, so it must not have been final
    run([str(write_contacts(tmp_path / "c.csv", [_row("z", "2026-01-16 09:00:00", "K8")]))], db, config)
    assert _day_is_final(db, "2026-01-05") is True  # the case matured on the 15th
    full = tmp_path / "full.duckdb"
    run([str(tmp_path / name) for name in ("a.csv", "b.csv", "c.csv")], full, config)
    assert snapshot(db) == snapshot(full)


@pytest.mark.slow
def test_changing_a_linking_setting_rebuilds_everything(tmp_path: Path):
    db = tmp_path / "db.duckdb"
    rows = [_row("a", "2026-01-01 09:00:00"), _row("b", "2026-01-03 09:00:00")]
    path = str(write_contacts(tmp_path / "a.csv", rows))
    run([path], db, build_config({}))
    result = run([], db, build_config({"linking": {"repeat_window": "24h"}}))
    assert result.counts["full"] == 1
    assert snapshot(db) == snapshot(_fresh(tmp_path, path, {"linking": {"repeat_window": "24h"}}))


def _fresh(tmp_path: Path, path: str, config: dict) -> Path:
    db = tmp_path / "fresh.duckdb"
    run([path], db, build_config(config))
    return db


def test_a_database_an_earlier_release_built_is_rebuilt_once_then_runs_incrementally(tmp_path: Path):
    db = tmp_path / "db.duckdb"
    run([str(write_contacts(tmp_path / "a.csv", [_row("a1", "2026-01-02 09:00:00")]))], db, build_config({}))
    con = duckdb.connect(str(db))
    con.execute(  # what a release before the state kept sensitivity cases' reason and team recorded
        "update published.pipeline_runs "
        "set linking_settings = json_remove(linking_settings, '$.state_version')"
    )
    con.close()
    notes = []
    second = run(
        [str(write_contacts(tmp_path / "b.csv", [_row("b1", "2026-01-03 09:00:00", customer="K2")]))],
        db,
        build_config({}),
        progress=notes.append,
    )
    assert second.counts["full"] == 1
    assert any("built by an earlier release" in note for note in notes)
    third = run(
        [str(write_contacts(tmp_path / "c.csv", [_row("c1", "2026-01-04 09:00:00")]))], db, build_config({})
    )
    assert third.counts["full"] == 0

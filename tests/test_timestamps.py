"""Local times a clock change skips or repeats: detected, resolved as configured, counted, quarantined."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from fcr import db
from fcr.config import ConfigError, build_config, load_config
from fcr.report import print_summary

LONDON = {"source_timezone": "Europe/London", "business_timezone": "Europe/London"}
GOOD = {"customer_id": "K1", "channel": "phone"}
SPRING_GAP = "2026-03-29 01:30:00"  # London: the clocks go from 01:00 GMT to 02:00 BST
AUTUMN_OVERLAP = "2026-10-25 01:30:00"  # London: 01:00-02:00 happens in BST, then again in GMT


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def contacts(rows: list[dict], config: dict | None, run_log) -> tuple[object, dict, dict]:
    """Run the rows in London time; return the result, started_at by contact and the run's log row."""
    result, con = run_log(rows, {**LONDON, **(config or {})})
    started = dict(con.execute("select contact_id, started_at from raw.contacts").fetchall())
    columns = ("rows_read", "rows_quarantined", "local_times_shifted", "local_times_ambiguous")
    row = con.execute(f"select {', '.join(columns)} from published.pipeline_runs").fetchone()
    logged = dict(zip(columns, row, strict=True))
    return result, started, logged


@pytest.fixture
def con(tmp_path: Path):
    connection = db.connect(tmp_path / "macros.duckdb")
    yield connection
    connection.close()


@pytest.mark.parametrize(
    ("zone", "local", "kind"),
    [
        ("Europe/London", "2026-03-29 00:59:59", None),
        ("Europe/London", "2026-03-29 01:00:00", "nonexistent"),
        ("Europe/London", "2026-03-29 01:59:59", "nonexistent"),
        ("Europe/London", "2026-03-29 02:00:00", None),
        ("Europe/London", "2026-10-25 00:59:59", None),
        ("Europe/London", "2026-10-25 01:00:00", "ambiguous"),
        ("Europe/London", "2026-10-25 01:59:59", "ambiguous"),
        ("Europe/London", "2026-10-25 02:00:00", None),
        ("Europe/London", "2026-07-01 01:30:00", None),
        ("America/New_York", "2026-03-08 02:30:00", "nonexistent"),
        ("America/New_York", "2026-11-01 01:30:00", "ambiguous"),
        ("Australia/Lord_Howe", "2026-04-05 01:45:00", "ambiguous"),  # a half-hour change
        ("UTC", "2026-03-29 01:30:00", None),
    ],
)
def test_local_time_kind_names_skipped_and_repeated_times(con, zone, local, kind):
    got = con.execute("select local_time_kind($t::timestamp, $zone)", {"t": local, "zone": zone}).fetchone()
    assert got == (kind,)


@pytest.mark.parametrize(
    ("zone", "local", "earlier", "later"),
    [
        ("Europe/London", AUTUMN_OVERLAP, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        ("America/New_York", "2026-11-01 01:30:00", utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
        ("Australia/Lord_Howe", "2026-04-05 01:45:00", utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)),
    ],
)
def test_an_ambiguous_time_has_two_readings_and_timezone_gives_the_later(con, zone, local, earlier, later):
    row = con.execute(
        "select local_instant($t::timestamp, $zone, 'earliest'), "
        "local_instant($t::timestamp, $zone, 'latest'), timezone($zone, $t::timestamp)",
        {"t": local, "zone": zone},
    ).fetchone()
    assert row == (earlier, later, later)


def test_parse_timestamp_keeps_reading_gaps_forward_and_overlaps_late(con):
    got = con.execute(
        "select parse_timestamp($gap, $zone, ['%Y-%m-%d %H:%M:%S']), "
        "parse_timestamp($overlap, $zone, ['%Y-%m-%d %H:%M:%S'])",
        {"gap": SPRING_GAP, "overlap": AUTUMN_OVERLAP, "zone": "Europe/London"},
    ).fetchone()
    assert got == (utc(2026, 3, 29, 1, 30), utc(2026, 10, 25, 1, 30))  # 02:30 BST; 01:30 GMT


def test_by_default_a_skipped_time_is_shifted_forward_and_counted(run_log):
    rows = [
        {**GOOD, "contact_id": "gap", "started_at": SPRING_GAP},
        {**GOOD, "contact_id": "before", "started_at": "2026-03-29 00:30:00"},
        {**GOOD, "contact_id": "after", "started_at": "2026-03-29 02:30:00"},
    ]
    result, started, logged = contacts(rows, None, run_log)
    assert started == {
        "gap": utc(2026, 3, 29, 1, 30),  # read as 02:30 BST, the hour the clocks skipped added
        "before": utc(2026, 3, 29, 0, 30),
        "after": utc(2026, 3, 29, 1, 30),
    }
    assert (result.load.local_times_shifted, result.load.local_times_ambiguous) == (1, 0)
    assert logged == {
        "rows_read": 3,
        "rows_quarantined": 0,
        "local_times_shifted": 1,
        "local_times_ambiguous": 0,
    }


def test_by_default_a_repeated_time_is_read_as_the_later_instant_and_counted(run_log):
    rows = [
        {**GOOD, "contact_id": "overlap", "started_at": AUTUMN_OVERLAP, "ended_at": "2026-10-25 01:45:00"},
        {**GOOD, "contact_id": "plain", "started_at": "2026-10-25 03:00:00"},
    ]
    result, started, logged = contacts(rows, None, run_log)
    assert started == {"overlap": utc(2026, 10, 25, 1, 30), "plain": utc(2026, 10, 25, 3, 0)}  # GMT
    assert (result.load.local_times_shifted, result.load.local_times_ambiguous) == (0, 2)  # start and end
    assert logged["local_times_ambiguous"] == 2


def test_ambiguous_earliest_reads_a_repeated_time_at_the_summer_offset(run_log):
    rows = [{**GOOD, "contact_id": "overlap", "started_at": AUTUMN_OVERLAP}]
    result, started, _ = contacts(rows, {"ambiguous": "earliest"}, run_log)
    assert started == {"overlap": utc(2026, 10, 25, 0, 30)}  # 01:30 BST
    assert result.load.local_times_ambiguous == 1


@pytest.mark.parametrize(
    ("config", "column", "value", "rule"),
    [
        ({"nonexistent": "quarantine"}, "started_at", SPRING_GAP, "nonexistent_local_time"),
        ({"nonexistent": "quarantine"}, "ended_at", "2026-03-29 01:10:00", "nonexistent_local_time"),
        ({"ambiguous": "quarantine"}, "started_at", AUTUMN_OVERLAP, "ambiguous_local_time"),
        ({"ambiguous": "quarantine"}, "ended_at", "2026-10-25 01:10:00", "ambiguous_local_time"),
    ],
)
def test_a_skipped_or_repeated_time_is_quarantined_when_configured(run_log, config, column, value, rule):
    start = "2026-03-29 00:50:00" if rule == "nonexistent_local_time" else "2026-10-25 00:50:00"
    bad = {**GOOD, "contact_id": "bad", "started_at": start, column: value}
    rows = [bad, {**GOOD, "contact_id": "good", "started_at": "2026-06-01 09:00:00"}]
    result, started, logged = contacts(rows, {**config, "max_quarantine_share": 1.0}, run_log)
    assert result.load.quarantine_by_rule == {rule: 1}
    assert list(started) == ["good"]
    assert (logged["local_times_shifted"], logged["local_times_ambiguous"]) == (0, 0)


def test_the_quarantine_detail_names_the_value_and_the_zone(run_log):
    rows = [
        {**GOOD, "contact_id": "gap", "started_at": SPRING_GAP},
        {**GOOD, "contact_id": "good", "started_at": "2026-06-01 09:00:00"},
    ]
    _, con = run_log(rows, {**LONDON, "nonexistent": "quarantine", "max_quarantine_share": 1.0})
    rule, detail = con.execute("select rule, detail from raw.quarantine").fetchone()
    assert rule == "nonexistent_local_time"
    assert detail == f"started_at = {SPRING_GAP} (skipped when the clocks went forward in Europe/London)"


def test_a_value_with_its_own_offset_is_never_skipped_or_repeated(run_log):
    rows = [
        {**GOOD, "contact_id": "z", "started_at": "2026-03-29T01:30:00Z"},
        {**GOOD, "contact_id": "bst", "started_at": "2026-10-25T01:30:00+01:00"},
    ]
    strict = {"nonexistent": "quarantine", "ambiguous": "quarantine"}
    result, started, logged = contacts(rows, strict, run_log)
    assert started == {"z": utc(2026, 3, 29, 1, 30), "bst": utc(2026, 10, 25, 0, 30)}
    assert result.load.quarantine_by_rule == {}
    assert (logged["local_times_shifted"], logged["local_times_ambiguous"]) == (0, 0)


def test_the_rules_default_to_todays_reading_and_reject_other_values():
    config = load_config(None)
    assert (config.nonexistent, config.ambiguous) == ("shift_forward", "latest")
    with pytest.raises(ConfigError, match="nonexistent"):
        build_config({"nonexistent": "shift_backward"})
    with pytest.raises(ConfigError, match="ambiguous"):
        build_config({"ambiguous": "standard"})


def test_the_summary_shows_shifted_and_ambiguous_local_times(run_log):
    rows = [
        {**GOOD, "contact_id": "gap", "started_at": SPRING_GAP},
        {**GOOD, "contact_id": "overlap", "started_at": AUTUMN_OVERLAP},
    ]
    result, _ = run_log(rows, LONDON, as_of=utc(2026, 11, 30))
    console = Console(record=True, width=200)
    print_summary(result, console)
    text = console.export_text()
    assert "local times skipped by a clock change and shifted forward 1;" in text
    assert "repeated by a clock change and resolved 1" in text


def test_the_summary_says_nothing_of_local_times_when_there_are_none(run_log):
    result, _ = run_log([{**GOOD, "contact_id": "a", "started_at": "2026-06-01 09:00:00"}], LONDON)
    console = Console(record=True, width=200)
    print_summary(result, console)
    assert "clock change" not in console.export_text()

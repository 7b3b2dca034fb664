"""The landing convention: which files an interval loads, and splitting an export into daily files."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path, PurePath

import pytest

from fcr.config import build_config
from fcr.load.landing import file_date, find_files, interval_dates, land_by_day
from tests.conftest import write_contacts

NOV_1 = date(2026, 11, 1)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("2026-11-01/export.csv", NOV_1),
        ("business_date=2026-11-01/part-0.parquet", NOV_1),
        ("contacts_20261101.csv", NOV_1),
        ("zendesk/2026-11-01/tickets_2026-10-31.jsonl", NOV_1),  # the first date in the path wins
        ("2026-13-01/x.csv", None),  # not a date
        ("export_202611011.csv", None),  # nine digits: not a date
        ("contacts.csv", None),
    ],
)
def test_a_file_belongs_to_the_first_date_in_its_path(path: str, expected: date | None):
    assert file_date(PurePath(path)) == expected


def test_a_daily_interval_covers_the_business_date_it_spans():
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    assert interval_dates(start, end, "UTC") == [NOV_1]


def test_an_interval_covers_the_business_dates_that_end_within_it():
    # A UTC midnight-to-midnight interval in July: London's 1 July ends at 23:00 UTC on 1 July,
    # inside it; Los Angeles' 1 July ends at 07:00 UTC on 2 July, after it, so 30 June is covered.
    start, end = datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 2, tzinfo=UTC)
    assert interval_dates(start, end, "Europe/London") == [date(2026, 7, 1)]
    assert interval_dates(start, end, "America/Los_Angeles") == [date(2026, 6, 30)]


def test_a_weekly_interval_covers_seven_dates_and_an_hour_none():
    monday = datetime(2026, 11, 2, tzinfo=UTC)
    week = interval_dates(monday, datetime(2026, 11, 9, tzinfo=UTC), "UTC")
    assert week == [date(2026, 11, day) for day in range(2, 9)]
    assert interval_dates(monday, datetime(2026, 11, 2, 1, tzinfo=UTC), "UTC") == []


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("contact_id\n")


def test_find_files_picks_the_dates_files_and_ignores_in_flight_ones(tmp_path: Path):
    _touch(
        tmp_path,
        "2026-11-01/b.csv",
        "2026-11-01/a.csv",
        "contacts_20261102.parquet",
        "2026-11-01/_SUCCESS",
        "2026-11-01/.a.csv.part",
        "_incoming/2026-11-02.csv",
        "2026-11-03/c.csv",
    )
    found = find_files(tmp_path, [NOV_1, date(2026, 11, 2)])
    assert found.paths == [
        str(tmp_path / "2026-11-01/a.csv"),
        str(tmp_path / "2026-11-01/b.csv"),
        str(tmp_path / "contacts_20261102.parquet"),
    ]
    assert found.missing == []


def test_missing_dates_are_named_with_where_they_were_looked_for(tmp_path: Path):
    _touch(tmp_path, "2026-11-01/a.csv")
    found = find_files(tmp_path, [NOV_1, date(2026, 11, 2)])
    assert found.missing == [date(2026, 11, 2)]
    assert "business date(s) 2026-11-02 under" in found.describe_missing()
    assert str(tmp_path) in found.describe_missing()
    assert find_files(tmp_path / "nowhere", [NOV_1]).missing == [NOV_1]


def _rows(path: Path) -> list[str]:
    with path.open() as handle:
        return [row["contact_id"] for row in csv.DictReader(handle)]


def test_land_by_day_splits_an_export_by_business_date(tmp_path: Path):
    source = write_contacts(
        tmp_path / "export.csv",
        [
            {"contact_id": "a", "started_at": "2026-11-01 09:00:00", "channel": "phone"},
            {"contact_id": "b", "started_at": "2026-11-02 22:30:00", "channel": "phone"},
            {"contact_id": "bad", "started_at": "not a date", "channel": "phone"},
            {"contact_id": "c", "started_at": "2026-11-01 23:59:59", "channel": "phone"},
        ],
    )
    written = land_by_day(source, tmp_path / "landing")
    assert written == {
        NOV_1: tmp_path / "landing/2026-11-01/export.csv",
        date(2026, 11, 2): tmp_path / "landing/2026-11-02/export.csv",
    }
    assert _rows(written[NOV_1]) == ["a", "bad", "c"]  # an unparseable start goes with the earliest date
    assert _rows(written[date(2026, 11, 2)]) == ["b"]


def test_land_by_day_uses_the_configured_time_zones(tmp_path: Path):
    row = {"contact_id": "a", "started_at": "2026-11-02 01:30:00", "channel": "phone"}
    source = write_contacts(tmp_path / "export.csv", [row])
    config = build_config({"source_timezone": "UTC", "business_timezone": "America/New_York"})
    written = land_by_day(source, tmp_path / "landing", config)
    assert list(written) == [NOV_1]  # 01:30 UTC is still 1 November in New York


def test_land_by_day_needs_the_start_in_one_column(tmp_path: Path):
    source = write_contacts(
        tmp_path / "export.csv", [{"contact_id": "a", "started_at": "2026-11-01 09:00:00"}]
    )
    config = build_config({"columns": {"started_at": {"join": ["day", "time"]}}})
    with pytest.raises(ValueError, match="started_at read from one column"):
        land_by_day(source, tmp_path / "landing", config)

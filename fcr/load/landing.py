"""Find the contact files landed for a scheduled interval, by the business date in their path.

Convention: a file belongs to the first date (YYYY-MM-DD or YYYYMMDD) in its path below the
landing folder, so `landing/2026-11-01/export.csv`, `landing/business_date=2026-11-01/part-0.parquet`
and `landing/contacts_20261101.csv` all hold contacts of business date 2026-11-01. Names starting
with `.` or `_` (in-flight uploads, `_SUCCESS` markers) are ignored, so a producer can write
`_export.csv` and rename it when complete. An interval covers the business dates (in the config's
business time zone) whose day ends within it: the daily interval [2026-11-01, 2026-11-02) in that
zone covers 2026-11-01.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path, PurePath
from zoneinfo import ZoneInfo

from fcr import db
from fcr.config import Config, load_config

_DATE = re.compile(r"(?<!\d)(\d{4})(-?)(\d{2})\2(\d{2})(?!\d)")


def file_date(relative: PurePath) -> date | None:
    """The business date a landed file is for: the first valid date in its path, if any."""
    for part in relative.parts:
        for match in _DATE.finditer(part):
            try:
                return date(int(match[1]), int(match[3]), int(match[4]))
            except ValueError:
                continue
    return None


def interval_dates(start: datetime, end: datetime, timezone: str) -> list[date]:
    """Business dates whose day ends within (start, end]: complete by the interval's end."""
    zone = ZoneInfo(timezone)
    day = start.astimezone(zone).date() - timedelta(days=1)
    dates = []
    while (day_end := datetime.combine(day + timedelta(days=1), time(), zone)) <= end:
        if day_end > start:
            dates.append(day)
        day += timedelta(days=1)
    return dates


def _ignored(relative: PurePath) -> bool:
    return any(part.startswith((".", "_")) for part in relative.parts)


@dataclass(frozen=True)
class Landed:
    """The files found for an interval's business dates."""

    landing: Path
    files: dict[date, list[Path]]

    @property
    def paths(self) -> list[str]:
        """Every file, by date then path: the order they load in (a later delivery wins)."""
        return [str(path) for day in sorted(self.files) for path in self.files[day]]

    @property
    def missing(self) -> list[date]:
        """Dates of the interval with no file yet."""
        return [day for day, paths in sorted(self.files.items()) if not paths]

    def describe_missing(self) -> str:
        """Which dates have no file, and where they were looked for."""
        days = ", ".join(day.isoformat() for day in self.missing)
        return (
            f"no contact file has landed for business date(s) {days} under {self.landing}: "
            f"expected e.g. {self.landing}/{self.missing[0].isoformat()}/contacts.csv or a file "
            "name carrying the date (names starting with '.' or '_' are ignored)"
        )


def find_files(landing: Path | str, dates: list[date]) -> Landed:
    """The files under the landing folder for each of the given business dates."""
    landing = Path(landing)
    found: dict[date, list[Path]] = {day: [] for day in dates}
    if landing.is_dir():
        for path in sorted(landing.rglob("*")):
            relative = path.relative_to(landing)
            if path.is_file() and not _ignored(relative) and file_date(relative) in found:
                found[file_date(relative)].append(path)
    return Landed(landing, found)


def _start_column(config: Config) -> str:
    columns = config.column("started_at").source_columns("started_at")
    if len(columns) != 1:
        raise ValueError("landing by day needs started_at read from one column of the export")
    return columns[0]


def land_by_day(source: Path | str, landing: Path | str, config: Config | None = None) -> dict[date, Path]:
    """Split one CSV export into landing/<business date>/<name>, as a daily delivery would land.

    For demos and tests. Rows whose start cannot be parsed go with the earliest date, where the
    load quarantines them.
    """
    config = config or Config()
    source, landing = Path(source), Path(landing)
    con = db.connect(":memory:")
    try:
        started = _start_column(config).replace('"', '""')
        con.execute(
            f"""create table landed as
            select *, (parse_timestamp("{started}", $source_tz, $formats) at time zone $business_tz)::date
                as landing_business_date
            from read_csv($path, all_varchar = true, delim = $delim)""",
            {
                "path": str(source),
                "delim": config.csv.delimiter,
                "source_tz": config.source_timezone,
                "formats": config.timestamp_formats,
                "business_tz": config.business_timezone,
            },
        )
        rows = con.execute(
            "select distinct landing_business_date from landed "
            "where landing_business_date is not null order by 1"
        ).fetchall()
        dated = [row[0] for row in rows]
        if not dated:
            raise ValueError(f"{source}: no row has a start that parses; nothing to land")
        written = {}
        for day in dated:
            out = landing / day.isoformat() / source.name
            out.parent.mkdir(parents=True, exist_ok=True)
            con.sql(
                "select * exclude (landing_business_date) from landed "
                "where coalesce(landing_business_date, $first) = $day",
                params={"first": dated[0], "day": day},
            ).write_csv(str(out))
            written[day] = out
        return written
    finally:
        con.close()


def main() -> None:
    """`python -m fcr.load.landing SOURCE LANDING [--config fcr.toml]`: land a sample export by day."""
    parser = argparse.ArgumentParser(description=land_by_day.__doc__)
    parser.add_argument("source", type=Path)
    parser.add_argument("landing", type=Path)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    written = land_by_day(args.source, args.landing, load_config(args.config))
    print(f"landed {args.source} as {len(written)} daily files under {args.landing}")


if __name__ == "__main__":
    main()

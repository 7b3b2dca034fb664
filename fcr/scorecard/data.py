"""Read what the scorecard shows from the published tables only: read-only, in one snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from fcr import runlog, tables


class ScorecardError(RuntimeError):
    """The scorecard cannot be written; the message says what to do."""


@dataclass(frozen=True)
class Period:
    """One period of a grain and whether its figures are final."""

    grain: str
    start: date
    is_final: bool


@dataclass
class Section:
    """Rows for one part of the page, or one line saying why there are none."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    absent: str | None = None


@contextmanager
def open_published(db_path: Path | str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection holding one snapshot, so no read sees a table mid-publish."""
    path = Path(db_path)
    if not path.is_file():
        raise ScorecardError(f"{path}: no such database file; run `fcr run --db {path} ...` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
        con.execute("set TimeZone = 'UTC'")
    except duckdb.Error as exc:
        raise ScorecardError(
            f"{path}: cannot be opened read-only ({exc}). If a run is writing it, wait for the run "
            "to finish or point --db at the published serving copy."
        ) from None
    try:
        con.execute("begin transaction")
        if not table_exists(con, tables.METRICS):
            raise ScorecardError(
                f"{path}: nothing published yet ({tables.METRICS} is missing); run `fcr run`"
            )
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether the schema-qualified table or view exists."""
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = $schema and table_name = $name",
            {"schema": schema, "name": name},
        ).fetchone()[0]
    )


def records(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows as dicts, nulls kept as None (absent, never zero), decimals as floats."""
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [
        {name: float(v) if isinstance(v, Decimal) else v for name, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def latest_runs(con: duckdb.DuckDBPyConnection) -> tuple[dict | None, dict | None]:
    """The run whose tables are published, and a later failed run if there is one (read by fcr.runlog)."""
    return runlog.latest_runs(con)


def coverage(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """Business dates of the first and last contact in the published metrics."""
    return con.execute(
        f"select min(period_start), max(period_start) from {tables.METRICS} "
        "where grain = 'day' and dimension = 'all' and contacts > 0"
    ).fetchone()


def periods(con: duckdb.DuckDBPyConnection, grain: str) -> list[Period]:
    """Every published period of the grain, oldest first."""
    rows = con.execute(
        f"select period_start, is_final from {tables.METRICS} "
        "where grain = $grain and dimension = 'all' order by period_start",
        {"grain": grain},
    ).fetchall()
    return [Period(grain, start, is_final) for start, is_final in rows]


def period_of(grain: str, day: date) -> date:
    """The start of the week (Monday) or month containing the day."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(grain: str, start: date) -> date:
    """The first day after the week or month that starts on `start`."""
    if grain == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


_RATES = f"""
select
    rates.*,
    metrics.cases_1,
    metrics.cases_2,
    metrics.cases_3,
    metrics.cases_4_plus
from {tables.METRIC_RATES} as rates
inner join {tables.METRICS} as metrics using (grain, period_start, dimension, dimension_value)
where rates.grain = $grain and rates.period_start = $period_start and rates.dimension = $dimension
order by rates.mature_cases desc, rates.dimension_value
"""


def rates(con: duckdb.DuckDBPyConnection, period: Period, dimension: str) -> list[dict[str, Any]]:
    """Rates of every value of one dimension in the period, with the case counts behind them."""
    return records(con, _RATES, {"grain": period.grain, "period_start": period.start, "dimension": dimension})


def trend(con: duckdb.DuckDBPyConnection, grain: str, count: int) -> list[dict[str, Any]]:
    """FCR, 2CR and 3CR of the latest `count` periods of the grain that have mature cases."""
    return records(
        con,
        f"""select period_start, is_final, mature_cases, fcr, two_contact_resolution, three_contact_resolution
        from {tables.METRIC_RATES}
        where grain = $grain and dimension = 'all' and mature_cases > 0
        order by period_start desc limit $count""",
        {"grain": grain, "count": count},
    )[::-1]


def has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    """Whether the table has the column (tables gain columns as later pipeline versions publish them)."""
    return column in {d[0] for d in con.execute(f"select * from {table} limit 0").description}


def followed_by_repeat(con: duckdb.DuckDBPyConnection, period: Period) -> Section:
    """By the channel of any contact: how often the customer had to come back after it."""
    if not has_column(con, tables.METRICS, "contacts_followed_by_repeat"):
        return Section(absent=f"No data: {tables.METRICS} has no contacts_followed_by_repeat column yet.")
    rows = records(
        con,
        f"""select
            grain, period_start, dimension, dimension_value, counted_contacts, contacts_followed_by_repeat
        from {tables.METRICS}
        where grain = $grain and period_start = $period_start and dimension = 'channel'
            and counted_contacts > 0
        order by contacts_followed_by_repeat / counted_contacts desc, dimension_value""",
        {"grain": period.grain, "period_start": period.start},
    )
    return Section(rows) if rows else Section(absent="No data: no contact was counted in this period.")


def _planned(
    con: duckdb.DuckDBPyConnection, table: str, period: Period, sql: str, params: dict[str, Any]
) -> Section:
    if not table_exists(con, table):
        return Section(absent=f"No data: this database has no {table} table yet.")
    rows = records(con, sql, {"grain": period.grain, "period_start": period.start, **params})
    if not rows:
        return Section(absent=f"No data: {table} has no rows for this period.")
    return Section(rows)


def follow_ups_by_agent(con: duckdb.DuckDBPyConnection, period: Period, top: int) -> Section:
    """Whose contacts customers came back after in the period, after a 'resolved' mark first."""
    if not table_exists(con, tables.FOLLOW_UPS):
        return Section(absent=f"No data: this database has no {tables.FOLLOW_UPS} table yet.")
    rows = records(
        con,
        f"""select
            previous_agent_id,
            count(*) as follow_ups,
            count(*) filter (where previous_agent_resolved) as follow_ups_after_resolved
        from {tables.FOLLOW_UPS}
        where previous_agent_id is not null and business_date >= $start and business_date < $end
        group by previous_agent_id
        order by follow_ups_after_resolved desc, follow_ups desc, previous_agent_id
        limit $top""",
        {"start": period.start, "end": period_end(period.grain, period.start), "top": top},
    )
    if not rows:
        return Section(absent="No data: no customer came back after an agent's contact in this period.")
    for row in rows:
        row["ref"] = {
            "grain": period.grain,
            "period_start": period.start,
            "previous_agent_id": row["previous_agent_id"],
        }
    return Section(rows)


def channel_flow(con: duckdb.DuckDBPyConnection, period: Period) -> Section:
    """Moves from one contact's channel to the next contact's inside a case."""
    return _planned(
        con,
        tables.CHANNEL_FLOW,
        period,
        f"""select grain, period_start, flow_kind, from_channel, to_channel, is_final, transitions
        from {tables.CHANNEL_FLOW}
        where grain = $grain and period_start = $period_start and flow_kind = 'consecutive'
        order by transitions desc, from_channel, to_channel""",
        {},
    )


def reason_priority(con: duckdb.DuckDBPyConnection, period: Period, top: int) -> Section:
    """The reasons ranked by money at stake: what to fix first."""
    return _planned(
        con,
        tables.REASON_PRIORITY,
        period,
        f"""select * from {tables.REASON_PRIORITY}
        where grain = $grain and period_start = $period_start
        order by priority_rank, reason limit $top""",
        {"top": top},
    )


def team_sensitivity(con: duckdb.DuckDBPyConnection, period: Period) -> Section:
    """Each team's FCR and rank under every window of the definition in use's match_on."""
    return _planned(
        con,
        tables.FCR_SENSITIVITY,
        period,
        f"""with teams as (
            select * from {tables.FCR_SENSITIVITY}
            where grain = $grain and period_start = $period_start and dimension = 'team'
                and match_on in (select match_on from {tables.FCR_SENSITIVITY} where is_current_definition)
        )
        select
            *,
            rank() over (partition by repeat_window_seconds order by fcr desc nulls last) as fcr_rank
        from teams
        order by dimension_value, repeat_window_seconds""",
        {},
    )


def sensitivity(con: duckdb.DuckDBPyConnection, period: Period) -> Section:
    """FCR, 2CR and 3CR under every configured case definition."""
    return _planned(
        con,
        tables.FCR_SENSITIVITY,
        period,
        f"""select * from {tables.FCR_SENSITIVITY}
        where grain = $grain and period_start = $period_start and dimension = 'all'
        order by match_on, repeat_window_seconds""",
        {},
    )

"""The short summary a run prints: what loaded, what was quarantined, FCR overall and by channel."""

from __future__ import annotations

from datetime import datetime

import duckdb
from rich.console import Console
from rich.table import Table

from fcr import sqlfiles, tables
from fcr.load.contacts import LoadResult
from fcr.run import RunResult


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _rates_table(con: duckdb.DuckDBPyConnection, dimension: str, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("", "contacts", "cases", "mature cases", "FCR", "2CR", "3CR"):
        table.add_column(column, justify="left" if not column else "right")
    rows = sqlfiles.execute(con, "marts/summary_by_dimension", {"dimension": dimension}).fetchall()
    for value, contacts, cases, mature, fcr, two, three in rows:
        table.add_row(value, f"{contacts:,}", f"{cases:,}", f"{mature:,}", _pct(fcr), _pct(two), _pct(three))
    return table


def _provisional(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        f"select grain, min(period_start), max(period_start), count(*) from {tables.METRICS} "
        "where dimension = 'all' and not is_final group by grain "
        "order by case grain when 'day' then 1 when 'week' then 2 else 3 end"
    ).fetchall()
    return [
        f"{count} {grain}(s) from {first} to {last}" if count > 1 else f"{grain} {first}"
        for grain, first, last, count in rows
    ]


def _rows_line(load: LoadResult) -> str:
    """Where every row read went, so the figures add up: loaded + quarantined + excluded + replaced."""
    if not load.files:
        return f"rows read 0: {len(load.files_skipped)} file(s) skipped as already loaded"
    rules = ", ".join(f"{rule}: {n:,}" for rule, n in load.quarantine_by_rule.items())
    return " + ".join(
        [
            f"rows read {load.rows_read:,} = contacts loaded {load.contacts_delivered:,}",
            f"rows quarantined {load.rows_quarantined:,}" + (f" ({rules})" if rules else ""),
            f"excluded by filters {load.rows_excluded:,}",
            f"replaced by a later delivery {load.rows_replaced:,}",
        ]
    )


def _local_times_line(load: LoadResult) -> str | None:
    """The loaded local times a clock change skipped or repeated, when there were any."""
    shifted, ambiguous = load.local_times_shifted, load.local_times_ambiguous
    parts = [f"skipped by a clock change and shifted forward {shifted:,}"] if shifted else []
    parts += [f"repeated by a clock change and resolved {ambiguous:,}"] if ambiguous else []
    return "local times " + "; ".join(parts) if parts else None


def _contacts_up_to(con: duckdb.DuckDBPyConnection, watermark: datetime) -> int:
    """Loaded contacts (legs not yet collapsed) that started by the watermark."""
    return con.execute(
        f"select count(*) from {tables.CONTACTS} where started_at <= $watermark", {"watermark": watermark}
    ).fetchone()[0]


def print_summary(result: RunResult, console: Console) -> None:
    """Print the run summary from the published tables, on the caller's console (wrapped or not)."""
    load = result.load
    con = duckdb.connect(str(result.db_path), read_only=True)
    try:
        console.print(f"[bold]Run {result.run_id}[/bold] published in {result.duration_seconds:.1f}s")
        if load.files or load.files_skipped:
            console.print(_rows_line(load))
        local_times = _local_times_line(load)
        if local_times:
            console.print(local_times)
        contacts, after_legs = _contacts_up_to(con, result.watermark), result.counts["contacts"]
        console.print(
            f"contacts up to the watermark {contacts:,} - legs collapsed {contacts - after_legs:,} "
            f"= contacts after legs collapse {after_legs:,}; "
            f"cases {result.counts['cases']:,}; watermark {result.watermark:%Y-%m-%d %H:%M:%S %Z}"
        )
        console.print(_rates_table(con, "all", "FCR overall (mature cases)"))
        console.print(_rates_table(con, "channel", "By channel of first contact"))
        provisional = _provisional(con)
        if provisional:
            console.print(
                "provisional (cases still open, recomputed by later runs): " + "; ".join(provisional)
            )
        console.print(
            f"database: {result.db_path.resolve()}  (tables: {tables.METRICS}, "
            f"{tables.METRIC_RATES}, {tables.CASES}, {tables.CASE_CONTACTS})"
        )
    finally:
        con.close()

"""Command line: `fcr demo`, `fcr run`, `fcr generate`, `fcr scorecard`."""

from __future__ import annotations

import sys
from datetime import date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup, TyperOption

from fcr.config import ConfigError, build_config, load_config


def _spread_list_options(args: list[str], names: set[str]) -> list[str]:
    """`--contacts a.csv b.csv` (an unquoted glob the shell expanded) as one --contacts per file."""
    spread: list[str] = []
    option = None
    for arg in args:
        if arg.startswith("-"):
            name = arg.split("=", 1)[0]
            option = name if name in names else None
        elif option and spread[-1] != option:
            spread.append(option)
        spread.append(arg)
    return spread


class _FlagsWithoutValue:
    """Help that shows a flag as a flag, `--full` and not `--full <bool>`: it takes no value."""

    def get_params(self, ctx: typer.Context) -> list:
        """The options, a flag with no value placeholder."""
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
                param.metavar = ""
        return params


class _Group(_FlagsWithoutValue, TyperGroup):
    """`fcr` itself: its commands and --version."""


class _Command(_FlagsWithoutValue, TyperCommand):
    """A command whose list options (--contacts, --customers) take every word after them."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        """Words after a list option are more of its values: the commands take no positional arguments."""
        names = {name for p in self.params if isinstance(p, TyperOption) and p.multiple for name in p.opts}
        return super().parse_args(ctx, _spread_list_options(args, names))


app = typer.Typer(cls=_Group, add_completion=False, no_args_is_help=True, help=__doc__)
err = Console(stderr=True)

DEMO_DIR = Path("demo")
SERVE_DIR_HELP = "where the read-only copy for BI tools goes (default: <db stem>_serving/ beside --db)"
DEMO_SERVE_DIR_HELP = "where the read-only copy for BI tools goes (default: fcr_serving/ in --dir)"


def _out() -> Console:
    """Standard output, wrapped to a terminal's width; piped or redirected, lines are never broken."""
    console = Console()
    console.soft_wrap = not console.is_terminal
    return console


def _print_version(value: bool) -> None:
    """Eager, so `fcr --version` answers without a command."""
    if value:
        _out().print(f"fcr {version('fcr')}")
        raise typer.Exit()


@app.callback()
def options(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit"),
    ] = False,
) -> None:
    """Options before the command: --version."""


def _progress(message: str) -> None:
    err.print(f"[dim]{datetime.now():%H:%M:%S}[/dim] {message}", soft_wrap=True)


def _fail(message: str, code: int = 1) -> None:
    # soft_wrap: no line breaks inserted, so a file path in the message stays whole to copy
    err.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True)
    raise typer.Exit(code)


def _parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of {value!r} is not an ISO timestamp (e.g. 2026-11-01T00:00:00+00:00)")
    return None


def _run(
    contacts: list[str],
    db: Path,
    config_path: Path | None,
    as_of: str | None,
    full: bool = False,
    customers: list[str] | None = None,
    serve_dir: Path | None = None,
    force_as_of: bool = False,
    shards: int | None = None,
) -> None:
    from fcr.report import print_summary
    from fcr.run import EXPECTED_ERRORS, config_json, run

    try:
        config = load_config(config_path)
        if shards is not None:  # validated as the config file's `shards` is
            config = build_config({**config_json(config), "shards": shards}, "--shards")
        result = run(
            contacts,
            db,
            config,
            as_of=_parse_as_of(as_of),
            progress=_progress,
            full=full,
            customers=customers,
            serve_dir=serve_dir,
            force_as_of=force_as_of,
        )
    except EXPECTED_ERRORS as exc:
        _fail(str(exc))
    print_summary(result, _out())


@app.command("run", cls=_Command)
def run_command(
    contacts: Annotated[list[str], typer.Option("--contacts", help="CSV/Parquet/JSONL files or globs")],
    db: Annotated[Path, typer.Option(help="DuckDB file to load into and publish to")],
    config: Annotated[Path | None, typer.Option(help="TOML config file")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="watermark (default: latest contact)")] = None,
    full: Annotated[bool, typer.Option("--full", help="recompute everything, not only what changed")] = False,
    customers: Annotated[
        list[str] | None,
        typer.Option(
            "--customers", help="customers file(s) (customer_id, segment, lifetime_value, churned_at)"
        ),
    ] = None,
    serve_dir: Annotated[Path | None, typer.Option("--serve-dir", help=SERVE_DIR_HELP)] = None,
    force_as_of: Annotated[
        bool,
        typer.Option(
            "--force-as-of", help="accept an --as-of further past the latest contact than as_of_tolerance"
        ),
    ] = False,
    shards: Annotated[
        int | None,
        typer.Option(
            "--shards",
            help="link customers in this many shard processes, as many at once as there are cores "
            "(default: the config's shards, 1)",
        ),
    ] = None,
) -> None:
    """Load contact files, link them into cases, compute, validate and publish metrics.

    With --full, --as-of sets the watermark exactly, even back from the last run's (recorded in the run log).
    """
    _run(contacts, db, config, as_of, full, customers, serve_dir, force_as_of, shards)


@app.command(cls=_Command)
def generate(
    contacts: Annotated[int, typer.Option(help="number of contacts")],
    out_path: Annotated[Path, typer.Option("--out", help=".csv, .parquet or .jsonl")],
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    days: Annotated[int, typer.Option(help="days of history")] = 120,
    customers_out: Annotated[
        Path | None, typer.Option("--customers-out", help="also write the matching customers file")
    ] = None,
) -> None:
    """Write a realistic sample contact log of any size (and, optionally, its customers file)."""
    from fcr.generate import SampleSpec, generate_sample, write_table

    sample = generate_sample(SampleSpec(contacts=contacts, seed=seed, days=days))
    out = _out()
    out.print(f"wrote {write_table(sample.contacts, out_path):,} rows to {out_path}")
    if customers_out is not None:
        out.print(f"wrote {write_table(sample.customers, customers_out):,} customers to {customers_out}")


@app.command(cls=_Command)
def demo(
    contacts: Annotated[int, typer.Option(help="number of sample contacts")] = 50_000,
    directory: Annotated[Path, typer.Option("--dir", help="where the demo files go")] = DEMO_DIR,
    serve_dir: Annotated[Path | None, typer.Option("--serve-dir", help=DEMO_SERVE_DIR_HELP)] = None,
) -> None:
    """Generate sample data, run the pipeline into a local DuckDB file, print the summary and scorecard."""
    from fcr.generate import SampleSpec, generate_sample, write_table

    contacts_path = directory / "contacts.csv"
    customers_path = directory / "customers.csv"
    db = directory / "fcr.duckdb"
    db.unlink(missing_ok=True)
    sample = generate_sample(SampleSpec(contacts=contacts))
    rows = write_table(sample.contacts, contacts_path)
    customers = write_table(sample.customers, customers_path)
    _progress(
        f"generated {rows:,} sample rows in {contacts_path} and {customers:,} customers in {customers_path}"
    )
    _run([str(contacts_path)], db, None, None, customers=[str(customers_path)], serve_dir=serve_dir)
    _scorecard(db, directory / "scorecard.html", None, None, None)


def _scorecard(
    db: Path, out_path: Path, config_path: Path | None, grain: str | None, period: str | None
) -> None:
    from fcr.scorecard import ScorecardError, write_scorecard

    try:
        day = date.fromisoformat(period) if period else None
    except ValueError:
        _fail(f"--period {period!r} is not a date (YYYY-MM-DD)")
    try:
        path = write_scorecard(db, out_path, load_config(config_path), grain=grain, period=day)
    except (ConfigError, ScorecardError) as exc:
        _fail(str(exc))
    _out().print(f"scorecard: {path.resolve()}", soft_wrap=True)


@app.command(cls=_Command)
def scorecard(
    db: Annotated[Path, typer.Option(help="published DuckDB file (opened read-only)")],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="HTML file to write (default: scorecard.html next to --db)")
    ] = None,
    grain: Annotated[
        str | None, typer.Option(help=escape("week or month (default: the config's [scorecard] grain)"))
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="a date in the period to show (default: the latest final period)")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="TOML config file")] = None,
) -> None:
    """Write the manager scorecard: one self-contained HTML file that opens offline and prints."""
    _scorecard(db, out_path or db.with_name("scorecard.html"), config, grain, period)


@app.command("follow-ups", cls=_Command)
def follow_ups_command(
    db: Annotated[Path, typer.Option(help="published DuckDB file (opened read-only)")],
    agent: Annotated[str | None, typer.Option(help="only repeats after a contact of this agent")] = None,
    team: Annotated[str | None, typer.Option(help="only repeats after a contact of this team")] = None,
    since: Annotated[str | None, typer.Option(help="only repeats on or after this date (YYYY-MM-DD)")] = None,
    resolved: Annotated[
        bool, typer.Option("--resolved", help="only repeats after a contact its agent marked resolved")
    ] = False,
    limit: Annotated[int, typer.Option(help="rows to print, newest first (the CSV file gets all)")] = 50,
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="also write every matching follow-up to this CSV file")
    ] = None,
) -> None:
    """List repeat contacts beside the contact before them: whose contacts come back, and about what."""
    from rich.table import Table

    from fcr.scorecard.data import ScorecardError, open_published
    from fcr.scorecard.follow_ups import FollowUpFilter, follow_ups, format_gap, write_csv

    try:
        day = date.fromisoformat(since) if since else None
    except ValueError:
        _fail(f"--since {since!r} is not a date (YYYY-MM-DD)")
    filters = FollowUpFilter(agent=agent, team=team, since=day, resolved_only=resolved)
    try:
        with open_published(db) as con:
            total, rows = follow_ups(con, filters, limit)
            written = write_csv(con, filters, csv_path) if csv_path else None
    except ScorecardError as exc:
        _fail(str(exc))
    table = Table(
        title=f"Follow-ups: {total:,} repeat contact(s) match"
        + (f", newest {len(rows)} shown" if len(rows) < total else "")
    )
    for heading in (
        "date",
        "case",
        "#",
        "after agent",
        "team",
        "marked resolved",
        "channel",
        "reason",
        "gap",
    ):
        table.add_column(heading, justify="right" if heading in ("#", "gap") else "left")
    for row in rows:
        resolved_mark = {True: "yes", False: "no", None: ""}[row["previous_agent_resolved"]]
        table.add_row(
            str(row["business_date"]),
            row["case_id"],
            str(row["contact_number"]),
            row["previous_agent_id"] or "",
            row["previous_team"] or "",
            resolved_mark,
            f"{row['previous_channel']} -> {row['channel']}",
            f"{row['previous_reason']} -> {row['reason']}",
            format_gap(row["gap_seconds"]),
        )
    out = _out()
    out.print(table)
    if written is not None:
        out.print(f"wrote {written:,} follow-up(s) to {csv_path}", soft_wrap=True)


@app.command(cls=_Command)
def docs(out_path: Annotated[Path, typer.Option("--out")] = Path("docs/tables.md")) -> None:
    """Regenerate the table reference from fcr/schema.yml."""
    from fcr.docs import render_tables_md

    out_path.write_text(render_tables_md())
    _out().print(f"wrote {out_path}")


def main() -> None:
    """Entry point for `python -m fcr`."""
    sys.exit(app())

"""Run one SQL file read-only against one or more pipeline databases and print a Markdown table.

The worked examples in docs/ quote its output. Parameters are bound ($name in the SQL), never
pasted in. With several databases the rows of each are stacked under one header.

    .venv/bin/python examples/run_sql.py sql/marts/summary_by_dimension.sql \
        build/realdata/technion.duckdb --param dimension=reason
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def query(sql: str, databases: list[Path], params: dict[str, str]) -> tuple[list[str], list[tuple]]:
    """The query's column names and its rows on every database in turn."""
    columns: list[str] = []
    rows: list[tuple] = []
    for database in databases:
        con = duckdb.connect(str(database), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            result = con.execute(sql, params)
            columns = [d[0] for d in result.description]
            rows += result.fetchall()
        finally:
            con.close()
    return columns, rows


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def markdown(columns: list[str], rows: list[tuple]) -> str:
    """A Markdown table, numeric columns right-aligned."""
    right = [
        any(_is_number(r[i]) for r in rows) and all(_is_number(r[i]) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Parse the command line, run the query, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sql_file", type=Path)
    parser.add_argument("databases", type=Path, nargs="+", metavar="db", help="pipeline database(s)")
    parser.add_argument(
        "--param", action="append", default=[], metavar="name=value", help="a bind parameter (repeatable)"
    )
    args = parser.parse_args()
    params = dict(pair.split("=", 1) for pair in args.param)
    print(markdown(*query(args.sql_file.read_text(), args.databases, params)))


if __name__ == "__main__":
    main()

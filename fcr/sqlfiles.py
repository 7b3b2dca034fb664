"""Run the models under sql/ with bind parameters, so no user value is pasted into SQL."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from fcr import tables

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


@cache
def read_sql(name: str) -> str:
    """The text of sql/<name>.sql (e.g. 'marts/metrics')."""
    return (SQL_DIR / f"{name}.sql").read_text()


def bind(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters a statement uses, checking none is missing (DuckDB rejects unused ones)."""
    wanted = set(_PARAM.findall(sql))
    missing = wanted - set(params)
    if missing:
        raise KeyError(f"SQL needs parameter(s) {sorted(missing)}")
    return {k: v for k, v in params.items() if k in wanted}


def execute(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None):
    """Execute the statement in sql/<name>.sql."""
    sql = read_sql(name)
    return con.execute(sql, bind(sql, params or {}))


def build(
    con: duckdb.DuckDBPyConnection, name: str, target: str, params: dict[str, Any] | None = None
) -> int:
    """Materialise the select in sql/<name>.sql as table `target`; return its row count."""
    sql = read_sql(name)
    con.execute(f"{tables.create_table(target)} as {sql}", bind(sql, params or {}))
    return con.execute(f"select count(*) from {target}").fetchall()[0][0]

"""Open the pipeline's DuckDB file with the settings every step relies on."""

from __future__ import annotations

from pathlib import Path

import duckdb

from fcr import sqlfiles, tables

_MACROS = ("macros/parse_timestamp", "macros/parse_flag", "macros/interaction_key")


def connect(path: Path | str, memory_limit: str = "2GB", read_only: bool = False):
    """A connection in UTC with the schemas and macros the models expect."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("set TimeZone = 'UTC'")
    con.execute("set memory_limit = $limit", {"limit": memory_limit})
    if not read_only:
        for schema in (tables.RAW, tables.STAGING, tables.PUBLISHED):
            con.execute(f"create schema if not exists {schema}")
    for macro in _MACROS:
        sqlfiles.execute(con, macro)
    return con


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether schema.table exists (tables are created by the first run that needs them)."""
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = $s and table_name = $n",
            {"s": schema, "n": name},
        ).fetchall()[0][0]
    )

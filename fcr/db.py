"""Open the pipeline's DuckDB file with the settings every step relies on."""

from __future__ import annotations

import errno
from pathlib import Path

import duckdb

from fcr import sqlfiles, tables

_MACROS = (
    "macros/parse_timestamp",
    "macros/parse_flag",
    "macros/interaction_key",
    "macros/case_rules",
    "macros/dimensions",
)


class DatabaseError(RuntimeError):
    """The database file cannot be used as it is; the message names it and what to do."""

    permanent = True  # retrying cannot help


class DatabaseLocked(DatabaseError):
    """Another process has the database file open for writing."""

    permanent = False


class DiskFull(DatabaseError):
    """The disk the database (or its temporary files) lives on is full."""

    permanent = False


def explain(exc: BaseException, path: Path | str) -> DatabaseError | None:
    """The clear error for a DuckDB or OS failure on the database file, or None if it is not one of those."""
    text = str(exc)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC or "No space left on device" in text:
        return DiskFull(
            f"{path}: no space left on the device while writing. Nothing was published; free disk "
            "space (a run needs a few times the input's size) and run again."
        )
    if not isinstance(exc, duckdb.Error):
        return None
    if "Could not set lock on file" in text:
        holder = text.split("Conflicting lock is held in", 1)[-1].split(". See also", 1)[0].strip()
        return DatabaseLocked(
            f"{path} is open for writing in another process ({holder}). Wait for that run to finish "
            "(or stop the program holding it, e.g. a BI tool: point those at the serving copy) and run again."
        )
    if "not a valid DuckDB database file" in text or "Corrupt database file" in text:
        return DatabaseError(
            f"{path} is not a readable DuckDB database (damaged, or written by another program or "
            "DuckDB version). Move it aside, then run again with every contact file to rebuild it."
        )
    return None


def connect(path: Path | str, memory_limit: str = "2GB", read_only: bool = False):
    """A connection in UTC with the schemas and macros the models expect."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except (duckdb.Error, OSError) as exc:
        raise (explain(exc, path) or exc) from exc
    con.execute("set TimeZone = 'UTC'")
    con.execute("set memory_limit = $limit", {"limit": memory_limit})
    if not read_only:
        for schema in (tables.RAW, tables.STAGING, tables.PUBLISHED):
            con.execute(f"create schema if not exists {schema}")
        # stored in the file, not temporary: published.metric_rates is a view that BI tools query
        sqlfiles.execute(con, "macros/resolution_rate")
    for macro in _MACROS:
        sqlfiles.execute(con, macro)
    return con


def drop_retired_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the tables an earlier version left (a view now has one's name; the others only took space).

    A run does it once, as it takes the database, before any step builds that view."""
    stored = {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where not temporary"
        ).fetchall()
    }
    for name in sorted(stored & set(tables.RETIRED_TABLES)):
        con.execute(f"drop table {name}")


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    """Whether schema.table exists (tables are created by the first run that needs them)."""
    schema, name = qualified.split(".")
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = $s and table_name = $n",
            {"s": schema, "n": name},
        ).fetchall()[0][0]
    )

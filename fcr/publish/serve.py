"""Copy the published tables to a read-only serving copy for BI tools, each file replaced atomically.

A BI tool reads the serving copy, never the pipeline's database, so it cannot lock the writer out
and never sees a half-written table: every file is written under a temporary name, flushed to disk
and renamed over the old one (os.replace). A reader that has the old file open keeps reading it.
Temp files a failed or killed serve left behind are deleted when the next serve starts.
The export (fcr/export.py) writes its Parquet files with the same writer, write_parquet_files.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from fcr import tables

SERVING_DATABASE = "fcr_published.duckdb"
MANIFEST = "manifest.json"
_READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
_TEMPORARY_NAME = re.compile(r"\..+\.(?P<pid>\d+)\.tmp(?:\.wal)?")


class ServeError(RuntimeError):
    """The tables were published but the serving copy could not be written."""

    permanent = False  # a full disk or a locked file may be gone on the retry


@dataclass
class ServeResult:
    """Where the serving copy went and what it holds."""

    directory: Path
    database: Path
    parquet: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def database_path(con: duckdb.DuckDBPyConnection) -> Path:
    """The file the connection's default database lives in."""
    row = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchone()
    return Path(row[0])


def default_directory(db_path: Path) -> Path:
    """<db stem>_serving/ beside the database file."""
    return db_path.with_name(f"{db_path.stem}_serving")


def published_relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table and view in the published schema except the run log, by name."""
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_schema = $schema and table_schema || '.' || table_name <> $run_log order by table_name",
        {"schema": tables.PUBLISHED, "run_log": tables.PIPELINE_RUNS},
    ).fetchall()
    return [r[0] for r in rows]


def serve(con: duckdb.DuckDBPyConnection, directory: Path | str | None = None) -> ServeResult:
    """Write every published table and view to <directory>/fcr_published.duckdb and <name>.parquet."""
    clock = time.perf_counter()
    directory = Path(directory) if directory else default_directory(database_path(con))
    result = ServeResult(directory=directory, database=directory / SERVING_DATABASE)
    try:
        names = published_relations(con)
        result.rows = {name: _row_count(con, name) for name in names}
        written = write_parquet_files(con, [f"{tables.PUBLISHED}.{name}" for name in names], directory)
        result.parquet = {relation.split(".", 1)[1]: path for relation, path in written.items()}
        _write_database(con, names, result.database)
        _write_manifest(directory, result)
    except (OSError, duckdb.Error) as exc:
        raise ServeError(
            f"the run published, but the serving copy in {directory} could not be written: {exc}"
        ) from exc
    result.seconds = time.perf_counter() - clock
    return result


def _row_count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return con.execute(f"select count(*) from {tables.PUBLISHED}.{name}").fetchone()[0]


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete temp files a failed or killed serve left behind, so they cannot pile up and fill the disk."""
    for path in directory.iterdir():
        match = _TEMPORARY_NAME.fullmatch(path.name)
        if match and path.is_file() and not _is_other_live_process(int(match["pid"])):
            path.unlink(missing_ok=True)


def _is_other_live_process(pid: int) -> bool:
    """Whether another running process has this pid (and may still be writing its temp file)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        pass  # it runs under another user
    return True


def _temporary(path: Path) -> Path:
    """A sibling name for writing `path` (same directory, so os.replace is atomic)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
        leftover.unlink(missing_ok=True)
    return temporary


def _write_database(con: duckdb.DuckDBPyConnection, names: list[str], target: Path) -> None:
    temporary = _temporary(target)
    con.execute("attach $path as serving_copy", {"path": str(temporary)})
    try:
        con.execute(f"create schema serving_copy.{tables.PUBLISHED}")
        for name in names:
            con.execute(
                f"create table serving_copy.{tables.PUBLISHED}.{name} as "
                f"select * from {tables.PUBLISHED}.{name}"
            )
        con.execute("checkpoint serving_copy")
    finally:
        con.execute("detach serving_copy")
    _replace(temporary, target)


def write_parquet_files(
    con: duckdb.DuckDBPyConnection, relations: list[str], directory: Path
) -> dict[str, Path]:
    """Write each relation (schema.name) to <directory>/<name>.parquet: the one Parquet writer of
    the serving copy and the export, so both give BI tools the same files, each replaced whole."""
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(directory)
    written = {}
    for relation in relations:
        written[relation] = directory / f"{relation.split('.', 1)[1]}.parquet"
        _write_parquet(con, relation, written[relation])
    return written


def _write_parquet(con: duckdb.DuckDBPyConnection, relation: str, target: Path) -> None:
    """Write a table or view (schema.name) to a Parquet file that readers see whole or not at all."""
    temporary = _temporary(target)
    con.execute(
        f"copy (select * from {relation}) to $path (format parquet, compression zstd, compression_level 1)",
        {"path": str(temporary)},
    )
    _replace(temporary, target)


def _write_manifest(directory: Path, result: ServeResult) -> None:
    target = directory / MANIFEST
    temporary = _temporary(target)
    manifest = {
        "served_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": result.database.name,
        "tables": {
            name: {"rows": rows, "parquet": result.parquet[name].name} for name, rows in result.rows.items()
        },
    }
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    _replace(temporary, target)


def _replace(temporary: Path, target: Path) -> None:
    """Flush the new file to disk, mark it read-only and rename it over the old one."""
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    temporary.chmod(_READ_ONLY)
    os.replace(temporary, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)

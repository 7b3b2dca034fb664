"""Copy the published tables to a read-only serving copy for BI tools, one publish at a time.

A BI tool reads the serving copy, never the pipeline's database, so it cannot lock the writer out
and never sees a half-written table. The DuckDB file is written under a temporary name, flushed to
disk and renamed over the old one (os.replace). The Parquet files of each publish go to a snapshot
directory of their own, snapshots/<served at>_<run id>/, written under a temporary name and
renamed whole; the `current` symlink is then swapped to it by rename, so a reader that resolves
`current` once reads every table of one publish. The newest keep_snapshots snapshots are kept, so
a reader part-way through one is not cut short. Temp files and directories a failed or killed
serve left behind are deleted when the next serve starts. The export (fcr/export.py) writes its
Parquet files with the same writer, write_parquet_files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from fcr import tables

SERVING_DATABASE = "fcr_published.duckdb"
MANIFEST = "manifest.json"
SNAPSHOTS = "snapshots"
CURRENT = "current"
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
    snapshot: Path | None = None  # snapshots/<served at>_<run id>/, where `current` points
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


def serve(
    con: duckdb.DuckDBPyConnection,
    directory: Path | str | None = None,
    run_id: str = "manual",
    keep_snapshots: int = 3,
) -> ServeResult:
    """Write every published table and view to a new Parquet snapshot, point `current` at it, and
    replace <directory>/fcr_published.duckdb and manifest.json."""
    clock = time.perf_counter()
    directory = Path(directory) if directory else default_directory(database_path(con))
    result = ServeResult(directory=directory, database=directory / SERVING_DATABASE)
    served_at = datetime.now(UTC)
    try:
        names = published_relations(con)
        result.rows = {name: _row_count(con, name) for name in names}
        snapshots = directory / SNAPSHOTS
        snapshots.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(directory)
        _remove_stale_temporaries(snapshots)
        result.snapshot = snapshots / _snapshot_name(served_at, run_id)
        incoming = _temporary(result.snapshot)
        written = write_parquet_files(con, [f"{tables.PUBLISHED}.{name}" for name in names], incoming)
        files = {relation.split(".", 1)[1]: path.name for relation, path in written.items()}
        _write_manifest(incoming, _manifest(result, served_at, run_id, files))
        _sync_directory(incoming)
        os.rename(incoming, result.snapshot)
        _point_current(directory, result.snapshot)
        result.parquet = {name: result.snapshot / file for name, file in files.items()}
        _write_database(con, names, result.database)
        relative = {name: str(path.relative_to(directory)) for name, path in result.parquet.items()}
        _write_manifest(directory, _manifest(result, served_at, run_id, relative))
        _prune_snapshots(snapshots, keep_snapshots)
        _remove_retired_parquet(directory, names)
    except (OSError, duckdb.Error) as exc:
        raise ServeError(
            f"the run published, but the serving copy in {directory} could not be written: {exc}"
        ) from exc
    result.seconds = time.perf_counter() - clock
    return result


def _snapshot_name(served_at: datetime, run_id: str) -> str:
    """<served at, sortable>_<run id with only file-name-safe characters>."""
    return f"{served_at:%Y%m%dT%H%M%S%fZ}_{re.sub(r'[^A-Za-z0-9_.-]+', '-', run_id)}"


def _point_current(directory: Path, snapshot: Path) -> None:
    """Swap the `current` symlink to the snapshot by rename: readers find the old one or the new one."""
    link, current = _temporary(directory / CURRENT), directory / CURRENT
    os.symlink(snapshot.relative_to(directory), link)
    if current.is_dir() and not current.is_symlink():
        shutil.rmtree(current)  # a copy of the serving dir that did not keep the link (cp -r, copytree)
    os.replace(link, current)
    _sync_directory(directory)


def _prune_snapshots(snapshots: Path, keep: int) -> None:
    """Delete all but the newest `keep` snapshots (names sort by when they were served)."""
    complete = sorted(p for p in snapshots.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in complete[:-keep]:
        shutil.rmtree(old)


def _remove_retired_parquet(directory: Path, names: list[str]) -> None:
    """Delete the <table>.parquet files an earlier version kept beside the database: they would go stale."""
    for name in names:
        (directory / f"{name}.parquet").unlink(missing_ok=True)


def _row_count(con: duckdb.DuckDBPyConnection, name: str) -> int:
    return con.execute(f"select count(*) from {tables.PUBLISHED}.{name}").fetchone()[0]


def _remove_stale_temporaries(directory: Path) -> None:
    """Delete the temp files and directories a failed or killed serve left, so they cannot fill the disk."""
    for path in directory.iterdir():
        match = _TEMPORARY_NAME.fullmatch(path.name)
        if not match or _is_other_live_process(int(match["pid"])):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
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
    """A sibling name for writing `path` (same directory, so the rename is atomic)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    for leftover in (temporary, temporary.with_name(temporary.name + ".wal")):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover)
        else:
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


def _manifest(result: ServeResult, served_at: datetime, run_id: str, parquet: dict[str, str]) -> dict:
    return {
        "served_at": served_at.isoformat(timespec="seconds"),
        "run_id": run_id,
        "snapshot": f"{SNAPSHOTS}/{result.snapshot.name}" if result.snapshot else None,
        "database": result.database.name,
        "tables": {name: {"rows": rows, "parquet": parquet[name]} for name, rows in result.rows.items()},
    }


def _write_manifest(directory: Path, manifest: dict) -> None:
    target = directory / MANIFEST
    temporary = _temporary(target)
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    _replace(temporary, target)


def _replace(temporary: Path, target: Path) -> None:
    """Flush the new file to disk, mark it read-only and rename it over the old one."""
    with temporary.open("rb") as handle:
        os.fsync(handle.fileno())
    temporary.chmod(_READ_ONLY)
    os.replace(temporary, target)
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Flush a directory's entries (the renames in it) to disk."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)

"""Load contact files into raw.contacts: map columns, type values, quarantine bad rows, dedupe ids."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from fcr import sqlfiles, tables
from fcr.config import CONTACT_COLUMNS, Config
from fcr.load import quarantine, touched
from fcr.load.mapping import RULE_COLUMNS, map_batch
from fcr.load.read import SourceFile, read_batches, rebatched
from fcr.prefetch import prefetched


class QuarantineThresholdError(RuntimeError):
    """Too large a share of the input broke rules: the run stops before publishing."""

    def __init__(self, message: str, result: LoadResult | None = None) -> None:
        super().__init__(message)
        self.result = result  # the contacts load's counts; None when the customers file broke the share


@dataclass
class LoadResult:
    """What one load did, for the run record and the summary."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_excluded: int = 0
    rows_quarantined: int = 0
    contacts_delivered: int = 0
    rows_replaced: int = 0  # passed every rule but lost to a later delivery of their contact_id in the run
    local_times_shifted: int = 0  # loaded naive times the clocks skipped, read shifted forward
    local_times_ambiguous: int = 0  # loaded naive times the clocks repeated, read as `ambiguous` says
    quarantine_by_rule: dict[str, int] = field(default_factory=dict)
    files_skipped: list[str] = field(default_factory=list)  # same content as a file loaded before


def _register_channel_map(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    mapping = config.channel_map()
    con.execute(
        "create or replace temp table channel_map (source_channel varchar, canonical_channel varchar)"
    )
    con.executemany("insert into channel_map values (?, ?)", list(mapping.items()))


@dataclass(frozen=True)
class Typing:
    """A staging model run on each batch as it is stored, so the raw text is never staged whole.

    Its rows go to `target`; the raw rows it refuses (`refused`, a condition on its rows) go to
    the staged table, for the quarantine's record of what the file said.
    """

    model: str
    target: str
    params: dict[str, Any]
    refused: str


def stage_files(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: tuple[str, ...],
    paths: list[Path],
    config: Config,
    convert: Callable[[pa.Table, Path, int], pa.Table],
    on_file: Callable[[SourceFile], None] = lambda _: None,
    typing: Typing | None = None,
) -> list[SourceFile]:
    """Read the files batch by batch into `table` (columns as text, then source file, line and order).

    The first step of every load, contacts and customers alike: convert maps a batch read from the
    file at the given position to the table's columns. Without `typing` the rules run on the staged
    table afterwards; with it they run on each batch, and `table` keeps only the refused rows.
    """
    names = ", ".join(f"{c} varchar" for c in (*columns, "source_file"))
    con.execute(f"{tables.create_table(table)} ({names}, source_line bigint, file_order integer)")
    store = _typed_store(con, table, typing) if typing else _raw_store(con, table)
    sources = []
    for order, path in enumerate(paths):
        source = SourceFile(path.resolve())
        # batches are read, mapped and joined in a thread while the previous one is stored
        converted = (convert(batch, source.path, order) for batch in read_batches(source, config))
        for batch in prefetched(rebatched(converted)):
            con.register(tables.INCOMING_BATCH, batch)
            try:
                store(batch)
            finally:
                con.unregister(tables.INCOMING_BATCH)
        on_file(source)
        sources.append(source)
    return sources


def _raw_store(con: duckdb.DuckDBPyConnection, table: str) -> Callable[[pa.Table], None]:
    """Append the registered batch to the staged table as it is."""

    def store(batch: pa.Table) -> None:
        con.execute(f"insert into {table} select * from temp.{tables.INCOMING_BATCH}")

    return store


def _typed_store(con: duckdb.DuckDBPyConnection, table: str, typing: Typing) -> Callable[[pa.Table], None]:
    """Type the registered batch into typing.target and keep its refused raw rows in the staged table."""
    sql = sqlfiles.read_sql(typing.model)
    bound = sqlfiles.bind(sql, typing.params)
    # the target's columns come from the model run on no rows shaped like the staged table
    con.register(tables.INCOMING_BATCH, con.sql(f"select * from {table} limit 0").to_arrow_table())
    try:
        con.execute(f"{tables.create_table(typing.target)} as {sql}", bound)
    finally:
        con.unregister(tables.INCOMING_BATCH)

    def store(batch: pa.Table) -> None:
        if batch.num_rows == 0:
            return
        lines = pc.min_max(batch["source_line"])
        con.execute(f"insert into {typing.target} {sql}", bound)
        # a batch holds consecutive lines of one file, so its typed rows are one range of the target
        con.execute(
            f"insert into {table} select * from temp.{tables.INCOMING_BATCH} where source_line in ("
            f"select source_line from {typing.target} where ({typing.refused}) and source_file = $file "
            "and source_line between $first and $last)",
            {
                "file": batch["source_file"][0].as_py(),
                "first": lines["min"].as_py(),
                "last": lines["max"].as_py(),
            },
        )

    return store


def _stage_contacts(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    config: Config,
    params: dict[str, Any],
    on_progress: Callable[[str], None],
) -> tuple[list[SourceFile], int, int]:
    excluded: dict[Path, int] = {}

    def convert(batch: pa.Table, path: Path, order: int) -> pa.Table:
        mapped = map_batch(batch, config, path, order)
        excluded[path] = excluded.get(path, 0) + mapped.rows_excluded
        return mapped.table

    def report(source: SourceFile) -> None:
        filtered = f", {excluded.get(source.path, 0):,} excluded by filters" if config.exclude else ""
        on_progress(
            f"read {source.path} ({source.rows_read:,} rows, {len(source.malformed)} malformed{filtered})"
        )

    columns = (*CONTACT_COLUMNS, *RULE_COLUMNS)
    typing = Typing("staging/stg_contacts", tables.LOAD_TYPED, params, refused="quarantine_rule is not null")
    sources = stage_files(con, tables.LOAD_REFUSED, columns, paths, config, convert, report, typing)
    rows = sum(s.rows_read + len(s.malformed) for s in sources)
    return sources, rows, sum(excluded.values())


def _record_touched(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Remember whose cases the delivered rows can change: old and new versions' customers."""
    replaced = f"{tables.CONTACTS} where contact_id in (select contact_id from {tables.LOAD_GOOD})"
    for source in (replaced, tables.LOAD_GOOD):
        touched.record_touched(con, source, run_id)


def file_digest(path: Path) -> str:
    """sha256 of the file's bytes: the same content under any name or path is the same delivery."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _ensure_loaded_files(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        f"create table if not exists {tables.LOADED_FILES} (sha256 varchar primary key, "
        "source_file varchar, run_id varchar, loaded_at timestamptz)"
    )


def _new_deliveries(
    con: duckdb.DuckDBPyConnection, paths: list[Path], on_progress: Callable[[str], None]
) -> tuple[dict[Path, str], list[str]]:
    """Files whose content was never loaded (resolved path -> sha256, each content once), and the skipped."""
    _ensure_loaded_files(con)
    fresh: dict[Path, str] = {}
    skipped: list[str] = []
    for path in paths:
        digest = file_digest(path)
        earlier = con.execute(
            f"select source_file, run_id from {tables.LOADED_FILES} where sha256 = $digest",
            {"digest": digest},
        ).fetchone()
        if earlier is None and digest not in fresh.values():
            fresh[path.resolve()] = digest
            continue
        skipped.append(str(path))
        where = f"{earlier[0]} by run {earlier[1]}" if earlier else "earlier in this run"
        on_progress(f"skipped {path}: the same content was already loaded ({where})")
    return fresh, skipped


def _record_loaded(
    con: duckdb.DuckDBPyConnection, sources: list[SourceFile], digests: dict[Path, str], run_id: str
) -> None:
    rows = [(digests[s.path], str(s.path), run_id) for s in sources]
    con.executemany(f"insert or replace into {tables.LOADED_FILES} values (?, ?, ?, current_timestamp)", rows)


def load_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    config: Config,
    run_id: str,
    on_progress: Callable[[str], None] = lambda _: None,
) -> LoadResult:
    """Load files into raw.contacts; bad rows go to raw.quarantine with file, line and rule.

    A file whose content was loaded before (under any path) is skipped, so re-loading an old
    file never reverts contacts a later delivery corrected.
    """
    digests, skipped = _new_deliveries(con, paths, on_progress)
    result = LoadResult(files_skipped=skipped)
    if not digests:
        return result
    _register_channel_map(con, config)
    params = {
        "source_tz": config.source_timezone,
        "timestamp_formats": config.timestamp_formats,
        "unknown_channel": config.unknown_channel,
        "nonexistent": config.nonexistent,
        "ambiguous": config.ambiguous,
        "order_type": config.dedupe.order_type if config.dedupe else "none",
        "order_by": config.dedupe.order_by if config.dedupe else "",
        "run_id": run_id,
    }
    sources, rows_read, rows_excluded = _stage_contacts(con, list(digests), config, params, on_progress)
    result.files = [str(s.path) for s in sources]
    result.rows_read, result.rows_excluded = rows_read, rows_excluded

    sqlfiles.build(con, "staging/contacts_delivery", tables.LOAD_GOOD)
    # Created outside the transaction: DuckDB 2.0.0 loses sight of rows appended in the same
    # transaction to a table created empty by CTAS ("as ... limit 0").
    con.execute(f"create table if not exists {tables.CONTACTS} as from {tables.LOAD_GOOD} limit 0")
    touched.ensure_touched(con)

    def merge() -> None:
        _record_touched(con, run_id)
        con.execute(
            f"delete from {tables.CONTACTS} where contact_id in (select contact_id from {tables.LOAD_GOOD})"
        )
        con.execute(f"insert into {tables.CONTACTS} by name select * from {tables.LOAD_GOOD}")
        result.contacts_delivered = con.execute(f"select count(*) from {tables.LOAD_GOOD}").fetchone()[0]
        accounting = sqlfiles.execute(con, "staging/load_accounting").fetchone()
        result.rows_replaced, result.local_times_shifted, result.local_times_ambiguous = accounting
        _record_loaded(con, sources, digests, run_id)

    try:
        rows_sql = sqlfiles.read_sql("staging/quarantine_rows")
        result.quarantine_by_rule, merged = quarantine.commit_load(
            con, sources, rows_sql, run_id, rows_read, config.max_quarantine_share, merge
        )
        result.rows_quarantined = sum(result.quarantine_by_rule.values())
        if not merged:
            rules = ", ".join(f"{rule} {n}" for rule, n in result.quarantine_by_rule.items())
            share = result.rows_quarantined / rows_read
            raise QuarantineThresholdError(
                f"{result.rows_quarantined:,} of {rows_read:,} rows ({share:.2%}) broke rules "
                f"({rules}), above max_quarantine_share {config.max_quarantine_share:.2%}. "
                f"Nothing was published. Inspect them with: select * from {tables.QUARANTINE} "
                f"where run_id = '{run_id}'; fix the files, or raise max_quarantine_share.",
                result,
            )
    finally:
        con.execute(f"drop table if exists {tables.LOAD_REFUSED}")
    return result

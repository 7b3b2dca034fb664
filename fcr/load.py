"""Load contact files into raw.contacts: map columns, type values, quarantine bad rows, dedupe ids."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from fcr import sqlfiles, tables
from fcr.config import CONTACT_COLUMNS, REQUIRED_COLUMNS, Config
from fcr.read import FileLoadError, SourceFile, read_batches

BATCH_COLUMNS = (*CONTACT_COLUMNS, "source_file", "source_line", "file_order")


class QuarantineThresholdError(RuntimeError):
    """Too large a share of the input broke rules: the run stops before publishing."""

    def __init__(self, message: str, result: LoadResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class LoadResult:
    """What one load did, for the run record and the summary."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_quarantined: int = 0
    contacts_delivered: int = 0
    quarantine_by_rule: dict[str, int] = field(default_factory=dict)


def _canonical(table: pa.Table, config: Config, path: Path, file_order: int) -> pa.Table:
    present = set(table.column_names)
    missing = [c for c in REQUIRED_COLUMNS if config.source_column(c) not in present]
    if missing:
        wanted = ", ".join(f"{c} (source column {config.source_column(c)!r})" for c in missing)
        raise FileLoadError(
            f"{path}: required column(s) missing: {wanted}. Columns in the file: "
            f"{sorted(present - {'source_line'})}. Map them under [columns] in the config."
        )
    n = table.num_rows
    arrays = []
    for column in CONTACT_COLUMNS:
        source = config.source_column(column)
        arrays.append(table[source] if source in present else pa.nulls(n, pa.string()))
    arrays.append(pa.array([str(path)] * n, pa.string()))
    arrays.append(table["source_line"])
    arrays.append(pa.array([file_order] * n, pa.int32()))
    return pa.Table.from_arrays(arrays, names=list(BATCH_COLUMNS))


def _create_batch_table(con: duckdb.DuckDBPyConnection) -> None:
    columns = ", ".join(f"{c} varchar" for c in CONTACT_COLUMNS)
    con.execute(
        f"create or replace table {tables.LOAD_BATCH} "
        f"({columns}, source_file varchar, source_line bigint, file_order integer)"
    )


def _register_channel_map(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    mapping = config.channel_map()
    con.execute(
        "create or replace temp table channel_map (source_channel varchar, canonical_channel varchar)"
    )
    con.executemany("insert into channel_map values (?, ?)", list(mapping.items()))


def _stage_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    config: Config,
    on_progress: Callable[[str], None],
) -> tuple[list[SourceFile], int]:
    _create_batch_table(con)
    sources = []
    for order, path in enumerate(paths):
        source = SourceFile(path.resolve())
        for batch in read_batches(source, config):
            con.register("incoming_batch", _canonical(batch, config, source.path, order))
            con.execute(f"insert into {tables.LOAD_BATCH} select * from incoming_batch")
            con.unregister("incoming_batch")
        on_progress(f"read {path} ({source.rows_read:,} rows, {len(source.malformed)} malformed)")
        sources.append(source)
    rows = sum(s.rows_read + len(s.malformed) for s in sources)
    return sources, rows


def _insert_malformed(con: duckdb.DuckDBPyConnection, sources: list[SourceFile], run_id: str) -> int:
    rows = [
        (str(s.path), m.line, "malformed_row", m.detail, m.text, run_id) for s in sources for m in s.malformed
    ]
    if rows:
        con.executemany(f"insert into {tables.QUARANTINE} values (?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def _record_touched(con: duckdb.DuckDBPyConnection) -> None:
    """Remember whose cases the delivered rows can change: old and new versions' customers."""
    con.execute(f"create table if not exists {tables.TOUCHED} (customer_id varchar, interaction_key varchar)")
    replaced = f"{tables.CONTACTS} where contact_id in (select contact_id from {tables.LOAD_GOOD})"
    for source in (replaced, tables.LOAD_GOOD):
        con.execute(
            f"insert into {tables.TOUCHED} select distinct customer_id, "
            f"interaction_key(customer_id, interaction_id, contact_id) from {source}"
        )


def load_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    config: Config,
    run_id: str,
    on_progress: Callable[[str], None] = lambda _: None,
) -> LoadResult:
    """Load files into raw.contacts; bad rows go to raw.quarantine with file, line and rule."""
    sources, rows_read = _stage_files(con, paths, config, on_progress)
    _register_channel_map(con, config)
    params = {
        "source_tz": config.source_timezone,
        "timestamp_formats": config.timestamp_formats,
        "unknown_channel": config.unknown_channel,
        "run_id": run_id,
    }
    sqlfiles.build(con, "staging/stg_contacts", tables.LOAD_TYPED, params)
    result = LoadResult(files=[str(s.path) for s in sources], rows_read=rows_read)

    sqlfiles.build(con, "staging/contacts_delivery", tables.LOAD_GOOD)
    # Created outside the transaction: DuckDB 2.0.0 loses sight of rows appended in the same
    # transaction to a table created empty by CTAS ("as ... limit 0").
    con.execute(f"create table if not exists {tables.CONTACTS} as from {tables.LOAD_GOOD} limit 0")
    con.execute("begin transaction")
    try:
        con.execute(
            f"create table if not exists {tables.QUARANTINE} "
            "(source_file varchar, source_line bigint, rule varchar, detail varchar, "
            "raw_record varchar, run_id varchar)"
        )
        con.execute(
            f"delete from {tables.QUARANTINE} where source_file in (select unnest($files::varchar[]))",
            {"files": result.files},
        )
        sql = sqlfiles.read_sql("staging/quarantine_rows")
        con.execute(f"insert into {tables.QUARANTINE} {sql}", {"run_id": run_id})
        _insert_malformed(con, sources, run_id)
        result.quarantine_by_rule = dict(
            con.execute(
                f"select rule, count(*) from {tables.QUARANTINE} where run_id = $run_id "
                "group by rule order by count(*) desc, rule",
                {"run_id": run_id},
            ).fetchall()
        )
        result.rows_quarantined = sum(result.quarantine_by_rule.values())
        share = result.rows_quarantined / rows_read if rows_read else 0.0
        if share > config.max_quarantine_share:
            con.execute("commit")
            rules = ", ".join(f"{rule} {n}" for rule, n in result.quarantine_by_rule.items())
            raise QuarantineThresholdError(
                f"{result.rows_quarantined:,} of {rows_read:,} rows ({share:.2%}) broke rules "
                f"({rules}), above max_quarantine_share {config.max_quarantine_share:.2%}. "
                f"Nothing was published. Inspect them with: select * from {tables.QUARANTINE} "
                f"where run_id = '{run_id}'; fix the files, or raise max_quarantine_share.",
                result,
            )
        _record_touched(con)
        con.execute(
            f"delete from {tables.CONTACTS} where contact_id in (select contact_id from {tables.LOAD_GOOD})"
        )
        con.execute(f"insert into {tables.CONTACTS} by name select * from {tables.LOAD_GOOD}")
        result.contacts_delivered = con.execute(f"select count(*) from {tables.LOAD_GOOD}").fetchone()[0]
        con.execute("commit")
    except QuarantineThresholdError:
        raise
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.execute(f"drop table if exists {tables.LOAD_BATCH}")
    return result

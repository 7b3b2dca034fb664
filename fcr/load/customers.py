"""Load the optional customers file(s) (segment, lifetime value, churn) into raw.customers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import duckdb
import pyarrow as pa

from fcr import sqlfiles, tables
from fcr.config import CUSTOMER_COLUMNS, Config
from fcr.load import quarantine
from fcr.load.contacts import QuarantineThresholdError, stage_files
from fcr.load.read import FileLoadError, describe_columns, expand_paths

BATCH_COLUMNS = (*CUSTOMER_COLUMNS, "source_file", "source_line", "file_order")


@dataclass
class CustomersLoad:
    """What loading the customers file(s) did, for the summary and tests."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_quarantined: int = 0
    customers_delivered: int = 0
    quarantine_by_rule: dict[str, int] = field(default_factory=dict)


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create raw.customers empty when no customers file was ever loaded, so models can read it."""
    con.execute(
        f"create table if not exists {tables.CUSTOMERS} (customer_id varchar, segment varchar, "
        "lifetime_value double, churned_at timestamptz, source_file varchar, source_line bigint)"
    )


def has_customers(con: duckdb.DuckDBPyConnection) -> bool:
    """True when customer data was loaded (by this run or an earlier one)."""
    ensure_table(con)
    return con.execute(f"select count(*) > 0 from {tables.CUSTOMERS}").fetchone()[0]


def _canonical(table: pa.Table, path: Path, file_order: int, config: Config) -> pa.Table:
    present = set(table.column_names)
    source_id = config.customers.source_column("customer_id")
    if source_id not in present:
        raise FileLoadError(
            f"{path}: required column customer_id (source column {source_id!r}) missing. Columns in the "
            f"file: {describe_columns(sorted(present - {'source_line'}))}. "
            "Map it under [customers.columns] in the config."
        )
    n = table.num_rows
    arrays = []
    for column in CUSTOMER_COLUMNS:
        source = config.customers.source_column(column)
        arrays.append(table[source] if source in present else pa.nulls(n, pa.string()))
    arrays += [pa.array([str(path)] * n, pa.string()), table["source_line"], pa.array([file_order] * n)]
    return pa.Table.from_arrays(arrays, names=list(BATCH_COLUMNS))


def _merge(con: duckdb.DuckDBPyConnection) -> int:
    """Upsert the good rows: a re-delivered customer_id replaces the old row (latest file, then line)."""
    con.execute(
        f"create or replace temp table customers_good as "
        f"select customer_id, segment, lifetime_value, churned_at, source_file, source_line "
        f"from {tables.CUSTOMERS_TYPED} where quarantine_rule is null "
        "qualify row_number() over (partition by customer_id order by file_order desc, source_line desc) = 1"
    )
    con.execute(
        f"delete from {tables.CUSTOMERS} where customer_id in (select customer_id from customers_good)"
    )
    con.execute(f"insert into {tables.CUSTOMERS} by name select * from customers_good")
    delivered = con.execute("select count(*) from customers_good").fetchone()[0]
    con.execute("drop table customers_good")
    return delivered


def load_customers(
    con: duckdb.DuckDBPyConnection,
    patterns: list[str],
    config: Config,
    run_id: str,
    on_progress: Callable[[str], None] = lambda _: None,
) -> CustomersLoad:
    """Load customers files (CSV/Parquet/JSONL, paths or globs); bad rows go to raw.quarantine."""
    paths = expand_paths(patterns)
    ensure_table(con)
    sources = stage_files(
        con, tables.CUSTOMERS_BATCH, CUSTOMER_COLUMNS, paths, config, partial(_canonical, config=config)
    )
    result = CustomersLoad(
        files=[str(s.path) for s in sources],
        rows_read=sum(s.rows_read + len(s.malformed) for s in sources),
    )
    params = {"source_tz": config.source_timezone, "timestamp_formats": config.timestamp_formats}
    sqlfiles.build(con, "staging/stg_customers", tables.CUSTOMERS_TYPED, params)

    def merge() -> None:
        result.customers_delivered = _merge(con)

    try:
        rows_sql = (
            "select source_file, source_line, quarantine_rule, quarantine_detail, raw_record, $run_id "
            f"from {tables.CUSTOMERS_TYPED} where quarantine_rule is not null"
        )
        result.quarantine_by_rule, merged = quarantine.commit_load(
            con, sources, rows_sql, run_id, result.rows_read, config.max_quarantine_share, merge
        )
        result.rows_quarantined = sum(result.quarantine_by_rule.values())
        if not merged:
            share = result.rows_quarantined / result.rows_read
            raise QuarantineThresholdError(
                f"{result.rows_quarantined:,} of {result.rows_read:,} customer rows ({share:.2%}) "
                f"broke rules ({result.quarantine_by_rule}), "
                f"above max_quarantine_share {config.max_quarantine_share:.2%}. Nothing was published. "
                f"Inspect them in {tables.QUARANTINE} (run_id '{run_id}'), fix the file, or raise "
                "max_quarantine_share."
            )
    finally:
        con.execute(f"drop table if exists {tables.CUSTOMERS_BATCH}")
        con.execute(f"drop table if exists {tables.CUSTOMERS_TYPED}")
    on_progress(
        f"customers: {result.customers_delivered:,} loaded, {result.rows_quarantined:,} quarantined "
        f"from {len(paths)} file(s)"
    )
    return result

"""Copy the published tables to a PostgreSQL schema BI tools query, all of one publish in one transaction.

Each table's rows are replaced inside one transaction: the old rows deleted and the new ones
bulk-loaded through Arrow (ADBC's ingest, COPY underneath). A BI query reads under MVCC, so it
sees the previous publish or the new one, never a mix, and never waits for the write. A table
whose columns changed (a new fcr version) is built under a new name with its primary key,
indexes and the comments of fcr/schema.yml and renamed in, in the same transaction. Any failure
rolls it back, so the previous tables stay as they were. A small serving_manifest table says
which run the tables come from and how many rows each holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import duckdb
import pyarrow as pa

from fcr import tables
from fcr.docs import load_schema
from fcr.publish.serve import ServeError, published_relations

MANIFEST_TABLE = "serving_manifest"
_INCOMING = "__incoming"
_PROBE = "fcr_column_probe"
# how long the swap keeps trying to take the live tables from BI queries, and how long each try waits
# (below PostgreSQL's deadlock_timeout of 1 s, so a reader waiting on the swap is never the one aborted)
SWAP_WAIT_SECONDS = 60.0
_LOCK_TIMEOUT_MS = 200
# money is numeric in PostgreSQL, to the cent (what the scorecard shows); DECISIONS.md says why
_MONEY = "decimal(18, 2)"


@dataclass
class PostgresResult:
    """Which server and schema took the tables, and their rows."""

    server: str
    schema: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def server_name(url: str) -> str:
    """user@host:port/database of a postgresql:// URL: how messages name the server, never its password."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{user}{parts.hostname or 'localhost'}{port}{parts.path or '/'}"


def serve_postgres(con: duckdb.DuckDBPyConnection, url: str, schema: str, run_id: str) -> PostgresResult:
    """Replace every published table (views materialised) in `schema` on the server, all or nothing."""
    import adbc_driver_manager
    import adbc_driver_postgresql.dbapi as postgres

    clock = time.perf_counter()
    result = PostgresResult(server=server_name(url), schema=schema)
    documented = load_schema()
    step = "connecting"
    try:
        with postgres.connect(url) as server, server.cursor() as cursor:
            cursor.execute("set local standard_conforming_strings = on")
            cursor.execute(f'create schema if not exists "{schema}"')
            renamed: dict[str, dict] = {}
            for name in published_relations(con):
                step = f"loading {schema}.{name}"
                spec = documented.get(f"{tables.PUBLISHED}.{name}", {})
                result.rows[name] = _replace(cursor, schema, name, _rows(con, name, spec), spec, renamed)
            step = f"loading {schema}.{MANIFEST_TABLE}"
            _replace(cursor, schema, MANIFEST_TABLE, _manifest(result.rows, run_id), _MANIFEST_SPEC, renamed)
            step = f"renaming the rebuilt tables into {schema}"
            _swap_all(cursor, schema, renamed)
            server.commit()
    except (adbc_driver_manager.Error, duckdb.Error, OSError) as exc:
        raise ServeError(
            f"the run published, but serving to PostgreSQL at {result.server} failed while {step}: "
            f"{' '.join(str(exc).split())} (the tables there are still the previous publish's)"
        ) from exc
    result.seconds = time.perf_counter() - clock
    return result


_MANIFEST_SPEC = {
    "description": "Which fcr run the tables in this schema come from, and the rows of each.",
    "primary_key": ["table_name"],
    "columns": {
        "table_name": "A table of this schema (published.<table_name> in the pipeline's database).",
        "rows": "Its rows.",
        "run_id": "The run that published it (published.pipeline_runs in the pipeline's database).",
        "served_at": "When it was written here.",
    },
}


def _rows(con: duckdb.DuckDBPyConnection, name: str, spec: dict) -> pa.RecordBatchReader:
    """The published table as an Arrow stream, money columns as decimals."""
    casts = [f'"{column}"::{_MONEY} as "{column}"' for column in spec.get("money", [])]
    replace = f" replace ({', '.join(casts)})" if casts else ""
    return con.sql(f"select *{replace} from {tables.PUBLISHED}.{name}").to_arrow_reader()


def _manifest(rows: dict[str, int], run_id: str) -> pa.Table:
    served_at = datetime.now(UTC)
    return pa.table(
        {
            "table_name": pa.array(list(rows), pa.string()),
            "rows": pa.array(list(rows.values()), pa.int64()),
            "run_id": pa.array([run_id] * len(rows), pa.string()),
            "served_at": pa.array([served_at] * len(rows), pa.timestamp("us", tz="UTC")),
        }
    )


def _replace(cursor, schema: str, name: str, data, spec: dict, renamed: dict[str, dict]) -> int:
    """Put `data` in place of the table's rows; a table with other columns is rebuilt for renaming."""
    if _same_columns(cursor, schema, name, data.schema):
        cursor.execute(f'delete from "{schema}"."{name}"')
        rows = cursor.adbc_ingest(name, data, mode="append", db_schema_name=schema)
        _comment(cursor, schema, name, spec)
        return rows
    renamed[name] = spec
    return _load_incoming(cursor, schema, name, data, spec)


def _same_columns(cursor, schema: str, name: str, arrow_schema: pa.Schema) -> bool:
    """Whether the live table has the columns (names, types, order) ingesting this schema would create."""
    live = _columns_of(cursor, f'"{schema}"."{name}"')
    if not live:
        return False
    cursor.adbc_ingest(_PROBE, arrow_schema.empty_table(), mode="replace", temporary=True)
    return _columns_of(cursor, f"pg_temp.{_PROBE}") == live


def _columns_of(cursor, relation: str) -> list[tuple]:
    return _fetch(
        cursor,
        "select attname, format_type(atttypid, atttypmod) from pg_attribute "
        f"where attrelid = to_regclass('{relation}') and attnum > 0 and not attisdropped order by attnum",
    )


def _load_incoming(cursor, schema: str, name: str, data, spec: dict) -> int:
    """Bulk-load `data` as <name>__incoming with its key, indexes and comments; its row count."""
    incoming = f"{name}{_INCOMING}"
    rows = cursor.adbc_ingest(incoming, data, mode="replace", db_schema_name=schema)
    if spec.get("primary_key"):
        cursor.execute(
            f'alter table "{schema}"."{incoming}" add constraint "{incoming}_pkey" '
            f"primary key ({_columns(spec['primary_key'])})"
        )
    for number, columns in enumerate(spec.get("indexes", []), start=1):
        cursor.execute(f'create index "{incoming}_{number}" on "{schema}"."{incoming}" ({_columns(columns)})')
    _comment(cursor, schema, incoming, spec)
    return rows


def _comment(cursor, schema: str, table: str, spec: dict) -> None:
    """The table's and its columns' meanings from fcr/schema.yml, where BI tools show them."""
    cursor.execute(f'comment on table "{schema}"."{table}" is {_literal(spec.get("description", ""))}')
    for column, meaning in spec.get("columns", {}).items():
        cursor.execute(f'comment on column "{schema}"."{table}"."{column}" is {_literal(meaning)}')


def _swap_all(cursor, schema: str, specs: dict[str, dict]) -> None:
    """Rename the rebuilt tables in once no reader holds the live ones.

    The swap locks those live tables first. A BI query that holds one of them while it waits for
    another would deadlock with a swap that waits for it, so each try waits a moment at most, lets
    go of what it took (a PL/pgSQL block's subtransaction) and tries again: readers are never
    aborted. Only a new fcr version's changed tables take this path; other publishes replace rows.
    """
    live = [
        row[0]
        for row in _fetch(cursor, f"select tablename from pg_tables where schemaname = '{schema}'")
        if row[0] in specs
    ]
    if live:
        locked = ", ".join(f'"{schema}"."{name}"' for name in live)
        cursor.execute(
            f"""
            do $swap$
            declare
                deadline timestamptz := clock_timestamp() + interval '{SWAP_WAIT_SECONDS} seconds';
            begin
                loop
                    begin
                        perform set_config('lock_timeout', '{_LOCK_TIMEOUT_MS}ms', true);
                        lock table {locked} in access exclusive mode;
                        exit;
                    exception when lock_not_available then
                        if clock_timestamp() > deadline then
                            raise;
                        end if;
                        perform pg_sleep(0.05);
                    end;
                end loop;
                perform set_config('lock_timeout', '0', true);
            end
            $swap$
            """
        )
    for name, spec in specs.items():
        _swap(cursor, schema, name, spec)


def _fetch(cursor, sql: str) -> list[tuple]:
    cursor.execute(sql)
    return cursor.fetchall()


def _swap(cursor, schema: str, name: str, spec: dict) -> None:
    """Drop the live table and rename the incoming one (and its indexes) to the live names."""
    incoming = f"{name}{_INCOMING}"
    cursor.execute(f'drop table if exists "{schema}"."{name}"')
    cursor.execute(f'alter table "{schema}"."{incoming}" rename to "{name}"')
    suffixes = (["pkey"] if spec.get("primary_key") else []) + [
        str(n) for n in range(1, len(spec.get("indexes", [])) + 1)
    ]
    for suffix in suffixes:
        cursor.execute(f'alter index "{schema}"."{incoming}_{suffix}" rename to "{name}_{suffix}"')


def _columns(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings is on): COMMENT takes no bind parameters."""
    return "'" + " ".join(str(text).split()).replace("'", "''") + "'"

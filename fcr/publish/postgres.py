"""Copy the published tables to a PostgreSQL schema BI tools query, one publish swapped in whole.

Each table is bulk-loaded through Arrow (ADBC's ingest, COPY underneath) under a new name, with
its primary key, indexes and the comments of fcr/schema.yml, and committed. Once every statement
that started before that commit has finished, one short transaction drops the old tables and
renames the new ones in: a BI query sees the previous publish or the new one, never a mix, an
empty table or a missing one, and waits at most for the renames. A failure before the swap
leaves the previous tables as they were. A small serving_manifest table says which run the
tables come from and how many rows each holds.
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
            cursor.execute("set standard_conforming_strings = on")
            cursor.execute(f'create schema if not exists "{schema}"')
            specs: dict[str, dict] = {}
            for name in published_relations(con):
                step = f"loading {schema}.{name}"
                specs[name] = documented.get(f"{tables.PUBLISHED}.{name}", {})
                result.rows[name] = _load_incoming(
                    cursor, schema, name, _rows(con, name, specs[name]), specs[name]
                )
            step = f"loading {schema}.{MANIFEST_TABLE}"
            specs[MANIFEST_TABLE] = _MANIFEST_SPEC
            _load_incoming(cursor, schema, MANIFEST_TABLE, _manifest(result.rows, run_id), _MANIFEST_SPEC)
            server.commit()  # the new tables, under names no reader uses
            step = f"swapping the new tables into {schema}"
            _wait_for_older_statements(cursor)
            _swap_all(cursor, schema, specs)
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


def _load_incoming(cursor, schema: str, name: str, data, spec: dict) -> int:
    """Bulk-load `data` as <name>__incoming with its key, indexes, statistics and comments; its rows.

    The table is written once and never updated, so autovacuum has nothing to reclaim; it is kept
    off, with the statistics taken here, because its lock would hold up the swap (it yields only
    to a lock wait longer than deadlock_timeout, and the swap's waits are shorter).
    """
    incoming = f"{name}{_INCOMING}"
    rows = cursor.adbc_ingest(incoming, data, mode="replace", db_schema_name=schema)
    no_autovacuum = "autovacuum_enabled = false, toast.autovacuum_enabled = false"
    cursor.execute(f'alter table "{schema}"."{incoming}" set ({no_autovacuum})')
    for suffix, columns in _indexes(spec).items():
        if suffix == "pkey":
            cursor.execute(
                f'alter table "{schema}"."{incoming}" add constraint "{incoming}_pkey" '
                f"primary key ({_columns(columns)})"
            )
        else:
            cursor.execute(
                f'create index "{incoming}_{suffix}" on "{schema}"."{incoming}" ({_columns(columns)})'
            )
    cursor.execute(f'analyze "{schema}"."{incoming}"')
    _comment(cursor, schema, incoming, spec)
    return rows


def _comment(cursor, schema: str, table: str, spec: dict) -> None:
    """The table's and its columns' meanings from fcr/schema.yml, where BI tools show them."""
    cursor.execute(f'comment on table "{schema}"."{table}" is {_literal(spec.get("description", ""))}')
    for column, meaning in spec.get("columns", {}).items():
        cursor.execute(f'comment on column "{schema}"."{table}"."{column}" is {_literal(meaning)}')


def _wait_for_older_statements(cursor) -> None:
    """Wait until no statement that started before the new tables were committed is still running.

    Such a statement reads under a snapshot that cannot see the new tables' rows: had it met the
    swap, it would have read them as empty. Statements that start later see them whole. The wait
    is capped at SWAP_WAIT_SECONDS (a reader in a long repeatable-read transaction is not waited for).
    """
    cursor.execute("select set_config('fcr.tables_committed_at', clock_timestamp()::text, false)")
    older = (
        "select count(*) from pg_stat_activity where pid <> pg_backend_pid() and state = 'active' "
        "and datname = current_database() and backend_type = 'client backend' "
        "and query_start < current_setting('fcr.tables_committed_at')::timestamptz"
    )
    deadline = time.monotonic() + SWAP_WAIT_SECONDS
    while _fetch(cursor, older)[0][0] and time.monotonic() < deadline:
        time.sleep(0.01)


def _swap_all(cursor, schema: str, specs: dict[str, dict]) -> None:
    """Drop the live tables and rename the new ones in, once no reader holds the live ones.

    The swap locks the live tables first. A BI query that holds one of them while it waits for
    another would deadlock with a swap that waits for it, so each try waits a moment at most, lets
    go of what it took (a PL/pgSQL block's subtransaction) and tries again: readers are never aborted.
    """
    live = [
        row[0]
        for row in _fetch(cursor, "select tablename from pg_tables where schemaname = $1", (schema,))
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


def _fetch(cursor, sql: str, parameters: tuple = ()) -> list[tuple]:
    cursor.execute(sql, parameters or None)
    return cursor.fetchall()


def _swap(cursor, schema: str, name: str, spec: dict) -> None:
    """Drop the live table and rename the incoming one (and its indexes) to the live names."""
    incoming = f"{name}{_INCOMING}"
    cursor.execute(f'drop table if exists "{schema}"."{name}"')
    cursor.execute(f'alter table "{schema}"."{incoming}" rename to "{name}"')
    for suffix in _indexes(spec):
        cursor.execute(f'alter index "{schema}"."{incoming}_{suffix}" rename to "{name}_{suffix}"')


def _indexes(spec: dict) -> dict[str, list[str]]:
    """A table's indexes by the suffix of their names (<table>_pkey, <table>_1, ...): their columns."""
    named = {"pkey": spec["primary_key"]} if spec.get("primary_key") else {}
    return named | {str(n): columns for n, columns in enumerate(spec.get("indexes", []), start=1)}


def _columns(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings is on): COMMENT takes no bind parameters."""
    return "'" + " ".join(str(text).split()).replace("'", "''") + "'"

"""How long the PostgreSQL serving copy takes for a pipeline database's published tables.

.venv/bin/python -m bench.bench_postgres --db DIR/bench.duckdb --url postgresql://user@host/db [--repeat 2]

Serves the database's published tables to schema `bench` of the server `--repeat` times (the
first creates the tables, later ones replace them, as daily runs do) and prints, for each, wall
and CPU seconds of this process, its peak RSS, the rows written and the schema's size on the
server. Point it at a throwaway server or database: it replaces schema `bench` there.
bench.bench_full_run --keep DIR leaves a 10M-contact database to serve.
"""

from __future__ import annotations

import argparse
import time

import duckdb

from bench._measure import peak_rss_mb
from fcr.publish.postgres import serve_postgres, server_name


def _schema_mb(url: str, schema: str) -> float:
    import adbc_driver_postgresql.dbapi as postgres

    with postgres.connect(url, autocommit=True) as server, server.cursor() as cursor:
        cursor.execute(
            "select coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'r'",
            parameters=(schema,),
        )
        return cursor.fetchone()[0] / 1e6


def main() -> None:
    """Serve the published tables `--repeat` times and print what each took."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="a pipeline database (DuckDB file) with published tables")
    parser.add_argument(
        "--url", required=True, help="postgresql:// URL of a server to write schema `bench` to"
    )
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    con = duckdb.connect(args.db, read_only=True)
    con.execute("set memory_limit = '2GB'")
    print(f"serving {args.db} to {server_name(args.url)}, schema bench")
    for attempt in range(1, args.repeat + 1):
        clock, cpu = time.perf_counter(), time.process_time()
        result = serve_postgres(con, args.url, "bench", f"bench-{attempt}")
        wall, cpu = time.perf_counter() - clock, time.process_time() - cpu
        print(
            f"  serve {attempt}: {wall:8.2f} s wall {cpu:8.2f} s CPU"
            f"  rows {sum(result.rows.values()):,} in {len(result.rows)} tables"
            f"  schema {_schema_mb(args.url, 'bench'):,.0f} MB  peak RSS {peak_rss_mb():,} MB"
        )


if __name__ == "__main__":
    main()

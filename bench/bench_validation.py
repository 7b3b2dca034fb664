"""Validation cost: the suites on DataFrames (what fcr does) against GX on the DuckDB tables.

.venv/bin/python -m bench.bench_validation --contacts 10000000 [--keep DIR]
.venv/bin/python -m bench.bench_validation --db PATH   (a database `fcr run` built; it is modified)

Builds a database with N generated contacts loaded and linked (no validation), then runs, each in
its own process: the input and output suites as fcr runs them (pandas frames, hash chunks); the
input suite on one unchunked frame; and the same suites through GX's SQL datasource on the DuckDB
tables (needs `pip install duckdb-engine`), counting how many expectations it could evaluate.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bench._data import sample
from bench._measure import finish, measure

SQL_SUITES = {"contacts_batch": "raw.contacts", "metrics": "staging.metrics"}


def _files(con) -> list[str]:
    return [r[0] for r in con.execute("select distinct source_file from raw.contacts").fetchall()]


def prepare(contacts: str, db: str) -> None:
    """Load and link the contacts with the pipeline's own steps, leaving validation to the steps below."""
    from fcr import db as fcr_db
    from fcr.config import build_config
    from fcr.run import resolve_watermark, step_load, step_transform

    config = build_config({"max_quarantine_share": 1.0})  # the 2 GB default holds at 10M since the cases fix
    start = time.perf_counter()
    con = fcr_db.connect(db, memory_limit=config.memory_limit)
    step_load(con, [contacts], config, "bench")
    counts = step_transform(con, config, resolve_watermark(con, None))
    con.close()
    finish({"seconds": round(time.perf_counter() - start, 2), "contacts": counts["contacts"]})


def dataframes(db: str, chunk_rows: str) -> None:
    """Both stages as a run does them: sql/checks frames fetched through Arrow into pandas, then GX."""
    from fcr import db as fcr_db
    from fcr.config import build_config
    from fcr.validate.suites import validate_input, validate_outputs

    config = build_config({"validation": {"chunk_rows": int(chunk_rows)}})
    con = fcr_db.connect(db, memory_limit=config.memory_limit)
    start = time.perf_counter()
    import great_expectations  # noqa: F401  (timed apart: a run pays it once)

    imported = time.perf_counter()
    con.execute("drop table if exists raw.validated_files")  # check the whole batch every time
    inputs = validate_input(con, config, _files(con))
    outputs = validate_outputs(con, config)
    con.execute("drop table if exists raw.validated_files")
    con.close()
    finish(
        {
            "seconds": round(time.perf_counter() - start, 2),
            "import_seconds": round(imported - start, 2),
            "input_seconds": round(inputs.seconds, 2),
            "output_seconds": round(outputs.seconds, 2),
            "rows": inputs.rows.get("contacts_batch", 0),
            "expectations": inputs.expectations + outputs.expectations,
            "failed": [f.qualified_name for f in inputs.failures + outputs.failures],
        }
    )


def sql_datasource(db: str) -> None:
    """The same suites through GX's SQL datasource on the DuckDB tables (duckdb-engine)."""
    import great_expectations as gx

    from fcr.config import Config
    from fcr.validate.suites import gx_suite, load_suite, suite_parameters

    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql("duckdb", connection_string=f"duckdb:///{db}")
    start = time.perf_counter()
    held, evaluated, total, errors = 0, 0, 0, set()
    for suite_name, table in SQL_SUITES.items():
        schema, name = table.split(".")
        asset = source.add_table_asset(suite_name, table_name=name, schema_name=schema)
        batch = asset.add_batch_definition_whole_table("whole").get_batch()
        suite = gx_suite(load_suite(suite_name))
        derived = "bucketed_mature_cases"  # a column the check SQL adds, not in the table
        suite.expectations = [e for e in suite.expectations if getattr(e, "column_A", "") != derived]
        result = batch.validate(suite, expectation_parameters=suite_parameters(Config()))
        for r in result.results:
            total += 1
            held += bool(r.success)
            raised = r.exception_info.get("raised_exception") if r.exception_info else False
            evaluated += not raised and r.result != {}
            if raised:
                errors.add(str(r.exception_info.get("exception_message"))[:80])
    finish(
        {
            "seconds": round(time.perf_counter() - start, 2),
            "expectations": total,
            "held": held,
            "evaluated": evaluated,
            "errors": sorted(errors)[:3],
        }
    )


def main() -> None:
    """Generate N contacts (or reuse --keep), prepare the database once, print each way's figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--chunk-rows", type=int, default=2_000_000)
    parser.add_argument("--keep", type=Path, help="folder to keep the data and database in")
    parser.add_argument("--db", type=Path, help="validate this database (built by fcr run) instead")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fcr-bench-"))
    db = args.db or folder / f"validation_{args.contacts}.duckdb"
    if not db.exists():
        data = sample(folder, args.contacts, args.days)
        print(f"loading and linking them into {db} ...", flush=True)
        prepared = measure("bench.bench_validation", "prepare", str(data), str(db))
        print(f"  {prepared['contacts']:,} contacts in {prepared['seconds']:.1f} s", flush=True)
    chunked = measure("bench.bench_validation", "dataframes", str(db), str(args.chunk_rows))
    whole = measure("bench.bench_validation", "dataframes", str(db), str(10**12))
    print(f"input batch: {chunked['rows']:,} rows; {chunked['expectations']} expectations in all")
    for label, r in ((f"frames, chunks of {args.chunk_rows:,}", chunked), ("frames, one frame", whole)):
        print(
            f"{label:>28}: input {r['input_seconds']:7.2f} s  output {r['output_seconds']:6.2f} s  "
            f"GX import {r['import_seconds']:5.2f} s  peak {r['peak_rss_mb']:6,} MB  failed {r['failed']}"
        )
    try:
        import duckdb_engine  # noqa: F401
    except ImportError:
        print("GX SQL datasource on the DuckDB tables: skipped (pip install duckdb-engine to compare)")
        return
    sql = measure("bench.bench_validation", "sql_datasource", str(db))
    print(
        f"{'GX SQL datasource on tables':>28}: {sql['seconds']:7.2f} s  peak {sql['peak_rss_mb']:6,} MB  "
        f"held {sql['held']}/{sql['expectations']} on good data, evaluated {sql['evaluated']} {sql['errors']}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("prepare", "dataframes", "sql_datasource"):
        step, *rest = sys.argv[1:]
        {"prepare": prepare, "dataframes": dataframes, "sql_datasource": sql_datasource}[step](*rest)
    else:
        main()

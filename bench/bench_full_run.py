"""A full run against the two peers a user would write instead, on one generated file (issue targets).

.venv/bin/python -m bench.bench_full_run --contacts 10000000 [--format csv] [--keep DIR] [--memory-limit 2GB]

Each of the three runs alone in its own process: `fcr run --full` with the default config
(8 sensitivity definitions, serving copy on), the bare DuckDB gaps-and-islands query, and the
straightforward pandas script. Prints wall and CPU seconds, peak RSS, the database's size against
the input's Parquet size, and where the full run's time went (from its run-log row).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import duckdb

from bench._data import sample
from bench._measure import measure


def _run_log(db: Path, run_id: str) -> tuple[dict[str, float], dict[str, float]]:
    with duckdb.connect(str(db), read_only=True) as con:
        steps, parts = con.execute(
            "select step_seconds, transform_seconds from published.pipeline_runs where run_id = $id",
            {"id": run_id},
        ).fetchone()
    return json.loads(steps), json.loads(parts)


def main() -> None:
    """Generate N contacts, run all three side by side, print times, memory, sizes and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv", help="the input file's format")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit of the full run")
    parser.add_argument("--keep", type=Path, help="folder to keep the data in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fcr-bench-"))
    data = sample(folder, args.contacts, args.days, args.format)
    parquet_bytes = sample(folder, args.contacts, args.days, "parquet").stat().st_size
    db = folder / "bench.duckdb"
    db.unlink(missing_ok=True)
    full = measure("bench.steps", "fcr_run", str(data), str(db), "full", args.memory_limit)
    bare = measure("bench.steps", "duckdb_bare", str(data))
    pandas = measure("bench.steps", "pandas", str(data))
    size_mb = data.stat().st_size / 1e6
    print(f"input: {data.name} ({size_mb:,.0f} MB)  contacts: {args.contacts:,}  cases: {full['cases']:,}")
    for name, r in (("fcr run --full", full), ("bare DuckDB query", bare), ("pandas script", pandas)):
        print(
            f"{name:>18}: {r['seconds']:8.2f} s wall  {r['cpu_seconds']:8.2f} s CPU  "
            f"peak RSS {r['peak_rss_mb']:6,} MB"
        )
    steps, parts = _run_log(db, full["run_id"])
    print("where the full run's time went (run log, seconds):")
    for name, seconds in steps.items():
        print(f"  {name:<22} {seconds:8.2f}")
        if name == "transform":
            for part, part_seconds in parts.items():
                print(f"    {part:<20} {part_seconds:8.2f}")
    db_bytes = db.stat().st_size
    wall_ratio = full["seconds"] / bare["seconds"]
    print(f"full run / bare query: {wall_ratio:.2f}x wall (target <= 4x)")
    print(f"full run / pandas:     {full['seconds'] / pandas['seconds']:.2f}x wall (target < 1x)")
    peak = full["peak_rss_mb"]
    print(f"peak RSS:              {peak:,} MB with memory_limit {args.memory_limit} (target <= 2,500 MB)")
    print(
        f"database file:         {db_bytes / 1e6:,.0f} MB = {db_bytes / parquet_bytes:.1f}x the input's "
        f"Parquet ({parquet_bytes / 1e6:,.0f} MB; target <= 4x)"
    )


if __name__ == "__main__":
    main()

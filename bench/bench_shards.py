"""Full runs with the linking split into N shards, side by side, on one generated file.

.venv/bin/python -m bench.bench_shards --contacts 10000000 [--shards 1 2 4] [--keep DIR] [--memory-limit 2GB]

Each run is `fcr run --full` with `shards = N`, alone in its own process (N = 1 is the unsharded
run). Prints each run's wall and CPU seconds and the run process's peak RSS; the split, linking
and read-back times from its run log; each shard's seconds and peak RSS (each shard is a process
of its own); and whether every published table equals the first run's.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import duckdb

from bench._data import sample
from bench._measure import measure
from bench.bench_full_run import _run_log

PUBLISHED = ("cases", "case_contacts", "metrics", "fcr_sensitivity", "channel_flow", "reason_priority")


def _identical(first: Path, other: Path) -> bool:
    """Every published table holds the same rows in both databases (except all, both ways)."""
    with duckdb.connect() as con:
        con.execute("attach $path as a (read_only)", {"path": str(first)})
        con.execute("attach $path as b (read_only)", {"path": str(other)})
        for table in PUBLISHED:
            for left, right in (("a", "b"), ("b", "a")):
                only = f"from {left}.published.{table} except all from {right}.published.{table}"
                if con.execute(f"select count(*) from ({only})").fetchone()[0]:
                    return False
    return True


def main() -> None:
    """Generate N contacts, run fcr with each shard count, print where the time and memory went."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--memory-limit", default="2GB", help="DuckDB memory_limit of the run and of each shard"
    )
    parser.add_argument("--keep", type=Path, help="folder to keep the data in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fcr-bench-"))
    data = sample(folder, args.contacts, args.days, "csv")
    print(f"input: {data.name} ({data.stat().st_size / 1e6:,.0f} MB), memory_limit {args.memory_limit}")
    first: Path | None = None
    for count in args.shards:
        db = folder / f"shards_{count}.duckdb"
        db.unlink(missing_ok=True)
        result = measure("bench.steps", "fcr_run", str(data), str(db), "full", args.memory_limit, str(count))
        steps, parts = _run_log(db, result["run_id"])
        linking = parts.get("shards", parts.get("link", 0) + parts.get("sensitivity", 0))
        after = steps["transform"] - linking - parts.get("collect", 0)
        print(
            f"shards = {count}: {result['seconds']:8.2f} s wall  {result['cpu_seconds']:8.2f} s CPU  "
            f"run process peak RSS {result['peak_rss_mb']:6,} MB  ({result['cases']:,} cases)"
        )
        print(
            f"  split {steps.get('shard', 0):7.2f} s   linking {linking:7.2f} s   "
            f"read back {parts.get('collect', 0):7.2f} s   rest of the transform {after:7.2f} s"
        )
        for shard in result["shards_linked"]:
            print(
                f"    shard {shard['shard']}: {shard['contacts']:>11,} contacts  {shard['seconds']:8.2f} s  "
                f"peak RSS {shard['peak_rss_mb']:6,} MB"
            )
        if first is None:
            first = db
        else:
            print(f"  published tables identical to shards = {args.shards[0]}: {_identical(first, db)}")


if __name__ == "__main__":
    main()

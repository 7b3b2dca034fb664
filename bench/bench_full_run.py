"""SPEC §8: a full run against a bare DuckDB linking query and a straightforward pandas version.

.venv/bin/python -m bench.bench_full_run --contacts 1000000 [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench._data import sample
from bench._measure import measure


def main() -> None:
    """Generate N contacts, run all three side by side, print times, peak memory and ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--keep", type=Path, help="folder to keep the data in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fcr-bench-"))
    data = sample(folder, args.contacts, args.days)
    db = folder / "bench.duckdb"
    db.unlink(missing_ok=True)
    full = measure("bench.steps", "fcr_run", str(data), str(db))
    bare = measure("bench.steps", "duckdb_bare", str(data))
    pandas = measure("bench.steps", "pandas", str(data))
    print(f"contacts: {args.contacts:,}  cases: {full['cases']:,}")
    for name, r in (("fcr full run", full), ("bare DuckDB query", bare), ("pandas", pandas)):
        print(f"{name:>20}: {r['seconds']:8.2f} s  peak {r['peak_rss_mb']:6,} MB")
    print(f"full run / bare query: {full['seconds'] / bare['seconds']:.2f}x (target <= 2x)")
    print(f"pandas / full run:     {pandas['seconds'] / full['seconds']:.2f}x (target >= 5x)")


if __name__ == "__main__":
    main()

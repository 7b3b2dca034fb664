"""Print how long the scorecard takes to render and how big the file is, for a published database.

    .venv/bin/fcr generate --contacts 1000000 --out /tmp/1m.parquet
    .venv/bin/fcr run --contacts /tmp/1m.parquet --db /tmp/1m.duckdb
    .venv/bin/python -m bench.bench_scorecard --db /tmp/1m.duckdb

The scorecard reads aggregated tables only, so its cost should not grow with the contact count.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from fcr.config import load_config
from fcr.scorecard import write_scorecard

SIZE_LIMIT_BYTES = 5 * 1024 * 1024


def _contacts(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select coalesce(sum(contacts), 0) from published.metrics "
            "where grain = 'month' and dimension = 'all'"
        ).fetchone()[0]


def main() -> None:
    """Render the scorecard a few times in one process and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="published DuckDB file")
    parser.add_argument("--config", type=Path, default=None, help="TOML config file")
    parser.add_argument("--grain", choices=("week", "month"), default=None)
    parser.add_argument("--repeat", type=int, default=3, help="renders to time (the first pays start-up)")
    args = parser.parse_args()
    config = load_config(args.config)

    print(f"database: {args.db} ({_contacts(args.db):,} contacts published)")
    seconds = []
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "scorecard.html"
        for _ in range(args.repeat):
            start = time.perf_counter()
            write_scorecard(args.db, out, config, grain=args.grain)
            seconds.append(time.perf_counter() - start)
        size = out.stat().st_size
    print(
        f"render: first {seconds[0]:.2f} s, median {statistics.median(seconds):.2f} s over {args.repeat} runs"
    )
    verdict = "within" if size <= SIZE_LIMIT_BYTES else "OVER"
    print(f"file size: {size / 1024 / 1024:.2f} MB ({verdict} the 5 MB limit)")


if __name__ == "__main__":
    main()

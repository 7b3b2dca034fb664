"""An incremental daily run (one day on top of a year) against a full recompute.

.venv/bin/python -m bench.bench_incremental --contacts 10000000 [--keep DIR] [--memory-limit 2GB]

The year is split into history (all days but the last) and the last day. The history is run once;
its database is copied, then one copy takes the last day incrementally and the other takes it with
--full, so both start from the same state and differ only in what they recompute.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import duckdb

from bench._data import sample
from bench._measure import measure


def split_last_day(data: Path, folder: Path) -> tuple[Path, Path, dict[str, int], str]:
    """Write history.parquet and last_day.parquet (the 24 hours up to the latest contact); return both."""
    history, day = folder / "history.parquet", folder / "last_day.parquet"
    con = duckdb.connect()
    started = "try_cast(started_at as timestamp)"  # the generator's bad rows stay in the history
    cut = con.execute(  # the last 24 hours before the latest contact make the day
        f"select (max({started}) - interval 24 hour)::varchar from read_parquet($p)", {"p": str(data)}
    ).fetchall()[0][0]
    keeps = {history: f"coalesce({started} < $cut::timestamp, true)", day: f"{started} >= $cut::timestamp"}
    for target, keep in keeps.items():
        con.execute(
            f"copy (select * from read_parquet($p) where {keep}) to '{target}' (format parquet)",
            {"p": str(data), "cut": cut},
        )
    rows = {
        p.name: con.execute("select count(*) from read_parquet($p)", {"p": str(p)}).fetchall()[0][0]
        for p in (history, day)
    }
    con.close()
    return history, day, rows, cut


def main() -> None:
    """Run the history once, then the last day incrementally and as a full recompute; print figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="folder to keep the data in")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit for every run")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fcr-bench-"))
    history, day, rows, cut = split_last_day(sample(folder, args.contacts), folder)
    inc_db, full_db = folder / "incremental.duckdb", folder / "full.duckdb"
    for db in (inc_db, full_db):
        db.unlink(missing_ok=True)
    history_rows, day_rows = rows["history.parquet"], rows["last_day.parquet"]
    print(f"history rows {history_rows:,}; last 24 h rows {day_rows:,} (from {cut})")
    print("running the history, then the last day both ways ...", flush=True)
    base = measure("bench.steps", "fcr_run", str(history), str(inc_db), "auto", args.memory_limit)
    print(f"full run over the history:     {base['seconds']:8.2f} s  peak {base['peak_rss_mb']:,} MB")
    shutil.copyfile(inc_db, full_db)
    daily = measure("bench.steps", "fcr_run", str(day), str(inc_db), "auto", args.memory_limit)
    print(
        f"incremental run of one day:    {daily['seconds']:8.2f} s  peak {daily['peak_rss_mb']:,} MB"
        f"  (full={daily['full']})",
        flush=True,
    )
    full = measure("bench.steps", "fcr_run", str(day), str(full_db), "full", args.memory_limit)
    print(
        f"full recompute with that day:  {full['seconds']:8.2f} s  peak {full['peak_rss_mb']:,} MB"
        f"  (full={full['full']})"
    )
    print(f"incremental / full: {daily['seconds'] / full['seconds']:.1%}  (memory_limit {args.memory_limit})")


if __name__ == "__main__":
    main()

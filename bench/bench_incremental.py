"""An incremental daily run (one day on top of a year) against a full recompute.

.venv/bin/python -m bench.bench_incremental --contacts 10000000 [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import duckdb

from bench._measure import measure
from fcr.generate import SampleSpec, write_sample


def main() -> None:
    """Split a year into history + last day; time full history, the daily increment, and a full run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="folder to keep the data in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fcr-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"contacts_{args.contacts}.parquet"
    if not data.exists():
        print(f"generating {args.contacts:,} contacts into {data} ...", flush=True)
        write_sample(SampleSpec(contacts=args.contacts, days=365), data)
    history, day = folder / "history.parquet", folder / "last_day.parquet"
    con = duckdb.connect()
    cut = con.execute("select max(started_at)[:10] from read_parquet($p)", {"p": str(data)}).fetchone()[0]
    for target, op in ((history, "<"), (day, ">=")):
        con.execute(
            f"copy (select * from read_parquet($p) where started_at {op} $cut) "
            f"to '{target}' (format parquet)",
            {"p": str(data), "cut": cut},
        )
    rows = {
        p.name: con.execute("select count(*) from read_parquet($p)", {"p": str(p)}).fetchone()[0]
        for p in (history, day)
    }
    con.close()
    inc_db, full_db = folder / "incremental.duckdb", folder / "full.duckdb"
    for db in (inc_db, full_db):
        db.unlink(missing_ok=True)
    base = measure("bench.steps", "fcr_run", str(history), str(inc_db))
    daily = measure("bench.steps", "fcr_run", str(day), str(inc_db))
    measure("bench.steps", "fcr_run", str(history), str(full_db))
    full = measure("bench.steps", "fcr_run", str(day), str(full_db), "full")
    print(f"history rows {rows['history.parquet']:,}; last day rows {rows['last_day.parquet']:,} ({cut})")
    print(f"full run over the history:     {base['seconds']:8.2f} s  peak {base['peak_rss_mb']:,} MB")
    print(
        f"incremental run of one day:    {daily['seconds']:8.2f} s  peak {daily['peak_rss_mb']:,} MB"
        f"  (full={daily['full']})"
    )
    print(
        f"full recompute with that day:  {full['seconds']:8.2f} s  peak {full['peak_rss_mb']:,} MB"
        f"  (full={full['full']})"
    )
    print(f"incremental / full: {daily['seconds'] / full['seconds']:.1%}")


if __name__ == "__main__":
    main()

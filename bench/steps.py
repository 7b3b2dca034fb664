"""Benchmark steps, each run in its own process by the bench scripts (python -m bench.steps STEP ...)."""

from __future__ import annotations

import sys
import time

from bench._measure import finish


def _progress(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def fcr_run(contacts: str, db: str, mode: str = "auto", memory_limit: str = "2GB", shards: str = "1") -> None:
    """A pipeline run through the package, as `fcr run` does it; mode 'full' forces a full recompute."""
    from fcr.config import build_config
    from fcr.run import run

    config = build_config({"max_quarantine_share": 1.0, "memory_limit": memory_limit, "shards": int(shards)})
    start = time.perf_counter()
    result = run([contacts], db, config, full=mode == "full", progress=_progress)
    finish(
        {
            "seconds": round(time.perf_counter() - start, 2),
            "cases": result.counts["cases"],
            "full": result.counts["full"],
            "run_id": result.run_id,
            "shards_linked": result.shards_linked,
        }
    )


def _reader(path: str) -> str:
    """How the peers read the bench file: Parquet as it is, CSV as text (the file's bad rows stay rows)."""
    return "read_csv($path, all_varchar = true)" if path.endswith(".csv") else "read_parquet($path)"


def duckdb_bare(contacts: str) -> None:
    """One gaps-and-islands query plus the FCR aggregate: the floor a DuckDB pipeline can reach."""
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    fcr = con.execute(
        """
        with c as (
            select contact_id, customer_id, coalesce(reason, 'unknown') as reason,
                   try_cast(started_at as timestamp) as started_at
            from {reader} where customer_id is not null and customer_id <> ''
        ), g as (
            select *, case when started_at - lag(started_at) over w > interval 7 day
                      or lag(started_at) over w is null then 1 else 0 end as s
            from c window w as (partition by customer_id, reason order by started_at, contact_id)
        ), k as (
            select customer_id, reason,
                   sum(s) over (partition by customer_id, reason order by started_at, contact_id
                                rows unbounded preceding) as case_no
            from g
        ), cases as (select count(*) as n from k group by customer_id, reason, case_no)
        select avg((n = 1)::int) from cases
        """.replace("{reader}", _reader(contacts)),
        {"path": contacts},
    ).fetchone()[0]
    finish({"seconds": round(time.perf_counter() - start, 2), "fcr": fcr})


def pandas_straightforward(contacts: str) -> None:
    """What a straightforward pandas implementation of the same rule costs."""
    import pandas as pd

    start = time.perf_counter()
    columns = ["contact_id", "customer_id", "reason", "started_at"]
    if contacts.endswith(".csv"):
        df = pd.read_csv(contacts, usecols=columns, dtype=str, keep_default_na=False, na_values=[""])
    else:
        df = pd.read_parquet(contacts, columns=columns)
    df = df[df["customer_id"].notna() & (df["customer_id"] != "")].copy()
    df["started_at"] = pd.to_datetime(df["started_at"], errors="coerce")
    df["reason"] = df["reason"].fillna("unknown")
    df = df.sort_values(["customer_id", "reason", "started_at", "contact_id"])
    gap = df.groupby(["customer_id", "reason"])["started_at"].diff()
    df["case_no"] = (gap.isna() | (gap > pd.Timedelta(days=7))).astype(int)
    df["case_no"] = df.groupby(["customer_id", "reason"])["case_no"].cumsum()
    sizes = df.groupby(["customer_id", "reason", "case_no"]).size()
    finish({"seconds": round(time.perf_counter() - start, 2), "fcr": float((sizes == 1).mean())})


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    {"fcr_run": fcr_run, "duckdb_bare": duckdb_bare, "pandas": pandas_straightforward}[step](*args)

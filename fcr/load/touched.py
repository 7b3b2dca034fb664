"""raw.touched: which customers each load changed, so the next transform rebuilds just those.

Loads write it; the transform notes which loads' entries it takes in; the publish that makes those
changes visible forgets exactly them, so a load landing mid-run is kept for the next run.
"""

from __future__ import annotations

import duckdb

from fcr import tables


def ensure_touched(con: duckdb.DuckDBPyConnection) -> None:
    """raw.touched: whose cases loads changed since they were last published, and which load did it."""
    con.execute(
        f"create table if not exists {tables.TOUCHED} "
        "(customer_id varchar, interaction_key varchar, run_id varchar)"
    )
    con.execute(f"alter table {tables.TOUCHED} add column if not exists run_id varchar")


def record_touched(con: duckdb.DuckDBPyConnection, source: str, run_id: str) -> None:
    """Remember the customers and anonymous interactions of the contacts in `source` as changed by run_id."""
    ensure_touched(con)
    con.execute(
        f"insert into {tables.TOUCHED} select distinct customer_id, "
        f"interaction_key(customer_id, interaction_id, contact_id), $run_id from {source}",
        {"run_id": run_id},
    )


def consume_touched(con: duckdb.DuckDBPyConnection) -> None:
    """Note which loads' changes this transform takes in, so its publish forgets those and no others."""
    ensure_touched(con)
    con.execute(
        f"create or replace table {tables.CONSUMED_LOADS} as "
        f"select distinct coalesce(run_id, '') as run_id from {tables.TOUCHED}"
    )


def forget_consumed(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the touched entries the published transform took in; later loads' entries stay."""
    ensure_touched(con)
    con.execute(
        f"delete from {tables.TOUCHED} "
        f"where coalesce(run_id, '') in (select run_id from {tables.CONSUMED_LOADS})"
    )

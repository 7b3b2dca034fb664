"""Decide what a run recomputes: everything, or only the customers and periods new data can change.

Linking is independent per customer and metrics are additive per day, so a run that
rebuilds the touched customers' cases and re-aggregates the periods those cases (and
the watermark's move) touch gives exactly what a full recompute gives.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from fcr import db, sqlfiles, tables
from fcr.config import Config


@dataclass(frozen=True)
class Scope:
    """What one run recomputes."""

    full: bool
    previous_watermark: datetime | None
    reason: str


def definition_fingerprint(config: Config) -> str:
    """Every setting the computed state depends on, as stable JSON."""
    return json.dumps(
        {
            "linking": config.linking.model_dump(mode="json"),
            "sensitivity": config.sensitivity.model_dump(mode="json"),
            "costs": config.costs.model_dump(mode="json"),
            "customers": config.customers.model_dump(mode="json"),
            "business_timezone": config.business_timezone,
        },
        sort_keys=True,
    )


def plan_scope(con: duckdb.DuckDBPyConnection, config: Config, force_full: bool = False) -> Scope:
    """Full when asked, on a new database, after a failed run, or when a linking setting changed."""
    if force_full:
        return Scope(True, None, "a full recompute was asked for")
    if not (db.table_exists(con, tables.PIPELINE_RUNS) and db.table_exists(con, tables.STG_CASES)):
        return Scope(True, None, "first run on this database")
    last = con.execute(
        f"select status, as_of, linking_settings from {tables.PIPELINE_RUNS} "
        "order by finished_at desc limit 1"
    ).fetchall()
    if not last or last[0][0] != "published":
        return Scope(True, None, "the last run did not publish")
    if last[0][2] != definition_fingerprint(config):
        return Scope(True, None, "linking settings changed since the last run: rebuilding every case")
    return Scope(False, last[0][1], "incremental: rebuilding the customers and periods new data touches")


def scope_params(scope: Scope, watermark: datetime) -> dict:
    """Bind parameters the scoped models take."""
    return {"full": scope.full, "previous_watermark": scope.previous_watermark or watermark}


def prepare(con: duckdb.DuckDBPyConnection, scope: Scope, params: dict) -> None:
    """Build the scope tables the models filter on (empty for a full run)."""
    if scope.full:
        con.execute(f"create or replace table {tables.SCOPE_CUSTOMERS} (customer_id varchar)")
        con.execute(f"create or replace table {tables.SCOPE_ANONYMOUS} (interaction_key varchar)")
        return
    con.execute(f"create table if not exists {tables.TOUCHED} (customer_id varchar, interaction_key varchar)")
    sqlfiles.build(con, "intermediate/int_scope_customers", tables.SCOPE_CUSTOMERS, params)
    sqlfiles.build(con, "intermediate/int_scope_anonymous", tables.SCOPE_ANONYMOUS, params)


def mark_affected(con: duckdb.DuckDBPyConnection, scope: Scope, params: dict) -> None:
    """Periods whose metrics can move (from the old state and the new delta): build before merging."""
    if scope.full:
        con.execute(f"create or replace table {tables.AFFECTED_PERIODS} (grain varchar, period_start date)")
        con.execute(f"create or replace table {tables.AFFECTED_DATES} (business_date date)")
        return
    sqlfiles.build(con, "intermediate/int_affected_periods", tables.AFFECTED_PERIODS, params)
    sqlfiles.build(con, "intermediate/int_affected_dates", tables.AFFECTED_DATES, params)


_IN_SCOPE = (
    f"customer_id in (select customer_id from {tables.SCOPE_CUSTOMERS})"
    f" or (customer_id is null and interaction_key in (select interaction_key from {tables.SCOPE_ANONYMOUS}))"
)
_CUSTOMER_IN_SCOPE = f"customer_id in (select customer_id from {tables.SCOPE_CUSTOMERS})"

# state table <- delta table, and which state rows the delta replaces
MERGES = (
    (tables.STG_CONTACTS, tables.DELTA_CONTACTS, _IN_SCOPE),
    (tables.STG_CASE_CONTACTS, tables.DELTA_CASE_CONTACTS, _CUSTOMER_IN_SCOPE),
    (tables.STG_CASES, tables.DELTA_CASES, _CUSTOMER_IN_SCOPE),
    (tables.STG_SENSITIVITY_CASES, tables.DELTA_SENSITIVITY_CASES, _CUSTOMER_IN_SCOPE),
)


def merge_state(con: duckdb.DuckDBPyConnection, scope: Scope, params: dict) -> None:
    """Replace the scope's rows of every state table with the delta (all rows for a full run)."""
    for state, delta, replaced in MERGES:
        if scope.full:
            con.execute(f"create or replace table {state} as select * from {delta}")
            continue
        con.execute(f"delete from {state} where {replaced}")
        con.execute(f"insert into {state} by name select * from {delta}")
    if not scope.full:
        con.execute(
            f"update {tables.STG_CASES} set is_mature = true "
            "where not is_mature and matures_at <= $watermark",
            {"watermark": params["watermark"]},
        )


def merge_metrics(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    """Replace the recomputed periods' metrics rows (all rows for a full run)."""
    if scope.full:
        con.execute(f"create or replace table {tables.STG_METRICS} as select * from {tables.DELTA_METRICS}")
        return
    con.execute(
        f"delete from {tables.STG_METRICS} m where exists (select 1 from {tables.AFFECTED_PERIODS} p "
        "where p.grain = m.grain and p.period_start = m.period_start)"
    )
    con.execute(f"insert into {tables.STG_METRICS} by name select * from {tables.DELTA_METRICS}")


def clear_touched(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the touched customers once their changes are published."""
    con.execute(f"create table if not exists {tables.TOUCHED} (customer_id varchar, interaction_key varchar)")
    con.execute(f"delete from {tables.TOUCHED}")

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
from fcr.runlog import last_published

BUILDING = "building"  # a transform is changing the staged state
BUILT = "built"  # the staged state is complete, not yet published
PUBLISHED = "published"  # the staged state equals the published tables


@dataclass(frozen=True)
class Scope:
    """What one run recomputes."""

    full: bool
    previous_watermark: datetime | None
    reason: str


# the shape of the staged state: raised when a release adds columns to it, so that a database an
# earlier release built is rebuilt once instead of merged into (2: sensitivity cases keep reason and team;
# 3: follow-ups)
STATE_VERSION = 3


def definition_fingerprint(config: Config) -> str:
    """Every setting the computed state depends on, and the state's shape, as stable JSON."""
    return json.dumps(
        {
            "state_version": STATE_VERSION,
            "linking": config.linking.model_dump(mode="json"),
            "sensitivity": config.sensitivity.model_dump(mode="json"),
            "costs": config.costs.model_dump(mode="json"),
            "customers": config.customers.model_dump(mode="json"),
            "business_timezone": config.business_timezone,
        },
        sort_keys=True,
    )


def plan_scope(con: duckdb.DuckDBPyConnection, config: Config, force_full: bool = False) -> Scope:
    """Full on a new database, when asked, when the staged state cannot be trusted or a definition changed."""
    _, state = staged_by(con)
    if state is None or not db.table_exists(con, tables.STG_CASES):
        return Scope(True, None, "first run on this database")
    if force_full:
        return Scope(True, None, "a full recompute was asked for")
    if state != PUBLISHED:
        why = "was interrupted while transforming" if state == BUILDING else "did not publish"
        return Scope(True, None, f"the last run {why}: rebuilding everything")
    previous_watermark, fingerprint = last_published(con)
    if fingerprint is None:
        return Scope(True, None, "no run has published yet: rebuilding everything")
    if json.loads(fingerprint).get("state_version", 1) != STATE_VERSION:
        return Scope(True, None, "the state was built by an earlier release: rebuilding every case once")
    if fingerprint != definition_fingerprint(config):
        return Scope(True, None, "linking settings changed since the last run: rebuilding every case")
    reason = "incremental: rebuilding the customers and periods new data touches"
    return Scope(False, previous_watermark, reason)


def staged_by(con: duckdb.DuckDBPyConnection) -> tuple[str | None, str | None]:
    """The run whose outputs the staging tables hold, and how far it got: building, built or published.

    (None, None) when no run ever wrote them; a state written before runs recorded how far they got
    counts as building, so nothing in it is trusted.
    """
    if not db.table_exists(con, tables.STG_BUILT_BY):
        return None, None
    columns = {r[0] for r in con.execute(f"describe {tables.STG_BUILT_BY}").fetchall()}
    if "status" not in columns:
        return None, BUILDING
    row = con.execute(f"select run_id, status from {tables.STG_BUILT_BY}").fetchone()
    return (row[0], row[1]) if row else (None, BUILDING)


def set_build_state(con: duckdb.DuckDBPyConnection, run_id: str, status: str) -> None:
    """Record how far the run got with the staged state (committed with the caller's transaction)."""
    con.execute(
        f"create or replace table {tables.STG_BUILT_BY} as select $run_id as run_id, $status as status",
        {"run_id": run_id, "status": status},
    )


def scope_params(scope: Scope, watermark: datetime) -> dict:
    """Bind parameters the scoped models take."""
    return {"full": scope.full, "previous_watermark": scope.previous_watermark or watermark}


def prepare(con: duckdb.DuckDBPyConnection, scope: Scope, params: dict) -> None:
    """Build the scope tables the models filter on (empty for a full run), and the macro that reads them."""
    _build_or_empty(
        con,
        scope,
        params,
        (
            ("intermediate/int_scope_customers", tables.SCOPE_CUSTOMERS, "customer_id varchar"),
            ("intermediate/int_scope_anonymous", tables.SCOPE_ANONYMOUS, "interaction_key varchar"),
        ),
    )
    sqlfiles.execute(con, "macros/scoped_contacts")


def mark_affected(con: duckdb.DuckDBPyConnection, scope: Scope, params: dict) -> None:
    """Periods whose metrics can move (from the old state and the new delta): build before merging."""
    _build_or_empty(
        con,
        scope,
        params,
        (
            (
                "intermediate/int_affected_periods",
                tables.AFFECTED_PERIODS,
                "grain varchar, period_start date",
            ),
            ("intermediate/int_affected_dates", tables.AFFECTED_DATES, "business_date date"),
        ),
    )


def _build_or_empty(
    con: duckdb.DuckDBPyConnection, scope: Scope, params: dict, models: tuple[tuple[str, str, str], ...]
) -> None:
    """Build each (model, table, columns); a full run filters on nothing, so it gets empty tables."""
    for model, table, columns in models:
        if scope.full:
            con.execute(f"create or replace table {table} ({columns})")
        else:
            sqlfiles.build(con, model, table, params)


_IN_SCOPE = (
    f"customer_id in (select customer_id from {tables.SCOPE_CUSTOMERS})"
    f" or (customer_id is null and interaction_key in (select interaction_key from {tables.SCOPE_ANONYMOUS}))"
)
_CUSTOMER_IN_SCOPE = f"customer_id in (select customer_id from {tables.SCOPE_CUSTOMERS})"
_PERIOD_IN_SCOPE = (  # of a table aliased t
    f"exists (select 1 from {tables.AFFECTED_PERIODS} p "
    "where p.grain = t.grain and p.period_start = t.period_start)"
)

# state table -> the rows an incremental run replaces (the rest it leaves as they were)
CHANGED_ROWS = {
    tables.STG_CONTACTS: _IN_SCOPE,
    tables.STG_CASE_CONTACTS: _CUSTOMER_IN_SCOPE,
    tables.STG_CASES: _CUSTOMER_IN_SCOPE,
    tables.STG_SENSITIVITY_CASES: _CUSTOMER_IN_SCOPE,
    tables.STG_FOLLOW_UPS: _CUSTOMER_IN_SCOPE,
    tables.STG_METRICS: _PERIOD_IN_SCOPE,
    tables.STG_CHANNEL_FLOW: _PERIOD_IN_SCOPE,
    tables.STG_REASON_PRIORITY: _PERIOD_IN_SCOPE,
}

# state table <- delta table, merged per customer
MERGES = (
    (tables.STG_CONTACTS, tables.DELTA_CONTACTS),
    (tables.STG_CASE_CONTACTS, tables.DELTA_CASE_CONTACTS),
    (tables.STG_CASES, tables.DELTA_CASES),
    (tables.STG_SENSITIVITY_CASES, tables.DELTA_SENSITIVITY_CASES),
    (tables.STG_FOLLOW_UPS, tables.DELTA_FOLLOW_UPS),
)


def merge_state(con: duckdb.DuckDBPyConnection, scope: Scope, params: dict) -> None:
    """Replace the scope's rows of every state table with the delta (all rows for a full run)."""
    for state, delta in MERGES:
        if scope.full:
            _replace_by_rename(con, state, delta)
            continue
        replace_changed_rows(con, state, delta, CHANGED_ROWS[state])
    if not scope.full:
        mark_matured(con, tables.STG_CASES, params["watermark"])


def merge_periods(con: duckdb.DuckDBPyConnection, full: bool, state: str, delta: str) -> None:
    """Replace the recomputed periods' rows of a per-period state table (all rows for a full run)."""
    if full:
        _replace_by_rename(con, state, delta)
        return
    replace_changed_rows(con, state, delta, CHANGED_ROWS[state])


def replace_changed_rows(
    con: duckdb.DuckDBPyConnection, target: str, source: str, changed: str, source_is_delta: bool = True
) -> None:
    """Delete target's rows in `changed` and insert their new versions from source.

    A delta holds only changed rows, so all of it is inserted; a whole state table (publishing)
    gives only its rows in `changed`.
    """
    con.execute(f"delete from {target} t where {changed}")
    kept = "" if source_is_delta else f" where {changed}"
    con.execute(f"insert into {target} by name select * from {source} t{kept}")


def mark_matured(con: duckdb.DuckDBPyConnection, cases: str, watermark: datetime) -> None:
    """Mark the cases the watermark's move matured: an incremental run leaves the others' rows alone."""
    con.execute(
        f"update {cases} set is_mature = true where not is_mature and matures_at <= $watermark",
        {"watermark": watermark},
    )


def _replace_by_rename(con: duckdb.DuckDBPyConnection, state: str, delta: str) -> None:
    """A full run's delta is the whole state: rename it into place instead of copying every row."""
    schema, name = state.split(".")
    if delta.split(".")[0] != schema:
        raise ValueError(f"{delta} and {state} must share a schema to be renamed")
    con.execute(f"drop table if exists {state}")
    con.execute(f"alter table {delta} rename to {name}")

"""Aggregate cases into the additive published metrics and the two insight tables (SPEC section 4)."""

from __future__ import annotations

import duckdb

from fcr import sqlfiles, tables
from fcr.config import Config
from fcr.load import customers
from fcr.transform import incremental

# model -> (the rows of the periods in scope, the full state they are merged into)
INSIGHTS = {
    "channel_flow": (tables.DELTA_CHANNEL_FLOW, tables.STG_CHANNEL_FLOW),
    "reason_priority": (tables.DELTA_REASON_PRIORITY, tables.STG_REASON_PRIORITY),
}


def insight_params(con: duckdb.DuckDBPyConnection, config: Config) -> dict:
    """Bind parameters the metrics and insight models take besides linking and scope: customers, costs."""
    return {
        "has_customers": customers.has_customers(con),
        "churn_window_days": config.customers.churn_window_days,
        "currency": config.costs.currency,
    }


def compute_metrics(con: duckdb.DuckDBPyConnection, params: dict) -> int:
    """Build the metrics rows of the periods in scope (all periods for a full run)."""
    return sqlfiles.build(con, "marts/metrics", tables.DELTA_METRICS, params)


def _register_channel_costs(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    con.execute("create or replace temp table channel_costs (channel varchar, cost_per_contact double)")
    con.executemany("insert into channel_costs values (?, ?)", list(config.costs.per_channel().items()))


def compute_insights(con: duckdb.DuckDBPyConnection, config: Config, params: dict) -> dict[str, int]:
    """Build channel_flow and reason_priority for the periods in scope into their state; return row counts."""
    _register_channel_costs(con, config)
    counts = {}
    for name, (delta, state) in INSIGHTS.items():
        sqlfiles.build(con, f"marts/{name}", delta, params)
        incremental.merge_periods(con, params["full"], state, delta)
        counts[name] = con.execute(f"select count(*) from {state}").fetchall()[0][0]
    return counts


def compute_sensitivity(con: duckdb.DuckDBPyConnection, params: dict, current_window_seconds: float) -> int:
    """Build staging.fcr_sensitivity from every definition's cases."""
    params = {**params, "current_window_seconds": current_window_seconds}
    return sqlfiles.build(con, "marts/fcr_sensitivity", tables.STG_FCR_SENSITIVITY, params)

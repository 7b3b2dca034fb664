"""Aggregate cases into the additive published metrics and the two insight tables (SPEC section 4)."""

from __future__ import annotations

from datetime import datetime

import duckdb

from fcr import customers, sqlfiles, tables
from fcr.config import Config
from fcr.link import linking_params


def _register_channel_costs(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    con.execute("create or replace temp table channel_costs (channel varchar, cost_per_contact double)")
    con.executemany("insert into channel_costs values (?, ?)", list(config.costs.per_channel().items()))


def metrics_params(con: duckdb.DuckDBPyConnection, config: Config, watermark: datetime) -> dict:
    """Bind parameters of the metrics models: the linking ones plus customer data and costs."""
    return {
        **linking_params(config, watermark),
        "has_customers": customers.has_customers(con),
        "churn_window_days": config.customers.churn_window_days,
        "currency": config.costs.currency,
    }


def compute_metrics(con: duckdb.DuckDBPyConnection, config: Config, watermark: datetime) -> dict[str, int]:
    """Build staging metrics, channel_flow and reason_priority from the staged cases; return row counts."""
    params = metrics_params(con, config, watermark)
    _register_channel_costs(con, config)
    return {
        "metrics": sqlfiles.build(con, "marts/metrics", tables.STG_METRICS, params),
        "channel_flow": sqlfiles.build(con, "marts/channel_flow", tables.STG_CHANNEL_FLOW, params),
        "reason_priority": sqlfiles.build(con, "marts/reason_priority", tables.STG_REASON_PRIORITY, params),
    }

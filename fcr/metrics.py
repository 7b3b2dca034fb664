"""Aggregate cases and contacts into the additive published metrics (SPEC section 4)."""

from __future__ import annotations

import duckdb

from fcr import sqlfiles, tables


def compute_metrics(con: duckdb.DuckDBPyConnection, params: dict) -> int:
    """Build the metrics rows of the periods in scope (all periods for a full run)."""
    return sqlfiles.build(con, "marts/metrics", tables.DELTA_METRICS, params)


def compute_sensitivity(con: duckdb.DuckDBPyConnection, params: dict, current_window_seconds: float) -> int:
    """Build staging.fcr_sensitivity from every definition's cases."""
    params = {**params, "current_window_seconds": current_window_seconds}
    return sqlfiles.build(con, "marts/fcr_sensitivity", tables.STG_FCR_SENSITIVITY, params)

"""Aggregate cases and contacts into the additive published metrics (SPEC section 4)."""

from __future__ import annotations

from datetime import datetime

import duckdb

from fcr import sqlfiles, tables
from fcr.config import Config
from fcr.link import linking_params


def compute_metrics(con: duckdb.DuckDBPyConnection, config: Config, watermark: datetime) -> int:
    """Build staging.metrics from the staged cases and contacts; return its row count."""
    return sqlfiles.build(con, "marts/metrics", tables.STG_METRICS, linking_params(config, watermark))

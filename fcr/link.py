"""Link counted contacts into cases (SPEC section 3) inside the staging schema."""

from __future__ import annotations

from datetime import datetime

import duckdb

from fcr import sqlfiles, tables
from fcr.config import Config, ConfigError


def linking_params(config: Config, watermark: datetime) -> dict:
    """Bind parameters every linking and metrics model takes."""
    linking = config.linking
    return {
        "watermark": watermark,
        "business_tz": config.business_timezone,
        "repeat_window_seconds": linking.repeat_window.total_seconds(),
        "window_mode": linking.window_mode,
        "match_on": linking.match_on,
        "count_self_service": linking.count_self_service,
    }


def _check_supported(config: Config) -> None:
    linking = config.linking
    unsupported = []
    if linking.window_mode != "rolling":
        unsupported.append("linking.window_mode = 'anchored'")
    if linking.link_by != "window":
        unsupported.append("linking.link_by = 'ticket'")
    if linking.transfer_gap is not None:
        unsupported.append("linking.transfer_gap")
    if unsupported:
        raise ConfigError(f"{', '.join(unsupported)}: not supported by this version; remove the setting(s)")


def _register_reason_groups(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    con.execute("create or replace temp table reason_groups (reason varchar, reason_group varchar)")
    groups = list(config.linking.reason_groups.items())
    if groups:
        con.executemany("insert into reason_groups values (?, ?)", groups)


def link(con: duckdb.DuckDBPyConnection, config: Config, watermark: datetime) -> dict[str, int]:
    """Build staging contacts, case_contacts and cases; return their row counts."""
    _check_supported(config)
    _register_reason_groups(con, config)
    params = linking_params(config, watermark)
    return {
        "contacts": sqlfiles.build(con, "intermediate/int_contacts", tables.STG_CONTACTS, params),
        "case_contacts": sqlfiles.build(
            con, "intermediate/int_case_contacts", tables.STG_CASE_CONTACTS, params
        ),
        "cases": sqlfiles.build(con, "marts/cases", tables.STG_CASES, params),
    }

"""Link counted contacts into cases (SPEC section 3) inside the staging schema."""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa

from fcr import db, sqlfiles, tables
from fcr.config import CANONICAL_CHANNELS, Config, LinkingConfig, format_duration


def linking_params(config: Config, watermark: datetime, linking: LinkingConfig | None = None) -> dict:
    """Bind parameters the linking and metrics models take, for one linking definition."""
    linking = linking or config.linking
    gap = linking.transfer_gap
    return {
        "watermark": watermark,
        "business_tz": config.business_timezone,
        "repeat_window_seconds": linking.repeat_window.total_seconds(),
        "window_mode": linking.window_mode,
        "match_on": linking.match_on,
        "link_by": linking.link_by,
        "ticket_horizon_seconds": linking.ticket_horizon.total_seconds(),
        "count_self_service": linking.count_self_service,
        "transfer_gap_seconds": None if gap is None else gap.total_seconds(),
        "channels": sorted(CANONICAL_CHANNELS),
    }


def _register_reason_groups(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    con.execute("create or replace temp table reason_groups (reason varchar, reason_group varchar)")
    groups = list(config.linking.reason_groups.items())
    if groups:
        con.executemany("insert into reason_groups values (?, ?)", groups)


def anchored_case_starts(
    groups: np.ndarray, started_ms: np.ndarray, ticket_linked: np.ndarray, window_ms: int
) -> np.ndarray:
    """Case starts when the window counts from each case's first contact.

    Rows are sorted by group then start. A case starts at a group's first contact; the next
    case starts at the first contact more than one window after that start, and so on.
    """
    n = len(groups)
    starts = np.zeros(n, dtype=bool)
    if n == 0:
        return starts
    group_index = np.concatenate([[0], np.cumsum(groups[1:] != groups[:-1])])
    offset = started_ms - started_ms.min()
    span = int(offset.max()) + window_ms + 1
    key = group_index.astype(np.int64) * span + offset
    next_start = np.searchsorted(key, key + window_ms, side="right")
    frontier = np.flatnonzero(np.concatenate([[True], group_index[1:] != group_index[:-1]]))
    while frontier.size:
        starts[frontier] = True
        frontier = frontier[~ticket_linked[frontier]]
        following = next_start[frontier]
        inside = following < n
        following, frontier = following[inside], frontier[inside]
        frontier = following[group_index[following] == group_index[frontier]]
    return starts


def _build_case_starts(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    """Mark the contacts that start a case, then (re)bind the view that sequences cases from them."""
    if params["window_mode"] == "rolling":
        con.execute(
            f"create or replace table {tables.DELTA_LINK_WINDOW} as select "
            "$repeat_window_seconds::double as repeat_window_seconds, "
            "$ticket_horizon_seconds::double as ticket_horizon_seconds",
            {k: params[k] for k in ("repeat_window_seconds", "ticket_horizon_seconds")},
        )
        sqlfiles.execute(con, "intermediate/int_case_starts_rolling")
    else:
        _build_anchored_case_starts(con, params)
    sqlfiles.execute(con, "intermediate/int_case_sequences")


def _build_anchored_case_starts(con: duckdb.DuckDBPyConnection, params: dict) -> None:
    frame = con.sql(
        f"select contact_id, link_group, is_ticket_linked, epoch_ms(started_at) as started_ms, "
        f"coalesce(gap_seconds > $horizon, false) as is_after_ticket_horizon "
        f"from {tables.DELTA_LINK_CANDIDATES} order by link_group, started_at, contact_id",
        params={"horizon": params["ticket_horizon_seconds"]},
    ).to_arrow_table()
    ticket_linked = frame["is_ticket_linked"].to_numpy(zero_copy_only=False).astype(bool)
    starts = anchored_case_starts(
        frame["link_group"].to_numpy(zero_copy_only=False),
        frame["started_ms"].to_numpy(zero_copy_only=False).astype(np.int64),
        ticket_linked,
        int(params["repeat_window_seconds"] * 1000),
    )
    # a ticket silent for the ticket horizon is closed: its next contact opens a new case
    starts |= ticket_linked & frame["is_after_ticket_horizon"].to_numpy(zero_copy_only=False).astype(bool)
    con.register(
        "anchored_case_starts", pa.table({"contact_id": frame["contact_id"], "is_case_start": starts})
    )
    con.execute(f"create or replace table {tables.DELTA_ANCHORED_STARTS} as from anchored_case_starts")
    con.unregister("anchored_case_starts")
    sqlfiles.execute(con, "intermediate/int_case_starts_anchored")


def _link_definition(con: duckdb.DuckDBPyConnection, params: dict, target: str) -> int:
    """Assign every counted contact of the delta to a case under one definition, into `target`."""
    sqlfiles.build(con, "intermediate/int_link_candidates", tables.DELTA_LINK_CANDIDATES, params)
    _build_case_starts(con, params)
    return sqlfiles.build(con, "intermediate/int_case_contacts", target, params)


def link_delta(con: duckdb.DuckDBPyConnection, config: Config, params: dict) -> dict[str, int]:
    """Rebuild the scope's contacts, case_contacts and cases into the delta tables."""
    _register_reason_groups(con, config)
    counts = {"contacts": sqlfiles.build(con, "intermediate/int_contacts", tables.DELTA_CONTACTS, params)}
    counts["case_contacts"] = _link_definition(con, params, tables.DELTA_CASE_CONTACTS)
    if params["transfer_gap_seconds"] is not None:
        # forwards join the case of the contact they were forwarded from, flagged, never counted as repeats
        forwards = sqlfiles.read_sql("intermediate/int_case_forwards")
        con.execute(
            f"insert into {tables.DELTA_CASE_CONTACTS} by name {forwards}", sqlfiles.bind(forwards, params)
        )
    counts["cases"] = sqlfiles.build(con, "marts/cases", tables.DELTA_CASES, params)
    return counts


def sensitivity_definitions(config: Config) -> list[LinkingConfig]:
    """Every window x match_on of the sensitivity list, other settings as configured."""
    return [
        config.linking.model_copy(update={"repeat_window": window, "match_on": match_on})
        for match_on in config.sensitivity.match_on
        for window in config.sensitivity.windows
    ]


def link_sensitivity_delta(con: duckdb.DuckDBPyConnection, config: Config, params: dict) -> None:
    """Summarise the delta's cases under each sensitivity definition into delta sensitivity cases.

    Link candidates depend only on match_on, so they are built once per match_on (the run's own
    match_on reuses the ones link_delta built just before). Rolling windows then come out of one
    pass per match_on; anchored ones need their case starts and one aggregation each.
    """
    con.execute(f"drop table if exists {tables.DELTA_SENSITIVITY_CASES}")
    # the run's own match_on first: link_delta has just built its candidates
    current = config.linking.match_on
    for match_on in sorted(config.sensitivity.match_on, key=lambda m: m != current):
        base = {
            **params,
            **linking_params(
                config, params["watermark"], config.linking.model_copy(update={"match_on": match_on})
            ),
        }
        if match_on != current:
            sqlfiles.build(con, "intermediate/int_link_candidates", tables.DELTA_LINK_CANDIDATES, base)
        if base["window_mode"] == "rolling":
            windows = config.sensitivity.windows
            definition = {
                **base,
                "window_labels": [format_duration(w) for w in windows],
                "window_seconds": [w.total_seconds() for w in windows],
            }
            _add_sensitivity_cases(con, "intermediate/int_sensitivity_cases_rolling", definition)
            continue
        for window in config.sensitivity.windows:
            definition = {
                **base,
                "repeat_window_seconds": window.total_seconds(),
                "repeat_window": format_duration(window),
            }
            _build_case_starts(con, definition)
            _add_sensitivity_cases(con, "intermediate/int_sensitivity_cases", definition)


def _add_sensitivity_cases(con: duckdb.DuckDBPyConnection, model: str, params: dict) -> None:
    if not db.table_exists(con, tables.DELTA_SENSITIVITY_CASES):
        sqlfiles.build(con, model, tables.DELTA_SENSITIVITY_CASES, params)
        return
    sql = sqlfiles.read_sql(model)
    con.execute(f"insert into {tables.DELTA_SENSITIVITY_CASES} {sql}", sqlfiles.bind(sql, params))

"""The follow-up list: each repeat contact beside the contact before it, filtered for coaching."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from fcr import tables

# what the list shows, in order: when, which case, whose contact came back, and how
COLUMNS = (
    "business_date",
    "case_id",
    "contact_number",
    "previous_agent_id",
    "previous_team",
    "previous_agent_resolved",
    "previous_channel",
    "channel",
    "previous_reason",
    "reason",
    "gap_seconds",
    "previous_contact_id",
    "contact_id",
    "customer_id",
)


@dataclass(frozen=True)
class FollowUpFilter:
    """Which follow-ups to list: after whose contact, since when, only after a 'resolved' mark."""

    agent: str | None = None  # the agent of the contact before the repeat
    team: str | None = None  # that contact's team
    since: date | None = None  # repeats on or after this business date
    resolved_only: bool = False  # only repeats after a contact its agent marked resolved


def _where(filters: FollowUpFilter) -> tuple[str, dict[str, Any]]:
    sql = (
        "($agent::varchar is null or previous_agent_id = $agent::varchar)"
        " and ($team::varchar is null or previous_team = $team::varchar)"
        " and ($since::date is null or business_date >= $since::date)"
        " and (not $resolved_only or coalesce(previous_agent_resolved, false))"
    )
    params = {
        "agent": filters.agent,
        "team": filters.team,
        "since": filters.since,
        "resolved_only": filters.resolved_only,
    }
    return sql, params


def _select(filters: FollowUpFilter) -> tuple[str, dict[str, Any]]:
    where, params = _where(filters)
    sql = (
        f"select {', '.join(COLUMNS)} from {tables.FOLLOW_UPS} where {where} "
        "order by business_date desc, started_at desc, contact_id"
    )
    return sql, params


def follow_ups(
    con: duckdb.DuckDBPyConnection, filters: FollowUpFilter, limit: int | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """How many follow-ups match, and the newest `limit` of them (all when None) as dicts."""
    where, params = _where(filters)
    total = con.execute(f"select count(*) from {tables.FOLLOW_UPS} where {where}", params).fetchone()[0]
    sql, params = _select(filters)
    if limit is not None:
        sql, params = f"{sql} limit $limit", {**params, "limit": limit}
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return total, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def write_csv(con: duckdb.DuckDBPyConnection, filters: FollowUpFilter, path: Path) -> int:
    """Write every matching follow-up to a CSV file with a header; return how many."""
    sql, params = _select(filters)
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy ({sql}) to $path (header)", {**params, "path": str(path)})
    where, params = _where(filters)
    return con.execute(f"select count(*) from {tables.FOLLOW_UPS} where {where}", params).fetchone()[0]


def format_gap(seconds: float | None) -> str:
    """A gap a reader takes in at a glance: 40m, 5h, 3d."""
    if seconds is None:
        return ""
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    if seconds < 86400:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.1f}d"

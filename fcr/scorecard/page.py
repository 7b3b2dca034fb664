"""What the page says: the period shown, headline tiles, fair rankings and each section's rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

import duckdb

from fcr import tables
from fcr.config import Config, CostsConfig
from fcr.scorecard import charts, data
from fcr.scorecard.data import Period, ScorecardError, Section
from fcr.scorecard.formatting import case_definition, currency_of, period_label
from fcr.scorecard.ranking import EXTREMES, ranking, rate_keys

Tone = Literal["good", "bad", "neutral"]


@dataclass(frozen=True)
class Measure:
    """A headline figure: its column in published.metric_rates and how to read it."""

    column: str
    label: str
    kind: str  # pct | ratio | score | count
    better: Literal["higher", "lower"] | None
    meaning: str
    absent: str  # why the figure can be missing


_NOT_CLOSED = "no case has closed yet"
MEASURES = (
    Measure("fcr", "FCR", "pct", "higher", "of mature cases: resolved in one contact", _NOT_CLOSED),
    Measure(
        "two_contact_resolution",
        "2CR",
        "pct",
        "higher",
        "of mature cases: resolved within two contacts",
        _NOT_CLOSED,
    ),
    Measure(
        "three_contact_resolution",
        "3CR",
        "pct",
        "higher",
        "of mature cases: resolved within three contacts",
        _NOT_CLOSED,
    ),
    Measure(
        "repeat_contact_rate",
        "Repeat contact rate",
        "pct",
        "lower",
        "of the mature cases' contacts: a customer coming back",
        _NOT_CLOSED,
    ),
    Measure(
        "contacts_per_case",
        "Contacts per case",
        "ratio",
        "lower",
        "per mature case: contacts one problem takes",
        _NOT_CLOSED,
    ),
    Measure(
        "same_channel_fcr",
        "Same-channel FCR",
        "pct",
        "higher",
        "of mature cases: what a single-channel count would report",
        _NOT_CLOSED,
    ),
    Measure(
        "containment_rate",
        "Self-service containment",
        "pct",
        "higher",
        "of self-service cases: needed no agent",
        "no case started in self-service",
    ),
    Measure(
        "customer_reported_fcr",
        "Customer-reported FCR",
        "pct",
        "higher",
        "of surveyed first contacts: the customer said resolved",
        "no survey answers",
    ),
    Measure(
        "agent_reported_fcr",
        "Agent-reported FCR",
        "pct",
        None,
        "of first contacts with a disposition: the agent said resolved",
        "no agent dispositions recorded",
    ),
    Measure("ces", "CES", "score", "higher", "average of CES answers, 1-7", "no CES answers"),
    Measure("csat", "CSAT", "score", "higher", "average of CSAT answers, 1-5", "no CSAT answers"),
    Measure("contacts", "Contacts", "count", None, "contacts that started in the period", "no contacts"),
)
_CHANGE_KIND = {"pct": "pts", "ratio": "change", "score": "change", "count": "delta"}


@dataclass
class Tile:
    """One headline figure for the period, its change, and the latest provisional value."""

    measure: Measure
    value: float | None
    ref: dict[str, str]
    change: float | None = None
    change_kind: str = "pts"
    direction: str = "flat"
    tone: Tone = "neutral"
    provisional_value: float | None = None
    provisional_ref: dict[str, str] | None = None
    gap: float | None = None  # agent-reported FCR minus FCR


def choose_period(available: list[Period], grain: str, requested: date | None) -> tuple[Period, str]:
    """The period to show (asked for, else the latest final one) and a sentence saying which and why."""
    if not available:
        raise ScorecardError(f"no {grain} is published yet; run `fcr run` first")
    if requested is not None:
        start = data.period_of(grain, requested)
        match = next((p for p in available if p.start == start), None)
        if match is None:
            raise ScorecardError(
                f"no published {grain} contains {requested}; published {grain}s run from "
                f"{available[0].start} to {available[-1].start}"
            )
        if match.is_final:
            return match, f"Showing {period_label(match)} (final), as asked."
        return match, (
            f"Showing {period_label(match)}, as asked: PROVISIONAL, some of its cases are still open, "
            "so these figures will still move."
        )
    finals = [p for p in available if p.is_final]
    if finals:
        chosen = finals[-1]
        later = [p for p in available if p.start > chosen.start]
        note = f"Showing {period_label(chosen)}, the latest final {grain} (every case in it has closed)."
        if later:
            note += f" Later {grain}s are provisional: their cases can still gain contacts."
        return chosen, note
    chosen = available[-1]
    return (
        chosen,
        f"No {grain} is final yet: showing {period_label(chosen)}, PROVISIONAL (figures will still move).",
    )


def _direction(change: float | None, kind: str) -> str:
    """'up', 'down' or 'flat' as the change reads once rounded for display."""
    if change is None:
        return "flat"
    shown = {"pts": round(change * 100, 1), "change": round(change, 2)}.get(kind, change)
    return "up" if shown > 0 else "down" if shown < 0 else "flat"


def _tone(measure: Measure, direction: str) -> Tone:
    if direction == "flat" or measure.better is None:
        return "neutral"
    return "good" if (direction == "up") == (measure.better == "higher") else "bad"


def tiles(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    previous: Period | None,
    provisional: Period | None,
    config: Config,
) -> list[Tile]:
    """Headline figures of dimension 'all' with their change against the previous period."""

    def overall(p: Period | None) -> dict[str, Any]:
        found = data.rates(con, p, "all") if p is not None else []
        return found[0] if found else {}

    current, before, latest = overall(period), overall(previous), overall(provisional)
    result = []
    for measure in MEASURES:
        if measure.column == "ces" and not config.scorecard.ces_higher_is_better:
            measure = replace(measure, better="lower")
        value, old = current.get(measure.column), before.get(measure.column)
        change = value - old if value is not None and old is not None else None
        direction = _direction(change, _CHANGE_KIND[measure.kind])
        tile = Tile(
            measure,
            value,
            rate_keys(period, "all", "all"),
            change=change,
            change_kind=_CHANGE_KIND[measure.kind],
            direction=direction,
            tone=_tone(measure, direction),
            gap=current.get("agent_reported_fcr_gap") if measure.column == "agent_reported_fcr" else None,
        )
        if provisional is not None:
            tile.provisional_value = latest.get(measure.column)
            tile.provisional_ref = rate_keys(provisional, "all", "all")
        result.append(tile)
    return result


def waits(rows: list[dict[str, Any]], period: Period, config: Config) -> Section:
    """Average first-response wait of each channel with a target, against that target."""
    by_channel = {row["dimension_value"]: row for row in rows}
    result = []
    for channel, target in config.scorecard.first_response_targets.items():
        row = by_channel.get(channel)
        if row is None:
            continue
        seconds = row["avg_wait_seconds"]
        result.append(
            {
                "channel": channel,
                "contacts": row["contacts"],
                "avg_wait_seconds": seconds,
                "target_seconds": target.total_seconds(),
                "met": None if seconds is None else seconds <= target.total_seconds(),
                "ref": rate_keys(period, "channel", channel),
            }
        )
    if not any(r["avg_wait_seconds"] is not None for r in result):
        channels = ", ".join(config.scorecard.first_response_targets) or "no channel"
        return Section(absent=f"No data: no wait was recorded for {channels} in this period.")
    return Section(result)


def _with_ref(section: Section, names: tuple[str, ...]) -> Section:
    for row in section.rows:
        row["ref"] = {name: _key_text(row[name]) for name in names}
    return section


def team_windows(section: Section) -> tuple[list[str], list[dict[str, Any]]]:
    """The windows, and one row per team: its FCR and rank under each, and the ranks it takes."""
    windows = sorted({(row["repeat_window_seconds"], row["repeat_window"]) for row in section.rows})
    teams: dict[str, dict[str, Any]] = {}
    for row in section.rows:
        team = teams.setdefault(row["dimension_value"], {"team": row["dimension_value"], "by_window": {}})
        team["by_window"][row["repeat_window"]] = row
        if row["is_current_definition"]:
            team["rank_in_use"] = row["fcr_rank"]
    for team in teams.values():
        team["cells"] = [team["by_window"].get(label) for _, label in windows]
        ranks = [cell["fcr_rank"] for cell in team["cells"] if cell]
        team["rank_low"], team["rank_high"] = min(ranks), max(ranks)
    ordered = sorted(teams.values(), key=lambda t: (t.get("rank_in_use", len(teams) + 1), t["team"]))
    return [label for _, label in windows], ordered


def _current_first(section: Section) -> Section:
    """Sensitivity rows with the definition in use's match_on first, then by window length."""
    current = {row["match_on"] for row in section.rows if row["is_current_definition"]}
    section.rows.sort(key=lambda r: (r["match_on"] not in current, r["match_on"], r["repeat_window_seconds"]))
    return section


def _key_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def only_one(names: Iterable[str]) -> str | None:
    """The one name when every row has it: a comparison across a single category shows nothing."""
    distinct = set(names) - {"(none)"}
    return distinct.pop() if len(distinct) == 1 else None


def lone_categories(
    channels: list[dict[str, Any]],
    followed: Section,
    flow: Section,
    teams: list[dict[str, Any]],
    agents: list[dict[str, Any]],
) -> dict[str, str | None]:
    """Per comparison on the page, the one channel, team or agent it would compare, if only one."""
    return {
        "channel": only_one(r["dimension_value"] for r in channels),
        "followed": only_one(r["dimension_value"] for r in followed.rows),
        "flow": only_one(c for r in flow.rows for c in (r["from_channel"], r["to_channel"])),
        "team": only_one(r["dimension_value"] for r in teams),
        "agent": only_one(r["dimension_value"] for r in agents),
    }


def business_watermark(run: dict[str, Any] | None, config: Config) -> datetime | None:
    """The published run's watermark as a business-time wall clock, the clock periods end on."""
    if run is None or run["as_of"] is None:
        return None
    return run["as_of"].astimezone(ZoneInfo(config.business_timezone)).replace(tzinfo=None)


def mark_partial(
    rows: list[dict[str, Any]], grain: str, first_day: date | None, watermark: datetime | None
) -> list[dict[str, Any]]:
    """Flag periods only partly covered: begun before the first contact, or ending past the watermark."""
    for row in rows:
        end = datetime.combine(data.period_end(grain, row["period_start"]), time())
        row["partial"] = (first_day is not None and row["period_start"] < first_day) or (
            watermark is not None and end > watermark
        )
    return rows


def build(
    con: duckdb.DuckDBPyConnection, config: Config, grain: str, requested: date | None
) -> dict[str, Any]:
    """Everything the template shows, read from the published tables of one snapshot."""
    settings = config.scorecard
    available = data.periods(con, grain)
    period, period_note = choose_period(available, grain, requested)
    index = available.index(period)
    previous = available[index - 1] if index > 0 else None
    later = [p for p in available[index + 1 :] if not p.is_final]
    provisional = None
    if period.is_final and later:
        with_cases = [p for p in later if (data.rates(con, p, "all") or [{}])[0].get("mature_cases")]
        provisional = (with_cases or later)[-1]

    published_run, later_failure = data.latest_runs(con)
    first_day, last_day = data.coverage(con)
    overall_rows = data.rates(con, period, "all")
    overall = overall_rows[0] if overall_rows else None
    overall_fcr = overall["fcr"] if overall else None

    channels = data.rates(con, period, "channel")
    for row in channels:
        row["ref"] = rate_keys(period, "channel", row["dimension_value"])
    comparable = [
        r for r in channels if r["fcr"] is not None and r["mature_cases"] >= settings.min_mature_cases
    ]
    followed = data.followed_by_repeat(con, period)
    for row in followed.rows:
        row["ref"] = rate_keys(period, "channel", row["dimension_value"])
        row["share"] = row["contacts_followed_by_repeat"] / row["counted_contacts"]
    team_rows, agent_rows = data.rates(con, period, "team"), data.rates(con, period, "agent")
    came_back = data.follow_ups_by_agent(con, period, settings.top_reasons)
    flow = _with_ref(
        data.channel_flow(con, period), ("grain", "period_start", "flow_kind", "from_channel", "to_channel")
    )
    only = lone_categories(channels, followed, flow, team_rows, agent_rows)
    teams = ranking(team_rows, period, overall_fcr, config)
    agents = ranking(agent_rows, period, overall_fcr, config)
    if teams.ranked and not only["team"]:
        teams.chart = charts.intervals(teams.ranked, overall_fcr, "team", settings.confidence)
    wait = waits(channels, period, config)

    priority = _with_ref(
        data.reason_priority(con, period, settings.top_reasons), ("grain", "period_start", "reason")
    )
    sensitivity = _with_ref(
        _current_first(data.sensitivity(con, period)),
        ("grain", "period_start", "dimension", "dimension_value", "repeat_window", "match_on"),
    )
    rank_windows, team_ranks = team_windows(
        _with_ref(
            data.team_sensitivity(con, period),
            ("grain", "period_start", "dimension", "dimension_value", "repeat_window", "match_on"),
        )
    )
    with_customers = any(row["has_customer_data"] for row in priority.rows)
    watermark = business_watermark(published_run, config)
    trends = {
        g: mark_partial(data.trend(con, g, n), g, first_day, watermark)
        for g, n in (("week", settings.trend_weeks), ("month", settings.trend_months))
    }

    return {
        "grain": grain,
        "period": period,
        "period_label": period_label(period),
        "period_note": period_note,
        "previous": previous,
        "provisional": provisional,
        "first_day": first_day,
        "last_day": last_day,
        "run": published_run,
        "later_failure": later_failure,
        "definition": case_definition(published_run["linking_settings"]) if published_run else None,
        "overall": overall,
        "overall_ref": rate_keys(period, "all", "all"),
        "tiles": tiles(con, period, previous, provisional, config),
        "trend_charts": {g: charts.trend(rows, g) for g, rows in trends.items() if rows},
        "partial_periods": [
            period_label(Period(g, row["period_start"], row["is_final"]))
            for g, rows in trends.items()
            for row in rows
            if row["partial"]
        ],
        "channels": channels,
        "weakest_channel": min(comparable, key=lambda r: (r["fcr"], r["dimension_value"]))
        if len(comparable) > 1
        else None,
        "channel_chart": charts.resolution_bands(channels, overall)
        if channels and overall and not only["channel"]
        else None,
        "followed": followed,
        "only": only,
        "waits": wait,
        "wait_chart": charts.waits(wait.rows) if wait.rows else None,
        "teams": teams,
        "agents": agents,
        "came_back": came_back,
        "extremes": EXTREMES,
        "min_mature_cases": settings.min_mature_cases,
        "small_sample_cases": settings.small_sample_cases,
        "confidence": settings.confidence,
        "flow": flow,
        "flow_chart": charts.flow_matrix(flow.rows) if flow.rows and not only["flow"] else None,
        "top_moves": [r for r in flow.rows if r["from_channel"] != r["to_channel"]][:3],
        "priority": priority,
        "priority_chart": charts.money_at_stake(priority.rows, currency_of(config), with_customers)
        if priority.rows
        else None,
        "with_customers": with_customers,
        "default_costs": config.costs == CostsConfig(),
        "sensitivity": sensitivity,
        "team_ranks": team_ranks if len(team_ranks) > 1 and not only["team"] else [],
        "team_windows": rank_windows,
        "tables": {
            "rates": tables.METRIC_RATES,
            "metrics": tables.METRICS,
            "flow": tables.CHANNEL_FLOW,
            "priority": tables.REASON_PRIORITY,
            "sensitivity": tables.FCR_SENSITIVITY,
            "follow_ups": tables.FOLLOW_UPS,
        },
    }

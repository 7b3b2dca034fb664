"""Static SVG charts (Vega-Altair rendered by vl-convert): no script, nothing fetched, prints sharply."""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import pandas as pd
import vl_convert

from fcr.config import CANONICAL_CHANNELS

FONT = "Helvetica, Arial, sans-serif"
INK = "#1f2933"
MUTED = "#6b7785"
GOOD = "#2e7d32"
BAD = "#c62828"
NEUTRAL = "#7b8794"
MEASURES = {"fcr": "FCR", "two_contact_resolution": "2CR", "three_contact_resolution": "3CR"}
MEASURE_COLOURS = ["#0b3d91", "#3f7fd1", "#9cc3f0"]
CONTACT_BANDS = ["1 contact", "2 contacts", "3 contacts", "4+ contacts"]
BAND_COLOURS = ["#2e7d32", "#a5d6a7", "#ffcc80", "#e57373"]
FULL_WIDTH = 960
HALF_WIDTH = 430
TREND_TICKS = 8  # most labelled periods on a trend axis


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render a chart to standalone SVG markup with the scorecard's type and colours."""
    styled = (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(
            labelColor=INK, titleColor=MUTED, labelFontSize=11, titleFontSize=11, titleFontWeight="normal"
        )
        .configure_legend(labelFontSize=11, titleFontSize=11, labelColor=INK, titleColor=MUTED)
    )
    return vl_convert.vegalite_to_svg(styled.to_json())


def period_ticks(starts: list[date]) -> list[alt.DateTime]:
    """Ticks on period starts (Mondays, firsts of months), so each label names a period; the latest kept."""
    step = -(-len(starts) // TREND_TICKS)
    return [
        alt.DateTime(year=d.year, month=d.month, date=d.day, utc=True) for d in starts[::-1][::step][::-1]
    ]


def trend(rows: list[dict[str, Any]], grain: str) -> str:
    """FCR, 2CR and 3CR per period: solid when final, dashed and hollow when provisional or partial."""
    long = pd.DataFrame(
        [
            {
                "period": row["period_start"].isoformat(),
                "measure": label,
                "rate": row[column],
                "solid": bool(row["is_final"]) and not row["partial"],
            }
            for row in rows
            for column, label in MEASURES.items()
        ]
    )
    axis_format = "%b %Y" if grain == "month" else "%d %b"
    ticks = period_ticks([row["period_start"] for row in rows])
    x = alt.X(
        "period:T",
        title=None,
        scale=alt.Scale(type="utc"),
        axis=alt.Axis(format=axis_format, labelAngle=0, values=ticks),
    )
    y = alt.Y("rate:Q", title=None, axis=alt.Axis(format=".0%"), scale=alt.Scale(zero=False, nice=True))
    colour = alt.Color(
        "measure:N",
        title=None,
        scale=alt.Scale(domain=list(MEASURES.values()), range=MEASURE_COLOURS),
        legend=alt.Legend(orient="top", direction="horizontal"),
    )
    base = alt.Chart(long).encode(x=x, y=y, color=colour, detail="measure:N")
    solid = base.transform_filter(alt.datum.solid)
    chart = alt.layer(
        base.mark_line(strokeWidth=2, strokeDash=[5, 4]),
        solid.mark_line(strokeWidth=2),
        solid.mark_point(filled=True, size=36),
        base.transform_filter(~alt.datum.solid).mark_point(
            filled=False, fill="white", size=46, strokeWidth=2
        ),
    ).properties(width=HALF_WIDTH, height=190)
    return to_svg(chart)


def resolution_bands(rows: list[dict[str, Any]], overall: dict[str, Any]) -> str:
    """Per channel of first contact, the share of cases resolved in 1, 2, 3 and 4+ contacts."""
    data = []
    for order, row in enumerate([overall, *rows]):
        label = "all channels" if row is overall else row["dimension_value"]
        mature = row["mature_cases"] or 0
        counts = (row["cases_1"], row["cases_2"], row["cases_3"], row["cases_4_plus"])
        for band, count in zip(CONTACT_BANDS, counts, strict=True):
            data.append(
                {"channel": label, "order": order, "band": band, "share": count / mature if mature else None}
            )
    chart = (
        alt.Chart(pd.DataFrame(data))
        .mark_bar(height=14)
        .encode(
            y=alt.Y("channel:N", title=None, sort=alt.SortField("order")),
            x=alt.X("share:Q", title="share of cases", stack="zero", axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "band:N",
                title="resolved in",
                scale=alt.Scale(domain=CONTACT_BANDS, range=BAND_COLOURS),
                legend=alt.Legend(orient="top", direction="horizontal"),
            ),
            order=alt.Order("band_order:Q"),
        )
        .transform_calculate(band_order=f"indexof({CONTACT_BANDS!r}, datum.band)")
        .properties(width=HALF_WIDTH - 60, height=alt.Step(20))
    )
    return to_svg(chart)


def waits(rows: list[dict[str, Any]]) -> str:
    """Average first-response wait per channel (bar) against its target (black tick)."""
    data = pd.DataFrame(
        [
            {
                "channel": row["channel"],
                "hours": (row["avg_wait_seconds"] or 0) / 3600,
                "target": row["target_seconds"] / 3600,
                "status": "within target" if row["met"] else "over target",
            }
            for row in rows
            if row["avg_wait_seconds"] is not None
        ]
    )
    base = alt.Chart(data).encode(y=alt.Y("channel:N", title=None))
    chart = alt.layer(
        base.mark_bar(height=16).encode(
            x=alt.X("hours:Q", title="average wait (hours)"),
            color=alt.Color(
                "status:N",
                title=None,
                scale=alt.Scale(domain=["within target", "over target"], range=[GOOD, BAD]),
                legend=alt.Legend(orient="top", direction="horizontal"),
            ),
        ),
        base.mark_tick(color=INK, thickness=3, size=26).encode(x="target:Q"),
    ).properties(width=HALF_WIDTH - 70, height=alt.Step(30))
    return to_svg(chart)


def intervals(rows: list[Any], overall: float | None, label: str, confidence: float) -> str:
    """FCR with its confidence interval per team or agent, against the overall rate."""
    data = pd.DataFrame(
        [
            {
                "name": row.name,
                "fcr": row.fcr,
                "low": row.interval.low,
                "high": row.interval.high,
                "flag": row.flag or "within range",
            }
            for row in rows
        ]
    )
    flags = ["above", "within range", "below"]
    colour = alt.Color(
        "flag:N",
        title="FCR vs overall",
        scale=alt.Scale(domain=flags, range=[GOOD, NEUTRAL, BAD]),
        legend=alt.Legend(orient="top", direction="horizontal"),
    )
    y = alt.Y("name:N", title=None, sort=alt.SortField("fcr", order="descending"))
    base = alt.Chart(data).encode(y=y, color=colour)
    layers = [
        base.mark_rule(strokeWidth=2).encode(
            x=alt.X(
                "low:Q",
                title=f"FCR with {confidence:.0%} interval, per {label}",
                axis=alt.Axis(format=".0%", tickCount=6),
                scale=alt.Scale(zero=False, nice=True, padding=12),
            ),
            x2="high:Q",
        ),
        base.mark_point(filled=True, size=50).encode(x="fcr:Q"),
    ]
    if overall is not None:
        rule = pd.DataFrame([{"overall": overall, "label": f"overall {overall:.1%}"}])
        layers.append(alt.Chart(rule).mark_rule(color=INK, strokeDash=[4, 3]).encode(x="overall:Q"))
        layers.append(
            alt.Chart(rule)
            .mark_text(align="left", dx=4, dy=-4, baseline="bottom", color=INK, fontSize=10)
            .encode(x="overall:Q", y=alt.value(0), text="label:N")
        )
    return to_svg(alt.layer(*layers).properties(width=HALF_WIDTH - 60, height=alt.Step(18)))


def flow_matrix(rows: list[dict[str, Any]]) -> str:
    """Heat matrix of moves from one contact's channel to the next contact's channel in a case."""
    present = {row["from_channel"] for row in rows} | {row["to_channel"] for row in rows}
    order = [c for c in CANONICAL_CHANNELS if c in present] + sorted(present - set(CANONICAL_CHANNELS))
    data = pd.DataFrame(rows)[["from_channel", "to_channel", "transitions"]]
    peak = float(data["transitions"].max())
    base = alt.Chart(data).encode(
        x=alt.X("to_channel:N", title="channel of the next contact", sort=order, axis=alt.Axis(orient="top")),
        y=alt.Y("from_channel:N", title="channel of the contact before", sort=order),
    )
    chart = alt.layer(
        base.mark_rect(stroke="white", strokeWidth=1).encode(
            color=alt.Color("transitions:Q", title="moves", scale=alt.Scale(scheme="blues"), legend=None)
        ),
        base.mark_text(fontSize=10).encode(
            text=alt.Text("transitions:Q", format=","),
            color=alt.condition(alt.datum.transitions > peak * 0.55, alt.value("white"), alt.value(INK)),
        ),
    ).properties(width=alt.Step(44), height=alt.Step(24))
    return to_svg(chart)


def money_at_stake(rows: list[dict[str, Any]], currency: str, with_customers: bool) -> str:
    """Money at stake per reason, split into the cost of excess contacts and lifetime value at risk."""
    parts = {"excess_contact_cost": "cost of excess contacts"}
    if with_customers:
        parts["lifetime_value_at_risk"] = "lifetime value at risk"
    data = pd.DataFrame(
        [
            {"reason": row["reason"], "rank": row["priority_rank"], "part": label, "money": row[column] or 0}
            for row in rows
            for column, label in parts.items()
        ]
    )
    chart = (
        alt.Chart(data)
        .mark_bar(height=14)
        .encode(
            y=alt.Y("reason:N", title=None, sort=alt.SortField("rank")),
            x=alt.X(
                "money:Q",
                title=f"money at stake ({currency})" if currency else "money at stake",
                stack="zero",
                axis=alt.Axis(format="~s"),
            ),
            color=alt.Color(
                "part:N",
                title=None,
                scale=alt.Scale(domain=list(parts.values()), range=["#0b3d91", "#e57373"][: len(parts)]),
                legend=alt.Legend(orient="top", direction="horizontal"),
            ),
        )
        .properties(width=HALF_WIDTH - 40, height=alt.Step(20))
    )
    return to_svg(chart)

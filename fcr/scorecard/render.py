"""Render the published tables into one self-contained HTML scorecard file."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from fcr.config import Config
from fcr.scorecard import data, page
from fcr.scorecard.data import ScorecardError
from fcr.scorecard.formatting import Formatter, currency_of, day_label, period_label

GRAINS = ("week", "month")


def raw_value(value: Any) -> str:
    """A figure as its data-value attribute: exact (repr of a float round-trips), empty for null."""
    if value is None:
        return ""
    return repr(float(value)) if isinstance(value, float) else str(value)


def _timestamp(value: datetime) -> str:
    return f"{day_label(value.astimezone(UTC))} {value.astimezone(UTC):%H:%M} UTC"


def environment(config: Config) -> Environment:
    """The Jinja2 environment of the scorecard templates (installed as package data)."""
    env = Environment(
        loader=PackageLoader("fcr.scorecard", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        fmt=Formatter(currency_of(config)).format,
        raw=raw_value,
        day=day_label,
        period=period_label,
        timestamp=_timestamp,
    )
    return env


def render_scorecard(
    db_path: Path | str, config: Config, grain: str | None = None, period: date | None = None
) -> str:
    """The scorecard's HTML for one grain and period (default: the latest final period)."""
    grain = grain or config.scorecard.grain
    if grain not in GRAINS:
        raise ScorecardError(f"grain {grain!r} is not one of {', '.join(GRAINS)}")
    with data.open_published(db_path) as con:
        context = page.build(con, config, grain, period)
    template = environment(config).get_template("scorecard.html.j2")
    return template.render(**context, generated_at=datetime.now(UTC), source=Path(db_path).name)


def write_scorecard(
    db_path: Path | str,
    out_path: Path | str,
    config: Config,
    grain: str | None = None,
    period: date | None = None,
) -> Path:
    """Write the scorecard file (replacing any old one whole) and return its path."""
    html = render_scorecard(db_path, config, grain, period)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(out)
    return out

"""Fair rankings of teams and agents: enough cases to rank, and a flag only beyond doubt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fcr.config import Config
from fcr.scorecard.data import Period
from fcr.scorecard.intervals import Flag, Interval, flag, wilson

EXTREMES = 5  # the top and bottom few always shown, flagged or not


def rate_keys(period: Period, dimension: str, value: str) -> dict[str, str]:
    """The key of a published.metrics / metric_rates row, as the page's data- attributes carry it."""
    return {
        "grain": period.grain,
        "period_start": period.start.isoformat(),
        "dimension": dimension,
        "dimension_value": value,
    }


@dataclass
class Ranked:
    """A team or agent with enough mature cases to be shown with its interval."""

    name: str
    mature_cases: int
    cases_1: int
    fcr: float | None
    interval: Interval
    flag: Flag
    ref: dict[str, str]
    rank: int = 0


@dataclass
class Ranking:
    """Teams or agents: ranked ones, the small ones grouped, and cases with none recorded."""

    dimension: str
    ranked: list[Ranked] = field(default_factory=list)
    small_count: int = 0
    small_mature_cases: int = 0
    small_cases_1: int = 0
    unassigned: dict[str, Any] | None = None
    chart: str | None = None

    def flagged(self, which: Flag) -> int:
        """How many ranked ones carry the flag ('above', 'below', or None = within range)."""
        return sum(1 for row in self.ranked if row.flag == which)

    def highlights(self) -> list[Ranked]:
        """The ones beyond doubt and the top and bottom few: what a manager acts on, the rest folded."""
        last = len(self.ranked) - EXTREMES
        return [row for i, row in enumerate(self.ranked) if row.flag or i < EXTREMES or i >= last]

    @property
    def small_fcr(self) -> float | None:
        """FCR of the grouped small ones together."""
        return self.small_cases_1 / self.small_mature_cases if self.small_mature_cases else None


def ranking(rows: list[dict[str, Any]], period: Period, overall: float | None, config: Config) -> Ranking:
    """Rank only those with enough mature cases; flag only intervals wholly above or below overall."""
    dimension = rows[0]["dimension"] if rows else ""
    result = Ranking(dimension)
    for row in rows:
        if row["dimension_value"] == "(none)":
            result.unassigned = {**row, "ref": rate_keys(period, dimension, "(none)")}
        elif row["mature_cases"] < config.scorecard.min_mature_cases:
            result.small_count += 1
            result.small_mature_cases += row["mature_cases"]
            result.small_cases_1 += row["cases_1"]
        else:
            interval = wilson(row["cases_1"], row["mature_cases"], config.scorecard.confidence)
            result.ranked.append(
                Ranked(
                    row["dimension_value"],
                    row["mature_cases"],
                    row["cases_1"],
                    row["fcr"],
                    interval,
                    flag(interval, overall),
                    rate_keys(period, dimension, row["dimension_value"]),
                )
            )
    result.ranked.sort(key=lambda r: (-r.fcr, -r.mature_cases, r.name))
    for rank, row in enumerate(result.ranked, start=1):
        row.rank = rank
    return result

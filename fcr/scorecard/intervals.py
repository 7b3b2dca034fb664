"""Wilson score intervals around FCR, so small teams and agents are judged by what their data can show."""

from __future__ import annotations

from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist
from typing import Literal

Flag = Literal["above", "below"] | None


@dataclass(frozen=True)
class Interval:
    """A proportion's confidence interval."""

    low: float
    high: float


def wilson(successes: int, trials: int, confidence: float = 0.95) -> Interval | None:
    """Wilson score interval of successes/trials; None when there are no trials to judge."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} must lie between 0 and trials {trials}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def flag(interval: Interval | None, overall: float | None) -> Flag:
    """'above' or 'below' only when the whole interval lies on one side of the overall rate."""
    if interval is None or overall is None:
        return None
    if interval.low > overall:
        return "above"
    if interval.high < overall:
        return "below"
    return None

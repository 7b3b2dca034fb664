"""Wilson intervals and flags: small samples must not shame anyone."""

from __future__ import annotations

import pytest

from fcr.scorecard.intervals import Interval, flag, wilson


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (8, 10, 0.4902, 0.9433),  # the textbook example
        (0, 20, 0.0, 0.1611),
        (20, 20, 0.8389, 1.0),
        (50, 100, 0.4038, 0.5962),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_wilson_matches_published_values(successes: int, trials: int, low: float, high: float) -> None:
    interval = wilson(successes, trials)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_wilson_narrows_with_more_cases_and_wider_confidence_widens_it() -> None:
    small, large = wilson(7, 10), wilson(700, 1000)
    assert small.high - small.low > large.high - large.low
    assert wilson(7, 10, 0.99).low < wilson(7, 10, 0.95).low


def test_no_cases_no_interval_and_impossible_counts_are_refused() -> None:
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(11, 10)


def test_flag_only_when_the_whole_interval_lies_on_one_side() -> None:
    assert flag(Interval(0.80, 0.90), 0.75) == "above"
    assert flag(Interval(0.60, 0.70), 0.75) == "below"
    assert flag(Interval(0.70, 0.95), 0.75) is None  # best point estimate, but it may be chance
    assert flag(Interval(0.75, 0.95), 0.75) is None  # touching the overall rate is not beyond doubt
    assert flag(None, 0.75) is None
    assert flag(Interval(0.8, 0.9), None) is None


def test_one_case_resolved_is_never_flagged_against_a_typical_rate() -> None:
    assert flag(wilson(1, 1), 0.75) is None
    assert flag(wilson(0, 1), 0.75) is None

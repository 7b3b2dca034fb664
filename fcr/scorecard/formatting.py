"""How figures and definitions read on the scorecard: one place, so every number is shown alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from fcr.config import Config
from fcr.scorecard.data import Period

_TIMEDELTA = TypeAdapter(timedelta)
MISSING = "–"
# ISO 4217 currencies whose minor unit is not the cent; every other currency has 2 decimals
MINOR_UNITS = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
         "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}  # fmt: skip


class Formatter:
    """Formats a value by its kind (pct, pts, count, delta, ratio, change, score, seconds, money)."""

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.minor_unit = minor_unit(currency)

    def format(self, value: Any, kind: str) -> str:
        """The text shown for a value; a dash for a null (absent, never zero)."""
        if value is None:
            return MISSING
        return getattr(self, f"_{kind}")(value)

    @staticmethod
    def _pct(value: float) -> str:
        return f"{value:.1%}"

    @staticmethod
    def _pts(value: float) -> str:
        return f"{_signed(value * 100, 1)} pts"

    @staticmethod
    def _count(value: float) -> str:
        return f"{value:,.0f}"

    @staticmethod
    def _ratio(value: float) -> str:
        return f"{value:.2f}"

    @staticmethod
    def _change(value: float) -> str:
        return _signed(value, 2)

    @staticmethod
    def _delta(value: float) -> str:
        return f"{value:+,.0f}" if value else "±0"

    @staticmethod
    def _score(value: float) -> str:
        return f"{value:.2f}"

    @staticmethod
    def _seconds(value: float) -> str:
        if value >= 3600:
            return f"{value / 3600:.1f} h"
        if value >= 60:
            return f"{value / 60:.0f} min"
        return f"{value:.0f} s"

    def _money(self, value: float) -> str:
        return f"{value:,.{self.minor_unit}f} {self.currency}".rstrip()


def minor_unit(currency: str) -> int:
    """Decimals of the currency's minor unit, so money is never rounded past its cents."""
    return MINOR_UNITS.get(currency.upper(), 2)


def currency_of(config: Config) -> str:
    """The currency excess contacts are priced in: the [costs] section's, one setting for both."""
    return config.costs.currency


def _signed(value: float, decimals: int) -> str:
    """'+1.2', '-0.4', and '±0.0' for what rounds to nothing (never '-0.0')."""
    text = f"{value:+.{decimals}f}"
    return "±" + text[1:] if float(text) == 0 else text


def day_label(value: date | datetime) -> str:
    """'18 Jul 2026'."""
    return f"{value.day} {value:%b %Y}"


def period_label(period: Period) -> str:
    """'Sep 2026' for a month, 'week of 19 Oct 2026' for a week."""
    if period.grain == "month":
        return f"{period.start:%b %Y}"
    return f"week of {day_label(period.start)}"


def duration_words(value: timedelta) -> str:
    """'7 days', '24 hours', '15 minutes': how a manager says a window."""
    seconds = int(value.total_seconds())
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        count, unit = seconds // 86400, "day"
    elif seconds % 3600 == 0 and seconds:
        count, unit = seconds // 3600, "hour"
    elif seconds % 60 == 0 and seconds:
        count, unit = seconds // 60, "minute"
    else:
        count, unit = seconds, "second"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def case_definition(settings: dict[str, Any]) -> str:
    """The run's linking settings as one sentence a manager understands."""
    window = duration_words(_TIMEDELTA.validate_python(settings["repeat_window"]))
    about = {
        "reason": "about the same reason",
        "reason_group": "about reasons of the same group",
        "customer": "about any reason",
    }[settings["match_on"]]
    spacing = (
        f"all within {window} of the first one"
        if settings.get("window_mode") == "anchored"
        else f"each within {window} of the previous one"
    )
    sentence = f"A case is one customer's contacts {about}, {spacing}."
    if settings.get("link_by") == "ticket":
        sentence = (
            "A case is the contacts sharing one ticket; without a ticket, "
            f"one customer's contacts {about}, {spacing}."
        )
    if settings.get("transfer_gap"):
        gap = duration_words(_TIMEDELTA.validate_python(settings["transfer_gap"]))
        sentence += f" A contact within {gap} of the previous one is a transfer, not a repeat."
    if settings.get("count_self_service") is False:
        sentence += " Bot, IVR and web sessions are not counted as contacts."
    return sentence

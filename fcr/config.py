"""One validated config object: column and channel mapping, time zones, linking settings."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

CANONICAL_CHANNELS = (
    "phone",
    "ivr",
    "email",
    "chat",
    "messaging",
    "social",
    "bot",
    "web",
    "branch",
    "other",
)
# Spellings common in exports, mapped before the config's own [channels] entries.
CHANNEL_ALIASES = {
    "voice": "phone",
    "call": "phone",
    "telephone": "phone",
    "e-mail": "email",
    "mail": "email",
    "live chat": "chat",
    "webchat": "chat",
    "whatsapp": "messaging",
    "sms": "messaging",
    "twitter": "social",
    "facebook": "social",
    "instagram": "social",
    "x": "social",
    "chatbot": "bot",
    "virtual agent": "bot",
    "vru": "ivr",
    "web form": "web",
    "webform": "web",
    "self service": "web",
    "self-service": "web",
    "store": "branch",
}
REQUIRED_COLUMNS = ("contact_id", "customer_id", "channel", "started_at")
OPTIONAL_COLUMNS = (
    "ended_at",
    "direction",
    "reason",
    "interaction_id",
    "ticket_id",
    "agent_id",
    "team",
    "queue",
    "wait_seconds",
    "handle_seconds",
    "hold_seconds",
    "transfers",
    "agent_resolved",
    "survey_resolved",
    "survey_ces",
    "survey_csat",
)
CONTACT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# The optional customers file: customer_id is required, the rest may be absent or empty.
CUSTOMER_COLUMNS = ("customer_id", "segment", "lifetime_value", "churned_at")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)\s*$", re.IGNORECASE)
_MEMORY = re.compile(r"^\s*(\d+(\.\d+)?\s*([KMGT]i?B|B)|\d+(\.\d+)?\s*%)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key."""


def parse_duration(value: object) -> timedelta:
    """Turn '7d', '24h', '15m', '30s' into a timedelta; a bare number is refused, its unit unknowable."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f"{value!r} has no unit; write it as a string with one, e.g. '{value:g}d' (days), "
            f"'{value:g}h' (hours), '{value:g}m' (minutes) or '{value:g}s' (seconds)"
        )
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2].lower()])
    raise ValueError(f"{value!r} is not a duration; write e.g. '7d', '72h', '15m' or '30s'")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LinkingConfig(_Strict):
    """How contacts are linked into cases (SPEC section 3)."""

    repeat_window: Duration = timedelta(days=7)
    window_mode: Literal["rolling", "anchored"] = "rolling"
    match_on: Literal["reason", "reason_group", "customer"] = "reason"
    reason_groups: dict[str, str] = Field(default_factory=dict)
    link_by: Literal["window", "ticket"] = "window"
    # with link_by = "ticket": a ticket silent this long is closed (a later contact on it is a new case)
    ticket_horizon: Duration = timedelta(days=30)
    count_self_service: bool = True
    transfer_gap: Duration | None = None
    allow_unusual_windows: bool = False  # confirm a repeat window under 1 hour or over 400 days

    @field_validator("repeat_window", "ticket_horizon")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @model_validator(mode="after")
    def _usual_window(self) -> LinkingConfig:
        check_usual_window(self.repeat_window, "repeat_window", self.allow_unusual_windows)
        return self


USUAL_WINDOWS = (timedelta(hours=1), timedelta(days=400))


def check_usual_window(window: timedelta, key: str, allowed: bool) -> None:
    """Refuse a repeat window outside 1 hour .. 400 days unless confirmed: most likely a wrong unit."""
    low, high = USUAL_WINDOWS
    if not allowed and not low <= window <= high:
        raise ValueError(
            f"{key} {format_duration(window)} is outside 1h..400d, which is most likely a wrong unit; "
            "set [linking] allow_unusual_windows = true if it is meant"
        )


class SensitivityConfig(_Strict):
    """Definitions published side by side in published.fcr_sensitivity (windows x match_on)."""

    windows: list[Duration] = Field(
        default_factory=lambda: [
            timedelta(hours=24),
            timedelta(days=3),
            timedelta(days=7),
            timedelta(days=30),
        ]
    )
    match_on: list[Literal["reason", "reason_group", "customer"]] = Field(
        default_factory=lambda: ["reason", "customer"]
    )


def format_duration(value: timedelta) -> str:
    """The shortest exact label for a window: 24h, 3d, 90m, 45s."""
    seconds = value.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and (unit != "d" or seconds >= 2 * 86400):
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


class ScorecardConfig(_Strict):
    """What the manager scorecard shows and the targets it compares against (SPEC section 7)."""

    grain: Literal["week", "month"] = "month"
    # first-response wait target per channel of the contact (avg_wait_seconds against it)
    first_response_targets: dict[str, Duration] = Field(
        default_factory=lambda: {"social": timedelta(hours=4), "email": timedelta(hours=24)}
    )
    # agents and teams with fewer mature cases in the period are grouped, not ranked
    min_mature_cases: int = Field(default=30, ge=1)
    # a rate on fewer mature cases (channel, reason and definition rows) is marked a small sample
    small_sample_cases: int = Field(default=100, ge=1)
    confidence: float = Field(default=0.95, gt=0, lt=1)  # of the Wilson interval around FCR
    trend_weeks: int = Field(default=26, ge=2)
    trend_months: int = Field(default=13, ge=2)
    top_reasons: int = Field(default=10, ge=1)  # rows of the reason-priority list
    ces_higher_is_better: bool = True  # CES 2.0 (1-7, "easy to handle" agreement): higher = less effort

    @field_validator("first_response_targets")
    @classmethod
    def _canonical_channels(cls, value: dict[str, timedelta]) -> dict[str, timedelta]:
        unknown = sorted(set(value) - set(CANONICAL_CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; use one of {CANONICAL_CHANNELS}")
        return value


class CsvConfig(_Strict):
    """How delimited text files are read."""

    delimiter: str = ","
    encoding: str = "utf8"


class ValidationConfig(_Strict):
    """Thresholds the Great Expectations suites under expectations/ are run with (SPEC section 5)."""

    earliest_started_at: datetime = datetime(1990, 1, 1, tzinfo=UTC)
    future_tolerance: Duration = timedelta(days=1)
    as_of_tolerance: Duration = timedelta(days=31)  # how far --as-of may pass the latest contact
    max_case_drop_share: float = Field(default=0.1, ge=0, le=1)
    case_drop_min_cases: int = Field(default=100, ge=0)
    chunk_rows: int = Field(default=2_000_000, gt=0)
    sample_rows: int = Field(default=5, ge=1)

    @field_validator("earliest_started_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class ServingConfig(_Strict):
    """Where the read-only copies for BI tools go after each publish (enabled = false: none)."""

    enabled: bool = True
    dir: Path | None = None
    # Parquet snapshots kept (the newest; `current` points at the last): a reader part-way through
    # one keeps its files while this many later publishes are served
    keep_snapshots: int = Field(default=3, ge=1)
    # a PostgreSQL server BI tools query: its URL without a password (libpq reads that from
    # PGPASSWORD or ~/.pgpass), or the name of an environment variable that holds the whole URL
    postgres_url: str | None = None
    postgres_url_env: str | None = None
    postgres_schema: str = Field(default="fcr", pattern=r"^[a-z_][a-z0-9_]{0,62}$")

    @field_validator("postgres_url")
    @classmethod
    def _no_password_in_the_file(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"must start with postgresql:// (got {value.split(':', 1)[0]!r})")
        if parts.password is not None or "password=" in parts.query:
            raise ValueError(
                "holds a password: keep it out of the config file (set PGPASSWORD, use ~/.pgpass, "
                "or put the whole URL in an environment variable and name it in postgres_url_env)"
            )
        return value

    @model_validator(mode="after")
    def _one_postgres_source(self) -> ServingConfig:
        if self.postgres_url and self.postgres_url_env:
            raise ValueError("set postgres_url or postgres_url_env, not both")
        return self

    def postgres_target(self) -> str | None:
        """The PostgreSQL URL to serve to, read from the environment when the config names a variable."""
        if not self.enabled or not (self.postgres_url or self.postgres_url_env):
            return None
        if self.postgres_url:
            return self.postgres_url
        value = os.environ.get(self.postgres_url_env or "")
        if not value:
            raise ConfigError(
                f"[serving] postgres_url_env names the environment variable {self.postgres_url_env}, "
                "which is not set: export it with the server's postgresql:// URL, or remove the key"
            )
        return value


def _column_shorthand(value: object) -> object:
    """`reason = "Category"` is short for `reason = { source = "Category" }`."""
    return {"source": value} if isinstance(value, str) else value


class ColumnSource(_Strict):
    """Where one canonical column comes from: a source column, several joined, or a constant."""

    source: str | None = None
    join: list[str] | None = Field(default=None, min_length=2)
    separator: str | None = None
    constant: str | None = None
    null_values: list[str] = Field(default_factory=list)
    allowed_values: list[str] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnSource:
        given = [k for k in ("source", "join", "constant") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of source, join or constant, not {' and '.join(given)}")
        if self.separator is not None and self.join is None:
            raise ValueError("separator only applies with join")
        return self

    def source_columns(self, canonical: str) -> list[str]:
        """The file columns this column reads (none for a constant)."""
        if self.constant is not None:
            return []
        return self.join or [self.source or canonical]


ColumnSpec = Annotated[ColumnSource, BeforeValidator(_column_shorthand)]


class RowFilter(_Strict):
    """Leave out rows whose source column equals a value or is one of several (counted, not quarantined)."""

    column: str = Field(min_length=1)
    equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in", min_length=1)

    @model_validator(mode="after")
    def _one_test(self) -> RowFilter:
        if (self.equals is None) == (self.in_ is None):
            raise ValueError("give exactly one of equals or in")
        return self

    def values(self) -> list[str]:
        """The source values that exclude a row."""
        return [self.equals] if self.equals is not None else list(self.in_ or [])


class DedupeConfig(_Strict):
    """Which delivery of a contact_id wins: the highest order_by value, then later file, later line."""

    order_by: str = Field(min_length=1)
    order_type: Literal["number", "timestamp"] = "number"


class CostsConfig(_Strict):
    """Cost of one contact by canonical channel, to price excess contacts (reason priority).

    The defaults are illustrative fully-loaded costs (agent time plus overhead) in the range
    industry surveys report; replace them with your own figures.
    """

    currency: str = "USD"
    phone: float = Field(default=6.00, ge=0)
    ivr: float = Field(default=0.50, ge=0)
    email: float = Field(default=4.50, ge=0)
    chat: float = Field(default=4.00, ge=0)
    messaging: float = Field(default=3.00, ge=0)
    social: float = Field(default=4.00, ge=0)
    bot: float = Field(default=0.25, ge=0)
    web: float = Field(default=0.10, ge=0)
    branch: float = Field(default=12.00, ge=0)
    other: float = Field(default=5.00, ge=0)

    def per_channel(self) -> dict[str, float]:
        """Canonical channel -> cost of one contact."""
        return {channel: getattr(self, channel) for channel in CANONICAL_CHANNELS}


class CustomersConfig(_Strict):
    """How the optional customers file is read and how churn is attributed to cases."""

    columns: dict[str, str] = Field(default_factory=dict)
    churn_window_days: int = Field(default=90, ge=1)

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CUSTOMER_COLUMNS))
        if unknown:
            raise ValueError(f"unknown customer column(s) {unknown}; known: {list(CUSTOMER_COLUMNS)}")
        return value

    def source_column(self, canonical: str) -> str:
        """The customers file's name for a canonical customer column."""
        return self.columns.get(canonical, canonical)


class Config(_Strict):
    """Everything a run needs besides the input files and the database path."""

    source_timezone: str = "UTC"
    business_timezone: str = "UTC"
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    null_values: list[str] = Field(default_factory=list)
    exclude: list[RowFilter] = Field(default_factory=list)
    dedupe: DedupeConfig | None = None
    channels: dict[str, str] = Field(default_factory=dict)
    unknown_channel: Literal["other", "quarantine"] = "other"
    # a naive local time the clocks skip (spring forward): read shifted forward by the gap, or quarantined
    nonexistent: Literal["shift_forward", "quarantine"] = "shift_forward"
    # a naive local time the clocks repeat (fall back): read as its later or earlier instant, or quarantined
    ambiguous: Literal["earliest", "latest", "quarantine"] = "latest"
    timestamp_formats: list[str] = Field(
        default_factory=lambda: ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S"]
    )
    max_quarantine_share: float = Field(default=0.01, ge=0, le=1)
    memory_limit: str = "2GB"  # of each DuckDB connection: the run's, and each shard process's
    # customers split by a hash of customer_id into this many shards, each linked by its own process
    shards: int = Field(default=1, ge=1, le=256)
    # where shards exchange their contacts and cases with the run (default: <database>_shards beside it)
    shard_dir: Path | None = None
    run_lease_timeout: Duration = timedelta(hours=2)
    csv: CsvConfig = Field(default_factory=CsvConfig)
    linking: LinkingConfig = Field(default_factory=LinkingConfig)
    costs: CostsConfig = Field(default_factory=CostsConfig)
    customers: CustomersConfig = Field(default_factory=CustomersConfig)
    sensitivity: SensitivityConfig = Field(default_factory=SensitivityConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)
    scorecard: ScorecardConfig = Field(default_factory=ScorecardConfig)

    @model_validator(mode="after")
    def _usual_sensitivity_windows(self) -> Config:
        for window in self.sensitivity.windows:
            check_usual_window(window, "sensitivity.windows", self.linking.allow_unusual_windows)
        return self

    @field_validator("memory_limit")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        if not _MEMORY.match(value):
            raise ValueError(f"{value!r} is not a memory size; write e.g. '2GB', '512MB', '4GiB' or '50%'")
        return value

    @field_validator("source_timezone", "business_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, ColumnSource]) -> dict[str, ColumnSource]:
        unknown = sorted(set(value) - set(CONTACT_COLUMNS))
        if unknown:
            raise ValueError(f"unknown contact column(s) {unknown}; known: {list(CONTACT_COLUMNS)}")
        return value

    @field_validator("channels")
    @classmethod
    def _canonical_targets(cls, value: dict[str, str]) -> dict[str, str]:
        bad = {k: v for k, v in value.items() if v not in CANONICAL_CHANNELS}
        if bad:
            raise ValueError(f"{bad} map to non-canonical channels; use one of {CANONICAL_CHANNELS}")
        return {k.strip().lower(): v for k, v in value.items()}

    def column(self, canonical: str) -> ColumnSource:
        """How a canonical contact column is read (default: the file's column of the same name)."""
        return self.columns.get(canonical) or ColumnSource()

    def channel_map(self) -> dict[str, str]:
        """Lower-cased source channel value -> canonical channel (canonical names map to themselves)."""
        return {**{c: c for c in CANONICAL_CHANNELS}, **CHANNEL_ALIASES, **self.channels}


def _table_in(annotation: object) -> type[BaseModel] | None:
    """The config table inside a field's type: X, X | None, list[X], dict[str, X], Annotated[X, ...]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_table_in, get_args(annotation))), None)


def _did_you_mean(loc: tuple[int | str, ...]) -> str:
    """The key of the same table closest to a mistyped one, as a hint (or nothing)."""
    table: type[BaseModel] | None = Config
    for part in loc[:-1]:  # a part that is no field is a [columns] name or an [[exclude]] index
        if table is not None and part in table.model_fields:
            table = _table_in(table.model_fields[part].annotation)
    keys = [field.alias or name for name, field in table.model_fields.items()] if table else []
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _describe(error: ValidationError, origin: str) -> str:
    lines = [f"invalid config {origin}:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "config"
        hint = _did_you_mean(item["loc"]) if item["type"] == "extra_forbidden" else ""
        lines.append(f"  {key}: {item['msg']}{hint}")
    return "\n".join(lines)


def build_config(data: dict, origin: str = "(in memory)") -> Config:
    """Validate a config mapping, raising ConfigError that names each bad key."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None


def load_config(path: Path | str | None) -> Config:
    """Read and validate a TOML config file; no path gives every SPEC default."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return build_config(data, str(path))

"""Generate a realistic sample contact log at any size, deterministically from a seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

REASONS = (
    "billing_question",
    "payment_failed",
    "refund_request",
    "late_delivery",
    "damaged_item",
    "wrong_item",
    "order_status",
    "cancel_order",
    "change_address",
    "password_reset",
    "account_locked",
    "login_problem",
    "plan_upgrade",
    "plan_downgrade",
    "contract_end",
    "technical_fault",
    "no_signal",
    "slow_internet",
    "device_setup",
    "roaming",
    "complaint",
    "promotion_question",
    "direct_debit",
    "invoice_copy",
    "moving_home",
)
# (channel as the source system spells it, canonical channel, share of first contacts,
#  how much a case started there adds to the chance of a repeat: talking to someone resolves more)
CHANNELS = (
    ("Phone", "phone", 0.34, -0.03),
    ("Chat", "chat", 0.15, 0.0),
    ("E-mail", "email", 0.11, 0.06),
    ("Chatbot", "bot", 0.13, 0.08),
    ("IVR", "ivr", 0.08, 0.06),
    ("WhatsApp", "messaging", 0.07, 0.02),
    ("Twitter", "social", 0.05, 0.05),
    ("Web form", "web", 0.04, 0.1),
    ("Branch", "branch", 0.03, -0.06),
)
CHANNEL_TEXT = np.array([c[0] for c in CHANNELS])
CANONICAL = np.array([c[1] for c in CHANNELS])
TEAMS = ("Billing", "Tech Support", "Orders", "Accounts", "Retention", "Digital", "Branches")
SELF_SERVICE = {"bot", "ivr", "web"}
SELF_SERVICE_IDX = [i for i, c in enumerate(CHANNELS) if c[1] in SELF_SERVICE]
# (segment, share of customers, median lifetime value, its log-normal spread,
#  chance of churning over the log when the customer never had to repeat a contact)
SEGMENTS = (
    ("consumer", 0.72, 650.0, 0.6, 0.05),
    ("small_business", 0.18, 3200.0, 0.7, 0.04),
    ("premium", 0.10, 2100.0, 0.5, 0.03),
)
END = datetime(2026, 11, 15, tzinfo=UTC)


@dataclass(frozen=True)
class SampleSpec:
    """Size and shape of a generated log."""

    contacts: int
    seed: int = 7
    days: int = 120
    end: datetime = END
    bad_row_share: float = 0.003


@dataclass
class Sample:
    """A generated contact log and, built on demand, the customers file that goes with it."""

    contacts: pa.Table
    spec: SampleSpec
    repeats_by_customer: np.ndarray  # repeat contacts each customer had to make
    last_contact_by_customer: np.ndarray  # epoch seconds of each customer's last contact, -1 if none

    @cached_property
    def customers(self) -> pa.Table:
        """customer_id, segment, lifetime_value, churned_at; churn rises with repeat contacts."""
        return _customers(self)


def _first_contact_times(rng: np.random.Generator, n: int, spec: SampleSpec) -> np.ndarray:
    day = rng.integers(0, spec.days, n)
    # office-hours peak: most contacts 08:00-20:00
    hour = np.clip(rng.normal(13, 3.5, n), 0, 23.99)
    seconds = (day * 86400 + hour * 3600).astype(np.int64)
    start = int((spec.end - timedelta(days=spec.days)).timestamp())
    return start + seconds


def generate_sample(spec: SampleSpec) -> Sample:
    """Build the sample log in memory (an Arrow table of source-like strings and numbers)."""
    rng = np.random.default_rng(spec.seed)
    n_cases = max(1, int(spec.contacts / 1.3))
    n_customers = max(1, spec.contacts // 4)

    reason_idx = rng.choice(len(REASONS), n_cases, p=_zipf_weights(len(REASONS), 0.8))
    shares = np.array([c[2] for c in CHANNELS])
    first_channel = rng.choice(len(CHANNELS), n_cases, p=shares / shares.sum())
    # harder reasons need more contacts: each reason gets its own repeat probability, which the
    # channel the customer started in raises or lowers
    repeat_p = (
        np.linspace(0.18, 0.5, len(REASONS))[reason_idx] + np.array([c[3] for c in CHANNELS])[first_channel]
    )
    sizes = np.minimum(rng.geometric(1 - repeat_p), 8)
    # most customers have a problem or two; a few heavy users have many
    heavy = rng.random(n_cases) < 0.05
    customer = np.where(
        heavy,
        rng.integers(0, max(1, n_customers // 100), n_cases),
        rng.integers(0, n_customers, n_cases),
    )
    case_start = _first_contact_times(rng, n_cases, spec)

    case_of = np.repeat(np.arange(n_cases), sizes)
    position = np.arange(len(case_of)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    gaps = np.where(position == 0, 0, rng.exponential(1.6 * 86400, len(case_of))).astype(np.int64)
    gaps[position > 0] += 300  # quick callbacks still come a few minutes later
    gap_sum = np.cumsum(gaps)
    case_gap_start = np.repeat(gap_sum[np.cumsum(sizes) - sizes], sizes)
    started = case_start[case_of] + (gap_sum - case_gap_start)

    channel = first_channel[case_of].copy()
    follow = position > 0
    self_service_start = np.isin(channel, SELF_SERVICE_IDX)
    # a customer the bot, IVR or web form did not help mostly turns to an agent; some retry it
    escalate = follow & self_service_start & (rng.random(len(channel)) < 0.8)
    channel[escalate] = rng.choice([0, 1], escalate.sum(), p=[0.7, 0.3])
    switch = follow & ~self_service_start & (rng.random(len(channel)) < 0.35)
    channel[switch] = rng.choice(len(CHANNELS), switch.sum(), p=shares / shares.sum())

    keep = started <= int(spec.end.timestamp())
    idx = np.sort(rng.permutation(np.flatnonzero(keep))[: spec.contacts])
    n = len(idx)
    started, channel, position = started[idx], channel[idx], position[idx]
    reason = reason_idx[case_of[idx]]
    customer_ids = customer[case_of[idx]]
    is_last = position == sizes[case_of[idx]] - 1

    canonical = CANONICAL[channel]
    assisted = ~np.isin(canonical, list(SELF_SERVICE))
    n_agents = max(8, min(120, n // 400))
    agent = rng.integers(0, n_agents, n)
    wait = np.where(
        np.isin(canonical, ["email", "social"]),
        rng.exponential(4 * 3600, n),
        rng.exponential(90, n),
    ).round()
    handle = np.where(assisted, rng.gamma(2.0, 180, n), rng.gamma(2.0, 45, n)).round()
    hold = np.where(assisted & (rng.random(n) < 0.2), rng.exponential(60, n), 0).round()
    transfers = np.where(assisted, rng.poisson(0.15, n), 0)
    ended = started + (wait + handle + hold).astype(np.int64)

    # agents over-report: most mark the contact resolved, even when the customer came back
    agent_resolved = np.where(assisted, rng.random(n) < np.where(is_last, 0.95, 0.7), None)
    # the customer's own view: resolved when no repeat followed (noisy); repeats cost effort
    # (CES 1-7, 7 = easy) and satisfaction (CSAT 1-5)
    direction = np.where(rng.random(n) < 0.03, "outbound", "inbound")
    surveyed = (rng.random(n) < 0.15) & (direction == "inbound")
    survey_resolved = np.where(rng.random(n) < 0.8, is_last, rng.random(n) < 0.5)
    unresolved = ~is_last
    ces = np.clip(np.rint(rng.normal(6.0 - 0.8 * position - 1.2 * unresolved, 1.0)), 1, 7).astype(int)
    csat = np.clip(np.rint(rng.normal(4.4 - 0.5 * position - 0.9 * unresolved, 0.8)), 1, 5).astype(int)

    cust = np.char.add("CU", customer_ids.astype(str)).astype(object)
    anonymous = rng.random(n) < 0.04
    cust[anonymous] = ""

    columns = {
        "contact_id": np.char.add("C", np.arange(1, n + 1).astype(str)),
        "customer_id": cust,
        "channel": CHANNEL_TEXT[channel],
        "direction": direction,
        "started_at": started,
        "ended_at": ended,
        "reason": np.array(REASONS)[reason],
        "interaction_id": np.char.add("I", np.arange(1, n + 1).astype(str)),
        "agent_id": np.where(assisted, np.char.add("A", agent.astype(str)), ""),
        "team": np.where(assisted, np.array(TEAMS)[agent % len(TEAMS)], ""),
        "queue": np.char.add(np.char.add(canonical, "-"), np.array(TEAMS)[reason % len(TEAMS)]),
        "wait_seconds": wait,
        "handle_seconds": handle,
        "hold_seconds": hold,
        "transfers": transfers,
        "agent_resolved": _yes_no(agent_resolved),
        "survey_resolved": _yes_no(np.where(surveyed, survey_resolved, None)),
        "survey_ces": np.where(surveyed, ces, None),
        "survey_csat": np.where(surveyed, csat, None),
        "notes": np.full(n, "exported by sample generator"),
    }
    columns = _add_legs(columns, rng, n_agents)
    columns["started_at"] = _iso(columns["started_at"])
    columns["ended_at"] = _iso(columns["ended_at"])
    frame = pa.table({k: pa.array(v.tolist() if v.dtype == object else v) for k, v in columns.items()})
    frame = _add_bad_rows(frame, rng, spec)

    known = ~anonymous
    repeats = np.bincount(customer_ids[known & (position > 0)], minlength=n_customers)
    last_contact = np.full(n_customers, -1, dtype=np.int64)
    np.maximum.at(last_contact, customer_ids[known], started[known])
    return Sample(frame, spec, repeats, last_contact)


def _customers(sample: Sample) -> pa.Table:
    spec = sample.spec
    rng = np.random.default_rng([spec.seed, 1])  # a stream of its own: contacts never depend on it
    n = len(sample.repeats_by_customer)
    segment = rng.choice(len(SEGMENTS), n, p=[s[1] for s in SEGMENTS])
    median, spread, base_churn = (np.array([s[i] for s in SEGMENTS])[segment] for i in (2, 3, 4))
    lifetime_value = np.round(median * np.exp(rng.normal(0, spread)), 2)
    # every repeat contact a customer had to make raises the chance they leave
    churn_p = np.minimum(base_churn + 0.07 * np.minimum(sample.repeats_by_customer, 6), 0.6)
    end = int(spec.end.timestamp())
    last = sample.last_contact_by_customer
    anchor = np.where(last >= 0, last, end - rng.integers(0, spec.days * 86400, n))
    churned_at = anchor + rng.integers(3600, 90 * 86400, n)
    churned = (rng.random(n) < churn_p) & (churned_at <= end)
    segment_text = np.array([s[0] for s in SEGMENTS], dtype=object)[segment]
    segment_text[rng.random(n) < 0.03] = ""  # the CRM has no segment for some customers
    listed = rng.random(n) >= 0.02  # and misses some customers entirely
    columns = {
        "customer_id": np.char.add("CU", np.arange(n).astype(str))[listed],
        "segment": segment_text[listed],
        "lifetime_value": lifetime_value[listed],
        "churned_at": np.where(churned, _iso(churned_at), "")[listed],
    }
    return pa.table({k: pa.array(v.tolist() if v.dtype == object else v) for k, v in columns.items()})


def _zipf_weights(k: int, s: float) -> np.ndarray:
    w = 1 / np.arange(1, k + 1) ** s
    return w / w.sum()


def _iso(epoch: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(epoch.astype("datetime64[s]"), unit="s").astype(object)


def _yes_no(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), "", dtype=object)
    out[values == True] = "yes"  # noqa: E712 (object array of True/False/None)
    out[values == False] = "no"  # noqa: E712
    return out


def _add_legs(
    columns: dict[str, np.ndarray], rng: np.random.Generator, n_agents: int
) -> dict[str, np.ndarray]:
    """Second legs sharing an interaction_id: transferred calls, and IVR calls or bot chats handed
    to an agent (such a contact started in self-service but was not contained)."""
    channel = columns["channel"]
    draw = rng.random(len(channel))
    picks = np.flatnonzero(
        ((channel == "Phone") & (draw < 0.05))
        | ((channel == "IVR") & (draw < 0.35))
        | ((channel == "Chatbot") & (draw < 0.25))
    )
    k = len(picks)
    legs = {name: values[picks] for name, values in columns.items()}
    first = channel[picks]
    agent = rng.integers(0, n_agents, k)
    legs["contact_id"] = np.char.add(legs["contact_id"], "-T")
    legs["channel"] = np.where(first == "Chatbot", "Chat", "Phone")
    legs["started_at"] = np.where(first == "Phone", legs["started_at"] + 240, legs["ended_at"])
    legs["wait_seconds"] = rng.exponential(60, k).round()
    legs["handle_seconds"] = rng.gamma(2.0, 180, k).round()
    legs["ended_at"] = legs["started_at"] + (legs["wait_seconds"] + legs["handle_seconds"]).astype(np.int64)
    legs["agent_id"] = np.char.add(np.char.add("A", agent.astype(str)), "x")
    legs["team"] = np.array(TEAMS)[agent % len(TEAMS)]
    legs["agent_resolved"] = _yes_no(rng.random(k) < 0.8)
    legs["survey_resolved"] = np.full(k, "", dtype=object)
    legs["survey_ces"] = np.full(k, None, dtype=object)
    legs["survey_csat"] = np.full(k, None, dtype=object)
    return {name: np.concatenate([columns[name], legs[name]]) for name in columns}


def _add_bad_rows(frame: pa.Table, rng: np.random.Generator, spec: SampleSpec) -> pa.Table:
    """A few rows that break rules, as real exports have, plus one re-delivered id."""
    n_bad = max(5, int(frame.num_rows * spec.bad_row_share))
    rows = frame.slice(0, n_bad).to_pylist()
    breakers = (
        lambda r: {**r, "contact_id": ""},
        lambda r: {**r, "started_at": "not a date"},
        lambda r: {**r, "ended_at": "2000-01-01T00:00:00"},
        lambda r: {**r, "handle_seconds": -30.0},
        lambda r: {**r, "started_at": ""},
    )
    bad = [breakers[i % len(breakers)]({**row, "contact_id": f"BAD{i}"}) for i, row in enumerate(rows)]
    redelivered = {**frame.slice(1, 1).to_pylist()[0], "reason": "billing_question"}
    extra = pa.Table.from_pylist([*bad, redelivered], schema=frame.schema)
    return pa.concat_tables([frame, extra])


def write_sample(spec: SampleSpec, out: Path) -> int:
    """Write the sample contact log as CSV, Parquet or JSON lines (by suffix); return the row count."""
    return write_table(generate_sample(spec).contacts, out)


def write_table(table: pa.Table, out: Path) -> int:
    """Write a generated table as CSV, Parquet or JSON lines (by suffix); return the row count."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = out.suffix.lower()
    if suffix == ".parquet":
        pq.write_table(table, out)
    elif suffix in {".jsonl", ".ndjson"}:
        table.to_pandas().to_json(out, orient="records", lines=True)
    else:
        pacsv.write_csv(table, out)
    return table.num_rows

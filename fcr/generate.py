"""Generate a realistic sample contact log at any size, deterministically from a seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
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
# (channel as the source system spells it, canonical channel, share of first contacts)
CHANNELS = (
    ("Phone", "phone", 0.34),
    ("Chat", "chat", 0.15),
    ("E-mail", "email", 0.11),
    ("Chatbot", "bot", 0.13),
    ("IVR", "ivr", 0.08),
    ("WhatsApp", "messaging", 0.07),
    ("Twitter", "social", 0.05),
    ("Web form", "web", 0.04),
    ("Branch", "branch", 0.03),
)
TEAMS = ("Billing", "Tech Support", "Orders", "Accounts", "Retention", "Digital", "Branches")
SELF_SERVICE = {"bot", "ivr", "web"}
END = datetime(2026, 11, 15, tzinfo=UTC)


@dataclass(frozen=True)
class SampleSpec:
    """Size and shape of a generated log."""

    contacts: int
    seed: int = 7
    days: int = 120
    end: datetime = END
    bad_row_share: float = 0.003


def _first_contact_times(rng: np.random.Generator, n: int, spec: SampleSpec) -> np.ndarray:
    day = rng.integers(0, spec.days, n)
    # office-hours peak: most contacts 08:00-20:00
    hour = np.clip(rng.normal(13, 3.5, n), 0, 23.99)
    seconds = (day * 86400 + hour * 3600).astype(np.int64)
    start = int((spec.end - timedelta(days=spec.days)).timestamp())
    return start + seconds


def generate_frame(spec: SampleSpec) -> pa.Table:
    """Build the sample log in memory as an Arrow table of source-like strings and numbers."""
    rng = np.random.default_rng(spec.seed)
    n_cases = max(1, int(spec.contacts / 1.3))
    n_customers = max(1, spec.contacts // 4)

    reason_idx = rng.choice(len(REASONS), n_cases, p=_zipf_weights(len(REASONS), 0.8))
    # harder reasons need more contacts: each reason gets its own repeat probability
    repeat_p = np.linspace(0.18, 0.5, len(REASONS))[reason_idx]
    sizes = np.minimum(rng.geometric(1 - repeat_p), 8)
    # most customers have a problem or two; a few heavy users have many
    heavy = rng.random(n_cases) < 0.05
    customer = np.where(
        heavy,
        rng.integers(0, max(1, n_customers // 100), n_cases),
        rng.integers(0, n_customers, n_cases),
    )
    shares = np.array([c[2] for c in CHANNELS])
    first_channel = rng.choice(len(CHANNELS), n_cases, p=shares / shares.sum())
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
    escalate = follow & np.isin(channel, [3, 4, 7])  # bot/ivr/web -> phone or chat
    channel[escalate] = rng.choice([0, 1], escalate.sum(), p=[0.7, 0.3])
    switch = follow & ~escalate & (rng.random(len(channel)) < 0.35)
    channel[switch] = rng.choice(len(CHANNELS), switch.sum(), p=shares / shares.sum())

    keep = started <= int(spec.end.timestamp())
    idx = np.sort(rng.permutation(np.flatnonzero(keep))[: spec.contacts])
    n = len(idx)
    started, channel = started[idx], channel[idx]
    reason = reason_idx[case_of[idx]]
    customer_ids = customer[case_of[idx]]

    canonical = np.array([c[1] for c in CHANNELS])[channel]
    assisted = ~np.isin(canonical, list(SELF_SERVICE))
    n_agents = max(8, min(120, n // 400))
    agent = rng.integers(0, n_agents, n)
    team = np.array(TEAMS)[agent % len(TEAMS)]
    wait = np.where(
        np.isin(canonical, ["email", "social"]),
        rng.exponential(4 * 3600, n),
        rng.exponential(90, n),
    ).round()
    handle = np.where(assisted, rng.gamma(2.0, 180, n), rng.gamma(2.0, 45, n)).round()
    hold = np.where(assisted & (rng.random(n) < 0.2), rng.exponential(60, n), 0).round()
    transfers = np.where(assisted, rng.poisson(0.15, n), 0)
    ended = started + (wait + handle + hold).astype(np.int64)

    # the customer's own view: resolved when no repeat followed (noisy); agents over-report
    is_last = position[idx] == sizes[case_of[idx]] - 1
    surveyed = rng.random(n) < 0.15
    survey_resolved = np.where(rng.random(n) < 0.8, is_last, rng.random(n) < 0.5)
    agent_resolved = np.where(assisted, rng.random(n) < 0.85, None)

    contact_id = np.char.add("C", np.arange(1, n + 1).astype(str))
    cust = np.char.add("CU", customer_ids.astype(str)).astype(object)
    cust[rng.random(n) < 0.04] = ""
    direction = np.where(rng.random(n) < 0.03, "outbound", "inbound")
    channel_text = np.array([c[0] for c in CHANNELS])[channel]

    table = {
        "contact_id": contact_id,
        "customer_id": cust,
        "channel": channel_text,
        "direction": direction,
        "started_at": _iso(started),
        "ended_at": _iso(ended),
        "reason": np.array(REASONS)[reason],
        "interaction_id": np.char.add("I", np.arange(1, n + 1).astype(str)),
        "agent_id": np.where(assisted, np.char.add("A", agent.astype(str)), ""),
        "team": np.where(assisted, team, ""),
        "queue": np.char.add(np.char.add(canonical, "-"), np.array(TEAMS)[reason % len(TEAMS)]),
        "wait_seconds": wait,
        "handle_seconds": handle,
        "hold_seconds": hold,
        "transfers": transfers,
        "agent_resolved": _yes_no(agent_resolved),
        "survey_resolved": _yes_no(np.where(surveyed, survey_resolved, None)),
        "survey_ces": np.where(surveyed, rng.integers(1, 8, n), None),
        "survey_csat": np.where(surveyed, rng.integers(1, 6, n), None),
        "notes": np.full(n, "exported by sample generator"),
    }
    arrays = {k: pa.array(v.tolist() if v.dtype == object else v) for k, v in table.items()}
    frame = pa.table(arrays)
    frame = _add_legs(frame, rng)
    return _add_bad_rows(frame, rng, spec)


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


def _add_legs(frame: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Some phone calls were transferred: a second leg shares the interaction_id."""
    channel = np.array(frame["channel"].to_pylist())
    picks = np.flatnonzero((channel == "Phone") & (rng.random(len(channel)) < 0.05))
    if not len(picks):
        return frame
    legs = frame.take(pa.array(picks)).to_pydict()
    legs["contact_id"] = [f"{c}-T" for c in legs["contact_id"]]
    legs["started_at"] = [_shift(s, 240) for s in legs["started_at"]]
    legs["ended_at"] = [_shift(s, 600) for s in legs["ended_at"]]
    legs["agent_id"] = [f"{a}x" if a else a for a in legs["agent_id"]]
    return pa.concat_tables([frame, pa.table(legs, schema=frame.schema)])


def _shift(iso: str, seconds: int) -> str:
    value = datetime.fromisoformat(iso) + timedelta(seconds=seconds)
    return value.isoformat(timespec="seconds")


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
    """Write the sample log as CSV, Parquet or JSON lines (by suffix); return the row count."""
    table = generate_frame(spec)
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

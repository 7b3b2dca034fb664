"""Effort, self-service, survey and per-channel metrics (SPEC section 4), checked by hand on a tiny log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fcr.generate import SampleSpec, generate_sample
from tests.full_log import given, query, run_log, run_sample

AS_OF = datetime(2026, 2, 1, tzinfo=UTC)


# Five cases about one reason, all mature at AS_OF:
#   A: bot, then phone (escalated)            -> 2 contacts, 2 channels, self-service start, not contained
#   B: bot only                               -> contained
#   C: an IVR call handed to an agent leg (IC) -> 1 contact (legs collapse), self-service start, NOT contained
#   D: phone, surveyed                        -> FCR
#   E: email, then email again the next day   -> 2 contacts; the agent had marked the first resolved
# plus an outbound call to D (never counted) and an anonymous chat (a contact in no case).
LOG = given("""
contact_id customer_id channel direction started_at  ended_at    interaction_id wait_seconds handle_seconds hold_seconds transfers agent_resolved survey_resolved survey_ces survey_csat
A1         A           bot     .         01-05T09:00 01-05T09:05 .              0            300            .            .         .              no              .          .
A2         A           phone   .         01-05T10:00 01-05T10:10 .              60           480            30           1         yes            .               .          .
B1         B           bot     .         01-05T11:00 01-05T11:03 .              .            180            .            .         .              .               .          .
C1         C           ivr     .         01-05T12:00 01-05T12:01 IC             10           60             .            .         .              .               .          .
C1b        C           phone   .         01-05T12:02 01-05T12:07 IC             30           240            .            .         yes            .               .          .
D1         D           phone   .         01-05T13:00 01-05T13:12 .              120          600            .            .         yes            yes             6          5
E1         E           email   .         01-05T14:00 01-05T16:05 .              7200         300            .            .         yes            yes             2          2
E2         E           email   .         01-06T09:00 01-06T10:05 .              3600         200            .            .         .              .               .          .
O1         D           phone   outbound  01-05T15:00 01-05T15:20 .              999          200            .            .         .              .               .          .
N1         .           chat    .         01-05T16:00 01-05T16:05 .              20           .              .            .         .              .               .          .
""")  # noqa: E501 (a table reads best unwrapped)

CUSTOMERS = given("""
customer_id segment
A           consumer
B           premium
C           .
E           consumer
""")  # D is not in the customers file


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made log, run once with its customers file."""
    directory = tmp_path_factory.mktemp("effort")
    run_log(directory, LOG, CUSTOMERS, as_of=AS_OF)
    return directory / "fcr.duckdb"


def test_cases_carry_their_effort_and_self_service_flags(db: Path) -> None:
    cases = {r["case_id"]: r for r in query(db, "select * from published.cases")}
    assert sorted(cases) == ["A1", "B1", "C1", "D1", "E1"]
    a = cases["A1"]
    assert (a["contact_count"], a["channel_count"], a["first_channel"], a["last_channel"]) == (
        2,
        2,
        "bot",
        "phone",
    )
    assert a["channels_used"] == "bot,phone"
    assert (a["is_multi_channel"], a["is_self_service_start"], a["is_contained"]) == (True, True, False)
    assert (a["wait_seconds"], a["handle_seconds"], a["hold_seconds"], a["transfers"]) == (60, 780, 30, 1)
    assert a["time_to_resolution_seconds"] == 70 * 60  # 09:00 -> 10:10
    assert (cases["B1"]["is_self_service_start"], cases["B1"]["is_contained"]) == (True, True)
    # the IVR call reached an agent inside the same interaction: one contact, but not contained
    c = cases["C1"]
    assert (c["contact_count"], c["first_channel"], c["is_self_service_start"], c["is_contained"]) == (
        1,
        "ivr",
        True,
        False,
    )
    assert (c["wait_seconds"], c["handle_seconds"], c["time_to_resolution_seconds"]) == (40, 300, 7 * 60)
    assert cases["E1"]["time_to_resolution_seconds"] == 20 * 3600 + 5 * 60  # 14:00 -> 10:05 next day


def test_case_counts_and_rates_by_hand(db: Path) -> None:
    [m] = query(
        db,
        "select * from published.metrics join published.metric_rates "
        "using (grain, period_start, dimension, dimension_value) "
        "where grain = 'day' and period_start = '2026-01-05' and dimension = 'all'",
    )
    assert (m["cases"], m["mature_cases"], m["cases_1"]) == (5, 5, 3)  # B, C, D resolved first time
    assert (m["multi_channel_cases"], m["self_service_cases"], m["contained_cases"]) == (1, 3, 1)
    assert m["channel_switch_rate"] == pytest.approx(1 / 5)
    assert m["containment_rate"] == pytest.approx(1 / 3)
    # wait + handle: A 840, B 180, C 340, D 720, E 11300
    assert (m["case_wait_seconds"], m["case_handle_seconds"]) == (11020, 2360)
    assert m["effort_seconds_per_case"] == pytest.approx(13380 / 5)
    assert (m["case_hold_seconds"], m["case_transfers"]) == (30, 1)
    # time to resolution: A 4200, B 180, C 420, D 720, E 72300
    assert m["time_to_resolution_seconds"] == 77820
    assert m["avg_time_to_resolution_seconds"] == pytest.approx(77820 / 5)
    # first-contact surveys: A1 no, D1 yes, E1 yes
    assert (m["first_contact_surveys"], m["first_contact_survey_resolved"]) == (3, 2)
    assert m["customer_reported_fcr"] == pytest.approx(2 / 3)
    # dispositions on first contacts: D1 and E1 (bots and the IVR leg have none); only D was FCR
    assert (m["first_contact_dispositions"], m["first_contact_agent_resolved"]) == (2, 2)
    assert m["first_contact_disposition_cases_1"] == 1
    assert m["agent_reported_fcr"] == 1.0
    assert m["fcr"] == pytest.approx(3 / 5)
    assert m["agent_reported_fcr_gap"] == pytest.approx(0.5)  # agents said 2 of 2, repeats say 1 of 2
    assert (m["ces_responses"], m["ces_sum"], m["ces"]) == (2, 8, 4.0)
    assert (m["csat_responses"], m["csat_sum"], m["csat"]) == (2, 7, 3.5)


def test_per_contact_channel_wait_and_repeats(db: Path) -> None:
    rows = query(
        db,
        "select * from published.metrics join published.metric_rates "
        "using (grain, period_start, dimension, dimension_value) "
        "where grain = 'month' and dimension = 'channel'",
    )
    by_channel = {r["dimension_value"]: r for r in rows}
    # email: first response 2 h, then 1 h; the first email was followed by a repeat, the second not
    email = by_channel["email"]
    assert (email["contacts"], email["avg_wait_seconds"]) == (2, 5400)
    assert (email["counted_contacts"], email["contacts_followed_by_repeat"]) == (2, 1)
    assert email["followed_by_repeat_rate"] == 0.5
    # phone: inbound waits 60 (A2) and 120 (D1); the outbound call's 999 s is not a customer's wait
    phone = by_channel["phone"]
    assert (phone["contacts"], phone["contacts_with_wait"], phone["avg_wait_seconds"]) == (3, 2, 90)
    assert (phone["counted_contacts"], phone["followed_by_repeat_rate"]) == (2, 0)
    # bot: A1 was followed by the phone call, B1 was not
    assert by_channel["bot"]["followed_by_repeat_rate"] == 0.5
    # the anonymous chat is a contact but in no case
    chat = by_channel["chat"]
    assert (chat["contacts"], chat["counted_contacts"], chat["followed_by_repeat_rate"]) == (
        1,
        0,
        None,
    )
    # case counts by channel of first contact: A and B started in bot, C in ivr
    assert (by_channel["bot"]["cases"], by_channel["ivr"]["cases"], by_channel["phone"]["cases"]) == (2, 1, 1)


def test_segment_dimension_when_customers_are_given(db: Path) -> None:
    rows = query(
        db,
        "select dimension_value, cases, contacts from published.metrics "
        "where grain = 'day' and period_start = '2026-01-05' and dimension = 'segment' order by 1",
    )
    # cases: A, E consumer; B premium; C (no segment) and D (not in the file) (none)
    # contacts: A1, A2, E1 consumer; B1 premium; C1, D1, O1 and the anonymous N1 (none)
    assert [(r["dimension_value"], r["cases"], r["contacts"]) for r in rows] == [
        ("(none)", 2, 4),
        ("consumer", 2, 3),
        ("premium", 1, 1),
    ]


def test_no_segment_dimension_without_customers(tmp_path: Path) -> None:
    run_log(tmp_path, LOG, as_of=AS_OF)
    db = tmp_path / "fcr.duckdb"
    dimensions = {r["dimension"] for r in query(db, "select distinct dimension from published.metrics")}
    assert "segment" not in dimensions
    assert {"all", "channel", "reason"} <= dimensions


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated sample log and customers file, run once."""
    directory = tmp_path_factory.mktemp("sample")
    run_sample(directory)
    return directory / "fcr.duckdb"


def test_containment_never_exceeds_one(sample_db: Path) -> None:
    broken = query(
        sample_db,
        "select * from published.metric_rates r join published.metrics m "
        "using (grain, period_start, dimension, dimension_value) "
        "where m.contained_cases > m.self_service_cases or r.containment_rate > 1 "
        "or m.multi_channel_cases > m.mature_cases "
        "or m.contacts_followed_by_repeat > m.counted_contacts",
    )
    assert broken == []


def test_generated_sample_shows_every_effort_metric(sample_db: Path) -> None:
    [r] = query(
        sample_db,
        "select * from published.metric_rates where grain = 'month' and dimension = 'all' "
        "and is_final order by mature_cases desc limit 1",
    )
    assert 0.2 < r["containment_rate"] < 0.9  # some bot/IVR contacts reach an agent
    assert 0 < r["channel_switch_rate"] < 0.5
    assert r["agent_reported_fcr_gap"] > 0.05  # agents over-report
    assert 0.5 < r["customer_reported_fcr"] < 1
    assert 1 <= r["ces"] <= 7 and 1 <= r["csat"] <= 5
    assert r["effort_seconds_per_case"] > 0 and r["avg_time_to_resolution_seconds"] > 0
    waits = {
        w["dimension_value"]: w["avg_wait_seconds"]
        for w in query(
            sample_db,
            "select dimension_value, avg_wait_seconds from published.metric_rates "
            "where grain = 'month' and dimension = 'channel' and period_start = $p",
            {"p": r["period_start"]},
        )
    }
    assert waits["email"] > 3600 and waits["social"] > 3600 > waits["phone"]  # replies within hours
    segments = query(
        sample_db, "select distinct dimension_value from published.metrics where dimension = 'segment'"
    )
    assert {s["dimension_value"] for s in segments} >= {"consumer", "premium", "small_business", "(none)"}


def test_generator_is_deterministic_and_escalates_self_service() -> None:
    spec = SampleSpec(contacts=3000, seed=11, days=30)
    first, again = generate_sample(spec), generate_sample(spec)
    assert first.contacts.equals(again.contacts)
    assert first.customers.equals(again.customers)
    assert not generate_sample(SampleSpec(contacts=3000, seed=12, days=30)).contacts.equals(first.contacts)
    rows = first.contacts.to_pydict()
    surveyed = sum(1 for v in rows["survey_ces"] if v is not None)
    assert 0.05 < surveyed / len(rows["contact_id"]) < 0.3
    legs = list(zip(rows["contact_id"], rows["interaction_id"], rows["channel"], strict=True))
    first_leg_channel = {i: ch for c, i, ch in legs if not c.endswith("-T")}
    handed_over = {first_leg_channel[i] for c, i, ch in legs if c.endswith("-T") and ch in ("Phone", "Chat")}
    assert {"IVR", "Chatbot"} <= handed_over  # self-service sessions passed to an agent in one interaction

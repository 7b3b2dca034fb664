"""Every linking setting of SPEC §3 beyond the defaults, with hand-checked fixtures."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from fcr.transform.link import anchored_case_starts
from tests.conftest import cases_of
from tests.test_link import c

LATER = datetime(2026, 6, 1, tzinfo=UTC)


def test_anchored_window_counts_from_the_first_contact(run_log):
    rows = [
        c("a", "2026-01-01 09:00:00"),
        c("b", "2026-01-06 09:00:00"),
        c("c", "2026-01-08 09:00:00"),  # exactly 7 days after a: still the case of a
        c("d", "2026-01-12 09:00:00"),  # 11 days after a: a new case (rolling would keep it)
        c("e", "2026-01-19 09:00:01"),  # 7 days + 1 s after d: another case
    ]
    _, con = run_log(rows, config={"linking": {"window_mode": "anchored"}}, as_of=LATER)
    assert cases_of(con) == [["a", "b", "c"], ["d"], ["e"]]
    _, rolling = run_log(rows, as_of=LATER)
    assert cases_of(rolling) == [["a", "b", "c", "d"], ["e"]]


def test_anchored_maturity_counts_from_the_first_contact(run_log):
    rows = [c("a", "2026-01-01 09:00:00"), c("b", "2026-01-07 09:00:00")]
    as_of = datetime(2026, 1, 8, 9, 0, tzinfo=UTC)  # first + 7 days: mature when anchored
    _, anchored = run_log(rows, config={"linking": {"window_mode": "anchored"}}, as_of=as_of)
    _, rolling = run_log(rows, as_of=as_of)
    assert anchored.execute("select is_mature from published.cases").fetchone()[0] is True
    assert rolling.execute("select is_mature from published.cases").fetchone()[0] is False


def test_anchored_case_starts_on_arrays():
    # g1: window 7 from 0 covers 5 and 7; 8 starts a case covering 15 (exactly 7 later); 16 starts one
    groups = np.array(["g1"] * 6 + ["g2"] * 2)
    started = np.array([0, 5, 7, 8, 15, 16, 0, 100], dtype=np.int64) * 1000
    ticket = np.array([False] * 6 + [True] * 2)  # g2 is a ticket: one case whatever the gap
    starts = anchored_case_starts(groups, started, ticket, window_ms=7000)
    assert starts.tolist() == [True, False, False, True, False, True, True, False]


def test_ticket_linking_groups_a_ticket_and_falls_back_to_the_window(run_log):
    config = {"linking": {"link_by": "ticket"}}
    rows = [
        c("a", "2026-01-01 09:00:00", ticket_id="T1"),
        c("b", "2026-01-20 09:00:00", ticket_id="T1"),  # weeks later, same ticket: same case
        c("x", "2026-01-02 09:00:00", ticket_id="T2"),  # a day after a, other ticket: own case
        c("n1", "2026-02-01 09:00:00"),  # no ticket: window linking
        c("n2", "2026-02-03 09:00:00"),
    ]
    header_rows = [{**r} for r in rows]
    _, con = run_log(header_rows, config=config, as_of=LATER)
    assert cases_of(con) == [["a", "b"], ["x"], ["n1", "n2"]]


def test_transfer_gap_folds_quick_forwards_into_one_contact(run_log):
    config = {"linking": {"transfer_gap": "15m"}}
    rows = [
        c("a", "2026-01-01 09:00:00", channel="bot", reason="billing"),
        c("b", "2026-01-01 09:10:00", channel="phone", reason="payments"),  # 10 min: a forward
        c("d", "2026-01-01 09:30:00", channel="phone", reason="billing"),  # 20 min after b: a repeat
    ]
    _, con = run_log(rows, config=config, as_of=LATER)
    assert cases_of(con) == [["a", "b", "d"]]  # b is in a's case as its forward (contact number 1 too)
    assert con.execute("select contact_count from published.cases").fetchone()[0] == 2
    contacts = con.execute(
        "select contacts, counted_contacts from published.metrics where grain = 'day' and dimension = 'all'"
    ).fetchone()
    assert contacts == (3, 2)  # three contacts happened; the forward is not counted as a repeat
    _, without = run_log(rows, as_of=LATER)
    assert cases_of(without) == [["a", "d"], ["b"]]


def test_transfer_gap_and_interaction_legs_together(run_log):
    config = {"linking": {"transfer_gap": "5m"}}
    rows = [
        c("a1", "2026-01-01 09:00:00", interaction_id="I1", ended_at="2026-01-01 09:02:00"),
        c("a2", "2026-01-01 09:03:00", interaction_id="I1", ended_at="2026-01-01 09:06:00"),
        c("b", "2026-01-01 09:04:00", ended_at="2026-01-01 09:20:00"),  # 4 min after I1's start
    ]
    _, con = run_log(rows, config=config, as_of=LATER)
    assert cases_of(con) == [["a1", "b"]]  # b: a forward of the interaction a1-a2
    assert con.execute("select last_ended_at from published.cases").fetchone()[0] == datetime(
        2026, 1, 1, 9, 20, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("window_mode", "link_by"),
    [  # nine runs each, left to make test; every run checks the definition in use against its metrics
        pytest.param("rolling", "window", marks=pytest.mark.slow),
        pytest.param("anchored", "window", marks=pytest.mark.slow),
        pytest.param("rolling", "ticket", marks=pytest.mark.slow),
    ],
)
def test_sensitivity_rows_equal_separate_runs(run_log, window_mode, link_by):
    rows = [
        c("a", "2026-01-01 09:00:00", reason="billing", channel="chat", team="T1"),
        c("b", "2026-01-01 20:00:00", reason="delivery", team="T2"),
        c("d", "2026-01-03 09:00:00", reason="billing", team="T2"),
        c("e", "2026-01-09 09:00:00", reason="billing"),
        c("f", "2026-01-25 09:00:00", reason="billing", customer="K2"),
        c("g", "2026-02-20 09:00:00", reason="billing", customer="K2"),
        c("h", "2026-03-10 09:00:00", reason="other", customer="K2"),
        # five contacts within a day (a case longer than three), the last one still open at as_of
        *(c(f"k{i}", f"2026-03-14 0{i}:00:00", customer="K3") for i in range(5)),
        # one ticket: its contacts link however far apart, until it is silent for the 30-day horizon
        c("t1", "2026-01-05 09:00:00", customer="K4", ticket_id="T1"),
        c("t2", "2026-01-20 09:00:00", customer="K4", ticket_id="T1"),
        c("t3", "2026-03-01 09:00:00", customer="K4", ticket_id="T1"),
    ]
    as_of = datetime(2026, 3, 15, tzinfo=UTC)
    base = {"linking": {"window_mode": window_mode, "link_by": link_by}}
    _, con = run_log(rows, config=base, as_of=as_of)
    sensitivity = con.execute(
        "select repeat_window_seconds, match_on, period_start, dimension, dimension_value, is_final, "
        "cases, mature_cases, cases_1, cases_2, cases_3 from published.fcr_sensitivity order by all"
    ).fetchall()
    assert len({(r[0], r[1]) for r in sensitivity}) == 8
    for window in ("24h", "3d", "7d", "30d"):
        for match_on in ("reason", "customer"):
            linking = {**base["linking"], "repeat_window": window, "match_on": match_on}
            _, single = run_log(rows, config={"linking": linking}, as_of=as_of)
            seconds = single.execute(
                "select repeat_window_seconds from published.fcr_sensitivity where is_current_definition"
            ).fetchone()[0]
            expected = single.execute(
                "select $s, $m, period_start, dimension, dimension_value, is_final, cases, mature_cases, "
                "cases_1, cases_2, cases_3 from published.metrics "
                "where grain = 'month' and dimension in ('all', 'channel', 'reason', 'team') and cases > 0 "
                "order by all",
                {"s": seconds, "m": match_on},
            ).fetchall()
            got = [r for r in sensitivity if r[0] == seconds and r[1] == match_on]
            assert got == expected, (window, match_on)


def test_a_teams_fcr_rank_can_be_read_under_each_window(run_log):
    # T1's customer calls back after two days, T2's after ten: within 3d or 7d T1 has the lower FCR,
    # within 30d the two tie at 0.5, within 24h T1 resolves everything. A contact on no team is '(none)'.
    rows = [
        c("p1", "2026-01-05 09:00:00", customer="A", team="T1"),
        c("p2", "2026-01-07 09:00:00", customer="A", team="T1"),
        c("q1", "2026-01-05 09:00:00", customer="B", team="T1"),
        c("r1", "2026-01-05 09:00:00", customer="C", team="T2"),
        c("r2", "2026-01-15 09:00:00", customer="C", team="T2"),
        c("s1", "2026-01-05 09:00:00", customer="D", team="T2", reason="delivery"),
        c("n1", "2026-01-06 09:00:00", customer="E"),
    ]
    _, con = run_log(rows, as_of=LATER)
    fcr = {
        (window, team): (cases, rate)
        for window, team, cases, rate in con.execute(
            "select repeat_window, dimension_value, mature_cases, fcr from published.fcr_sensitivity "
            "where dimension = 'team' and match_on = 'reason' and period_start = '2026-01-01'"
        ).fetchall()
    }
    assert fcr[("7d", "T1")] == (2, 0.5) and fcr[("7d", "T2")] == (3, 1.0)
    assert fcr[("3d", "T1")] == (2, 0.5) and fcr[("3d", "T2")] == (3, 1.0)
    assert fcr[("30d", "T2")] == (2, 0.5) and fcr[("30d", "T1")] == (2, 0.5)
    assert fcr[("24h", "T1")] == (3, 1.0) and fcr[("7d", "(none)")] == (1, 1.0)
    reasons = dict(
        con.execute(
            "select dimension_value, cases from published.fcr_sensitivity "
            "where dimension = 'reason' and repeat_window = '7d' and match_on = 'reason'"
        ).fetchall()
    )
    assert reasons == {"billing": 5, "delivery": 1}


def test_sensitivity_marks_the_definition_in_use(run_log):
    _, con = run_log([c("a", "2026-01-01 09:00:00")], config={"linking": {"repeat_window": "3d"}})
    current = con.execute(
        "select distinct repeat_window, match_on from published.fcr_sensitivity where is_current_definition"
    ).fetchall()
    assert current == [("3d", "reason")]


def test_uncounted_self_service_still_counts_an_ivr_call_an_agent_took(run_log):
    # K1: an IVR leg (no agent) passed to agent AG1 on one interaction, then a bot chat alone.
    # K2: a phone call. With self-service left out, K1's interaction counts as AG1's phone contact
    # (legs collapse first; the contact takes the agent leg's id) and the lone bot chat does not count.
    rows = [
        c("v1", "2026-03-02 09:00:00", channel="ivr", interaction_id="I1"),
        c("v2", "2026-03-02 09:02:00", channel="phone", interaction_id="I1", agent_id="AG1", team="T1"),
        c("b1", "2026-03-20 09:00:00", channel="bot"),
        c("p1", "2026-03-03 10:00:00", customer="K2", agent_id="AG2", team="T1"),
    ]
    _, con = run_log(rows, config={"linking": {"count_self_service": False}}, as_of=LATER)
    assert cases_of(con) == [["v2"], ["p1"]]
    case = con.execute(
        "select first_channel, agent_id, team, is_self_service_start, first_started_at from published.cases "
        "where case_id = 'v2'"
    ).fetchone()
    assert case == ("phone", "AG1", "T1", False, datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    phone = con.execute(
        "select counted_contacts, cases, cases_1 from published.metrics where grain = 'month' "
        "and dimension = 'channel' and dimension_value = 'phone'"
    ).fetchone()
    assert phone == (2, 2, 2)
    _, counted = run_log(rows, as_of=LATER)  # by default the IVR leg starts the case, as before
    assert counted.execute(
        "select first_channel, agent_id from published.cases where case_id = 'v1'"
    ).fetchone() == (
        "ivr",
        None,
    )


@pytest.mark.slow
@pytest.mark.parametrize("window_mode", ["rolling", "anchored"])
def test_a_ticket_figure_marked_final_never_moves(run_log, window_mode):
    # F1 (03-02) and F2 (03-20) share ticket T-100: 18 days apart, inside the 30-day ticket horizon.
    rows = [
        c("F1", "2026-03-02 09:00:00", ticket_id="T-100"),
        c("F2", "2026-03-20 09:00:00", ticket_id="T-100"),
    ]
    linking = {"link_by": "ticket", "window_mode": window_mode}

    def day_one(as_of: datetime) -> tuple:
        _, con = run_log(rows[: 1 if as_of.day == 15 else 2], config={"linking": linking}, as_of=as_of)
        return con.execute(
            "select is_final, mature_cases, cases_1 from published.metrics "
            "where grain = 'day' and dimension = 'all' and period_start = date '2026-03-02'"
        ).fetchone()

    # on 03-15 the ticket may still be reopened: day 03-02 is not final (it was final with FCR 100%)
    assert day_one(datetime(2026, 3, 15, tzinfo=UTC)) == (False, 0, 0)
    assert day_one(datetime(2026, 3, 31, tzinfo=UTC)) == (False, 0, 0)
    # once the ticket has been silent for 30 days, the case is closed with two contacts, and final
    assert day_one(datetime(2026, 4, 20, tzinfo=UTC)) == (True, 1, 0)


def test_a_ticket_silent_past_the_horizon_opens_a_new_case(run_log):
    rows = [
        c("a", "2026-01-01 09:00:00", ticket_id="T1"),
        c("b", "2026-01-20 09:00:00", ticket_id="T1"),  # 19 days later: same case
        c("d", "2026-03-01 09:00:00", ticket_id="T1"),  # 40 days after b: the ticket was closed
    ]
    _, con = run_log(rows, config={"linking": {"link_by": "ticket", "ticket_horizon": "30d"}}, as_of=LATER)
    assert cases_of(con) == [["a", "b"], ["d"]]


def test_a_forward_stays_in_its_case_and_an_assisted_forward_is_never_contained(tmp_path):
    from tests.full_log import query
    from tests.full_log import run_log as run_full_log

    # A bot contact at 10:00, then a phone call with agent AG1 at 10:05 (within the 15-minute gap).
    rows = [
        c("bot", "2026-03-02 10:00:00", channel="bot", ended_at="2026-03-02 10:03:00", handle_seconds="60"),
        c(
            "call",
            "2026-03-02 10:05:00",
            agent_id="AG1",
            ended_at="2026-03-02 10:20:00",
            handle_seconds="900",
        ),
    ]
    result = run_full_log(tmp_path, rows, config={"linking": {"transfer_gap": "15m"}}, as_of=LATER)
    members = query(
        result.db_path,
        "select contact_id, contact_number, is_forward from published.case_contacts order by started_at",
    )
    assert [tuple(m.values()) for m in members] == [("bot", 1, False), ("call", 1, True)]
    (case,) = query(
        result.db_path,
        "select contact_count, is_fcr, channels_used, is_contained, handle_seconds, last_ended_at "
        "from published.cases",
    )
    assert tuple(case.values()) == (
        1,
        True,
        "bot,phone",
        False,
        960,
        datetime(2026, 3, 2, 10, 20, tzinfo=UTC),
    )
    (rates,) = query(
        result.db_path,
        "select fcr, containment_rate from published.metric_rates "
        "where grain = 'month' and dimension = 'all'",
    )
    # one case, resolved first time; it started in the bot but reached an agent: not contained
    assert tuple(rates.values()) == (1.0, 0.0)

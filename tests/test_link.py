"""Linking rules of SPEC §3, one hand-checked fixture per rule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import cases_of


def c(contact_id: str, started_at: str, customer: str = "K1", reason: str = "billing", **extra) -> dict:
    return {
        "contact_id": contact_id,
        "customer_id": customer,
        "channel": "phone",
        "started_at": started_at,
        "reason": reason,
        **extra,
    }


def test_exactly_seven_days_later_is_a_repeat(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00"),
            c("b", "2026-01-08 09:00:00"),  # exactly 7 days after a: same case
            c("x", "2026-02-01 09:00:00"),
        ]
    )
    assert cases_of(con)[:1] == [["a", "b"]]


def test_seven_days_and_one_second_later_is_a_new_case(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00"),
            c("b", "2026-01-08 09:00:01"),
        ]
    )
    assert cases_of(con) == [["a"], ["b"]]


def test_rolling_window_restarts_at_each_contact(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00"),
            c("b", "2026-01-06 09:00:00"),
            c("c", "2026-01-12 09:00:00"),  # 11 days after a, 6 after b: still the same case
        ]
    )
    assert cases_of(con) == [["a", "b", "c"]]


def test_different_reasons_never_link(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00", reason="billing"),
            c("b", "2026-01-01 10:00:00", reason="delivery"),
            c("d", "2026-01-01 11:00:00", reason=""),  # empty reason = unknown
            c("e", "2026-01-01 12:00:00", reason=""),
        ]
    )
    assert cases_of(con) == [["a"], ["b"], ["d", "e"]]
    reasons = con.execute("select reason from published.cases order by case_id").fetchall()
    assert ("unknown",) in reasons


def test_different_customers_never_link(run_log):
    _, con = run_log([c("a", "2026-01-01 09:00:00", "K1"), c("b", "2026-01-01 10:00:00", "K2")])
    assert cases_of(con) == [["a"], ["b"]]


def test_outbound_and_anonymous_contacts_are_counted_but_never_linked(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00"),
            c("out", "2026-01-01 10:00:00", direction="outbound"),
            c("anon1", "2026-01-01 11:00:00", customer=""),
            c("anon2", "2026-01-01 11:05:00", customer=""),
        ]
    )
    assert cases_of(con) == [["a"]]
    row = con.execute(
        "select contacts, inbound_contacts, outbound_contacts, anonymous_contacts, cases "
        "from published.metrics where grain = 'day' and dimension = 'all'"
    ).fetchone()
    assert row == (4, 3, 1, 2, 1)


def test_interaction_legs_count_once_as_the_earliest_leg(run_log):
    _, con = run_log(
        [
            c(
                "leg2",
                "2026-01-01 09:05:00",
                interaction_id="I1",
                agent_id="B",
                ended_at="2026-01-01 09:20:00",
            ),
            c(
                "leg1",
                "2026-01-01 09:00:00",
                interaction_id="I1",
                agent_id="A",
                ended_at="2026-01-01 09:04:00",
            ),
            c("next", "2026-01-02 09:00:00"),
        ]
    )
    assert cases_of(con) == [["leg1", "next"]]
    case = con.execute("select agent_id, contact_count from published.cases").fetchone()
    assert case == ("A", 2)
    ended = con.execute("select ended_at from published.case_contacts where contact_id = 'leg1'").fetchone()
    assert ended[0] == datetime(2026, 1, 1, 9, 20, tzinfo=UTC)


def test_redelivered_contact_replaces_the_old_row(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00", reason="billing"),
            c("b", "2026-01-02 09:00:00", reason="billing"),
            c("b", "2026-01-02 09:00:00", reason="delivery"),  # later line: the correction wins
        ]
    )
    assert cases_of(con) == [["a"], ["b"]]
    assert con.execute("select count(*) from raw.contacts").fetchone()[0] == 2
    assert con.execute("select reason from raw.contacts where contact_id = 'b'").fetchone()[0] == "delivery"


def test_ties_are_broken_by_contact_id(run_log):
    _, con = run_log([c("b", "2026-01-01 09:00:00"), c("a", "2026-01-01 09:00:00")])
    assert cases_of(con) == [["a", "b"]]
    assert con.execute("select case_id from published.cases").fetchone()[0] == "a"


def test_mixed_offsets_are_compared_in_absolute_time(run_log):
    # 09:00+02:00 is 07:00 UTC; 7 days later at 07:00Z is exactly the window: a repeat
    _, con = run_log(
        [
            c("a", "2026-01-01T09:00:00+02:00"),
            c("b", "2026-01-08T07:00:00Z"),
            c("c", "2026-01-15 07:00:01"),  # naive = source zone UTC: one second past the window
        ]
    )
    assert cases_of(con) == [["a", "b"], ["c"]]


def test_business_date_follows_the_business_zone_across_dst(run_log):
    # New York: 2026-03-08 is the spring-forward day (UTC-5 before, UTC-4 after)
    config = {"business_timezone": "America/New_York"}
    _, con = run_log(
        [
            c("a", "2026-03-08T04:30:00Z", customer="K1"),  # 23:30 on 03-07 in New York (EST)
            c("b", "2026-03-09T03:30:00Z", customer="K2"),  # 23:30 on 03-08 in New York (EDT)
            c("c", "2026-03-09T04:30:00Z", customer="K3"),  # 00:30 on 03-09 in New York (EDT)
        ],
        config=config,
    )
    dates = dict(con.execute("select case_id, business_date::varchar from published.cases").fetchall())
    assert dates == {"a": "2026-03-07", "b": "2026-03-08", "c": "2026-03-09"}


def test_naive_times_are_read_in_the_source_zone(run_log):
    config = {"source_timezone": "Europe/Berlin"}
    _, con = run_log([c("a", "2026-07-01 09:00:00")], config=config)
    started = con.execute("select started_at from raw.contacts").fetchone()[0]
    assert started == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_case_is_attributed_to_its_first_contacts_period_and_channel(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-31 23:00:00", channel="chat"),
            c("b", "2026-02-02 10:00:00", channel="phone"),
        ],
        as_of=datetime(2026, 3, 1, tzinfo=UTC),
    )
    rows = con.execute(
        "select period_start::varchar, dimension_value, cases, cases_2 from published.metrics "
        "where grain = 'month' and dimension = 'channel' and cases > 0"
    ).fetchall()
    assert rows == [("2026-01-01", "chat", 1, 1)]


def test_maturity_and_provisional_periods(run_log):
    as_of = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00"),  # matures 01-08 09:00 <= as_of
            c("b", "2026-01-05 09:00:00", customer="K2"),  # matures 01-12: still open
        ],
        as_of=as_of,
    )
    mature = dict(con.execute("select case_id, is_mature from published.cases").fetchall())
    assert mature == {"a": True, "b": False}
    finals = dict(
        con.execute(
            "select period_start::varchar, is_final from published.metrics "
            "where grain = 'day' and dimension = 'all'"
        ).fetchall()
    )
    assert finals == {"2026-01-01": True, "2026-01-05": False}
    fcr = con.execute(
        "select fcr, mature_cases from published.metric_rates where grain = 'month' and dimension = 'all'"
    ).fetchone()
    assert fcr == (1.0, 1)  # the open case is not in the rate


def test_exactly_at_watermark_is_mature(run_log):
    _, con = run_log([c("a", "2026-01-01 09:00:00")], as_of=datetime(2026, 1, 8, 9, 0, tzinfo=UTC))
    assert con.execute("select is_mature from published.cases").fetchone()[0] is True


def test_self_service_contacts_can_be_left_out_of_cases(run_log):
    rows = [
        c("bot", "2026-01-01 09:00:00", channel="bot"),
        c("call", "2026-01-01 09:10:00", channel="phone"),
    ]
    _, con = run_log(rows)
    assert cases_of(con) == [["bot", "call"]]
    _, con2 = run_log(rows, config={"linking": {"count_self_service": False}})
    assert cases_of(con2) == [["call"]]


def test_match_on_customer_links_any_reason(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00", reason="billing"),
            c("b", "2026-01-02 09:00:00", reason="delivery"),
        ],
        config={"linking": {"match_on": "customer"}},
    )
    assert cases_of(con) == [["a", "b"]]


def test_reason_groups_link_reasons_of_one_group(run_log):
    groups = {"refund_request": "refunds", "refund_status": "refunds"}
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00", reason="refund_request"),
            c("b", "2026-01-02 09:00:00", reason="refund_status"),
            c("x", "2026-01-02 10:00:00", reason="billing"),
        ],
        config={"linking": {"match_on": "reason_group", "reason_groups": groups}},
    )
    assert cases_of(con) == [["a", "b"], ["x"]]


def test_custom_window(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00"),
            c("b", "2026-01-02 08:59:59"),
            c("c", "2026-01-03 09:00:00"),
        ],
        config={"linking": {"repeat_window": "24h"}},
    )
    assert cases_of(con) == [["a", "b"], ["c"]]


@pytest.mark.parametrize("window_mode", ["rolling", "anchored"])
def test_a_separator_inside_customer_or_reason_never_joins_two_cases(run_log, window_mode):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00", customer="CUX\x1fx", reason="y"),
            c("b", "2026-01-01 10:00:00", customer="CUX", reason="x\x1fy"),
        ],
        config={"linking": {"window_mode": window_mode}},
    )
    assert cases_of(con) == [["a"], ["b"]]


def test_a_separator_inside_customer_or_interaction_never_joins_two_contacts(run_log):
    _, con = run_log(
        [
            c("a", "2026-01-01 09:00:00", customer="A\x1fB", interaction_id="C"),
            c("b", "2026-01-01 10:00:00", customer="A", interaction_id="B\x1fC"),
        ]
    )
    assert cases_of(con) == [["a"], ["b"]]
    assert con.execute("select count(*) from published.case_contacts").fetchone()[0] == 2

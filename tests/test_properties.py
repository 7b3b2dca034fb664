"""Property tests: SPEC §4 invariants on random logs, and the SQL equals a pure-Python reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import cases_of, property_settings
from tests.reference import Contact, link_reference

START = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def contact_logs(draw) -> list[Contact]:
    n = draw(st.integers(min_value=1, max_value=40))
    contacts = []
    for i in range(n):
        # whole days plus a few seconds, so gaps of exactly the window (and one second more) happen
        offset = draw(st.integers(min_value=0, max_value=30)) * 86400 + draw(st.sampled_from([0, 0, 1, 3600]))
        contacts.append(
            Contact(
                contact_id=f"c{i:03d}",
                customer_id=draw(st.sampled_from(["", "K1", "K2", "K3"])),
                reason=draw(st.sampled_from(["", "billing", "delivery"])),
                started_at=START + timedelta(seconds=offset),
                direction=draw(st.sampled_from(["inbound"] * 5 + ["outbound"])),
                interaction_id=draw(st.sampled_from([""] * 6 + ["I1", "I2"])),
            )
        )
    return contacts


def as_rows(contacts: list[Contact]) -> list[dict]:
    return [
        {
            "contact_id": c.contact_id,
            "customer_id": c.customer_id,
            "channel": "phone",
            "started_at": c.started_at.isoformat(),
            "reason": c.reason,
            "direction": c.direction,
            "interaction_id": c.interaction_id,
        }
        for c in contacts
    ]


SETTINGS = property_settings(25)


@SETTINGS
@given(log=contact_logs())
def test_sql_linking_equals_the_reference(run_log, log):
    _, con = run_log(as_rows(log), as_of=START + timedelta(days=60))
    assert cases_of(con) == link_reference(log)


@SETTINGS
@given(log=contact_logs(), as_of_days=st.integers(min_value=0, max_value=40))
def test_invariants_hold(run_log, log, as_of_days):
    as_of = START + timedelta(days=as_of_days)
    _, con = run_log(as_rows(log), as_of=as_of)
    rates = con.execute(
        "select fcr, two_contact_resolution, three_contact_resolution from published.metric_rates "
        "where mature_cases > 0"
    ).fetchall()
    for fcr, two, three in rates:
        assert 0 <= fcr <= two <= three <= 1
    # every counted contact is in exactly one case, and contact counts are conserved
    counted = con.execute(
        "select count(*) from raw.contacts c where c.started_at <= $as_of", {"as_of": as_of}
    ).fetchone()[0]
    memberships = con.execute(
        "select count(*), count(distinct contact_id) from published.case_contacts"
    ).fetchone()
    assert memberships[0] == memberships[1] <= counted
    total = con.execute("select coalesce(sum(contact_count), 0) from published.cases").fetchone()[0]
    assert total == memberships[0]
    # a roll-up of days equals the week and the month computed directly
    mismatches = con.execute(
        """
        with days as (
            select date_trunc(g, period_start)::date as p, g, sum(cases) as cases,
                   sum(cases_1) as c1, sum(mature_cases) as m, sum(contacts) as contacts
            from published.metrics, (values ('week'), ('month')) v(g)
            where grain = 'day' and dimension = 'all' group by all
        )
        select * from days join published.metrics m
            on m.grain = days.g and m.period_start = days.p and m.dimension = 'all'
        where m.cases <> days.cases or m.cases_1 <> days.c1 or m.mature_cases <> days.m
            or m.contacts <> days.contacts
        """
    ).fetchall()
    assert mismatches == []
    # every dimension partitions the 'all' row
    partitions = con.execute(
        """
        select grain, period_start, dimension from published.metrics
        group by grain, period_start, dimension
        having sum(cases) <> (select sum(cases) from published.metrics a
                              where a.grain = metrics.grain and a.period_start = metrics.period_start
                              and a.dimension = 'all')
        """
    ).fetchall()
    assert partitions == []

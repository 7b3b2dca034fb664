"""What a manager or newcomer reads is not misleading: money, periods, one-category sections, labels."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from fcr.config import build_config
from fcr.pipeline import run
from fcr.scorecard import render_scorecard
from fcr.scorecard.formatting import Formatter
from tests.conftest import write_contacts
from tests.test_scorecard import SCORECARD_HEADER, Page

FIRST_DAY = date(2026, 7, 18)  # a Saturday: its week began on Monday 13 Jul, its month on 1 Jul
NEWCOMER_CONFIG = {"costs": {"phone": 4.50}}


def phone_call(contact_id: str, customer: str, when: str, reason: str) -> dict:
    """One call to agent A1 of team Care."""
    return {"contact_id": contact_id, "customer_id": customer, "channel": "phone", "started_at": when,
            "reason": reason, "agent_id": "A1", "team": "Care"}  # fmt: skip


def newcomer_log() -> list[dict]:
    """Phone only, one team, from Saturday 18 Jul to 5 Oct; one customer a month calls back once."""
    rows = []
    for offset in range((date(2026, 10, 5) - FIRST_DAY).days + 1):
        day = FIRST_DAY + timedelta(days=offset)
        rows.append(phone_call(f"c{day}", f"k{day}", f"{day} 10:00:00", "billing"))
        if day.day == 10:
            rows.append(phone_call(f"r{day}", f"r{day}", f"{day} 11:00:00", "password"))
            rows.append(phone_call(f"r{day}b", f"r{day}", f"{day + timedelta(days=2)} 11:00:00", "password"))
    return rows


@pytest.fixture(scope="module")
def newcomer(tmp_path_factory: pytest.TempPathFactory) -> Page:
    directory = tmp_path_factory.mktemp("newcomer")
    contacts = write_contacts(directory / "contacts.csv", newcomer_log(), SCORECARD_HEADER)
    db_path = directory / "fcr.duckdb"
    config = build_config(NEWCOMER_CONFIG)
    run([str(contacts)], db_path, config, as_of=datetime.fromisoformat("2026-10-20T00:00:00+00:00"))
    return Page(render_scorecard(db_path, config))


def test_money_keeps_its_cents(newcomer: Page) -> None:
    glance = newcomer.html.split('id="glance"')[1].split('id="headline"')[0]
    priority = Page(newcomer.html.split('id="priority"')[1].split('id="sensitivity"')[0])
    assert "password, " in glance and ">4.50 USD</span> at stake" in glance  # one call back at 4.50
    assert priority.figure(column="excess_contact_cost", key_reason="password")["text"] == "4.50 USD"
    assert priority.figure(column="money_at_stake", key_reason="password")["text"] == "4.50 USD"


@pytest.mark.parametrize(
    ("currency", "value", "text"),
    [("USD", 4.5, "4.50 USD"), ("EUR", 1234.4, "1,234.40 EUR"), ("JPY", 1234.4, "1,234 JPY")],
)
def test_money_shows_the_currency_minor_unit(currency: str, value: float, text: str) -> None:
    assert Formatter(currency).format(value, "money") == text

"""What a manager or newcomer reads is not misleading: money, periods, one-category sections, labels."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from fcr.config import ScorecardConfig, build_config
from fcr.run import run
from fcr.scorecard import render_scorecard
from fcr.scorecard.formatting import Formatter
from tests.conftest import write_contacts
from tests.test_scorecard import CONFIG, SCORECARD_HEADER, Page, build_fixture_db

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


@pytest.fixture(scope="module")
def manager_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_db(tmp_path_factory.mktemp("manager"))


@pytest.fixture(scope="module")
def manager(manager_db: Path) -> Page:
    return Page(render_scorecard(manager_db, build_config(CONFIG)))


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


def _chart(page: Page, name: str) -> str:
    return page.html.split(f'data-chart="{name}"')[1].split("</figure>")[0]


def _ticks(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>(\d\d [A-Z][a-z]{2})</text>", svg)


def _open_dots(svg: str) -> set[str]:
    return set(
        re.findall(
            r'aria-label="period: ([^;]+);[^"]*" [^>]*aria-roledescription="point"[^>]*fill="white"', svg
        )
    )


def test_weekly_ticks_fall_on_mondays_where_weeks_start(newcomer: Page) -> None:
    ticks = _ticks(_chart(newcomer, "trend-week"))
    assert ticks and all(datetime.strptime(f"{t} 2026", "%d %b %Y").weekday() == 0 for t in ticks), ticks


def test_partial_first_and_last_periods_are_drawn_like_provisional_ones(newcomer: Page) -> None:
    assert _open_dots(_chart(newcomer, "trend-week")) == {"13 Jul"}  # data starts on Saturday 18 Jul
    assert _open_dots(_chart(newcomer, "trend-month")) == {"Jul 2026", "Oct 2026"}  # Oct: past the watermark
    legend = newcomer.html.split('id="trends"')[1].split('id="channels"')[0]
    assert "or partial (the data covers only part of it: week of 13 Jul 2026, Jul 2026, Oct 2026)" in legend


def test_a_single_channel_and_team_get_one_line_not_a_comparison(newcomer: Page) -> None:
    assert newcomer.charts() == ["trend-week", "trend-month", "money-at-stake"]  # no 1x1 matrix, no bands
    assert (
        "lowest FCR by channel" not in newcomer.html and "<h3>Where customers come back" not in newcomer.html
    )
    assert newcomer.absent["channels"] == "One channel only (phone): nothing to compare by channel."
    assert newcomer.absent["flow"] == "One channel only (phone): no customer could switch channel."
    assert newcomer.absent["teams"] == "One team only (Care): nothing to compare it with."
    assert newcomer.absent["agents"] == "One agent only (A1): nothing to compare them with."
    assert 'data-ranked="team"' not in newcomer.html


def _meaning(page: Page, column: str) -> str:
    return unescape(page.html.split(f'id="tile-{column}"')[1].split('class="tile-meaning">')[1].split("<")[0])


def test_each_rate_names_its_denominator(manager: Page) -> None:
    glance = manager.html.split('id="glance"')[1].split('id="headline"')[0]
    followed = manager.html.split("Where customers come back from")[1].split("First-response wait")[0]
    assert _meaning(manager, "fcr") == "of mature cases: resolved in one contact"
    assert _meaning(manager, "repeat_contact_rate") == "of the mature cases' contacts: a customer coming back"
    assert "of mature cases were solved at the first contact" in glance
    assert "of their contacts were a customer coming back" in glance
    assert "share of contacts" in followed and "not comparable with the repeat contact rate" in followed


def test_money_from_default_costs_says_so(manager: Page, newcomer: Page) -> None:
    assert "costs" not in CONFIG  # the manager's config has no [costs] section
    assert "Their cost uses default costs (set [costs] in the config)." in manager.html
    assert "at stake at default costs" in manager.html.split('id="glance"')[1].split('id="headline"')[0]
    assert "configured cost" not in manager.html
    assert "Their cost uses the configured cost per contact of each channel." in newcomer.html
    assert "default costs" not in newcomer.html


def _rows_by_cases(part: str) -> list[tuple[int, bool]]:
    """Each row of the part's table: its mature cases and whether it is marked a small sample."""
    return [
        (
            int(re.search(r'data-column="mature_cases"[^>]*data-value="(\d+)"', row)[1]),
            "data-small-sample" in row,
        )
        for row in part.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
    ]


def _channels(html: str) -> str:
    return html.split('id="channels"')[1].split("<h3>")[0]


def test_rates_on_fewer_than_100_cases_are_marked_small_samples(manager: Page) -> None:
    sensitivity = manager.html.split('id="sensitivity"')[1]
    assert all(small for _, small in _rows_by_cases(sensitivity))  # 48 to 68 cases each
    assert all(small for _, small in _rows_by_cases(_channels(manager.html)))
    assert "† Small sample: fewer than 100 mature cases" in sensitivity
    assert ScorecardConfig().small_sample_cases == 100


def test_only_rates_under_the_threshold_are_marked(manager_db: Path) -> None:
    config = build_config({**CONFIG, "scorecard": {**CONFIG.get("scorecard", {}), "small_sample_cases": 31}})
    rows = _rows_by_cases(_channels(render_scorecard(manager_db, config)))
    assert rows[:2] == [(48, False), (30, True)]  # all channels, then phone

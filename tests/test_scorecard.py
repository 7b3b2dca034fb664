"""The scorecard shows exactly the published figures, marks provisional ones, and says when data is absent."""

from __future__ import annotations

import hashlib
import math
import shutil
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from fcr.config import build_config
from fcr.run import run
from fcr.scorecard import ScorecardError, render_scorecard, write_scorecard
from fcr.scorecard.data import Period, period_end
from fcr.scorecard.formatting import Formatter, case_definition, currency_of, duration_words
from fcr.scorecard.intervals import flag, wilson
from fcr.scorecard.page import choose_period
from tests.conftest import HEADER, write_contacts

SCORECARD_HEADER = (
    *HEADER,
    "wait_seconds",
    "agent_resolved",
    "survey_resolved",
    "survey_ces",
    "survey_csat",
)
SEPT = date(2026, 9, 1)
WATERMARK = datetime.fromisoformat("2026-11-02T00:00:00+00:00")
CONFIG = {"scorecard": {"min_mature_cases": 10}}
PLANNED = ("published.channel_flow", "published.reason_priority", "published.fcr_sensitivity")


def _at(day: date, hour: int = 10) -> str:
    return f"{day} {hour:02d}:00:00"


def scorecard_log() -> list[dict]:
    """August and September final, October provisional at the watermark; teams and agents of every kind."""
    rows: list[dict] = []

    def add(contact_id, customer, when, channel, agent="", team="", reason="billing", **extra):
        rows.append(
            {
                "contact_id": contact_id,
                "customer_id": customer,
                "channel": channel,
                "started_at": when,
                "reason": reason,
                "agent_id": agent,
                "team": team,
                **extra,
            }
        )

    for i in range(20):  # A1 (team Care) resolves every case at once; its customers answer the survey
        add(f"a{i}", f"ca{i}", _at(SEPT + timedelta(days=i)), "phone", "A1", "Care", wait_seconds=60,
            agent_resolved="yes", survey_resolved="yes", survey_ces=6, survey_csat=5)  # fmt: skip
    for i in range(20):  # A2 (team Sales): every customer calls back two days later
        day = SEPT + timedelta(days=i)
        email = i % 2 == 1
        add(f"b{i}", f"cb{i}", _at(day), "email" if email else "phone", "A2", "Sales",
            wait_seconds=30 * 3600 if email else 60, agent_resolved="yes")  # fmt: skip
        add(f"b{i}r", f"cb{i}", _at(day + timedelta(days=2)), "phone", "A1", "Care", wait_seconds=60)
    for i in range(2):  # A3: a few chats and social messages, too few cases to rank
        add(f"c{i}", f"cc{i}", _at(SEPT + timedelta(days=i)), "chat", "A3", "Sales")
        add(f"s{i}", f"cs{i}", _at(SEPT + timedelta(days=i)), "social", "A3", "Sales", wait_seconds=3 * 3600)
    for i in range(3):  # the bot solved these (in the week of the last call-backs)
        add(f"d{i}", f"cd{i}", _at(SEPT + timedelta(days=20 + i)), "bot", reason="password")
    add("e0", "ce0", _at(SEPT), "bot", reason="password")  # the bot failed: the customer phoned next day
    add(
        "e0r", "ce0", _at(SEPT + timedelta(days=1)), "phone", "A1", "Care", reason="password", wait_seconds=60
    )
    add("g0", "cg0", _at(date(2026, 8, 24)), "phone", "A1", "Care")  # August: 2 of 3 cases at once
    add("g1", "cg1", _at(date(2026, 8, 25)), "phone", "A1", "Care")
    add("g2", "cg2", _at(date(2026, 8, 26)), "phone", "A2", "Sales")
    add("g2r", "cg2", _at(date(2026, 8, 27)), "phone", "A2", "Sales")
    add("f0", "cf0", _at(date(2026, 10, 5)), "phone", "A1", "Care", wait_seconds=60)  # October, mature
    add("f1", "cf1", _at(date(2026, 10, 30)), "phone", "A1", "Care", wait_seconds=60)  # still open
    return rows


def build_fixture_db(directory: Path) -> Path:
    """Run the pipeline on the fixture log."""
    contacts = write_contacts(directory / "contacts.csv", scorecard_log(), SCORECARD_HEADER)
    db_path = directory / "fcr.duckdb"
    run([str(contacts)], db_path, build_config(CONFIG), as_of=WATERMARK)
    return db_path


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_fixture_db(tmp_path_factory.mktemp("scorecard"))


@pytest.fixture(scope="module")
def page(fixture_db: Path) -> Page:
    return Page(render_scorecard(fixture_db, build_config(CONFIG)))


@pytest.fixture
def con(fixture_db: Path):
    connection = duckdb.connect(str(fixture_db), read_only=True)
    connection.execute("set TimeZone = 'UTC'")
    yield connection
    connection.close()


class Page(HTMLParser):
    """The scorecard parsed: every figure with its attributes and shown text, absent lines, charts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html = html
        self.figures: list[dict] = []
        self.absent: dict[str, str] = {}
        self.elements: list[tuple[str, dict]] = []
        self._open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag == "span" and "num" in attributes.get("class", "").split():
            self._open.append({**attributes, "text": ""})
        elif "data-absent" in attributes:
            self._open.append({**attributes, "text": "", "absent": True})

    def handle_data(self, data: str) -> None:
        for item in self._open:
            item["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("span", "p") and self._open:
            item = self._open.pop()
            if item.get("absent"):
                self.absent[item["data-absent"]] = " ".join(item["text"].split())
            else:
                self.figures.append(item)

    def figure(self, **wanted: str) -> dict:
        """The one figure whose data- attributes include `wanted` (key_x stands for data-key-x)."""
        found = [
            f
            for f in self.figures
            if all(f.get("data-" + k.replace("key_", "key-", 1)) == v for k, v in wanted.items())
        ]
        assert len(found) == 1, f"{len(found)} figures match {wanted}"
        return found[0]

    def charts(self) -> list[str]:
        return [a["data-chart"] for tag, a in self.elements if tag == "figure" and "data-chart" in a]


def _keys(figure: dict) -> dict[str, str]:
    return {k.removeprefix("data-key-"): v for k, v in figure.items() if k.startswith("data-key-")}


def _value(figure: dict) -> float | None:
    return float(figure["data-value"]) if figure["data-value"] != "" else None


def _same(shown: float | None, expected: float | None) -> bool:
    if shown is None or expected is None:
        return shown is None and expected is None
    return math.isclose(shown, float(expected), rel_tol=1e-12, abs_tol=1e-12)


def _lookup(con: duckdb.DuckDBPyConnection, source: str, column: str, keys: dict[str, str]):
    columns = {d[0] for d in con.execute(f"select * from {source} limit 0").description}
    assert column in columns and set(keys) <= columns, (source, column, keys)
    where = " and ".join(f'cast("{k}" as varchar) = ${k}' for k in keys)
    rows = con.execute(f'select "{column}" from {source} where {where}', keys).fetchall()
    assert len(rows) == 1, f"{source} {keys}: {len(rows)} rows"
    return rows[0][0]


def _rate(
    con, period_start: str, column: str, grain: str = "month", dimension: str = "all", value: str = "all"
):
    keys = {"grain": grain, "period_start": period_start, "dimension": dimension, "dimension_value": value}
    return _lookup(con, "published.metric_rates", column, keys)


def _expected_derived(con: duckdb.DuckDBPyConnection, figure: dict) -> float | None:
    """Recompute a figure the page derived (a change, an interval, a group) from the published counts."""
    what, keys = figure["data-derived"], _keys(figure)
    if what == "change":
        column = keys["column"]
        current = _rate(con, keys["period_start"], column, keys["grain"])
        previous = _rate(con, keys["previous_period_start"], column, keys["grain"])
        return current - previous
    if what == "followed_share":
        row = {k: keys[k] for k in ("grain", "period_start", "dimension", "dimension_value")}
        followed = _lookup(con, "published.metrics", "contacts_followed_by_repeat", row)
        return followed / _lookup(con, "published.metrics", "counted_contacts", row)
    if what in ("follow_ups", "follow_ups_after_resolved"):
        start = date.fromisoformat(keys["period_start"])
        counts = con.execute(
            "select count(*), count(*) filter (where previous_agent_resolved) from published.follow_ups "
            "where previous_agent_id = $agent and business_date >= $start and business_date < $end",
            {"agent": keys["previous_agent_id"], "start": start, "end": period_end(keys["grain"], start)},
        ).fetchone()
        return counts[0] if what == "follow_ups" else counts[1]
    if what in ("wilson_low", "wilson_high"):
        row = {k: keys[k] for k in ("grain", "period_start", "dimension", "dimension_value")}
        cases_1 = _lookup(con, "published.metrics", "cases_1", row)
        mature = _lookup(con, "published.metrics", "mature_cases", row)
        interval = wilson(cases_1, mature)
        return interval.low if what == "wilson_low" else interval.high
    rows = con.execute(
        "select dimension_value, mature_cases, cases_1 from published.metrics "
        "where grain = $grain and cast(period_start as varchar) = $period_start and dimension = $dimension "
        "and dimension_value <> '(none)'",
        {k: keys[k] for k in ("grain", "period_start", "dimension")},
    ).fetchall()
    if what.startswith("small_group"):
        small = [r for r in rows if r[1] < int(keys["min_mature_cases"])]
        return {
            "small_group_count": len(small),
            "small_group_mature_cases": sum(r[1] for r in small),
            "small_group_fcr": sum(r[2] for r in small) / sum(r[1] for r in small),
        }[what]
    overall = _rate(con, keys["period_start"], "fcr", keys["grain"])
    ranked = [
        flag(wilson(r[2], r[1]), overall) for r in rows if r[1] >= CONFIG["scorecard"]["min_mature_cases"]
    ]
    return {
        "ranked_count": len(ranked),
        "above_count": ranked.count("above"),
        "below_count": ranked.count("below"),
    }[what]


def test_every_figure_equals_the_published_tables(page: Page, con) -> None:
    formatter = Formatter(currency_of(build_config(CONFIG)))
    sources = {f["data-source"] for f in page.figures if "data-source" in f}
    assert sources == {"published.metric_rates", "published.metrics", *PLANNED}  # all shown when published
    for figure in page.figures:
        if "data-source" in figure:
            expected = _lookup(con, figure["data-source"], figure["data-column"], _keys(figure))
        else:
            expected = _expected_derived(con, figure)
        assert _same(_value(figure), expected), (figure, expected)
        assert figure["text"] == formatter.format(_value(figure), figure["data-kind"]), figure
    derived = {f["data-derived"] for f in page.figures if "data-derived" in f}
    assert derived == {
        "change",
        "followed_share",
        "wilson_low",
        "wilson_high",
        "small_group_count",
        "small_group_mature_cases",
        "small_group_fcr",
        "ranked_count",
        "above_count",
        "below_count",
        "follow_ups",
        "follow_ups_after_resolved",
    }


def test_default_period_is_the_latest_final_month_with_the_provisional_one_marked(page: Page, con) -> None:
    period = next(a for tag, a in page.elements if a.get("id") == "period")
    assert (period["data-grain"], period["data-period-start"], period["data-final"]) == (
        "month",
        "2026-09-01",
        "true",
    )
    assert "Sep 2026, the latest final month" in page.html
    tile = Page(page.html.split('id="tile-fcr"')[1].split('id="tile-two_contact_resolution"')[0])
    assert tile.figure(column="fcr", key_period_start="2026-09-01")["text"] == "56.2%"  # 27 of 48 cases
    assert tile.figure(column="fcr", key_period_start="2026-10-01")["text"] == "100.0%"  # 1 closed case
    assert "Oct 2026 so far" in tile.html and "provisional" in tile.html
    assert tile.figure(derived="change")["text"] == "-10.4 pts"  # August: 66.7%
    assert not _rate(con, "2026-10-01", "is_final")


def test_a_provisional_period_asked_for_is_never_shown_as_final(fixture_db: Path) -> None:
    page = Page(render_scorecard(fixture_db, build_config(CONFIG), period=date(2026, 10, 20)))
    period = next(a for tag, a in page.elements if a.get("id") == "period")
    assert (period["data-period-start"], period["data-final"]) == ("2026-10-01", "false")
    assert "PROVISIONAL" in page.html
    tiles = [a for tag, a in page.elements if a.get("id", "").startswith("tile-")]
    assert tiles and all("is-provisional" in a["class"] for a in tiles)


def test_small_samples_are_grouped_and_only_clear_differences_flagged(page: Page) -> None:
    ranked = {
        (a["data-ranked"], a["data-name"]): a["class"] for tag, a in page.elements if "data-ranked" in a
    }
    assert ranked == {
        ("agent", "A1"): "flag-above",  # 20 of 20 resolved at once: interval 84-100% above 56%
        ("agent", "A2"): "flag-below",  # 0 of 20: interval 0-16%
        ("team", "Care"): "flag-above",
        ("team", "Sales"): "flag-below",
    }
    small = page.figure(derived="small_group_count", key_dimension="agent")
    assert small["text"] == "1"  # A3 with 4 cases: grouped, not ranked
    assert "No agent recorded on the first contact" in page.html  # the bot's cases


def test_channels_waits_flow_priority_and_sensitivity(page: Page) -> None:
    assert page.charts() == [
        "trend-week",
        "trend-month",
        "channel-bands",
        "waits",
        "team-intervals",
        "channel-flow",
        "money-at-stake",
    ]
    social = page.figure(column="avg_wait_seconds", key_dimension_value="social")
    email = page.figure(column="avg_wait_seconds", key_dimension_value="email")
    assert (social["text"], email["text"]) == ("3.0 h", "30.0 h")
    followed = Page(page.html.split("Where customers come back from")[1].split("First-response wait")[0])
    shares = [(f["data-key-dimension_value"], f["text"]) for f in followed.figures if "data-derived" in f]
    assert shares == [
        ("email", "100.0%"),
        ("bot", "25.0%"),
        ("phone", "19.6%"),
        ("chat", "0.0%"),
        ("social", "0.0%"),
    ]
    statuses = {a["data-wait"]: a["data-status"] for tag, a in page.elements if "data-wait" in a}
    assert statuses == {"social": "within target", "email": "over target"}  # targets 4 h and 24 h
    flow = Page(page.html.split('id="flow"')[1].split('id="priority"')[0])
    assert flow.figure(column="transitions", key_from_channel="email", key_to_channel="phone")["text"] == "10"
    glance = page.html.split('id="glance"')[1].split('id="headline"')[0]
    assert "most frequent channel switch: email → phone" in glance and "Fix first:</strong> billing" in glance
    assert not [f for f in page.figures if f.get("data-key-flow_kind") == "first_last"]
    ranks = [f["data-key-reason"] for f in page.figures if f.get("data-column") == "money_at_stake"]
    assert ranks[0] == "billing"
    assert page.absent["churn"].startswith("Churn and lifetime value: no data")
    current = [a for tag, a in page.elements if a.get("data-current") == "true"]
    assert len(current) == 1
    sensitivity = page.html.split('id="sensitivity"')[1]
    assert "7d" in sensitivity.split("in use on this page")[0].rsplit("<tr", 1)[1]


def test_each_teams_rank_is_shown_under_every_window_of_the_definition_in_use(page: Page, con) -> None:
    import re

    section = page.html.split("Does a team's rank hold under another window?")[1].split("</table>")[0]
    figures = Page(section).figures
    (period_start,) = {f["data-key-period_start"] for f in figures}
    expected = con.execute(
        "select dimension_value, repeat_window, rank() over (partition by repeat_window_seconds "
        "order by fcr desc nulls last), is_current_definition from published.fcr_sensitivity "
        "where dimension = 'team' and match_on = 'reason' and period_start = $p "
        "order by dimension_value, repeat_window_seconds",
        {"p": period_start},
    ).fetchall()
    ranks: dict[str, list[int]] = {}
    for team, _, rank, _ in expected:
        ranks.setdefault(team, []).append(rank)
    in_use = {team: rank for team, _, rank, current in expected if current}
    rows = section.split("<tbody>")[1].split("<tr>")[1:]
    shown = {}
    for row in rows:
        team = re.search(r"<td>([^<]+)</td>", row).group(1)
        shown[team] = [int(r) for r in re.findall(r"\(#(\d+)\)", row)]
        low, high = min(ranks[team]), max(ranks[team])
        assert (f"holds at #{low}" if low == high else f"moves between #{low} and #{high}") in row
    assert shown == ranks and len(shown) >= 2
    assert list(shown) == sorted(shown, key=lambda team: (in_use[team], team))  # by the rank in use
    assert len(figures) == len(expected)  # each an FCR the figure test checks against the table


def test_header_states_coverage_definition_and_run(page: Page, con) -> None:
    run_id, validation = con.execute(
        "select run_id, validation_result from published.pipeline_runs"
    ).fetchone()
    facts = {a["data-fact"] for tag, a in page.elements if "data-fact" in a}
    assert facts == {"first_day", "last_day", "watermark", "run_id", "validation_result"}
    assert (
        run_id in page.html and f'validation <strong data-fact="validation_result">{validation}' in page.html
    )
    assert '24 Aug 2026</strong> to <strong data-fact="last_day">30 Oct 2026' in page.html
    assert "each within 7 days of the previous one" in page.html


def test_the_file_is_self_contained(page: Page) -> None:
    tags = {tag for tag, _ in page.elements}
    assert not tags & {"script", "link", "iframe", "img", "object", "embed"}
    for _, attributes in page.elements:
        for name in ("src", "href", "xlink:href", "action"):
            assert not attributes.get(name, "").startswith(("http", "//")), attributes
    assert "@import" not in page.html and "url(http" not in page.html and "url(//" not in page.html


def test_writing_leaves_the_database_untouched(fixture_db: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(fixture_db.read_bytes()).hexdigest()
    out = write_scorecard(
        fixture_db, tmp_path / "mail" / "scorecard.html", build_config(CONFIG), grain="week"
    )
    assert out.is_file() and out.read_text().startswith("<!doctype html>")
    assert hashlib.sha256(fixture_db.read_bytes()).hexdigest() == before
    assert not Path(f"{fixture_db}.wal").exists()
    assert [p.name for p in out.parent.iterdir()] == ["scorecard.html"]


def test_missing_or_empty_tables_and_absent_answers_say_so_in_one_line(
    fixture_db: Path, tmp_path: Path
) -> None:
    missing, empty = tmp_path / "missing.duckdb", tmp_path / "empty.duckdb"
    for copy, statement in ((missing, "drop table {}"), (empty, "delete from {}")):
        shutil.copy(fixture_db, copy)
        with duckdb.connect(str(copy)) as writable:
            for table in PLANNED:
                writable.execute(statement.format(table))
            writable.execute("update published.metrics set first_contact_surveys = 0, ces_responses = 0")
            # a database published before contacts_followed_by_repeat existed
            writable.execute(
                "create table published.older_rates as "
                "select * exclude (followed_by_repeat_rate) from published.metric_rates"
            )
            writable.execute("drop view published.metric_rates")
            writable.execute("alter table published.older_rates rename to metric_rates")
            writable.execute("alter table published.metrics drop column contacts_followed_by_repeat")
    gone = Page(render_scorecard(missing, build_config(CONFIG)))
    assert gone.absent["flow"] == "No data: this database has no published.channel_flow table yet."
    assert gone.absent["priority"] == "No data: this database has no published.reason_priority table yet."
    assert gone.absent["sensitivity"] == "No data: this database has no published.fcr_sensitivity table yet."
    assert gone.absent["followed"] == (
        "No data: published.metrics has no contacts_followed_by_repeat column yet."
    )
    assert gone.absent["tile-ces"] == "No data: no CES answers."
    assert gone.absent["tile-customer_reported_fcr"] == "No data: no survey answers."
    assert not [f for f in gone.figures if f.get("data-column") in ("ces", "customer_reported_fcr")]
    blank = Page(render_scorecard(empty, build_config(CONFIG)))
    assert blank.absent["flow"] == "No data: published.channel_flow has no rows for this period."
    assert "channel-flow" not in blank.charts()


def test_no_final_period_and_unknown_period_are_explained() -> None:
    open_only = [Period("month", date(2026, 10, 1), False), Period("month", date(2026, 11, 1), False)]
    chosen, note = choose_period(open_only, "month", None)
    assert chosen.start == date(2026, 11, 1) and "No month is final yet" in note and "PROVISIONAL" in note
    with pytest.raises(ScorecardError, match="no published month contains 2025-01-01"):
        choose_period(open_only, "month", date(2025, 1, 1))
    weeks = [Period("week", date(2026, 10, 5), True)]
    assert choose_period(weeks, "week", date(2026, 10, 11))[0] == weeks[0]  # a Sunday: its week


def test_database_without_published_tables_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "new.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(ScorecardError, match="nothing published yet"):
        render_scorecard(empty, build_config({}))
    with pytest.raises(ScorecardError, match="no such database"):
        render_scorecard(tmp_path / "nope.duckdb", build_config({}))
    with pytest.raises(ScorecardError, match="grain 'day'"):
        render_scorecard(empty, build_config({}), grain="day")


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("pct", 0.74912, "74.9%"),
        ("pts", 0.0123, "+1.2 pts"),
        ("pts", -0.0004, "±0.0 pts"),
        ("change", -0.004, "±0.00"),
        ("change", -0.03, "-0.03"),
        ("count", 12345, "12,345"),
        ("delta", 1234, "+1,234"),
        ("delta", 0, "±0"),
        ("ratio", 1.456, "1.46"),
        ("seconds", 14400, "4.0 h"),
        ("seconds", 150, "2 min"),
        ("seconds", 42, "42 s"),
        ("money", -1234.4, "-1,234.40 USD"),
        ("pct", None, "–"),
    ],
)
def test_formatting(kind: str, value: float | None, text: str) -> None:
    assert Formatter("USD").format(value, kind) == text


def test_case_definition_reads_the_run_settings() -> None:
    assert duration_words(timedelta(hours=72)) == "3 days"
    assert duration_words(timedelta(hours=24)) == "24 hours"
    settings = {
        "repeat_window": "P7D",
        "window_mode": "rolling",
        "match_on": "reason",
        "count_self_service": True,
    }
    assert case_definition(settings) == (
        "A case is one customer's contacts about the same reason, each within 7 days of the previous one."
    )
    other = {**settings, "repeat_window": "PT24H", "window_mode": "anchored", "match_on": "customer"}
    other["count_self_service"] = False
    assert case_definition(other) == (
        "A case is one customer's contacts about any reason, all within 24 hours of the first one. "
        "Bot, IVR and web sessions are not counted as contacts."
    )

"""The shipped example configs on the real exports beside the repository (shared/realdata/), each
checked against a small independent computation: plain csv reading plus the linking rule."""

from __future__ import annotations

import csv
import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from fcr.config import load_config
from fcr.run import run
from tests.reference import Contact, link_reference

ROOT = Path(__file__).resolve().parents[1]
REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
TECHNION = REALDATA / "technion-callcenter-1999" / "january.txt"
SERVICENOW = REALDATA / "servicenow-incident-log" / "incident_event_log.csv"
WEEK = timedelta(days=7)

pytestmark = pytest.mark.skipif(
    not (TECHNION.is_file() and SERVICENOW.is_file()),
    reason=f"real exports not found under {REALDATA} (the shared/ folder beside the repository)",
)


def linked(contacts: list[Contact], window: timedelta, watermark: datetime) -> tuple[list[list[str]], dict]:
    """Cases by the pure-Python reference rule, and their figures (mature: last start + window)."""
    cases = link_reference(contacts, window)
    started = {c.contact_id: c.started_at for c in contacts}
    mature = [len(case) for case in cases if started[case[-1]] + window <= watermark]
    counts = {
        "cases": len(cases),
        "mature_cases": len(mature),
        "cases_1": mature.count(1),
        "cases_2": mature.count(2),
        "cases_3": mature.count(3),
    }
    return cases, counts


def published(db_path: Path) -> dict[str, int]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        row = con.execute(
            "select sum(cases), sum(mature_cases), sum(cases_1), sum(cases_2), sum(cases_3) "
            "from published.metrics where grain = 'month' and dimension = 'all'"
        ).fetchone()
        assert con.execute("select count(*) from published.cases").fetchone()[0] == row[0]
    finally:
        con.close()
    return dict(zip(("cases", "mature_cases", "cases_1", "cases_2", "cases_3"), map(int, row), strict=True))


def technion_by_hand() -> tuple[dict[str, object], list[Contact]]:
    """Rows read, excluded, quarantined and the contacts of january.txt, with csv alone."""
    with TECHNION.open(newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        rows = list(reader)
    records = [dict(zip(header, r, strict=True)) for r in rows if len(r) == len(header)]
    kept = [r for r in records if r["outcome"] != "PHANTOM"]
    good = [r for r in kept if r["type"] in {"PS", "PE", "IN", "NE", "NW", "TT"}]
    jerusalem = ZoneInfo("Asia/Jerusalem")
    contacts = [
        Contact(
            contact_id=f"{r['vru+line']}-{r['call_id']}",
            customer_id="" if r["customer_id"] == "0" else r["customer_id"],
            reason=r["type"],
            started_at=datetime.strptime(f"{r['date']} {r['vru_entry']}", "%y%m%d %H:%M:%S")
            .replace(tzinfo=jerusalem)
            .astimezone(UTC),
        )
        for r in good
    ]
    watermark = max(c.started_at for c in contacts)
    counts = {
        "rows_read": len(rows),
        "rows_excluded": len(records) - len(kept),
        "rows_quarantined": len(rows) - len(good) - (len(records) - len(kept)),
        "contacts": len({c.contact_id for c in contacts}),
        "watermark": watermark,
    }
    return counts, contacts


def test_technion_january_loads_with_the_example_config(tmp_path: Path):
    counts, contacts = technion_by_hand()
    expected = {**counts, **linked(contacts, WEEK, counts["watermark"])[1]}
    db_path = tmp_path / "technion.duckdb"
    result = run([str(TECHNION)], db_path, load_config(ROOT / "examples" / "technion.toml"))

    load = result.load
    assert (load.rows_read, load.rows_excluded, load.rows_quarantined, load.contacts_delivered) == (
        expected["rows_read"],
        expected["rows_excluded"],
        expected["rows_quarantined"],
        expected["contacts"],
    )
    assert result.watermark == expected["watermark"]
    got = published(db_path)
    assert got == {k: expected[k] for k in got}
    assert got["mature_cases"] > 0

    con = duckdb.connect(str(db_path), read_only=True)
    fcr = con.execute(
        "select fcr from published.metric_rates where grain = 'month' and dimension = 'all'"
    ).fetchone()[0]
    assert fcr == pytest.approx(expected["cases_1"] / expected["mature_cases"])
    # The two undocumented type values are quarantined with file and line, the run still publishes.
    quarantined = con.execute("select source_file, source_line, rule, detail from raw.quarantine").fetchall()
    assert sorted(quarantined) == [
        (str(TECHNION), 21553, "value_not_allowed", "reason = AA"),
        (str(TECHNION), 29008, "value_not_allowed", "reason = AA"),
    ]
    run_row = con.execute("select status, rows_excluded from published.pipeline_runs").fetchone()
    assert run_row == ("published", expected["rows_excluded"])

    # docs/technion.md's sensitivity table: other windows, same reason, from the same run.
    for label, window in (
        ("24h", timedelta(hours=24)),
        ("3d", timedelta(days=3)),
        ("30d", timedelta(days=30)),
    ):
        row = con.execute(
            "select sum(cases), sum(mature_cases), sum(cases_1), sum(cases_2), sum(cases_3) "
            "from published.fcr_sensitivity "
            "where dimension = 'all' and match_on = 'reason' and repeat_window = $label",
            {"label": label},
        ).fetchone()
        want = linked(contacts, window, counts["watermark"])[1]
        assert dict(zip(want, map(int, row), strict=True)) == want, label
    con.close()


def servicenow_by_hand() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """Each incident's last update two ways: by file order, and by the highest sys_mod_count."""
    with SERVICENOW.open(newline="") as handle:
        updates = list(csv.DictReader(handle))
    by_line: dict[str, dict[str, str]] = {}
    by_count: dict[str, dict[str, str]] = {}
    for update in updates:
        number = update["number"]
        by_line[number] = update
        if number not in by_count or int(update["sys_mod_count"]) >= int(by_count[number]["sys_mod_count"]):
            by_count[number] = update
    return by_line, by_count


def run_sql_module():
    spec = importlib.util.spec_from_file_location("run_sql", ROOT / "examples" / "run_sql.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_servicenow_incidents_load_as_their_last_update(tmp_path: Path):
    by_line, by_count = servicenow_by_hand()
    assert by_line == by_count  # in this file the last line of an incident is also its latest update

    def opened(update: dict[str, str]) -> datetime:
        return datetime.strptime(update["opened_at"], "%d-%m-%Y %H:%M").replace(tzinfo=UTC)

    contacts = [
        Contact(
            contact_id=number,
            customer_id="" if u["caller_id"] == "?" else u["caller_id"],
            reason="" if u["category"] == "?" else u["category"],  # the reference reads "" as "unknown"
            started_at=opened(u),
        )
        for number, u in by_count.items()
    ]
    as_of = max(c.started_at for c in contacts) + WEEK  # every case mature: the file is all the history
    db_path = tmp_path / "servicenow.duckdb"
    result = run([str(SERVICENOW)], db_path, load_config(ROOT / "examples" / "servicenow.toml"), as_of=as_of)

    assert (result.load.rows_read, result.load.rows_quarantined) == (5998, 0)
    assert result.load.contacts_delivered == len(by_count)
    cases, expected = linked(contacts, WEEK, as_of)
    assert expected["mature_cases"] == expected["cases"]
    assert published(db_path) == expected

    con = duckdb.connect(str(db_path), read_only=True)
    loaded = dict(con.execute("select contact_id, reason from raw.contacts").fetchall())
    con.close()
    assert loaded == {c.contact_id: c.reason or "unknown" for c in contacts}

    # The worked comparison in docs/servicenow.md: repeat-based FCR against the log's reopen_count.
    reopened = {n for n, u in by_count.items() if int(u["reopen_count"]) > 0}
    want: dict[str, list[int]] = {"no repeat (FCR)": [0, 0], "repeated": [0, 0]}
    for case in cases:
        want["no repeat (FCR)" if len(case) == 1 else "repeated"][case[0] in reopened] += 1
    sql = (ROOT / "examples" / "servicenow_reopens.sql").read_text()
    columns, rows = run_sql_module().query(sql, [db_path], {"source": str(SERVICENOW)})
    assert columns[:3] == ["repeat_outcome", "first_incident_not_reopened", "first_incident_reopened"]
    assert {r[0]: [r[1], r[2]] for r in rows} == want

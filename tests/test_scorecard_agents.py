"""Many agents: the page shows those beyond doubt and the extremes, the full table folded away."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from fcr.config import build_config
from fcr.run import run
from fcr.scorecard import render_scorecard
from tests.conftest import write_contacts
from tests.test_scorecard import SCORECARD_HEADER

AGENTS_CONFIG = {"scorecard": {"min_mature_cases": 10}}
ABOVE, WITHIN, BELOW = range(1, 8), range(8, 38), range(38, 41)  # A01-A07 resolve all, A38-A40 none


def agents_log() -> list[dict]:
    """40 agents with 10 September cases each: 7 resolve every case, 30 half of them, 3 none."""
    rows = []
    for agent in range(1, 41):
        for case in range(10):
            customer, day = f"k{agent}-{case}", date(2026, 9, 1) + timedelta(days=case)
            first = {"customer_id": customer, "channel": "phone", "reason": "billing", "team": "Care"}
            rows.append({**first, "contact_id": f"{customer}a", "started_at": f"{day} 10:00:00",
                         "agent_id": f"A{agent:02d}"})  # fmt: skip
            if agent in BELOW or (agent in WITHIN and case % 2):
                rows.append({**first, "contact_id": f"{customer}b", "agent_id": f"A{agent:02d}",
                             "started_at": f"{day + timedelta(days=2)} 10:00:00"})  # fmt: skip
    return rows


def build_agents_db(directory: Path) -> Path:
    """Run the pipeline on the 40-agent log, every September case closed."""
    contacts = write_contacts(directory / "contacts.csv", agents_log(), SCORECARD_HEADER)
    db_path = directory / "fcr.duckdb"
    as_of = datetime.fromisoformat("2026-10-02T00:00:00+00:00")
    run([str(contacts)], db_path, build_config(AGENTS_CONFIG), as_of=as_of)
    return db_path


@pytest.fixture(scope="module")
def agents_section(tmp_path_factory: pytest.TempPathFactory) -> str:
    db_path = build_agents_db(tmp_path_factory.mktemp("agents"))
    html = render_scorecard(db_path, build_config(AGENTS_CONFIG))
    return html.split("<h3>Agents</h3>")[1].split('id="flow"')[0]


def _agent_names(html: str) -> list[str]:
    return re.findall(r'data-ranked="agent" data-name="([^"]+)"', html)


def test_the_page_shows_agents_beyond_doubt_and_the_top_and_bottom_five(agents_section: str) -> None:
    shown = agents_section.split("<details")[0]
    expected = [f"A{n:02d}" for n in (*ABOVE, 36, 37, *BELOW)]  # 7 above, the bottom 5 (3 below)
    assert _agent_names(shown) == expected


def test_every_ranked_agent_is_in_a_folded_table_and_in_its_print_copy(agents_section: str) -> None:
    folded = agents_section.split("<details")[1].split("</details>")[0]
    printed = agents_section.split('class="all-ranked print-only"')[1]
    everyone = [f"A{n:02d}" for n in range(1, 41)]
    assert "<summary>All 40 ranked agents</summary>" in folded
    assert _agent_names(folded) == everyone and _agent_names(printed) == everyone

"""The scorecard in a real browser: every chart drawn, no console error, no request, prints on A4 pages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from fcr.config import build_config
from fcr.scorecard import write_scorecard
from fcr.scorecard.browser import CHROMIUM, offline_page
from tests.test_scorecard import CONFIG, build_fixture_db
from tests.test_scorecard_agents import AGENTS_CONFIG, build_agents_db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        print(f"skipping browser test: {reason}")
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def scorecard_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("browser")
    return write_scorecard(build_fixture_db(directory), directory / "scorecard.html", build_config(CONFIG))


def test_the_harness_catches_a_network_request(chromium: Path, tmp_path: Path) -> None:
    page = tmp_path / "leaky.html"
    page.write_text('<!doctype html><title>x</title><img src="https://example.invalid/pixel.png">')
    with offline_page(page, chromium) as loaded:
        loaded.page.wait_for_load_state("networkidle")
        assert loaded.blocked_requests == ["https://example.invalid/pixel.png"]


def test_scorecard_renders_offline_and_prints(chromium: Path, scorecard_file: Path, tmp_path: Path) -> None:
    with offline_page(scorecard_file, chromium) as loaded:
        page = loaded.page
        figures = page.locator("figure.chart")
        assert figures.count() == 7
        for i in range(figures.count()):
            figure = figures.nth(i)
            name = figure.get_attribute("data-chart")
            box = figure.locator("svg").bounding_box()
            assert box and box["width"] > 150 and box["height"] > 60, name
            marks = figure.locator("svg path, svg line, svg rect").count()
            assert marks > 10, f"{name}: {marks} marks"
        page.screenshot(path=str(tmp_path / "scorecard.png"), full_page=True)

        page.emulate_media(media="print")
        breaks = page.eval_on_selector_all(
            "figure.chart, .tile", "els => els.map(e => getComputedStyle(e).breakInside)"
        )
        assert set(breaks) == {"avoid"}  # no chart or tile is cut across pages
        page.pdf(path=str(tmp_path / "scorecard.pdf"), prefer_css_page_size=True, print_background=True)
        page.wait_for_load_state("networkidle")
        assert loaded.console_errors == []
        assert loaded.blocked_requests == []

    png, pdf = (tmp_path / "scorecard.png").read_bytes(), (tmp_path / "scorecard.pdf").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 50_000
    assert pdf.startswith(b"%PDF")
    pages = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert len(pages) >= 2
    assert {(round(float(w)), round(float(h))) for w, h in pages} == {(842, 595)}  # A4 landscape, points


def test_the_folded_agent_table_prints_expanded(chromium: Path, tmp_path: Path) -> None:
    out = write_scorecard(build_agents_db(tmp_path), tmp_path / "agents.html", build_config(AGENTS_CONFIG))
    with offline_page(out, chromium) as loaded:
        rows = loaded.page.locator('tr[data-ranked="agent"]:visible')
        assert rows.count() == 12  # on screen: 7 above, the bottom 5; the other 28 folded away
        loaded.page.emulate_media(media="print")
        assert rows.count() == 12 + 40  # in print: those 12, then every ranked agent

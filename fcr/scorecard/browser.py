"""Open a scorecard file in headless Chromium with the network cut off (needs the dev extras: playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_SCHEMES = ("file:", "data:")
VIEWPORT = {"width": 1200, "height": 900}


@dataclass
class OfflinePage:
    """A page loaded from a file, with every network request it tried and every console error."""

    page: Any
    blocked_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@contextmanager
def offline_page(html_path: Path | str, executable: Path = CHROMIUM) -> Iterator[OfflinePage]:
    """Load the file with every request not starting with file: or data: aborted and recorded."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
            result = OfflinePage(page)

            def route(request_route: Any) -> None:
                url = request_route.request.url
                if url.startswith(LOCAL_SCHEMES):
                    request_route.continue_()
                else:
                    result.blocked_requests.append(url)
                    request_route.abort()

            page.route("**/*", route)
            page.on("console", lambda m: m.type == "error" and result.console_errors.append(m.text))
            page.on("pageerror", lambda e: result.console_errors.append(str(e)))
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load")
            yield result
        finally:
            browser.close()


def screenshot(html_path: Path | str, png_path: Path | str, height: int = 0) -> list[str]:
    """Save a PNG of the page (its top `height` pixels, or all of it for 0); return requests it tried."""
    with offline_page(html_path) as loaded:
        clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height} if height else None
        loaded.page.screenshot(path=str(png_path), full_page=True, clip=clip)
        return loaded.blocked_requests


def print_pdf(html_path: Path | str, pdf_path: Path | str) -> list[str]:
    """Print the page to PDF with its own print stylesheet (A4 landscape); return requests tried."""
    with offline_page(html_path) as loaded:
        loaded.page.emulate_media(media="print")
        loaded.page.pdf(path=str(pdf_path), prefer_css_page_size=True, print_background=True)
        return loaded.blocked_requests

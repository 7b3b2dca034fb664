"""Regenerate the README's picture of the scorecard.

    .venv/bin/python -m fcr.scorecard.screenshot demo/scorecard.html docs/scorecard.png

Needs the dev extras (playwright) and Debian's chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import sys

from fcr.scorecard.browser import screenshot

README_HEIGHT = 1110  # header, at a glance, headline tiles and trends


def main(argv: list[str] | None = None) -> int:
    """Write the PNG; fail when the page tried to reach the network."""
    parser = argparse.ArgumentParser(
        prog="python -m fcr.scorecard.screenshot", description=__doc__.split("\n")[0]
    )
    parser.add_argument("html", help="scorecard HTML file")
    parser.add_argument("png", help="PNG file to write")
    parser.add_argument(
        "--height", type=int, default=README_HEIGHT, help="pixels from the top; 0 = whole page"
    )
    args = parser.parse_args(argv)
    blocked = screenshot(args.html, args.png, args.height)
    if blocked:
        print(f"the page tried to reach the network: {blocked}", file=sys.stderr)
        return 1
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

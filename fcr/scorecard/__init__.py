"""The manager scorecard: one self-contained HTML file from the published tables (SPEC section 7)."""

from fcr.scorecard.data import ScorecardError
from fcr.scorecard.render import render_scorecard, write_scorecard

__all__ = ["ScorecardError", "render_scorecard", "write_scorecard"]

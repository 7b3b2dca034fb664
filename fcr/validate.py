"""Audit staged outputs before they are published: SPEC section 4 invariants."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from fcr import sqlfiles


class ValidationFailed(RuntimeError):
    """A staged output broke a check; nothing was published."""


@dataclass
class ValidationReport:
    """Which checks ran and which failed, with a few offending rows each."""

    checks: int = 0
    failures: dict[str, list[tuple]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when every check found no offending row."""
        return not self.failures

    def describe(self) -> str:
        """A message naming each failed check and showing sample rows."""
        lines = [f"{len(self.failures)} of {self.checks} checks failed:"]
        for name, rows in self.failures.items():
            lines.append(f"  - {name}: e.g. {rows[:3]}")
        return "\n".join(lines)


CHECKS = (
    "rates_ordered",
    "case_counts_add_up",
    "contacts_in_one_case",
    "case_contacts_conserved",
    "days_roll_up",
    "metrics_keys_unique",
)


def validate_outputs(con: duckdb.DuckDBPyConnection) -> ValidationReport:
    """Run every check under sql/checks/; each returns offending rows (none = pass)."""
    report = ValidationReport()
    for name in CHECKS:
        rows = sqlfiles.execute(con, f"checks/{name}").fetchmany(5)
        report.checks += 1
        if rows:
            report.failures[name] = rows
    return report

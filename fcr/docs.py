"""Render docs/tables.md from fcr/schema.yml, the one place tables and columns are documented."""

from __future__ import annotations

from pathlib import Path

import yaml

SCHEMA_FILE = Path(__file__).with_name("schema.yml")


def load_schema() -> dict[str, dict]:
    """Documented tables: name -> {grain, description, columns: {name: meaning}}, and for published
    tables the serving copies' primary_key, indexes and money columns."""
    return yaml.safe_load(SCHEMA_FILE.read_text())


def render_tables_md() -> str:
    """Markdown reference of every documented table and column."""
    lines = [
        "# Tables",
        "",
        "Generated from `fcr/schema.yml` by `fcr docs`; do not edit by hand.",
        "",
    ]
    for table, spec in load_schema().items():
        lines += [f"## `{table}`", "", f"*{spec['grain']}.* {spec['description']}", ""]
        if "primary_key" in spec:
            lines += [f"Key: {', '.join(f'`{c}`' for c in spec['primary_key'])}.", ""]
        lines += ["| column | meaning |", "|---|---|"]
        lines += [f"| `{name}` | {meaning} |" for name, meaning in spec["columns"].items()]
        lines.append("")
    return "\n".join(lines)

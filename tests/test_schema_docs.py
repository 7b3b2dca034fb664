"""Every table the pipeline builds is documented, column for column, in fcr/schema.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from fcr.docs import load_schema, render_tables_md

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    from fcr.config import Config
    from fcr.generate import SampleSpec, write_sample
    from fcr.run import run

    folder = tmp_path_factory.mktemp("schema")
    write_sample(SampleSpec(contacts=2000), folder / "c.csv")
    run([str(folder / "c.csv")], folder / "fcr.duckdb", Config())
    return folder / "fcr.duckdb"


def test_database_tables_match_the_documentation(demo_db: Path):
    import duckdb

    con = duckdb.connect(str(demo_db), read_only=True)
    actual = {}
    for schema, table, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('raw', 'published') order by table_schema, table_name, ordinal_position"
    ).fetchall():
        actual.setdefault(f"{schema}.{table}", []).append(column)
    con.close()
    documented = {name: list(spec["columns"]) for name, spec in load_schema().items()}
    assert actual == documented


def test_generated_docs_are_up_to_date():
    assert (ROOT / "docs" / "tables.md").read_text() == render_tables_md(), "run `fcr docs`"


def test_sql_models_use_only_table_names_declared_in_tables_py():
    import re

    from fcr import tables

    declared = {v for k, v in vars(tables).items() if k.isupper() and isinstance(v, str)}
    used = set()
    for path in (ROOT / "sql").rglob("*.sql"):
        used |= set(re.findall(r"\b(?:raw|staging|published)\.[a-z_]+\b", path.read_text()))
    assert used - declared == set()


def test_every_sql_file_opens_with_one_comment_line_stating_its_grain():
    for path in (ROOT / "sql").rglob("*.sql"):
        first = path.read_text().splitlines()[0]
        assert first.startswith("-- one ") or first.startswith("-- offending"), path


def test_sql_models_use_only_aggregates_that_spill_to_disk():
    """count(distinct), string_agg and ordered aggregates hold their state in memory (DECISIONS.md)."""
    import re

    unspillable = re.compile(
        r"count\s*\(\s*distinct|string_agg\s*\(|\b(?:list|array_agg|first|last)\s*\([^()]*\border by\b"
    )
    for path in (ROOT / "sql").rglob("*.sql"):
        code = "\n".join(line.split("--")[0] for line in path.read_text().splitlines())
        assert not unspillable.search(code), f"{path.relative_to(ROOT)}: {unspillable.search(code).group(0)}"


def test_each_published_tables_documented_key_is_unique_and_never_null(demo_db: Path):
    """The serving copies make it their primary key (PostgreSQL refuses a duplicate)."""
    import duckdb

    con = duckdb.connect(str(demo_db), read_only=True)
    keyed = {name: spec for name, spec in load_schema().items() if "primary_key" in spec}
    assert {name.split(".")[1] for name in keyed} == {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'published' "
            "and table_name <> 'pipeline_runs'"
        ).fetchall()
    }
    for name, spec in keyed.items():
        key = ", ".join(spec["primary_key"])
        any_null = " or ".join(f"{column} is null" for column in spec["primary_key"])
        rows, keys, with_null = con.execute(
            f"select count(*), count(distinct ({key})), count(*) filter (where {any_null}) from {name}"
        ).fetchone()
        assert rows > 0 and keys == rows and with_null == 0, name
        assert set(spec.get("money", [])) <= set(spec["columns"]), name
    con.close()

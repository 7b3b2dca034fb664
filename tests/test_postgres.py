"""The PostgreSQL serving target, against a real server this module starts (initdb + pg_ctl)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from fcr import db, tables
from fcr.config import build_config
from fcr.docs import load_schema
from fcr.generate import SampleSpec, write_sample
from fcr.publish.postgres import MANIFEST_TABLE, serve_postgres
from fcr.publish.serve import ServeError, published_relations
from fcr.run import run

pytestmark = pytest.mark.postgres


def _server_binaries() -> Path | None:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return installed[-1].parent if installed else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A throwaway server on a free local port, trusting local connections; stopped afterwards."""
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binary (initdb) on this machine: apt-get install postgresql")
    base = Path(tempfile.mkdtemp(prefix="fcr-postgres-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "postgres" if "postgres" in {p.pw_name for p in pwd.getpwall()} else "nobody"
        shutil.chown(base, user)
        as_user = ["runuser", "-u", user, "--"]
    port = _free_port()
    data = base / "data"
    subprocess.run(
        [*as_user, binaries / "initdb", "-D", data, "-A", "trust", "-U", "fcr", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, binaries / "pg_ctl", "-D", data, "-o", options, "-l", base / "log", "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://fcr@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, binaries / "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


def _query(url: str, sql: str) -> list[tuple]:
    import adbc_driver_postgresql.dbapi as postgres

    with postgres.connect(url, autocommit=True) as server, server.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall() if cursor.description else []


def _assert_same_tables(con: duckdb.DuckDBPyConnection, url: str, schema: str) -> None:
    """Every published table, row for row, in the server's schema (money as the cents it was cast to)."""
    documented = load_schema()
    for name in published_relations(con):
        spec = documented[f"{tables.PUBLISHED}.{name}"]
        key = ", ".join(spec["primary_key"])
        result = con.execute(f"select * from {tables.PUBLISHED}.{name} order by {key}")
        columns = [d[0] for d in result.description]
        money = [columns.index(c) for c in spec.get("money", [])]
        expected = [_cents(row, money) for row in result.fetchall()]
        served = [_cents(row, money) for row in _query(url, f"select * from {schema}.{name} order by {key}")]
        assert served == expected, name


def _cents(row: tuple, money: list[int]) -> tuple:
    """The row with its money columns as Decimal cents (the server returns numeric as text)."""
    values = list(row)
    for i in money:
        if values[i] is not None:
            values[i] = Decimal(str(values[i])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return tuple(values)


def _split_log(folder: Path) -> tuple[Path, Path]:
    """A generated log delivered in two parts: everything before October, then October on."""
    write_sample(SampleSpec(contacts=3000), folder / "all.csv")
    source = f"read_csv('{folder / 'all.csv'}', all_varchar = true)"
    early, late = folder / "early.csv", folder / "late.csv"
    duckdb.execute(f"copy (from {source} where not (started_at >= '2026-10')) to '{early}'")
    duckdb.execute(f"copy (from {source} where started_at >= '2026-10') to '{late}'")
    return early, late


def test_a_full_then_an_incremental_run_serve_every_published_table_row_for_row(
    tmp_path: Path, postgres_url: str
):
    early, late = _split_log(tmp_path)
    db_path = tmp_path / "fcr.duckdb"
    config = build_config({"serving": {"postgres_url": postgres_url, "postgres_schema": "contact_centre"}})
    for part in (early, late):
        result = run([str(part)], db_path, config)
        con = duckdb.connect(str(db_path), read_only=True)
        try:
            _assert_same_tables(con, postgres_url, "contact_centre")
            manifest = dict(
                _query(postgres_url, f"select table_name, rows from contact_centre.{MANIFEST_TABLE}")
            )
            assert manifest == result.serving.rows
            assert {
                r[0] for r in _query(postgres_url, f"select run_id from contact_centre.{MANIFEST_TABLE}")
            } == {result.run_id}
        finally:
            con.close()


def test_columns_keep_their_types_keys_and_documentation(tmp_path: Path, postgres_url: str):
    early, _ = _split_log(tmp_path)
    run([str(early)], tmp_path / "fcr.duckdb", build_config({"serving": {"postgres_url": postgres_url}}))
    types = dict(
        _query(
            postgres_url,
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'fcr'",
        )
    )
    assert types["cases.first_started_at"] == "timestamp with time zone"
    assert types["cases.business_date"] == "date"
    assert types["cases.case_id"] == "text"
    assert types["reason_priority.money_at_stake"] == "numeric"
    assert types["metrics.cases"] == "bigint"
    keys = dict(
        _query(
            postgres_url,
            "select tc.table_name, string_agg(kcu.column_name, ',' order by kcu.ordinal_position) "
            "from information_schema.table_constraints tc join information_schema.key_column_usage kcu "
            "using (constraint_schema, constraint_name) "
            "where tc.table_schema = 'fcr' and tc.constraint_type = 'PRIMARY KEY' group by tc.table_name",
        )
    )
    documented = load_schema()
    for relation, spec in documented.items():
        schema, name = relation.split(".")
        if schema == tables.PUBLISHED and "primary_key" in spec:
            assert keys[name] == ",".join(spec["primary_key"])
            comment = _query(postgres_url, f"select obj_description('fcr.{name}'::regclass)")[0][0]
            assert comment == " ".join(spec["description"].split())
    column_comment = _query(
        postgres_url,
        "select col_description('fcr.cases'::regclass, "
        "(select attnum from pg_attribute where attrelid = 'fcr.cases'::regclass and attname = 'case_id'))",
    )[0][0]
    assert column_comment == documented["published.cases"]["columns"]["case_id"]
    indexed = {
        r[0] for r in _query(postgres_url, "select indexname from pg_indexes where schemaname = 'fcr'")
    }
    assert {"cases_pkey", "cases_1", "metrics_1"} <= indexed


def test_a_reader_during_publishes_sees_one_publish_whole_and_never_a_missing_table(
    tmp_path: Path, postgres_url: str
):
    early, late = _split_log(tmp_path)
    config = build_config({"serving": {"enabled": False}})
    small, large = tmp_path / "small.duckdb", tmp_path / "large.duckdb"
    run([str(early)], small, config)
    run([str(early), str(late)], large, config)
    names = published_relations(duckdb.connect(str(small), read_only=True))
    counts = ", ".join(f"(select count(*) from swap.{name})" for name in names)
    # one statement reads the manifest and counts every table: they must come from one publish
    manifest = (
        f"select string_agg(table_name || '=' || rows, ',' order by table_name) from swap.{MANIFEST_TABLE}"
    )
    poll = f"select ({manifest}), {counts}"
    stop, seen, errors = threading.Event(), [], []

    def read() -> None:
        import adbc_driver_postgresql.dbapi as postgres

        with postgres.connect(postgres_url, autocommit=True) as server, server.cursor() as cursor:
            deadline = time.monotonic() + 120
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    cursor.execute(poll)
                    seen.append(cursor.fetchone())
                except Exception as exc:  # a missing table or a deadlock would land here
                    errors.append(repr(exc))

    for source in (small, large):  # the schema exists before the reader starts
        with duckdb.connect(str(source), read_only=True) as con:
            serve_postgres(con, postgres_url, "swap", "first")
    reader = threading.Thread(target=read)
    reader.start()
    try:
        for publish in range(6):
            with duckdb.connect(str((small, large)[publish % 2]), read_only=True) as con:
                serve_postgres(con, postgres_url, "swap", f"run-{publish}")
    finally:
        stop.set()
        reader.join(timeout=150)
    assert errors == []
    assert len(seen) > 10
    for listed, *table_counts in seen:
        assert listed is not None, "the reader saw an empty manifest (a snapshot older than the tables)"
        rows = dict(item.split("=") for item in listed.split(","))
        assert [int(rows[name]) for name in names] == table_counts
    assert len({row[0] for row in seen}) == 2, "the reader should have seen both publishes"


def test_a_failed_write_keeps_the_previous_tables_and_names_the_server_and_table(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    early, _ = _split_log(tmp_path)
    db_path = tmp_path / "fcr.duckdb"
    monkeypatch.setenv("FCR_TEST_POSTGRES", postgres_url.replace("fcr@", "fcr:sekret@"))
    first = run([str(early)], db_path, build_config({"serving": {"postgres_url_env": "FCR_TEST_POSTGRES"}}))
    with duckdb.connect(str(db_path)) as con:  # a duplicate row the primary key refuses
        con.execute(f"insert into {tables.CASES} select * from {tables.CASES} limit 1")
        with pytest.raises(ServeError) as failure:
            serve_postgres(con, os.environ["FCR_TEST_POSTGRES"], "fcr", "second")
    message = str(failure.value)
    assert "fcr@127.0.0.1" in message and "loading fcr.cases:" in message
    assert "sekret" not in message
    assert {r[0] for r in _query(postgres_url, f"select run_id from fcr.{MANIFEST_TABLE}")} == {first.run_id}
    assert _query(postgres_url, "select count(*) from fcr.metrics")[0][0] == first.serving.rows["metrics"]
    leftovers = _query(postgres_url, "select tablename from pg_tables where tablename like '%incoming'")
    assert leftovers == []


def test_a_url_variable_that_is_not_set_fails_the_run_before_it_loads(tmp_path: Path):
    from fcr.config import ConfigError

    early, _ = _split_log(tmp_path)
    config = build_config({"serving": {"postgres_url_env": "FCR_TEST_UNSET_VARIABLE"}})
    with pytest.raises(ConfigError, match="FCR_TEST_UNSET_VARIABLE, which is not set"):
        run([str(early)], tmp_path / "fcr.duckdb", config)
    with duckdb.connect(str(tmp_path / "fcr.duckdb"), read_only=True) as con:
        assert not db.table_exists(con, tables.CONTACTS)


@pytest.mark.parametrize(
    ("serving", "message"),
    [
        (
            {"postgres_url": "postgresql://fcr:sekret@db.example/fcr"},
            "holds a password: keep it out of the config",
        ),
        ({"postgres_url": "mysql://db.example/fcr"}, "must start with postgresql://"),
        ({"postgres_url": "postgresql://db/fcr", "postgres_url_env": "X"}, "not both"),
        ({"postgres_schema": "Contact-Centre"}, "serving.postgres_schema"),
    ],
)
def test_a_postgres_setting_that_cannot_work_is_a_config_error_naming_the_key(serving: dict, message: str):
    from fcr.config import ConfigError

    with pytest.raises(ConfigError, match=message) as error:
        build_config({"serving": serving})
    assert "sekret" not in str(error.value)


def test_a_table_an_older_version_left_with_other_columns_is_rebuilt_with_the_new_ones(
    tmp_path: Path, postgres_url: str
):
    early, _ = _split_log(tmp_path)
    _query(postgres_url, "create schema if not exists upgraded")
    _query(postgres_url, "create table upgraded.cases (case_id text primary key, retired_column integer)")
    _query(postgres_url, "insert into upgraded.cases values ('old', 1)")
    db_path = tmp_path / "fcr.duckdb"
    run(
        [str(early)],
        db_path,
        build_config({"serving": {"postgres_url": postgres_url, "postgres_schema": "upgraded"}}),
    )
    with duckdb.connect(str(db_path), read_only=True) as con:
        _assert_same_tables(con, postgres_url, "upgraded")
    assert _query(
        postgres_url,
        "select indexname from pg_indexes where tablename = 'cases' and schemaname = 'upgraded' order by 1",
    ) == [
        ("cases_1",),
        ("cases_2",),
        ("cases_pkey",),
    ]


def test_every_example_query_of_the_bi_guide_runs_and_returns_rows(tmp_path: Path, postgres_url: str):
    import re

    guide = (Path(__file__).resolve().parents[1] / "docs" / "bi.md").read_text()
    queries = re.findall(r"```sql\n(.*?)```", guide, flags=re.S)
    assert len(queries) >= 7
    write_sample(SampleSpec(contacts=6000), tmp_path / "c.csv")
    run(
        [str(tmp_path / "c.csv")],
        tmp_path / "fcr.duckdb",
        build_config({"serving": {"postgres_url": postgres_url}}),
    )
    for query in queries:
        assert _query(postgres_url, query.strip().removesuffix(";")), query

"""Exporting the published tables to Parquet for BI tools."""

from __future__ import annotations

from pathlib import Path

import duckdb

from fcr.publish.export import EXPORTED, export_published


def _c(contact_id: str, started_at: str, customer: str = "K1", reason: str = "billing") -> dict:
    return {
        "contact_id": contact_id,
        "customer_id": customer,
        "channel": "phone",
        "started_at": started_at,
        "reason": reason,
    }


ROWS = [
    _c("a", "2026-11-01 09:00:00"),
    _c("b", "2026-11-02 09:00:00"),  # repeat of a
    _c("x", "2026-11-01 10:00:00", customer="K2"),
]


def test_every_published_table_is_exported_with_the_same_rows(run_log, tmp_path: Path):
    result, con = run_log(ROWS)
    written = export_published(result.db_path, tmp_path / "export")
    assert set(written) == set(EXPORTED)
    for table, path in written.items():
        assert path == tmp_path / "export" / f"{table.split('.')[1]}.parquet"
        exported = con.execute("select * from read_parquet($path) order by all", {"path": str(path)})
        assert exported.fetchall() == con.execute(f"select * from {table} order by all").fetchall(), table
    cases = con.execute(
        "select case_id from read_parquet($p) order by 1", {"p": str(written["published.cases"])}
    )
    assert cases.fetchall() == [("a",), ("x",)]


def test_a_second_export_replaces_the_files_and_leaves_no_partial_ones(run_log, tmp_path: Path):
    result, con = run_log(ROWS)
    con.close()
    out = tmp_path / "export"
    export_published(result.db_path, out)
    writer = duckdb.connect(str(result.db_path))
    writer.execute("delete from published.cases where case_id = 'x'")
    writer.close()
    written = export_published(result.db_path, out)
    cases = duckdb.execute("select case_id from read_parquet($p)", {"p": str(written["published.cases"])})
    assert cases.fetchall() == [("a",)]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written.values())


def test_the_export_and_the_serving_copy_write_the_same_parquet_with_one_writer(
    run_log, tmp_path: Path, monkeypatch
):
    from fcr.publish import serve

    written = []
    write = serve._write_parquet

    def counted(con, relation, target):
        written.append(relation)
        write(con, relation, target)

    monkeypatch.setattr(serve, "_write_parquet", counted)
    result, con = run_log(ROWS)
    served = set(written)
    con.close()
    written.clear()
    exported = export_published(result.db_path, tmp_path / "export")
    assert served and served <= set(written) == set(EXPORTED)  # the export adds the run log only
    for table in served:
        assert exported[table].read_bytes() == result.serving.parquet[table.split(".")[1]].read_bytes(), table

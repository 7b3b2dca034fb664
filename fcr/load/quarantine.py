"""raw.quarantine: every row a load refused, with its file, line, the rule it broke and its raw values."""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from fcr import tables
from fcr.load.read import SourceFile

COLUMNS = (
    "source_file varchar, source_line bigint, rule varchar, detail varchar, "
    "raw_record varchar, run_id varchar"
)


def replace_rows(
    con: duckdb.DuckDBPyConnection, sources: list[SourceFile], rows_sql: str, run_id: str
) -> dict[str, int]:
    """Quarantine the rows `rows_sql` selects plus the files' malformed lines; return counts by rule.

    A re-delivered file replaces its earlier quarantined rows, so re-runs never count a bad row twice.
    rows_sql selects the table's columns in order and may bind $run_id.
    """
    files = [str(s.path) for s in sources]
    con.execute(f"create table if not exists {tables.QUARANTINE} ({COLUMNS})")
    con.execute(
        f"delete from {tables.QUARANTINE} where source_file in (select unnest($files::varchar[]))",
        {"files": files},
    )
    con.execute(f"insert into {tables.QUARANTINE} {rows_sql}", {"run_id": run_id})
    malformed = [
        (str(s.path), m.line, "malformed_row", m.detail, m.text, run_id) for s in sources for m in s.malformed
    ]
    if malformed:
        con.executemany(f"insert into {tables.QUARANTINE} values (?, ?, ?, ?, ?, ?)", malformed)
    return dict(
        con.execute(
            f"select rule, count(*) from {tables.QUARANTINE} "
            "where run_id = $run_id and source_file in (select unnest($files::varchar[])) "
            "group by rule order by count(*) desc, rule",
            {"run_id": run_id, "files": files},
        ).fetchall()
    )


def commit_load(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    rows_sql: str,
    run_id: str,
    rows_read: int,
    max_share: float,
    merge: Callable[[], None],
) -> tuple[dict[str, int], bool]:
    """In one transaction, quarantine the refused rows and merge the good ones unless too many were refused.

    Returns the counts by rule and whether the good rows were merged: above max_share they are not,
    and the quarantined rows stay recorded so they can be inspected. Any error rolls everything back.
    """
    con.execute("begin transaction")
    try:
        by_rule = replace_rows(con, sources, rows_sql, run_id)
        merged = (sum(by_rule.values()) / rows_read if rows_read else 0.0) <= max_share
        if merged:
            merge()
    except Exception:
        con.execute("rollback")
        raise
    con.execute("commit")
    return by_rule, merged

"""Swap validated staging tables into the published schema, with the run's log row, in one transaction."""

from __future__ import annotations

from datetime import datetime

import duckdb

from fcr import db, lease, runlog, sqlfiles, tables
from fcr.load import touched
from fcr.transform import incremental


class StagingReplaced(RuntimeError):
    """The staging tables are not this run's finished outputs: another run rebuilt them, or it stopped."""

    permanent = True


def check_staged_by(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Refuse to validate or publish staging tables that are not this run's completed transform."""
    built_by, status = incremental.staged_by(con)
    if built_by == run_id and status == incremental.BUILT:
        return
    found = f"the outputs of run {built_by} ({status})" if built_by else "no run's outputs"
    raise StagingReplaced(
        f"the staging tables hold {found}, not the finished transform of {run_id}: another run "
        "transformed in between, or this run's transform did not finish. Run the transform again."
    )


def publish(con: duckdb.DuckDBPyConnection, record: runlog.RunRecord, incremental_run: bool = False) -> None:
    """Replace every published table with its staged copy and write the run's row, atomically.

    Readers see the old tables or the new ones; a kill at any point leaves either the old tables
    with the run still `running`, or the new tables with the run `published`, never a mix. After
    an incremental run only the rows its scope changed are replaced (see _patch).
    """
    con.execute("begin transaction")
    try:
        check_staged_by(con, record.run_id)
        for staged, published in tables.PUBLISH_MAP.items():
            if not (incremental_run and _patch(con, staged, published, record.as_of)):
                con.execute(f"create or replace table {published} as select * from {staged}")
        sqlfiles.execute(con, "marts/metric_rates")
        touched.forget_consumed(con)
        incremental.set_build_state(con, record.run_id, incremental.PUBLISHED)
        runlog.write(con, record)
        lease.release(con, record.run_id)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _patch(con: duckdb.DuckDBPyConnection, staged: str, published: str, watermark: datetime | None) -> bool:
    """Bring a published table to its staged copy by replacing only the rows the run changed.

    An incremental run starts from staged state equal to the published tables and changes only its
    scope's customers and periods (and, in cases, the maturity the watermark's move brings), so the
    same changes make the published table equal to the staged one without copying every row.
    False when the table has no such rule or the patch left it another size than the staged copy:
    the caller then copies it whole.
    """
    changed = incremental.CHANGED_ROWS.get(staged)
    if changed is None or not db.table_exists(con, published):
        return False
    incremental.replace_changed_rows(con, published, staged, changed, source_is_delta=False)
    if staged == tables.STG_CASES:
        incremental.mark_matured(con, published, watermark)
    sizes = con.execute(f"select (select count(*) from {published}), (select count(*) from {staged})")
    published_rows, staged_rows = sizes.fetchone()
    return published_rows == staged_rows

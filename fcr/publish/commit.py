"""Swap validated staging tables into the published schema, with the run's log row, in one transaction."""

from __future__ import annotations

import duckdb

from fcr import lease, runlog, sqlfiles, tables
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


def publish(con: duckdb.DuckDBPyConnection, record: runlog.RunRecord) -> None:
    """Replace every published table with its staged copy and write the run's row, atomically.

    Readers see the old tables or the new ones; a kill at any point leaves either the old tables
    with the run still `running`, or the new tables with the run `published`, never a mix.
    """
    con.execute("begin transaction")
    try:
        check_staged_by(con, record.run_id)
        for staged, published in tables.PUBLISH_MAP.items():
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

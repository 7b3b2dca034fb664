"""raw.run_lease: one run at a time holds a database from its load to its publish.

DuckDB's file lock only covers one open connection; a scheduled run opens the file once per task,
so without a lease a second run could load between the first one's transform and publish. The lease
row names the run and who runs it (a process, or a scheduler run whose tasks come and go). It is
released by the publish transaction or by a failed run, and taken over when its holder is gone: the
process has died, or the holder has not touched the database for `run_lease_timeout`.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb

from fcr import tables

_DDL = (
    f"create table if not exists {tables.RUN_LEASE} (run_id varchar, owner varchar, "
    "host varchar, pid integer, acquired_at timestamptz, touched_at timestamptz)"
)


PROCESS = "process"  # the owner of a run carried out by one process from start to end (the CLI)


class DatabaseBusy(RuntimeError):
    """Another run holds the database; this one changed nothing."""

    permanent = False


class LeaseLost(RuntimeError):
    """The run no longer holds the database: another run took it over, so this one must stop."""

    permanent = True


@dataclass(frozen=True)
class Holder:
    """Who asks for the lease: the run, and the process or scheduler run carrying it out."""

    run_id: str
    owner: str  # PROCESS for a run in one process; the scheduler's run id for a DAG run


@dataclass(frozen=True)
class Lease:
    """The lease row as found."""

    run_id: str
    owner: str
    host: str
    pid: int
    acquired_at: datetime
    touched_at: datetime


def _current(con: duckdb.DuckDBPyConnection) -> Lease | None:
    con.execute(_DDL)
    row = con.execute(
        f"select run_id, owner, host, pid, acquired_at, touched_at from {tables.RUN_LEASE}"
    ).fetchone()
    return Lease(*row) if row else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _gone(lease: Lease, timeout: timedelta, now: datetime) -> bool:
    """Whether the holder can no longer finish: its process died, or it has been silent too long."""
    if lease.owner == PROCESS and lease.host == socket.gethostname() and not _alive(lease.pid):
        return True
    return now - lease.touched_at > timeout


def acquire(con: duckdb.DuckDBPyConnection, holder: Holder, timeout: timedelta) -> str | None:
    """Take (or keep) the lease for the holder; return the run id of a dead holder it replaced.

    A retry of the same scheduler run keeps its lease (and replaces its own killed attempt);
    a live other run makes this raise DatabaseBusy, naming it.
    """
    now = datetime.now(UTC)
    lease = _current(con)
    replaced = None
    if lease is not None and lease.run_id != holder.run_id:
        same_scheduler_run = holder.owner != PROCESS and lease.owner == holder.owner
        if not same_scheduler_run and not _gone(lease, timeout, now):
            raise DatabaseBusy(
                f"the database is busy: run {lease.run_id} ({_describe(lease)}) holds it since "
                f"{lease.acquired_at:%Y-%m-%d %H:%M:%S %Z}. Wait for it to finish and run again; "
                f"a holder silent for more than run_lease_timeout ({timeout}) is taken over."
            )
        replaced = lease.run_id
    acquired_at = lease.acquired_at if lease is not None and lease.run_id == holder.run_id else now
    con.execute("begin transaction")
    con.execute(f"delete from {tables.RUN_LEASE}")
    con.execute(
        f"insert into {tables.RUN_LEASE} values ($run_id, $owner, $host, $pid, $acquired_at, $now)",
        {
            "run_id": holder.run_id,
            "owner": holder.owner,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "acquired_at": acquired_at,
            "now": now,
        },
    )
    con.execute("commit")
    return replaced


def hold(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Refresh the run's lease before a later step, or raise LeaseLost when another run has it."""
    lease = _current(con)
    if lease is None or lease.run_id != run_id:
        other = f"run {lease.run_id} ({_describe(lease)}) holds it now" if lease else "it was released"
        raise LeaseLost(
            f"run {run_id} no longer holds the database: {other}. Its outputs were not published; "
            "run the interval again once the database is free."
        )
    con.execute(
        f"update {tables.RUN_LEASE} set touched_at = $now, pid = $pid",
        {"now": datetime.now(UTC), "pid": os.getpid()},
    )


def release(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Free the lease if the run holds it (in the caller's transaction, if one is open)."""
    con.execute(_DDL)
    con.execute(f"delete from {tables.RUN_LEASE} where run_id = $run_id", {"run_id": run_id})


def _describe(lease: Lease) -> str:
    if lease.owner == PROCESS:
        return f"process {lease.pid} on {lease.host}"
    return f"scheduler run {lease.owner}, last task on {lease.host}"

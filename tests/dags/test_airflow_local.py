"""The local Airflow supervisor: the services come up on loopback with the pool, and stop leaves nothing."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import psutil
import pytest

from fcr.airflow_local import airflow_env
from fcr.config import load_config
from fcr.generate import SampleSpec, write_sample
from fcr.load.landing import land_by_day
from fcr.run import run
from tests.test_tasks import published_rows

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 120.0
CATCH_UP_WITHIN = 420.0


def _free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clean_env() -> dict[str, str]:
    """This session's environment without the Airflow and FCR settings the DAG tests' conftest set."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "FCR_"))}


def _running(home: Path, group: int | None) -> list[psutil.Process]:
    """Live processes in the group, or with the home in their command line or AIRFLOW_HOME."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid == os.getpid() or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            in_group = group is not None and os.getpgid(proc.pid) == group
            if (
                in_group
                or str(home) in " ".join(proc.cmdline())
                or proc.environ().get("AIRFLOW_HOME") == str(home)
            ):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def _health(port: int) -> dict | None:
    """The API server's health report, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def _wait_until_healthy(port: int, supervisor: subprocess.Popen, log: Path) -> dict:
    """The health report once the database, scheduler and DAG processor are healthy (bounded wait)."""
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        assert supervisor.poll() is None, log.read_text()
        health = _health(port)
        if health and all(
            health[part]["status"] == "healthy" for part in ("metadatabase", "scheduler", "dag_processor")
        ):
            return health
        time.sleep(1)
    raise AssertionError(f"not healthy within {READY_WITHIN} s: {_health(port)}\n{log.read_text()}")


def _listening(procs: list[psutil.Process]) -> set[str]:
    """The addresses the processes accept connections on."""
    addresses = set()
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            addresses |= {c.laddr.ip for c in proc.net_connections() if c.status == psutil.CONN_LISTEN}
    return addresses


CLI = [sys.executable, "-m", "fcr.airflow_local"]


@contextlib.contextmanager
def _supervisor(
    home: Path, port: int, log: Path, env: dict[str, str]
) -> Iterator[tuple[subprocess.Popen, int]]:
    """`python -m fcr.airflow_local start` on home, once healthy, and its process group.

    Leaving the block stops it as the README does if it still runs, and kills whatever survives.
    """
    with log.open("w") as out:
        supervisor = subprocess.Popen(
            [*CLI, "start", "--home", str(home), "--port", str(port), "--stop-timeout", "5"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    group = None
    try:
        _wait_until_healthy(port, supervisor, log)
        group = json.loads((home / "fcr-airflow.json").read_text())["group"]
        yield supervisor, group
    finally:
        if supervisor.poll() is None:
            stop = [*CLI, "stop", "--home", str(home), "--stop-timeout", "5"]
            subprocess.run(stop, cwd=ROOT, env=env, timeout=90)
            with contextlib.suppress(subprocess.TimeoutExpired):
                supervisor.wait(timeout=30)
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        if group is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        for proc in _running(home, group):
            with contextlib.suppress(psutil.Error):
                proc.kill()


def test_the_supervisor_runs_airflow_with_the_pool_and_stopping_it_leaves_nothing_running(tmp_path):
    home, port, log = tmp_path / "airflow_home", _free_port(), tmp_path / "supervisor.log"
    env = _clean_env()
    with _supervisor(home, port, log, env) as (supervisor, group):
        services = psutil.Process(supervisor.pid).children()
        assert len(services) == 3 and {os.getpgid(p.pid) for p in services} == {group}
        members = [p for p in _running(home, group) if os.getpgid(p.pid) == group]
        assert sum("LocalExecutor" in " ".join(p.cmdline()) for p in members) == 4  # parallelism 4
        assert _listening(members) == {"127.0.0.1"}

        with sqlite3.connect(home / "airflow.db") as db:
            pool = db.execute("select slots from slot_pool where pool = 'fcr_duckdb'").fetchall()
        assert pool == [(1,)]

        stop = subprocess.run(
            [*CLI, "stop", "--home", str(home), "--stop-timeout", "5"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert stop.returncode == 0, stop.stderr
        assert supervisor.wait(timeout=30) == 0, log.read_text()
        assert _running(home, group) == [], log.read_text()


def _readme_manual_run() -> list[str]:
    """The README's in-process `airflow dags test` command line, as a user would copy it."""
    readme = (ROOT / "README.md").read_text().splitlines()
    lines = [line for line in readme if "airflow dags test fcr_daily" in line]
    assert lines, "the README no longer shows how to run fcr_daily once in-process"
    return shlex.split(lines[0].split("#")[0])[1:]  # the words after .venv/bin/airflow


def _scheduled_runs(home: Path) -> dict[str, str]:
    """State of each scheduled fcr_daily run, by the first day of its interval."""
    with contextlib.closing(sqlite3.connect(home / "airflow.db", timeout=30)) as db:
        rows = db.execute(
            "select data_interval_start, state from dag_run"
            " where dag_id = 'fcr_daily' and run_type = 'scheduled'"
        ).fetchall()
    return {start[:10]: state for start, state in rows}


def _shard_tasks(home: Path, day: date) -> list[tuple[int, datetime, datetime, str]]:
    """The link_shard task instances of the scheduled run of `day`: map index, start, end, state."""
    with contextlib.closing(sqlite3.connect(home / "airflow.db", timeout=30)) as db:
        rows = db.execute(
            "select ti.map_index, ti.start_date, ti.end_date, ti.state from task_instance ti"
            " join dag_run r on r.dag_id = ti.dag_id and r.run_id = ti.run_id"
            " where ti.dag_id = 'fcr_daily' and ti.task_id = 'link_shard' and ti.map_index >= 0"
            " and r.run_type = 'scheduled' and r.data_interval_start like $day || '%'"
            " order by ti.map_index",
            {"day": day.isoformat()},
        ).fetchall()
    return [
        (index, datetime.fromisoformat(start), datetime.fromisoformat(end), state)
        for index, start, end, state in rows
    ]


def test_after_the_readmes_manual_run_the_scheduler_catches_up_every_landed_day(tmp_path):
    # sharded, so the scheduled runs also show the LocalExecutor linking two shards side by side
    days = [date(2026, 11, 1), date(2026, 11, 2)]
    end = datetime.combine(days[-1] + timedelta(days=1), dt_time())
    write_sample(SampleSpec(contacts=400, days=len(days), end=end), tmp_path / "contacts.csv")
    landed = land_by_day(tmp_path / "contacts.csv", tmp_path / "landing")
    settings = 'business_timezone = "UTC"\nmax_quarantine_share = 0.1\n\n[linking]\nrepeat_window = "24h"\n'
    (tmp_path / "fcr.toml").write_text("shards = 2\n" + settings)
    home, port, log = tmp_path / "airflow_home", _free_port(), tmp_path / "supervisor.log"
    env = {**_clean_env(), "FCR_START_DATE": days[0].isoformat(), **airflow_env(home, port)}
    with _supervisor(home, port, log, env):
        files = {"landing_dir": "landing", "db_path": "fcr.duckdb", "config_path": "fcr.toml"}
        for name, file in files.items():
            _airflow(env, "variables", "set", f"fcr_{name}", str(tmp_path / file))
        manual = _airflow(env, *_readme_manual_run())  # paused at creation, so the scheduler waits
        assert manual.returncode == 0, manual.stdout[-2000:] + manual.stderr[-2000:]
        _airflow(env, "dags", "unpause", "fcr_daily")

        deadline = time.monotonic() + CATCH_UP_WITHIN
        wanted = {day.isoformat(): "success" for day in days}
        scheduler_log = home / "logs" / "fcr-airflow" / "scheduler.log"
        while time.monotonic() < deadline:
            runs = _scheduled_runs(home)
            done = {day: runs.get(day) for day in wanted}
            stalled = "run already exists" in scheduler_log.read_text()  # on the manual run's name
            if done == wanted or "failed" in done.values() or stalled:
                break
            time.sleep(2)
        _airflow(env, "dags", "pause", "fcr_daily")
        scheduler_log = scheduler_log.read_text()
        assert {day: runs.get(day) for day in wanted} == wanted, (runs, scheduler_log[-3000:])
        assert "run already exists" not in scheduler_log
        shard_tasks = _shard_tasks(home, days[-1])
    assert [(index, state) for index, _, _, state in shard_tasks] == [(0, "success"), (1, "success")]
    starts, ends = [row[1] for row in shard_tasks], [row[2] for row in shard_tasks]
    assert max(starts) < min(ends), f"the two shard tasks ran one after the other: {shard_tasks}"
    # the scheduler's sharded runs publish what one unsharded run of both days' files does
    (tmp_path / "unsharded.toml").write_text(settings)
    unsharded = tmp_path / "unsharded.duckdb"
    files = [str(landed[day]) for day in days]
    run(
        files,
        unsharded,
        load_config(tmp_path / "unsharded.toml"),
        as_of=end.replace(tzinfo=UTC),
        force_as_of=True,
    )
    assert published_rows(tmp_path / "fcr.duckdb") == published_rows(unsharded)


def _airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """The airflow CLI on the supervisor's home, as the README's second shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )

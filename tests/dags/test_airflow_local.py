"""The local Airflow supervisor: the services come up on loopback with the pool, and stop leaves nothing."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 120.0


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


def test_the_supervisor_runs_airflow_with_the_pool_and_stopping_it_leaves_nothing_running(tmp_path):
    home, port, log = tmp_path / "airflow_home", _free_port(), tmp_path / "supervisor.log"
    cli, env = [sys.executable, "-m", "fcr.airflow_local"], _clean_env()
    with log.open("w") as out:
        supervisor = subprocess.Popen(
            [*cli, "start", "--home", str(home), "--port", str(port), "--stop-timeout", "5"],
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
        services = psutil.Process(supervisor.pid).children()
        assert len(services) == 3 and {os.getpgid(p.pid) for p in services} == {group}
        members = [p for p in _running(home, group) if os.getpgid(p.pid) == group]
        assert sum("LocalExecutor" in " ".join(p.cmdline()) for p in members) == 4  # parallelism 4
        assert _listening(members) == {"127.0.0.1"}

        with sqlite3.connect(home / "airflow.db") as db:
            pool = db.execute("select slots from slot_pool where pool = 'fcr_duckdb'").fetchall()
        assert pool == [(1,)]

        stop = subprocess.run(
            [*cli, "stop", "--home", str(home), "--stop-timeout", "5"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert stop.returncode == 0, stop.stderr
        assert supervisor.wait(timeout=30) == 0, log.read_text()
        assert _running(home, group) == [], log.read_text()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()
        if group is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        for proc in _running(home, group):
            with contextlib.suppress(psutil.Error):
                proc.kill()

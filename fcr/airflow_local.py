"""A local Airflow for the FCR DAGs that leaves nothing running when it stops.

`airflow standalone` leaves its scheduler, API server and workers behind when stopped. This
supervisor prepares an AIRFLOW_HOME (SQLite metadata DB, LocalExecutor with 4 workers, the
`fcr_duckdb` pool), starts `airflow scheduler`, `airflow api-server` and `airflow dag-processor`
in a process group of their own on 127.0.0.1, and on `stop`, SIGTERM, SIGHUP or Ctrl-C terminates
that group, the task processes (which start groups of their own) and anything else running
Airflow on this home, then SIGKILLs whatever survives the timeout.

    python -m fcr.airflow_local start [--port 8080] [--home airflow_home]
    python -m fcr.airflow_local stop [--home airflow_home]
    eval "$(python -m fcr.airflow_local env)"     # the same settings for the airflow CLI
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import IO

import psutil

REPO = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO / "dags"
DEFAULT_HOME = REPO / "airflow_home"
HOST = "127.0.0.1"
DEFAULT_PORT = 8080
SERVICES = ("scheduler", "api-server", "dag-processor")
STATE_FILE = "fcr-airflow.json"
STOP_TIMEOUT = 15.0
READY_TIMEOUT = 180.0
HEALTH_PATH = "/api/v2/monitor/health"


def airflow_env(home: Path, port: int) -> dict[str, str]:
    """The settings every Airflow process on this home must share, the CLI included."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
    }


def dag_common() -> ModuleType:
    """dags/fcr_common.py, where the DAGs name their pool, so the pool created is the one they use.

    It imports Airflow, which reads AIRFLOW_HOME when first imported: set the home's settings first.
    """
    spec = importlib.util.spec_from_file_location("fcr_common", DAGS_FOLDER / "fcr_common.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def airflow_command(*args: str) -> list[str]:
    """An airflow CLI call on this venv's interpreter, whatever PATH holds."""
    return [sys.executable, "-m", "airflow", *args]


def _state_path(home: Path) -> Path:
    """Where `start` records what `stop` must signal."""
    return home / STATE_FILE


def read_state(home: Path) -> dict | None:
    """The running supervisor's pid, process group and port, if one was started on this home."""
    try:
        return json.loads(_state_path(home).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _alive(pid: int) -> bool:
    """Whether pid is a process that still runs (a zombie has already stopped)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _port_free(port: int) -> bool:
    """Whether the API server can bind the port on loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def healthy(port: int) -> dict | None:
    """The API server's health report, or None while it does not answer."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{HEALTH_PATH}", timeout=2) as response:
            return json.load(response)
    except (OSError, urllib.error.URLError, ValueError):
        return None


def prepare(home: Path, env: dict[str, str], log: IO[str]) -> None:
    """Migrate the SQLite metadata DB and create the DuckDB pool before any task can be scheduled."""
    common = dag_common()
    for args in (("db", "migrate"), common.POOL_COMMAND[1:]):
        print("$", shlex.join(("airflow", *args)), file=log, flush=True)
        subprocess.run(airflow_command(*args), env=env, stdout=log, stderr=subprocess.STDOUT, check=True)


def _service_args(service: str, port: int) -> list[str]:
    """The service's arguments: the API server on loopback in one worker; no log server on all interfaces."""
    if service == "api-server":
        return [service, "--host", HOST, "--port", str(port), "--workers", "1"]
    if service == "scheduler":
        return [service, "--skip-serve-logs"]
    return [service]


def launch(home: Path, env: dict[str, str], port: int, procs: list[subprocess.Popen]) -> None:
    """Start the services in one new process group, into procs as they start (so a failure stops them)."""
    logs = home / "logs" / "fcr-airflow"
    for service in SERVICES:
        with open(logs / f"{service}.log", "ab") as out:
            procs.append(
                subprocess.Popen(
                    airflow_command(*_service_args(service, port)),
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    process_group=procs[0].pid if procs else 0,
                )
            )


def _is_airflow(cmdline: Sequence[str]) -> bool:
    """Whether a command line is Airflow's (services, workers, task runners), not a shell or an editor."""
    words = [Path(word).name for word in cmdline[:3]]
    joined = " ".join(cmdline)
    return "airflow" in words or joined.startswith("airflow ") or " -m airflow" in f" {joined}"


def _runs_on_home(proc: psutil.Process, home: Path) -> bool:
    """An Airflow process started with this AIRFLOW_HOME (a shell that merely exports it is spared)."""
    try:
        return proc.environ().get("AIRFLOW_HOME") == str(home) and _is_airflow(proc.cmdline())
    except psutil.Error:
        return False


def leftovers(home: Path, group: int | None, roots: Sequence[int] = ()) -> list[psutil.Process]:
    """Every running process of this Airflow: the group, the services' descendants, and Airflow on home."""
    spare = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    found: dict[int, psutil.Process] = {}
    for root in roots:
        try:
            parent = psutil.Process(root)
            found.update({p.pid: p for p in (parent, *parent.children(recursive=True))})
        except psutil.Error:
            pass
    for proc in psutil.process_iter():
        try:
            in_group = group is not None and os.getpgid(proc.pid) == group
        except OSError:
            continue
        if in_group or _runs_on_home(proc, home):
            found[proc.pid] = proc
    return [p for pid, p in found.items() if pid not in spare and _alive(pid)]


def terminate(home: Path, group: int | None, roots: Sequence[int] = (), timeout: float = STOP_TIMEOUT) -> int:
    """SIGTERM everything this Airflow runs, SIGKILL what survives `timeout`; return how many were killed."""
    procs = leftovers(home, group, roots)
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    killed = 0
    for _ in range(5):
        survivors = {p.pid: p for p in alive if _alive(p.pid)}
        survivors.update({p.pid: p for p in leftovers(home, group, roots)})
        if not survivors:
            break
        for proc in survivors.values():
            try:
                proc.kill()
                killed += 1
            except psutil.Error:
                pass
        _, alive = psutil.wait_procs(list(survivors.values()), timeout=5)
    return killed


def start(home: Path, port: int, stop_timeout: float) -> int:
    """Run Airflow in the foreground until stopped or until a service dies; then stop everything."""
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    state = read_state(home)
    if state and _alive(state["supervisor"]):
        print(f"already running on {home} (pid {state['supervisor']}): stop it first", file=sys.stderr)
        return 1
    if not _port_free(port):
        print(f"port {port} on {HOST} is in use: pass --port", file=sys.stderr)
        return 1
    env = {**os.environ, **airflow_env(home, port)}
    os.environ.update(airflow_env(home, port))
    (home / "logs" / "fcr-airflow").mkdir(parents=True, exist_ok=True)
    with open(home / "logs" / "fcr-airflow" / "setup.log", "w") as log:
        try:
            prepare(home, env, log)
        except subprocess.CalledProcessError as exc:
            print(f"setup failed ({shlex.join(exc.cmd)}): see {log.name}", file=sys.stderr)
            return 1

    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopping.set())
    procs: list[subprocess.Popen] = []
    status, ready_by, ready = 0, time.monotonic() + READY_TIMEOUT, False
    try:
        launch(home, env, port, procs)
        group = procs[0].pid
        _state_path(home).write_text(json.dumps({"supervisor": os.getpid(), "group": group, "port": port}))
        print(f"airflow {', '.join(SERVICES)} starting on {home} (process group {group})", flush=True)
        while not stopping.wait(1.0):
            dead = [
                (name, p.returncode) for name, p in zip(SERVICES, procs, strict=True) if p.poll() is not None
            ]
            if dead:
                print(f"stopping: airflow {dead[0][0]} exited with {dead[0][1]}", file=sys.stderr, flush=True)
                status = 1
                break
            if not ready and healthy(port):
                ready = True
                print(
                    f"ready: http://{HOST}:{port} (user admin, password in "
                    f"{home / 'simple_auth_manager_passwords.json.generated'})",
                    flush=True,
                )
            elif not ready and time.monotonic() > ready_by:
                print(f"stopping: no answer from {HEALTH_PATH} in {READY_TIMEOUT:.0f} s", file=sys.stderr)
                status = 1
                break
    finally:
        killed = terminate(home, procs[0].pid if procs else None, [p.pid for p in procs], stop_timeout)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
        _state_path(home).unlink(missing_ok=True)
        print(f"stopped: nothing left running ({killed} process(es) needed SIGKILL)", flush=True)
    return status


def stop(home: Path, stop_timeout: float) -> int:
    """Ask the supervisor to stop, then stop whatever it left (or what a killed supervisor left)."""
    home = home.resolve()
    state = read_state(home) or {}
    supervisor = state.get("supervisor")
    if supervisor and _alive(supervisor):
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + stop_timeout + 30
        while _alive(supervisor) and time.monotonic() < deadline:
            time.sleep(0.2)
    killed = terminate(home, state.get("group"), timeout=stop_timeout)
    _state_path(home).unlink(missing_ok=True)
    print(f"stopped Airflow on {home}" + (f" ({killed} process(es) needed SIGKILL)" if killed else ""))
    return 0


def print_env(home: Path, port: int | None) -> int:
    """Shell exports so `airflow ...` commands use the same home, database and DAGs as the services."""
    home = home.resolve()
    port = port or (read_state(home) or {}).get("port", DEFAULT_PORT)
    for name, value in airflow_env(home, port).items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: start, stop, env."""
    parser = argparse.ArgumentParser(prog="python -m fcr.airflow_local", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "stop", "env"))
    parser.add_argument(
        "--home", type=Path, default=DEFAULT_HOME, help="AIRFLOW_HOME (default: airflow_home/)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help=f"API server port on {HOST} (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--stop-timeout", type=float, default=STOP_TIMEOUT, help="seconds between SIGTERM and SIGKILL"
    )
    args = parser.parse_args(argv)
    if args.command == "start":
        return start(args.home, args.port or DEFAULT_PORT, args.stop_timeout)
    if args.command == "stop":
        return stop(args.home, args.stop_timeout)
    return print_env(args.home, args.port)


if __name__ == "__main__":
    sys.exit(main())

"""Run a benchmark step in its own process and report wall time and peak memory."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def measure(module: str, *args: str) -> dict:
    """Run `python -m module args` in a child process; return its JSON result plus time, CPU and peak RSS.

    The child's progress and errors go straight to stderr, so a long step shows where it is.
    """
    start, cpu = time.perf_counter(), _children_cpu()
    out = subprocess.run(
        [sys.executable, "-m", module, *args], check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    seconds = time.perf_counter() - start
    result = json.loads(out.strip().splitlines()[-1])
    result.setdefault("seconds", round(seconds, 2))
    result["cpu_seconds"] = round(_children_cpu() - cpu, 2)  # every thread of the child, user + system
    return result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> int:
    """This process's own peak resident memory (VmHWM).

    Not getrusage: Linux carries the parent's peak into ru_maxrss across fork and exec, so a child
    of a parent that held a large table would report the parent's figure.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def finish(payload: dict) -> None:
    """Print the child's result as the last line, with its own peak memory."""
    payload["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(payload))

"""Link a run's contacts shard by shard: customers split by a hash, each shard linked by a process of its own.

Linking is independent per customer and per anonymous interaction (SPEC section 3), so the cases of
all shards together are exactly those of one unsharded run. The run's writer exports each shard's
contacts as Parquet under the run's shard directory (`export_shards`); a shard process, on this
machine or on a worker that shares the directory, links them with the unsharded models into a
DuckDB file of its own (`link_shard`); the writer reads every shard's tables back into its delta
tables (`collect_shards`) and goes on exactly as an unsharded run does.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from fcr import db, sqlfiles, tables
from fcr.config import Config, build_config
from fcr.transform import incremental
from fcr.transform.link import link_delta, link_sensitivity_delta, linking_params

# what a shard builds and the run reads back: every table later steps read of the linking
SHARD_OUTPUTS = (
    tables.DELTA_CONTACTS,
    tables.DELTA_CASE_CONTACTS,
    tables.DELTA_CASES,
    tables.DELTA_SENSITIVITY_CASES,
)


# DuckDB's share of a shard process's memory_limit; the rest is the process's own (Python, Arrow),
# so the whole shard process stays within the limit (measured at 10M: about 250 MB beyond DuckDB's)
SHARD_DUCKDB_SHARE = 0.8


def shard_memory_limit(limit: str) -> str:
    """The DuckDB memory_limit of a shard process whose whole memory must stay within `limit`."""
    number, unit = re.fullmatch(r"\s*([\d.]+)\s*(\S*)\s*", limit).groups()
    return f"{float(number) * SHARD_DUCKDB_SHARE:.4g}{unit}"


class ShardFailed(RuntimeError):
    """A shard process could not link its contacts: nothing is merged, so nothing is published."""

    permanent = False  # a worker that ran out of memory or lost its disk can do it on a retry


def store_dir(config: Config, db_path: Path) -> Path:
    """Where a database's runs exchange contacts and cases with their shards."""
    return config.shard_dir or db_path.with_name(f"{db_path.stem}_shards")


def input_dir(directory: Path, shard: int) -> Path:
    """The folder of one shard's contacts (Parquet) in a run's shard directory."""
    return directory / "input" / f"shard={shard}"


def output_path(directory: Path, shard: int) -> Path:
    """The DuckDB file one shard links its contacts into."""
    return directory / f"shard-{shard:03d}.duckdb"


def export_shards(con: duckdb.DuckDBPyConnection, directory: Path, shards: int, params: dict) -> list[int]:
    """Write the scope's contacts as Parquet, one folder per shard; return the shards that got any.

    Earlier runs' leftovers in the store are removed first: runs on one database never overlap.
    """
    if directory.parent.exists():
        for leftover in directory.parent.iterdir():
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    directory.mkdir(parents=True)
    sql = sqlfiles.read_sql("intermediate/int_shard_contacts")
    bound = sqlfiles.bind(sql, {**params, "shards": shards})
    con.execute(
        f"copy ({sql}) to $path (format parquet, partition_by (shard))",
        {**bound, "path": str(directory / "input")},
    )
    return sorted(int(folder.name.split("=", 1)[1]) for folder in (directory / "input").glob("shard=*"))


@dataclass(frozen=True)
class ShardJob:
    """What one shard process needs, as plain values: it can cross to another process or worker."""

    directory: str
    shard: int
    shards: int
    config: dict[str, Any]  # fcr.run.config_json of the run's config
    watermark: str  # ISO
    threads: int = 0  # DuckDB threads of the shard's connection (0: DuckDB's default)


def link_shard(job: ShardJob) -> dict[str, Any]:
    """Link one shard's contacts with the unsharded models into the shard's DuckDB file.

    Returns what it did: the shard, its contacts, case_contacts and cases, seconds and the
    process's peak memory (a shard runs in a process of its own, so that is the shard's).
    """
    clock = time.perf_counter()
    config = build_config(job.config, f"(shard {job.shard} of {job.shards})")
    directory = Path(job.directory)
    # built under another name and renamed once complete: the run reads only finished shards
    target = output_path(directory, job.shard)
    building = target.with_name(f"{target.stem}.building.duckdb")
    for stale in (building, building.with_name(f"{building.name}.wal")):  # a retried shard starts again
        stale.unlink(missing_ok=True)
    watermark = datetime.fromisoformat(job.watermark)
    # the shard's input is the run's scope already, so the shard links all of it
    params = {**linking_params(config, watermark), "full": True, "previous_watermark": watermark}
    con = db.connect(building, memory_limit=shard_memory_limit(config.memory_limit))
    try:
        if job.threads:
            con.execute(f"set threads = {int(job.threads)}")
        files = str(input_dir(directory, job.shard) / "*.parquet")
        con.execute(f"create table {tables.CONTACTS} as from read_parquet($files)", {"files": files})
        incremental.prepare(con, incremental.Scope(True, None, "a shard links all of its contacts"), params)
        counts = link_delta(con, config, params)
        link_sensitivity_delta(con, config, params)
        con.execute("checkpoint")
    finally:
        con.close()
    building.replace(target)
    seconds = round(time.perf_counter() - clock, 2)
    return {"shard": job.shard, **counts, "seconds": seconds, "peak_rss_mb": peak_rss_mb()}


def peak_rss_mb() -> int | None:
    """This process's peak resident memory in MB (Linux; None elsewhere)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    return None


def link_shards(jobs: list[ShardJob], workers: int, progress: Callable[[str], None]) -> list[dict[str, Any]]:
    """Run the shard jobs, up to `workers` processes at once; raise ShardFailed naming the first to fail.

    Each shard gets a fresh process, spawned rather than forked (a fork would copy the run's open
    DuckDB connection and its threads), that ends with the shard and gives its memory back.
    """
    context = multiprocessing.get_context("spawn")
    linked = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=1) as pool:
        futures = {pool.submit(link_shard, job): job for job in jobs}
        for done, future in enumerate(as_completed(futures), 1):
            job = futures[future]
            try:
                figures = future.result()
            except Exception as exc:
                for other in futures:
                    other.cancel()
                where = input_dir(Path(job.directory), job.shard)
                first_line = (str(exc) or type(exc).__name__).splitlines()[0]
                raise ShardFailed(
                    f"shard {job.shard} of {job.shards} failed: {first_line} (its contacts are in {where}; "
                    "the run published nothing: fix the cause and run again)"
                ) from exc
            linked.append(figures)
            progress(
                f"shard {job.shard} linked: {figures['contacts']:,} contacts into {figures['cases']:,} cases "
                f"in {figures['seconds']:.1f} s, peak memory {figures['peak_rss_mb'] or 0:,} MB "
                f"({done} of {len(jobs)})"
            )
    return sorted(linked, key=lambda figures: figures["shard"])


def collect_shards(con: duckdb.DuckDBPyConnection, directory: Path, shards: list[int]) -> dict[str, int]:
    """Read every shard's tables back into the run's delta tables, as if linked here; return their counts."""
    aliases = [f"shard_{shard}" for shard in shards]
    for shard, alias in zip(shards, aliases, strict=True):
        con.execute(f"attach $path as {alias} (read_only)", {"path": str(output_path(directory, shard))})
    try:
        for table in SHARD_OUTPUTS:
            union = " union all by name ".join(f"select * from {alias}.{table}" for alias in aliases)
            con.execute(f"{tables.create_table(table)} as {union}")
    finally:
        for alias in aliases:
            con.execute(f"detach {alias}")
    names = {
        "contacts": tables.DELTA_CONTACTS,
        "case_contacts": tables.DELTA_CASE_CONTACTS,
        "cases": tables.DELTA_CASES,
    }
    return {key: con.execute(f"select count(*) from {table}").fetchone()[0] for key, table in names.items()}


def link_pending(
    config: Config,
    directory: Path,
    pending: list[int],
    job_config: dict[str, Any],
    watermark: datetime,
    progress: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Link the split's shards that no scheduler task linked yet, as many at once as there are cores."""
    missing = [shard for shard in pending if not output_path(directory, shard).exists()]
    if not missing:
        return []
    cores = os.cpu_count() or 1
    workers = min(len(missing), cores)
    threads = max(1, cores // workers)
    jobs = [
        ShardJob(str(directory), shard, config.shards, job_config, watermark.isoformat(), threads)
        for shard in missing
    ]
    progress(f"linking {len(missing)} of {config.shards} shards, {workers} at a time")
    return link_shards(jobs, workers, progress)


def remove(directory: Path) -> None:
    """Delete a linked run's shard directory, and the store with it once no run has one there."""
    shutil.rmtree(directory, ignore_errors=True)
    with contextlib.suppress(OSError):
        directory.parent.rmdir()

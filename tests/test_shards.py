"""Sharded linking: any number of shards publishes exactly what one unsharded run publishes."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fcr.config import build_config
from fcr.generate import SampleSpec, generate_sample, write_table
from fcr.run import run
from fcr.transform import shards
from tests.conftest import property_settings, write_contacts
from tests.test_incremental import batches, snapshot

SETTINGS = {"sensitivity": {"windows": ["24h", "7d"]}}


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory) -> tuple[Path, Path]:
    """A generated log in two deliveries: the first 2,400 contacts, then the later ones."""
    folder = tmp_path_factory.mktemp("sample")
    contacts = generate_sample(SampleSpec(contacts=3000, seed=5, days=40)).contacts.sort_by("started_at")
    write_table(contacts.slice(0, 2400), folder / "first.csv")
    write_table(contacts.slice(2400), folder / "second.csv")
    return folder / "first.csv", folder / "second.csv"


def _config(shard_count: int, **extra):
    return build_config({**SETTINGS, "shards": shard_count, **extra})


@pytest.mark.parametrize("shard_count", [1, 2, 7])
def test_a_sharded_full_run_publishes_what_an_unsharded_run_does(
    tmp_path: Path, sample_files, shard_count: int
):
    first, _ = sample_files
    run([str(first)], tmp_path / "one.duckdb", build_config(SETTINGS))
    result = run([str(first)], tmp_path / "sharded.duckdb", _config(shard_count))
    assert snapshot(tmp_path / "sharded.duckdb") == snapshot(tmp_path / "one.duckdb")
    assert result.counts["cases"] > 1000
    # the run's shard folders are gone once their cases are read back
    assert not (tmp_path / "sharded_shards").exists()


def test_an_incremental_sharded_day_links_only_the_shards_its_customers_fall_in(tmp_path: Path, sample_files):
    first, second = sample_files
    config = _config(7)
    run([str(first)], tmp_path / "sharded.duckdb", config)
    day = run([str(second)], tmp_path / "sharded.duckdb", config)
    run([str(first), str(second)], tmp_path / "one.duckdb", build_config(SETTINGS))
    assert snapshot(tmp_path / "sharded.duckdb") == snapshot(tmp_path / "one.duckdb")
    assert day.counts["full"] == 0

    # one customer's new contact: only that customer's shard is linked
    late = write_contacts(
        tmp_path / "one_more.csv",
        [
            {
                "contact_id": "extra-1",
                "customer_id": "CU000001",
                "channel": "phone",
                "started_at": "2026-11-14T10:00:00",
            }
        ],
    )
    more = run([str(late)], tmp_path / "sharded.duckdb", config)
    assert more.counts["shards_linked"] == 1
    run([str(late)], tmp_path / "one.duckdb", build_config(SETTINGS))
    assert snapshot(tmp_path / "sharded.duckdb") == snapshot(tmp_path / "one.duckdb")


@pytest.mark.slow
@property_settings(3)
@given(files=batches(), shard_count=st.sampled_from([2, 7]))
def test_sharded_incremental_runs_equal_one_unsharded_full_run(tmp_path_factory, files, shard_count):
    assume(files)
    folder = tmp_path_factory.mktemp("shards")
    paths = [str(write_contacts(folder / f"day{i:02d}.csv", rows)) for i, rows in enumerate(files)]
    for path in paths:
        run([path], folder / "sharded.duckdb", _config(shard_count))
    run(paths, folder / "one.duckdb", build_config(SETTINGS))
    assert snapshot(folder / "sharded.duckdb") == snapshot(folder / "one.duckdb")


def test_a_failing_shard_fails_the_run_naming_the_shard_and_publishes_nothing(
    tmp_path: Path, sample_files, monkeypatch
):
    first, second = sample_files
    config = _config(2)
    run([str(first)], tmp_path / "sharded.duckdb", config)
    before = snapshot(tmp_path / "sharded.duckdb")
    export = shards.export_shards

    def export_and_lose_one(con, directory, shard_count, params):
        pending = export(con, directory, shard_count, params)
        for parquet in shards.input_dir(directory, pending[0]).glob("*.parquet"):
            parquet.write_bytes(b"not parquet")  # as a worker would find a file cut short
        return pending

    monkeypatch.setattr(shards, "export_shards", export_and_lose_one)
    with pytest.raises(shards.ShardFailed, match=r"shard \d of 2 failed: .*its contacts are in"):
        run([str(second)], tmp_path / "sharded.duckdb", config)
    assert snapshot(tmp_path / "sharded.duckdb") == before
    con = duckdb.connect(str(tmp_path / "sharded.duckdb"), read_only=True)
    try:
        status, message = con.execute(
            "select status, message from published.pipeline_runs order by started_at desc limit 1"
        ).fetchone()
    finally:
        con.close()
    assert status == "failed" and "of 2 failed" in message


def test_shard_count_is_validated_at_the_edge():
    with pytest.raises(ValueError, match="shards"):
        build_config({"shards": 0})


def test_the_cli_takes_the_shard_count_and_reports_each_shard(tmp_path: Path, sample_files):
    from typer.testing import CliRunner

    from fcr.cli import app

    first, _ = sample_files
    args = ["run", "--contacts", str(first), "--db", str(tmp_path / "cli.duckdb"), "--shards", "3"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "linking 3 of 3 shards" in result.output
    assert result.output.count(" linked: ") == 3
    refused = CliRunner().invoke(app, [*args[:-1], "0"])
    assert refused.exit_code != 0 and "--shards" in refused.output


@pytest.mark.parametrize("limit", ["2GB", "512MB", "4GiB", "1.5 GB", "50%"])
def test_a_shard_leaves_room_within_its_memory_limit_for_the_process_beside_duckdb(limit: str):
    def parts(value: str) -> tuple[float, str]:
        number, unit = re.fullmatch(r"\s*([\d.]+)\s*(\S*)\s*", value).groups()
        return float(number), unit

    shard = shards.shard_memory_limit(limit)
    (number, unit), (shard_number, shard_unit) = parts(limit), parts(shard)
    assert shard_unit == unit and 0.75 * number <= shard_number < number
    with duckdb.connect() as con:  # DuckDB takes it as a memory_limit
        con.execute("set memory_limit = $limit", {"limit": shard})

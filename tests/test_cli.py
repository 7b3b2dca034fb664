"""The README's commands as a user runs them: demo, generate, run, config errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import fcr.run
from fcr.cli import app
from fcr.config import ConfigError, load_config, parse_duration
from tests.conftest import write_contacts

runner = CliRunner()


@pytest.mark.slow
def test_demo_runs_end_to_end_and_prints_the_summary(tmp_path: Path):
    result = runner.invoke(app, ["demo", "--contacts", "3000", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "FCR overall" in result.output
    assert "By channel of first contact" in result.output
    assert "rows quarantined" in result.output
    assert "provisional" in result.output
    assert str((tmp_path / "fcr.duckdb").resolve()) in result.output.replace("\n", "")
    con = duckdb.connect(str(tmp_path / "fcr.duckdb"), read_only=True)
    channels = {r[0] for r in con.execute("select distinct channel from raw.contacts").fetchall()}
    reasons = con.execute("select count(distinct reason) from raw.contacts").fetchone()[0]
    quarantined = con.execute("select count(*) from raw.quarantine").fetchone()[0]
    cases, contacts = con.execute("select count(*), sum(contact_count) from published.cases").fetchone()
    con.close()
    assert {"phone", "bot", "ivr", "email", "chat"} <= channels and "other" not in channels
    assert reasons >= 20
    assert quarantined > 0
    assert contacts > cases  # the sample has repeat contacts


def test_generate_writes_the_requested_size_deterministically(tmp_path: Path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (a, b):
        result = runner.invoke(app, ["generate", "--contacts", "2000", "--out", str(path), "--seed", "3"])
        assert result.exit_code == 0, result.output
    assert a.read_bytes() == b.read_bytes()
    con = duckdb.connect()
    rows, ids = con.execute(f"select count(*), count(distinct contact_id) from '{a}'").fetchone()
    assert 2000 <= rows <= 2200  # plus transfer legs, bad rows and a re-delivery
    assert ids < rows


def test_run_with_config_and_as_of(tmp_path: Path):
    data = tmp_path / "export.csv"
    data.write_text(
        "Ticket;Who;Via;Opened\n"
        "T1;K1;Voice;01/03/2026 09:00:00\n"
        "T2;K1;Voice;02/03/2026 09:00:00\n"
        "T3;K2;Mail;02/03/2026 10:00:00\n"
    )
    config = tmp_path / "fcr.toml"
    config.write_text(
        'timestamp_formats = ["%d/%m/%Y %H:%M:%S"]\n'
        "[columns]\ncontact_id = 'Ticket'\ncustomer_id = 'Who'\nchannel = 'Via'\nstarted_at = 'Opened'\n"
        "[csv]\ndelimiter = ';'\n"
    )
    db = tmp_path / "out.duckdb"
    result = runner.invoke(
        app,
        [
            "run",
            "--contacts",
            str(data),
            "--db",
            str(db),
            "--config",
            str(config),
            "--as-of",
            "2026-04-01T00:00:00+00:00",
        ],
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute(
        "select cases, mature_cases, cases_1, cases_2 from published.metrics "
        "where grain = 'month' and dimension = 'all'"
    ).fetchone()
    con.close()
    assert row == (2, 2, 1, 1)


def test_invalid_config_names_the_key(tmp_path: Path):
    config = tmp_path / "bad.toml"
    config.write_text("[linking]\nrepeat_window = 'a week'\nmatch_on = 'mood'\n")
    with pytest.raises(ConfigError) as excinfo:
        load_config(config)
    assert "linking.repeat_window" in str(excinfo.value)
    assert "linking.match_on" in str(excinfo.value)
    result = runner.invoke(
        app, ["run", "--contacts", "x.csv", "--db", str(tmp_path / "d.duckdb"), "--config", str(config)]
    )
    assert result.exit_code == 1
    assert "linking.repeat_window" in result.output


def test_unknown_config_key_and_zone_are_rejected():
    from fcr.config import build_config

    with pytest.raises(ConfigError, match="repeat_windw"):
        build_config({"linking": {"repeat_windw": "7d"}})
    with pytest.raises(ConfigError, match="business_timezone"):
        build_config({"business_timezone": "Mars/Olympus"})
    with pytest.raises(ConfigError, match="channels"):
        build_config({"channels": {"fax": "telefax"}})


@pytest.mark.parametrize(
    ("data", "suggestion"),
    [
        ({"linking": {"repeat_windw": "7d"}}, "repeat_window"),
        ({"timestamp_format": ["%d/%m/%Y"]}, "timestamp_formats"),
        ({"csv": {"delimeter": ";"}}, "delimiter"),
        ({"dedupe": {"order_by": "n", "ordr_type": "number"}}, "order_type"),
        ({"columns": {"reason": {"source": "type", "allowed": ["PS"]}}}, "allowed_values"),
        ({"exclude": [{"column": "outcome", "equal": "X"}]}, "equals"),
    ],
)
def test_a_mistyped_key_gets_the_closest_key_of_its_table(data, suggestion):
    from fcr.config import build_config

    with pytest.raises(ConfigError, match=f"did you mean '{suggestion}'\\?"):
        build_config(data)


def test_defaults_follow_the_spec():
    config = load_config(None)
    assert config.linking.repeat_window == parse_duration("7d")
    assert (config.linking.window_mode, config.linking.match_on, config.linking.link_by) == (
        "rolling",
        "reason",
        "window",
    )
    assert config.linking.count_self_service is True
    assert config.linking.transfer_gap is None
    assert config.max_quarantine_share == 0.01


@pytest.mark.parametrize(
    ("text", "seconds"), [("24h", 86400), ("3d", 259200), ("15m", 900), ("30s", 30), ("1w", 604800)]
)
def test_durations(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


def test_a_bare_number_for_a_duration_is_refused_with_the_fix(tmp_path: Path):
    config = tmp_path / "fcr.toml"
    config.write_text("[linking]\nrepeat_window = 7\n")
    with pytest.raises(ConfigError, match=r"linking.repeat_window: .*7 has no unit.*'7d' \(days\)"):
        load_config(config)


def test_a_window_under_an_hour_or_over_400_days_needs_confirming():
    from fcr.config import build_config

    for linking, sensitivity in ((["30m"], ["7d"]), (["7d"], ["500d"])):
        with pytest.raises(ConfigError, match="allow_unusual_windows = true"):
            build_config({"linking": {"repeat_window": linking[0]}, "sensitivity": {"windows": sensitivity}})
    confirmed = build_config({"linking": {"repeat_window": "30m", "allow_unusual_windows": True}})
    assert confirmed.linking.repeat_window.total_seconds() == 1800


def test_bad_file_exits_non_zero_naming_it(tmp_path: Path):
    bad = tmp_path / "garbage.parquet"
    bad.write_bytes(b"nope")
    result = runner.invoke(app, ["run", "--contacts", str(bad), "--db", str(tmp_path / "d.duckdb")])
    assert result.exit_code == 1
    assert "garbage.parquet" in result.output


def _contacts(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text("contact_id,customer_id,channel,started_at\nT1,K1,phone,2026-03-02 09:00:00\n")
    return path


def test_a_corrupt_database_file_gets_one_sentence_not_a_traceback(tmp_path: Path):
    db = tmp_path / "fcr.duckdb"
    db.write_bytes(b"not a database" * 1000)
    result = runner.invoke(app, ["run", "--contacts", str(_contacts(tmp_path)), "--db", str(db)])
    assert result.exit_code == 1
    assert "is not a readable DuckDB database" in result.output and "Move it aside" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_database_another_process_writes_gets_one_sentence_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import subprocess
    import sys

    monkeypatch.setattr(fcr.run, "LOCK_WAIT_SECONDS", 0.3)  # the wait has its own tests

    db = tmp_path / "fcr.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('ok'); "
            "sys.stdout.flush(); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        result = runner.invoke(app, ["run", "--contacts", str(_contacts(tmp_path)), "--db", str(db)])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "is open for writing in another process" in result.output
    assert f"PID {holder.pid}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_invalid_memory_limit_is_a_config_error_naming_the_key(tmp_path: Path):
    config = tmp_path / "fcr.toml"
    config.write_text('memory_limit = "lots"\n')
    result = runner.invoke(
        app,
        [
            "run",
            "--contacts",
            str(_contacts(tmp_path)),
            "--db",
            str(tmp_path / "f.duckdb"),
            "--config",
            str(config),
        ],
    )
    assert result.exit_code == 1
    assert "memory_limit" in result.output and "'2GB'" in result.output


def test_a_full_disk_is_explained_and_left_to_a_retry():
    import errno

    from fcr import db
    from fcr.run import is_permanent

    for raw in (
        OSError(errno.ENOSPC, "No space left on device"),
        duckdb.IOException("IO Error: No space left on device"),
    ):
        clear = db.explain(raw, "fcr.duckdb")
        assert isinstance(clear, db.DiskFull) and "free disk space" in str(clear)
        assert not is_permanent(clear)


def test_which_errors_a_retry_cannot_fix():
    from fcr import db, lease
    from fcr.load.read import FileLoadError
    from fcr.run import AsOfRejected, is_permanent

    assert is_permanent(db.DatabaseError("corrupt"))
    assert is_permanent(FileLoadError("unparseable"))
    assert is_permanent(ConfigError("bad key"))
    assert is_permanent(AsOfRejected("2062"))
    assert not is_permanent(db.DatabaseLocked("busy file"))
    assert not is_permanent(lease.DatabaseBusy("busy run"))
    assert not is_permanent(RuntimeError("something transient"))


def test_the_summary_accounts_for_every_row_read_and_the_legs_collapsed(tmp_path: Path):
    data = tmp_path / "export.csv"
    data.write_text(
        "contact_id,customer_id,channel,started_at,interaction_id,team\n"
        "a,K1,phone,2026-03-02 09:00:00,I1,\n"
        "b,K1,phone,2026-03-02 09:05:00,I1,\n"  # a second leg of a's call
        "c,K2,phone,2026-03-02 10:00:00,,\n"
        "d,K3,phone,,,\n"  # quarantined: missing_started_at
        "e,K4,phone,2026-03-02 11:00:00,,TEST\n"  # left out by the filter
        "c,K2,phone,2026-03-02 10:30:00,,\n"  # c again: replaces the line above
    )
    config = tmp_path / "fcr.toml"
    config.write_text('max_quarantine_share = 1.0\n[[exclude]]\ncolumn = "team"\nequals = "TEST"\n')
    args = ["run", "--contacts", str(data), "--db", str(tmp_path / "fcr.duckdb"), "--config", str(config)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert (
        "rows read 6 = contacts loaded 3 + rows quarantined 1 (missing_started_at: 1) "
        "+ excluded by filters 1 + replaced by a later delivery 1"
    ) in output
    assert "contacts up to the watermark 3 - legs collapsed 1 = contacts after legs collapse 2;" in output


def test_the_summary_of_a_run_on_files_loaded_before_says_they_were_skipped(tmp_path: Path):
    args = ["run", "--contacts", str(_contacts(tmp_path)), "--db", str(tmp_path / "fcr.duckdb")]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "rows read 0: 1 file(s) skipped as already loaded" in " ".join(result.output.split())


def test_an_unquoted_glob_the_shell_expanded_is_read_as_several_contact_files(tmp_path: Path):
    days = [tmp_path / day / "contacts.csv" for day in ("2026-03-02", "2026-03-03")]
    for n, path in enumerate(days):
        contact = {"contact_id": f"T{n}", "customer_id": "K1", "channel": "phone"}
        write_contacts(path, [{**contact, "started_at": f"{path.parent.name} 09:00:00"}])
    args = ["run", "--contacts", *map(str, days), "--db", str(tmp_path / "fcr.duckdb")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "rows read 2 = contacts loaded 2 " in result.stdout


def test_piped_output_never_breaks_a_summary_line(tmp_path: Path):
    db = tmp_path / ("a-long-folder-name-" * 4) / "fcr.duckdb"
    db.parent.mkdir()
    args = ["run", "--contacts", str(_contacts(tmp_path)), "--db", str(db)]
    result = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        "rows read 1 = contacts loaded 1 + rows quarantined 0 + excluded by filters 0 "
        "+ replaced by a later delivery 0"
    ) in lines
    assert any(
        line.startswith(f"database: {db.resolve()}  (tables: ") and line.endswith(")") for line in lines
    )

"""Loading: quarantine rules with file and line, unparseable files, the threshold, idempotent re-loads."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fcr.config import build_config
from fcr.load.contacts import QuarantineThresholdError
from fcr.load.read import FileLoadError
from fcr.run import run
from tests.conftest import write_contacts

GOOD = {"customer_id": "K1", "channel": "phone", "started_at": "2026-01-01 09:00:00"}
LENIENT = {"max_quarantine_share": 1.0}


def good_rows(n: int) -> list[dict]:
    return [
        {**GOOD, "contact_id": f"g{i}", "started_at": f"2026-01-{1 + i % 28:02d} 09:00:00"} for i in range(n)
    ]


@pytest.mark.parametrize(
    ("bad", "rule", "config"),
    [
        ({"contact_id": ""}, "missing_contact_id", {}),
        ({"started_at": ""}, "missing_started_at", {}),
        ({"started_at": "yesterday-ish"}, "unparseable_started_at", {}),
        ({"ended_at": "31/31/2026 99:00"}, "unparseable_ended_at", {}),
        ({"started_at": "294247-01-10 00:00:00"}, "implausible_started_at", {}),
        (
            {"started_at": "294247-01-10 00:00:00"},
            "implausible_started_at",
            {"source_timezone": "America/New_York"},
        ),
        ({"ended_at": "10000-01-01 00:00:00"}, "implausible_ended_at", {}),
        ({"channel": "carrier pigeon"}, "unknown_channel", {"unknown_channel": "quarantine"}),
        ({"direction": "sideways"}, "unknown_direction", {}),
        ({"ended_at": "2026-01-01 08:59:59"}, "ended_before_started", {}),
        ({"handle_seconds": "-5"}, "negative_duration", {}),
        ({"wait_seconds": "-1"}, "negative_duration", {}),
        ({"hold_seconds": "ten"}, "unparseable_number", {}),
        ({"survey_ces": "9"}, "survey_out_of_range", {}),
        ({"survey_resolved": "maybe"}, "unparseable_flag", {}),
    ],
)
def test_each_rule_quarantines_the_row_with_file_and_line(tmp_path: Path, bad, rule, config):
    header = (
        *GOOD,
        "contact_id",
        "ended_at",
        "direction",
        "handle_seconds",
        "wait_seconds",
        "hold_seconds",
        "survey_ces",
        "survey_resolved",
    )
    rows = [*good_rows(3), {**GOOD, "contact_id": "bad", **bad}, *good_rows(2)]
    path = write_contacts(tmp_path / "in.csv", rows, header)
    result = run([str(path)], tmp_path / "db.duckdb", build_config({**LENIENT, **config}))
    assert result.load.quarantine_by_rule == {rule: 1}
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    row = con.execute("select source_file, source_line, rule from raw.quarantine").fetchone()
    assert row == (str(path.resolve()), 5, rule)  # header is line 1, the bad row the 4th row
    assert con.execute("select count(*) from raw.contacts").fetchone()[0] == 3  # g0..g2 (g0,g1 re-delivered)
    con.close()


def test_unknown_channel_maps_to_other_by_default(run_log):
    _, con = run_log([{**GOOD, "contact_id": "a", "channel": "Carrier Pigeon"}])
    assert con.execute("select channel from raw.contacts").fetchone()[0] == "other"


def test_channel_mapping_from_config_and_aliases(run_log):
    rows = [
        {**GOOD, "contact_id": "a", "channel": "Voice Call"},
        {**GOOD, "contact_id": "b", "channel": "WhatsApp"},
        {**GOOD, "contact_id": "c", "channel": " EMAIL "},
    ]
    _, con = run_log(rows, config={"channels": {"voice call": "phone"}})
    channels = dict(con.execute("select contact_id, channel from raw.contacts").fetchall())
    assert channels == {"a": "phone", "b": "messaging", "c": "email"}


def test_malformed_row_is_quarantined_with_its_line_and_later_lines_stay_right(tmp_path: Path):
    path = tmp_path / "in.csv"
    path.write_text(
        "contact_id,customer_id,channel,started_at\n"
        "a,K1,phone,2026-01-01 09:00:00\n"
        "b,K1,phone,2026-01-01 10:00:00,surplus\n"
        "c,K1,phone,2026-01-01 11:00:00\n"
        "d,K1,phone\n"
        "e,K1,phone,not a time\n"
    )
    run([str(path)], tmp_path / "db.duckdb", build_config(LENIENT))
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    rows = con.execute("select source_line, rule from raw.quarantine order by source_line").fetchall()
    assert rows == [(3, "malformed_row"), (5, "malformed_row"), (6, "unparseable_started_at")]
    lines = dict(con.execute("select contact_id, source_line from raw.contacts").fetchall())
    assert lines == {"a": 2, "c": 4}
    con.close()


def test_quarantine_lines_are_the_lines_an_editor_shows(tmp_path: Path):
    path = tmp_path / "in.csv"
    path.write_text(
        "contact_id,customer_id,channel,started_at,reason\n"
        "\n"
        'a,K1,phone,2026-01-01 09:00:00,"two\nlines"\n'  # lines 3 and 4
        "\n"
        "b,K1,phone\n"
        "c,K1,phone,not a time,x\n"
    )
    run([str(path)], tmp_path / "db.duckdb", build_config(LENIENT))
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    rows = con.execute("select source_line, rule from raw.quarantine order by source_line").fetchall()
    assert rows == [(6, "malformed_row"), (7, "unparseable_started_at")]
    assert con.execute("select contact_id, source_line from raw.contacts").fetchall() == [("a", 3)]
    con.close()


def test_a_secret_on_the_first_line_stays_out_of_the_error_and_the_run_log(tmp_path: Path):
    path = tmp_path / "env.csv"
    path.write_text("AWS_SECRET_ACCESS_KEY=abc123secret\nAWS_REGION=eu-west-1\n")
    with pytest.raises(FileLoadError, match="required column") as caught:
        run([str(path)], tmp_path / "db.duckdb", build_config({}))
    assert "abc123secret" not in str(caught.value)
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    message = con.execute("select message from published.pipeline_runs").fetchone()[0]
    assert "AWS_SECRET_ACCESS_KEY" in message and "abc123secret" not in message
    con.close()


def test_unparseable_file_fails_naming_the_file(tmp_path: Path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet")
    with pytest.raises(FileLoadError, match="broken.parquet.*cannot be parsed as parquet"):
        run([str(path)], tmp_path / "db.duckdb", build_config({}))


def test_missing_required_column_names_the_mapping(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text("id,who,how\n1,K,phone\n")
    with pytest.raises(FileLoadError, match=r"export.csv: required column\(s\) missing: contact_id"):
        run([str(path)], tmp_path / "db.duckdb", build_config({}))


def test_missing_file_and_empty_glob_are_clear(tmp_path: Path):
    with pytest.raises(FileLoadError, match="not found"):
        run([str(tmp_path / "nope.csv")], tmp_path / "db.duckdb", build_config({}))
    with pytest.raises(FileLoadError, match="no file matches"):
        run([str(tmp_path / "*.csv")], tmp_path / "db.duckdb", build_config({}))


def test_threshold_fails_the_run_and_publishes_nothing(tmp_path: Path):
    rows = [*good_rows(97), *[{**GOOD, "contact_id": f"x{i}", "started_at": "bad"} for i in range(3)]]
    path = write_contacts(tmp_path / "in.csv", rows)
    db_path = tmp_path / "db.duckdb"
    with pytest.raises(
        QuarantineThresholdError, match=r"3 of 100 rows \(3.00%\).*above max_quarantine_share"
    ):
        run([str(path)], db_path, build_config({}))
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("select count(*) from raw.quarantine").fetchone()[0] == 3
    published = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'published' "
        "and table_name = 'metrics'"
    ).fetchone()[0]
    assert published == 0
    status = con.execute("select status, rows_quarantined from published.pipeline_runs").fetchone()
    assert status == ("failed", 3)
    con.close()
    # at the threshold exactly, the run goes through
    run([str(path)], db_path, build_config({"max_quarantine_share": 0.03}))


def test_loading_the_same_file_twice_changes_nothing(tmp_path: Path):
    rows = [*good_rows(5), {**GOOD, "contact_id": "", "reason": "x"}]
    path = write_contacts(tmp_path / "in.csv", rows)
    db_path = tmp_path / "db.duckdb"
    config = build_config(LENIENT)
    run([str(path)], db_path, config)

    def snapshot():
        con = duckdb.connect(str(db_path), read_only=True)
        out = {
            t: con.execute(f"select * exclude (run_id) from {t} order by all").fetchall()
            if t == "raw.quarantine"
            else con.execute(f"select * from {t} order by all").fetchall()
            for t in ("raw.contacts", "raw.quarantine", "published.cases", "published.metrics")
        }
        con.close()
        return out

    first = snapshot()
    run([str(path)], db_path, config)
    assert snapshot() == first


def test_extra_columns_are_ignored_and_columns_can_be_renamed(tmp_path: Path):
    path = tmp_path / "zendesk.csv"
    path.write_text("Ticket,Requester,Via,Created,Notes\nT1,R1,Phone,2026-01-01 09:00:00,hello\n")
    config = build_config(
        {
            "columns": {
                "contact_id": "Ticket",
                "customer_id": "Requester",
                "channel": "Via",
                "started_at": "Created",
            }
        }
    )
    result = run([str(path)], tmp_path / "db.duckdb", config)
    assert result.load.contacts_delivered == 1


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_parquet_and_json_lines_load_with_row_numbers(tmp_path: Path, suffix: str):
    rows = [{**GOOD, "contact_id": "a"}, {**GOOD, "contact_id": "", "started_at": "2026-01-02 09:00:00"}]
    path = tmp_path / f"in{suffix}"
    if suffix == ".parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    run([str(path)], tmp_path / "db.duckdb", build_config(LENIENT))
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert con.execute("select source_line, rule from raw.quarantine").fetchall() == [
        (2, "missing_contact_id")
    ]
    assert con.execute("select contact_id, source_line from raw.contacts").fetchall() == [("a", 1)]
    con.close()


def test_glob_loads_every_matching_file_and_later_files_win(tmp_path: Path):
    write_contacts(tmp_path / "day1.csv", [{**GOOD, "contact_id": "a", "reason": "old"}])
    write_contacts(
        tmp_path / "day2.csv", [{**GOOD, "contact_id": "a", "reason": "new"}, {**GOOD, "contact_id": "b"}]
    )
    run([str(tmp_path / "day*.csv")], tmp_path / "db.duckdb", build_config({}))
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert con.execute("select contact_id, reason from raw.contacts order by 1").fetchall() == [
        ("a", "new"),
        ("b", "unknown"),
    ]
    con.close()


@pytest.mark.slow
def test_a_large_first_load_is_visible_to_the_rest_of_the_run(tmp_path: Path):
    # more rows than one DuckDB row group, loaded into a new database in one transaction
    path = tmp_path / "big.csv"
    con = duckdb.connect()
    con.execute(
        "copy (select 'c' || range as contact_id, 'K' || (range % 5000) as customer_id, 'phone' as channel, "
        "strftime(timestamp '2026-01-01' + to_seconds(range * 10), '%Y-%m-%d %H:%M:%S') as started_at "
        f"from range(130000)) to '{path}' (header)"
    )
    con.close()
    result = run([str(path)], tmp_path / "db.duckdb", build_config({}))
    assert result.watermark is not None and result.watermark.year == 2026
    assert result.counts["contacts"] == 130000


ACCOUNTED = (
    "rows_read",
    "contacts_delivered",
    "rows_quarantined",
    "rows_excluded",
    "rows_replaced",
)
# 6 rows: c twice (the later line wins), d breaks a rule, e is left out by a filter
SIX_ROWS = [
    {**GOOD, "contact_id": "a"},
    {**GOOD, "contact_id": "c", "reason": "first"},
    {**GOOD, "contact_id": "b", "started_at": "2026-01-02 09:00:00"},
    {**GOOD, "contact_id": "d", "started_at": ""},
    {**GOOD, "contact_id": "e", "team": "TEST"},
    {**GOOD, "contact_id": "c", "reason": "second"},
]
FILTERED = {**LENIENT, "exclude": [{"column": "team", "equals": "TEST"}]}


def accounted(load) -> tuple[int, ...]:
    return tuple(getattr(load, name) for name in ACCOUNTED)


def logged_accounting(db_path: Path) -> tuple[int, ...]:
    con = duckdb.connect(str(db_path), read_only=True)
    row = con.execute(
        "select rows_read, rows_loaded, rows_quarantined, rows_excluded, rows_replaced "
        "from published.pipeline_runs where status = 'published'"
    ).fetchone()
    con.close()
    return row


def test_every_row_read_is_loaded_quarantined_excluded_or_replaced(tmp_path: Path):
    path = write_contacts(tmp_path / "in.csv", SIX_ROWS)
    db_path = tmp_path / "db.duckdb"
    result = run([str(path)], db_path, build_config(FILTERED))
    assert accounted(result.load) == (6, 3, 1, 1, 1)  # 6 = 3 loaded + 1 quarantined + 1 excluded + 1 replaced
    assert result.load.quarantine_by_rule == {"missing_started_at": 1}
    assert logged_accounting(db_path) == (6, 3, 1, 1, 1)
    con = duckdb.connect(str(db_path), read_only=True)
    assert con.execute("select reason from raw.contacts where contact_id = 'c'").fetchone() == ("second",)
    con.close()


def test_the_scheduled_tasks_log_the_same_accounting(tmp_path: Path):
    from datetime import UTC, datetime

    from fcr import tasks

    path = write_contacts(tmp_path / "in.csv", SIX_ROWS)
    config = tmp_path / "fcr.toml"
    config.write_text('max_quarantine_share = 1.0\n[[exclude]]\ncolumn = "team"\nequals = "TEST"\n')
    db_path = tmp_path / "db.duckdb"
    settings = {"db_path": str(db_path), "config_path": str(config)}
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    loaded = tasks.load(settings, [str(path)], start, end)
    assert tuple(loaded[name] for name in ACCOUNTED) == (6, 3, 1, 1, 1)
    tasks.publish(tasks.validate(tasks.transform(tasks.validate_input(loaded))))
    assert logged_accounting(db_path) == (6, 3, 1, 1, 1)


def test_the_generated_sample_accounts_for_every_row(tmp_path: Path):
    from fcr.config import Config
    from fcr.generate import SampleSpec, write_sample

    path = tmp_path / "sample.csv"
    write_sample(SampleSpec(contacts=2000), path)
    result = run([str(path)], tmp_path / "db.duckdb", Config())
    read, loaded, quarantined, excluded, replaced = accounted(result.load)
    assert replaced == 1  # the sample re-delivers one contact in the same file
    assert quarantined > 0
    assert read == loaded + quarantined + excluded + replaced
    assert logged_accounting(tmp_path / "db.duckdb") == accounted(result.load)


def test_a_file_loaded_before_is_skipped_and_reads_nothing(tmp_path: Path):
    path = write_contacts(tmp_path / "in.csv", SIX_ROWS)
    db_path = tmp_path / "db.duckdb"
    run([str(path)], db_path, build_config(FILTERED))
    again = run([str(path)], db_path, build_config(FILTERED))
    assert again.load.files_skipped == [str(path)]
    assert accounted(again.load) == (0, 0, 0, 0, 0)


def test_each_files_refused_rows_keep_their_own_raw_text(tmp_path):
    # the same line of two files breaks a rule: each quarantined row records what its own file said
    files = []
    for day in (1, 2):
        rows = good_rows(3)
        rows[1] = {**rows[1], "contact_id": f"d{day}", "started_at": f"not a time {day}"}
        files.append(str(write_contacts(tmp_path / f"day{day}.csv", rows)))
    run(files, tmp_path / "fcr.duckdb", build_config(LENIENT))
    con = duckdb.connect(str(tmp_path / "fcr.duckdb"), read_only=True)
    quarantined = con.execute(
        "select source_file, source_line, rule, raw_record::json->>'started_at' "
        "from raw.quarantine order by all"
    ).fetchall()
    loaded = con.execute("select count(*) from raw.contacts").fetchone()[0]
    con.close()
    assert quarantined == [
        (files[0], 3, "unparseable_started_at", "not a time 1"),
        (files[1], 3, "unparseable_started_at", "not a time 2"),
    ]
    assert loaded == 2  # g0 and g2 (the same ids in both files: the later delivery wins)

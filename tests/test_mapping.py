"""Config-only mapping of exports: joined and constant columns, null markers, row filters,
allowed values, the dedupe order, and tab-separated CRLF files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from fcr.config import REQUIRED_COLUMNS, ConfigError, build_config, load_config
from fcr.load.mapping import map_batch
from fcr.load.read import FileLoadError
from fcr.run import run

PATH = Path("/exports/calls.txt")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def batch(**columns: list[str]) -> pa.Table:
    """A source batch as the reader yields it: string columns plus source_line from 2."""
    n = len(next(iter(columns.values())))
    return pa.table({**columns, "source_line": pa.array(range(2, 2 + n), pa.int64())})


def mapped(table: pa.Table, config: dict):
    return map_batch(table, build_config(config), PATH, 0)


CALLS = {
    "vru": ["AA01", "AA02", "AA01"],
    "call": ["7", "7", "8"],
    "date": ["990101", "990101", "?"],
    "time": ["0:00:31", " 9:05:00 ", "1:00:00"],
    "cust": ["41", "0", "?"],
    "outcome": ["AGENT", "PHANTOM", "HANG"],
    "type": ["PS", "AA", " PS "],
}
MAPPING = {
    "contact_id": {"join": ["vru", "call"], "separator": "-"},
    "customer_id": {"source": "cust", "null_values": ["0"]},
    "channel": {"constant": "phone"},
    "started_at": {"join": ["date", "time"]},
}


# --- config validation: a bad key is named ---------------------------------------------------


def test_a_plain_string_is_short_for_a_source_column():
    config = build_config({"columns": {"reason": "type", "agent_id": {"null_values": ["NO_SERVER"]}}})
    assert config.column("reason").source_columns("reason") == ["type"]
    assert config.column("agent_id").source_columns("agent_id") == ["agent_id"]  # source defaults to its name
    assert config.column("queue").source_columns("queue") == ["queue"]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"columns": {"channel": {"constant": "phone", "source": "ch"}}}, "columns.channel"),
        ({"columns": {"started_at": {"join": ["date"]}}}, "columns.started_at.join"),
        ({"columns": {"started_at": {"source": "d", "separator": "-"}}}, "columns.started_at"),
        ({"columns": {"reason": {"allowed_values": []}}}, "columns.reason.allowed_values"),
        ({"columns": {"reason": {"source": "type", "allowed": ["PS"]}}}, "columns.reason.allowed"),
        ({"columns": {"outcome": "outcome"}}, "columns"),
        ({"exclude": [{"column": "outcome", "equals": "X", "in": ["Y"]}]}, "exclude.0"),
        ({"exclude": [{"column": "outcome"}]}, "exclude.0"),
        ({"exclude": [{"column": "outcome", "is": "X"}]}, "exclude.0.is"),
        ({"null_values": [0]}, "null_values.0"),
        ({"dedupe": {"order_by": "n", "order_type": "alphabetical"}}, "dedupe.order_type"),
        ({"dedupe": {"key": "number"}}, "dedupe.key"),
    ],
)
def test_invalid_mapping_config_names_the_key(data, named):
    with pytest.raises(ConfigError) as error:
        build_config(data)
    assert f"  {named}:" in str(error.value)


@pytest.mark.parametrize("name", ["technion.toml", "servicenow.toml"])
def test_the_example_configs_are_valid(name):
    config = load_config(EXAMPLES / name)
    assert set(REQUIRED_COLUMNS) <= set(config.columns)  # the export's names are not ours


# --- the mapping of one batch, column by column ----------------------------------------------


def test_two_columns_joined_with_a_separator_and_a_constant_column():
    out = mapped(batch(**CALLS), {"columns": MAPPING}).table
    assert out["contact_id"].to_pylist() == ["AA01-7", "AA02-7", "AA01-8"]
    assert out["started_at"].to_pylist() == ["990101 0:00:31", "990101 9:05:00", "? 1:00:00"]  # trimmed
    assert out["channel"].to_pylist() == ["phone", "phone", "phone"]
    assert out["source_line"].to_pylist() == [2, 3, 4]


def test_per_column_null_values_map_only_that_column():
    out = mapped(batch(**CALLS), {"columns": MAPPING}).table
    assert out["customer_id"].to_pylist() == ["41", None, "?"]


def test_global_null_values_apply_to_every_column_before_joining():
    out = mapped(batch(**CALLS), {"columns": MAPPING, "null_values": ["?"]}).table
    assert out["customer_id"].to_pylist() == ["41", None, None]
    assert out["started_at"].to_pylist() == ["990101 0:00:31", "990101 9:05:00", None]  # a null part


def test_row_filter_equals_drops_and_counts_rows():
    config = {"columns": MAPPING, "exclude": [{"column": "outcome", "equals": "PHANTOM"}]}
    result = mapped(batch(**CALLS), config)
    assert result.rows_excluded == 1
    assert result.table["contact_id"].to_pylist() == ["AA01-7", "AA01-8"]
    assert result.table["source_line"].to_pylist() == [2, 4]  # lines still point into the file


def test_row_filters_in_values_and_several_filters_or_together():
    config = {
        "columns": MAPPING,
        "exclude": [
            {"column": "outcome", "in": ["PHANTOM", "TEST"]},
            {"column": "type", "equals": "PS"},  # compared after trimming, so " PS " matches
        ],
    }
    result = mapped(batch(**CALLS), config)
    assert result.rows_excluded == 3
    assert result.table.num_rows == 0


def test_values_outside_allowed_values_are_flagged_with_column_and_value():
    config = {"columns": {**MAPPING, "reason": {"source": "type", "allowed_values": ["PS", "PE"]}}}
    out = mapped(batch(**CALLS), config).table
    assert out["disallowed_value"].to_pylist() == [None, "reason = AA", None]


def test_empty_values_are_never_outside_allowed_values():
    table = batch(contact_id=["a", "b"], customer_id=["K", "K"], channel=["x", "y"], started_at=["t", "t"])
    table = table.append_column("queue", pa.array(["", "billing"]))
    out = mapped(table, {"columns": {"queue": {"allowed_values": ["sales"]}}}).table
    assert out["disallowed_value"].to_pylist() == [None, "queue = billing"]


def test_a_column_the_config_needs_but_the_file_lacks_is_named():
    with pytest.raises(FileLoadError, match=r"exclude\[0\]\.column \(source column 'result'\)"):
        mapped(batch(**CALLS), {"columns": MAPPING, "exclude": [{"column": "result", "equals": "X"}]})
    with pytest.raises(FileLoadError, match=r"started_at \(source column 'clock'\)"):
        mapped(batch(**CALLS), {"columns": {**MAPPING, "started_at": {"join": ["date", "clock"]}}})
    with pytest.raises(FileLoadError, match=r"dedupe\.order_by \(source column 'version'\)"):
        mapped(batch(**CALLS), {"columns": MAPPING, "dedupe": {"order_by": "version"}})


def test_the_columns_found_are_listed_short_and_never_with_their_values():
    found = {f"column_{i:02d}_{'x' * 50}": [""] for i in range(12)}
    with pytest.raises(FileLoadError) as caught:
        mapped(batch(**found, **{"AWS_SECRET_ACCESS_KEY=abc123secret": [""]}), {})
    message = str(caught.value)
    assert "'AWS_SECRET_ACCESS_KEY…', 'column_00_" in message and "abc123secret" not in message
    assert f"'column_08_{'x' * 30}…' and 3 more" in message


@pytest.mark.parametrize(
    ("separator", "named", "setting"),
    [
        ("\t", "tabs", 'delimiter = "\\t"'),
        (";", "semicolons", 'delimiter = ";"'),
        ("|", "pipes", 'delimiter = "|"'),
    ],
)
def test_one_column_whose_name_holds_a_delimiter_says_which_delimiter_to_set(separator, named, setting):
    header = separator.join(["vru+line", "call_id", "customer_id", "started_at"])
    with pytest.raises(FileLoadError) as caught:
        mapped(batch(**{header: ["AA01"]}), {})
    message = str(caught.value)
    assert (
        f"The file has one column whose name contains {named}: set [csv] {setting} in the config" in message
    )
    assert "'vru+line…'" in message and "call_id" not in message


def test_an_optional_column_missing_from_the_file_is_empty():
    out = mapped(batch(**CALLS), {"columns": {**MAPPING, "ended_at": {"join": ["date", "end"]}}}).table
    assert out["ended_at"].to_pylist() == [None, None, None]


# --- end to end: the staging rules, the run record, CRLF and tabs ----------------------------

TSV_HEADER = "vru\tcall\tcust\ttype\tdate\ttime\toutcome\tserver"
TSV_CONFIG = {
    "source_timezone": "Asia/Jerusalem",
    "timestamp_formats": ["%y%m%d %H:%M:%S"],
    "max_quarantine_share": 1.0,
    "csv": {"delimiter": "\t"},
    "columns": {
        **MAPPING,
        "reason": {"source": "type", "allowed_values": ["PS", "NW"]},
        "agent_id": {"source": "server", "null_values": ["NO_SERVER"]},
    },
    "exclude": [{"column": "outcome", "equals": "PHANTOM"}],
}


def write_crlf(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def test_tab_separated_crlf_export_loads_with_config_alone(tmp_path: Path):
    path = write_crlf(
        tmp_path / "calls.txt",
        [
            TSV_HEADER,
            "AA01\t1\t41\tPS\t990101\t0:00:31\tAGENT\tMICHAL",  # line 2
            "AA01\t2\t41\tPS\t990101\t9:05:00\tHANG\tNO_SERVER",  # line 3
            "AA02\t1\t0\tNW\t990102\t23:59:59\tAGENT\tDORIT",  # line 4: anonymous
            "AA02\t2\t0\tPS\t990102\t10:00:00\tPHANTOM\tNO_SERVER",  # line 5: excluded
            "AA02\t3\t42\tAA\t990103\t8:00:00\tHANG\tNO_SERVER",  # line 6: undocumented type
            "AA02\t4\t42\t0       NW\t990103\t8:00:00\tHANG",  # line 7: one field short
        ],
    )
    db_path = tmp_path / "fcr.duckdb"
    result = run([str(path)], db_path, build_config(TSV_CONFIG))
    assert (result.load.rows_read, result.load.rows_excluded, result.load.rows_quarantined) == (6, 1, 2)
    assert result.load.contacts_delivered == 3

    con = duckdb.connect(str(db_path), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    contacts = con.execute(
        "select contact_id, customer_id, channel, started_at, reason, agent_id "
        "from raw.contacts order by contact_id"
    ).fetchall()
    assert contacts == [
        ("AA01-1", "41", "phone", datetime(1998, 12, 31, 22, 0, 31, tzinfo=UTC), "PS", "MICHAL"),  # +02:00
        ("AA01-2", "41", "phone", datetime(1999, 1, 1, 7, 5, 0, tzinfo=UTC), "PS", None),
        ("AA02-1", None, "phone", datetime(1999, 1, 2, 21, 59, 59, tzinfo=UTC), "NW", "DORIT"),
    ]
    quarantined = con.execute(
        "select source_file, source_line, rule, detail from raw.quarantine order by source_line"
    ).fetchall()
    assert quarantined == [
        (str(path.resolve()), 6, "value_not_allowed", "reason = AA"),
        (str(path.resolve()), 7, "malformed_row", "7 fields, expected 8"),
    ]
    raw_record = con.execute("select raw_record from raw.quarantine where source_line = 6").fetchone()[0]
    assert '"reason":"AA"' in raw_record and "disallowed_value" not in raw_record
    runs = con.execute(
        "select rows_read, rows_excluded, rows_quarantined, rows_replaced, rows_loaded "
        "from published.pipeline_runs"
    )
    assert runs.fetchall() == [(6, 1, 2, 0, 3)]
    con.close()


UPDATES_HEADER = ("number", "caller", "opened", "state", "mods", "updated")


def write_updates(path: Path, rows: list[tuple[str, ...]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in [UPDATES_HEADER, *rows]) + "\n")
    return path


UPDATES_CONFIG = {
    "null_values": ["?"],
    "timestamp_formats": ["%d-%m-%Y %H:%M"],
    "max_quarantine_share": 1.0,
    "columns": {
        "contact_id": "number",
        "customer_id": "caller",
        "channel": {"constant": "phone"},
        "started_at": "opened",
        "reason": "state",
    },
}
# INC1's updates are out of order in the file: its last line is not its latest update.
UPDATES = [
    ("INC1", "C1", "01-03-2016 09:00", "Active", "9", "01-03-2016 10:00"),
    ("INC1", "C1", "01-03-2016 09:00", "Closed", "10", "02-03-2016 10:00"),
    ("INC1", "C1", "01-03-2016 09:00", "New", "0", "01-03-2016 09:00"),
    ("INC2", "?", "01-03-2016 11:00", "New", "0", "01-03-2016 11:00"),
    ("INC2", "?", "01-03-2016 11:00", "Closed", "1", "01-03-2016 12:00"),
]


def states(tmp_path: Path, config: dict, rows=UPDATES) -> dict[str, tuple]:
    path = write_updates(tmp_path / "updates.csv", rows)
    db_path = tmp_path / "fcr.duckdb"
    run([str(path)], db_path, build_config(config))
    con = duckdb.connect(str(db_path), read_only=True)
    found = con.execute("select contact_id, reason, customer_id from raw.contacts").fetchall()
    con.close()
    return {contact_id: rest for contact_id, *rest in found}


def test_without_dedupe_the_last_line_of_a_contact_wins(tmp_path: Path):
    assert states(tmp_path, UPDATES_CONFIG) == {"INC1": ["New", "C1"], "INC2": ["Closed", None]}


def test_dedupe_keeps_the_highest_order_by_value_compared_as_numbers(tmp_path: Path):
    config = {**UPDATES_CONFIG, "dedupe": {"order_by": "mods"}}  # as text, "9" > "10"
    assert states(tmp_path, config) == {"INC1": ["Closed", "C1"], "INC2": ["Closed", None]}


def test_dedupe_by_timestamp_uses_the_timestamp_formats(tmp_path: Path):
    config = {**UPDATES_CONFIG, "dedupe": {"order_by": "updated", "order_type": "timestamp"}}
    # As text "15-02-2016 00:00" would sort last; as a timestamp it is INC1's earliest update.
    rows = [*UPDATES, ("INC1", "C1", "01-03-2016 09:00", "Reopened", "11", "15-02-2016 00:00")]
    assert states(tmp_path, config, rows)["INC1"] == ["Closed", "C1"]


def test_dedupe_ties_fall_back_to_the_later_line(tmp_path: Path):
    rows = [*UPDATES, ("INC1", "C1", "01-03-2016 09:00", "Resolved", "10", "02-03-2016 10:00")]
    config = {**UPDATES_CONFIG, "dedupe": {"order_by": "mods"}}
    assert states(tmp_path, config, rows)["INC1"] == ["Resolved", "C1"]


def test_an_unparseable_order_by_value_is_quarantined(tmp_path: Path):
    rows = [*UPDATES, ("INC3", "C3", "01-03-2016 13:00", "New", "many", "01-03-2016 13:00")]
    path = write_updates(tmp_path / "updates.csv", rows)
    config = build_config({**UPDATES_CONFIG, "dedupe": {"order_by": "mods"}})
    result = run([str(path)], tmp_path / "fcr.duckdb", config)
    assert result.load.quarantine_by_rule == {"unparseable_order_by": 1}
    con = duckdb.connect(str(tmp_path / "fcr.duckdb"), read_only=True)
    assert con.execute("select source_line, detail from raw.quarantine").fetchall() == [(7, "mods = many")]
    con.close()


def test_every_update_but_the_winning_one_is_counted_as_replaced(tmp_path: Path):
    path = write_updates(tmp_path / "updates.csv", UPDATES)
    config = build_config({**UPDATES_CONFIG, "dedupe": {"order_by": "mods"}})
    load = run([str(path)], tmp_path / "fcr.duckdb", config).load
    accounted = (load.rows_read, load.contacts_delivered, load.rows_replaced, load.rows_quarantined)
    assert accounted == (5, 2, 3, 0)

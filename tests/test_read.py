"""Reading files: every column as text, physical line numbers, bad files named, no file content in errors."""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fcr.config import build_config
from fcr.load.read import FileLoadError, SourceFile, expand_paths, read_batches, rebatched
from tests.conftest import property_settings

ROOT = Path(__file__).resolve().parents[1]


def read(path: Path) -> tuple[list[dict], SourceFile]:
    """The file's rows as dicts (with source_line), and what reading it found."""
    source = SourceFile(path)
    rows = [row for batch in read_batches(source, build_config({})) for row in batch.to_pylist()]
    return rows, source


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


# --- unreadable files are named, and what to do said ------------------------------------------


def test_random_bytes_fail_naming_the_file(tmp_path: Path):
    path = write(tmp_path, "photo.csv", random.Random(5).randbytes(4096))
    with pytest.raises(FileLoadError, match=r"photo\.csv: cannot be parsed as csv.*Check the file's format"):
        read(path)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_the_header_ends_at_any_newline(tmp_path: Path, newline: str):
    path = write(tmp_path, "in.csv", newline.join(["contact_id,channel", "0001,phone", "0002,email", ""]))
    rows, _ = read(path)
    assert rows == [
        {"contact_id": "0001", "channel": "phone", "source_line": 2},
        {"contact_id": "0002", "channel": "email", "source_line": 3},
    ]


# --- every column is text ---------------------------------------------------------------------


def test_identifiers_stay_text_after_a_byte_order_mark(tmp_path: Path):
    path = write(tmp_path, "in.csv", b"\xef\xbb\xbfcontact_id,handle_seconds\n0000001,30\n")
    rows, _ = read(path)
    assert rows == [{"contact_id": "0000001", "handle_seconds": "30", "source_line": 2}]


def test_identifiers_stay_text_after_a_header_longer_than_a_mebibyte(tmp_path: Path):
    long_name = "n" * 1_100_000
    path = write(tmp_path, "in.csv", f"{long_name},contact_id\nx,0000001\n")
    rows, _ = read(path)
    assert [row["contact_id"] for row in rows] == ["0000001"]


# --- source_line is the physical line an editor shows -----------------------------------------


def test_lines_count_blank_lines_and_quoted_newlines(tmp_path: Path):
    path = write(
        tmp_path,
        "in.csv",
        "id,note\n"  # line 1
        "\n"
        'a,"two\r\nlines"\n'  # lines 3-4
        "\n"
        "\r\n"
        'b,"say ""hi"",\nthen go"\n'  # lines 7-8
        'c,q"uote\n'  # line 9: a quote inside an unquoted field is text
        "d\n"  # line 10: too few fields
        "e,last",
    )
    rows, source = read(path)
    assert [(r["id"], r["source_line"]) for r in rows] == [("a", 3), ("b", 7), ("c", 9), ("e", 11)]
    assert [(m.line, m.text) for m in source.malformed] == [(10, "d")]


@st.composite
def csv_texts(draw) -> tuple[str, list[int]]:
    """A CSV text with quoted fields spanning lines and blank lines, and the line each row starts on."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(["a", "b"])
    starts = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        out.write(draw(st.sampled_from(["", "", "\n", "\r\n\n"])))
        starts.append(out.getvalue().replace("\r\n", "\n").count("\n") + 1)
        fields = st.text(alphabet='ab ,"\n', max_size=6)
        writer.writerow([draw(fields), draw(fields)])
    return out.getvalue(), starts


@property_settings(60)
@given(text_and_starts=csv_texts())
def test_every_row_gets_the_line_it_starts_on(tmp_path: Path, text_and_starts):
    text, starts = text_and_starts
    rows, source = read(write(tmp_path, "in.csv", text))
    assert source.malformed == []
    assert [r["source_line"] for r in rows] == starts


# --- JSON lines ---------------------------------------------------------------------------------


def test_json_lines_bad_rows_are_quarantined_not_the_file(tmp_path: Path):
    path = write(
        tmp_path,
        "in.jsonl",
        '{"contact_id": "0007", "handle_seconds": 1.50, "resolved": true, "team": null}\n'
        "{not json\n"
        "\n"
        '{"contact_id": {"nested": "object"}}\n'
        '["a", "list"]\n'
        '{"contact_id": "b"}\n',
    )
    rows, source = read(path)
    assert rows == [
        {"contact_id": "0007", "handle_seconds": "1.50", "resolved": "true", "team": None, "source_line": 1},
        {"contact_id": "b", "handle_seconds": None, "resolved": None, "team": None, "source_line": 6},
    ]
    assert [(m.line, m.text) for m in source.malformed] == [
        (2, "{not json"),
        (4, '{"contact_id": {"nested": "object"}}'),
        (5, '["a", "list"]'),
    ]


def test_a_json_line_nested_20000_deep_is_quarantined_without_crashing(tmp_path: Path):
    deep = '{"a": ' * 20_000 + "1" + "}" * 20_000
    path = write(tmp_path, "in.jsonl", '{"contact_id": "a"}\n' + deep + "\n")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from tests.test_read import read\n"
        "rows, source = read(Path(sys.argv[1]))\n"
        "print(len(rows), [m.line for m in source.malformed])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1 [2]"


# --- errors show column names, never row content -----------------------------------------------


def test_a_parser_error_does_not_echo_the_row(tmp_path: Path):
    path = write(tmp_path, "in.csv", b"contact_id,channel\n1,phone\ntoken=abc123secret\xff\n")
    with pytest.raises(FileLoadError, match=r"in\.csv: cannot be parsed as csv.*got 1") as caught:
        read(path)
    assert "abc123secret" not in str(caught.value)


# --- paths ----------------------------------------------------------------------------------------


def test_the_same_file_under_two_paths_is_read_once(tmp_path: Path):
    (tmp_path / "sub").mkdir()
    path = write(tmp_path, "a.csv", "contact_id\n1\n")
    assert expand_paths([str(path), str(tmp_path / "sub" / ".." / "a.csv"), str(path)]) == [path]


def test_rebatched_joins_small_batches_in_order_and_keeps_every_row():
    sizes = ((0, 3), (3, 3), (6, 3), (9, 1))
    batches = [pa.table({"n": list(range(start, start + size))}) for start, size in sizes]
    joined = list(rebatched(iter(batches), rows=5))
    assert [t.num_rows for t in joined] == [6, 4]
    assert [n for t in joined for n in t["n"].to_pylist()] == list(range(10))

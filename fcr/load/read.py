"""Read contact files (CSV, Parquet, JSON lines) as all-text batches with each row's physical line."""

from __future__ import annotations

import glob
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from fcr.config import Config

BATCH_ROWS = 500_000
_BLOCK_BYTES = 1 << 24  # the parser's block, so also the longest header line it can read
_SCAN_BYTES = 1 << 22
_QUOTE, _CR, _LF = ord('"'), ord("\r"), ord("\n")
_BOM = b"\xef\xbb\xbf"
_CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".gz"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}
_SHOWN_NAMES = 10
_SHOWN_NAME_CHARS = 40
_NAME_LIKE = re.compile(r"[\w .()#%&+?/-]*")
_ROW_TEXT = re.compile(r"(columns, got \d+): .*", re.DOTALL)


class FileLoadError(RuntimeError):
    """A file that cannot be read at all; the message names it and what to do."""


@dataclass
class MalformedRow:
    """A row the parser rejected (the wrong number of fields, or not a flat JSON object)."""

    line: int
    detail: str
    text: str


@dataclass
class SourceFile:
    """One input file and what reading it found besides its good batches."""

    path: Path
    malformed: list[MalformedRow] = field(default_factory=list)
    rows_read: int = 0


def expand_paths(patterns: list[str]) -> list[Path]:
    """Files named or matched by globs, each once however it is named, in a stable order."""
    files: dict[Path, Path] = {}
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise FileLoadError(f"no file matches {pattern!r}")
        for match in matches:
            path = Path(match)
            if not path.is_file():
                raise FileLoadError(f"{path}: not found (check the path or glob)")
            files.setdefault(path.resolve(), path)
    return list(files.values())


def describe_columns(names: Iterable[str]) -> str:
    """A few column names, each cut before anything not name-like, so an error never shows file content."""
    names = list(names)
    shown = ", ".join(repr(_short_name(name)) for name in names[:_SHOWN_NAMES])
    hidden = len(names) - _SHOWN_NAMES
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def _short_name(name: str) -> str:
    kept = _NAME_LIKE.match(name).group()[:_SHOWN_NAME_CHARS]
    return kept if kept == name else f"{kept}…"


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if any(s in _PARQUET_SUFFIXES for s in suffixes):
        return "parquet"
    if any(s in _JSON_SUFFIXES for s in suffixes):
        return "json"
    if any(s in _CSV_SUFFIXES for s in suffixes):
        return "csv"
    raise FileLoadError(f"{path}: unknown file type; use .csv/.txt/.tsv, .parquet or .jsonl")


def _as_strings(batch: pa.RecordBatch | pa.Table) -> pa.Table:
    table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
    columns = [col if pa.types.is_string(col.type) else col.cast(pa.string()) for col in table.columns]
    return pa.Table.from_arrays(columns, names=table.column_names)


def _with_lines(table: pa.Table, lines: pa.Array) -> pa.Table:
    return table.append_column("source_line", lines)


# --- CSV: physical lines ------------------------------------------------------------------------


def _quote_states(toggles: np.ndarray, inside: bool) -> np.ndarray:
    """Whether a quoted field is open after each odd run of quotes.

    A run at a field start opens a field when none is open and closes the open one; any other run
    closes the open field or, outside one, is plain text, so none is open after it. A field is thus
    open after the 1st, 3rd, ... run at a field start since the last other run (a field open at the
    chunk's start counting as one such run).
    """
    index = np.arange(toggles.size)
    last_other = np.maximum.accumulate(np.where(toggles, -1, index))
    return toggles & ((index - last_other + (last_other < 0) * int(inside)) % 2 == 1)


def _line_breaks(data: np.ndarray) -> np.ndarray:
    """Positions that end a physical line: each LF, and each CR not followed by LF."""
    lf = data == _LF
    cr = data == _CR
    cr[:-1] &= ~lf[1:]
    return np.flatnonzero(lf | cr)


class _Scan:
    """Finds where CSV records start, chunk by chunk, splitting them as pyarrow's parser does."""

    def __init__(self, delimiter: str) -> None:
        self.field_starts_after = np.array([ord(delimiter), _CR, _LF], np.uint8)
        self.inside = False  # a quoted field is open at the chunk's start
        self.before = _LF  # the byte before the chunk; the file's start is a line start
        self.line = 1  # physical line of the chunk's first byte
        self.at_record = True  # the chunk's first byte starts a record, unless its line is blank

    def _odd_quote_runs(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start of each run of an odd number of quotes, and whether a quoted field is open after it."""
        quotes = np.flatnonzero(data == _QUOTE)
        heads = np.flatnonzero(np.diff(quotes, prepend=-2) != 1)
        lengths = np.diff(heads, append=quotes.size)
        starts = quotes[heads][lengths % 2 == 1]
        before = np.where(starts > 0, data[starts - 1], self.before)
        return starts, _quote_states(np.isin(before, self.field_starts_after), self.inside)

    def feed(self, chunk: bytes) -> np.ndarray:
        """Start lines of the non-blank records that begin in this chunk."""
        data = np.frombuffer(chunk, np.uint8)
        if not data.size:
            return np.empty(0, np.int64)
        runs, states = self._odd_quote_runs(data)
        breaks = _line_breaks(data)
        inside = np.concatenate([[self.inside], states])[np.searchsorted(runs, breaks)]
        ends = np.flatnonzero(~inside)  # which breaks end a record
        nexts = breaks[ends] + 1
        lines = self.line + ends + 1
        within = nexts < data.size
        found = lines[within][~np.isin(data[nexts[within]], (_CR, _LF))]
        if self.at_record and data[0] not in (_CR, _LF):
            found = np.concatenate([[self.line], found])
        self.at_record = bool(ends.size and nexts[-1] == data.size)
        self.inside = bool(states[-1]) if states.size else self.inside
        self.before = int(data[-1])
        self.line += breaks.size
        return found


def _record_starts(path: Path, encoding: str, delimiter: str) -> Iterator[np.ndarray]:
    """The physical line each non-blank record of a CSV file starts on (header first), chunk by chunk."""
    scan = _Scan(delimiter)
    with pa.input_stream(str(path), compression="detect") as raw:
        stream = pa.transcoding_input_stream(raw, encoding, "utf8")
        carry = stream.read(len(_BOM)).removeprefix(_BOM)
        while block := stream.read(_SCAN_BYTES):
            data = carry + block
            cut = len(data.rstrip(b'"\r'))  # a run of quotes or a CRLF is never split between chunks
            carry = data[cut:]
            yield scan.feed(data[:cut])
        yield scan.feed(carry)


class _RecordLines:
    """The physical line of each record by its number (1 = the header), scanned as far as reading needs."""

    def __init__(self, path: Path, starts: Iterator[np.ndarray]) -> None:
        self._path = path
        self._starts = starts
        self._first = 1
        self._lines = np.empty(0, np.int64)

    def at(self, numbers: int | np.ndarray) -> np.ndarray:
        """Lines of the given record numbers (none before the last `forget`)."""
        while np.max(numbers) >= self._first + self._lines.size:
            more = next(self._starts, None)
            if more is None:
                raise FileLoadError(f"{self._path}: rows could not be matched to lines; check its quoting")
            self._lines = np.concatenate([self._lines, more])
        return self._lines[np.asarray(numbers) - self._first]

    def forget(self, before: int) -> None:
        """Drop the lines of records numbered below `before`: they are placed."""
        self._lines = self._lines[before - self._first :]
        self._first = before


def _kept_numbers(first: int, n: int, skipped: np.ndarray) -> np.ndarray:
    """The first n record numbers from `first` on that the parser did not skip."""
    numbers = np.arange(first, first + n + skipped.size, dtype=np.int64)
    return numbers[~np.isin(numbers, skipped)][:n]


# --- CSV: reading ---------------------------------------------------------------------------------


def _parse_options(delimiter: str, on_invalid: Callable[[pacsv.InvalidRow], str]) -> pacsv.ParseOptions:
    return pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=True)


def _column_names(path: Path, read_options: pacsv.ReadOptions, delimiter: str) -> list[str]:
    """The header's names exactly as the parser reads them: BOM dropped, quotes undone, up to a block long."""
    parse_options = _parse_options(delimiter, lambda _: "skip")
    with pacsv.open_csv(str(path), read_options=read_options, parse_options=parse_options) as reader:
        return reader.schema.names


def _csv_batches(source: SourceFile, config: Config) -> Iterator[pa.Table]:
    delimiter = config.csv.delimiter
    if source.path.suffix.lower() == ".tsv" and delimiter == ",":
        delimiter = "\t"
    read_options = pacsv.ReadOptions(use_threads=False, block_size=_BLOCK_BYTES, encoding=config.csv.encoding)
    names = _column_names(source.path, read_options, delimiter)
    lines = _RecordLines(source.path, _record_starts(source.path, config.csv.encoding, delimiter))
    skipped: list[int] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        skipped.append(row.number)
        detail = f"{row.actual_columns} fields, expected {row.expected_columns}"
        source.malformed.append(MalformedRow(int(lines.at(row.number)), detail, row.text))
        return "skip"

    reader = pacsv.open_csv(
        str(source.path),
        read_options=read_options,
        parse_options=_parse_options(delimiter, on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    first, placed = 2, 0
    for batch in reader:
        if not batch.num_rows:
            continue
        pending = np.array(skipped[placed:], dtype=np.int64)
        numbers = _kept_numbers(first, batch.num_rows, pending)
        placed += int(np.count_nonzero(pending < numbers[-1]))
        first = int(numbers[-1]) + 1
        source.rows_read += batch.num_rows
        yield _with_lines(_as_strings(batch), pa.array(lines.at(numbers)))
        lines.forget(first)


def rebatched(batches: Iterable[pa.Table], rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """The same rows in batches of at least `rows` (the last may be smaller).

    DuckDB recompresses a table's last row group at every committed append, so storing the CSV
    parser's blocks of under 100k rows one by one cost 3.5x more than storing them joined.
    """
    waiting: list[pa.Table] = []
    count = 0
    for batch in batches:
        waiting.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.concat_tables(waiting)
            waiting, count = [], 0
    if waiting:
        yield pa.concat_tables(waiting)


# --- Parquet and JSON lines -------------------------------------------------------------------------


def _parquet_batches(source: SourceFile) -> Iterator[pa.Table]:
    first = 1
    for batch in pq.ParquetFile(source.path).iter_batches(batch_size=BATCH_ROWS):
        n = batch.num_rows
        source.rows_read += n
        yield _with_lines(_as_strings(batch), pa.array(range(first, first + n), pa.int64()))
        first += n


def _json_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, str):
        return value
    raise ValueError("an object or list where a single value belongs")


def _json_row(line: bytes) -> dict[str, str | None]:
    """One JSON line as text values, numbers as written; ValueError when it is not a flat object."""
    value = json.loads(line, parse_int=str, parse_float=str, parse_constant=str)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return {key: _json_text(item) for key, item in value.items()}


def _json_rows(source: SourceFile) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Each non-blank line's number and row; a line that is not a flat object is kept as malformed."""
    with pa.input_stream(str(source.path), compression="detect") as stream:
        for number, line in enumerate(io.BufferedReader(stream), start=1):
            if not line.strip():
                continue
            try:
                yield number, _json_row(line)
            except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
                text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                source.malformed.append(MalformedRow(number, str(exc), text))


def _json_batches(source: SourceFile) -> Iterator[pa.Table]:
    names: dict[str, None] = {}
    rows = _json_rows(source)
    while chunk := list(itertools.islice(rows, BATCH_ROWS)):
        for _, row in chunk:
            names.update(dict.fromkeys(row))
        schema = pa.schema([(name, pa.string()) for name in names])
        table = pa.Table.from_pylist([row for _, row in chunk], schema=schema)
        source.rows_read += table.num_rows
        yield _with_lines(table, pa.array([number for number, _ in chunk], pa.int64()))


def read_batches(source: SourceFile, config: Config) -> Iterator[pa.Table]:
    """Yield the file's rows as all-string tables plus source_line; parser failures name the file."""
    kind = _kind(source.path)
    try:
        if kind == "csv":
            yield from _csv_batches(source, config)
        elif kind == "parquet":
            yield from _parquet_batches(source)
        else:
            yield from _json_batches(source)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError, OSError) as exc:
        detail = _ROW_TEXT.sub(r"\1", str(exc))  # the parser quotes a bad row; never repeat file content
        raise FileLoadError(
            f"{source.path}: cannot be parsed as {kind}: {type(exc).__name__}: {detail}. "
            "Check the file's format, delimiter and encoding (config [csv])."
        ) from None

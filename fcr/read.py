"""Read contact files (CSV, Parquet, JSON lines) as string batches with their source line numbers."""

from __future__ import annotations

import csv
import glob
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from fcr.config import Config

BATCH_ROWS = 500_000
_CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".gz"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}


class FileLoadError(RuntimeError):
    """A file that cannot be read at all; the message names it and what to do."""


@dataclass
class MalformedRow:
    """A CSV row the parser rejected (e.g. the wrong number of fields)."""

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
    """Files named or matched by globs, in a stable order; an unmatched pattern is an error."""
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise FileLoadError(f"no file matches {pattern!r}")
        for match in matches:
            path = Path(match)
            if not path.is_file():
                raise FileLoadError(f"{path}: not found (check the path or glob)")
            if path not in files:
                files.append(path)
    return files


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


def _csv_batches(source: SourceFile, config: Config) -> Iterator[pa.Table]:
    delimiter = config.csv.delimiter
    if source.path.suffix.lower() == ".tsv" and delimiter == ",":
        delimiter = "\t"
    with pa.input_stream(str(source.path), compression="detect") as stream:
        head = stream.read(1 << 20).decode(config.csv.encoding, errors="replace")
    first = head.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first], delimiter=delimiter), [])
    if not header:
        raise FileLoadError(f"{source.path}: empty file (expected a header row)")

    def on_invalid(row: pacsv.InvalidRow) -> str:
        line = row.number if row.number is not None else -1
        detail = f"{row.actual_columns} fields, expected {row.expected_columns}"
        source.malformed.append(MalformedRow(line, detail, row.text))
        return "skip"

    reader = pacsv.open_csv(
        str(source.path),
        read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24, encoding=config.csv.encoding),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, invalid_row_handler=on_invalid, newlines_in_values=False
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    # Physical line numbers: line 1 is the header; rows the parser skipped are not in batches.
    next_line = 2
    pending = 0  # index into source.malformed of the first skipped row not yet placed
    for batch in reader:
        n = batch.num_rows
        if not n:
            continue
        lines = np.arange(next_line, next_line + n, dtype=np.int64)
        for bad in sorted(m.line for m in source.malformed[pending:]):
            if bad > lines[-1]:
                break
            lines[lines >= bad] += 1
            pending += 1
        next_line = int(lines[-1]) + 1
        source.rows_read += n
        yield _with_lines(_as_strings(batch), pa.array(lines))


def _parquet_batches(source: SourceFile) -> Iterator[pa.Table]:
    first = 1
    for batch in pq.ParquetFile(source.path).iter_batches(batch_size=BATCH_ROWS):
        n = batch.num_rows
        source.rows_read += n
        yield _with_lines(_as_strings(batch), pa.array(range(first, first + n), pa.int64()))
        first += n


def _json_batches(source: SourceFile) -> Iterator[pa.Table]:
    table = pajson.read_json(str(source.path))
    source.rows_read += table.num_rows
    for offset in range(0, table.num_rows, BATCH_ROWS):
        chunk = table.slice(offset, BATCH_ROWS)
        lines = pa.array(range(offset + 1, offset + 1 + chunk.num_rows), pa.int64())
        yield _with_lines(_as_strings(chunk), lines)


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
        raise FileLoadError(
            f"{source.path}: cannot be parsed as {kind}: {type(exc).__name__}: {exc}. "
            "Check the file's format, delimiter and encoding (config [csv])."
        ) from exc

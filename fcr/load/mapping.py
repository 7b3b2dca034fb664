"""Turn one batch of a source file into canonical contact columns, as the config's mapping says.

Everything is vectorised with pyarrow.compute: row filters, null markers, joined and constant
columns, allowed values. Typing and the quarantine rules stay in sql/staging/stg_contacts.sql.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from fcr.config import CONTACT_COLUMNS, REQUIRED_COLUMNS, ColumnSource, Config
from fcr.load.read import FileLoadError, describe_columns

# Columns the batch carries besides the canonical ones, for the staging rules and the delivery order.
RULE_COLUMNS = ("disallowed_value", "delivery_order")
BATCH_COLUMNS = (*CONTACT_COLUMNS, *RULE_COLUMNS, "source_file", "source_line", "file_order")
JOIN_SEPARATOR = " "

_NULL = pa.scalar(None, pa.string())


@dataclass
class MappedBatch:
    """A batch in canonical columns, and how many of its rows the row filters left out."""

    table: pa.Table
    rows_excluded: int


def check_columns(present: set[str], config: Config, path: Path) -> None:
    """Fail, naming the file and the keys, when a column the config needs is not in the file."""
    missing = [
        f"{key} (source column {column!r})"
        for key, column in _needed_columns(config)
        if column not in present and column != "source_line"
    ]
    if missing:
        found = sorted(present - {"source_line"})
        raise FileLoadError(
            f"{path}: required column(s) missing: {', '.join(missing)}. Columns in the file: "
            f"{describe_columns(found)}. {_fix_for(found)}"
        )


# A delimiter the file may use instead, by how the message names it and how the config writes it.
_DELIMITERS = {"\t": ("tabs", '"\\t"'), ";": ("semicolons", '";"'), "|": ("pipes", '"|"')}


def _fix_for(found: list[str]) -> str:
    """One column whose name holds a delimiter means the file was split on the wrong one: say which to set."""
    held = [d for d in _DELIMITERS if d in found[0]] if len(found) == 1 else []
    if not held:
        return "Map them under [columns] in the config."
    named, written = _DELIMITERS[max(held, key=found[0].count)]
    return (
        f"The file has one column whose name contains {named}: set [csv] delimiter = {written} in the config."
    )


def _needed_columns(config: Config) -> list[tuple[str, str]]:
    needed = [(c, s) for c in REQUIRED_COLUMNS for s in config.column(c).source_columns(c)]
    needed += [(f"exclude[{i}].column", f.column) for i, f in enumerate(config.exclude)]
    if config.dedupe is not None:
        needed.append(("dedupe.order_by", config.dedupe.order_by))
    return needed


def _trimmed(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Spaces stripped from both ends, as the staging model's trim() does (safe on UTF-8)."""
    return pc.ascii_trim(values, characters=" ")


def _matches(values: pa.ChunkedArray | pa.Array, candidates: list[str]) -> pa.ChunkedArray | pa.Array:
    """True where the trimmed value is one of candidates (false for nulls)."""
    hit = pc.is_in(_trimmed(values), value_set=pa.array(candidates, pa.string()))
    return pc.fill_null(hit, False)


def _nulled(values: pa.ChunkedArray | pa.Array, markers: list[str]) -> pa.ChunkedArray | pa.Array:
    """Values whose trimmed text is one of the markers become null."""
    if not markers:
        return values
    return pc.if_else(_matches(values, markers), _NULL, values)


def _excluded(table: pa.Table, config: Config) -> pa.ChunkedArray | None:
    mask = None
    for row_filter in config.exclude:
        hit = _matches(table[row_filter.column], row_filter.values())
        mask = hit if mask is None else pc.or_(mask, hit)
    return mask


def _values(table: pa.Table, spec: ColumnSource, canonical: str, config: Config):
    """The column's values: a constant, one source column, or several joined (null if a part is null)."""
    if spec.constant is not None:
        return pa.repeat(pa.scalar(spec.constant, pa.string()), table.num_rows)
    sources = spec.source_columns(canonical)
    if any(s not in table.column_names for s in sources):
        return pa.nulls(table.num_rows, pa.string())  # an optional column the file does not have
    parts = [_nulled(table[s], config.null_values) for s in sources]
    if len(parts) == 1:
        values = parts[0]
    else:
        separator = JOIN_SEPARATOR if spec.separator is None else spec.separator
        values = pc.binary_join_element_wise(*[_trimmed(p) for p in parts], separator)
    return _nulled(values, spec.null_values)


def _disallowed(columns: dict[str, object], config: Config, n: int):
    """Per row, 'column = value' for the first value outside its column's allowed_values, else null."""
    detail = pa.nulls(n, pa.string())
    for canonical in CONTACT_COLUMNS:
        allowed = config.column(canonical).allowed_values
        if allowed is None:
            continue
        trimmed = _trimmed(columns[canonical])
        bad = pc.and_(pc.not_equal(trimmed, ""), pc.invert(_matches(trimmed, allowed)))
        text = pc.binary_join_element_wise(pa.scalar(f"{canonical} = "), trimmed, "")
        detail = pc.coalesce(detail, pc.if_else(pc.fill_null(bad, False), text, _NULL))
    return detail


def map_batch(table: pa.Table, config: Config, path: Path, file_order: int) -> MappedBatch:
    """Filter the batch's rows, then build every canonical column plus what the staging rules need."""
    check_columns(set(table.column_names), config, path)
    mask = _excluded(table, config)
    excluded = 0
    if mask is not None:
        excluded = pc.sum(mask).as_py() or 0
        table = table.filter(pc.invert(mask))
    n = table.num_rows
    columns = {c: _values(table, config.column(c), c, config) for c in CONTACT_COLUMNS}
    order = (
        _nulled(table[config.dedupe.order_by], config.null_values)
        if config.dedupe is not None
        else pa.nulls(n, pa.string())
    )
    arrays = [
        *columns.values(),
        _disallowed(columns, config, n),
        order,
        pa.repeat(pa.scalar(str(path), pa.string()), n),
        table["source_line"],
        pa.repeat(pa.scalar(file_order, pa.int32()), n),
    ]
    return MappedBatch(pa.Table.from_arrays(arrays, names=list(BATCH_COLUMNS)), excluded)

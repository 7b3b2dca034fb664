"""Export the published tables to Parquet files that BI tools read without opening the DuckDB file."""

from __future__ import annotations

from pathlib import Path

from fcr import db, tables
from fcr.serve import write_parquet

# Every table a run publishes, the rates view, and the run log.
EXPORTED = (*tables.PUBLISH_MAP.values(), tables.METRIC_RATES, tables.PIPELINE_RUNS)


def export_published(db_path: Path | str, out_dir: Path | str) -> dict[str, Path]:
    """Write each published table to <out_dir>/<table>.parquet, replacing each file atomically.

    All files come from one read-only snapshot; each is written, flushed and renamed like the
    serving copy's, so a reader of a file sees the old or the new version, never a partial one.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = db.connect(db_path, read_only=True)
    written = {}
    try:
        for table in EXPORTED:
            written[table] = out_dir / f"{table.split('.', 1)[1]}.parquet"
            write_parquet(con, table, written[table])
    finally:
        con.close()
    return written

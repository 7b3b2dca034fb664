"""Export the published tables to Parquet files that BI tools read without opening the DuckDB file."""

from __future__ import annotations

from pathlib import Path

from fcr import db, tables
from fcr.publish.serve import write_parquet_files

# Every table a run publishes, the rates view, and the run log.
EXPORTED = (*tables.PUBLISH_MAP.values(), tables.METRIC_RATES, tables.PIPELINE_RUNS)


def export_published(db_path: Path | str, out_dir: Path | str) -> dict[str, Path]:
    """Write each published table to <out_dir>/<table>.parquet with the serving copy's writer.

    All files come from one read-only snapshot; each is written, flushed and renamed like the
    serving copy's, so a reader of a file sees the old or the new version, never a partial one.
    """
    con = db.connect(db_path, read_only=True)
    try:
        return write_parquet_files(con, list(EXPORTED), Path(out_dir))
    finally:
        con.close()

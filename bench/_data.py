"""Generated contact data for the benchmarks, made once per folder and reused."""

from __future__ import annotations

from pathlib import Path

import duckdb

from fcr.generate import SampleSpec, write_sample


def sample(folder: Path, contacts: int, days: int = 365, file_format: str = "parquet") -> Path:
    """A file of `contacts` generated contacts over `days` (parquet or csv), generated only if not there yet.

    The CSV is written from the Parquet file, so both formats hold the same rows.
    """
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"contacts_{contacts}_{days}d.parquet"
    if not data.exists():
        print(f"generating {contacts:,} contacts over {days} days into {data} ...", flush=True)
        write_sample(SampleSpec(contacts=contacts, days=days), data)
    if file_format == "parquet":
        return data
    csv = data.with_suffix(".csv")
    if not csv.exists():
        print(f"writing the same rows as CSV to {csv} ...", flush=True)
        with duckdb.connect() as con:
            con.execute(
                "copy (select * from read_parquet($p)) to '" + str(csv).replace("'", "''") + "' (header)",
                {"p": str(data)},
            )
    return csv

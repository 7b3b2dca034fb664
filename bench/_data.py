"""Generated contact data for the benchmarks, made once per folder and reused."""

from __future__ import annotations

from pathlib import Path

from fcr.generate import SampleSpec, write_sample


def sample(folder: Path, contacts: int, days: int = 365) -> Path:
    """A Parquet file of `contacts` generated contacts over `days`, generated only if not there yet."""
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"contacts_{contacts}_{days}d.parquet"
    if not data.exists():
        print(f"generating {contacts:,} contacts over {days} days into {data} ...", flush=True)
        write_sample(SampleSpec(contacts=contacts, days=days), data)
    return data

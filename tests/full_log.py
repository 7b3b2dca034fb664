"""Contact logs with every optional column, and customers files, run through the pipeline for tests."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import duckdb

from fcr.config import CONTACT_COLUMNS, CUSTOMER_COLUMNS, build_config
from fcr.generate import SampleSpec, generate_sample, write_table
from fcr.run import RunResult, run

_SHORT_TIME = re.compile(r"^\d\d-\d\dT\d\d:\d\d$")


def given(text: str, year: int = 2026) -> list[dict]:
    """Rows from an aligned table: first line the column names, '.' = empty, 'MM-DDTHH:MM' = a UTC time."""
    header, *lines = [line.split() for line in text.strip().splitlines()]
    rows = []
    for values in lines:
        if len(values) != len(header):
            raise ValueError(f"{values}: {len(values)} values for {len(header)} columns")
        row = {}
        for name, value in zip(header, values, strict=True):
            if value != ".":
                row[name] = f"{year}-{value}:00" if _SHORT_TIME.match(value) else value
        rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict], header: tuple[str, ...]) -> Path:
    """Write rows (dicts with any subset of the header) as a CSV file; missing keys stay empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(header), extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in header})
    return path


def run_log(
    directory: Path,
    rows: list[dict],
    customers: list[dict] | None = None,
    config: dict | None = None,
    as_of: Any = None,
) -> RunResult:
    """Run the pipeline on given contact rows (and customers) into directory/fcr.duckdb."""
    contacts = write_csv(directory / "contacts.csv", rows, CONTACT_COLUMNS)
    customer_files = []
    if customers is not None:
        customer_files = [str(write_csv(directory / "customers.csv", customers, CUSTOMER_COLUMNS))]
    db = directory / "fcr.duckdb"
    return run(
        [str(contacts)],
        db,
        build_config(config or {}),
        as_of=as_of,
        customers=customer_files,
        force_as_of=True,
    )


def run_sample(directory: Path, contacts: int = 4000, seed: int = 3) -> RunResult:
    """Run the pipeline on a generated sample log and its customers file."""
    sample = generate_sample(SampleSpec(contacts=contacts, seed=seed, days=60))
    write_table(sample.contacts, directory / "contacts.csv")
    write_table(sample.customers, directory / "customers.csv")
    return run(
        [str(directory / "contacts.csv")],
        directory / "fcr.duckdb",
        build_config({}),
        customers=[str(directory / "customers.csv")],
    )


def query(db: Path, sql: str, params: dict | None = None) -> list[dict]:
    """Rows of a query on the published database as dicts (the connection is closed again)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        cursor = con.execute(sql, params or {})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()

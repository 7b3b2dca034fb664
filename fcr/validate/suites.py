"""Audit a run with the Great Expectations suites under expectations/ before anything is published.

Each suite file expectations/<name>.json is a GX 1.x ExpectationSuite, run against the rows of
sql/checks/<name>.sql fetched as a pandas DataFrame (GX's SQL datasource on DuckDB fails every
expectation silently; see DECISIONS.md). Cross-table checks are computed by that SQL into a small
frame, so the suites stay the one place where what is checked is written down.
"""

from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from fcr import sqlfiles, tables
from fcr.config import CANONICAL_CHANNELS, Config
from fcr.prefetch import prefetched
from fcr.runlog import last_published
from fcr.transform.incremental import definition_fingerprint

EXPECTATIONS_DIR = Path(__file__).resolve().parents[2] / "expectations"
INPUT = "input"
OUTPUT = "output"
_COLUMN_KWARGS = ("column", "column_A", "column_B")


class ValidationFailed(RuntimeError):
    """A suite found a broken expectation; nothing was published."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__(report.describe())
        self.report = report


@dataclass(frozen=True)
class Suite:
    """One expectations/<name>.json file: a GX suite plus where its rows come from."""

    name: str
    spec: dict

    @property
    def stage(self) -> str:
        """input (the loaded batch) or output (the staged tables)."""
        return self.spec["meta"]["stage"]

    @property
    def key_columns(self) -> list[str]:
        """Columns shown with every sample row, so a reader can find the row."""
        return self.spec["meta"].get("key_columns", [])

    @property
    def partition_column(self) -> str | None:
        """A column to split large frames by (hash), so uniqueness checks stay exact per chunk."""
        return self.spec["meta"].get("partition_column")

    @property
    def needs_previous_run(self) -> bool:
        """True when the suite compares with the last published run (skipped when there is none)."""
        return bool(self.spec["meta"].get("needs_previous_run", False))

    @property
    def expectation_names(self) -> list[str]:
        """The meta.name of each expectation, unique within the suite."""
        return [e["meta"]["name"] for e in self.spec["expectations"]]


@cache
def load_suite(name: str) -> Suite:
    """Read expectations/<name>.json."""
    path = EXPECTATIONS_DIR / f"{name}.json"
    return Suite(name=path.stem, spec=json.loads(path.read_text()))


def suites(stage: str) -> list[Suite]:
    """Every suite of a stage, in file-name order."""
    found = [load_suite(p.stem) for p in sorted(EXPECTATIONS_DIR.glob("*.json"))]
    return [s for s in found if s.stage == stage]


@dataclass
class Failure:
    """One expectation that did not hold, with how often and a few offending rows."""

    suite: str
    name: str
    description: str
    expectation: str
    unexpected: int = 0
    rows: int = 0
    observed: Any = None
    error: str | None = None
    samples: list[dict] = field(default_factory=list)

    @property
    def qualified_name(self) -> str:
        """suite.expectation, as it appears in messages and in pipeline_runs."""
        return f"{self.suite}.{self.name}"

    def describe(self) -> str:
        """Two or more lines: the name and rule, what was found, sample rows."""
        lines = [f"  - {self.qualified_name}: {self.description}", f"    {self.expectation}"]
        if self.error:
            lines.append(f"    could not be evaluated: {self.error}")
        elif self.unexpected:
            lines.append(f"    {self.unexpected:,} of {self.rows:,} rows break it, e.g.:")
        elif self.observed is not None:
            lines.append(f"    observed: {self.observed}")
        lines += [f"      {row}" for row in self.samples]
        return "\n".join(lines)


@dataclass
class ValidationReport:
    """What one stage of validation ran and found."""

    stage: str
    suites: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    expectations: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        """True when every expectation of every suite run held."""
        return not self.failures

    def describe(self) -> str:
        """The message a failed run prints: each failed expectation with sample rows."""
        if self.passed:
            return f"{self.stage} validation passed: {self.expectations} expectations held"
        lines = [
            f"{self.stage} validation failed: {len(self.failures)} of {self.expectations} expectations "
            "did not hold; nothing was published and the last published tables are kept."
        ]
        lines += [f.describe() for f in self.failures]
        return "\n".join(lines)

    def summary(self) -> dict:
        """A JSON-ready digest for published.pipeline_runs.validation_detail."""
        return {
            "passed": self.passed,
            "suites": self.suites,
            "skipped": self.skipped,
            "expectations": self.expectations,
            "rows": self.rows,
            "failed": [f.qualified_name for f in self.failures],
            "seconds": round(self.seconds, 3),
        }


def suite_parameters(config: Config, now: datetime | None = None) -> dict[str, Any]:
    """The $PARAMETER values and SQL bind parameters the suites take, from the [validation] config."""
    settings = config.validation
    now = now or datetime.now(UTC)
    return {
        "earliest_started_at": settings.earliest_started_at,
        "latest_started_at": now + settings.future_tolerance,
        "canonical_channels": list(CANONICAL_CHANNELS),
        "max_case_drop_share": settings.max_case_drop_share,
        "case_drop_min_cases": settings.case_drop_min_cases,
    }


def validate_input(con: duckdb.DuckDBPyConnection, config: Config, files: list[str]) -> ValidationReport:
    """Run the input suites on the contacts loaded from `files` and from batches no run has validated.

    A batch that fails stays awaiting validation, so no later run publishes it unchecked; a batch
    that passes is recorded in raw.validated_files.
    """
    con.execute(
        f"create table if not exists {tables.VALIDATED_FILES} "
        "(source_file varchar primary key, validated_at timestamptz)"
    )
    pending = _pending_files(con, files)
    params = {**suite_parameters(config), "files": pending}
    report = run_suites(con, suites(INPUT), params, config)
    if report.passed and pending:
        con.execute(
            f"insert or replace into {tables.VALIDATED_FILES} "
            "select unnest($files::varchar[]), current_timestamp",
            {"files": pending},
        )
    return report


def _pending_files(con: duckdb.DuckDBPyConnection, files: list[str]) -> list[str]:
    unvalidated = con.execute(
        f"select distinct source_file from {tables.CONTACTS} "
        f"anti join {tables.VALIDATED_FILES} using (source_file)"
    ).fetchall()
    return sorted({*files, *(row[0] for row in unvalidated)})


def validate_outputs(con: duckdb.DuckDBPyConnection, config: Config) -> ValidationReport:
    """Run the output suites on the staged tables, before they are swapped into published."""
    stage_views(con)
    _, previous_definition = last_published(con)
    same_definition = previous_definition is not None and json.loads(previous_definition) == json.loads(
        definition_fingerprint(config)
    )
    skip = {} if same_definition else {"needs_previous_run": "no published run with these linking settings"}
    return run_suites(con, suites(OUTPUT), suite_parameters(config), config, skip)


def stage_views(con: duckdb.DuckDBPyConnection) -> None:
    """Build each published view over the staged tables too (staging.metric_rates), to validate it."""
    sql = sqlfiles.read_sql("marts/metric_rates")
    staged = sql.replace(f"{tables.PUBLISHED}.", f"{tables.STAGING}.")
    if tables.STG_METRIC_RATES not in staged:
        raise RuntimeError(f"marts/metric_rates no longer creates {tables.METRIC_RATES}")
    con.execute(staged)


def run_suites(
    con: duckdb.DuckDBPyConnection,
    to_run: list[Suite],
    params: dict[str, Any],
    config: Config,
    skip: dict[str, str] | None = None,
) -> ValidationReport:
    """Validate each suite against the frame its sql/checks model selects; collect failures."""
    clock = time.perf_counter()
    report = ValidationReport(stage=to_run[0].stage if to_run else "")
    settings = config.validation
    for suite in to_run:
        reason = (skip or {}).get("needs_previous_run") if suite.needs_previous_run else None
        if reason:
            report.skipped[suite.name] = reason
            continue
        failures: dict[str, Failure] = {}
        expectation_suite = gx_suite(suite)
        rows = 0
        # the next chunk is fetched in a thread while GX checks this one
        for frame in prefetched(_frames(con, suite, params, settings.chunk_rows)):
            rows += len(frame)
            for failure in _validate_frame(suite, expectation_suite, frame, params, settings.sample_rows):
                _merge(failures, failure, settings.sample_rows)
        if not rows:
            report.skipped[suite.name] = "no rows to check"
            continue
        report.suites.append(suite.name)
        report.rows[suite.name] = rows
        report.expectations += len(suite.spec["expectations"])
        report.failures += failures.values()
    report.seconds = time.perf_counter() - clock
    return report


def _frames(con: duckdb.DuckDBPyConnection, suite: Suite, params: dict[str, Any], chunk_rows: int):
    """The suite's rows as pandas frames, through Arrow (faster than .df() for text columns).

    A frame with a partition column is split by its hash into chunks of about chunk_rows, so memory
    stays bounded and a uniqueness check on that column stays exact within each chunk.
    """
    sql = sqlfiles.read_sql(f"checks/{suite.name}")
    bound = sqlfiles.bind(sql, params)
    column = suite.partition_column
    # a cursor of its own: relations cannot run while the caller's connection holds a result
    with con.cursor() as cursor:
        if column is None:
            frame = cursor.sql(sql, params=bound).to_arrow_table().to_pandas()
            if len(frame):
                yield frame
            return
        rows = cursor.sql(f"select count(*) from ({sql})", params=bound).fetchall()[0][0]
        chunks = math.ceil(rows / chunk_rows)
        for chunk in range(chunks):
            yield (
                cursor.sql(
                    f'select * from ({sql}) where hash("{column}") % $chunks = $chunk',
                    params={**bound, "chunks": chunks, "chunk": chunk},
                )
                .to_arrow_table()
                .to_pandas()
            )


def _merge(failures: dict[str, Failure], failure: Failure, sample_rows: int) -> None:
    known = failures.get(failure.name)
    if known is None:
        failures[failure.name] = failure
        return
    known.unexpected += failure.unexpected
    known.rows += failure.rows
    known.samples = (known.samples + failure.samples)[:sample_rows]


@cache
def _gx():
    """Great Expectations, imported on first use (the import costs about 3 s)."""
    import great_expectations as gx

    return gx


@cache
def _batch_definition():
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every frame under 1 GB by hashing all of it, twice per validation, which
    # costs more than the expectations themselves; the fingerprint only labels the batch.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("fcr").add_dataframe_asset("frames")
    return asset.add_batch_definition_whole_dataframe("whole frame")


def gx_suite(suite: Suite):
    """The suite as a GX ExpectationSuite; an unknown or malformed expectation raises (GX would drop it)."""
    gx = _gx()
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    expectations = []
    for spec in suite.spec["expectations"]:
        try:
            expectations.append(ExpectationConfiguration(**spec).to_domain_obj())
        except Exception as exc:
            raise ValueError(f"expectations/{suite.name}.json, {spec['meta']['name']}: {exc}") from exc
    return gx.ExpectationSuite(name=suite.name, expectations=expectations, meta=suite.spec["meta"])


def _validate_frame(
    suite: Suite, expectation_suite, frame, params: dict[str, Any], sample_rows: int
) -> list[Failure]:
    """The suite's failures on one frame, with counts and sample rows for each broken expectation.

    A pass/fail pass (BOOLEAN_ONLY) costs half a SUMMARY one; only a frame that fails it is
    validated again for the counts and samples the report shows.
    """
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    with _configurations_built_once():
        result = batch.validate(
            expectation_suite, expectation_parameters=params, result_format={"result_format": "BOOLEAN_ONLY"}
        )
        if result.success:
            return []
        result = batch.validate(
            expectation_suite,
            expectation_parameters=params,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": sample_rows},
        )
    return [_failure(suite, r, frame, sample_rows) for r in result.results if not r.success]


@contextmanager
def _configurations_built_once():
    """Build each expectation's configuration once per validation instead of at every look-up.

    GX's Expectation.configuration is a property that serialises the whole expectation (a
    pydantic dict) on each access, and a validation reads it about 60 times per expectation: a
    third of the validation time on small frames (DECISIONS.md). An expectation object is not
    changed while it is validated, so each one's first configuration is the one it would rebuild.
    """
    from great_expectations.expectations.expectation import Expectation

    built = Expectation.configuration
    seen: dict[int, tuple[Any, Any]] = {}  # id -> (expectation, configuration): held, so no id is reused

    def configuration(expectation):
        known = seen.get(id(expectation))
        if known is None or known[0] is not expectation:
            known = seen[id(expectation)] = (expectation, built.fget(expectation))
        return known[1]

    Expectation.configuration = property(configuration)
    try:
        yield
    finally:
        Expectation.configuration = built


def _failure(suite: Suite, result, frame, sample_rows: int) -> Failure:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k not in ("batch_id", "result_format")}
    details = result.result or {}
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        error = result.exception_info.get("exception_message")
    columns = [c for c in (*suite.key_columns, *_columns_of(kwargs)) if c in frame.columns]
    indexes = details.get("partial_unexpected_index_list") or []
    samples = [_plain(frame.loc[i, list(dict.fromkeys(columns))].to_dict()) for i in indexes[:sample_rows]]
    return Failure(
        suite=suite.name,
        name=config.meta["name"],
        description=config.description or "",
        expectation=f"{config.type}({', '.join(f'{k}={v}' for k, v in kwargs.items())})",
        unexpected=details.get("unexpected_count") or 0,
        rows=details.get("element_count") or len(frame),
        observed=details.get("observed_value"),
        error=error,
        samples=samples,
    )


def _columns_of(kwargs: dict) -> list[str]:
    return [kwargs[k] for k in _COLUMN_KWARGS if k in kwargs] + list(kwargs.get("column_list", []))


def _plain(row: dict) -> dict:
    """Sample row values as readable text and numbers (no pandas or numpy types)."""
    import pandas as pd

    out = {}
    for key, value in row.items():
        if pd.api.types.is_scalar(value) and pd.isna(value):
            value = None
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif hasattr(value, "item"):
            value = value.item()
        out[key] = value
    return out

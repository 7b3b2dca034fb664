"""The Great Expectations suites: every expectation catches the one thing it is about, good data passes."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from fcr import db
from fcr.config import build_config
from fcr.generate import SampleSpec, write_sample
from fcr.run import run
from fcr.sqlfiles import SQL_DIR
from fcr.validate.suites import (
    EXPECTATIONS_DIR,
    INPUT,
    OUTPUT,
    gx_suite,
    load_suite,
    run_suites,
    stage_views,
    suite_parameters,
    suites,
    validate_input,
    validate_outputs,
)

# Compare every period with the previous run, however small the sample.
CONFIG = build_config({"validation": {"case_drop_min_cases": 0}})


@pytest.fixture(scope="module")
def good_db(tmp_path_factory) -> Path:
    """A sample log run twice with the same settings: staged outputs plus a previous published run."""
    folder = tmp_path_factory.mktemp("validate")
    write_sample(SampleSpec(contacts=3000, days=70), folder / "contacts.csv")
    run([str(folder / "contacts.csv")], folder / "fcr.duckdb", CONFIG)
    run([str(folder / "contacts.csv")], folder / "fcr.duckdb", CONFIG)
    return folder / "fcr.duckdb"


@pytest.fixture
def con(good_db: Path, tmp_path: Path):
    """A writable copy of the good database."""
    copy = tmp_path / "fcr.duckdb"
    shutil.copy(good_db, copy)
    connection = db.connect(copy)
    yield connection
    connection.close()


def loaded_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every file raw.contacts holds rows of (all validated by the fixture's runs)."""
    return [r[0] for r in con.execute("select distinct source_file from raw.contacts").fetchall()]


def failures_of(con: duckdb.DuckDBPyConnection, suite_name: str) -> set[str]:
    """Run one suite on the database; the names of the expectations that failed."""
    stage_views(con)
    params = {**suite_parameters(CONFIG), "files": loaded_files(con)}
    report = run_suites(con, [load_suite(suite_name)], params, CONFIG)
    assert report.suites == [suite_name], report.skipped
    return {f.name for f in report.failures}


def test_every_suite_file_is_a_gx_suite_with_a_sql_frame():
    checks = {p.stem for p in (SQL_DIR / "checks").glob("*.sql")}
    files = {p.stem for p in EXPECTATIONS_DIR.glob("*.json")}
    assert files == checks, "each expectations/<name>.json runs on sql/checks/<name>.sql"
    for name in files:
        suite = load_suite(name)
        assert suite.stage in (INPUT, OUTPUT)
        assert len(set(suite.expectation_names)) == len(suite.expectation_names), name
        built = gx_suite(suite).to_json_dict()["expectations"]
        for ours, theirs in zip(suite.spec["expectations"], built, strict=True):
            # GX leaves out arguments given at their default; every other one survives as written
            assert theirs["type"] == ours["type"]
            assert theirs["kwargs"] == {k: v for k, v in ours["kwargs"].items() if k in theirs["kwargs"]}


def test_an_unknown_expectation_is_an_error_not_silently_dropped(tmp_path):
    from fcr.validate.suites import Suite

    broken = Suite("broken", {"meta": {"stage": OUTPUT}, "expectations": [
        {"type": "expect_column_values_to_be_sparkly", "kwargs": {"column": "x"}, "meta": {"name": "sparkly"}}
    ]})  # fmt: skip
    with pytest.raises(ValueError, match="sparkly"):
        gx_suite(broken)


def test_known_good_data_passes_every_expectation(con):
    inputs = validate_input(con, CONFIG, loaded_files(con))
    outputs = validate_outputs(con, CONFIG)
    assert inputs.passed and outputs.passed, inputs.describe() + outputs.describe()
    assert not inputs.skipped and not outputs.skipped
    everything = sum(len(s.spec["expectations"]) for s in suites(INPUT) + suites(OUTPUT))
    assert inputs.expectations + outputs.expectations == everything
    assert inputs.rows["contacts_batch"] > 2900


ONE_CONTACT = "contact_id = (select min(contact_id) from raw.contacts where ended_at is not null)"
FIRST_DAY = (
    "grain = 'day' and dimension = 'all' and period_start = (select min(period_start) "
    "from staging.metrics where grain = 'day' and dimension = 'all' and mature_cases > 0)"
)
BUSY_DAY = (  # a day with every kind of case, so counts can move without breaking other rules
    "grain = 'day' and dimension = 'all' and period_start = (select min(period_start) from staging.metrics "
    "where grain = 'day' and dimension = 'all' and cases_1 > 0 and cases_2 > 0 and cases_3 > 0 "
    "and self_service_cases > 0 and first_contact_surveys > 0 and first_contact_dispositions > 0)"
)
FIRST_WEEK = (
    "grain = 'week' and dimension = 'all' and period_start = "
    "(select min(period_start) from staging.metrics where grain = 'week')"
)
OTHER_DEFINITION = "not is_current_definition and match_on = 'customer' and dimension = 'all'"
CURRENT_DEFINITION = "is_current_definition and dimension = 'all' and mature_cases > 0"


def contact(assignments: str) -> list[str]:
    """Change one contact of the loaded batch."""
    return [f"update raw.contacts set {assignments} where {ONE_CONTACT}"]


def retype(column: str, new_type: str) -> list[str]:
    """Give a raw.contacts column another type, keeping the column set."""
    return [
        f"alter table raw.contacts drop column {column}",
        f"alter table raw.contacts add column {column} {new_type}",
    ]


def metrics(assignments: str, rows: str = FIRST_DAY) -> list[str]:
    """Change staged metrics rows (the first day with mature cases unless told)."""
    return [f"update staging.metrics set {assignments} where {rows}"]


def sensitivity(assignments: str, rows: str = OTHER_DEFINITION) -> list[str]:
    """Change staged sensitivity rows (a definition other than the run's unless told)."""
    return [f"update staging.fcr_sensitivity set {assignments} where {rows}"]


def flow(assignments: str, kind: str = "consecutive") -> list[str]:
    """Change one staged channel_flow row of a flow kind."""
    row = f"(select min(rowid) from staging.channel_flow where flow_kind = '{kind}')"
    return [f"update staging.channel_flow set {assignments} where rowid = {row}"]


def reason(assignments: str, rows: str = "mature_cases > 0") -> list[str]:
    """Change one staged reason_priority row (the first with mature cases unless told)."""
    row = f"(select min(rowid) from staging.reason_priority where {rows})"
    return [f"update staging.reason_priority set {assignments} where rowid = {row}"]


def case(suite: str, expectation: str, statements: list[str], *also: str):
    """One breaking case: the SQL that breaks the expectation, and any others it cannot help breaking too."""
    return pytest.param(suite, expectation, statements, set(also), id=f"{suite}.{expectation}")


# Moving a count by -(n + 1) and its neighbour by +(n + 1) keeps their sum, so only the sign check fails.
BREAKERS = [
    # input: the loaded batch
    case("contacts_batch", "contact_id_present", contact("contact_id = null")),
    case(
        "contacts_batch",
        "contact_id_unique",
        [f"insert into raw.contacts from raw.contacts where {ONE_CONTACT}"],
    ),
    case("contacts_batch", "started_at_present", contact("started_at = null")),
    case("contacts_batch", "channel_present", contact("channel = null")),
    case("contacts_batch", "channel_is_canonical", contact("channel = 'fax'")),
    case("contacts_batch", "direction_is_known", contact("direction = 'up'")),
    case("contacts_batch", "started_at_plausible", contact("started_at = '1970-01-01 00:00:00+00'")),
    case("contacts_batch", "ended_at_plausible", contact("ended_at = now() + interval 30 day")),
    case(
        "contacts_batch",
        "ended_at_not_before_started_at",
        contact("ended_at = started_at - interval 1 second"),
    ),
    case("contacts_batch", "wait_seconds_not_negative", contact("wait_seconds = -1")),
    case("contacts_batch", "handle_seconds_not_negative", contact("handle_seconds = -1")),
    case("contacts_batch", "hold_seconds_not_negative", contact("hold_seconds = -1")),
    case("contacts_batch", "transfers_not_negative", contact("transfers = -1")),
    case("contacts_batch", "survey_ces_in_range", contact("survey_ces = 8")),
    case("contacts_batch", "survey_csat_in_range", contact("survey_csat = 0")),
    # input: the columns of raw.contacts
    case(
        "contacts_columns",
        "columns_match_contact_schema",
        ["alter table raw.contacts add column note varchar"],
    ),
    case("contacts_columns", "contact_id_is_varchar", retype("contact_id", "bigint")),
    case("contacts_columns", "customer_id_is_varchar", retype("customer_id", "bigint")),
    case("contacts_columns", "channel_is_varchar", retype("channel", "integer")),
    case("contacts_columns", "started_at_is_timestamptz", retype("started_at", "timestamp")),
    case("contacts_columns", "ended_at_is_timestamptz", retype("ended_at", "varchar")),
    case("contacts_columns", "direction_is_varchar", retype("direction", "boolean")),
    case("contacts_columns", "reason_is_varchar", retype("reason", "integer")),
    case("contacts_columns", "wait_seconds_is_double", retype("wait_seconds", "varchar")),
    case("contacts_columns", "handle_seconds_is_double", retype("handle_seconds", "varchar")),
    case("contacts_columns", "hold_seconds_is_double", retype("hold_seconds", "varchar")),
    case("contacts_columns", "transfers_is_integer", retype("transfers", "double")),
    case("contacts_columns", "agent_resolved_is_boolean", retype("agent_resolved", "varchar")),
    case("contacts_columns", "survey_resolved_is_boolean", retype("survey_resolved", "varchar")),
    case("contacts_columns", "survey_ces_is_double", retype("survey_ces", "varchar")),
    case("contacts_columns", "survey_csat_is_double", retype("survey_csat", "varchar")),
    # output: staged metrics
    case("metrics", "grain_present", metrics("grain = null")),
    case("metrics", "period_start_present", metrics("period_start = null")),
    case("metrics", "dimension_present", metrics("dimension = null")),
    case("metrics", "dimension_value_present", metrics("dimension_value = null")),
    case("metrics", "keys_unique", [f"insert into staging.metrics from staging.metrics where {FIRST_DAY}"]),
    case("metrics", "grain_is_known", metrics("grain = 'year'")),
    case("metrics", "contacts_not_negative", metrics("contacts = -1")),
    case("metrics", "counted_contacts_not_negative", metrics("counted_contacts = -1")),
    # fewer than -1 mature cases would be negative too; buckets cannot add up to -1 without one going negative
    case("metrics", "cases_not_negative", metrics("cases = -1"), "mature_cases_within_cases"),
    case("metrics", "mature_cases_not_negative", metrics("mature_cases = -1"), "case_buckets_add_up"),
    case("metrics", "cases_1_not_negative", metrics("cases_1 = -1, cases_2 = cases_2 + cases_1 + 1")),
    case("metrics", "cases_2_not_negative", metrics("cases_2 = -1, cases_1 = cases_1 + cases_2 + 1")),
    case("metrics", "cases_3_not_negative", metrics("cases_3 = -1, cases_1 = cases_1 + cases_3 + 1")),
    case(
        "metrics",
        "cases_4_plus_not_negative",
        metrics("cases_4_plus = -1, cases_1 = cases_1 + cases_4_plus + 1"),
    ),
    case("metrics", "repeat_contacts_not_negative", metrics("repeat_contacts = -1")),
    case("metrics", "case_buckets_add_up", metrics("cases_4_plus = cases_4_plus + 1")),
    case(
        "metrics",
        "mature_cases_within_cases",
        metrics("mature_cases = cases + 1, cases_4_plus = cases_4_plus + cases + 1 - mature_cases"),
    ),
    # output: the rates as published.metric_rates derives them from the staged metrics
    case("metric_rates", "fcr_is_a_share", metrics("cases_1 = -1", BUSY_DAY)),
    case(  # 3CR >= 2CR > 1
        "metric_rates",
        "two_contact_resolution_is_a_share",
        metrics("cases_2 = mature_cases + 1", BUSY_DAY),
        "three_contact_resolution_is_a_share",
    ),
    case(
        "metric_rates", "three_contact_resolution_is_a_share", metrics("cases_3 = mature_cases + 1", BUSY_DAY)
    ),
    case(
        "metric_rates",
        "same_channel_fcr_is_a_share",
        metrics("same_channel_fcr_cases = mature_cases + 1", BUSY_DAY),
    ),
    case(
        "metric_rates",
        "repeat_contact_rate_is_a_share",
        metrics("repeat_contacts = mature_case_contacts + 1", BUSY_DAY),
    ),
    case(
        "metric_rates",
        "channel_switch_rate_is_a_share",
        metrics("multi_channel_cases = mature_cases + 1", BUSY_DAY),
    ),
    case(
        "metric_rates",
        "containment_rate_is_a_share",
        metrics("contained_cases = self_service_cases + 1", BUSY_DAY),
    ),
    case(
        "metric_rates",
        "customer_reported_fcr_is_a_share",
        metrics("first_contact_survey_resolved = first_contact_surveys + 1", BUSY_DAY),
    ),
    case(
        "metric_rates",
        "agent_reported_fcr_is_a_share",
        metrics("first_contact_agent_resolved = first_contact_dispositions + 1", BUSY_DAY),
    ),
    case("metric_rates", "fcr_within_2cr", metrics("cases_2 = -1", BUSY_DAY)),
    case("metric_rates", "2cr_within_3cr", metrics("cases_3 = -1", BUSY_DAY)),
    # output: every counted contact in exactly one case, row conservation
    case(
        "contacts_in_one_case",
        "counted_contact_in_exactly_one_case",
        [
            "delete from staging.case_contacts "
            "where contact_id = (select min(contact_id) from staging.case_contacts)"
        ],
    ),
    case(
        "contacts_in_one_case",
        "uncounted_contact_in_no_case",
        [
            "insert into staging.case_contacts by name select 'some-case' as case_id, contact_id "
            "from staging.contacts where not is_counted limit 1"
        ],
    ),
    case(
        "case_contacts_conserved",
        "case_contacts_add_up",
        [
            "update staging.cases set contact_count = contact_count + 1 "
            "where case_id = (select min(case_id) from staging.cases)"
        ],
    ),
    case(
        "case_contacts_conserved",
        "case_id_unique",
        ["insert into staging.cases select * replace (0 as contact_count) from staging.cases limit 1"],
    ),
    # output: days add up to weeks and months
    case("days_roll_up", "days_sum_to_period", metrics("cases = cases + 1")),
    case("days_roll_up", "period_row_matches_direct", metrics("cases = cases + 1", FIRST_WEEK)),
    # output: against the last published run
    case(  # the first contacts of half of one month's cases are in no case any more
        "cases_vs_previous_run",
        "cases_did_not_drop",
        [
            "delete from staging.case_contacts where contact_id in (select case_id from staging.cases "
            "where date_trunc('month', business_date) = (select min(date_trunc('month', business_date)) "
            "from staging.cases) and hash(case_id) % 2 = 0)"
        ],
    ),
    # output: the sensitivity table
    case(
        "fcr_sensitivity",
        "keys_unique",
        [f"insert into staging.fcr_sensitivity from staging.fcr_sensitivity where {OTHER_DEFINITION}"],
    ),
    case("fcr_sensitivity", "match_on_is_known", sensitivity("match_on = 'ticket'")),
    case(  # -1 cases hold -1 mature cases, -1 of them resolved first time
        "fcr_sensitivity",
        "cases_not_negative",
        sensitivity("cases = -1, mature_cases = -1, cases_1 = -1, cases_2 = 0, cases_3 = 0"),
        "mature_cases_not_negative",
        "cases_1_not_negative",
    ),
    case(
        "fcr_sensitivity",
        "mature_cases_not_negative",
        sensitivity("mature_cases = -1, cases_1 = -1, cases_2 = 0, cases_3 = 0"),
        "cases_1_not_negative",
    ),
    case(
        "fcr_sensitivity",
        "cases_1_not_negative",
        sensitivity("cases_1 = -1, cases_2 = cases_2 + cases_1 + 1"),
    ),
    case(
        "fcr_sensitivity",
        "cases_2_not_negative",
        sensitivity("cases_2 = -1, cases_1 = cases_1 + cases_2 + 1"),
    ),
    case(
        "fcr_sensitivity",
        "cases_3_not_negative",
        sensitivity("cases_3 = -1, cases_1 = cases_1 + cases_3 + 1"),
    ),
    case(
        "fcr_sensitivity",
        "mature_cases_within_cases",
        sensitivity("cases = mature_cases - 1", f"{OTHER_DEFINITION} and mature_cases > 0"),
    ),
    case(
        "fcr_sensitivity",
        "case_buckets_within_mature_cases",
        sensitivity("cases_3 = cases_3 + mature_cases + 1, cases = cases + mature_cases + 1"),
    ),
    case("fcr_sensitivity", "fcr_is_a_share", sensitivity("fcr = -0.5")),
    case(  # 3CR >= 2CR > 1
        "fcr_sensitivity",
        "two_contact_resolution_is_a_share",
        sensitivity("two_contact_resolution = 1.5, three_contact_resolution = 1.5"),
        "three_contact_resolution_is_a_share",
    ),
    case(
        "fcr_sensitivity",
        "three_contact_resolution_is_a_share",
        sensitivity("three_contact_resolution = 1.5"),
    ),
    case(
        "fcr_sensitivity",
        "fcr_within_2cr",
        sensitivity(
            "fcr = two_contact_resolution + 0.01", f"{OTHER_DEFINITION} and two_contact_resolution < 0.99"
        ),
    ),
    case(
        "fcr_sensitivity",
        "2cr_within_3cr",
        sensitivity(
            "three_contact_resolution = two_contact_resolution - 0.01, fcr = 0",
            f"{OTHER_DEFINITION} and two_contact_resolution > 0.01",
        ),
    ),
    case(
        "fcr_sensitivity",
        "current_definition_cases_match_metrics",
        sensitivity("cases = cases + 1", CURRENT_DEFINITION),
    ),
    case(  # a mature case is a case
        "fcr_sensitivity",
        "current_definition_mature_cases_match_metrics",
        sensitivity("mature_cases = mature_cases + 1, cases = cases + 1", CURRENT_DEFINITION),
        "current_definition_cases_match_metrics",
    ),
    case(
        "fcr_sensitivity",
        "current_definition_cases_1_match_metrics",
        sensitivity("cases_1 = cases_1 - 1, cases_2 = cases_2 + 1", f"{CURRENT_DEFINITION} and cases_1 > 0"),
    ),
]


BREAKERS += [
    # output: the channel-flow table and its conservation against the metrics
    case(
        "channel_flow",
        "keys_unique",
        ["insert into staging.channel_flow from staging.channel_flow limit 1"],
    ),
    case("channel_flow", "grain_is_known", flow("grain = 'year'")),
    case("channel_flow", "flow_kind_is_known", flow("flow_kind = 'sideways'")),
    case("channel_flow", "from_channel_is_canonical", flow("from_channel = 'fax'")),
    case("channel_flow", "to_channel_is_canonical", flow("to_channel = 'fax'")),
    case("channel_flow", "transitions_positive", flow("transitions = 0")),
    case(
        "channel_flow_conserved",
        "consecutive_transitions_equal_repeat_contacts",
        flow("transitions = transitions + 1"),
    ),
    case(
        "channel_flow_conserved",
        "first_last_transitions_equal_multi_contact_cases",
        flow("transitions = transitions + 1", "first_last"),
    ),
    # output: the reason-priority table and its conservation against the metrics
    case(
        "reason_priority",
        "keys_unique",
        ["insert into staging.reason_priority from staging.reason_priority limit 1"],
        "priority_rank_unique",
    ),
    case("reason_priority", "priority_rank_unique", reason("priority_rank = 1", "priority_rank = 2")),
    case("reason_priority", "priority_rank_positive", reason("priority_rank = 0")),
    case("reason_priority", "cases_1_not_negative", reason("cases_1 = -1")),
    case("reason_priority", "mature_cases_within_cases", reason("cases = mature_cases - 1")),
    case("reason_priority", "cases_1_within_mature_cases", reason("cases_1 = mature_cases + 1")),
    case("reason_priority", "fcr_is_a_share", reason("fcr = 1.5")),
    case("reason_priority", "excess_contacts_not_negative", reason("excess_contacts = -1")),
    case("reason_priority", "excess_contact_cost_not_negative", reason("excess_contact_cost = -1")),
    case("reason_priority", "money_at_stake_covers_cost", reason("money_at_stake = excess_contact_cost - 1")),
    case("reason_priority", "multi_contact_churn_rate_is_a_share", reason("multi_contact_churn_rate = 1.5")),
    case("reason_priority", "fcr_churn_rate_is_a_share", reason("fcr_churn_rate = -0.5")),
    case("reason_priority_conserved", "cases_add_up", reason("cases = cases + 1")),
    case("reason_priority_conserved", "mature_cases_add_up", reason("mature_cases = mature_cases + 1")),
    case("reason_priority_conserved", "cases_1_add_up", reason("cases_1 = cases_1 + 1")),
    case(
        "reason_priority_conserved",
        "excess_contacts_add_up",
        reason("excess_contacts = excess_contacts + 1"),
    ),
]


def follow_up(assignments: str) -> list[str]:
    """Change one staged follow-up (the first)."""
    row = "(select min(rowid) from staging.follow_ups)"
    return [f"update staging.follow_ups set {assignments} where rowid = {row}"]


BREAKERS += [
    # output: the follow-up list and its conservation against case_contacts
    case(
        "follow_ups_conserved",
        "follow_ups_equal_repeat_contacts",
        ["delete from staging.follow_ups where rowid = (select min(rowid) from staging.follow_ups)"],
    ),
    case(
        "follow_ups_conserved",
        "each_contact_listed_once",
        ["insert into staging.follow_ups from staging.follow_ups limit 1"],
        "follow_ups_equal_repeat_contacts",
    ),
    case("follow_ups_conserved", "previous_contact_present", follow_up("previous_contact_id = null")),
    case("follow_ups_conserved", "not_before_previous_contact", follow_up("gap_seconds = -1")),
]


def test_every_expectation_has_a_breaking_case():
    covered = {(p.values[0], p.values[1]) for p in BREAKERS}
    declared = {
        (suite.name, name) for suite in suites(INPUT) + suites(OUTPUT) for name in suite.expectation_names
    }
    assert declared - covered == set(), "add a row to BREAKERS"
    assert covered - declared == set()


@pytest.mark.parametrize(("suite_name", "expectation", "statements", "also"), BREAKERS)
def test_each_expectation_catches_the_table_broken_for_it(con, suite_name, expectation, statements, also):
    for statement in statements:  # on the good data every expectation holds (test above)
        changed = con.execute(statement).fetchall()
        assert changed != [(0,)], f"{statement!r} changed nothing: the fixture lacks the row it breaks"
    assert failures_of(con, suite_name) == {expectation, *also}


def test_a_failure_names_the_expectation_and_shows_sample_rows(con):
    con.execute(f"update raw.contacts set survey_ces = 9 where {ONE_CONTACT}")
    contact = con.execute(f"select contact_id from raw.contacts where {ONE_CONTACT}").fetchone()[0]
    report = validate_input(con, CONFIG, loaded_files(con))
    assert not report.passed
    message = report.describe()
    assert "contacts_batch.survey_ces_in_range" in message
    assert "1 of" in message
    assert f"'contact_id': '{contact}'" in message and "'survey_ces': 9.0" in message


def test_a_batch_already_validated_is_not_checked_again(con):
    con.execute(f"update raw.contacts set survey_csat = 6 where {ONE_CONTACT}")
    report = validate_input(con, CONFIG, [])
    assert report.passed and report.skipped == {"contacts_batch": "no rows to check"}


def test_a_failed_batch_stays_pending_until_it_passes(con):
    files = [r[0] for r in con.execute("select source_file from raw.validated_files").fetchall()]
    con.execute(f"update raw.contacts set survey_csat = 6 where {ONE_CONTACT}")
    con.execute("delete from raw.validated_files")
    assert not validate_input(con, CONFIG, []).passed  # the batch is found without being named
    assert con.execute("select count(*) from raw.validated_files").fetchone()[0] == 0
    con.execute(f"update raw.contacts set survey_csat = 5 where {ONE_CONTACT}")
    assert validate_input(con, CONFIG, []).passed
    assert [r[0] for r in con.execute("select source_file from raw.validated_files").fetchall()] == files


def test_large_batches_are_checked_in_hash_chunks_without_missing_duplicates(con):
    con.execute(f"insert into raw.contacts from raw.contacts where {ONE_CONTACT}")
    chunked = build_config({"validation": {"chunk_rows": 500}})
    report = validate_input(con, chunked, loaded_files(con))
    assert [f.qualified_name for f in report.failures] == ["contacts_batch.contact_id_unique"]
    assert report.failures[0].unexpected == 2
    assert report.rows["contacts_batch"] > 2900


def test_the_case_drop_check_waits_for_a_run_with_the_same_settings(con):
    changed = build_config({"validation": {"case_drop_min_cases": 0}, "linking": {"repeat_window": "3d"}})
    con.execute("update staging.metrics set cases = 0 where dimension = 'all'")
    report = validate_outputs(con, changed)
    assert "cases_vs_previous_run" in report.skipped
    assert "cases_vs_previous_run.cases_did_not_drop" not in [f.qualified_name for f in report.failures]

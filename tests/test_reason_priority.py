"""published.reason_priority (what to fix first) and the customers file that feeds it (SPEC section 4)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fcr.cli import app
from fcr.config import ConfigError, build_config
from fcr.docs import load_schema
from fcr.generate import SampleSpec, generate_sample, write_table
from fcr.load.contacts import QuarantineThresholdError
from fcr.load.read import FileLoadError
from fcr.run import run
from tests.full_log import given, query, run_log, run_sample, write_csv

AS_OF = datetime(2026, 4, 1, tzinfo=UTC)
COSTS = {"costs": {"currency": "EUR", "phone": 5, "email": 2, "chat": 3, "bot": 1}}

# Eight customers, one case each, all starting on Monday 2026-03-02:
#   billing  c1 phone | c2 phone, phone | c3 phone, email, email | c4 chat | c5 chat
#   delivery c6 email, phone, phone, phone | c7 email
#   password c8 bot, bot
LOG = given("""
contact_id customer_id reason   channel started_at  ended_at
B1         c1          billing  phone   03-02T09:00 03-02T09:10
B2a        c2          billing  phone   03-02T10:00 03-02T10:10
B2b        c2          billing  phone   03-03T10:00 03-03T10:10
B3a        c3          billing  phone   03-02T11:00 03-02T11:10
B3b        c3          billing  email   03-03T11:00 03-03T11:10
B3c        c3          billing  email   03-04T11:00 03-04T11:10
B4         c4          billing  chat    03-02T12:00 03-02T12:10
B5         c5          billing  chat    03-02T13:00 03-02T13:10
D1a        c6          delivery email   03-02T09:00 03-02T09:10
D1b        c6          delivery phone   03-03T09:00 03-03T09:10
D1c        c6          delivery phone   03-04T09:00 03-04T09:10
D1d        c6          delivery phone   03-05T09:00 03-05T09:10
D2         c7          delivery email   03-02T10:00 03-02T10:10
P1a        c8          password bot     03-02T14:00 03-02T14:05
P1b        c8          password bot     03-02T15:00 03-02T15:05
""")
# c2 left 29 days after its case, c3 about 200 days after (outside the default 90), c6 5 days after,
# c7 three days BEFORE its case (not caused by it); c5 is not in the file; c8 has no lifetime value.
CUSTOMERS = given("""
customer_id segment  lifetime_value churned_at
c1          consumer 1000           .
c2          consumer 2000           04-01T00:00
c3          business 4000           09-20T00:00
c4          consumer 500            .
c6          consumer 100            03-10T00:00
c7          consumer 100            02-27T00:00
c8          consumer .              .
""")
PRIORITY = "select * from published.reason_priority where grain = 'month' order by priority_rank"


def by_reason(db: Path) -> dict[str, dict]:
    """The month's reason_priority rows by reason."""
    return {r["reason"]: r for r in query(db, PRIORITY)}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made log with its customers file and the test's costs, run once."""
    directory = tmp_path_factory.mktemp("priority")
    run_log(directory, LOG, CUSTOMERS, config=COSTS, as_of=AS_OF)
    return directory / "fcr.duckdb"


def test_excess_contacts_and_their_cost(db: Path) -> None:
    rows = by_reason(db)
    billing, delivery, password = rows["billing"], rows["delivery"], rows["password"]
    assert (billing["cases"], billing["mature_cases"], billing["cases_1"], billing["fcr"]) == (5, 5, 3, 0.6)
    assert (billing["contacts"], billing["excess_contacts"]) == (8, 3)
    assert billing["excess_contact_cost"] == 5 + 2 + 2  # c2's second phone call, c3's two emails
    assert (delivery["contacts"], delivery["excess_contacts"], delivery["excess_contact_cost"]) == (5, 3, 15)
    assert (password["excess_contacts"], password["excess_contact_cost"]) == (1, 1)
    assert {r["currency"] for r in rows.values()} == {"EUR"}


def test_churn_and_lifetime_value_of_multi_contact_versus_fcr_customers(db: Path) -> None:
    billing = by_reason(db)["billing"]
    assert billing["has_customer_data"] is True
    # multi-contact: c2 (churned within 90 days), c3 (churned later); FCR: c1, c4 (c5 is unknown)
    assert (billing["multi_contact_customers"], billing["multi_contact_churned"]) == (2, 1)
    assert (billing["fcr_customers"], billing["fcr_churned"]) == (2, 0)
    assert (billing["multi_contact_churn_rate"], billing["fcr_churn_rate"]) == (0.5, 0)
    assert (billing["multi_contact_avg_lifetime_value"], billing["fcr_avg_lifetime_value"]) == (3000, 750)
    assert billing["lifetime_value_at_risk"] == 6000 * 0.5
    assert billing["money_at_stake"] == 9 + 3000
    delivery = by_reason(db)["delivery"]
    # c6 left 5 days after its case; c7 had already left before its case started
    assert (delivery["multi_contact_churn_rate"], delivery["fcr_churn_rate"]) == (1, 0)
    assert (delivery["lifetime_value_at_risk"], delivery["money_at_stake"]) == (100, 115)


def test_no_fcr_case_to_compare_with_leaves_value_at_risk_unknown(db: Path) -> None:
    password = by_reason(db)["password"]
    assert (password["multi_contact_customers"], password["fcr_customers"]) == (1, 0)
    assert password["fcr_churn_rate"] is None
    assert password["multi_contact_avg_lifetime_value"] is None  # c8 has no lifetime value
    assert (password["lifetime_value_at_risk"], password["money_at_stake"]) == (None, 1)


def test_ranked_by_money_at_stake(db: Path) -> None:
    assert [(r["priority_rank"], r["reason"]) for r in query(db, PRIORITY)] == [
        (1, "billing"),
        (2, "delivery"),
        (3, "password"),
    ]


def test_without_customers_the_ranking_is_by_cost_and_customer_columns_are_null(tmp_path: Path) -> None:
    run_log(tmp_path, LOG, config=COSTS, as_of=AS_OF)
    rows = query(tmp_path / "fcr.duckdb", PRIORITY)
    assert [(r["reason"], r["money_at_stake"]) for r in rows] == [
        ("delivery", 15),
        ("billing", 9),
        ("password", 1),
    ]
    customer_columns = [c for c in load_schema()["published.reason_priority"]["columns"] if "churn" in c]
    customer_columns += ["multi_contact_customers", "fcr_customers", "lifetime_value_at_risk"]
    assert all(r["has_customer_data"] is False for r in rows)
    assert {r[c] for r in rows for c in customer_columns} == {None}


def test_churn_window_is_configurable(tmp_path: Path) -> None:
    run_log(tmp_path, LOG, CUSTOMERS, config={**COSTS, "customers": {"churn_window_days": 250}}, as_of=AS_OF)
    billing = by_reason(tmp_path / "fcr.duckdb")["billing"]
    assert billing["multi_contact_churned"] == 2  # c3's churn, about 200 days after, now counts
    assert billing["lifetime_value_at_risk"] == 6000


def test_default_costs_price_every_canonical_channel() -> None:
    costs = build_config({}).costs
    assert costs.currency == "USD"
    assert set(costs.per_channel()) == {
        "phone", "ivr", "email", "chat", "messaging", "social", "bot", "web", "branch", "other",
    }  # fmt: skip
    assert costs.per_channel()["phone"] > costs.per_channel()["bot"] > 0


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"costs": {"fax": 3}}, "costs.fax"),
        ({"costs": {"phone": -1}}, "costs.phone"),
        ({"customers": {"churn_window_days": 0}}, "customers.churn_window_days"),
        ({"customers": {"columns": {"ltv": "LTV"}}}, "customers.columns"),
    ],
)
def test_bad_costs_or_customers_settings_name_the_key(config: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        build_config(config)


def test_columns_are_documented(db: Path) -> None:
    for table in ("published.reason_priority", "raw.customers"):
        schema, name = table.split(".")
        columns = query(
            db,
            "select column_name from information_schema.columns "
            "where table_schema = $schema and table_name = $name order by ordinal_position",
            {"schema": schema, "name": name},
        )
        assert [c["column_name"] for c in columns] == list(load_schema()[table]["columns"]), table


# The customers file: loading, bad rows, re-delivery, column mapping, formats.


def test_bad_customer_rows_are_quarantined_with_their_line(tmp_path: Path) -> None:
    bad = given("""
    customer_id segment  lifetime_value churned_at
    .           consumer 10             .
    c2          consumer abc            .
    c3          consumer -5             .
    c4          consumer 10             someday
    """)
    run_log(tmp_path, LOG, CUSTOMERS + bad, config={"max_quarantine_share": 0.5}, as_of=AS_OF)
    db = tmp_path / "fcr.duckdb"
    quarantined = query(
        db, "select source_line, rule from raw.quarantine where source_file like '%customers.csv' order by 1"
    )
    assert [(q["source_line"], q["rule"]) for q in quarantined] == [
        (9, "missing_customer_id"),
        (10, "unparseable_number"),
        (11, "negative_lifetime_value"),
        (12, "unparseable_churned_at"),
    ]
    # the good rows loaded, and c2, c3, c4 kept their good earlier rows
    assert query(db, "select count(*) as n from raw.customers") == [{"n": 7}]


def test_too_many_bad_customer_rows_stop_the_run(tmp_path: Path) -> None:
    bad = given("""
    customer_id lifetime_value
    x1          lots
    """)
    with pytest.raises(QuarantineThresholdError, match="1 of 8 customer rows"):
        run_log(tmp_path, LOG, CUSTOMERS + bad, as_of=AS_OF)
    # the run row keeps the contacts load's counts (all 15 rows loaded); the message names the customers file
    (row,) = query(
        tmp_path / "fcr.duckdb",
        "select status, rows_read, rows_loaded, rows_quarantined, rows_excluded, rows_replaced, message "
        "from published.pipeline_runs",
    )
    assert {k: v for k, v in row.items() if k != "message"} == {
        "status": "failed",
        "rows_read": 15,
        "rows_loaded": 15,
        "rows_quarantined": 0,
        "rows_excluded": 0,
        "rows_replaced": 0,
    }
    assert "1 of 8 customer rows" in row["message"]


@pytest.mark.slow
def test_customers_are_kept_replaced_by_redelivery_and_loaded_once(tmp_path: Path) -> None:
    run_log(tmp_path, LOG, CUSTOMERS, as_of=AS_OF)
    run_log(tmp_path, LOG, CUSTOMERS, as_of=AS_OF)  # the same file again changes nothing
    db = tmp_path / "fcr.duckdb"
    assert query(db, "select count(*) as n from raw.customers") == [{"n": 7}]
    run_log(tmp_path, LOG, given("customer_id segment\nc1 premium"), as_of=AS_OF)
    assert query(db, "select segment from raw.customers where customer_id = 'c1'") == [{"segment": "premium"}]
    assert query(db, "select count(*) as n from raw.customers") == [{"n": 7}]
    run_log(tmp_path, LOG, as_of=AS_OF)  # a run without --customers keeps what was loaded
    assert all(r["has_customer_data"] for r in by_reason(db).values())


def test_customers_file_with_its_own_column_names_as_parquet(tmp_path: Path) -> None:
    contacts = write_csv(
        tmp_path / "contacts.csv", LOG, ("contact_id", "customer_id", "reason", "channel", "started_at")
    )
    table = pa.table({"Customer": ["c2", "c3"], "Tier": ["gold", "gold"], "CLV": [2000.0, 4000.0]})
    pq.write_table(table, tmp_path / "crm.parquet")
    config = build_config(
        {"customers": {"columns": {"customer_id": "Customer", "segment": "Tier", "lifetime_value": "CLV"}}}
    )
    run(
        [str(contacts)],
        tmp_path / "fcr.duckdb",
        config,
        as_of=AS_OF,
        customers=[str(tmp_path / "crm.parquet")],
    )
    billing = by_reason(tmp_path / "fcr.duckdb")["billing"]
    assert billing["multi_contact_avg_lifetime_value"] == 3000
    assert billing["multi_contact_churned"] == 0  # no churned_at column: nobody churned


def test_customers_file_without_customer_id_names_the_column(tmp_path: Path) -> None:
    contacts = write_csv(
        tmp_path / "contacts.csv", LOG, ("contact_id", "customer_id", "channel", "started_at")
    )
    crm = write_csv(tmp_path / "crm.csv", [{"Customer": "c1"}], ("Customer",))
    with pytest.raises(FileLoadError, match=r"customer_id \(source column 'customer_id'\) missing.*Customer"):
        run([str(contacts)], tmp_path / "fcr.duckdb", build_config({}), customers=[str(crm)])


# Invariants and the demo data.


def test_generated_reason_priority_adds_up(tmp_path: Path) -> None:
    run_sample(tmp_path)
    db = tmp_path / "fcr.duckdb"
    mismatched = query(
        db,
        """
        with priority as (
            select grain, period_start, sum(cases) as cases, sum(mature_cases) as mature_cases,
                sum(excess_contacts) as excess_contacts, count(*) as reasons,
                count(distinct priority_rank) as ranks, max(priority_rank) as last_rank
            from published.reason_priority group by all
        )
        select * from published.metrics m
        full outer join priority using (grain, period_start)
        where m.dimension = 'all' and m.cases > 0
            and (priority.cases is distinct from m.cases
                or priority.mature_cases is distinct from m.mature_cases
                or priority.excess_contacts is distinct from m.repeat_contacts
                or priority.ranks <> priority.reasons or priority.last_rank <> priority.reasons)
        """,
    )
    assert mismatched == []
    [overall] = query(
        db,
        "select sum(multi_contact_churned) / sum(multi_contact_customers) as multi, "
        "sum(fcr_churned) / sum(fcr_customers) as fcr, min(money_at_stake) as least "
        "from published.reason_priority where grain = 'month'",
    )
    assert overall["multi"] > overall["fcr"] > 0  # the sample's churn rises with repeat contacts
    assert overall["least"] >= 0


def test_cli_generates_and_runs_with_a_customers_file(tmp_path: Path) -> None:
    runner = CliRunner()
    contacts, customers, db = tmp_path / "c.parquet", tmp_path / "cu.csv", tmp_path / "fcr.duckdb"
    generated = runner.invoke(
        app,
        [
            "generate",
            "--contacts",
            "2000",
            "--days",
            "30",
            "--out",
            str(contacts),
            "--customers-out",
            str(customers),
        ],
    )
    assert generated.exit_code == 0, generated.output
    assert "customers to" in generated.output
    ran = runner.invoke(
        app, ["run", "--contacts", str(contacts), "--db", str(db), "--customers", str(customers)]
    )
    assert ran.exit_code == 0, ran.output
    assert query(db, "select bool_and(has_customer_data) as ok from published.reason_priority") == [
        {"ok": True}
    ]
    assert query(db, "select count(*) > 0 as ok from published.metrics where dimension = 'segment'") == [
        {"ok": True}
    ]


@pytest.mark.slow
def test_incremental_runs_equal_one_full_run(tmp_path: Path) -> None:
    sample = generate_sample(SampleSpec(contacts=3000, seed=5, days=40))
    day = pc.utf8_slice_codeunits(sample.contacts["started_at"], 0, 10)
    cuts = ["2026-10-20", "2026-11-01", "2026-11-10"]  # three deliveries; unparseable rows come last
    files = []
    for i, (low, high) in enumerate(zip(["", *cuts], [*cuts, "9999"], strict=True)):
        chunk = sample.contacts.filter(pc.and_(pc.greater_equal(day, low), pc.less(day, high)))
        if i == len(cuts):
            chunk = pa.concat_tables([chunk, sample.contacts.filter(pc.invert(pc.starts_with(day, "2026")))])
        files.append(str(tmp_path / f"day{i}.csv"))
        write_table(chunk, Path(files[-1]))
    write_table(sample.customers, tmp_path / "customers.csv")
    config = build_config({"max_quarantine_share": 0.05})
    customers = [str(tmp_path / "customers.csv")]
    daily_runs = [
        run([path], tmp_path / "daily.duckdb", config, customers=customers if i == 0 else None)
        for i, path in enumerate(files)
    ]
    assert [r.counts["full"] for r in daily_runs] == [1, 0, 0, 0]  # later deliveries ran incrementally
    run(files, tmp_path / "full.duckdb", config, customers=customers)
    for table in ("published.channel_flow", "published.reason_priority", "published.metrics"):
        daily = query(tmp_path / "daily.duckdb", f"select * from {table} order by all")
        assert daily == query(tmp_path / "full.duckdb", f"select * from {table} order by all"), table
        assert daily


def test_a_customers_file_with_a_secret_for_a_header_never_shows_it(tmp_path: Path) -> None:
    contacts = write_csv(
        tmp_path / "contacts.csv", LOG, ("contact_id", "customer_id", "channel", "started_at")
    )
    crm = tmp_path / "crm.csv"
    crm.write_text("API_TOKEN=abc123secret\nc1\n")
    with pytest.raises(FileLoadError, match="API_TOKEN") as failure:
        run([str(contacts)], tmp_path / "fcr.duckdb", build_config({}), customers=[str(crm)])
    assert "abc123secret" not in str(failure.value)

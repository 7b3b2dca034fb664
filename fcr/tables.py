"""Every table name the pipeline reads or writes, in one place."""

RAW = "raw"
STAGING = "staging"
PUBLISHED = "published"
# a load's scratch tables: the connection's temporary catalog, never written to the database file
SCRATCH = "temp"

# raw: what was loaded, kept across runs
CONTACTS = f"{RAW}.contacts"
QUARANTINE = f"{RAW}.quarantine"
TOUCHED = f"{RAW}.touched"  # customers / anonymous interactions changed since the last publish
LOAD_REFUSED = f"{SCRATCH}.load_refused"  # scratch: the raw text of the batch's rows a rule refused
INCOMING_BATCH = "incoming_batch"  # the Arrow batch being stored, registered as temp.incoming_batch
CUSTOMERS = f"{RAW}.customers"  # optional customers file(s), kept across runs
CUSTOMERS_BATCH = f"{SCRATCH}.customers_batch"  # scratch: the customers batch being loaded
VALIDATED_FILES = f"{RAW}.validated_files"  # loaded files whose rows passed the input suites
LOADED_FILES = f"{RAW}.loaded_files"  # content hash of every file loaded: a file is loaded once
RUN_LEASE = f"{RAW}.run_lease"  # the run that holds the database from load to publish

# staging: the full computed state, kept across runs, validated, then published
STG_CONTACTS = f"{STAGING}.contacts"
STG_CASE_CONTACTS = f"{STAGING}.case_contacts"
STG_CASES = f"{STAGING}.cases"
STG_METRICS = f"{STAGING}.metrics"
STG_CHANNEL_FLOW = f"{STAGING}.channel_flow"
STG_REASON_PRIORITY = f"{STAGING}.reason_priority"
STG_BUILT_BY = f"{STAGING}.built_by"  # the run whose outputs the staging tables hold, and how far it got
CONSUMED_LOADS = f"{STAGING}.consumed_loads"  # the loads whose touched entries the staged state took in
STG_SENSITIVITY_CASES = f"{STAGING}.sensitivity_cases"
STG_FOLLOW_UPS = f"{STAGING}.follow_ups"
STG_FCR_SENSITIVITY = f"{STAGING}.fcr_sensitivity"
STG_METRIC_RATES = f"{STAGING}.metric_rates"  # view: published.metric_rates over the staged metrics

# staging scratch: what one run recomputes (its scope), merged into the state above
SCOPE_CUSTOMERS = f"{STAGING}.scope_customers"
SCOPE_ANONYMOUS = f"{STAGING}.scope_anonymous"
AFFECTED_DATES = f"{STAGING}.affected_dates"
AFFECTED_PERIODS = f"{STAGING}.affected_periods"
DELTA_CONTACTS = f"{STAGING}.delta_contacts"
DELTA_LINK_CANDIDATES = f"{STAGING}.delta_link_candidates"
DELTA_CASE_STARTS = f"{STAGING}.delta_case_starts"  # view: the candidates with their case starts
DELTA_ANCHORED_STARTS = f"{STAGING}.delta_anchored_starts"  # anchored windows' case starts, from numpy
DELTA_LINK_WINDOW = f"{STAGING}.delta_link_window"  # the rolling window being linked, read by the starts view
DELTA_CASE_SEQUENCES = f"{STAGING}.delta_case_sequences"  # view over the two above
DELTA_CASE_CONTACTS = f"{STAGING}.delta_case_contacts"
DELTA_CASES = f"{STAGING}.delta_cases"
DELTA_METRICS = f"{STAGING}.delta_metrics"
DELTA_CHANNEL_FLOW = f"{STAGING}.delta_channel_flow"
DELTA_REASON_PRIORITY = f"{STAGING}.delta_reason_priority"
DELTA_SENSITIVITY_CASES = f"{STAGING}.delta_sensitivity_cases"
DELTA_FOLLOW_UPS = f"{STAGING}.delta_follow_ups"
LOAD_TYPED = f"{SCRATCH}.load_typed"
LOAD_GOOD = f"{SCRATCH}.load_good"
CUSTOMERS_TYPED = f"{SCRATCH}.customers_typed"

# published: what BI tools and the scorecard read
CASE_CONTACTS = f"{PUBLISHED}.case_contacts"
CASES = f"{PUBLISHED}.cases"
METRICS = f"{PUBLISHED}.metrics"
FCR_SENSITIVITY = f"{PUBLISHED}.fcr_sensitivity"
METRIC_RATES = f"{PUBLISHED}.metric_rates"
CHANNEL_FLOW = f"{PUBLISHED}.channel_flow"
REASON_PRIORITY = f"{PUBLISHED}.reason_priority"
FOLLOW_UPS = f"{PUBLISHED}.follow_ups"
PIPELINE_RUNS = f"{PUBLISHED}.pipeline_runs"

# staging table -> published table, swapped in one transaction
PUBLISH_MAP = {
    STG_CASE_CONTACTS: CASE_CONTACTS,
    STG_CASES: CASES,
    STG_METRICS: METRICS,
    STG_CHANNEL_FLOW: CHANNEL_FLOW,
    STG_REASON_PRIORITY: REASON_PRIORITY,
    STG_FCR_SENSITIVITY: FCR_SENSITIVITY,
    STG_FOLLOW_UPS: FOLLOW_UPS,
}


# tables earlier versions left in the file: the load's scratch (now temporary) and the case starts
# (now a view of that name); a run drops them as it takes the database
RETIRED_TABLES = (f"{STAGING}.load_typed", f"{STAGING}.load_good", DELTA_CASE_STARTS)


def create_table(target: str) -> str:
    """The `create or replace ... table` clause for target: a temporary table in the scratch catalog."""
    schema, name = target.split(".", 1)
    if schema == SCRATCH:
        return f"create or replace temp table {name}"
    return f"create or replace table {target}"

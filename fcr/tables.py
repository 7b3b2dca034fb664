"""Every table name the pipeline reads or writes, in one place."""

RAW = "raw"
STAGING = "staging"
PUBLISHED = "published"

# raw: what was loaded, kept across runs
CONTACTS = f"{RAW}.contacts"
QUARANTINE = f"{RAW}.quarantine"
LOAD_BATCH = f"{RAW}.load_batch"  # scratch: the batch being loaded
REASON_GROUPS = f"{RAW}.reason_groups"  # scratch: config's reason -> group map

# staging: computed by a run, validated, then published
STG_CONTACTS = f"{STAGING}.contacts"
STG_CASE_CONTACTS = f"{STAGING}.case_contacts"
STG_CASES = f"{STAGING}.cases"
STG_METRICS = f"{STAGING}.metrics"
STG_BUILT_BY = f"{STAGING}.built_by"  # the run whose outputs the staging tables hold

# published: what BI tools and the scorecard read
CASE_CONTACTS = f"{PUBLISHED}.case_contacts"
CASES = f"{PUBLISHED}.cases"
METRICS = f"{PUBLISHED}.metrics"
METRIC_RATES = f"{PUBLISHED}.metric_rates"
PIPELINE_RUNS = f"{PUBLISHED}.pipeline_runs"

# staging table -> published table, swapped in one transaction
PUBLISH_MAP = {
    STG_CASE_CONTACTS: CASE_CONTACTS,
    STG_CASES: CASES,
    STG_METRICS: METRICS,
}

# scratch tables of a load, dropped when it ends
LOAD_TYPED = f"{STAGING}.load_typed"
LOAD_GOOD = f"{STAGING}.load_good"

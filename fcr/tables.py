"""Every table name the pipeline reads or writes, in one place."""

RAW = "raw"
STAGING = "staging"
PUBLISHED = "published"

# raw: what was loaded, kept across runs
CONTACTS = f"{RAW}.contacts"
QUARANTINE = f"{RAW}.quarantine"
LOAD_BATCH = f"{RAW}.load_batch"  # scratch: the batch being loaded
REASON_GROUPS = f"{RAW}.reason_groups"  # scratch: config's reason -> group map
CUSTOMERS = f"{RAW}.customers"  # optional customers file(s), kept across runs
CUSTOMERS_BATCH = f"{RAW}.customers_batch"  # scratch: the customers batch being loaded

# staging: computed by a run, validated, then published
STG_CONTACTS = f"{STAGING}.contacts"
STG_LINK_CANDIDATES = f"{STAGING}.link_candidates"
STG_CASE_STARTS = f"{STAGING}.case_starts"
STG_CASE_CONTACTS = f"{STAGING}.case_contacts"
STG_SENSITIVITY_SCRATCH = f"{STAGING}.sensitivity_scratch"
STG_SENSITIVITY_CASE_CONTACTS = f"{STAGING}.sensitivity_case_contacts"
STG_FCR_SENSITIVITY = f"{STAGING}.fcr_sensitivity"
STG_CASES = f"{STAGING}.cases"
STG_METRICS = f"{STAGING}.metrics"
STG_CHANNEL_FLOW = f"{STAGING}.channel_flow"
STG_REASON_PRIORITY = f"{STAGING}.reason_priority"

# published: what BI tools and the scorecard read
CASE_CONTACTS = f"{PUBLISHED}.case_contacts"
CASES = f"{PUBLISHED}.cases"
METRICS = f"{PUBLISHED}.metrics"
FCR_SENSITIVITY = f"{PUBLISHED}.fcr_sensitivity"
METRIC_RATES = f"{PUBLISHED}.metric_rates"
CHANNEL_FLOW = f"{PUBLISHED}.channel_flow"
REASON_PRIORITY = f"{PUBLISHED}.reason_priority"
PIPELINE_RUNS = f"{PUBLISHED}.pipeline_runs"

# staging table -> published table, swapped in one transaction
PUBLISH_MAP = {
    STG_CASE_CONTACTS: CASE_CONTACTS,
    STG_CASES: CASES,
    STG_METRICS: METRICS,
    STG_CHANNEL_FLOW: CHANNEL_FLOW,
    STG_REASON_PRIORITY: REASON_PRIORITY,
    STG_FCR_SENSITIVITY: FCR_SENSITIVITY,
}

# scratch tables of a load, dropped when it ends
LOAD_TYPED = f"{STAGING}.load_typed"
LOAD_GOOD = f"{STAGING}.load_good"
CUSTOMERS_TYPED = f"{STAGING}.customers_typed"

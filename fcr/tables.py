"""Every table name the pipeline reads or writes, in one place."""

RAW = "raw"
STAGING = "staging"
PUBLISHED = "published"

# raw: what was loaded, kept across runs
CONTACTS = f"{RAW}.contacts"
QUARANTINE = f"{RAW}.quarantine"
TOUCHED = f"{RAW}.touched"  # customers / anonymous interactions changed since the last publish
LOAD_BATCH = f"{RAW}.load_batch"  # scratch: the batch being loaded

# staging: the full computed state, kept across runs, validated, then published
STG_CONTACTS = f"{STAGING}.contacts"
STG_CASE_CONTACTS = f"{STAGING}.case_contacts"
STG_CASES = f"{STAGING}.cases"
STG_METRICS = f"{STAGING}.metrics"
STG_SENSITIVITY_CASES = f"{STAGING}.sensitivity_cases"
STG_FCR_SENSITIVITY = f"{STAGING}.fcr_sensitivity"

# staging scratch: what one run recomputes (its scope), merged into the state above
SCOPE_CUSTOMERS = f"{STAGING}.scope_customers"
SCOPE_ANONYMOUS = f"{STAGING}.scope_anonymous"
AFFECTED_DATES = f"{STAGING}.affected_dates"
AFFECTED_PERIODS = f"{STAGING}.affected_periods"
DELTA_CONTACTS = f"{STAGING}.delta_contacts"
DELTA_LINK_CANDIDATES = f"{STAGING}.delta_link_candidates"
DELTA_CASE_STARTS = f"{STAGING}.delta_case_starts"
DELTA_CASE_CONTACTS = f"{STAGING}.delta_case_contacts"
DELTA_CASES = f"{STAGING}.delta_cases"
DELTA_METRICS = f"{STAGING}.delta_metrics"
DELTA_SENSITIVITY_CASE_CONTACTS = f"{STAGING}.delta_sensitivity_case_contacts"
DELTA_SENSITIVITY_CASES = f"{STAGING}.delta_sensitivity_cases"
DELTA_SENSITIVITY_SCRATCH = f"{STAGING}.delta_sensitivity_scratch"
LOAD_TYPED = f"{STAGING}.load_typed"
LOAD_GOOD = f"{STAGING}.load_good"

# published: what BI tools and the scorecard read
CASE_CONTACTS = f"{PUBLISHED}.case_contacts"
CASES = f"{PUBLISHED}.cases"
METRICS = f"{PUBLISHED}.metrics"
FCR_SENSITIVITY = f"{PUBLISHED}.fcr_sensitivity"
METRIC_RATES = f"{PUBLISHED}.metric_rates"
PIPELINE_RUNS = f"{PUBLISHED}.pipeline_runs"

# staging table -> published table, swapped in one transaction
PUBLISH_MAP = {
    STG_CASE_CONTACTS: CASE_CONTACTS,
    STG_CASES: CASES,
    STG_METRICS: METRICS,
    STG_FCR_SENSITIVITY: FCR_SENSITIVITY,
}

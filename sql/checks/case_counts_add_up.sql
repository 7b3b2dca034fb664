-- offending metrics rows: cases_1 + cases_2 + cases_3 + cases_4_plus differs from mature_cases
select grain, period_start, dimension, dimension_value, mature_cases,
    cases_1 + cases_2 + cases_3 + cases_4_plus as bucketed
from staging.metrics
where cases_1 + cases_2 + cases_3 + cases_4_plus <> mature_cases

-- offending metrics rows: 0 <= FCR <= 2CR <= 3CR <= 1 broken, or cases_1..4+ not summing to mature_cases
select grain, period_start, dimension, dimension_value, mature_cases, cases_1, cases_2, cases_3, cases_4_plus
from staging.metrics
where cases_1 < 0 or cases_2 < 0 or cases_3 < 0 or cases_4_plus < 0
    or cases_1 + cases_2 + cases_3 > mature_cases
    or mature_cases > cases

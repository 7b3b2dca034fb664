-- offending keys: more than one metrics row per grain, period_start, dimension, dimension_value
select grain, period_start, dimension, dimension_value, count(*) as rows_per_key
from staging.metrics
group by all
having count(*) > 1

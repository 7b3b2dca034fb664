-- one row per quarantined source row: where it is, the rule it broke, the offending value
select source_file, source_line, rule, detail, run_id
from raw.quarantine
order by source_file, source_line

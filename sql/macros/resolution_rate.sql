-- one persistent scalar macro: a resolution rate is resolved cases over mature cases, and no mature case gives no rate
create or replace macro main.resolution_rate(resolved_cases, mature_cases) as (
    resolved_cases / nullif(mature_cases, 0)
);

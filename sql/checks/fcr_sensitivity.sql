-- one row per staged fcr_sensitivity row, with the staged metrics' counts for the same month and dimension value
with

sensitivity as (
    select * from staging.fcr_sensitivity
),

metrics as (
    select * from staging.metrics
    where grain = 'month' and dimension in ('all', 'channel', 'reason', 'team')
),

final as (
    select
        sensitivity.*,
        sensitivity.cases_1 + sensitivity.cases_2 + sensitivity.cases_3 as cases_within_3,
        coalesce(metrics.cases, 0) as metrics_cases,
        coalesce(metrics.mature_cases, 0) as metrics_mature_cases,
        coalesce(metrics.cases_1, 0) as metrics_cases_1
    from sensitivity
    left join metrics using (grain, period_start, dimension, dimension_value)
)

select * from final

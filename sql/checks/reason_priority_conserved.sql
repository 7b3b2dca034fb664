-- one row per grain and period of the staged metrics: reason-priority totals next to the metrics they must equal
with

reason_priority as (
    select * from staging.reason_priority
),

metrics as (
    select * from staging.metrics
    where dimension = 'all'
),

reasons as (
    select
        grain,
        period_start,
        sum(cases) as cases,
        sum(mature_cases) as mature_cases,
        sum(cases_1) as cases_1,
        sum(excess_contacts) as excess_contacts
    from reason_priority
    group by all
),

final as (
    select
        grain,
        period_start,
        coalesce(reasons.cases, 0) as reason_cases,
        coalesce(metrics.cases, 0) as metrics_cases,
        coalesce(reasons.mature_cases, 0) as reason_mature_cases,
        coalesce(metrics.mature_cases, 0) as metrics_mature_cases,
        coalesce(reasons.cases_1, 0) as reason_cases_1,
        coalesce(metrics.cases_1, 0) as metrics_cases_1,
        coalesce(reasons.excess_contacts, 0) as reason_excess_contacts,
        coalesce(metrics.repeat_contacts, 0) as metrics_repeat_contacts
    from metrics
    full outer join reasons using (grain, period_start)
)

select * from final

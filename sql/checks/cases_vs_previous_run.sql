-- one row per period (dimension all) the last published run had enough cases in: its cases then and now, and the share lost
with

previous as (
    select grain, period_start, cases from published.metrics
    where dimension = 'all'
),

staged as (
    select grain, period_start, cases from staging.metrics
    where dimension = 'all'
),

final as (
    select
        previous.grain,
        previous.period_start,
        previous.cases as previous_cases,
        coalesce(staged.cases, 0) as cases,
        greatest(previous.cases - coalesce(staged.cases, 0), 0) / previous.cases as case_drop_share
    from previous
    left join staged using (grain, period_start)
    where previous.cases > 0 and previous.cases >= $case_drop_min_cases
)

select * from final
order by grain, period_start

-- one row per database: its last published run's definition and watermark, and FCR/2CR/3CR over every month
with

last_run as (
    select * from published.pipeline_runs
    where status = 'published'
    order by finished_at desc
    limit 1
),

months as (
    select * from published.metrics
    where grain = 'month' and dimension = 'all'
),

summed as (
    select
        sum(counted_contacts) as counted_contacts,
        sum(cases) as cases,
        sum(mature_cases) as mature_cases,
        sum(cases_1) as cases_1,
        sum(cases_2) as cases_2,
        sum(cases_3) as cases_3
    from months
),

final as (
    select
        json_extract_string(last_run.linking_settings, '$.linking.repeat_window') as repeat_window,
        json_extract_string(last_run.linking_settings, '$.linking.match_on') as match_on,
        json_extract_string(last_run.linking_settings, '$.linking.transfer_gap') as transfer_gap,
        strftime(last_run.as_of, '%Y-%m-%d %H:%M UTC') as watermark,
        summed.counted_contacts,
        summed.cases,
        summed.mature_cases,
        round(100 * summed.cases_1 / nullif(summed.mature_cases, 0), 1) as fcr_pct,
        round(100 * (summed.cases_1 + summed.cases_2) / nullif(summed.mature_cases, 0), 1) as two_cr_pct,
        round(100 * (summed.cases_1 + summed.cases_2 + summed.cases_3) / nullif(summed.mature_cases, 0), 1)
            as three_cr_pct
    from summed
    cross join last_run
)

select * from final

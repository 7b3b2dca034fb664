-- one row per month, dimension (all; channel, reason, team of first contact), dimension_value and definition
with

sensitivity_cases as not materialized (
    select * from staging.sensitivity_cases
),

cases as not materialized (
    -- read twice (counts and month maturity): recomputing this projection is cheaper than storing it
    select
        sensitivity_cases.*,
        date_trunc('month', business_date)::date as period_start,
        matures_at <= $watermark as is_mature
    from sensitivity_cases
),

dimensioned as (
    select
        cases.*,
        d.dimension,
        d.dimension_value
    from cases
    cross join lateral (
        values
            ('all', 'all'),
            ('channel', cases.first_channel),
            ('reason', cases.first_reason),
            ('team', cases.first_team)
    ) as d(dimension, dimension_value)
),

counted as (
    select
        period_start,
        dimension,
        dimension_value,
        repeat_window,
        repeat_window_seconds,
        match_on,
        count(*) as cases,
        count(*) filter (where is_mature) as mature_cases,
        count(*) filter (where is_mature and contact_count = 1) as cases_1,
        count(*) filter (where is_mature and contact_count = 2) as cases_2,
        count(*) filter (where is_mature and contact_count = 3) as cases_3
    from dimensioned
    group by all
),

month_maturity as (
    select
        repeat_window,
        match_on,
        period_start,
        bool_and(is_mature) as all_cases_mature
    from cases
    group by all
),

final as (
    select
        'month' as grain,
        counted.period_start,
        counted.dimension,
        counted.dimension_value,
        counted.repeat_window,
        counted.repeat_window_seconds,
        counted.match_on,
        counted.repeat_window_seconds = $current_window_seconds
            and counted.match_on = $match_on as is_current_definition,
        is_period_final(
            month_maturity.all_cases_mature, 'month', counted.period_start, $watermark, $business_tz
        ) as is_final,
        counted.cases,
        counted.mature_cases,
        counted.cases_1,
        counted.cases_2,
        counted.cases_3,
        resolution_rate(counted.cases_1, counted.mature_cases) as fcr,
        resolution_rate(counted.cases_1 + counted.cases_2, counted.mature_cases) as two_contact_resolution,
        resolution_rate(
            counted.cases_1 + counted.cases_2 + counted.cases_3, counted.mature_cases
        ) as three_contact_resolution
    from counted
    inner join month_maturity using (repeat_window, match_on, period_start)
)

select * from final
order by match_on, repeat_window_seconds, period_start, dimension, dimension_value

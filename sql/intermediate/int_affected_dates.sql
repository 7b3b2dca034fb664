-- one row per business date inside a period whose metrics this run recomputes
with

affected_periods as (
    select * from staging.affected_periods
),

final as (
    select distinct unnest(generate_series(
        period_start,
        (period_start + case grain
            when 'day' then interval 1 day
            when 'week' then interval 7 day
            else interval 1 month
        end - interval 1 day)::date,
        interval 1 day
    ))::date as business_date
    from affected_periods
)

select * from final

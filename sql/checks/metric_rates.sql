-- one row per staged metrics row: the rates exactly as published.metric_rates will derive them
with

rates as (
    select * from staging.metric_rates
),

final as (
    select * from rates
)

select * from final

-- one row per grain and period whose metrics can move in this run: touched dates, maturity changes, the watermark's move
with

scope_customers as (
    select * from staging.scope_customers
),

scope_anonymous as (
    select * from staging.scope_anonymous
),

touched_dates as (
    select business_date from staging.contacts
    where customer_id in (select customer_id from scope_customers)
        or (customer_id is null and interaction_key in (select interaction_key from scope_anonymous))
    union
    select business_date from staging.delta_contacts
    union
    select business_date from staging.cases
    where customer_id in (select customer_id from scope_customers)
    union
    select business_date from staging.delta_cases
    union
    select business_date from staging.cases
    where matures_at > $previous_watermark and matures_at <= $watermark
    union
    select unnest(generate_series(
        ($previous_watermark at time zone $business_tz)::date - 1,
        ($watermark at time zone $business_tz)::date,
        interval 1 day
    ))::date
),

final as (
    select distinct
        g.grain,
        case g.grain
            when 'day' then business_date
            else date_trunc(g.grain, business_date)::date
        end as period_start
    from touched_dates
    cross join (values ('day'), ('week'), ('month')) as g(grain)
)

select * from final

-- one row per definition (window x match_on) and case in the run's scope: what the sensitivity table counts
with

case_contacts as (
    select * from staging.delta_sensitivity_case_contacts
),

final as (
    select
        repeat_window,
        repeat_window_seconds,
        match_on,
        case_id,
        any_value(customer_id) as customer_id,
        count(*) as contact_count,
        arg_min(business_date, contact_number) as business_date,
        arg_min(channel, contact_number) as first_channel,
        case $window_mode
            when 'anchored' then min(started_at)
            else max(started_at)
        end as maturity_basis_at
    from case_contacts
    group by repeat_window, repeat_window_seconds, match_on, case_id
)

select * from final

-- one row per counted contact: the case it belongs to and its place in that case
with

contacts as (
    select * from staging.contacts
    where is_counted
),

ordered as (
    select
        contacts.*,
        lag(started_at) over customer_problem as previous_started_at
    from contacts
    window customer_problem as (
        partition by customer_id, link_key order by started_at, contact_id
    )
),

case_starts as (
    select
        ordered.*,
        case
            when previous_started_at is null then 1
            when started_at - previous_started_at > to_seconds($repeat_window_seconds) then 1
            else 0
        end as is_case_start
    from ordered
),

sequenced as (
    select
        case_starts.*,
        sum(is_case_start) over (
            partition by customer_id, link_key order by started_at, contact_id
            rows between unbounded preceding and current row
        ) as case_sequence
    from case_starts
),

final as (
    select
        first_value(contact_id) over case_window as case_id,
        contact_id,
        customer_id,
        link_key,
        row_number() over case_window as contact_number,
        channel,
        started_at,
        ended_at,
        business_date,
        is_self_service
    from sequenced
    window case_window as (
        partition by customer_id, link_key, case_sequence order by started_at, contact_id
        rows between unbounded preceding and current row
    )
)

select * from final

-- one row per counted contact: the case it belongs to and its place in that case
with

sequenced as (
    select * from staging.delta_case_sequences
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
        is_self_service,
        false as is_forward
    from sequenced
    window case_window as (
        partition by link_group, case_sequence order by group_position
        rows between unbounded preceding and current row
    )
)

select * from final

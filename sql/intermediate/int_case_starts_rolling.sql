-- one row per counted contact: whether it starts a case under a rolling window (the window restarts at each contact)
with

candidates as (
    select * from staging.delta_link_candidates
),

final as (
    select
        contact_id,
        group_position = 1
            or (not is_ticket_linked and gap_seconds > $repeat_window_seconds) as is_case_start
    from candidates
)

select * from final

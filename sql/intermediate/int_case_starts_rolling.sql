-- one row per counted contact: whether it starts a case under a rolling window (the window restarts at each contact)
-- (a ticket's contacts stay one case until the ticket has been silent for the ticket horizon)
with

candidates as (
    select * from staging.delta_link_candidates
),

final as (
    select
        contact_id,
        group_position = 1
            or (not is_ticket_linked and gap_seconds > $repeat_window_seconds)
            or (is_ticket_linked and gap_seconds > $ticket_horizon_seconds) as is_case_start
    from candidates
)

select * from final

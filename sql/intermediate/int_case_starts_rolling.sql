-- one row per counted contact: its link candidate row and whether it starts a case under a rolling window (a view)
-- (the window restarts at each contact; a ticket's contacts stay one case until it has been silent for the ticket horizon)
create or replace view staging.delta_case_starts as
with

candidates as (
    select * from staging.delta_link_candidates
),

link_window as (
    -- the definition being linked, one row (a view takes no bind parameters)
    select * from staging.delta_link_window
),

final as (
    select
        candidates.*,
        is_rolling_case_start(
            group_position, is_ticket_linked, gap_seconds,
            link_window.repeat_window_seconds, link_window.ticket_horizon_seconds
        ) as is_case_start
    from candidates
    cross join link_window
)

select * from final

-- one row per case of each rolling sensitivity window under one match_on in the run's scope: what the table counts
-- (every window from one pass: a window's cases start where the gap to the previous contact exceeds it,
-- and each ends just before the next start, so its size and last contact come from that next start)
with

candidates as (
    select * from staging.delta_link_candidates
),

windows as (
    select
        unnest($window_labels::varchar[]) as repeat_window,
        unnest($window_seconds::double[]) as repeat_window_seconds
),

grouped as (
    select
        candidates.*,
        lag(started_at) over in_group as previous_started_at,
        count(*) over whole_group as group_size,
        max(started_at) over whole_group as group_last_started_at
    from candidates
    window
        in_group as (partition by link_group order by group_position),
        whole_group as (partition by link_group)
),

case_starts as (
    -- the rule int_case_starts_rolling applies, for every window at once
    select
        grouped.*,
        windows.repeat_window,
        windows.repeat_window_seconds
    from grouped
    cross join windows
    where is_rolling_case_start(
        group_position, is_ticket_linked, gap_seconds, windows.repeat_window_seconds, $ticket_horizon_seconds
    )
),

bounded as (
    select
        case_starts.*,
        lead(group_position) over next_start as next_start_position,
        lead(previous_started_at) over next_start as last_started_at_before_next
    from case_starts
    window next_start as (partition by repeat_window_seconds, link_group order by group_position)
),

final as (
    select
        repeat_window,
        repeat_window_seconds,
        $match_on as match_on,
        customer_id,
        coalesce(next_start_position, group_size + 1) - group_position as contact_count,
        business_date,
        channel as first_channel,
        reason as first_reason,
        team as first_team,
        case_matures_at(
            is_ticket_linked, started_at, coalesce(last_started_at_before_next, group_last_started_at),
            'rolling', repeat_window_seconds, $ticket_horizon_seconds
        ) as matures_at
    from bounded
)

select * from final

-- one row per case of one sensitivity definition (window x match_on) in the run's scope: what the table counts
with

sequenced as (
    select * from staging.delta_case_sequences
),

final as (
    select
        $repeat_window as repeat_window,
        $repeat_window_seconds as repeat_window_seconds,
        $match_on as match_on,
        any_value(customer_id) as customer_id,
        count(*) as contact_count,
        arg_min(business_date, group_position) as business_date,
        arg_min(channel, group_position) as first_channel,
        arg_min(reason, group_position) as first_reason,
        arg_min(team, group_position) as first_team,
        case_matures_at(
            bool_or(is_ticket_linked), min(started_at), max(started_at),
            $window_mode, $repeat_window_seconds, $ticket_horizon_seconds
        ) as matures_at
    from sequenced
    group by link_group, case_sequence
)

select * from final

-- one scalar macro per case rule every model shares (SPEC section 3), so each is written once
create or replace temp macro is_self_service_channel(channel) as (
    channel in ('bot', 'ivr', 'web')
);

-- whether a contact starts a case under a rolling window: the first of its link group, or after a gap longer
-- than the window (a ticket's contacts: longer than the ticket horizon)
create or replace temp macro is_rolling_case_start(
    group_position, is_ticket_linked, gap_seconds, repeat_window_seconds, ticket_horizon_seconds
) as (
    group_position = 1
        or (not is_ticket_linked and gap_seconds > repeat_window_seconds)
        or (is_ticket_linked and gap_seconds > ticket_horizon_seconds)
);

-- when a case can no longer gain contacts: its ticket silent for the horizon, else its repeat window closed
create or replace temp macro case_matures_at(
    is_ticket_case, first_started_at, last_started_at, window_mode, repeat_window_seconds, ticket_horizon_seconds
) as (
    case
        when is_ticket_case then last_started_at + to_seconds(ticket_horizon_seconds)
        when window_mode = 'anchored' then first_started_at + to_seconds(repeat_window_seconds)
        else last_started_at + to_seconds(repeat_window_seconds)
    end
);

-- a period's figures are final once every case started in it is mature and the period has ended by the watermark
create or replace temp macro is_period_final(all_cases_mature, grain, period_start, watermark, business_tz) as (
    all_cases_mature
        and (period_start + case grain
            when 'day' then interval 1 day
            when 'week' then interval 7 day
            else interval 1 month
        end)::timestamp <= (watermark at time zone business_tz)
);

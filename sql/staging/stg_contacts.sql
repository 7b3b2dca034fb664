-- one row per source row of the Arrow batch being stored: typed, mapped, and the first rule it breaks (null = good)
with

batch as (
    select * from temp.incoming_batch
),

channel_map as (
    select * from channel_map
),

trimmed as (
    select
        batch.*,
        nullif(trim(contact_id), '') as contact_id_value,
        nullif(trim(customer_id), '') as customer_id_value,
        nullif(lower(trim(channel)), '') as channel_source,
        nullif(trim(wait_seconds), '') as wait_text,
        nullif(trim(handle_seconds), '') as handle_text,
        nullif(trim(hold_seconds), '') as hold_text,
        nullif(trim(transfers), '') as transfers_text,
        nullif(trim(survey_ces), '') as ces_text,
        nullif(trim(survey_csat), '') as csat_text,
        nullif(trim(delivery_order), '') as order_text,
        parse_local_timestamp(started_at, $timestamp_formats) as started_parsed,
        parse_local_timestamp(ended_at, $timestamp_formats) as ended_parsed
    from batch
),

plausible as (
    -- a year beyond 9999 cannot be read in a time zone (ICU overflows): it is quarantined, never converted
    select
        trimmed.*,
        case when year(started_parsed) between 1 and 9999 then started_parsed end as started_local,
        case when year(ended_parsed) between 1 and 9999 then ended_parsed end as ended_local,
        not coalesce(year(started_parsed) between 1 and 9999, true) as is_started_implausible,
        not coalesce(year(ended_parsed) between 1 and 9999, true) as is_ended_implausible
    from trimmed
),

typed as (
    select
        plausible.*,
        coalesce(
            offset_timestamp(started_at), local_instant(started_local, $source_tz, $ambiguous)
        ) as started_at_value,
        coalesce(
            offset_timestamp(ended_at), local_instant(ended_local, $source_tz, $ambiguous)
        ) as ended_at_value,
        local_time_kind(started_local, $source_tz) as started_at_kind,
        local_time_kind(ended_local, $source_tz) as ended_at_kind,
        coalesce(
            channel_map.canonical_channel,
            case when $unknown_channel = 'other' then 'other' end
        ) as channel_value,
        case
            when nullif(trim(direction), '') is null then 'inbound'
            when lower(trim(direction)) in ('inbound', 'in', 'incoming', 'i') then 'inbound'
            when lower(trim(direction)) in ('outbound', 'out', 'outgoing', 'o') then 'outbound'
        end as direction_value,
        try_cast(wait_text as double) as wait_value,
        try_cast(handle_text as double) as handle_value,
        try_cast(hold_text as double) as hold_value,
        try_cast(transfers_text as integer) as transfers_value,
        try_cast(ces_text as double) as ces_value,
        try_cast(csat_text as double) as csat_value,
        case $order_type
            when 'number' then try_cast(order_text as double)
            when 'timestamp' then epoch(parse_timestamp(order_text, $source_tz, $timestamp_formats))
        end as order_value
    from plausible
    left join channel_map on channel_map.source_channel = plausible.channel_source
),

checked as (
    select
        typed.*,
        case
            when contact_id_value is null then 'missing_contact_id'
            when nullif(trim(started_at), '') is null then 'missing_started_at'
            when is_started_implausible or not (year(started_at_value) between 1 and 9999)
                then 'implausible_started_at'
            when started_at_value is null then 'unparseable_started_at'
            when is_ended_implausible or not (year(ended_at_value) between 1 and 9999)
                then 'implausible_ended_at'
            when nullif(trim(ended_at), '') is not null and ended_at_value is null
                then 'unparseable_ended_at'
            when $nonexistent = 'quarantine' and 'nonexistent' in (started_at_kind, ended_at_kind)
                then 'nonexistent_local_time'
            when $ambiguous = 'quarantine' and 'ambiguous' in (started_at_kind, ended_at_kind)
                then 'ambiguous_local_time'
            when channel_value is null then 'unknown_channel'
            when direction_value is null then 'unknown_direction'
            when ended_at_value < started_at_value then 'ended_before_started'
            when (wait_text is not null and wait_value is null)
                or (handle_text is not null and handle_value is null)
                or (hold_text is not null and hold_value is null)
                or (transfers_text is not null and transfers_value is null)
                or (ces_text is not null and ces_value is null)
                or (csat_text is not null and csat_value is null)
                then 'unparseable_number'
            when wait_value < 0 or handle_value < 0 or hold_value < 0 or transfers_value < 0
                then 'negative_duration'
            when ces_value not between 1 and 7 or csat_value not between 1 and 5
                then 'survey_out_of_range'
            when (nullif(trim(agent_resolved), '') is not null and parse_flag(agent_resolved) is null)
                or (nullif(trim(survey_resolved), '') is not null and parse_flag(survey_resolved) is null)
                then 'unparseable_flag'
            when disallowed_value is not null then 'value_not_allowed'
            when order_text is not null and order_value is null then 'unparseable_order_by'
        end as quarantine_rule
    from typed
),

final as (
    select
        contact_id_value as contact_id,
        customer_id_value as customer_id,
        channel_value as channel,
        started_at_value as started_at,
        ended_at_value as ended_at,
        direction_value as direction,
        coalesce(nullif(trim(reason), ''), 'unknown') as reason,
        nullif(trim(interaction_id), '') as interaction_id,
        nullif(trim(ticket_id), '') as ticket_id,
        nullif(trim(agent_id), '') as agent_id,
        nullif(trim(team), '') as team,
        nullif(trim(queue), '') as queue,
        wait_value as wait_seconds,
        handle_value as handle_seconds,
        hold_value as hold_seconds,
        transfers_value as transfers,
        parse_flag(agent_resolved) as agent_resolved,
        parse_flag(survey_resolved) as survey_resolved,
        ces_value as survey_ces,
        csat_value as survey_csat,
        order_value as delivery_order,
        source_file,
        source_line,
        file_order,
        started_at_kind,
        ended_at_kind,
        quarantine_rule,
        case quarantine_rule
            when 'unparseable_started_at' then 'started_at = ' || started_at
            when 'unparseable_ended_at' then 'ended_at = ' || ended_at
            when 'implausible_started_at' then 'started_at = ' || started_at || ' (year beyond 9999)'
            when 'implausible_ended_at' then 'ended_at = ' || ended_at || ' (year beyond 9999)'
            when 'nonexistent_local_time' then
                case
                    when started_at_kind = 'nonexistent' then 'started_at = ' || started_at
                    else 'ended_at = ' || ended_at
                end
                || ' (skipped when the clocks went forward in ' || $source_tz || ')'
            when 'ambiguous_local_time' then
                case
                    when started_at_kind = 'ambiguous' then 'started_at = ' || started_at
                    else 'ended_at = ' || ended_at
                end
                || ' (repeated when the clocks went back in ' || $source_tz || ')'
            when 'unknown_channel' then 'channel = ' || coalesce(channel, '(empty)')
            when 'unknown_direction' then 'direction = ' || direction
            when 'ended_before_started' then 'ended_at ' || ended_at || ' < started_at ' || started_at
            when 'value_not_allowed' then disallowed_value
            when 'unparseable_order_by' then $order_by || ' = ' || order_text
        end as quarantine_detail
    from checked
)

select * from final

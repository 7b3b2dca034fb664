-- one row per case: a customer's chain of counted contacts about one problem (and their forwards), attributed to its first contact
with

-- imports are scanned where they are used (not materialized): at 10M contacts a shared copy outgrows memory
case_contacts as not materialized (
    select * from staging.delta_case_contacts
),

contacts as not materialized (
    select * from staging.delta_contacts
),

legs as (
    select * from raw.contacts
    where started_at <= $watermark
),

handed_over as (
    -- self-service interactions with a leg in an assisted channel (an IVR call or bot chat passed to an agent)
    select distinct interaction_key(customer_id, interaction_id, contact_id) as interaction_key
    from legs
    where not is_self_service_channel(channel)
        and interaction_id in (select interaction_id from contacts where is_self_service and leg_count > 1)
),

joined as (
    -- only the columns the per-case aggregates read
    select
        case_contacts.case_id,
        case_contacts.contact_number,
        case_contacts.is_forward,
        case_contacts.customer_id,
        case_contacts.link_key,
        case_contacts.channel,
        case_contacts.started_at,
        case_contacts.ended_at,
        contacts.wait_seconds,
        contacts.handle_seconds,
        contacts.hold_seconds,
        contacts.transfers,
        not contacts.is_self_service or handed_over.interaction_key is not null as is_assisted
    from case_contacts
    inner join contacts using (contact_id)
    left join handed_over using (interaction_key)
),

per_case as (
    select
        case_id,
        any_value(customer_id) as customer_id,
        arg_min(link_key, contact_number) as link_key,  -- a ticket case can mix reasons: its first one
        count(*) filter (where not is_forward) as contact_count,
        -- one bit per canonical channel: a fixed-size state that spills, unlike count(distinct) or string_agg
        bit_or(1::bigint << (list_position($channels::varchar[], channel) - 1)) as channel_mask,
        min(started_at) as first_started_at,
        max(started_at) filter (where not is_forward) as last_started_at,
        -- the last contact's end, or its forward's when that ends later
        arg_max(coalesce(ended_at, started_at), (contact_number, coalesce(ended_at, started_at)))
            as last_ended_at,
        arg_max(channel, contact_number) filter (where not is_forward) as last_channel,
        sum(coalesce(wait_seconds, 0)) as wait_seconds,
        sum(coalesce(handle_seconds, 0)) as handle_seconds,
        sum(coalesce(hold_seconds, 0)) as hold_seconds,
        sum(coalesce(transfers, 0))::bigint as transfers,
        bool_or(is_assisted) as has_assisted_contact
    from joined
    group by case_id
),

first_contacts as (
    select
        case_contacts.case_id,
        case_contacts.channel,
        case_contacts.business_date,
        case_contacts.is_self_service,
        contacts.reason,
        $link_by = 'ticket' and contacts.ticket_id is not null as is_ticket_case,
        contacts.agent_id,
        contacts.team,
        contacts.queue,
        contacts.agent_resolved,
        contacts.survey_resolved,
        contacts.survey_ces,
        contacts.survey_csat
    from case_contacts
    inner join contacts using (contact_id)
    where case_contacts.contact_number = 1 and not case_contacts.is_forward
),

first_channel_counts as (
    select
        case_contacts.case_id,
        count(*) as first_channel_contact_count
    from case_contacts
    inner join first_contacts
        on first_contacts.case_id = case_contacts.case_id
        and first_contacts.channel = case_contacts.channel
    where not case_contacts.is_forward
    group by case_contacts.case_id
),

final as (
    select
        per_case.case_id,
        per_case.customer_id,
        first_contacts.reason,
        per_case.link_key,
        first_contacts.channel as first_channel,
        per_case.last_channel,
        array_to_string(
            list_filter(
                $channels::varchar[], lambda channel, i: (per_case.channel_mask >> (i - 1)) & 1 = 1
            ),
            ','
        ) as channels_used,
        first_contacts.agent_id,
        first_contacts.team,
        first_contacts.queue,
        first_contacts.business_date,
        per_case.first_started_at,
        per_case.last_started_at,
        per_case.last_ended_at,
        per_case.contact_count,
        bit_count(per_case.channel_mask)::bigint as channel_count,
        per_case.contact_count = 1 as is_fcr,
        per_case.contact_count <= 2 as is_resolved_within_2,
        per_case.contact_count <= 3 as is_resolved_within_3,
        first_channel_counts.first_channel_contact_count = 1 as is_same_channel_fcr,
        bit_count(per_case.channel_mask) > 1 as is_multi_channel,
        first_contacts.is_self_service as is_self_service_start,
        first_contacts.is_self_service and not per_case.has_assisted_contact as is_contained,
        date_diff('second', per_case.first_started_at, per_case.last_ended_at)
            as time_to_resolution_seconds,
        per_case.wait_seconds,
        per_case.handle_seconds,
        per_case.hold_seconds,
        per_case.transfers,
        first_contacts.agent_resolved as first_agent_resolved,
        first_contacts.survey_resolved as first_survey_resolved,
        first_contacts.survey_ces as first_survey_ces,
        first_contacts.survey_csat as first_survey_csat,
        case_matures_at(
            first_contacts.is_ticket_case, per_case.first_started_at, per_case.last_started_at,
            $window_mode, $repeat_window_seconds, $ticket_horizon_seconds
        ) as matures_at,
        case_matures_at(
            first_contacts.is_ticket_case, per_case.first_started_at, per_case.last_started_at,
            $window_mode, $repeat_window_seconds, $ticket_horizon_seconds
        ) <= $watermark as is_mature
    from per_case
    inner join first_contacts using (case_id)
    inner join first_channel_counts using (case_id)
)

select * from final

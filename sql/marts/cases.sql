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

multi_row_cases as (
    -- most cases are one contact: only the ones with more rows (repeats or forwards) need aggregating
    select distinct case_id from case_contacts
    where contact_number > 1 or is_forward
),

joined as not materialized (
    -- every case row with the columns the case reads: its own, and its first contact's attributes
    select
        case_contacts.case_id,
        case_contacts.contact_number,
        case_contacts.is_forward,
        case_contacts.customer_id,
        case_contacts.link_key,
        case_contacts.channel,
        case_contacts.started_at,
        case_contacts.ended_at,
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
        contacts.survey_csat,
        contacts.wait_seconds,
        contacts.handle_seconds,
        contacts.hold_seconds,
        contacts.transfers,
        not contacts.is_self_service or handed_over.interaction_key is not null as is_assisted
    from case_contacts
    inner join contacts using (contact_id)
    left join handed_over using (interaction_key)
),

multi_rows as (
    select * from joined
    semi join multi_row_cases using (case_id)
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
    from multi_rows
    group by case_id
),

first_contacts as (
    select * from multi_rows
    where contact_number = 1 and not is_forward
),

first_channel_counts as (
    select
        multi_rows.case_id,
        count(*) as first_channel_contact_count
    from multi_rows
    inner join first_contacts
        on first_contacts.case_id = multi_rows.case_id
        and first_contacts.channel = multi_rows.channel
    where not multi_rows.is_forward
    group by multi_rows.case_id
),

multi_row_facts as (
    select
        per_case.*,
        first_contacts.channel as first_channel,
        first_contacts.business_date,
        first_contacts.is_self_service as is_self_service_start,
        first_contacts.reason,
        first_contacts.is_ticket_case,
        first_contacts.agent_id,
        first_contacts.team,
        first_contacts.queue,
        first_contacts.agent_resolved,
        first_contacts.survey_resolved,
        first_contacts.survey_ces,
        first_contacts.survey_csat,
        first_channel_counts.first_channel_contact_count
    from per_case
    inner join first_contacts using (case_id)
    inner join first_channel_counts using (case_id)
),

single_row_facts as (
    -- the same columns for a one-contact case: its contact's own values
    select
        case_id,
        customer_id,
        link_key,
        1::bigint as contact_count,
        1::bigint << (list_position($channels::varchar[], channel) - 1) as channel_mask,
        started_at as first_started_at,
        started_at as last_started_at,
        coalesce(ended_at, started_at) as last_ended_at,
        channel as last_channel,
        coalesce(wait_seconds, 0) as wait_seconds,
        coalesce(handle_seconds, 0) as handle_seconds,
        coalesce(hold_seconds, 0) as hold_seconds,
        coalesce(transfers, 0)::bigint as transfers,
        is_assisted as has_assisted_contact,
        channel as first_channel,
        business_date,
        is_self_service as is_self_service_start,
        reason,
        is_ticket_case,
        agent_id,
        team,
        queue,
        agent_resolved,
        survey_resolved,
        survey_ces,
        survey_csat,
        1::bigint as first_channel_contact_count
    from joined
    anti join multi_row_cases using (case_id)
),

case_facts as (
    select * from multi_row_facts
    union all by name
    select * from single_row_facts
),

final as (
    select
        case_facts.case_id,
        case_facts.customer_id,
        case_facts.reason,
        case_facts.link_key,
        case_facts.first_channel,
        case_facts.last_channel,
        array_to_string(
            list_filter(
                $channels::varchar[], lambda channel, i: (case_facts.channel_mask >> (i - 1)) & 1 = 1
            ),
            ','
        ) as channels_used,
        case_facts.agent_id,
        case_facts.team,
        case_facts.queue,
        case_facts.business_date,
        case_facts.first_started_at,
        case_facts.last_started_at,
        case_facts.last_ended_at,
        case_facts.contact_count,
        bit_count(case_facts.channel_mask)::bigint as channel_count,
        case_facts.contact_count = 1 as is_fcr,
        case_facts.contact_count <= 2 as is_resolved_within_2,
        case_facts.contact_count <= 3 as is_resolved_within_3,
        case_facts.first_channel_contact_count = 1 as is_same_channel_fcr,
        bit_count(case_facts.channel_mask) > 1 as is_multi_channel,
        case_facts.is_self_service_start,
        case_facts.is_self_service_start and not case_facts.has_assisted_contact as is_contained,
        date_diff('second', case_facts.first_started_at, case_facts.last_ended_at)
            as time_to_resolution_seconds,
        case_facts.wait_seconds,
        case_facts.handle_seconds,
        case_facts.hold_seconds,
        case_facts.transfers,
        case_facts.agent_resolved as first_agent_resolved,
        case_facts.survey_resolved as first_survey_resolved,
        case_facts.survey_ces as first_survey_ces,
        case_facts.survey_csat as first_survey_csat,
        case_matures_at(
            case_facts.is_ticket_case, case_facts.first_started_at, case_facts.last_started_at,
            $window_mode, $repeat_window_seconds, $ticket_horizon_seconds
        ) as matures_at,
        case_matures_at(
            case_facts.is_ticket_case, case_facts.first_started_at, case_facts.last_started_at,
            $window_mode, $repeat_window_seconds, $ticket_horizon_seconds
        ) <= $watermark as is_mature
    from case_facts
)

select * from final

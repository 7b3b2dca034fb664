-- one row per contact in the run's scope: a customer's interaction legs collapsed (a forward within the transfer gap flagged)
with

scoped as not materialized (
    select * from scoped_contacts($watermark, $full)
),

legs as not materialized (
    select
        scoped.*,
        not is_self_service_channel(channel) as is_assisted_leg
    from scoped
),

multi_leg_keys as (
    -- most interactions are one leg: only the ones with more need collapsing
    select interaction_key from legs
    group by interaction_key
    having count(*) > 1
),

multi_leg_interactions as (
    -- legs collapse first: an interaction that reached an agent is assisted, whatever its first leg
    select
        interaction_key,
        arg_min(customer_id, (started_at, contact_id)) as customer_id,
        arg_min(customer_id is not null and direction = 'inbound', (started_at, contact_id))
            and ($count_self_service or bool_or(is_assisted_leg)) as is_countable,
        min(started_at) as started_at,
        arg_min(contact_id, (started_at, contact_id)) as first_contact_id,
        -- the leg a contact is attributed to: its first leg, or with self-service left uncounted its first
        -- assisted leg (channel, agent, team), so an IVR leg passed to an agent counts as the agent's call
        arg_min(contact_id, (not $count_self_service and not is_assisted_leg, started_at, contact_id))
            as attributed_contact_id,
        count(*) as leg_count,
        max(ended_at) as last_ended_at,
        sum(wait_seconds) as wait_seconds,
        sum(handle_seconds) as handle_seconds,
        sum(hold_seconds) as hold_seconds,
        sum(transfers) as transfers
    from legs
    semi join multi_leg_keys using (interaction_key)
    group by interaction_key
),

single_leg_interactions as (
    -- the same columns for a one-leg interaction: its leg's own values
    select
        interaction_key,
        customer_id,
        customer_id is not null and direction = 'inbound'
            and ($count_self_service or is_assisted_leg) as is_countable,
        started_at,
        contact_id as first_contact_id,
        contact_id as attributed_contact_id,
        1 as leg_count,
        ended_at as last_ended_at,
        wait_seconds,
        handle_seconds,
        hold_seconds,
        transfers
    from legs
    anti join multi_leg_keys using (interaction_key)
),

interactions as (
    select * from multi_leg_interactions
    union all
    select * from single_leg_interactions
),

unforwarded as (
    -- without a transfer gap nothing is a forward: each interaction is its own root, and no window runs
    select
        interactions.*,
        attributed_contact_id as transfer_root_id
    from interactions
    where $transfer_gap_seconds is null
),

transfer_gaps as (
    select
        interactions.*,
        started_at - lag(started_at) over (
            partition by customer_id, is_countable order by started_at, first_contact_id
        ) as gap
    from interactions
    where $transfer_gap_seconds is not null
),

transfer_groups as (
    -- with a transfer gap, a countable interaction starting within it after the customer's previous one
    -- is a forward of that contact: it joins the contact's case but is not a repeat
    select
        transfer_gaps.* exclude (gap),
        sum(
            case
                when is_countable and gap <= to_seconds($transfer_gap_seconds) then 0
                else 1
            end
        ) over (
            partition by customer_id, is_countable order by started_at, first_contact_id
            rows between unbounded preceding and current row
        ) as transfer_sequence
    from transfer_gaps
),

forwarded as (
    -- the first contact of each run of forwards: the one the others were forwarded from
    select
        transfer_groups.* exclude (transfer_sequence),
        first_value(attributed_contact_id) over (
            partition by customer_id, is_countable, transfer_sequence order by started_at, attributed_contact_id
        ) as transfer_root_id
    from transfer_groups
),

rooted_interactions as (
    select * from unforwarded
    union all
    select * from forwarded
),

rooted as (
    -- contact ids are unique once loaded, so the attributed leg is found by its id
    select
        first_legs.contact_id,
        first_legs.interaction_id,
        first_legs.interaction_key,
        first_legs.customer_id,
        first_legs.channel,
        interactions.started_at,
        interactions.last_ended_at as ended_at,
        first_legs.direction,
        first_legs.reason,
        first_legs.ticket_id,
        first_legs.agent_id,
        first_legs.team,
        first_legs.queue,
        interactions.wait_seconds,
        interactions.handle_seconds,
        interactions.hold_seconds,
        interactions.transfers,
        first_legs.agent_resolved,
        first_legs.survey_resolved,
        first_legs.survey_ces,
        first_legs.survey_csat,
        interactions.leg_count,
        (interactions.started_at at time zone $business_tz)::date as business_date,
        first_legs.customer_id is null as is_anonymous,
        first_legs.direction = 'inbound' as is_inbound,
        is_self_service_channel(first_legs.channel) as is_self_service,
        interactions.is_countable,
        interactions.transfer_root_id
    from rooted_interactions as interactions
    inner join legs as first_legs on first_legs.contact_id = interactions.attributed_contact_id
),

flagged as (
    select
        rooted.*,
        coalesce(is_countable and $transfer_gap_seconds is not null and contact_id <> transfer_root_id, false)
            as is_forward
    from rooted
),

final as (
    select
        flagged.* exclude (is_countable, transfer_root_id),
        case when is_forward then transfer_root_id end as forwarded_from_contact_id,
        is_countable and not is_forward as is_counted
    from flagged
)

select * from final

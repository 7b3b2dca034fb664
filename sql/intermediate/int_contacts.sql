-- one row per contact after interaction legs collapse (the earliest leg stands for them), up to the watermark
with

loaded as (
    select * from raw.contacts
    where started_at <= $watermark
),

reason_groups as (
    select * from reason_groups
),

legs as (
    select
        loaded.*,
        coalesce('i:' || interaction_id, 'c:' || contact_id) as interaction_key
    from loaded
),

leg_totals as (
    select
        interaction_key,
        count(*) as leg_count,
        max(ended_at) as last_ended_at,
        sum(wait_seconds) as wait_seconds,
        sum(handle_seconds) as handle_seconds,
        sum(hold_seconds) as hold_seconds,
        sum(transfers) as transfers
    from legs
    group by interaction_key
),

first_legs as (
    select * from legs
    qualify row_number() over (
        partition by interaction_key order by started_at, contact_id
    ) = 1
),

collapsed as (
    select
        first_legs.contact_id,
        first_legs.interaction_id,
        first_legs.customer_id,
        first_legs.channel,
        first_legs.started_at,
        leg_totals.last_ended_at as ended_at,
        first_legs.direction,
        first_legs.reason,
        first_legs.ticket_id,
        first_legs.agent_id,
        first_legs.team,
        first_legs.queue,
        leg_totals.wait_seconds,
        leg_totals.handle_seconds,
        leg_totals.hold_seconds,
        leg_totals.transfers,
        first_legs.agent_resolved,
        first_legs.survey_resolved,
        first_legs.survey_ces,
        first_legs.survey_csat,
        leg_totals.leg_count
    from first_legs
    inner join leg_totals using (interaction_key)
),

final as (
    select
        collapsed.*,
        (started_at at time zone $business_tz)::date as business_date,
        customer_id is null as is_anonymous,
        direction = 'inbound' as is_inbound,
        channel in ('bot', 'ivr', 'web') as is_self_service,
        direction = 'inbound'
            and customer_id is not null
            and ($count_self_service or channel not in ('bot', 'ivr', 'web')) as is_counted,
        case $match_on
            when 'customer' then '*'
            when 'reason_group' then coalesce(reason_groups.reason_group, collapsed.reason)
            else collapsed.reason
        end as link_key
    from collapsed
    left join reason_groups on reason_groups.reason = collapsed.reason
)

select * from final

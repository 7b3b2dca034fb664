-- one row per repeat contact: a counted contact after its case's first, beside the contact before it in the case
with

case_contacts as (
    -- forwards share the number of the contact they were forwarded from: they are never repeats
    select * from staging.delta_case_contacts
    where not is_forward
),

contacts as (
    select * from staging.delta_contacts
),

attributed as (
    select
        case_contacts.case_id,
        case_contacts.contact_id,
        case_contacts.customer_id,
        case_contacts.contact_number,
        case_contacts.started_at,
        case_contacts.business_date,
        case_contacts.channel,
        contacts.reason,
        contacts.agent_id,
        contacts.team,
        contacts.agent_resolved
    from case_contacts
    inner join contacts using (contact_id)
),

paired as (
    select
        attributed.*,
        lag(contact_id) over previous as previous_contact_id,
        lag(started_at) over previous as previous_started_at,
        lag(channel) over previous as previous_channel,
        lag(reason) over previous as previous_reason,
        lag(agent_id) over previous as previous_agent_id,
        lag(team) over previous as previous_team,
        lag(agent_resolved) over previous as previous_agent_resolved
    from attributed
    window previous as (partition by case_id order by contact_number)
),

final as (
    select
        case_id,
        contact_id,
        customer_id,
        contact_number,
        started_at,
        business_date,
        channel,
        reason,
        agent_id,
        team,
        previous_contact_id,
        previous_started_at,
        previous_channel,
        previous_reason,
        previous_agent_id,
        previous_team,
        previous_agent_resolved,
        epoch(started_at) - epoch(previous_started_at) as gap_seconds
    from paired
    where contact_number > 1
)

select * from final

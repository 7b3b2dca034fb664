-- one row per counted contact: the group it can link within (customer + match key, or ticket) and its gap to the previous one
with

contacts as (
    select * from staging.delta_contacts
    where is_counted
),

reason_groups as (
    select * from reason_groups
),

keyed as (
    select
        contacts.*,
        case $match_on
            when 'customer' then '*'
            when 'reason_group' then coalesce(reason_groups.reason_group, contacts.reason)
            else contacts.reason
        end as link_key,
        $link_by = 'ticket' and contacts.ticket_id is not null as is_ticket_linked
    from contacts
    left join reason_groups on reason_groups.reason = contacts.reason
),

grouped as (
    -- the customer id is length-prefixed, so no customer and link key pair can spell another pair's group
    select
        keyed.*,
        case
            -- a ticket links within its customer, as windows do: a customer is the unit of linking
            when is_ticket_linked then 'ticket:' || length(customer_id) || ':' || customer_id || ticket_id
            else 'window:' || length(customer_id) || ':' || customer_id || link_key
        end as link_group
    from keyed
),

final as (
    select
        contact_id,
        customer_id,
        link_key,
        link_group,
        is_ticket_linked,
        channel,
        reason,
        coalesce(team, '(none)') as team,  -- as published.metrics keys it
        started_at,
        ended_at,
        business_date,
        is_self_service,
        date_diff('millisecond', lag(started_at) over link_order, started_at) / 1000.0 as gap_seconds,
        row_number() over link_order as group_position
    from grouped
    window link_order as (partition by link_group order by started_at, contact_id)
)

select * from final

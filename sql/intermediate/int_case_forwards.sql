-- one row per forward (a contact within the transfer gap after the customer's previous one): the case of the contact it was forwarded from
with

forwards as (
    select * from staging.delta_contacts
    where is_forward
),

case_contacts as (
    select * from staging.delta_case_contacts
),

final as (
    select
        case_contacts.case_id,
        forwards.contact_id,
        forwards.customer_id,
        case_contacts.link_key,
        case_contacts.contact_number,
        forwards.channel,
        forwards.started_at,
        forwards.ended_at,
        forwards.business_date,
        forwards.is_self_service,
        true as is_forward
    from forwards
    inner join case_contacts on case_contacts.contact_id = forwards.forwarded_from_contact_id
)

select * from final

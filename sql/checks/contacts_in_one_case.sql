-- one row per kind of case membership: staged or unknown contact, counted or not, number of cases it is in
with

contacts as (
    select contact_id, is_counted from staging.contacts
),

case_contacts as (
    select contact_id from staging.case_contacts
),

memberships as (
    select contact_id, count(*) as case_memberships
    from case_contacts
    group by contact_id
),

classified as (
    select
        coalesce(contacts.contact_id, memberships.contact_id) as contact_id,
        contacts.contact_id is not null as is_staged_contact,
        coalesce(contacts.is_counted, false) as is_counted,
        coalesce(memberships.case_memberships, 0) as case_memberships
    from contacts
    full outer join memberships on memberships.contact_id = contacts.contact_id
),

final as (
    select
        is_staged_contact,
        is_counted,
        case_memberships,
        count(*) as contacts,
        min(contact_id) as example_contact_id
    from classified
    group by all
)

select * from final
order by all

-- one row per kind of case membership: staged or unknown contact, belongs in a case (counted, or a forward) or not, number of cases it is in
with

contacts as (
    select contact_id, is_counted or is_forward as belongs_in_case from staging.contacts
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
        coalesce(contacts.belongs_in_case, false) as belongs_in_case,
        coalesce(memberships.case_memberships, 0) as case_memberships
    from contacts
    full outer join memberships on memberships.contact_id = contacts.contact_id
),

final as (
    select
        is_staged_contact,
        belongs_in_case,
        case_memberships,
        count(*) as contacts,
        min(contact_id) as example_contact_id
    from classified
    group by all
)

select * from final
order by all

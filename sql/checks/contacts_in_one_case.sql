-- offending contacts: a counted contact in no case or in more than one
with counted as (
    select contact_id from staging.contacts where is_counted
),
memberships as (
    select contact_id, count(*) as case_memberships
    from staging.case_contacts
    group by contact_id
)
select contact_id, coalesce(case_memberships, 0) as case_memberships
from counted
full outer join memberships using (contact_id)
where case_memberships is distinct from 1
    or contact_id not in (select contact_id from counted)

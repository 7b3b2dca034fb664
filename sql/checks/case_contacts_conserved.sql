-- offending totals: the sum of contact_count over cases differs from the counted contacts
select
    (select sum(contact_count) from staging.cases) as case_contact_total,
    (select count(*) from staging.contacts where is_counted) as counted_contacts
where (select coalesce(sum(contact_count), 0) from staging.cases)
    <> (select count(*) from staging.contacts where is_counted)

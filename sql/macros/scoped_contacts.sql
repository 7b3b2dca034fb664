-- one table macro: the loaded contacts a run links (up to the watermark; all, or its scope's), with their interaction key
-- (created by incremental.prepare once the scope tables it reads exist)
create or replace temp macro scoped_contacts(watermark, all_contacts) as table
    select * from (
        select
            *,
            interaction_key(customer_id, interaction_id, contact_id) as interaction_key
        from raw.contacts
        where started_at <= watermark
    ) as loaded
    where all_contacts
        or customer_id in (select customer_id from staging.scope_customers)
        or (customer_id is null and interaction_key in (select interaction_key from staging.scope_anonymous))

-- one row per loaded contact in the run's scope up to the watermark, with the shard that links it
with

loaded as not materialized (
    select
        *,
        interaction_key(customer_id, interaction_id, contact_id) as interaction_key
    from raw.contacts
    where started_at <= $watermark
),

scope_customers as (
    select * from staging.scope_customers
),

scope_anonymous as (
    select * from staging.scope_anonymous
),

scoped as not materialized (
    -- the contacts int_contacts would link in this run
    select * from loaded
    where $full
        or customer_id in (select customer_id from scope_customers)
        or (customer_id is null and interaction_key in (select interaction_key from scope_anonymous))
),

final as (
    select
        scoped.* exclude (interaction_key),
        -- a customer's contacts (an anonymous interaction's legs) all fall in one shard, so its cases do
        hash(coalesce(customer_id, interaction_key)) % $shards as shard
    from scoped
)

select * from final

-- one row per loaded contact in the run's scope up to the watermark, with the shard that links it
with

scoped as not materialized (
    -- the contacts int_contacts links in this run
    select * from scoped_contacts($watermark, $full)
),

final as (
    select
        scoped.* exclude (interaction_key),
        -- a customer's contacts (an anonymous interaction's legs) all fall in one shard, so its cases do
        hash(coalesce(customer_id, interaction_key)) % $shards as shard
    from scoped
)

select * from final

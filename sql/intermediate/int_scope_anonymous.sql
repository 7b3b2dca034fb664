-- one row per anonymous interaction a run must rebuild: touched by a load, or newly inside the watermark
with

touched as (
    select * from raw.touched
),

newly_inside as (
    select interaction_key(customer_id, interaction_id, contact_id) as interaction_key
    from raw.contacts
    where customer_id is null and started_at > $previous_watermark and started_at <= $watermark
),

final as (
    select interaction_key from touched where customer_id is null
    union
    select interaction_key from newly_inside
)

select * from final

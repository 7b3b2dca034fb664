-- one row per identified customer whose cases a run must rebuild: touched by a load, or newly inside the watermark
with

touched as (
    select * from raw.touched
),

newly_inside as (
    select customer_id from raw.contacts
    where started_at > $previous_watermark and started_at <= $watermark
),

final as (
    select customer_id from touched where customer_id is not null
    union
    select customer_id from newly_inside where customer_id is not null
)

select * from final

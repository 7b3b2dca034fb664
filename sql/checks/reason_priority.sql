-- one row per staged reason_priority row
with

reason_priority as (
    select * from staging.reason_priority
),

final as (
    select * from reason_priority
)

select * from final

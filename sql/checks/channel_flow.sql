-- one row per staged channel_flow row
with

channel_flow as (
    select * from staging.channel_flow
),

final as (
    select * from channel_flow
)

select * from final

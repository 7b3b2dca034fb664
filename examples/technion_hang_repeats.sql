-- one row per gap band: repeat calls by the time since the previous call of their case and that call's outcome
with

source_calls as (
    -- the contact schema has no outcome column, so read it from the export ($source), building
    -- contact_id as examples/technion.toml does ("vru+line" and call_id joined with "-")
    select
        "vru+line" || '-' || call_id as contact_id,
        outcome
    from read_csv($source, delim = '\t', header = true, all_varchar = true)
),

case_contacts as (
    select * from published.case_contacts
),

repeats as (
    select
        repeat_call.contact_id,
        repeat_call.started_at - previous_call.started_at as gap,
        source_calls.outcome as previous_outcome
    from case_contacts as repeat_call
    inner join case_contacts as previous_call
        on previous_call.case_id = repeat_call.case_id
        and previous_call.contact_number = repeat_call.contact_number - 1
    left join source_calls on source_calls.contact_id = previous_call.contact_id
),

banded as (
    select
        repeats.*,
        case
            when gap <= interval 5 minute then 1
            when gap <= interval 15 minute then 2
            when gap <= interval 1 hour then 3
            when gap <= interval 1 day then 4
            else 5
        end as band_order
    from repeats
),

final as (
    select
        band_order,
        case band_order
            when 1 then 'up to 5 min'
            when 2 then '5-15 min'
            when 3 then '15-60 min'
            when 4 then '1-24 h'
            else 'over 24 h'
        end as time_since_previous_call,
        count(*) filter (where previous_outcome = 'HANG') as after_abandoned_call,
        count(*) filter (where previous_outcome = 'AGENT') as after_served_call,
        count(*) as repeat_calls,
        round(100 * count(*) filter (where previous_outcome = 'HANG') / count(*), 1) as abandoned_share_pct
    from banded
    group by band_order
)

select * exclude (band_order) from final
order by band_order

-- one row per repeat outcome (repeated / not repeated) of the mature cases: how many of their first incidents were reopened
with

incident_updates as (
    -- reopen_count is not in the contact schema: read it from the export ($source); it is a counter,
    -- so its maximum over an incident's updates is the value of its last update
    select
        number as contact_id,
        max(try_cast(reopen_count as integer)) as reopen_count
    from read_csv($source, header = true, all_varchar = true, nullstr = '?')
    group by number
),

mature_cases as (
    select * from published.cases
    where is_mature
),

judged as (
    select
        case when mature_cases.is_fcr then 'no repeat (FCR)' else 'repeated' end as repeat_outcome,
        coalesce(incident_updates.reopen_count, 0) > 0 as is_reopened
    from mature_cases
    left join incident_updates on incident_updates.contact_id = mature_cases.case_id
),

final as (
    select
        repeat_outcome,
        count(*) filter (where not is_reopened) as first_incident_not_reopened,
        count(*) filter (where is_reopened) as first_incident_reopened,
        count(*) as mature_cases,
        round(100 * count(*) / sum(count(*)) over (), 1) as share_pct
    from judged
    group by repeat_outcome
)

select * from final
order by repeat_outcome

-- one row per contact in raw.contacts loaded from the files awaiting validation, with the columns the batch suite checks
with

contacts as (
    select * from raw.contacts
),

final as (
    select
        contact_id,
        source_line,
        channel,
        direction,
        started_at,
        ended_at,
        wait_seconds,
        handle_seconds,
        hold_seconds,
        transfers::bigint as transfers,  -- GX compares only int64/float64 columns vectorised
        survey_ces,
        survey_csat
    from contacts
    where source_file in (select unnest($files::varchar[]))
)

select * from final

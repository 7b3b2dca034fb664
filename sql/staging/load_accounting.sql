-- one row for the batch being loaded: its rows replaced by a later delivery, and the loaded rows' local times a clock change skipped or repeated
with

typed as (
    select * from temp.load_typed
    where quarantine_rule is null
),

delivered as (
    select * from temp.load_good
),

passed as (
    select
        typed.started_at_kind,
        typed.ended_at_kind,
        delivered.source_line is not null as is_loaded
    from typed
    left join delivered
        on delivered.source_file = typed.source_file
        and delivered.source_line = typed.source_line
),

final as (
    select
        count(*) filter (where not is_loaded) as rows_replaced,
        count(*) filter (where is_loaded and started_at_kind = 'nonexistent')
            + count(*) filter (where is_loaded and ended_at_kind = 'nonexistent') as local_times_shifted,
        count(*) filter (where is_loaded and started_at_kind = 'ambiguous')
            + count(*) filter (where is_loaded and ended_at_kind = 'ambiguous') as local_times_ambiguous
    from passed
)

select * from final

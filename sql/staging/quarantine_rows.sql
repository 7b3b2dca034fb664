-- one row per rejected source row of the batch: the rule it broke, where it came from, and its raw values
with

typed as (
    select * from temp.load_typed
),

batch as (
    select * exclude (disallowed_value, delivery_order) from temp.load_refused
),

final as (
    select
        typed.source_file,
        typed.source_line,
        typed.quarantine_rule as rule,
        typed.quarantine_detail as detail,
        to_json(batch)::varchar as raw_record,
        $run_id as run_id
    from typed
    inner join batch
        on batch.source_file = typed.source_file
        and batch.source_line = typed.source_line
    where typed.quarantine_rule is not null
)

select * from final

-- one row per contact_id in the batch that passed every rule: its winning delivery (dedupe order, then latest)
with

typed as (
    select * from temp.load_typed
    where quarantine_rule is null
),

final as (
    select
        contact_id, customer_id, channel, started_at, ended_at, direction, reason,
        interaction_id, ticket_id, agent_id, team, queue,
        wait_seconds, handle_seconds, hold_seconds, transfers,
        agent_resolved, survey_resolved, survey_ces, survey_csat,
        source_file, source_line
    from typed
    qualify row_number() over (
        partition by contact_id order by delivery_order desc nulls last, file_order desc, source_line desc
    ) = 1
)

select * from final

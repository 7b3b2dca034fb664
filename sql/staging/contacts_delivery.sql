-- one row per contact_id in the batch that passed every rule: its winning delivery (dedupe order, then latest)
with

typed as not materialized (
    select * from temp.load_typed
    where quarantine_rule is null
),

repeated_ids as (
    -- most contact ids arrive once: only the ones delivered more than once need ordering
    select contact_id from typed
    group by contact_id
    having count(*) > 1
),

delivered_once as (
    select typed.* from typed
    anti join repeated_ids using (contact_id)
),

latest_deliveries as (
    select typed.* from typed
    semi join repeated_ids using (contact_id)
    qualify row_number() over (
        partition by contact_id order by delivery_order desc nulls last, file_order desc, source_line desc
    ) = 1
),

winners as (
    select * from delivered_once
    union all
    select * from latest_deliveries
),

final as (
    select
        contact_id, customer_id, channel, started_at, ended_at, direction, reason,
        interaction_id, ticket_id, agent_id, team, queue,
        wait_seconds, handle_seconds, hold_seconds, transfers,
        agent_resolved, survey_resolved, survey_ces, survey_csat,
        source_file, source_line
    from winners
)

select * from final

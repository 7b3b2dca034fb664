-- one row per grain and period of the staged metrics: channel-flow transitions next to the counts they must equal
with

channel_flow as (
    select * from staging.channel_flow
),

metrics as (
    select * from staging.metrics
    where dimension = 'all'
),

flows as (
    select
        grain,
        period_start,
        sum(transitions) filter (where flow_kind = 'consecutive') as consecutive_transitions,
        sum(transitions) filter (where flow_kind = 'first_last') as first_last_transitions
    from channel_flow
    group by all
),

final as (
    select
        grain,
        period_start,
        coalesce(flows.consecutive_transitions, 0) as consecutive_transitions,
        coalesce(metrics.repeat_contacts, 0) as repeat_contacts,
        coalesce(flows.first_last_transitions, 0) as first_last_transitions,
        coalesce(metrics.mature_cases - metrics.cases_1, 0) as multi_contact_cases
    from metrics
    full outer join flows using (grain, period_start)
)

select * from final

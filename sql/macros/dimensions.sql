-- one scalar macro per half of a metrics dimension, read off a grouping-sets row (SPEC section 4)
-- the dimension a row of `group by grouping sets` over the keys (channel, reason, team, agent, queue, segment) is
-- for: grouping() sets a key's bit (channel 32 ... segment 1) when the row is aggregated over it
create or replace temp macro dimension_of_grouping(grouping_id) as (
    case grouping_id
        when 63 then 'all'
        when 31 then 'channel'
        when 47 then 'reason'
        when 55 then 'team'
        when 59 then 'agent'
        when 61 then 'queue'
        when 62 then 'segment'
        when 15 then 'channel_reason'
    end
);

-- that row's dimension value: its one key, both for channel_reason, 'all' for none (keys are never null,
-- so a key the row is aggregated over is the only null one)
create or replace temp macro dimension_value_of(channel_key, reason_key, team_key, agent_key, queue_key, segment_key) as (
    coalesce(
        channel_key || ' / ' || reason_key,
        channel_key, reason_key, team_key, agent_key, queue_key, segment_key, 'all'
    )
);

-- one row per grain, period_start (in scope), flow_kind, from_channel and to_channel: channel hops inside mature cases
with

affected_dates as (
    select * from staging.affected_dates
),

affected_periods as (
    select * from staging.affected_periods
),

case_contacts as (
    select * from staging.case_contacts
    where not is_forward  -- a forward is part of its contact's case, never a hop or an excess contact
),

cases as not materialized (
    select * from staging.cases
    where is_mature and ($full or business_date in (select business_date from affected_dates))
),

period_status as (
    select grain, period_start, is_final from staging.metrics
    where dimension = 'all'
),

grains as (
    select * from (values ('day'), ('week'), ('month')) as g(grain)
),

hops as (
    select
        case_id,
        contact_number,
        lag(channel) over (partition by case_id order by contact_number) as from_channel,
        channel as to_channel
    from case_contacts
    where case_id in (select case_id from cases where contact_count > 1)
),

consecutive as (
    -- contact n -> contact n + 1 of the same case, in the case's period
    select
        cases.business_date,
        'consecutive' as flow_kind,
        hops.from_channel,
        hops.to_channel,
        count(*) as transitions
    from hops
    inner join cases using (case_id)
    where hops.contact_number > 1
    group by all
),

first_last as (
    -- the channel a multi-contact case started in -> the channel it ended in
    select
        business_date,
        'first_last' as flow_kind,
        first_channel as from_channel,
        last_channel as to_channel,
        count(*) as transitions
    from cases
    where contact_count > 1
    group by all
),

days as (
    select * from consecutive
    union all
    select * from first_last
),

rolled as (
    select
        grains.grain,
        case grains.grain
            when 'day' then days.business_date
            else date_trunc(grains.grain, days.business_date)::date
        end as period_start,
        days.flow_kind,
        days.from_channel,
        days.to_channel,
        sum(days.transitions)::bigint as transitions
    from days
    cross join grains
    group by all
),

final as (
    select
        rolled.grain,
        rolled.period_start,
        rolled.flow_kind,
        rolled.from_channel,
        rolled.to_channel,
        period_status.is_final,
        rolled.transitions
    from rolled
    inner join period_status using (grain, period_start)
    where $full or exists (
        select 1 from affected_periods
        where affected_periods.grain = rolled.grain and affected_periods.period_start = rolled.period_start
    )
)

select * from final
order by grain, period_start, flow_kind, from_channel, to_channel

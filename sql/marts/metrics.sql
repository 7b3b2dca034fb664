-- one row per grain (day, week, month), period_start, dimension and dimension_value in scope: additive counts
with

affected_dates as (
    select * from staging.affected_dates
),

affected_periods as (
    select * from staging.affected_periods
),

cases as (
    select * from staging.cases
    where $full or business_date in (select business_date from affected_dates)
),

contacts as (
    select * from staging.contacts
    where $full or business_date in (select business_date from affected_dates)
),

case_contacts as (
    select * from staging.case_contacts
),

case_sizes as (
    select case_id, contact_count, is_mature from staging.cases
),

customers as (
    select * from raw.customers
),

grains as (
    select * from (values ('day'), ('week'), ('month')) as g(grain)
),

case_keys as (
    -- each case with its dimension keys (never null: a missing team, agent or queue is '(none)')
    select
        cases.*,
        cases.first_channel as channel_key,
        cases.reason as reason_key,
        coalesce(cases.team, '(none)') as team_key,
        coalesce(cases.agent_id, '(none)') as agent_key,
        coalesce(cases.queue, '(none)') as queue_key,
        coalesce(customers.segment, '(none)') as segment_key
    from cases
    left join customers using (customer_id)
),

contact_keys as (
    -- each contact with its dimension keys and, when counted, whether its case went on after it
    select
        contacts.*,
        contacts.channel as channel_key,
        contacts.reason as reason_key,
        coalesce(contacts.team, '(none)') as team_key,
        coalesce(contacts.agent_id, '(none)') as agent_key,
        coalesce(contacts.queue, '(none)') as queue_key,
        coalesce(customers.segment, '(none)') as segment_key,
        coalesce(case_contacts.contact_number < case_sizes.contact_count, false) as is_followed_by_repeat,
        case_sizes.is_mature as is_case_mature
    from contacts
    left join customers using (customer_id)
    left join case_contacts using (contact_id)
    left join case_sizes using (case_id)
),

case_groups as (
    -- every dimension of a day in one pass: one grouping set per dimension
    select
        business_date,
        dimension_of_grouping(
            grouping(channel_key, reason_key, team_key, agent_key, queue_key, segment_key)
        ) as dimension,
        dimension_value_of(channel_key, reason_key, team_key, agent_key, queue_key, segment_key)
            as dimension_value,
        count(*) as cases,
        count(*) filter (where is_mature) as mature_cases,
        sum(contact_count) as case_contacts,
        coalesce(sum(contact_count) filter (where is_mature), 0) as mature_case_contacts,
        count(*) filter (where is_mature and contact_count = 1) as cases_1,
        count(*) filter (where is_mature and contact_count = 2) as cases_2,
        count(*) filter (where is_mature and contact_count = 3) as cases_3,
        count(*) filter (where is_mature and contact_count >= 4) as cases_4_plus,
        coalesce(sum(contact_count - 1) filter (where is_mature), 0) as repeat_contacts,
        count(*) filter (where is_mature and is_same_channel_fcr) as same_channel_fcr_cases,
        count(*) filter (where is_mature and is_multi_channel) as multi_channel_cases,
        count(*) filter (where is_mature and is_self_service_start) as self_service_cases,
        count(*) filter (where is_mature and is_contained) as contained_cases,
        coalesce(sum(wait_seconds) filter (where is_mature), 0) as case_wait_seconds,
        coalesce(sum(handle_seconds) filter (where is_mature), 0) as case_handle_seconds,
        coalesce(sum(hold_seconds) filter (where is_mature), 0) as case_hold_seconds,
        coalesce(sum(transfers) filter (where is_mature), 0) as case_transfers,
        coalesce(sum(time_to_resolution_seconds) filter (where is_mature), 0)
            as time_to_resolution_seconds,
        count(*) filter (where is_mature and first_survey_resolved is not null)
            as first_contact_surveys,
        count(*) filter (where is_mature and first_survey_resolved) as first_contact_survey_resolved,
        count(*) filter (where is_mature and first_agent_resolved is not null)
            as first_contact_dispositions,
        count(*) filter (where is_mature and first_agent_resolved) as first_contact_agent_resolved,
        count(*) filter (where is_mature and first_agent_resolved is not null and is_fcr)
            as first_contact_disposition_cases_1,
        bool_and(is_mature) as all_cases_mature
    from case_keys
    group by grouping sets (
        (business_date),
        (business_date, channel_key),
        (business_date, reason_key),
        (business_date, team_key),
        (business_date, agent_key),
        (business_date, queue_key),
        (business_date, segment_key),
        (business_date, channel_key, reason_key)
    )
),

contact_groups as (
    select
        business_date,
        dimension_of_grouping(
            grouping(channel_key, reason_key, team_key, agent_key, queue_key, segment_key)
        ) as dimension,
        dimension_value_of(channel_key, reason_key, team_key, agent_key, queue_key, segment_key)
            as dimension_value,
        count(*) as contacts,
        count(*) filter (where is_inbound) as inbound_contacts,
        count(*) filter (where not is_inbound) as outbound_contacts,
        count(*) filter (where is_anonymous) as anonymous_contacts,
        count(*) filter (where is_counted) as counted_contacts,
        count(*) filter (where is_followed_by_repeat) as contacts_followed_by_repeat,
        -- a counted contact's "followed by a repeat" can move until its case (started any day) is mature
        coalesce(bool_and(is_case_mature) filter (where is_counted), true) as all_contact_cases_mature,
        coalesce(sum(wait_seconds) filter (where is_inbound), 0) as wait_seconds,
        count(wait_seconds) filter (where is_inbound) as contacts_with_wait,
        coalesce(sum(handle_seconds), 0) as handle_seconds,
        coalesce(sum(hold_seconds), 0) as hold_seconds,
        coalesce(sum(transfers), 0) as transfers,
        count(survey_ces) as ces_responses,
        coalesce(sum(survey_ces), 0) as ces_sum,
        count(survey_csat) as csat_responses,
        coalesce(sum(survey_csat), 0) as csat_sum
    from contact_keys
    group by grouping sets (
        (business_date),
        (business_date, channel_key),
        (business_date, reason_key),
        (business_date, team_key),
        (business_date, agent_key),
        (business_date, queue_key),
        (business_date, segment_key),
        (business_date, channel_key, reason_key)
    )
),

case_days as (
    select * from case_groups
    where dimension <> 'segment' or $has_customers
),

contact_days as (
    select * from contact_groups
    where dimension <> 'segment' or $has_customers
),

days as (
    select *
    from contact_days
    full outer join case_days using (business_date, dimension, dimension_value)
),

periods as (
    select
        grains.grain,
        case grains.grain
            when 'day' then days.business_date
            else date_trunc(grains.grain, days.business_date)::date
        end as period_start,
        days.*
    from days
    cross join grains
),

rolled as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        coalesce(sum(contacts), 0)::bigint as contacts,
        coalesce(sum(inbound_contacts), 0)::bigint as inbound_contacts,
        coalesce(sum(outbound_contacts), 0)::bigint as outbound_contacts,
        coalesce(sum(anonymous_contacts), 0)::bigint as anonymous_contacts,
        coalesce(sum(counted_contacts), 0)::bigint as counted_contacts,
        coalesce(sum(contacts_followed_by_repeat), 0)::bigint as contacts_followed_by_repeat,
        coalesce(sum(cases), 0)::bigint as cases,
        coalesce(sum(mature_cases), 0)::bigint as mature_cases,
        coalesce(sum(case_contacts), 0)::bigint as case_contacts,
        coalesce(sum(mature_case_contacts), 0)::bigint as mature_case_contacts,
        coalesce(sum(cases_1), 0)::bigint as cases_1,
        coalesce(sum(cases_2), 0)::bigint as cases_2,
        coalesce(sum(cases_3), 0)::bigint as cases_3,
        coalesce(sum(cases_4_plus), 0)::bigint as cases_4_plus,
        coalesce(sum(repeat_contacts), 0)::bigint as repeat_contacts,
        coalesce(sum(same_channel_fcr_cases), 0)::bigint as same_channel_fcr_cases,
        coalesce(sum(multi_channel_cases), 0)::bigint as multi_channel_cases,
        coalesce(sum(self_service_cases), 0)::bigint as self_service_cases,
        coalesce(sum(contained_cases), 0)::bigint as contained_cases,
        coalesce(sum(case_wait_seconds), 0)::double as case_wait_seconds,
        coalesce(sum(case_handle_seconds), 0)::double as case_handle_seconds,
        coalesce(sum(case_hold_seconds), 0)::double as case_hold_seconds,
        coalesce(sum(case_transfers), 0)::bigint as case_transfers,
        coalesce(sum(time_to_resolution_seconds), 0)::double as time_to_resolution_seconds,
        coalesce(sum(first_contact_surveys), 0)::bigint as first_contact_surveys,
        coalesce(sum(first_contact_survey_resolved), 0)::bigint as first_contact_survey_resolved,
        coalesce(sum(first_contact_dispositions), 0)::bigint as first_contact_dispositions,
        coalesce(sum(first_contact_agent_resolved), 0)::bigint as first_contact_agent_resolved,
        coalesce(sum(first_contact_disposition_cases_1), 0)::bigint as first_contact_disposition_cases_1,
        coalesce(sum(wait_seconds), 0)::double as wait_seconds,
        coalesce(sum(contacts_with_wait), 0)::bigint as contacts_with_wait,
        coalesce(sum(handle_seconds), 0)::double as handle_seconds,
        coalesce(sum(hold_seconds), 0)::double as hold_seconds,
        coalesce(sum(transfers), 0)::bigint as transfers,
        coalesce(sum(ces_responses), 0)::bigint as ces_responses,
        coalesce(sum(ces_sum), 0)::double as ces_sum,
        coalesce(sum(csat_responses), 0)::bigint as csat_responses,
        coalesce(sum(csat_sum), 0)::double as csat_sum
    from periods
    group by grain, period_start, dimension, dimension_value
),

period_maturity as (
    select
        grain,
        period_start,
        coalesce(bool_and(all_cases_mature), true) and coalesce(bool_and(all_contact_cases_mature), true)
            as all_cases_mature
    from periods
    where dimension = 'all'
    group by grain, period_start
),

final as (
    select
        rolled.grain,
        rolled.period_start,
        rolled.dimension,
        rolled.dimension_value,
        is_period_final(
            period_maturity.all_cases_mature, rolled.grain, rolled.period_start, $watermark, $business_tz
        ) as is_final,
        rolled.* exclude (grain, period_start, dimension, dimension_value)
    from rolled
    inner join period_maturity using (grain, period_start)
    where $full or exists (
        select 1 from affected_periods
        where affected_periods.grain = rolled.grain and affected_periods.period_start = rolled.period_start
    )
)

select * from final
order by grain, period_start, dimension, dimension_value

-- one row per grain, period_start (in scope) and reason of the case's first contact: money at stake, ranked
with

affected_dates as (
    select * from staging.affected_dates
),

affected_periods as (
    select * from staging.affected_periods
),

cases as not materialized (
    select * from staging.cases
    where $full or business_date in (select business_date from affected_dates)
),

case_contacts as (
    select * from staging.case_contacts
    where not is_forward  -- a forward is part of its contact's case, never a hop or an excess contact
),

customers as (
    select * from raw.customers
),

channel_costs as (
    select * from channel_costs
),

period_status as (
    select grain, period_start, is_final from staging.metrics
    where dimension = 'all'
),

grains as (
    select * from (values ('day'), ('week'), ('month')) as g(grain)
),

excess_costs as (
    -- what the contacts after each case's first cost, each priced by its own channel
    -- (money is summed as exact decimals, so any order of summing, incremental or full, agrees)
    select
        case_contacts.case_id,
        sum(channel_costs.cost_per_contact::decimal(38, 6)) as excess_contact_cost
    from case_contacts
    inner join channel_costs using (channel)
    where case_contacts.contact_number > 1
        and case_contacts.case_id in (select case_id from cases where is_mature)
    group by case_contacts.case_id
),

case_facts as (
    select
        cases.business_date,
        cases.reason,
        cases.is_mature,
        cases.contact_count,
        coalesce(excess_costs.excess_contact_cost, 0) as excess_contact_cost,
        customers.customer_id is not null as has_customer,
        customers.lifetime_value::decimal(38, 6) as lifetime_value,
        coalesce(
            customers.churned_at >= cases.first_started_at
            and customers.churned_at <= cases.last_ended_at + to_days($churn_window_days),
            false
        ) as is_churned
    from cases
    left join excess_costs using (case_id)
    left join customers using (customer_id)
),

days as (
    select
        business_date,
        reason,
        count(*) as cases,
        count(*) filter (where is_mature) as mature_cases,
        count(*) filter (where is_mature and contact_count = 1) as cases_1,
        coalesce(sum(contact_count) filter (where is_mature), 0) as contacts,
        coalesce(sum(excess_contact_cost) filter (where is_mature), 0) as excess_contact_cost,
        count(*) filter (where is_mature and contact_count > 1 and has_customer) as multi_contact_customers,
        count(*) filter (where is_mature and contact_count > 1 and is_churned) as multi_contact_churned,
        sum(lifetime_value) filter (where is_mature and contact_count > 1) as multi_contact_lifetime_value,
        count(lifetime_value) filter (where is_mature and contact_count > 1) as multi_contact_valued,
        count(*) filter (where is_mature and contact_count = 1 and has_customer) as fcr_customers,
        count(*) filter (where is_mature and contact_count = 1 and is_churned) as fcr_churned,
        sum(lifetime_value) filter (where is_mature and contact_count = 1) as fcr_lifetime_value,
        count(lifetime_value) filter (where is_mature and contact_count = 1) as fcr_valued
    from case_facts
    group by all
),

rolled as (
    select
        grains.grain,
        case grains.grain
            when 'day' then days.business_date
            else date_trunc(grains.grain, days.business_date)::date
        end as period_start,
        days.reason,
        sum(days.cases)::bigint as cases,
        sum(days.mature_cases)::bigint as mature_cases,
        sum(days.cases_1)::bigint as cases_1,
        sum(days.contacts)::bigint as contacts,
        sum(days.excess_contact_cost)::double as excess_contact_cost,
        sum(days.multi_contact_customers)::bigint as multi_contact_customers,
        sum(days.multi_contact_churned)::bigint as multi_contact_churned,
        coalesce(sum(days.multi_contact_lifetime_value), 0)::double as multi_contact_lifetime_value,
        sum(days.multi_contact_valued)::bigint as multi_contact_valued,
        sum(days.fcr_customers)::bigint as fcr_customers,
        sum(days.fcr_churned)::bigint as fcr_churned,
        coalesce(sum(days.fcr_lifetime_value), 0)::double as fcr_lifetime_value,
        sum(days.fcr_valued)::bigint as fcr_valued
    from days
    cross join grains
    group by all
),

rated as (
    select
        rolled.*,
        resolution_rate(cases_1, mature_cases) as fcr,
        contacts - mature_cases as excess_contacts,
        multi_contact_churned / nullif(multi_contact_customers, 0) as multi_contact_churn_rate,
        fcr_churned / nullif(fcr_customers, 0) as fcr_churn_rate,
        multi_contact_lifetime_value / nullif(multi_contact_valued, 0) as multi_contact_avg_lifetime_value,
        fcr_lifetime_value / nullif(fcr_valued, 0) as fcr_avg_lifetime_value
    from rolled
),

at_risk as (
    -- value of multi-contact customers times how much more often they churned than FCR customers
    select
        rated.*,
        multi_contact_churn_rate - fcr_churn_rate as excess_churn_rate,
        case
            when multi_contact_customers = 0 then 0
            when multi_contact_churn_rate - fcr_churn_rate > 0
                then multi_contact_lifetime_value * (multi_contact_churn_rate - fcr_churn_rate)
            when multi_contact_churn_rate - fcr_churn_rate <= 0 then 0
        end::double as lifetime_value_at_risk
    from rated
),

with_customers as (
    -- customer figures only when a customers file was loaded
    select
        at_risk.* replace (
            case when $has_customers then multi_contact_customers end as multi_contact_customers,
            case when $has_customers then multi_contact_churned end as multi_contact_churned,
            case when $has_customers then multi_contact_churn_rate end as multi_contact_churn_rate,
            case when $has_customers then fcr_customers end as fcr_customers,
            case when $has_customers then fcr_churned end as fcr_churned,
            case when $has_customers then fcr_churn_rate end as fcr_churn_rate,
            case when $has_customers then multi_contact_avg_lifetime_value end
                as multi_contact_avg_lifetime_value,
            case when $has_customers then fcr_avg_lifetime_value end as fcr_avg_lifetime_value,
            case when $has_customers then lifetime_value_at_risk end as lifetime_value_at_risk,
            case when $has_customers then excess_churn_rate end as excess_churn_rate,
            case when $has_customers then multi_contact_lifetime_value end as multi_contact_lifetime_value
        )
    from at_risk
),

final as (
    select
        with_customers.grain,
        with_customers.period_start,
        with_customers.reason,
        period_status.is_final,
        with_customers.cases,
        with_customers.mature_cases,
        with_customers.cases_1,
        with_customers.fcr,
        with_customers.contacts,
        with_customers.excess_contacts,
        with_customers.excess_contact_cost,
        $has_customers as has_customer_data,
        with_customers.multi_contact_customers,
        with_customers.multi_contact_churned,
        with_customers.multi_contact_churn_rate,
        with_customers.fcr_customers,
        with_customers.fcr_churned,
        with_customers.fcr_churn_rate,
        with_customers.multi_contact_avg_lifetime_value,
        with_customers.fcr_avg_lifetime_value,
        with_customers.lifetime_value_at_risk,
        with_customers.excess_contact_cost + coalesce(with_customers.lifetime_value_at_risk, 0)
            as money_at_stake,
        row_number() over (
            partition by with_customers.grain, with_customers.period_start
            order by
                with_customers.excess_contact_cost + coalesce(with_customers.lifetime_value_at_risk, 0) desc,
                with_customers.excess_contacts desc,
                with_customers.reason
        ) as priority_rank,
        with_customers.excess_churn_rate,
        with_customers.multi_contact_lifetime_value,
        $currency as currency
    from with_customers
    inner join period_status using (grain, period_start)
    where $full or exists (
        select 1 from affected_periods
        where affected_periods.grain = with_customers.grain
            and affected_periods.period_start = with_customers.period_start
    )
)

select * from final
order by grain, period_start, priority_rank

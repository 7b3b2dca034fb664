-- one row per week or month and measure: computed directly from cases and contacts, summed from the day rows, and the period's own row
with

cases as not materialized (
    select business_date, is_mature, contact_count from staging.cases
),

contacts as (
    select business_date from staging.contacts
),

metrics as not materialized (
    select * from staging.metrics
    where dimension = 'all'
),

grains as (
    select * from (values ('week'), ('month')) as g(grain)
),

direct_cases as (
    select
        grains.grain,
        date_trunc(grains.grain, cases.business_date)::date as period_start,
        count(*) as cases,
        count(*) filter (where cases.is_mature) as mature_cases,
        count(*) filter (where cases.is_mature and cases.contact_count = 1) as cases_1
    from cases
    cross join grains
    group by all
),

direct_contacts as (
    select
        grains.grain,
        date_trunc(grains.grain, contacts.business_date)::date as period_start,
        count(*) as contacts
    from contacts
    cross join grains
    group by all
),

direct as (
    select
        grain,
        period_start,
        coalesce(direct_cases.cases, 0) as cases,
        coalesce(direct_cases.mature_cases, 0) as mature_cases,
        coalesce(direct_cases.cases_1, 0) as cases_1,
        coalesce(direct_contacts.contacts, 0) as contacts
    from direct_cases
    full outer join direct_contacts using (grain, period_start)
),

summed_days as (
    select
        grains.grain,
        date_trunc(grains.grain, metrics.period_start)::date as period_start,
        sum(metrics.cases) as cases,
        sum(metrics.mature_cases) as mature_cases,
        sum(metrics.cases_1) as cases_1,
        sum(metrics.contacts) as contacts
    from metrics
    cross join grains
    where metrics.grain = 'day'
    group by all
),

period_rows as (
    select grain, period_start, cases, mature_cases, cases_1, contacts
    from metrics
    where grain in ('week', 'month')
),

direct_long as (
    unpivot direct on cases, mature_cases, cases_1, contacts into name measure value direct_value
),

summed_days_long as (
    unpivot summed_days on cases, mature_cases, cases_1, contacts into name measure value summed_days_value
),

period_rows_long as (
    unpivot period_rows on cases, mature_cases, cases_1, contacts into name measure value period_row_value
),

final as (
    select
        grain,
        period_start,
        measure,
        coalesce(direct_long.direct_value, 0) as direct_value,
        coalesce(summed_days_long.summed_days_value, 0) as summed_days_value,
        coalesce(period_rows_long.period_row_value, 0) as period_row_value
    from direct_long
    full outer join summed_days_long using (grain, period_start, measure)
    full outer join period_rows_long using (grain, period_start, measure)
)

select * from final
order by grain, period_start, measure

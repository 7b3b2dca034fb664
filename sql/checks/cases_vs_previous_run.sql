-- one row per period the last published run had enough cases in: its cases, how many of them lost every contact, and that share
with

previous_cases as (
    select case_id, business_date from published.cases
),

staged_contacts as (
    select contact_id from staging.case_contacts
),

grains as (
    select unnest(['day', 'week', 'month']) as grain
),

-- a case whose first contact still belongs to a case was merged or re-linked (a late contact, a
-- re-delivery), which the new figures explain; one whose first contact is in no case any more lost input
checked as (
    select
        previous_cases.business_date,
        staged_contacts.contact_id is null as is_lost
    from previous_cases
    left join staged_contacts on staged_contacts.contact_id = previous_cases.case_id
),

per_period as (
    select
        grains.grain,
        case grains.grain
            when 'day' then checked.business_date
            else date_trunc(grains.grain, checked.business_date)::date
        end as period_start,
        count(*) as previous_cases,
        count(*) filter (where checked.is_lost) as lost_cases
    from checked
    cross join grains
    group by all
),

final as (
    select
        grain,
        period_start,
        previous_cases,
        lost_cases,
        lost_cases / previous_cases as case_drop_share
    from per_period
    where previous_cases >= $case_drop_min_cases
)

select * from final
order by grain, period_start

-- one row per grain and period whose metrics can move in this run: changed cases and contacts, maturity changes, the watermark's move
with

scope_customers as (
    select * from staging.scope_customers
),

scope_anonymous as (
    select * from staging.scope_anonymous
),

old_contacts as (
    select * from staging.contacts
    where customer_id in (select customer_id from scope_customers)
        or (customer_id is null and interaction_key in (select interaction_key from scope_anonymous))
),

new_contacts as (
    select * from staging.delta_contacts
),

old_cases as (
    select * from staging.cases
    where customer_id in (select customer_id from scope_customers)
),

new_cases as (
    select * from staging.delta_cases
),

changed_contacts as (
    -- a contact row that is new, gone or different (a late contact, a correction, a leg folded in)
    (select * from old_contacts except all select * from new_contacts)
    union all
    (select * from new_contacts except all select * from old_contacts)
),

changed_cases as (
    -- a case that is new, gone or different; an untouched case of a touched customer is not here
    (select * from old_cases except all select * from new_cases)
    union all
    (select * from new_cases except all select * from old_cases)
),

changed_case_members as (
    -- every contact of a changed case, before and after: its "followed by a repeat" can move
    select business_date from staging.case_contacts
    where customer_id in (select customer_id from scope_customers)
        and case_id in (select case_id from changed_cases)
    union all
    select business_date from staging.delta_case_contacts
    where case_id in (select case_id from changed_cases)
),

newly_mature_cases as (
    -- cases the watermark's move matured (changed cases aside, they are the same before and after)
    select case_id, business_date from staging.cases
    where matures_at > $previous_watermark and matures_at <= $watermark
),

touched_dates as (
    select business_date from changed_contacts
    union
    select business_date from changed_cases
    union
    select business_date from changed_case_members
    union
    select business_date from newly_mature_cases
    union
    -- and the days of their other contacts, whose periods wait for them to be final
    select business_date from staging.case_contacts
    where case_id in (select case_id from newly_mature_cases)
    union
    select unnest(generate_series(
        ($previous_watermark at time zone $business_tz)::date - 1,
        ($watermark at time zone $business_tz)::date,
        interval 1 day
    ))::date
),

final as (
    select distinct
        g.grain,
        case g.grain
            when 'day' then business_date
            else date_trunc(g.grain, business_date)::date
        end as period_start
    from touched_dates
    cross join (values ('day'), ('week'), ('month')) as g(grain)
)

select * from final

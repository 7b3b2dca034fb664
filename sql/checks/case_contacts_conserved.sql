-- one row per run: counted contacts against the contacts the cases say they hold, and case rows against case ids
with

contacts as (
    select * from staging.contacts
),

cases as not materialized (
    select * from staging.cases
),

counted as (
    select count(*) filter (where is_counted) as counted_contacts
    from contacts
),

case_totals as (
    select
        coalesce(sum(contact_count), 0) as case_contact_total,
        count(*) as case_rows
    from cases
),

case_ids as (
    -- a grouped count, which spills to disk at scale, where count(distinct) would not
    select count(*) as distinct_case_ids
    from (select case_id from cases group by case_id)
),

final as (
    select
        counted.counted_contacts,
        case_totals.case_contact_total,
        case_totals.case_rows,
        case_ids.distinct_case_ids
    from counted
    cross join case_totals
    cross join case_ids
)

select * from final

-- one row per run: counted contacts against the contacts the cases say they hold, and case rows against case ids
with

contacts as (
    select * from staging.contacts
),

cases as (
    select * from staging.cases
),

counted as (
    select count(*) filter (where is_counted) as counted_contacts
    from contacts
),

case_totals as (
    select
        coalesce(sum(contact_count), 0) as case_contact_total,
        count(*) as case_rows,
        count(distinct case_id) as distinct_case_ids
    from cases
),

final as (
    select
        counted.counted_contacts,
        case_totals.case_contact_total,
        case_totals.case_rows,
        case_totals.distinct_case_ids
    from counted
    cross join case_totals
)

select * from final

-- one row per business date with a repeat contact: follow-ups next to the repeat contacts of case_contacts they must equal
with

follow_ups as (
    select * from staging.follow_ups
),

case_contacts as (
    select * from staging.case_contacts
    where contact_number > 1 and not is_forward
),

listings as (
    -- each listed contact once, with how many rows list it
    select
        business_date,
        contact_id,
        count(*) as rows_listing_it,
        count(*) filter (where previous_contact_id is null) as without_previous_contact,
        count(*) filter (where gap_seconds < 0 or previous_started_at > started_at) as before_previous_contact
    from follow_ups
    group by all
),

listed as (
    select
        business_date,
        sum(rows_listing_it) as follow_ups,
        count(*) as distinct_contacts,
        sum(without_previous_contact) as without_previous_contact,
        sum(before_previous_contact) as before_previous_contact
    from listings
    group by all
),

repeats as (
    select business_date, count(*) as repeat_contacts
    from case_contacts
    group by all
),

final as (
    select
        business_date,
        coalesce(listed.follow_ups, 0) as follow_ups,
        coalesce(listed.distinct_contacts, 0) as distinct_contacts,
        coalesce(repeats.repeat_contacts, 0) as repeat_contacts,
        coalesce(listed.without_previous_contact, 0) as without_previous_contact,
        coalesce(listed.before_previous_contact, 0) as before_previous_contact
    from repeats
    full outer join listed using (business_date)
)

select * from final

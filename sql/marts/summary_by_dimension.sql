-- one row per value of one dimension: counts summed over every month, and the rates derived from them
with

metrics as (
    select * from published.metrics
    where grain = 'month' and dimension = $dimension
),

summed as (
    select
        dimension_value,
        sum(contacts) as contacts,
        sum(cases) as cases,
        sum(mature_cases) as mature_cases,
        sum(cases_1) as cases_1,
        sum(cases_2) as cases_2,
        sum(cases_3) as cases_3
    from metrics
    group by dimension_value
),

final as (
    select
        dimension_value,
        contacts,
        cases,
        mature_cases,
        resolution_rate(cases_1, mature_cases) as fcr,
        resolution_rate(cases_1 + cases_2, mature_cases) as two_contact_resolution,
        resolution_rate(cases_1 + cases_2 + cases_3, mature_cases) as three_contact_resolution
    from summed
)

select * from final
order by cases desc, dimension_value

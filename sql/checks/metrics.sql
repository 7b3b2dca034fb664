-- one row per staged metrics row, with its case buckets added up for comparison with mature_cases
with

metrics as (
    select * from staging.metrics
),

final as (
    select
        metrics.*,
        cases_1 + cases_2 + cases_3 + cases_4_plus as bucketed_mature_cases
    from metrics
)

select * from final

-- one row per counted contact of the delta: its link candidate row and which case of its link group it falls in (a view)
create or replace view staging.delta_case_sequences as
with

case_starts as (
    select * from staging.delta_case_starts
),

final as (
    select
        case_starts.* exclude (is_case_start),
        sum(is_case_start::integer) over (
            partition by link_group order by group_position
            rows between unbounded preceding and current row
        ) as case_sequence
    from case_starts
)

select * from final

-- one row per counted contact of the delta: its link candidate row and which case of its link group it falls in (a view)
create or replace view staging.delta_case_sequences as
with

candidates as (
    select * from staging.delta_link_candidates
),

case_starts as (
    select * from staging.delta_case_starts
),

final as (
    select
        candidates.*,
        sum(case_starts.is_case_start::integer) over (
            partition by candidates.link_group order by candidates.started_at, candidates.contact_id
            rows between unbounded preceding and current row
        ) as case_sequence
    from candidates
    inner join case_starts using (contact_id)
)

select * from final

-- one row per counted contact: its link candidate row and whether it starts a case under an anchored window (a view)
-- (the starts are computed in numpy, fcr/transform/link.py, into staging.delta_anchored_starts)
create or replace view staging.delta_case_starts as
with

candidates as (
    select * from staging.delta_link_candidates
),

anchored_starts as (
    select * from staging.delta_anchored_starts
),

final as (
    select
        candidates.*,
        anchored_starts.is_case_start
    from candidates
    inner join anchored_starts using (contact_id)
)

select * from final

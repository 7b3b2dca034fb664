-- offending weeks and months: the sum of their days differs from the period computed directly from cases
with direct as (
    select
        g.grain,
        date_trunc(g.grain, business_date)::date as period_start,
        count(*) as cases,
        count(*) filter (where is_mature and contact_count = 1) as cases_1
    from staging.cases
    cross join (values ('week'), ('month')) as g(grain)
    group by all
),
rolled as (
    select
        g.grain,
        date_trunc(g.grain, period_start)::date as period_start,
        sum(cases) as cases,
        sum(cases_1) as cases_1
    from staging.metrics
    cross join (values ('week'), ('month')) as g(grain)
    where metrics.grain = 'day' and dimension = 'all'
    group by all
    having sum(cases) > 0
),
published as (
    select grain, period_start, cases, cases_1
    from staging.metrics
    where grain in ('week', 'month') and dimension = 'all' and cases > 0
)
select direct.grain, direct.period_start, direct.cases, rolled.cases, published.cases
from direct
full outer join rolled using (grain, period_start)
full outer join published using (grain, period_start)
where direct.cases is distinct from rolled.cases
    or direct.cases is distinct from published.cases
    or direct.cases_1 is distinct from rolled.cases_1
    or direct.cases_1 is distinct from published.cases_1

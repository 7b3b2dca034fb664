-- one row per definition (repeat_window x match_on): FCR/2CR/3CR over every month of published.fcr_sensitivity
with

sensitivity as (
    select * from published.fcr_sensitivity
    where dimension = 'all'
),

summed as (
    select
        repeat_window,
        repeat_window_seconds,
        match_on,
        bool_or(is_current_definition) as is_current_definition,
        sum(cases) as cases,
        sum(mature_cases) as mature_cases,
        sum(cases_1) as cases_1,
        sum(cases_2) as cases_2,
        sum(cases_3) as cases_3
    from sensitivity
    group by repeat_window, repeat_window_seconds, match_on
),

final as (
    select
        repeat_window,
        repeat_window_seconds,
        match_on,
        is_current_definition,
        cases,
        mature_cases,
        round(100 * cases_1 / nullif(mature_cases, 0), 1) as fcr_pct,
        round(100 * (cases_1 + cases_2) / nullif(mature_cases, 0), 1) as two_cr_pct,
        round(100 * (cases_1 + cases_2 + cases_3) / nullif(mature_cases, 0), 1) as three_cr_pct
    from summed
)

select * exclude (repeat_window_seconds) from final
order by match_on desc, repeat_window_seconds

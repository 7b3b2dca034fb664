-- one row per published.metrics row: the rates derived from its additive counts (a view)
create or replace view published.metric_rates as
with

metrics as (
    select * from published.metrics
),

final as (
    select
        grain,
        period_start,
        dimension,
        dimension_value,
        is_final,
        contacts,
        cases,
        mature_cases,
        resolution_rate(cases_1, mature_cases) as fcr,
        resolution_rate(cases_1 + cases_2, mature_cases) as two_contact_resolution,
        resolution_rate(cases_1 + cases_2 + cases_3, mature_cases) as three_contact_resolution,
        resolution_rate(same_channel_fcr_cases, mature_cases) as same_channel_fcr,
        repeat_contacts / nullif(mature_case_contacts, 0) as repeat_contact_rate,
        mature_case_contacts / nullif(mature_cases, 0) as contacts_per_case,
        multi_channel_cases / nullif(mature_cases, 0) as channel_switch_rate,
        contained_cases / nullif(self_service_cases, 0) as containment_rate,
        (case_wait_seconds + case_handle_seconds) / nullif(mature_cases, 0)
            as effort_seconds_per_case,
        time_to_resolution_seconds / nullif(mature_cases, 0) as avg_time_to_resolution_seconds,
        first_contact_survey_resolved / nullif(first_contact_surveys, 0) as customer_reported_fcr,
        first_contact_agent_resolved / nullif(first_contact_dispositions, 0) as agent_reported_fcr,
        (first_contact_agent_resolved - first_contact_disposition_cases_1)
            / nullif(first_contact_dispositions, 0) as agent_reported_fcr_gap,
        ces_sum / nullif(ces_responses, 0) as ces,
        csat_sum / nullif(csat_responses, 0) as csat,
        wait_seconds / nullif(contacts_with_wait, 0) as avg_wait_seconds,
        contacts_followed_by_repeat / nullif(counted_contacts, 0) as followed_by_repeat_rate
    from metrics
)

select * from final

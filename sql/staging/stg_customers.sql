-- one row per source row of the customers batch being loaded: typed, and the first rule it breaks (null = good)
with

batch as (
    select * from temp.customers_batch
),

trimmed as (
    select
        batch.*,
        to_json(batch)::varchar as raw_record,
        nullif(trim(customer_id), '') as customer_id_value,
        nullif(trim(segment), '') as segment_value,
        nullif(trim(lifetime_value), '') as lifetime_value_text,
        nullif(trim(churned_at), '') as churned_at_text
    from batch
),

typed as (
    select
        trimmed.*,
        try_cast(lifetime_value_text as double) as lifetime_value_value,
        parse_timestamp(churned_at_text, $source_tz, $timestamp_formats) as churned_at_value
    from trimmed
),

checked as (
    select
        typed.*,
        case
            when customer_id_value is null then 'missing_customer_id'
            when lifetime_value_text is not null and lifetime_value_value is null then 'unparseable_number'
            when lifetime_value_value < 0 then 'negative_lifetime_value'
            when churned_at_text is not null and churned_at_value is null then 'unparseable_churned_at'
        end as quarantine_rule
    from typed
),

final as (
    select
        customer_id_value as customer_id,
        segment_value as segment,
        lifetime_value_value as lifetime_value,
        churned_at_value as churned_at,
        source_file,
        source_line,
        file_order,
        quarantine_rule,
        case quarantine_rule
            when 'unparseable_number' then 'lifetime_value = ' || lifetime_value_text
            when 'negative_lifetime_value' then 'lifetime_value = ' || lifetime_value_text
            when 'unparseable_churned_at' then 'churned_at = ' || churned_at_text
        end as quarantine_detail,
        raw_record
    from checked
)

select * from final

-- one scalar macro: a source timestamp string -> timestamptz (offset kept, naive read in the source zone)
create or replace temp macro parse_timestamp(value, source_tz, formats) as (
    case
        when nullif(trim(value), '') is null then null
        when regexp_matches(trim(value), '(Z|z|[+-]\d{2}(:?\d{2})?)$') then try_cast(trim(value) as timestamptz)
        else timezone(
            source_tz,
            coalesce(try_strptime(trim(value), formats), try_cast(trim(value) as timestamp))
        )
    end
)

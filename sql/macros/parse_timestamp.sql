-- one scalar macro per step of reading a source timestamp string -> timestamptz (offset kept, naive read in the source zone)
create or replace temp macro has_utc_offset(value) as (
    regexp_matches(trim(value), '(Z|z|[+-]\d{2}(:?\d{2})?)$')
);

-- the value's instant when it carries its own offset (Z, +01:00), else null
create or replace temp macro offset_timestamp(value) as (
    case when has_utc_offset(value) then try_cast(trim(value) as timestamptz) end
);

-- the value as a naive local time when it carries no offset, else null
create or replace temp macro parse_local_timestamp(value, formats) as (
    case
        when nullif(trim(value), '') is not null and not has_utc_offset(value)
            then coalesce(try_strptime(trim(value), formats), try_cast(trim(value) as timestamp))
    end
);

-- the zone's offset from UTC at an instant, as an interval
create or replace temp macro utc_offset_at(instant, zone) as (
    timezone(zone, instant) - timezone('UTC', instant)
);

-- the local time read at the offset in force a day before timezone()'s reading of it
create or replace temp macro reading_at_prior_offset(local_ts, zone) as (
    timezone('UTC', local_ts - utc_offset_at(timezone(zone, local_ts) - interval 24 hours, zone))
);

-- a local time repeated by a clock change: its earlier instant (timezone() gives the later one), else null
create or replace temp macro earlier_reading(local_ts, zone) as (
    case
        when reading_at_prior_offset(local_ts, zone) < timezone(zone, local_ts)
            and timezone(zone, reading_at_prior_offset(local_ts, zone)) = local_ts
            then reading_at_prior_offset(local_ts, zone)
    end
);

-- 'nonexistent' (skipped by a clock change), 'ambiguous' (repeated by one) or null
create or replace temp macro local_time_kind(local_ts, zone) as (
    case
        when zone = 'UTC' then null  -- UTC has no clock changes: skip the zone arithmetic
        when timezone(zone, timezone(zone, local_ts)) <> local_ts then 'nonexistent'
        when earlier_reading(local_ts, zone) is not null then 'ambiguous'
    end
);

-- a naive local time's instant: nonexistent ones shifted forward by the gap, ambiguous ones as `ambiguous` says
create or replace temp macro local_instant(local_ts, zone, ambiguous) as (
    case
        when ambiguous = 'earliest' then coalesce(earlier_reading(local_ts, zone), timezone(zone, local_ts))
        else timezone(zone, local_ts)
    end
);

-- a source timestamp string -> timestamptz with the default rules (the one other models call)
create or replace temp macro parse_timestamp(value, source_tz, formats) as (
    coalesce(
        offset_timestamp(value),
        local_instant(parse_local_timestamp(value, formats), source_tz, 'latest')
    )
);

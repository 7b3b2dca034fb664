-- one scalar macro: a yes/no source value -> boolean (null when empty or not a recognised answer)
create or replace temp macro parse_flag(value) as (
    case
        when lower(trim(value)) in ('yes', 'y', 'true', 't', '1', 'resolved') then true
        when lower(trim(value)) in ('no', 'n', 'false', 'f', '0', 'unresolved', 'not resolved') then false
    end
)

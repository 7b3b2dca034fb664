-- one row: each column of raw.contacts as a column holding its DuckDB type, so a suite can check names and types
with

final as (
    pivot (
        select column_name, data_type
        from information_schema.columns
        where table_schema = 'raw' and table_name = 'contacts'
    )
    on column_name
    using first(data_type)
)

select * from final

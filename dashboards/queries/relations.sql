-- Tables and views of the snapshot (a page shows an empty state when one of
-- its relations is missing).
select table_name as name
from duckdb_tables()
where database_name = current_database() and schema_name = 'main'
union all
select view_name as name
from duckdb_views()
where database_name = current_database()
    and schema_name = 'main'
    and not internal

-- Catalog queries that run unchanged on PostgreSQL and Redshift.

-- name: current_location
SELECT current_database() AS database_name, current_schema() AS schema_name;

-- name: schema_exists
-- Whether SPARKIFY_WAREHOUSE_SCHEMA exists (it is created when missing).
SELECT COUNT(*) AS found
FROM pg_catalog.pg_namespace AS n
WHERE n.nspname = %(schema_name)s;

-- name: tables_in_schema
-- Every base table of the current schema (the first of the search_path): how the warehouse tells an
-- empty schema from one holding the project's tables, with or without a recorded schema version.
SELECT t.table_name
FROM information_schema.tables AS t
WHERE t.table_schema = current_schema()
  AND t.table_type = 'BASE TABLE';

-- Catalog queries that run unchanged on PostgreSQL and Redshift.

-- name: current_location
SELECT current_database() AS database_name, current_schema() AS schema_name;

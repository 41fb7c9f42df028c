-- name: describe_table
-- Columns of one table, in order, with their types and the COMMENT ON COLUMN text (sql/comments/).
SELECT a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null,
       col_description(a.attrelid, a.attnum) AS description
FROM pg_attribute AS a
WHERE a.attrelid = to_regclass(%(table_name)s)
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum;

-- name: table_description
SELECT obj_description(to_regclass(%(table_name)s), 'pg_class') AS description;

-- name: missing_tables
SELECT t.table_name
FROM unnest(CAST(%(tables)s AS TEXT[])) AS t(table_name)
WHERE to_regclass(t.table_name) IS NULL;

-- name: lock_schema_changes
-- Serialises concurrent first runs: CREATE TABLE IF NOT EXISTS can race in PostgreSQL.
SELECT pg_advisory_xact_lock(7294001);

-- name: lock_table_for_write
-- {table} is replaced by a quoted identifier from the project's fixed table list, never a value.
-- SHARE ROW EXCLUSIVE blocks other writers of the table (and itself) but not readers.
LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE;

-- name: create_schema
-- {schema} is replaced by the quoted SPARKIFY_WAREHOUSE_SCHEMA (a checked identifier), never a value.
CREATE SCHEMA IF NOT EXISTS {schema};

-- name: set_search_path
-- Every table the project reads or writes is in SPARKIFY_WAREHOUSE_SCHEMA, and only there: a table
-- missing in one schema is never found in another.
SET search_path TO {schema};

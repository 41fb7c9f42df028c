-- Catalog and load-bookkeeping queries of the Redshift engine.

-- name: existing_tables
-- The project's tables that exist in the current schema (information_schema works on both engines).
SELECT t.table_name
FROM information_schema.tables AS t
WHERE t.table_schema = current_schema()
  AND t.table_type = 'BASE TABLE';

-- name: describe_table
-- Columns of one table, in order, with their types and the COMMENT ON COLUMN text (sql/comments/).
-- Leader-node catalog tables only, which Redshift lets a query join.
SELECT a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null,
       d.description
FROM pg_catalog.pg_attribute AS a
JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description AS d ON d.objoid = c.oid AND d.objsubid = a.attnum
WHERE n.nspname = current_schema()
  AND c.relname = %(table_name)s
  AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY a.attnum;

-- name: table_description
SELECT d.description
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description AS d ON d.objoid = c.oid AND d.objsubid = 0
WHERE n.nspname = current_schema()
  AND c.relname = %(table_name)s;

-- name: lock_table_for_write
-- The table placeholder is replaced by a name from the project's fixed table list, never a value.
-- Redshift's LOCK is ACCESS EXCLUSIVE: other writers and readers of the table wait until the
-- transaction ends.
LOCK {table};

-- name: last_copy_count
-- Rows the session's last COPY loaded.
SELECT pg_last_copy_count() AS loaded;

-- name: create_schema
-- The schema placeholder is replaced by the double-quoted SPARKIFY_WAREHOUSE_SCHEMA (a checked
-- lower-case identifier), never a value.
CREATE SCHEMA IF NOT EXISTS {schema};

-- name: set_search_path
-- Every table the project reads or writes is in SPARKIFY_WAREHOUSE_SCHEMA, and only there.
SET search_path TO {schema};

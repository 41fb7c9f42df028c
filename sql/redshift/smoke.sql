-- The scratch schema of `sparkify redshift-smoke` (sparkify_assets/warehouse/redshift/smoke.py): every
-- table of the smoke run is created there and the schema is dropped at the end. {schema} is a
-- name the smoke command makes and checks (sparkify_smoke_ + random letters and digits), never a
-- value from outside.

-- name: create_schema
CREATE SCHEMA {schema};

-- name: use_schema
-- Unqualified names resolve to the scratch schema first; Redshift's system tables and functions
-- (pg_catalog) resolve whatever the search_path.
SET search_path TO {schema};

-- name: drop_schema
DROP SCHEMA IF EXISTS {schema} CASCADE;

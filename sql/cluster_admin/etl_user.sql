-- The ETL database user: what the loads connect as, instead of the master user.
--
-- An administrator runs these statements once, as the master user, after redshift_cluster_up
-- (which prints them with the names filled in). They are not run by the jobs: running them from
-- Dagster would need the job's AWS identity to be allowed superuser credentials for the master
-- user (redshift:GetClusterCredentials on it, or the master secret), which is exactly what this
-- user exists to avoid. See docs/cluster_security.md.
--
-- {etl_user}, {schema}, {database} and {table} are replaced by names the cluster spec validates
-- (lower-case letters, digits, underscores; {table} only from the project's table list), never by
-- values. Redshift has no CREATE USER IF NOT EXISTS: a second run answers "user already exists"
-- for the first statement and changes nothing with the others.

-- name: create_etl_user
-- No password at all: the user signs in only with temporary credentials from
-- redshift:GetClusterCredentials (IAM authentication, redshift_connector's iam=True, db_user).
CREATE USER {etl_user} PASSWORD DISABLE;

-- name: revoke_public_create
-- Nobody else may create tables beside the warehouse's: only its owner (below) keeps CREATE.
REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC;

-- name: grant_schema
-- The loader creates the warehouse's tables (and so owns them: COPY, DELETE, INSERT, LOCK, ANALYZE,
-- COMMENT ON its own tables need nothing more).
GRANT USAGE, CREATE ON SCHEMA {schema} TO {etl_user};

-- name: grant_temp
-- The staging steps COPY into temporary tables first.
GRANT TEMP ON DATABASE {database} TO {etl_user};

-- name: take_over_table
-- Only when a table already exists, created by an earlier load as the master user (or restored from
-- such a snapshot): the loader becomes its owner. Printed once per project table.
ALTER TABLE {schema}.{table} OWNER TO {etl_user};

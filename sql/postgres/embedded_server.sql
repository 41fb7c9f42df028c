-- Settings of the embedded server for a warehouse workload (bulk COPY, large set-based inserts).
-- Applied once, with ALTER SYSTEM; all reload without a restart. synchronous_commit = off can lose
-- the last few hundred milliseconds of commits on an OS crash, never consistency: acceptable for a
-- development warehouse that is rebuilt from its source files.

-- name: needs_settings
SELECT current_setting('max_wal_size') <> '4GB' AS needs_settings;

-- name: set_max_wal_size
ALTER SYSTEM SET max_wal_size = '4GB';

-- name: set_checkpoint_timeout
ALTER SYSTEM SET checkpoint_timeout = '30min';

-- name: set_synchronous_commit
ALTER SYSTEM SET synchronous_commit = 'off';

-- name: set_work_mem
ALTER SYSTEM SET work_mem = '64MB';

-- name: set_maintenance_work_mem
ALTER SYSTEM SET maintenance_work_mem = '256MB';

-- name: reload_configuration
SELECT pg_reload_conf();

-- name: database_exists
SELECT COUNT(*) AS found FROM pg_database WHERE datname = %(database)s;

-- name: create_database
-- {database} is replaced by a quoted identifier.
CREATE DATABASE {database};

-- name: reset_superuser_password
-- Run in single-user mode (no parameters there): the caller puts a generated, quote-free literal.
ALTER ROLE postgres PASSWORD %(password)s;

-- The warehouse's schema version: one row per version applied (by the first build, or by
-- `sparkify migrate`). The code knows the version it expects (warehouse/schema_versions.py); a warehouse
-- at another version is refused until `sparkify migrate` brings it there. Same SQL on both engines.

-- name: create_table
CREATE TABLE IF NOT EXISTS sparkify_schema_version (
    version     INTEGER       NOT NULL,
    applied_at  TIMESTAMP     NOT NULL,
    description VARCHAR(1024) NOT NULL
);

-- name: current_version
SELECT MAX(v.version) AS version
FROM sparkify_schema_version AS v;

-- name: record_first_version
-- When the tables are created: the version they were created at, unless one is recorded already.
INSERT INTO sparkify_schema_version (version, applied_at, description)
SELECT %(version)s, %(applied_at)s, %(description)s
WHERE NOT EXISTS (SELECT 1 FROM sparkify_schema_version);

-- name: record_version
-- After a migration to this version.
INSERT INTO sparkify_schema_version (version, applied_at, description)
VALUES (%(version)s, %(applied_at)s, %(description)s);

-- The Redshift side of backups (sparkify_assets/warehouse/redshift/engine.py).
--
-- Statements with {placeholders} are UNLOAD and COPY commands, which take no bind parameters:
-- redshift_warehouse.render_unload / render_copy fill each with a quoted literal checked against a
-- strict pattern (an s3:// URL, an IAM role ARN, a KMS key id, a region). {query} is one of the
-- SELECTs of sql/backup/export.sql with its parameters written as DATE / TIMESTAMP literals and
-- every quote doubled, so the whole query is one string literal.
--
-- Restore, per table: a temporary copy of the table, filled by one COPY of every Parquet file
-- the restore needs (listed in a COPY manifest written beside the backup), then moved into the
-- table in the transaction that deletes the restored window. COPY from Parquet takes no REGION (the bucket must
-- be in the cluster's region) and maps file columns to table columns by position.

-- name: unload_sse_s3
-- One data set of one day (or the snapshot) to {target}, a name prefix inside the partition's
-- folder (Redshift appends <slice>_part_<n>.parquet). Encrypted at rest with SSE-S3, UNLOAD's
-- default. No ALLOWOVERWRITE / CLEANPATH: the prefix is new on every run; older files are removed
-- by the backup code after the new ones are complete, so the role needs no s3:DeleteObject.
UNLOAD ({query})
TO {target}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
REGION {region};

-- name: unload_sse_kms
-- The same, encrypted with SSE-KMS under {kms_key_id} (Parquet's only ENCRYPTED form).
UNLOAD ({query})
TO {target}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
ENCRYPTED
KMS_KEY_ID {kms_key_id}
REGION {region};

-- name: drop_restored_songplays
DROP TABLE IF EXISTS restored_songplays;

-- name: create_restored_songplays
CREATE TEMP TABLE restored_songplays (LIKE songplays);

-- name: copy_restored_songplays
COPY restored_songplays
FROM {manifest}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
MANIFEST;

-- name: insert_restored_songplays
INSERT INTO songplays SELECT * FROM restored_songplays;

-- name: drop_restored_time
DROP TABLE IF EXISTS restored_time;

-- name: create_restored_time
CREATE TEMP TABLE restored_time (LIKE time);

-- name: copy_restored_time
COPY restored_time
FROM {manifest}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
MANIFEST;

-- name: insert_restored_time
INSERT INTO time SELECT * FROM restored_time;

-- name: drop_restored_staging_events
DROP TABLE IF EXISTS restored_staging_events;

-- name: create_restored_staging_events
CREATE TEMP TABLE restored_staging_events (LIKE staging_events);

-- name: copy_restored_staging_events
COPY restored_staging_events
FROM {manifest}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
MANIFEST;

-- name: insert_restored_staging_events
INSERT INTO staging_events SELECT * FROM restored_staging_events;

-- name: drop_restored_load_quarantine
DROP TABLE IF EXISTS restored_load_quarantine;

-- name: create_restored_load_quarantine
CREATE TEMP TABLE restored_load_quarantine (LIKE load_quarantine);

-- name: copy_restored_load_quarantine
COPY restored_load_quarantine
FROM {manifest}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
MANIFEST;

-- name: insert_restored_load_quarantine
INSERT INTO load_quarantine SELECT * FROM restored_load_quarantine;

-- name: drop_restored_users
DROP TABLE IF EXISTS restored_users;

-- name: create_restored_users
CREATE TEMP TABLE restored_users (LIKE users);

-- name: copy_restored_users
COPY restored_users
FROM {manifest}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
MANIFEST;

-- name: insert_restored_users
INSERT INTO users SELECT * FROM restored_users;

-- name: drop_restored_songs
DROP TABLE IF EXISTS restored_songs;

-- name: create_restored_songs
CREATE TEMP TABLE restored_songs (LIKE songs);

-- name: copy_restored_songs
COPY restored_songs
FROM {manifest}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
MANIFEST;

-- name: insert_restored_songs
INSERT INTO songs SELECT * FROM restored_songs;

-- name: drop_restored_artists
DROP TABLE IF EXISTS restored_artists;

-- name: create_restored_artists
CREATE TEMP TABLE restored_artists (LIKE artists);

-- name: copy_restored_artists
COPY restored_artists
FROM {manifest}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
MANIFEST;

-- name: insert_restored_artists
INSERT INTO artists SELECT * FROM restored_artists;

-- name: drop_restored_staging_songs
DROP TABLE IF EXISTS restored_staging_songs;

-- name: create_restored_staging_songs
CREATE TEMP TABLE restored_staging_songs (LIKE staging_songs);

-- name: copy_restored_staging_songs
COPY restored_staging_songs
FROM {manifest}
IAM_ROLE {iam_role}
FORMAT AS PARQUET
MANIFEST;

-- name: insert_restored_staging_songs
INSERT INTO staging_songs SELECT * FROM restored_staging_songs;

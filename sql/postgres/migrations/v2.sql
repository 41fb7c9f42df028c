-- Version 1 -> 2 on PostgreSQL: songplays and time lose their enforced primary keys (checking the
-- uniqueness of a random MD5 on every insert doubled the load time; uniqueness is guaranteed by the
-- transforms and verified by the blocking checks songplays.unique_ids and time.unique_start_times),
-- and both get the start_time index the current DDL creates. No row is rewritten.

-- name: drop_songplays_primary_key
ALTER TABLE songplays DROP CONSTRAINT IF EXISTS songplays_pkey;

-- name: drop_time_primary_key
ALTER TABLE time DROP CONSTRAINT IF EXISTS time_pkey;

-- name: index_songplays_start_time
CREATE INDEX IF NOT EXISTS songplays_start_time_idx ON songplays (start_time);

-- name: index_time_start_time
CREATE INDEX IF NOT EXISTS time_start_time_idx ON time (start_time);

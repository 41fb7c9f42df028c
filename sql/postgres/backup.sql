-- The PostgreSQL side of backups (sparkify_assets/warehouse/postgres/engine.py).

-- name: consistent_snapshot
-- The first statement of a backup's transaction: every data set and its count see one snapshot.
SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;

-- name: copy_out
-- A backup data set's rows (one of the SELECTs of sql/backup/export.sql, put in place of {query}
-- by postgres_warehouse: SQL from the project's files, never a value) in PostgreSQL's CSV dialect.
COPY ({query}) TO STDOUT (FORMAT csv);

-- Restore targets: rows read back from Parquet are streamed in as CSV, in the Parquet schema's
-- column order. staging_events.start_time is generated here (from ts), so it is
-- not copied: the restored value is recomputed from the restored ts, as on the first load.
-- name: copy_songplays
COPY songplays (
    songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent
) FROM STDIN (FORMAT csv);

-- name: copy_time
COPY time (start_time, hour, day, week, month, year, weekday) FROM STDIN (FORMAT csv);

-- name: copy_staging_events
COPY staging_events (
    log_date, artist, auth, first_name, gender, item_in_session, last_name, length, level,
    location, method, page, registration, session_id, song, status, ts, user_agent, user_id,
    source_file, source_line
) FROM STDIN (FORMAT csv);

-- name: copy_load_quarantine
COPY load_quarantine (
    source_kind, log_date, source_file, line_number, reason, raw_text, rejected_at, run_id
) FROM STDIN (FORMAT csv);

-- name: copy_users
COPY users (user_id, first_name, last_name, gender, level) FROM STDIN (FORMAT csv);

-- name: copy_songs
COPY songs (song_id, title, artist_id, year, duration) FROM STDIN (FORMAT csv);

-- name: copy_artists
COPY artists (artist_id, name, location, latitude, longitude) FROM STDIN (FORMAT csv);

-- name: copy_staging_songs
COPY staging_songs (
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name,
    song_id, title, duration, year, source_file
) FROM STDIN (FORMAT csv);

-- name: analyze_restored
-- Fresh statistics after a restore (the transforms' plans depend on them, see copy.sql).
ANALYZE;

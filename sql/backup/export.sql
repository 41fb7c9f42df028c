-- What a backup writes: one SELECT per backup data set (sparkify_assets/warehouse/backup/datasets.py),
-- each with its COUNT in the same snapshot, for the backup's row-count check. Columns are the
-- table's, in table order: the Parquet schema of docs/backups.md. PostgreSQL runs these SELECTs
-- through a server-side cursor; Redshift runs the same text inside UNLOAD ('...') with the
-- parameters written as typed literals (redshift_warehouse.render_unload), so one file serves both.
-- Parameters: first_day / end_day (DATE) and window_start / window_end (TIMESTAMP), ends exclusive.

-- name: songplays
SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location,
       user_agent
FROM songplays
WHERE start_time >= %(window_start)s
  AND start_time < %(window_end)s
ORDER BY start_time, songplay_id;

-- name: count_songplays
SELECT COUNT(*) AS row_count
FROM songplays
WHERE start_time >= %(window_start)s
  AND start_time < %(window_end)s;

-- name: time
SELECT start_time, hour, day, week, month, year, weekday
FROM time
WHERE start_time >= %(window_start)s
  AND start_time < %(window_end)s
ORDER BY start_time;

-- name: count_time
SELECT COUNT(*) AS row_count
FROM time
WHERE start_time >= %(window_start)s
  AND start_time < %(window_end)s;

-- name: staging_events
SELECT log_date, artist, auth, first_name, gender, item_in_session, last_name, length, level,
       location, method, page, registration, session_id, song, status, ts, start_time,
       user_agent, user_id, source_file, source_line
FROM staging_events
WHERE log_date >= %(first_day)s
  AND log_date < %(end_day)s
ORDER BY ts, session_id, item_in_session, source_line;

-- name: count_staging_events
SELECT COUNT(*) AS row_count
FROM staging_events
WHERE log_date >= %(first_day)s
  AND log_date < %(end_day)s;

-- name: load_quarantine
-- The event rows of the window (a log file's refused lines).
SELECT source_kind, log_date, source_file, line_number, reason, raw_text, rejected_at, run_id
FROM load_quarantine
WHERE source_kind = 'event'
  AND log_date >= %(first_day)s
  AND log_date < %(end_day)s
ORDER BY source_file, line_number, reason;

-- name: count_load_quarantine
SELECT COUNT(*) AS row_count
FROM load_quarantine
WHERE source_kind = 'event'
  AND log_date >= %(first_day)s
  AND log_date < %(end_day)s;

-- name: users
SELECT user_id, first_name, last_name, gender, level
FROM users
ORDER BY user_id;

-- name: count_users
SELECT COUNT(*) AS row_count FROM users;

-- name: songs
SELECT song_id, title, artist_id, year, duration
FROM songs
ORDER BY song_id;

-- name: count_songs
SELECT COUNT(*) AS row_count FROM songs;

-- name: artists
SELECT artist_id, name, location, latitude, longitude
FROM artists
ORDER BY artist_id;

-- name: count_artists
SELECT COUNT(*) AS row_count FROM artists;

-- name: staging_songs
SELECT num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name,
       song_id, title, duration, year, source_file
FROM staging_songs
ORDER BY song_id, source_file;

-- name: count_staging_songs
SELECT COUNT(*) AS row_count FROM staging_songs;

-- name: load_quarantine_songs
-- The song rows (refused song files): not dated, so part of the snapshot.
SELECT source_kind, log_date, source_file, line_number, reason, raw_text, rejected_at, run_id
FROM load_quarantine
WHERE source_kind = 'song'
ORDER BY source_file, reason;

-- name: count_load_quarantine_songs
SELECT COUNT(*) AS row_count
FROM load_quarantine
WHERE source_kind = 'song';

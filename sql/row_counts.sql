-- Rows of each table in a materialized window (windowed tables) or in all of it (the others).
-- Parameters: first_day / end_day (DATE) and window_start / window_end (TIMESTAMP), ends exclusive.

-- name: staging_events
SELECT COUNT(*) AS row_count FROM staging_events
WHERE log_date >= %(first_day)s AND log_date < %(end_day)s;

-- name: staging_songs
SELECT COUNT(*) AS row_count FROM staging_songs;

-- name: songplays
SELECT COUNT(*) AS row_count FROM songplays
WHERE start_time >= %(window_start)s AND start_time < %(window_end)s;

-- name: time
SELECT COUNT(*) AS row_count FROM time
WHERE start_time >= %(window_start)s AND start_time < %(window_end)s;

-- name: users
SELECT COUNT(*) AS row_count FROM users;

-- name: songs
SELECT COUNT(*) AS row_count FROM songs;

-- name: artists
SELECT COUNT(*) AS row_count FROM artists;

-- name: load_quarantine
SELECT COUNT(*) AS row_count FROM load_quarantine;

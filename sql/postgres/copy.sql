-- COPY ... FROM STDIN targets of the PostgreSQL loader. Column order is the loader's row order
-- (sparkify_assets/records/events.py, song_records.py, quarantine.py).
-- name: staging_events
COPY staging_events (
    log_date, artist, auth, first_name, gender, item_in_session, last_name, length, level, location,
    method, page, registration, session_id, song, status, ts, user_agent, user_id,
    source_file, source_line
) FROM STDIN;

-- name: staging_songs
COPY staging_songs (
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name, song_id,
    title, duration, year, source_file
) FROM STDIN;

-- name: load_quarantine
COPY load_quarantine (
    source_kind, log_date, source_file, line_number, reason, raw_text, rejected_at, run_id
) FROM STDIN;

-- name: analyze_staging_events
-- Fresh statistics in the load's own transaction: without them the planner takes the new rows for
-- a handful and picks nested loops for the transforms (minutes instead of milliseconds).
ANALYZE staging_events;

-- name: staging_events_needs_analyze
-- Whether a load of %(rows_loaded)s rows changes staging_events enough to need fresh statistics:
-- a hundredth of the rows the statistics know of, or none known yet (stale statistics cost the
-- songplays plan more than a few per cent of new rows do). A day added to a long history does
-- not: sampling a large table would make each day cost more as history grows; autovacuum analyzes
-- it in the background.
SELECT %(rows_loaded)s >= 0.01 * GREATEST(reltuples, 0) AS needs_analyze
FROM pg_class
WHERE oid = CAST('staging_events' AS REGCLASS);

-- name: analyze_staging_songs
ANALYZE staging_songs;

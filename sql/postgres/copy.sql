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

-- Documentation of staging_events, shown by SQL clients and in the Dagster UI's column schema.

-- name: table
COMMENT ON TABLE staging_events IS 'Every event of every loaded log day, typed, one row per accepted log line; kept so the star schema can be rebuilt.';

-- name: column_log_date
COMMENT ON COLUMN staging_events.log_date IS 'UTC date of the log file the event came from (the partition key).';

-- name: column_artist
COMMENT ON COLUMN staging_events.artist IS 'Artist name as logged; set only on NextSong events.';

-- name: column_auth
COMMENT ON COLUMN staging_events.auth IS 'Logged In, Logged Out, Guest or Cancelled.';

-- name: column_first_name
COMMENT ON COLUMN staging_events.first_name IS 'User''s first name; NULL on anonymous events.';

-- name: column_gender
COMMENT ON COLUMN staging_events.gender IS 'User''s gender (M/F); NULL on anonymous events.';

-- name: column_item_in_session
COMMENT ON COLUMN staging_events.item_in_session IS 'Position of the event within its session, from 0.';

-- name: column_last_name
COMMENT ON COLUMN staging_events.last_name IS 'User''s last name; NULL on anonymous events.';

-- name: column_length
COMMENT ON COLUMN staging_events.length IS 'Play length in seconds; set only on NextSong events.';

-- name: column_level
COMMENT ON COLUMN staging_events.level IS 'free or paid at the time of the event.';

-- name: column_location
COMMENT ON COLUMN staging_events.location IS 'User''s location, e.g. ''Salinas, CA''.';

-- name: column_method
COMMENT ON COLUMN staging_events.method IS 'HTTP method of the request (GET/PUT).';

-- name: column_page
COMMENT ON COLUMN staging_events.page IS 'App page of the event; NextSong is a song play.';

-- name: column_registration
COMMENT ON COLUMN staging_events.registration IS 'User''s registration time, epoch milliseconds.';

-- name: column_session_id
COMMENT ON COLUMN staging_events.session_id IS 'Session identifier.';

-- name: column_song
COMMENT ON COLUMN staging_events.song IS 'Song title as logged; set only on NextSong events.';

-- name: column_status
COMMENT ON COLUMN staging_events.status IS 'HTTP status of the request.';

-- name: column_ts
COMMENT ON COLUMN staging_events.ts IS 'Event time, epoch milliseconds UTC (as in the source).';

-- name: column_start_time
COMMENT ON COLUMN staging_events.start_time IS 'Event time as a UTC timestamp.';

-- name: column_user_agent
COMMENT ON COLUMN staging_events.user_agent IS 'Browser user agent as logged (may be wrapped in double quotes).';

-- name: column_user_id
COMMENT ON COLUMN staging_events.user_id IS 'Numeric user id; NULL for anonymous (logged-out) events.';

-- name: column_source_file
COMMENT ON COLUMN staging_events.source_file IS 'Key of the log file the event was read from.';

-- name: column_source_line
COMMENT ON COLUMN staging_events.source_line IS 'Line number in that file (NULL when loaded by Redshift COPY).';

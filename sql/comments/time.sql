-- Documentation of time, shown by SQL clients and in the Dagster UI's column schema.

-- name: table
COMMENT ON TABLE time IS 'Dimension: one row per distinct song-play start time, broken into calendar units.';

-- name: column_start_time
COMMENT ON COLUMN time.start_time IS 'The timestamp (UTC), songplays.start_time.';

-- name: column_hour
COMMENT ON COLUMN time.hour IS 'Hour of day, 0-23.';

-- name: column_day
COMMENT ON COLUMN time.day IS 'Day of month, 1-31.';

-- name: column_week
COMMENT ON COLUMN time.week IS 'ISO week of the year, 1-53.';

-- name: column_month
COMMENT ON COLUMN time.month IS 'Month, 1-12.';

-- name: column_year
COMMENT ON COLUMN time.year IS 'Year.';

-- name: column_weekday
COMMENT ON COLUMN time.weekday IS 'Day of week, 0 = Sunday to 6 = Saturday.';

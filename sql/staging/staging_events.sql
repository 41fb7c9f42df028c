-- Replacing a window of log dates in staging_events (both engines). Parameters: first_day
-- (inclusive) and end_day (exclusive) are DATEs.
-- name: delete_window
DELETE FROM staging_events
WHERE log_date >= %(first_day)s
  AND log_date < %(end_day)s;

-- name: delete_window_quarantine
DELETE FROM load_quarantine
WHERE source_kind = 'event'
  AND log_date >= %(first_day)s
  AND log_date < %(end_day)s;


-- Checks of staging_events over the materialized window. Each returns one row: failures (0 = pass),
-- optionally warn_only (1 turns a failure into a warning), and figures shown as the check's metadata.
-- Parameters: first_day / end_day (DATE, end exclusive), loaded_rows (what the loader wrote),
-- max_quarantine_share (0..1).

-- name: row_count
-- The window holds exactly the rows the loader wrote, and at least one.
-- @blocking
SELECT CASE WHEN COUNT(*) = %(loaded_rows)s AND COUNT(*) > 0 THEN 0 ELSE 1 END AS failures,
       COUNT(*) AS rows_in_window,
       %(loaded_rows)s AS rows_loaded
FROM staging_events
WHERE log_date >= %(first_day)s
  AND log_date < %(end_day)s;

-- name: log_date_matches_ts
-- Every event's ts falls on its log date (UTC).
-- @blocking
SELECT COUNT(*) AS failures
FROM staging_events
WHERE log_date >= %(first_day)s
  AND log_date < %(end_day)s
  AND CAST(start_time AS DATE) <> log_date;

-- name: unique_events
-- No event (user, session, item in session, ts) is staged twice.
-- @blocking
SELECT COUNT(*) AS failures
FROM (
    SELECT user_id, session_id, item_in_session, ts
    FROM staging_events
    WHERE log_date >= %(first_day)s
      AND log_date < %(end_day)s
    GROUP BY user_id, session_id, item_in_session, ts
    HAVING COUNT(*) > 1
) AS duplicated;

-- name: quarantine_share
-- Records quarantined by the load: a warning up to the allowed share, an error above it.
SELECT q.rejected AS failures,
       CASE WHEN q.rejected + l.loaded > 0
             AND CAST(q.rejected AS DOUBLE PRECISION) / (q.rejected + l.loaded)
                 <= %(max_quarantine_share)s
            THEN 1 ELSE 0 END AS warn_only,
       q.rejected AS rows_quarantined,
       l.loaded AS rows_loaded,
       CASE WHEN q.rejected + l.loaded = 0 THEN 0.0
            ELSE CAST(q.rejected AS DOUBLE PRECISION) / (q.rejected + l.loaded) END AS quarantine_share,
       %(max_quarantine_share)s AS max_quarantine_share
FROM (
    SELECT COUNT(*) AS rejected
    FROM load_quarantine
    WHERE source_kind = 'event'
      AND log_date >= %(first_day)s
      AND log_date < %(end_day)s
) AS q
CROSS JOIN (
    SELECT COUNT(*) AS loaded
    FROM staging_events
    WHERE log_date >= %(first_day)s
      AND log_date < %(end_day)s
) AS l;

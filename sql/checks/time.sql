-- Checks of time over the materialized window. Parameters: window_start / window_end (TIMESTAMP).

-- name: unique_start_times
-- start_time is unique within the window.
-- @blocking
SELECT COUNT(*) AS failures
FROM (
    SELECT start_time
    FROM time
    WHERE start_time >= %(window_start)s
      AND start_time < %(window_end)s
    GROUP BY start_time
    HAVING COUNT(*) > 1
) AS duplicated;

-- name: matches_songplays
-- The window's time rows are exactly the distinct start times of its plays: none missing, none
-- left over.
-- @blocking
SELECT COUNT(*) AS failures,
       SUM(CASE WHEN dim.start_time IS NULL THEN 1 ELSE 0 END) AS play_times_missing,
       SUM(CASE WHEN played.start_time IS NULL THEN 1 ELSE 0 END) AS rows_without_play
FROM (
    SELECT DISTINCT sp.start_time
    FROM songplays AS sp
    WHERE sp.start_time >= %(window_start)s
      AND sp.start_time < %(window_end)s
) AS played
FULL OUTER JOIN (
    SELECT t.start_time
    FROM time AS t
    WHERE t.start_time >= %(window_start)s
      AND t.start_time < %(window_end)s
) AS dim
  ON dim.start_time = played.start_time
WHERE dim.start_time IS NULL
   OR played.start_time IS NULL;

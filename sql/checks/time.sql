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

-- name: covers_songplays
-- Every songplays.start_time of the window has its time row.
-- @blocking
SELECT COUNT(*) AS failures
FROM (
    SELECT DISTINCT sp.start_time
    FROM songplays AS sp
    WHERE sp.start_time >= %(window_start)s
      AND sp.start_time < %(window_end)s
) AS played
WHERE NOT EXISTS (
    SELECT 1
    FROM time AS t
    WHERE t.start_time = played.start_time
      AND t.start_time >= %(window_start)s
      AND t.start_time < %(window_end)s
);

-- name: no_orphans
-- Every time row of the window belongs to a play.
SELECT COUNT(*) AS failures
FROM time AS t
WHERE t.start_time >= %(window_start)s
  AND t.start_time < %(window_end)s
  AND NOT EXISTS (
      SELECT 1
      FROM songplays AS sp
      WHERE sp.start_time = t.start_time
        AND sp.start_time >= %(window_start)s
        AND sp.start_time < %(window_end)s
  );

-- time: one row per distinct songplays.start_time of the window, broken into calendar units.
-- week is the ISO week; weekday is 0 (Sunday) to 6 (Saturday), as EXTRACT(DOW) gives on both engines.
-- Parameters: window_start / window_end (TIMESTAMP, end exclusive).

-- name: delete_window
DELETE FROM time
WHERE start_time >= %(window_start)s
  AND start_time < %(window_end)s;

-- name: insert_window
INSERT INTO time (start_time, hour, day, week, month, year, weekday)
SELECT starts.start_time,
       CAST(EXTRACT(HOUR FROM starts.start_time) AS INTEGER),
       CAST(EXTRACT(DAY FROM starts.start_time) AS INTEGER),
       CAST(EXTRACT(WEEK FROM starts.start_time) AS INTEGER),
       CAST(EXTRACT(MONTH FROM starts.start_time) AS INTEGER),
       CAST(EXTRACT(YEAR FROM starts.start_time) AS INTEGER),
       CAST(EXTRACT(DOW FROM starts.start_time) AS INTEGER)
FROM (
    SELECT DISTINCT sp.start_time
    FROM songplays AS sp
    WHERE sp.start_time >= %(window_start)s
      AND sp.start_time < %(window_end)s
) AS starts;

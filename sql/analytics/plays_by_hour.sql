-- When do people listen? Run it as is in any SQL client (PostgreSQL or Redshift); no parameters.

-- name: plays_by_hour
-- Song plays per hour of the day (UTC, from the time dimension) over the whole warehouse, with
-- each hour's share of all plays. Hours without any play are not listed.
-- Counted per hour first, then divided by the total (joining the total into every play row made
-- PostgreSQL hash the whole time table once per parallel worker: twice as slow).
SELECT hourly.hour,
       hourly.plays,
       ROUND(100.0 * hourly.plays / totals.plays, 1) AS share_of_plays_pct
FROM (
    SELECT t.hour,
           COUNT(*) AS plays
    FROM songplays AS sp
    JOIN time AS t
      ON t.start_time = sp.start_time
    GROUP BY t.hour
) AS hourly
CROSS JOIN (
    SELECT COUNT(*) AS plays
    FROM songplays
) AS totals
ORDER BY hourly.hour;

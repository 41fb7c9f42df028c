-- When do people listen? Run it as is in any SQL client (PostgreSQL or Redshift); no parameters.

-- name: plays_by_hour
-- Song plays per hour of the day (UTC, from the time dimension) over the whole warehouse, with
-- each hour's share of all plays. Hours without any play are not listed.
SELECT t.hour,
       COUNT(*) AS plays,
       ROUND(100.0 * COUNT(*) / MAX(totals.plays), 1) AS share_of_plays_pct
FROM songplays AS sp
JOIN time AS t
  ON t.start_time = sp.start_time
CROSS JOIN (
    SELECT COUNT(*) AS plays
    FROM songplays
) AS totals
GROUP BY t.hour
ORDER BY t.hour;

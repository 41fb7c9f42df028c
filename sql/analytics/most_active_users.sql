-- Who listens most? Run it as is in any SQL client (PostgreSQL or Redshift); no parameters.

-- name: most_active_users
-- The 10 users with the most song plays over the whole warehouse, with their current level
-- (free/paid), how many sessions they played in and their share of all identified plays.
-- Ties: the lower user_id first.
SELECT u.user_id,
       u.first_name,
       u.last_name,
       u.level,
       activity.plays,
       activity.sessions,
       ROUND(100.0 * activity.plays / totals.plays, 1) AS share_of_plays_pct
FROM (
    SELECT sp.user_id,
           COUNT(*) AS plays,
           COUNT(DISTINCT sp.session_id) AS sessions
    FROM songplays AS sp
    WHERE sp.user_id IS NOT NULL
    GROUP BY sp.user_id
) AS activity
JOIN users AS u
  ON u.user_id = activity.user_id
CROSS JOIN (
    SELECT COUNT(*) AS plays
    FROM songplays
    WHERE user_id IS NOT NULL
) AS totals
ORDER BY activity.plays DESC, u.user_id
LIMIT 10;

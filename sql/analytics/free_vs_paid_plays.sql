-- Do paying users listen more, and is the paid share growing? Run it as is in any SQL client
-- (PostgreSQL or Redshift); no parameters.

-- name: free_vs_paid_plays
-- Song plays per day (UTC), split by the level the user had at the time of each play (free or
-- paid, as recorded on the play itself, not the user's current level), with the paid share.
-- OCTET_LENGTH: Redshift would count 'free ' as 'free' (it ignores trailing blanks in VARCHAR =).
SELECT CAST(sp.start_time AS DATE) AS play_date,
       SUM(CASE WHEN sp.level = 'free' AND OCTET_LENGTH(sp.level) = 4 THEN 1 ELSE 0 END) AS free_plays,
       SUM(CASE WHEN sp.level = 'paid' AND OCTET_LENGTH(sp.level) = 4 THEN 1 ELSE 0 END) AS paid_plays,
       COUNT(*) AS plays,
       ROUND(100.0 * SUM(CASE WHEN sp.level = 'paid' AND OCTET_LENGTH(sp.level) = 4 THEN 1 ELSE 0 END) / COUNT(*), 1)
           AS paid_share_pct
FROM songplays AS sp
GROUP BY CAST(sp.start_time AS DATE)
ORDER BY play_date;

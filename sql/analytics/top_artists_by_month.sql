-- Whom do people play, month by month? Run it as is in any SQL client (PostgreSQL or Redshift);
-- no parameters.

-- name: top_artists_by_month
-- The 5 most played artists of each year and month, with how many of their songs were played.
-- Only plays matched to the catalog count (a play whose song is not in the catalog has no
-- artist_id). Ties: the lower artist_id first.
SELECT ranked.year,
       ranked.month,
       ranked.artist_rank,
       ranked.artist_id,
       a.name AS artist_name,
       ranked.plays,
       ranked.distinct_songs
FROM (
    SELECT monthly.year,
           monthly.month,
           monthly.artist_id,
           monthly.plays,
           monthly.distinct_songs,
           ROW_NUMBER() OVER (
               PARTITION BY monthly.year, monthly.month
               ORDER BY monthly.plays DESC, monthly.artist_id
           ) AS artist_rank
    FROM (
        SELECT t.year,
               t.month,
               sp.artist_id,
               COUNT(*) AS plays,
               COUNT(DISTINCT sp.song_id) AS distinct_songs
        FROM songplays AS sp
        JOIN time AS t
          ON t.start_time = sp.start_time
        WHERE sp.artist_id IS NOT NULL
        GROUP BY t.year, t.month, sp.artist_id
    ) AS monthly
) AS ranked
JOIN artists AS a
  ON a.artist_id = ranked.artist_id
WHERE ranked.artist_rank <= 5
ORDER BY ranked.year, ranked.month, ranked.artist_rank;

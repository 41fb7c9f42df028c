-- What do people play, month by month? Run it as is in any SQL client (PostgreSQL or Redshift);
-- no parameters.

-- name: top_songs_by_month
-- The 5 most played songs of each year and month. Only plays matched to the catalog count (a play
-- whose song is not in the catalog has no song_id). Ties: the lower song_id first.
SELECT ranked.year,
       ranked.month,
       ranked.song_rank,
       ranked.song_id,
       s.title,
       a.name AS artist_name,
       ranked.plays
FROM (
    SELECT monthly.year,
           monthly.month,
           monthly.song_id,
           monthly.plays,
           ROW_NUMBER() OVER (
               PARTITION BY monthly.year, monthly.month
               ORDER BY monthly.plays DESC, monthly.song_id
           ) AS song_rank
    FROM (
        SELECT t.year,
               t.month,
               sp.song_id,
               COUNT(*) AS plays
        FROM songplays AS sp
        JOIN time AS t
          ON t.start_time = sp.start_time
        WHERE sp.song_id IS NOT NULL
        GROUP BY t.year, t.month, sp.song_id
    ) AS monthly
) AS ranked
JOIN songs AS s
  ON s.song_id = ranked.song_id
LEFT JOIN artists AS a
  ON a.artist_id = s.artist_id
WHERE ranked.song_rank <= 5
ORDER BY ranked.year, ranked.month, ranked.song_rank;

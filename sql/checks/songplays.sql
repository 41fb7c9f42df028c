-- Checks of songplays over the materialized window. Parameters: first_day / end_day (DATE) and
-- window_start / window_end (TIMESTAMP), ends exclusive.

-- name: matches_staging
-- One play per staged NextSong event of the window: none lost, none duplicated.
-- @blocking
SELECT CASE WHEN f.plays = s.next_song_events THEN 0 ELSE 1 END AS failures,
       f.plays AS songplays_rows,
       s.next_song_events AS staged_next_song_events
FROM (
    SELECT COUNT(*) AS plays
    FROM songplays
    WHERE start_time >= %(window_start)s
      AND start_time < %(window_end)s
) AS f
CROSS JOIN (
    SELECT COUNT(*) AS next_song_events
    FROM staging_events
    WHERE page = 'NextSong'
      AND OCTET_LENGTH(page) = 8  -- 'NextSong ' is no play on any engine (transform/songplays.sql)
      AND log_date >= %(first_day)s
      AND log_date < %(end_day)s
) AS s;

-- name: unique_ids
-- songplay_id is unique within the window.
-- @blocking
SELECT COUNT(*) AS failures
FROM (
    SELECT songplay_id
    FROM songplays
    WHERE start_time >= %(window_start)s
      AND start_time < %(window_end)s
    GROUP BY songplay_id
    HAVING COUNT(*) > 1
) AS duplicated;

-- name: keys_not_null
-- songplay_id, session_id and level are set on every play.
-- @blocking
SELECT COUNT(*) AS failures
FROM songplays
WHERE start_time >= %(window_start)s
  AND start_time < %(window_end)s
  AND (songplay_id IS NULL OR session_id IS NULL OR level IS NULL);

-- name: users_exist
-- Every play's user_id is in users.
SELECT COUNT(*) AS failures
FROM songplays AS sp
WHERE sp.start_time >= %(window_start)s
  AND sp.start_time < %(window_end)s
  AND sp.user_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM users AS u WHERE u.user_id = sp.user_id);

-- name: catalog_rows_exist
-- Every matched song_id is in songs and every artist_id in artists. Written with outer joins to
-- the distinct ids, not two correlated NOT EXISTS under OR: Redshift refuses some correlated
-- subqueries ("This type of correlated subquery pattern is not supported",
-- https://docs.aws.amazon.com/redshift/latest/dg/r_correlated_subqueries.html), and a join is a
-- shape every engine plans well.
SELECT COUNT(*) AS failures
FROM songplays AS sp
LEFT JOIN (SELECT DISTINCT song_id FROM songs) AS s
  ON s.song_id = sp.song_id
LEFT JOIN (SELECT DISTINCT artist_id FROM artists) AS a
  ON a.artist_id = sp.artist_id
WHERE sp.start_time >= %(window_start)s
  AND sp.start_time < %(window_end)s
  AND (
      (sp.song_id IS NOT NULL AND s.song_id IS NULL)
      OR (sp.artist_id IS NOT NULL AND a.artist_id IS NULL)
  );

-- name: catalog_match_share
-- Share of plays matched to the catalog (fails only if none match while the catalog has songs).
-- Most plays name songs outside the catalog (the catalog is a subset); no match at all while the
-- catalog has songs means the match itself is broken.
SELECT CASE WHEN p.plays > 0 AND p.matched = 0 AND c.catalog_songs > 0 THEN 1 ELSE 0 END AS failures,
       p.plays,
       p.matched AS plays_matched_to_catalog,
       CASE WHEN p.plays = 0 THEN 0.0
            ELSE CAST(p.matched AS DOUBLE PRECISION) / p.plays END AS matched_share
FROM (
    SELECT COUNT(*) AS plays,
           COUNT(song_id) AS matched
    FROM songplays
    WHERE start_time >= %(window_start)s
      AND start_time < %(window_end)s
) AS p
CROSS JOIN (SELECT COUNT(*) AS catalog_songs FROM staging_songs) AS c;

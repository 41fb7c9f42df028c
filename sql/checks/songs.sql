-- Checks of songs (whole table).

-- name: unique_ids
-- song_id is unique.
-- @blocking
SELECT COUNT(*) AS failures
FROM (
    SELECT song_id
    FROM songs
    GROUP BY song_id
    HAVING COUNT(*) > 1
) AS duplicated;

-- name: matches_catalog
-- One row per distinct song_id of the catalog.
-- @blocking
SELECT CASE WHEN d.songs_rows = c.catalog_song_ids AND d.songs_rows > 0 THEN 0 ELSE 1 END AS failures,
       d.songs_rows,
       c.catalog_song_ids
FROM (SELECT COUNT(*) AS songs_rows FROM songs) AS d
CROSS JOIN (SELECT COUNT(DISTINCT song_id) AS catalog_song_ids FROM staging_songs) AS c;

-- name: keys_not_null
-- song_id, artist_id and title are set.
SELECT COUNT(*) AS failures
FROM songs
WHERE song_id IS NULL OR artist_id IS NULL OR title IS NULL;

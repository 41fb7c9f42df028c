-- Checks of artists (whole table).

-- name: unique_ids
-- artist_id is unique.
-- @blocking
SELECT COUNT(*) AS failures
FROM (
    SELECT artist_id
    FROM artists
    GROUP BY artist_id
    HAVING COUNT(*) > 1
) AS duplicated;

-- name: matches_catalog
-- One row per distinct artist_id of the catalog.
-- @blocking
SELECT CASE WHEN d.artists_rows = c.catalog_artist_ids AND d.artists_rows > 0 THEN 0 ELSE 1 END
           AS failures,
       d.artists_rows,
       c.catalog_artist_ids
FROM (SELECT COUNT(*) AS artists_rows FROM artists) AS d
CROSS JOIN (SELECT COUNT(DISTINCT artist_id) AS catalog_artist_ids FROM staging_songs) AS c;

-- name: keys_not_null
-- artist_id and name are set.
SELECT COUNT(*) AS failures
FROM artists
WHERE artist_id IS NULL OR name IS NULL;

-- artists: one row per artist_id of the catalog. Where song files disagree about an artist, the
-- entry with the most known attributes wins (a location that is not '' and coordinates that are not
-- NULL), then the lowest song_id: the same input gives the same row whatever the file order.
-- '' is tested by length: Redshift ignores trailing blanks when comparing VARCHARs, so
-- NULLIF(' ', '') would be NULL there and ' ' on PostgreSQL
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html).

-- name: delete_all
DELETE FROM artists;

-- name: insert_all
INSERT INTO artists (artist_id, name, location, latitude, longitude)
SELECT ranked.artist_id,
       ranked.artist_name,
       ranked.artist_location,
       ranked.artist_latitude,
       ranked.artist_longitude
FROM (
    SELECT s.artist_id,
           s.artist_name,
           CASE WHEN OCTET_LENGTH(s.artist_location) > 0 THEN s.artist_location END
               AS artist_location,
           s.artist_latitude,
           s.artist_longitude,
           ROW_NUMBER() OVER (
               PARTITION BY s.artist_id
               ORDER BY
                   CASE WHEN OCTET_LENGTH(s.artist_location) > 0 THEN 0 ELSE 1 END
                   + CASE WHEN s.artist_latitude IS NULL THEN 1 ELSE 0 END
                   + CASE WHEN s.artist_longitude IS NULL THEN 1 ELSE 0 END,
                   s.song_id
           ) AS preference
    FROM staging_songs AS s
) AS ranked
WHERE ranked.preference = 1;

-- songs: one row per song_id of the catalog; year 0 (unknown in the source) becomes NULL. Should the
-- catalog hold a song_id twice, the entry kept is chosen by its content, the same way on every
-- engine: the shortest duration, then the lowest year, then the lowest MD5 of artist_id and title
-- (hex digits order the same under every collation). Not by source file: Redshift's COPY does not
-- say which file a row came from (staging_songs.source_file is the loaded prefix there), so a
-- file-based tie-break would be arbitrary on Redshift.

-- name: delete_all
DELETE FROM songs;

-- name: insert_all
INSERT INTO songs (song_id, title, artist_id, year, duration)
SELECT ranked.song_id,
       ranked.title,
       ranked.artist_id,
       NULLIF(ranked.year, 0),
       ranked.duration
FROM (
    SELECT s.song_id,
           s.title,
           s.artist_id,
           s.year,
           s.duration,
           ROW_NUMBER() OVER (
               PARTITION BY s.song_id
               ORDER BY s.duration ASC NULLS LAST,
                        s.year ASC NULLS LAST,
                        MD5(COALESCE(s.artist_id, '') || '|' || COALESCE(s.title, '')) ASC
           ) AS content_rank
    FROM staging_songs AS s
) AS ranked
WHERE ranked.content_rank = 1;

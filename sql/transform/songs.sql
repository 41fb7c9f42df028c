-- songs: one row per song_id of the catalog; year 0 (unknown in the source) becomes NULL. Should the
-- catalog hold a song_id twice, the entry from the first source file (by name) wins.

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
           ROW_NUMBER() OVER (PARTITION BY s.song_id ORDER BY s.source_file) AS file_rank
    FROM staging_songs AS s
) AS ranked
WHERE ranked.file_rank = 1;

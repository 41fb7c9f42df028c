-- Documentation of songs, shown by SQL clients and in the Dagster UI's column schema.

-- name: table
COMMENT ON TABLE songs IS 'Dimension: one row per song of the catalog.';

-- name: column_song_id
COMMENT ON COLUMN songs.song_id IS 'Song identifier.';

-- name: column_title
COMMENT ON COLUMN songs.title IS 'Song title.';

-- name: column_artist_id
COMMENT ON COLUMN songs.artist_id IS 'The song''s artist (artists.artist_id).';

-- name: column_year
COMMENT ON COLUMN songs.year IS 'Release year; NULL when unknown.';

-- name: column_duration
COMMENT ON COLUMN songs.duration IS 'Duration in seconds.';

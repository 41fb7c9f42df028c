-- Documentation of staging_songs, shown by SQL clients and in the Dagster UI's column schema.

-- name: table
COMMENT ON TABLE staging_songs IS 'The song catalog as read from song_data/, one row per accepted song file.';

-- name: column_num_songs
COMMENT ON COLUMN staging_songs.num_songs IS 'Always 1 in the source.';

-- name: column_artist_id
COMMENT ON COLUMN staging_songs.artist_id IS 'Artist identifier (AR + 16 characters).';

-- name: column_artist_latitude
COMMENT ON COLUMN staging_songs.artist_latitude IS 'Artist latitude, often NULL.';

-- name: column_artist_longitude
COMMENT ON COLUMN staging_songs.artist_longitude IS 'Artist longitude, often NULL.';

-- name: column_artist_location
COMMENT ON COLUMN staging_songs.artist_location IS 'Artist location as in the file ('''' when unknown).';

-- name: column_artist_name
COMMENT ON COLUMN staging_songs.artist_name IS 'Artist name as in the file.';

-- name: column_song_id
COMMENT ON COLUMN staging_songs.song_id IS 'Song identifier (SO + 16 characters).';

-- name: column_title
COMMENT ON COLUMN staging_songs.title IS 'Song title.';

-- name: column_duration
COMMENT ON COLUMN staging_songs.duration IS 'Song duration in seconds.';

-- name: column_year
COMMENT ON COLUMN staging_songs.year IS 'Release year; 0 when unknown.';

-- name: column_source_file
COMMENT ON COLUMN staging_songs.source_file IS 'Key of the song file.';

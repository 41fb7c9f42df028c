-- The song catalog as read from song_data/, one row per accepted song file. Replaced whole.
-- name: create_table
CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER,
    artist_id        VARCHAR          NOT NULL,
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  VARCHAR,
    artist_name      VARCHAR,
    song_id          VARCHAR          NOT NULL,
    title            VARCHAR,
    duration         DOUBLE PRECISION,
    year             INTEGER,
    source_file      VARCHAR          NOT NULL
);

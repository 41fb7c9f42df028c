-- name: create_table
CREATE TABLE IF NOT EXISTS songs (
    song_id   VARCHAR NOT NULL PRIMARY KEY,
    title     VARCHAR,
    artist_id VARCHAR NOT NULL,
    year      INTEGER,
    duration  DOUBLE PRECISION
);

-- DISTSTYLE ALL: a small dimension joined to songplays on artist_id; a copy on every node.
-- SORTKEY(artist_id): the join and lookups by id.
-- name: create_table
CREATE TABLE IF NOT EXISTS artists (
    artist_id VARCHAR(32)  NOT NULL ENCODE RAW,
    name      VARCHAR(512)          ENCODE ZSTD,
    location  VARCHAR(512)          ENCODE ZSTD,
    latitude  DOUBLE PRECISION      ENCODE ZSTD,
    longitude DOUBLE PRECISION      ENCODE ZSTD,
    PRIMARY KEY (artist_id)
)
DISTSTYLE ALL
SORTKEY (artist_id);

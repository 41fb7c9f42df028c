-- DISTSTYLE ALL: a small dimension joined to songplays on song_id; a copy on every node.
-- SORTKEY(song_id): the join and lookups by id.
-- name: create_table
CREATE TABLE IF NOT EXISTS songs (
    song_id   VARCHAR(32)  NOT NULL ENCODE RAW,
    title     VARCHAR(512)          ENCODE ZSTD,
    artist_id VARCHAR(32)  NOT NULL ENCODE ZSTD,
    year      INTEGER               ENCODE AZ64,
    duration  DOUBLE PRECISION      ENCODE ZSTD,
    PRIMARY KEY (song_id)
)
DISTSTYLE ALL
SORTKEY (song_id);

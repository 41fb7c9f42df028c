-- The song catalog as read from song_data/, one row per accepted song object. Replaced whole.
-- VARCHAR sizes are bytes, the limits song_records.TEXT_LIMITS enforces.
-- DISTSTYLE ALL: a small table every songplays load joins (on title, artist name, duration).
-- SORTKEY(song_id): the songs and artists rebuilds rank the catalog by song_id.
-- name: create_table
CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER                   ENCODE AZ64,
    artist_id        VARCHAR(32)      NOT NULL ENCODE ZSTD,
    artist_latitude  DOUBLE PRECISION          ENCODE ZSTD,
    artist_longitude DOUBLE PRECISION          ENCODE ZSTD,
    artist_location  VARCHAR(512)              ENCODE ZSTD,
    artist_name      VARCHAR(512)              ENCODE ZSTD,
    song_id          VARCHAR(32)      NOT NULL ENCODE RAW,
    title            VARCHAR(512)              ENCODE ZSTD,
    duration         DOUBLE PRECISION          ENCODE ZSTD,
    year             INTEGER                   ENCODE AZ64,
    source_file      VARCHAR(1024)    NOT NULL ENCODE ZSTD
)
DISTSTYLE ALL
SORTKEY (song_id);

-- name: create_table
CREATE TABLE IF NOT EXISTS songplays (
    songplay_id CHAR(32)  NOT NULL PRIMARY KEY,
    start_time  TIMESTAMP NOT NULL,
    user_id     INTEGER,
    level       VARCHAR,
    song_id     VARCHAR,
    artist_id   VARCHAR,
    session_id  INTEGER   NOT NULL,
    location    VARCHAR,
    user_agent  VARCHAR
);

-- name: index_start_time
CREATE INDEX IF NOT EXISTS songplays_start_time_idx ON songplays (start_time);

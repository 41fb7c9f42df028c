-- DISTSTYLE ALL: a small dimension joined to songplays on user_id; a copy on every node.
-- SORTKEY(user_id): the rebuild deletes and the analysts look up users by id.
-- name: create_table
CREATE TABLE IF NOT EXISTS users (
    user_id    INTEGER      NOT NULL ENCODE RAW,
    first_name VARCHAR(256)          ENCODE ZSTD,
    last_name  VARCHAR(256)          ENCODE ZSTD,
    gender     VARCHAR(16)           ENCODE ZSTD,
    level      VARCHAR(16)  NOT NULL ENCODE ZSTD,
    PRIMARY KEY (user_id)
)
DISTSTYLE ALL
SORTKEY (user_id);

-- name: create_table
CREATE TABLE IF NOT EXISTS time (
    start_time TIMESTAMP NOT NULL PRIMARY KEY,
    hour       INTEGER   NOT NULL,
    day        INTEGER   NOT NULL,
    week       INTEGER   NOT NULL,
    month      INTEGER   NOT NULL,
    year       INTEGER   NOT NULL,
    weekday    INTEGER   NOT NULL
);

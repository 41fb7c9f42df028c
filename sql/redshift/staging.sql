-- Redshift staging: COPY from S3 into a temporary table, check and convert there, then replace the
-- window's rows of staging_events (or all of staging_songs) in one short transaction.
--
-- Statements with {placeholders} are COPY commands: Redshift does not take bind parameters in COPY,
-- so redshift_warehouse.render_copy() fills each placeholder with a quoted literal after checking it
-- against a strict pattern (an s3:// URL, an IAM role ARN, a region name). Access keys never appear:
-- COPY authenticates with IAM_ROLE only. Every other statement takes %(name)s parameters.
--
-- The conversion statements (create_checked_events, insert_staging_events, ...) are plain SQL that
-- PostgreSQL runs too: the tests execute them through redshift_connector on a temporary table filled
-- the way COPY fills it.

-- name: drop_staged_events
DROP TABLE IF EXISTS staged_events;

-- name: create_staged_events
-- What COPY writes: the event fields in the order of sql/redshift/log_json_path.json (the layout's
-- <source>/log_json_path.json), as loaded, then the log date and file key the loader adds per file.
-- VARCHAR sizes are the byte limits of event_records.TEXT_LIMITS: a longer text is a rejected row.
CREATE TEMP TABLE staged_events (
    artist        VARCHAR(512),
    auth          VARCHAR(32),
    firstname     VARCHAR(256),
    gender        VARCHAR(16),
    iteminsession INTEGER,
    lastname      VARCHAR(256),
    length        DOUBLE PRECISION,
    level         VARCHAR(16),
    location      VARCHAR(512),
    method        VARCHAR(16),
    page          VARCHAR(64),
    registration  DOUBLE PRECISION,
    sessionid     INTEGER,
    song          VARCHAR(512),
    status        INTEGER,
    ts            BIGINT,
    useragent     VARCHAR(1024),
    userid        VARCHAR(64),
    log_date      DATE,
    source_file   VARCHAR(1024)
);

-- name: copy_log_file
-- One day's log file. {source} is the s3:// URL of a manifest the engine writes for this COPY
-- under SPARKIFY_REDSHIFT_STAGING_URL, listing exactly the day's key with "mandatory": true: COPY
-- FROM a key treats it as a prefix, so "...-events.json.bak" next to the file would be loaded
-- too; with MANIFEST only the listed object is read, and a missing one fails the COPY
-- (https://docs.aws.amazon.com/redshift/latest/dg/loading-data-files-using-manifest.html).
-- MAXERROR lets bad lines be rejected (and quarantined from the load-error log) without failing the
-- load; COMPUPDATE/STATUPDATE OFF skip the compression analysis and statistics that a temporary
-- table does not need. MANIFEST stays last (sqlglot reads a value after it otherwise).
COPY staged_events (
    artist, auth, firstname, gender, iteminsession, lastname, length, level, location, method,
    page, registration, sessionid, song, status, ts, useragent, userid
)
FROM {source}
IAM_ROLE {iam_role}
FORMAT AS JSON {jsonpaths}
REGION {region}
MAXERROR 10000
COMPUPDATE OFF
STATUPDATE OFF
MANIFEST;

-- name: tag_log_file
-- Marks the rows the last COPY added with their file's log date and key.
UPDATE staged_events
SET log_date = %(log_date)s,
    source_file = %(source_file)s
WHERE log_date IS NULL;

-- name: drop_checked_events
DROP TABLE IF EXISTS checked_events;

-- name: create_checked_events
-- Every staged event, converted to staging_events' types, with the reason it is refused (NULL when
-- accepted). The rules are event_records.EventFileParser's for what COPY itself lets through:
-- a required field missing, a ts outside the file's UTC day, a userId that is not a numeric string,
-- a registration out of range, and a second copy of an event (same user, session, item in session
-- and ts). COPY keeps no line order, so of identical events the one kept is the first in column
-- order, whatever order the lines had; the others are quarantined as duplicates.
CREATE TEMP TABLE checked_events AS
SELECT ranked.log_date,
       ranked.artist,
       ranked.auth,
       ranked.first_name,
       ranked.gender,
       ranked.item_in_session,
       ranked.last_name,
       ranked.length,
       ranked.level,
       ranked.location,
       ranked.method,
       ranked.page,
       ranked.registration,
       ranked.session_id,
       ranked.song,
       ranked.status,
       ranked.ts,
       ranked.start_time,
       ranked.user_agent,
       ranked.user_id,
       ranked.source_file,
       ranked.raw_user_id,
       CASE
           WHEN ranked.problem IS NOT NULL THEN ranked.problem
           WHEN ranked.copy_rank > 1
               THEN 'duplicate of an event with the same user, session, item in session and ts'
       END AS reason
FROM (
    SELECT typed.*,
           ROW_NUMBER() OVER (
               PARTITION BY CASE WHEN typed.problem IS NULL THEN 0 ELSE 1 END,
                            typed.user_id, typed.session_id, typed.item_in_session, typed.ts
               ORDER BY typed.artist, typed.auth, typed.first_name, typed.gender,
                        typed.last_name, typed.length, typed.level, typed.location, typed.method,
                        typed.page, typed.registration, typed.song, typed.status,
                        typed.user_agent, typed.source_file
           ) AS copy_rank
    FROM (
        SELECT s.log_date,
               s.artist,
               s.auth,
               s.firstname AS first_name,
               s.gender,
               s.iteminsession AS item_in_session,
               s.lastname AS last_name,
               s.length,
               s.level,
               s.location,
               s.method,
               s.page,
               CASE WHEN ABS(s.registration) < 4611686018427387904.0
                    THEN CAST(TRUNC(s.registration) AS BIGINT) END AS registration,
               s.sessionid AS session_id,
               s.song,
               s.status,
               s.ts,
               TIMESTAMP '1970-01-01' + s.ts * INTERVAL '1 millisecond' AS start_time,
               s.useragent AS user_agent,
               -- Digits only, 1 to 9 of them, decided by lengths rather than by a regular
               -- expression: Redshift's POSIX ^ and $ may match at a line break, so
               -- '^[0-9]{1,9}$' could accept '7' || CHR(10) and the CAST would then fail the
               -- whole statement
               -- (https://docs.aws.amazon.com/redshift/latest/dg/pattern-matching-conditions-posix.html).
               -- TRANSLATE removes every digit; OCTET_LENGTH counts a VARCHAR's trailing blanks
               -- (https://docs.aws.amazon.com/redshift/latest/dg/r_OCTET_LENGTH.html), so
               -- anything left over (a blank, a line break, a letter) refuses the value.
               CASE WHEN OCTET_LENGTH(s.userid) BETWEEN 1 AND 9
                     AND OCTET_LENGTH(TRANSLATE(s.userid, '0123456789', '')) = 0
                    THEN CAST(s.userid AS INTEGER) END AS user_id,
               s.source_file,
               s.userid AS raw_user_id,
               CASE
                   WHEN s.iteminsession IS NULL THEN 'itemInSession is missing'
                   WHEN s.page IS NULL THEN 'page is missing'
                   WHEN s.sessionid IS NULL THEN 'sessionId is missing'
                   WHEN s.ts IS NULL THEN 'ts is missing'
                   WHEN CAST(TIMESTAMP '1970-01-01' + s.ts * INTERVAL '1 millisecond' AS DATE)
                        <> s.log_date
                       THEN 'ts ' || CAST(s.ts AS VARCHAR(20)) || ' is not on '
                            || TO_CHAR(s.log_date, 'YYYY-MM-DD') || ' (UTC)'
                   -- '' is an anonymous event. Compared by length, not with <> '': Redshift
                   -- ignores trailing blanks when comparing VARCHARs, so ' ' <> '' is false there
                   -- (https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html)
                   -- while PostgreSQL, like the Python parser, refuses a blank-only userId.
                   WHEN OCTET_LENGTH(s.userid) > 0
                        AND NOT (OCTET_LENGTH(s.userid) <= 9
                                 AND OCTET_LENGTH(TRANSLATE(s.userid, '0123456789', '')) = 0)
                       THEN 'userId is not a numeric string'
                   WHEN ABS(s.registration) >= 4611686018427387904.0
                       THEN 'registration is out of range'
               END AS problem
        FROM staged_events AS s
    ) AS typed
) AS ranked;

-- name: checked_event_counts
-- Accepted and refused events per log date, for the load report.
SELECT c.log_date,
       SUM(CASE WHEN c.reason IS NULL THEN 1 ELSE 0 END) AS accepted,
       SUM(CASE WHEN c.reason IS NULL THEN 0 ELSE 1 END) AS refused
FROM checked_events AS c
GROUP BY c.log_date
ORDER BY c.log_date;

-- name: insert_staging_events
INSERT INTO staging_events (
    log_date, artist, auth, first_name, gender, item_in_session, last_name, length, level,
    location, method, page, registration, session_id, song, status, ts, start_time, user_agent,
    user_id, source_file, source_line
)
SELECT c.log_date,
       c.artist,
       c.auth,
       c.first_name,
       c.gender,
       c.item_in_session,
       c.last_name,
       c.length,
       c.level,
       c.location,
       c.method,
       c.page,
       c.registration,
       c.session_id,
       c.song,
       c.status,
       c.ts,
       c.start_time,
       c.user_agent,
       c.user_id,
       c.source_file,
       CAST(NULL AS INTEGER)
FROM checked_events AS c
WHERE c.reason IS NULL;

-- name: insert_event_quarantine
-- The refused events. COPY keeps neither the raw line nor its number, so raw_text holds the
-- event's identity as loaded instead.
INSERT INTO load_quarantine (
    source_kind, log_date, source_file, line_number, reason, raw_text, rejected_at, run_id
)
SELECT 'event',
       c.log_date,
       c.source_file,
       CAST(NULL AS INTEGER),
       c.reason,
       'userId=' || COALESCE(c.raw_user_id, 'null')
           || ' sessionId=' || COALESCE(CAST(c.session_id AS VARCHAR(12)), 'null')
           || ' itemInSession=' || COALESCE(CAST(c.item_in_session AS VARCHAR(12)), 'null')
           || ' ts=' || COALESCE(CAST(c.ts AS VARCHAR(20)), 'null')
           || ' page=' || COALESCE(c.page, 'null'),
       %(rejected_at)s,
       %(run_id)s
FROM checked_events AS c
WHERE c.reason IS NOT NULL;

-- name: drop_staged_songs
DROP TABLE IF EXISTS staged_songs;

-- name: create_staged_songs
-- What COPY writes from the song files: FORMAT AS JSON 'auto' matches each object's keys to these
-- column names. VARCHAR sizes are the byte limits of song_records.TEXT_LIMITS.
CREATE TEMP TABLE staged_songs (
    num_songs        INTEGER,
    artist_id        VARCHAR(32),
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  VARCHAR(512),
    artist_name      VARCHAR(512),
    song_id          VARCHAR(32),
    title            VARCHAR(512),
    duration         DOUBLE PRECISION,
    year             INTEGER
);

-- name: copy_song_files
-- The whole catalog in one COPY: {source} is the song_data/ prefix, every object under it is read,
-- in parallel over the cluster's slices.
COPY staged_songs
FROM {source}
IAM_ROLE {iam_role}
FORMAT AS JSON 'auto'
REGION {region}
MAXERROR 10000
COMPUPDATE OFF
STATUPDATE OFF;

-- name: drop_checked_songs
DROP TABLE IF EXISTS checked_songs;

-- name: create_checked_songs
-- Every staged song with the reason it is refused (NULL when accepted): song_records'
-- parse_song_file rules for what COPY itself lets through (a missing or empty artist_id / song_id).
-- Empty means zero bytes, not = '': Redshift ignores trailing blanks when comparing VARCHARs, so
-- ' ' = '' there (https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html), while the Python parser, like PostgreSQL, accepts ' '.
CREATE TEMP TABLE checked_songs AS
SELECT s.num_songs,
       s.artist_id,
       s.artist_latitude,
       s.artist_longitude,
       s.artist_location,
       s.artist_name,
       s.song_id,
       s.title,
       s.duration,
       s.year,
       CASE
           WHEN s.artist_id IS NULL OR OCTET_LENGTH(s.artist_id) = 0 THEN 'artist_id is missing'
           WHEN s.song_id IS NULL OR OCTET_LENGTH(s.song_id) = 0 THEN 'song_id is missing'
       END AS reason
FROM staged_songs AS s;

-- name: checked_song_counts
SELECT SUM(CASE WHEN c.reason IS NULL THEN 1 ELSE 0 END) AS accepted,
       SUM(CASE WHEN c.reason IS NULL THEN 0 ELSE 1 END) AS refused
FROM checked_songs AS c;

-- name: insert_staging_songs
-- COPY does not say which file a row came from: source_file is the prefix that was loaded. (The
-- songs transform therefore breaks song_id ties by content, not by file, on both engines.)
INSERT INTO staging_songs (
    num_songs, artist_id, artist_latitude, artist_longitude, artist_location, artist_name,
    song_id, title, duration, year, source_file
)
SELECT c.num_songs,
       c.artist_id,
       c.artist_latitude,
       c.artist_longitude,
       c.artist_location,
       c.artist_name,
       c.song_id,
       c.title,
       c.duration,
       c.year,
       %(source_file)s
FROM checked_songs AS c
WHERE c.reason IS NULL;

-- name: insert_song_quarantine
INSERT INTO load_quarantine (
    source_kind, log_date, source_file, line_number, reason, raw_text, rejected_at, run_id
)
SELECT 'song',
       CAST(NULL AS DATE),
       %(source_file)s,
       CAST(NULL AS INTEGER),
       c.reason,
       'song_id=' || COALESCE(c.song_id, 'null') || ' artist_id=' || COALESCE(c.artist_id, 'null')
           || ' title=' || COALESCE(c.title, 'null'),
       %(rejected_at)s,
       %(run_id)s
FROM checked_songs AS c
WHERE c.reason IS NOT NULL;

-- name: insert_copy_rejections
-- Lines COPY rejected (from the load-error log), kept with Redshift's reason. The engine sends
-- many rows per statement: redshift_warehouse.render_rows repeats the VALUES row below once per
-- rejected line (parameter names suffixed _0, _1, ...), so 10,000 rejections are 20 round trips,
-- not 10,000.
INSERT INTO load_quarantine (
    source_kind, log_date, source_file, line_number, reason, raw_text, rejected_at, run_id
)
VALUES (
    %(source_kind)s, %(log_date)s, %(source_file)s, %(line_number)s, %(reason)s, %(raw_text)s,
    %(rejected_at)s, %(run_id)s
);

-- songplays: one row per NextSong event of the window. song_id / artist_id come from the catalog
-- entry whose title, artist name and duration (within 0.01 s) match the play, the lowest song_id
-- when several do; NULL when none does. Titles and names match exactly: each text equality also
-- compares OCTET_LENGTH, because Redshift ignores trailing blanks when comparing VARCHARs
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html) and would match 'Song ' with 'Song'; OCTET_LENGTH counts them
-- (https://docs.aws.amazon.com/redshift/latest/dg/r_OCTET_LENGTH.html). songplay_id is the MD5 of the event's identity (user,
-- session, item in session, ts), so every engine and every reload gives the same id. The page
-- filter compares OCTET_LENGTH too, so that 'NextSong ' is not a play on Redshift either.
-- Parameters: first_day / end_day (DATE, end exclusive), window_start / window_end (TIMESTAMP).

-- name: delete_window
DELETE FROM songplays
WHERE start_time >= %(window_start)s
  AND start_time < %(window_end)s;

-- name: insert_window
INSERT INTO songplays (
    songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent
)
SELECT MD5(
           COALESCE(CAST(plays.user_id AS VARCHAR(12)), '') || '|'
           || CAST(plays.session_id AS VARCHAR(12)) || '|'
           || CAST(plays.item_in_session AS VARCHAR(12)) || '|'
           || CAST(plays.ts AS VARCHAR(20))
       ),
       plays.start_time,
       plays.user_id,
       plays.level,
       matches.song_id,
       matches.artist_id,
       plays.session_id,
       plays.location,
       TRIM(BOTH '"' FROM plays.user_agent)
FROM staging_events AS plays
LEFT JOIN (
    SELECT candidates.song,
           candidates.song_bytes,
           candidates.artist,
           candidates.artist_bytes,
           candidates.length,
           candidates.song_id,
           candidates.artist_id
    FROM (
        SELECT played.song,
               played.song_bytes,
               played.artist,
               played.artist_bytes,
               played.length,
               s.song_id,
               s.artist_id,
               ROW_NUMBER() OVER (
                   PARTITION BY played.song, played.song_bytes, played.artist,
                                played.artist_bytes, played.length
                   ORDER BY s.song_id
               ) AS match_rank
        FROM (
            SELECT DISTINCT e.song,
                            OCTET_LENGTH(e.song) AS song_bytes,
                            e.artist,
                            OCTET_LENGTH(e.artist) AS artist_bytes,
                            e.length
            FROM staging_events AS e
            WHERE e.page = 'NextSong'
              AND OCTET_LENGTH(e.page) = 8
              AND e.log_date >= %(first_day)s
              AND e.log_date < %(end_day)s
        ) AS played
        JOIN staging_songs AS s
          ON s.title = played.song
         AND OCTET_LENGTH(s.title) = played.song_bytes
         AND s.artist_name = played.artist
         AND OCTET_LENGTH(s.artist_name) = played.artist_bytes
         AND ABS(s.duration - played.length) <= 0.01
    ) AS candidates
    WHERE candidates.match_rank = 1
) AS matches
  ON matches.song = plays.song
 AND matches.song_bytes = OCTET_LENGTH(plays.song)
 AND matches.artist = plays.artist
 AND matches.artist_bytes = OCTET_LENGTH(plays.artist)
 AND matches.length = plays.length
WHERE plays.page = 'NextSong'
  AND OCTET_LENGTH(plays.page) = 8
  AND plays.log_date >= %(first_day)s
  AND plays.log_date < %(end_day)s;

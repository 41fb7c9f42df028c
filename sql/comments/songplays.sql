-- Documentation of songplays, shown by SQL clients and in the Dagster UI's column schema.

-- name: table
COMMENT ON TABLE songplays IS 'Fact table: one row per song play (NextSong event).';

-- name: column_songplay_id
COMMENT ON COLUMN songplays.songplay_id IS 'MD5 of the play''s identity (user, session, item in session, ts): stable across reloads and engines.';

-- name: column_start_time
COMMENT ON COLUMN songplays.start_time IS 'When the play started (UTC).';

-- name: column_user_id
COMMENT ON COLUMN songplays.user_id IS 'Who played it (users.user_id).';

-- name: column_level
COMMENT ON COLUMN songplays.level IS 'The user''s level (free/paid) at the time of the play.';

-- name: column_song_id
COMMENT ON COLUMN songplays.song_id IS 'Catalog song (songs.song_id) matched on title, artist and duration; NULL when the song is not in the catalog.';

-- name: column_artist_id
COMMENT ON COLUMN songplays.artist_id IS 'Catalog artist (artists.artist_id) of the matched song; NULL when unmatched.';

-- name: column_session_id
COMMENT ON COLUMN songplays.session_id IS 'Session of the play.';

-- name: column_location
COMMENT ON COLUMN songplays.location IS 'Where the user was.';

-- name: column_user_agent
COMMENT ON COLUMN songplays.user_agent IS 'The user''s browser, without the surrounding quotes of the raw log.';

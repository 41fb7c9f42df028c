-- Replacing the whole song catalog in staging_songs (both engines).
-- name: delete_all
DELETE FROM staging_songs;

-- name: delete_all_quarantine
DELETE FROM load_quarantine
WHERE source_kind = 'song';


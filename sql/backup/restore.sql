-- Restoring from a backup (both engines): the rows a restore replaces. The other tables' deletes
-- are the loaders' own (staging/, transform/), named in sparkify_assets/warehouse/backup/datasets.py.

-- name: delete_all_users
-- users is restored whole from the snapshot (it is rebuilt from every loaded day, not per day).
DELETE FROM users;

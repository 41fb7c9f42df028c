-- Documentation of users, shown by SQL clients and in the Dagster UI's column schema.

-- name: table
COMMENT ON TABLE users IS 'Dimension: one row per identified user, with their details as of their most recent event.';

-- name: column_user_id
COMMENT ON COLUMN users.user_id IS 'User identifier.';

-- name: column_first_name
COMMENT ON COLUMN users.first_name IS 'First name.';

-- name: column_last_name
COMMENT ON COLUMN users.last_name IS 'Last name.';

-- name: column_gender
COMMENT ON COLUMN users.gender IS 'Gender (M/F).';

-- name: column_level
COMMENT ON COLUMN users.level IS 'Current level: free or paid, from the user''s most recent event.';

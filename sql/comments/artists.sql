-- Documentation of artists, shown by SQL clients and in the Dagster UI's column schema.

-- name: table
COMMENT ON TABLE artists IS 'Dimension: one row per artist of the catalog.';

-- name: column_artist_id
COMMENT ON COLUMN artists.artist_id IS 'Artist identifier.';

-- name: column_name
COMMENT ON COLUMN artists.name IS 'Artist name.';

-- name: column_location
COMMENT ON COLUMN artists.location IS 'Where the artist is from; NULL when unknown.';

-- name: column_latitude
COMMENT ON COLUMN artists.latitude IS 'Latitude of the artist''s location; NULL when unknown.';

-- name: column_longitude
COMMENT ON COLUMN artists.longitude IS 'Longitude of the artist''s location; NULL when unknown.';

"""Source trees (a directory or an S3 prefix): layout, listing, change cursors, freshness."""

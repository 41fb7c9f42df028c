"""Which assets are built together: the song catalog, the log-dated tables, the analytics."""

CATALOG_ASSETS = ("staging_songs", "songs", "artists")  # unpartitioned
LOG_DATE_ASSETS = ("staging_events", "users", "songplays", "time")  # partitioned by log date
TABLE_ASSETS = ("staging_events", "staging_songs", "songplays", "users", "songs", "artists", "time")
ANALYTICS_GROUP = "analytics"

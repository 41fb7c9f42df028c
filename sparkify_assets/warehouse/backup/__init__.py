"""Parquet backups of the warehouse and restores from them, whatever the engine."""

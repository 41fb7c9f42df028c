"""The Sparkify song-play warehouse as Dagster assets (the map: docs/architecture.md)."""

"""The project's Dagster instance: its storage, event log and instance class, what it recorded."""

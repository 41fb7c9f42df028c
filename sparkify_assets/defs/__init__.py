"""Dagster objects only, one concern per module: assets, checks, sensors, automation, jobs."""

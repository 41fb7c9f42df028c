"""The sample data's UTC days in epoch milliseconds."""

from __future__ import annotations

from datetime import UTC, date, datetime

DAY_MS = 86_400_000


def midnight_ms(day: date) -> int:
    """Epoch milliseconds of ``day`` at 00:00 UTC."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000

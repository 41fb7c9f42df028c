"""The span of log dates one materialization covers: a single day or a contiguous range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta


@dataclass(frozen=True)
class LoadWindow:
    """Log dates ``first_day`` (inclusive) to ``end_day`` (exclusive), UTC."""

    first_day: date
    end_day: date

    def __post_init__(self) -> None:
        if not self.first_day < self.end_day:
            raise ValueError(f"empty load window {self.first_day} .. {self.end_day}")

    @classmethod
    def from_time_window(cls, start: datetime, end: datetime) -> LoadWindow:
        """From a Dagster partition time window (midnight UTC to midnight UTC)."""
        return cls(start.date(), end.date())

    @classmethod
    def single_day(cls, day: date) -> LoadWindow:
        return cls(day, day + timedelta(days=1))

    @property
    def is_single_day(self) -> bool:
        return self.end_day - self.first_day == timedelta(days=1)

    @classmethod
    def all_dates(cls) -> LoadWindow:
        """Every possible log date: for counting whole tables."""
        return cls(date(1970, 1, 1), date(9999, 1, 1))

    def days(self) -> list[date]:
        return [
            self.first_day + timedelta(days=n) for n in range((self.end_day - self.first_day).days)
        ]

    @property
    def window_start(self) -> datetime:
        return datetime(self.first_day.year, self.first_day.month, self.first_day.day)

    @property
    def window_end(self) -> datetime:
        return datetime(self.end_day.year, self.end_day.month, self.end_day.day)

    def sql_params(self) -> dict[str, object]:
        """The parameters every windowed statement in sql/ takes."""
        return {
            "first_day": self.first_day,
            "end_day": self.end_day,
            "window_start": self.window_start,
            "window_end": self.window_end,
        }

    def __str__(self) -> str:
        last = self.end_day - timedelta(days=1)
        return (
            self.first_day.isoformat() if last == self.first_day else f"{self.first_day}...{last}"
        )

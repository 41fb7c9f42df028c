"""How far behind the source a log-dated table is (its newest log date against the newest day under
``log_data/``), and what that means for its freshness check (docs/operations.md, "Freshness")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The log-dated tables: one row per event (or play, or play time) with its log date.
LOG_DATED_TABLES = ("staging_events", "songplays", "time")


@dataclass(frozen=True)
class FreshnessLimits:
    """Lag (in days behind the source) beyond which the check warns, then fails; and the optional
    age limit (days before today; 0 = off)."""

    warn_lag_days: int = 1
    error_lag_days: int = 3
    max_age_days: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.warn_lag_days <= self.error_lag_days:
            raise ValueError(
                "freshness limits need 0 <= warn_lag_days <= error_lag_days, got"
                f" {self.warn_lag_days} and {self.error_lag_days}"
            )
        if self.max_age_days < 0:
            raise ValueError("max_age_days is a number of days, 0 to switch the age limit off")


@dataclass(frozen=True)
class Freshness:
    """One table's freshness against the source on one day."""

    table: str
    newest_loaded: date | None
    newest_in_source: date | None
    today: date
    limits: FreshnessLimits

    @property
    def lag_days(self) -> int | None:
        """Days between the newest source day and the newest loaded day (None when either is
        missing)."""
        if self.newest_loaded is None or self.newest_in_source is None:
            return None
        return max(0, (self.newest_in_source - self.newest_loaded).days)

    @property
    def age_days(self) -> int | None:
        return None if self.newest_loaded is None else (self.today - self.newest_loaded).days

    @property
    def verdict(self) -> str:
        """``ok``, ``warn`` or ``error``."""
        if self.newest_in_source is None:
            return "ok"  # nothing to be behind of
        if self.newest_loaded is None:
            return "error"
        lag = self.lag_days or 0
        too_old = self.limits.max_age_days > 0 and (self.age_days or 0) > self.limits.max_age_days
        if lag > self.limits.error_lag_days or too_old:
            return "error"
        if lag > self.limits.warn_lag_days:
            return "warn"
        return "ok"

    @property
    def summary(self) -> str:
        """One line for logs and ``sparkify build``."""
        if self.newest_in_source is None:
            return f"{self.table}: the source has no log file"
        if self.newest_loaded is None:
            return (
                f"{self.table}: nothing loaded; the source's newest day is {self.newest_in_source}"
            )
        text = (
            f"{self.table}: newest log day {self.newest_loaded}, {self.lag_days} day(s) behind"
            f" the source ({self.newest_in_source})"
        )
        if self.limits.max_age_days > 0:
            text += f", {self.age_days} day(s) old (limit {self.limits.max_age_days})"
        return text

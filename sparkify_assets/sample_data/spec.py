"""What the sample-data generator writes: its spec (every field with a default) and its summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class SampleSpec:
    """What to generate. Every field has a default; the same spec always gives the same files.

    ``events_per_day`` is an average: each day's count varies deterministically within +-30%, and
    the counts add up to ``days * events_per_day`` (only tiny specs, where every day needs at least
    one event, can exceed it). ``matched_play_share`` is the share of ``NextSong`` events naming a
    catalog song (title, artist name and length within 0.01 s of its duration).
    """

    seed: int = 42
    start: date = date(2018, 11, 1)
    days: int = 30
    events_per_day: int = 300
    users: int = 100
    catalog_songs: int = 400
    matched_play_share: float = 0.3

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError(f"days must be at least 1, not {self.days}")
        if self.events_per_day < 1:
            raise ValueError(f"events_per_day must be at least 1, not {self.events_per_day}")
        if self.users < 1:
            raise ValueError(f"users must be at least 1, not {self.users}")
        if self.catalog_songs < 4:
            raise ValueError(f"catalog_songs must be at least 4, not {self.catalog_songs}")
        if not 0.0 <= self.matched_play_share <= 1.0:
            raise ValueError(
                f"matched_play_share must be between 0 and 1, not {self.matched_play_share}"
            )


@dataclass(frozen=True)
class SampleSummary:
    """What ``write_sample_source`` wrote."""

    root: Path
    log_files: int
    events: int
    song_files: int
    log_dates: tuple[date, ...]


DEFAULT_SPEC = SampleSpec()

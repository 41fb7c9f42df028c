"""What each play names: a catalog song (exactly, or 0.004 s off), a near-miss, or a song the
catalog does not hold."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from sparkify_assets.sample_data.catalog import Song, song_duration
from sparkify_assets.sample_data.free_text import artist_name, song_title
from sparkify_assets.sample_data.spec import SampleSpec

_TOLERANCE_SHARE = 0.03  # of matched plays: length 0.004 s off the duration (still a match)
_NEAR_MISS_SHARE = 0.012  # of all plays: length 0.5 s off (not a match)

Play = tuple[str, str, float]  # (song title, artist name, length in seconds)


class PlayPicker:
    """Chooses the (title, artist, length) of each play: matched, near-miss or unknown songs."""

    def __init__(self, rng: random.Random, catalog: Sequence[Song], spec: SampleSpec) -> None:
        self._rng = rng
        self._share = spec.matched_play_share
        self._near_miss_limit = min(1.0, spec.matched_play_share + _NEAR_MISS_SHARE)
        durations: dict[tuple[str, str], list[float]] = {}
        for song in catalog:
            durations.setdefault((song.title, song.artist.name), []).append(song.duration)

        playable: list[Play] = []
        seen: set[Play] = set()
        for song in catalog:
            play = (song.title, song.artist.name, song.duration)
            if song.playable and play not in seen:
                seen.add(play)
                playable.append(play)
        rng.shuffle(playable)
        self._matched = playable
        self._matched_weights = list(
            accumulate(1.0 / (rank + 1) ** 0.7 for rank in range(len(playable)))
        )

        def unmatched(title: str, artist: str, length: float) -> bool:
            return all(abs(d - length) > 0.01 for d in durations.get((title, artist), ()))

        self._near_misses: list[Play] = []
        self._tolerated: list[Play] = []
        for title, artist, duration in playable[:200]:
            offset = 0.5 if rng.random() < 0.5 else -0.5
            for length in (round(duration + offset, 5), round(duration - offset, 5)):
                if unmatched(title, artist, length):
                    self._near_misses.append((title, artist, length))
                    break
            off = 0.004 if rng.random() < 0.5 else -0.004
            self._tolerated.append((title, artist, round(duration + off, 5)))

        artist_names = sorted({song.artist.name for song in catalog})
        unknown: list[Play] = []
        size = min(20_000, max(100, 2 * len(catalog)))
        while len(unknown) < size:
            title = song_title(rng)
            # Often a known artist with a song the catalog lacks.
            artist = rng.choice(artist_names) if rng.random() < 0.4 else artist_name(rng)
            if (title, artist) not in durations:
                unknown.append((title, artist, song_duration(rng, 60.0, 480.0)))
        self._unknown = unknown
        self._unknown_weights = list(
            accumulate(1.0 / (rank + 1) ** 0.7 for rank in range(len(unknown)))
        )

        # The first plays of the data set: the duplicated catalog entry, a play 0.004 s off (a
        # match) and a near-miss, so that even a small data set holds each case.
        dup_counts: dict[Play, int] = {}
        for song in catalog:
            key = (song.title, song.artist.name, song.duration)
            dup_counts[key] = dup_counts.get(key, 0) + 1
        duplicated = [play for play in playable if dup_counts[play] > 1]
        forced: list[Play] = []
        if self._share > 0:
            forced += duplicated[:1] + self._tolerated[:1]
        if self._share < 1 and self._near_misses:
            forced += self._near_misses[:1]
        self._forced = forced[::-1]  # popped from the end

    def pick(self) -> Play:
        if self._forced:
            return self._forced.pop()
        rng = self._rng
        draw = rng.random()
        if draw < self._share:
            if rng.random() < _TOLERANCE_SHARE:
                return self._tolerated[int(rng.random() * len(self._tolerated))]
            weights = self._matched_weights
            return self._matched[bisect_right(weights, rng.random() * weights[-1])]
        if draw < self._near_miss_limit and self._near_misses:
            return self._near_misses[int(rng.random() * len(self._near_misses))]
        weights = self._unknown_weights
        return self._unknown[bisect_right(weights, rng.random() * weights[-1])]

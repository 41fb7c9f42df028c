"""The song catalog: artists and songs with the real catalog's quirks, and one JSON file per
song."""

from __future__ import annotations

import json
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from sparkify_assets.sample_data.free_text import artist_name, song_title
from sparkify_assets.sample_data.spec import SampleSpec

_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NEVER_PLAYED_SHARE = 0.2  # of catalog songs

_COUNTRIES = (
    ("Reykjavík, Iceland", 64.14, -21.94),
    ("Hamilton, Ohio", 39.39967, -84.56134),
    ("London, England", 51.50632, -0.12714),
    ("Brooklyn, NY", 40.65507, -73.94888),
    ("Montréal, Québec, Canada", 45.51228, -73.55439),
    ("Detroit, MI", 42.33168, -83.04792),
    ("São Paulo, Brazil", -23.5475, -46.63611),
    ("Austin, TX", 30.26759, -97.74299),
    ("Kingston, Jamaica", 18.01697, -76.79579),
    ("Berlin, Germany", 52.51607, 13.37698),
    ("Memphis, TN", 35.14968, -90.04892),
    ("Dublin, Ireland", 53.34376, -6.24953),
)


@dataclass(frozen=True)
class Artist:
    artist_id: str
    name: str
    location: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class Song:
    track_id: str
    song_id: str
    title: str
    artist: Artist
    duration: float
    year: int
    playable: bool  # False: no play ever names this song

    def record(self) -> dict[str, object]:
        """The song file's object, keys in the order of the real files."""
        return {
            "num_songs": 1,
            "artist_id": self.artist.artist_id,
            "artist_latitude": self.artist.latitude,
            "artist_longitude": self.artist.longitude,
            "artist_location": self.artist.location,
            "artist_name": self.artist.name,
            "song_id": self.song_id,
            "title": self.title,
            "duration": self.duration,
            "year": self.year,
        }


class UniqueIds:
    """Random identifiers (a prefix and 16 characters), never the same one twice."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: set[str] = set()

    def make(self, prefix: str) -> str:
        while True:
            value = prefix + "".join(self._rng.choices(_ID_CHARS, k=16))
            if value not in self._seen:
                self._seen.add(value)
                return value

    def track(self) -> str:
        """``TR`` + 16 characters whose first three are letters (the song_data/X/Y/Z folders)."""
        while True:
            head = "A" + self._rng.choice("ABC") + self._rng.choice(_LETTERS)
            value = "TR" + head + "".join(self._rng.choices(_ID_CHARS, k=13))
            if value not in self._seen:
                self._seen.add(value)
                return value


def song_duration(rng: random.Random, low: float = 30.0, high: float = 600.0) -> float:
    """Seconds with exactly 5 decimals (the last one not 0)."""
    units = int(rng.uniform(low, high) * 10_000) * 10 + rng.randint(1, 9)
    return units / 100_000


def _artist(rng: random.Random, ids: UniqueIds, names: set[str]) -> Artist:
    name = artist_name(rng)
    suffix = 2
    base = name
    while name in names:
        name = f"{base} {suffix}"
        suffix += 1
    names.add(name)
    if rng.random() < 0.45:
        location, latitude, longitude = rng.choice(_COUNTRIES)
        if rng.random() < 0.3:
            return Artist(ids.make("AR"), name, location, None, None)
        return Artist(ids.make("AR"), name, location, latitude, longitude)
    return Artist(ids.make("AR"), name, "", None, None)


def build_catalog(rng: random.Random, spec: SampleSpec) -> list[Song]:
    """The catalog, in a deterministic order (what it holds: docs/architecture.md)."""
    ids = UniqueIds(rng)
    names: set[str] = set()
    count = spec.catalog_songs
    duplicates = max(1, count // 200)
    base_count = count - duplicates
    artist_count = max(2, min(base_count - 2, round(base_count / 2.6)))
    artists = [_artist(rng, ids, names) for _ in range(artist_count)]
    # Artist 0 disagrees with itself: its first song file knows nothing about where it is from,
    # its second has a location and coordinates, a third (if any) a location only.
    location, latitude, longitude = rng.choice(_COUNTRIES)
    disputed = artists[0]
    variants = [
        Artist(disputed.artist_id, disputed.name, "", None, None),
        Artist(disputed.artist_id, disputed.name, location, latitude, longitude),
        Artist(disputed.artist_id, disputed.name, location, None, None),
    ]
    # Every artist has a song; artist 0 has up to three; the rest go to artists by popularity.
    owners = list(range(artist_count)) + [0] * min(2, base_count - artist_count)
    weights = list(accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(artist_count)))
    while len(owners) < base_count:
        owners.append(bisect_right(weights, rng.random() * weights[-1]))

    songs: list[Song] = []
    by_artist: dict[int, list[Song]] = {}
    for owner in owners:
        artist = artists[owner]
        if owner == 0:
            artist = variants[len(by_artist.get(0, ())) % len(variants)]
        earlier = by_artist.setdefault(owner, [])
        position = len(earlier)
        # Now and then another version of one of the artist's songs: same title, other duration
        # (at least 1 s apart, so no play can match both).
        title = rng.choice(earlier).title if earlier and rng.random() < 0.03 else song_title(rng)
        taken = [song.duration for song in earlier if song.title == title]
        duration = song_duration(rng)
        while any(abs(duration - other) < 1.0 for other in taken):
            duration = song_duration(rng)
        year = 0 if rng.random() < 0.35 else rng.randint(1958, 2018)
        song = Song(ids.track(), ids.make("SO"), title, artist, duration, year, playable=True)
        songs.append(song)
        earlier.append(song)
        if owner != 0 and position == 1 and rng.random() < 0.05:
            # An artist whose song files disagree at random: this file knows nothing about it.
            blank = Artist(artist.artist_id, artist.name, "", None, None)
            songs[-1] = Song(
                song.track_id, song.song_id, title, blank, song.duration, year, playable=True
            )
    # Entries the catalog holds twice under different song_ids (same title, artist and duration):
    # a play matching them must take the lowest song_id.
    originals = songs[artist_count:] if len(songs) - artist_count >= duplicates else songs
    for original in rng.sample(originals, duplicates):
        year = original.year if rng.random() < 0.5 else 0
        songs.append(
            Song(
                ids.track(),
                ids.make("SO"),
                original.title,
                original.artist,
                original.duration,
                year,
                playable=True,
            )
        )
    # Songs nobody plays (never one with a duplicate: the duplicates exist to be matched).
    duplicated = {(s.title, s.artist.name, s.duration) for s in songs[base_count:]}
    candidates = [
        index
        for index, s in enumerate(songs[:base_count])
        if (s.title, s.artist.name, s.duration) not in duplicated
    ]
    never = rng.sample(candidates, max(1, int(len(candidates) * _NEVER_PLAYED_SHARE)))
    for index in never:
        s = songs[index]
        songs[index] = Song(
            s.track_id, s.song_id, s.title, s.artist, s.duration, s.year, playable=False
        )
    return songs


def write_song_files(root: Path, catalog: Sequence[Song]) -> int:
    """One file per song, formatted like the real ones (spaces after separators, raw UTF-8)."""
    made: set[Path] = set()
    for song in catalog:
        folder = root / "song_data" / song.track_id[2] / song.track_id[3] / song.track_id[4]
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        text = json.dumps(song.record(), ensure_ascii=False)
        (folder / f"{song.track_id}.json").write_bytes(text.encode("utf-8"))
    return len(catalog)

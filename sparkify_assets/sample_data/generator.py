"""Deterministic sample data in the exact layout and format of the Sparkify source tree.

``write_sample_source(root, spec)`` writes::

    <root>/song_data/<A-Z>/<A-Z>/<A-Z>/TR<16 chars>.json   one song object per file
    <root>/log_data/YYYY/MM/YYYY-MM-DD-events.json         one UTC day of events, JSON Lines, by ts
    <root>/log_json_path.json                              the Redshift JSONPaths file of the events

The same spec gives byte-identical files: every random choice comes from ``random.Random`` streams
seeded from ``spec.seed``, never from the clock or from set order. Events are written one day at a
time, so memory depends on the events of one day and on the catalog, not on the number of days.

Every quirk of the real data (see the README, "Source data") is present at the default size:
anonymous events (``Logged Out`` or ``Guest``, ``userId`` ``""``, identity fields null) on pages
other than ``NextSong``; artist, song and length null except on ``NextSong``; ``\\/`` in the raw
text; a ``userAgent`` wrapped in literal double quotes; raw UTF-8 titles and artist names with
quotes, ``&`` and ``feat.``; ``registration`` as a float of epoch milliseconds; levels that change
through ``Submit Upgrade``/``Submit Downgrade``; events of one user sharing a ``ts`` (a redirect,
status 307, and the page it leads to); a user cancelling (``auth`` ``Cancelled``, back a few weeks
later). The catalog holds several songs per artist, an artist whose song files disagree about its
location, two entries with the same title, artist name and duration but different ``song_id``,
versions of a song differing only in duration, and songs nobody plays. A share of the plays names
a catalog song exactly (some with a length 0.004 s off, which still matches); a few are
near-misses (0.5 s off); the rest name songs the catalog does not hold.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import BinaryIO

import orjson

from sparkify_assets.records.events import EVENT_FIELDS  # the layout's 18 fields, in order

_DAY_MS = 86_400_000
_CHUNK_BYTES = 1 << 20
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Pages: (method, status). A 307 is a redirect: the next event of the session shares its ts.
_PAGE_HTTP: dict[str, tuple[str, int]] = {
    "NextSong": ("PUT", 200),
    "Home": ("GET", 200),
    "Login": ("PUT", 307),
    "Logout": ("PUT", 307),
    "Settings": ("GET", 200),
    "Save Settings": ("PUT", 307),
    "Upgrade": ("GET", 200),
    "Submit Upgrade": ("PUT", 307),
    "Downgrade": ("GET", 200),
    "Submit Downgrade": ("PUT", 307),
    "Help": ("GET", 200),
    "About": ("GET", 200),
    "Error": ("GET", 404),
    "Cancel": ("PUT", 307),
    "Cancellation Confirmation": ("GET", 200),
}

_LOGGED_IN = "Logged In"
_LOGGED_OUT = "Logged Out"
_GUEST = "Guest"
_CANCELLED = "Cancelled"
_ANONYMOUS = (_LOGGED_OUT, _GUEST)

# What a logged-in user does next, besides playing a song (weights per step of a session).
_ACTIONS: tuple[tuple[str, float], ...] = (
    ("Home", 0.050),
    ("Settings", 0.020),
    ("Help", 0.012),
    ("About", 0.008),
    ("Error", 0.004),
    ("Upgrade", 0.016),  # the Downgrade page for a paid user
    ("Logout", 0.015),
    ("Cancel", 0.0005),
)
_ACTION_NAMES = tuple(name for name, _ in _ACTIONS)
_ACTION_CUMULATIVE = tuple(accumulate(weight for _, weight in _ACTIONS))
_SUBMIT_UPGRADE_SHARE = 0.3
_SUBMIT_DOWNGRADE_SHARE = 0.2
_SAVE_SETTINGS_SHARE = 0.5
_LOGIN_AGAIN_SHARE = 0.7
_GUEST_SESSION_SHARE = 0.03
_MEAN_SESSION_EVENTS = 18.0
_MAX_SESSION_EVENTS = 150
_TOLERANCE_SHARE = 0.03  # of matched plays: length 0.004 s off the duration (still a match)
_NEAR_MISS_SHARE = 0.012  # of all plays: length 0.5 s off (not a match)
_NEVER_PLAYED_SHARE = 0.2  # of catalog songs

# A first session (day one, first user) visiting every page, so small specs hold every quirk.
_TOUR: tuple[tuple[str, str], ...] = (
    ("Home", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("Settings", _LOGGED_IN),
    ("Save Settings", _LOGGED_IN),
    ("Home", _LOGGED_IN),
    ("Help", _LOGGED_IN),
    ("About", _LOGGED_IN),
    ("Error", _LOGGED_IN),
    ("Upgrade", _LOGGED_IN),
    ("Submit Upgrade", _LOGGED_IN),
    ("Home", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("Downgrade", _LOGGED_IN),
    ("Submit Downgrade", _LOGGED_IN),
    ("Home", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
    ("Logout", _LOGGED_IN),
    ("Home", _LOGGED_OUT),
    ("Login", _LOGGED_OUT),
    ("Home", _LOGGED_IN),
    ("NextSong", _LOGGED_IN),
)

_FIRST_NAMES = (
    "Lily", "Jacob", "Chloé", "Ava", "Mohammad", "Kaylee", "Aiden", "Zoë", "Jayden", "Sofía",
    "Ryan", "Layla", "Noah", "Søren", "Isabella", "Tegan", "Matthew", "José", "Amélie", "Ethan",
    "Jordan", "Maia", "Lucas", "Anaïs", "Theo", "Ingrid", "Kai", "Renée", "Elijah", "Mila",
)  # fmt: skip
_LAST_NAMES = (
    "Koch", "Hicks", "Levine", "Garrison", "Rodriguez", "O'Brien", "Nguyen", "García", "Müller",
    "Cuevas", "Lynch", "Kowalski", "Patel", "Tremblay", "Lindqvist", "Henderson", "Moreau", "Silva",
    "Okafor", "Brennan", "Ishikawa", "Novák", "Fischer", "Dubois", "Reyes", "Castro", "Stone",
)  # fmt: skip
_LOCATIONS = (
    "San Jose-Sunnyvale-Santa Clara, CA", "New York-Newark-Jersey City, NY-NJ-PA",
    "Chicago-Naperville-Elgin, IL-IN-WI", "Atlanta-Sandy Springs-Roswell, GA",
    "Portland-South Portland, ME", "Lansing-East Lansing, MI",
    "Tampa-St. Petersburg-Clearwater, FL",
    "Winston-Salem, NC", "Houston-The Woodlands-Sugar Land, TX", "Red Bluff, CA",
    "Seattle-Tacoma-Bellevue, WA", "Janesville-Beloit, WI", "Birmingham-Hoover, AL",
    "Philadelphia-Camden-Wilmington, PA-NJ-DE-MD", "Salinas, CA", "Santa Maria-Santa Barbara, CA",
)  # fmt: skip
_USER_AGENTS = (
    '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) '
    'Chrome/36.0.1985.143 Safari/537.36"',
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) '
    'Chrome/36.0.1985.125 Safari/537.36"',
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.77.4 (KHTML, like Gecko) '
    'Version/7.0.5 Safari/537.77.4"',
    '"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 '
    '(KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53"',
    '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) '
    'Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36"',
    '"Mozilla/5.0 (Windows NT 6.3; WOW64; Trident/7.0; rv:11.0) like Gecko"',
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0",
)
_ADJECTIVES = (
    "Midnight", "Velvet", "Neon", "Crimson", "Silver", "Paper", "Glass", "Wild", "Lunar", "Static",
    "Golden", "Hollow", "Electric", "Quiet", "Broken", "Northern", "Sleepy", "Burning", "Blue",
    "Lonely", "Distant", "Sweet", "Frozen", "Restless", "Little", "Analog", "Secret", "Copper",
)  # fmt: skip
_NOUNS = (
    "Foxes", "Parade", "Orchestra", "Collective", "Riders", "Lights", "Machines", "Sisters",
    "Kings", "Ghosts", "Harbor", "Echoes", "Rivers", "Satellites", "Wolves", "Gardens", "Engines",
    "Tides",
    "Strangers", "Mirrors", "Horses", "Circus", "Pilots", "Comets", "Choir", "Avenue", "Brothers",
)  # fmt: skip
_FOREIGN_ARTISTS = (
    "Björn Åström", "Los Niños del Sol", "Sigrún Þórsdóttir", "Jean-Loup Bérénice", "Ærø Trio",
    "Mötörväg", "Kōji Tanaka", "Дмитрий Волков", "東京 Lights", "Ça Va Quartet", "Zoë Marchand",
    "Żaneta & Łukasz", "Niña Peña", "Øystein Brødrene", "Renée Fleur", "Façade Ensemble",
)  # fmt: skip
_TITLE_WORDS = (
    "Heart", "Summer", "Train", "Window", "Fire", "Dancing", "Rain", "Highway", "Morning",
    "Shadow", "Letter", "Ocean", "Promise", "Dream", "City", "Stars", "Road", "Song", "Night",
    "Home", "Mountain", "Angel", "Thunder", "Memory", "Garden", "River", "Love", "Time", "Island",
)  # fmt: skip
_FOREIGN_TITLES = (
    "Corazón", "Déjà Vu", "Mañana", "Über den Wolken", "Smörgåsbord", "Crème Brûlée", "Fête",
    "Sommarnätter", "Łódź Nights", "Ça Plane", "Ödland", "Niño Perdido", "Café Olé", "Åsgårdsreien",
    "夜の海", "Песня", "Naïve Mélodie", "São Paulo", "Göttingen Blues", "Résumé",
)  # fmt: skip
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
_VERSIONS = (" (Live)", " (Album Version)", " (Remastered)", " (Acoustic)", " (Radio Edit)")

Play = tuple[str, str, float]  # (song title, artist name, length in seconds)


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


def write_sample_source(root: Path, spec: SampleSpec = DEFAULT_SPEC) -> SampleSummary:
    """Writes a source tree for ``spec`` under ``root`` and returns what it wrote.

    ``root`` may exist but must not hold ``song_data`` or ``log_data`` yet (files of an earlier,
    different spec would otherwise mix with the new ones): FileExistsError if it does. Raises
    ValueError if a day cannot hold its events (more than tens of thousands per user and day).
    """
    root = Path(root)
    for part in ("song_data", "log_data"):
        if (root / part).exists():
            raise FileExistsError(f"{root / part} already exists; write into a new directory")
    root.mkdir(parents=True, exist_ok=True)
    (root / "log_json_path.json").write_text(
        json.dumps({"jsonpaths": [f"$['{name}']" for name in EVENT_FIELDS]}, indent=4) + "\n",
        encoding="utf-8",
    )
    catalog = _build_catalog(random.Random(f"sparkify-sample/{spec.seed}/catalog"), spec)
    song_files = _write_song_files(root, catalog)
    plays = _PlayPicker(random.Random(f"sparkify-sample/{spec.seed}/plays"), catalog, spec)
    users = _build_users(random.Random(f"sparkify-sample/{spec.seed}/users"), spec)
    events = _EventWriter(random.Random(f"sparkify-sample/{spec.seed}/events"), spec, users, plays)
    total = 0
    dates = []
    for index, count in enumerate(events.day_counts()):
        day = spec.start + timedelta(days=index)
        path = root / "log_data" / f"{day:%Y}" / f"{day:%m}" / f"{day:%Y-%m-%d}-events.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as stream:
            events.write_day(index, day, count, stream)
        total += count
        dates.append(day)
    return SampleSummary(
        root=root, log_files=len(dates), events=total, song_files=song_files, log_dates=tuple(dates)
    )


# ---------------------------------------------------------------------------------------------
# The song catalog


@dataclass(frozen=True)
class _Artist:
    artist_id: str
    name: str
    location: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class _Song:
    track_id: str
    song_id: str
    title: str
    artist: _Artist
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


class _UniqueIds:
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


def _duration(rng: random.Random, low: float = 30.0, high: float = 600.0) -> float:
    """Seconds with exactly 5 decimals (the last one not 0)."""
    units = int(rng.uniform(low, high) * 10_000) * 10 + rng.randint(1, 9)
    return units / 100_000


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _artist_name(rng: random.Random) -> str:
    """Free text like the real names: unicode, quotes, ``&``, ``feat.``."""
    form = rng.random()
    if form < 0.22:
        return f"The {rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if form < 0.42:
        return _person(rng)
    if form < 0.54:
        return f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if form < 0.64:
        return f"{_person(rng)} & The {rng.choice(_NOUNS)}"
    if form < 0.72:
        return f"{_person(rng)} feat. {_person(rng)}"
    if form < 0.78:
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        return f'{first} "{rng.choice(_ADJECTIVES)}" {last}'
    if form < 0.84:
        return f"DJ {rng.choice(_ADJECTIVES)}"
    return rng.choice(_FOREIGN_ARTISTS) + ("" if rng.random() < 0.5 else f" {rng.choice(_NOUNS)}")


def _title(rng: random.Random) -> str:
    """Free text like the real titles: unicode, quotes, ``&``, ``feat.``, slashes."""
    word, other = rng.choice(_TITLE_WORDS), rng.choice(_TITLE_WORDS)
    form = rng.random()
    if form < 0.25:
        return f"{rng.choice(_ADJECTIVES)} {word}"
    if form < 0.40:
        return f"The {word} {other}"
    if form < 0.48:
        return f"{word} (feat. {_person(rng)})"
    if form < 0.54:
        return f'"{word}"'
    if form < 0.60:
        return f"{word} & {other}"
    if form < 0.65:
        return f"{word} / {other}"
    if form < 0.72:
        return f"{word}{rng.choice(_VERSIONS)}"
    if form < 0.84:
        return rng.choice(_FOREIGN_TITLES) + ("" if rng.random() < 0.4 else f" {word}")
    return f"{word} Of {rng.choice(_ADJECTIVES)} {other}s"


def _artist(rng: random.Random, ids: _UniqueIds, names: set[str]) -> _Artist:
    name = _artist_name(rng)
    suffix = 2
    base = name
    while name in names:
        name = f"{base} {suffix}"
        suffix += 1
    names.add(name)
    if rng.random() < 0.45:
        location, latitude, longitude = rng.choice(_COUNTRIES)
        if rng.random() < 0.3:
            return _Artist(ids.make("AR"), name, location, None, None)
        return _Artist(ids.make("AR"), name, location, latitude, longitude)
    return _Artist(ids.make("AR"), name, "", None, None)


def _build_catalog(rng: random.Random, spec: SampleSpec) -> list[_Song]:
    """The catalog, in a deterministic order; see the module docstring for what it holds."""
    ids = _UniqueIds(rng)
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
        _Artist(disputed.artist_id, disputed.name, "", None, None),
        _Artist(disputed.artist_id, disputed.name, location, latitude, longitude),
        _Artist(disputed.artist_id, disputed.name, location, None, None),
    ]
    # Every artist has a song; artist 0 has up to three; the rest go to artists by popularity.
    owners = list(range(artist_count)) + [0] * min(2, base_count - artist_count)
    weights = list(accumulate(1.0 / (rank + 1) ** 0.8 for rank in range(artist_count)))
    while len(owners) < base_count:
        owners.append(bisect_right(weights, rng.random() * weights[-1]))

    songs: list[_Song] = []
    by_artist: dict[int, list[_Song]] = {}
    for owner in owners:
        artist = artists[owner]
        if owner == 0:
            artist = variants[len(by_artist.get(0, ())) % len(variants)]
        earlier = by_artist.setdefault(owner, [])
        position = len(earlier)
        # Now and then another version of one of the artist's songs: same title, other duration
        # (at least 1 s apart, so no play can match both).
        title = rng.choice(earlier).title if earlier and rng.random() < 0.03 else _title(rng)
        taken = [song.duration for song in earlier if song.title == title]
        duration = _duration(rng)
        while any(abs(duration - other) < 1.0 for other in taken):
            duration = _duration(rng)
        year = 0 if rng.random() < 0.35 else rng.randint(1958, 2018)
        song = _Song(ids.track(), ids.make("SO"), title, artist, duration, year, playable=True)
        songs.append(song)
        earlier.append(song)
        if owner != 0 and position == 1 and rng.random() < 0.05:
            # An artist whose song files disagree at random: this file knows nothing about it.
            blank = _Artist(artist.artist_id, artist.name, "", None, None)
            songs[-1] = _Song(
                song.track_id, song.song_id, title, blank, song.duration, year, playable=True
            )
    # Entries the catalog holds twice under different song_ids (same title, artist and duration):
    # a play matching them must take the lowest song_id.
    originals = songs[artist_count:] if len(songs) - artist_count >= duplicates else songs
    for original in rng.sample(originals, duplicates):
        year = original.year if rng.random() < 0.5 else 0
        songs.append(
            _Song(
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
        songs[index] = _Song(
            s.track_id, s.song_id, s.title, s.artist, s.duration, s.year, playable=False
        )
    return songs


def _write_song_files(root: Path, catalog: Sequence[_Song]) -> int:
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


# ---------------------------------------------------------------------------------------------
# What the plays name


class _PlayPicker:
    """Chooses the (title, artist, length) of each play: matched, near-miss or unknown songs."""

    def __init__(self, rng: random.Random, catalog: Sequence[_Song], spec: SampleSpec) -> None:
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
            title = _title(rng)
            # Often a known artist with a song the catalog lacks.
            artist = rng.choice(artist_names) if rng.random() < 0.4 else _artist_name(rng)
            if (title, artist) not in durations:
                unknown.append((title, artist, _duration(rng, 60.0, 480.0)))
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


# ---------------------------------------------------------------------------------------------
# Users, sessions and events


@dataclass(slots=True)
class _User:
    user_id: str
    # firstName, gender, lastName, location, registration, userAgent
    identity: tuple[str, str, str, str, float, str]
    level: str
    weight: float
    back_on_day: int = 0  # after a cancellation: the first day the user is active again


def _escape_slashes(text: bytearray) -> bytearray:
    """Every ``/`` as ``\\/``, like the real files (JSON still: "/" occurs only inside strings)."""
    return text.replace(b"/", b"\\/")


def _midnight_ms(day: date) -> int:
    """Epoch milliseconds of ``day`` at 00:00 UTC."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def _build_users(rng: random.Random, spec: SampleSpec) -> list[_User]:
    start_ms = _midnight_ms(spec.start)
    numbers = sorted(rng.sample(range(2, 10 * spec.users + 10), spec.users))
    ranks = list(range(spec.users))
    rng.shuffle(ranks)
    users = []
    for index, number in enumerate(numbers):
        registered = start_ms - rng.randint(3_600_000, 240 * _DAY_MS)
        identity = (
            rng.choice(_FIRST_NAMES),
            "F" if rng.random() < 0.5 else "M",
            rng.choice(_LAST_NAMES),
            rng.choice(_LOCATIONS),
            float(registered),
            rng.choice(_USER_AGENTS),
        )
        # The first user starts free (the tour session upgrades, then downgrades, them).
        level = "free" if index == 0 or rng.random() < 0.7 else "paid"
        users.append(_User(str(number), identity, level, 1.0 / (ranks[index] + 1) ** 0.7))
    return users


# A planned event: (page, auth, level, play or None, ms since the session's previous event).
_Planned = tuple[str, str, str, Play | None, int]


@dataclass(slots=True)
class _Session:
    user: _User | None  # None: a guest
    events: list[_Planned] = field(default_factory=list)
    start: int = 0  # ms after midnight
    order: int = 0  # position in the day's plan, breaks ties of start

    def span(self) -> int:
        return sum(event[4] for event in self.events)


class _EventWriter:
    """Plans each day's sessions and renders them as that day's JSON Lines file."""

    def __init__(
        self, rng: random.Random, spec: SampleSpec, users: list[_User], plays: _PlayPicker
    ) -> None:
        self._rng = rng
        self._spec = spec
        self._users = users
        self._plays = plays
        self._next_session_id = 1

    def day_counts(self) -> list[int]:
        """Events per day: +-30% around the average, adding up to days * events_per_day."""
        days, average = self._spec.days, self._spec.events_per_day
        swings = [self._rng.uniform(-0.3, 0.3) for _ in range(days)]
        mean = sum(swings) / days
        swings = [swing - mean for swing in swings]
        peak = max(abs(swing) for swing in swings)
        if peak > 0.3:
            swings = [swing * 0.3 / peak for swing in swings]
        counts = []
        target = 0.0
        written = 0
        for swing in swings:
            target += average * (1.0 + swing)
            now = round(target)
            counts.append(max(1, now - written))
            written = max(now, written + 1)
        return counts

    def write_day(self, index: int, day: date, count: int, stream: BinaryIO) -> None:
        """Writes ``day``'s log file to ``stream``: ``count`` events, one per line, sorted by ts
        (then session and item in session)."""
        sessions = self._plan_day(index, count)
        self._place(sessions)
        sessions.sort(key=lambda s: (s.start, s.order))
        first_id = self._next_session_id
        self._next_session_id += len(sessions)
        midnight = _midnight_ms(day)
        order: list[tuple[int, int, int]] = []
        for session_id, session in enumerate(sessions, start=first_id):
            ts = midnight + session.start
            for item, event in enumerate(session.events):
                ts += event[4]
                order.append((ts, session_id, item))
        order.sort()

        anonymous = (None, None, None, None, None, None)
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        http = _PAGE_HTTP
        # orjson's bytes keep a large buffer each: copy every line into one chunk at once.
        chunk = bytearray()
        for ts, session_id, item in order:
            session = sessions[session_id - first_id]
            page, auth, level, play, _ = session.events[item]
            user = session.user
            if user is None or auth in _ANONYMOUS:
                first, gender, last, location, registration, agent = anonymous
                user_id = ""
            else:
                first, gender, last, location, registration, agent = user.identity
                user_id = user.user_id
            method, status = http[page]
            title, artist, length = (None, None, None) if play is None else play
            chunk += dumps(
                {
                    "artist": artist,
                    "auth": auth,
                    "firstName": first,
                    "gender": gender,
                    "itemInSession": item,
                    "lastName": last,
                    "length": length,
                    "level": level,
                    "location": location,
                    "method": method,
                    "page": page,
                    "registration": registration,
                    "sessionId": session_id,
                    "song": title,
                    "status": status,
                    "ts": ts,
                    "userAgent": agent,
                    "userId": user_id,
                },
                option=newline,
            )
            if len(chunk) >= _CHUNK_BYTES:
                stream.write(_escape_slashes(chunk))
                chunk.clear()
        stream.write(_escape_slashes(chunk))

    # -- planning -------------------------------------------------------------------------------

    def _plan_day(self, index: int, count: int) -> list[_Session]:
        rng = self._rng
        users = self._users
        active = [user for user in users if user.back_on_day <= index]
        cumulative = list(accumulate(user.weight for user in active))
        sessions: list[_Session] = []
        remaining = count
        if index == 0 and count >= 3 * len(_TOUR) and users[0] in active:
            tour = self._user_session(users[0], len(_TOUR), index, script=_TOUR)
            guest = self._guest_session(3)
            sessions += [tour, guest]
            remaining -= len(tour.events) + len(guest.events)
        while remaining > 0:
            if rng.random() < _GUEST_SESSION_SHARE or not active:
                session = self._guest_session(min(remaining, 1 + int(rng.random() * 4)))
            else:
                user = active[bisect_right(cumulative, rng.random() * cumulative[-1])]
                wanted = 1 + int(rng.expovariate(1.0 / _MEAN_SESSION_EVENTS))
                length = min(remaining, wanted, _MAX_SESSION_EVENTS)
                may_cancel = len(users) >= 3 and 2 * len(active) > len(users) + 2
                session = self._user_session(user, length, index, may_cancel=may_cancel)
                if user.back_on_day > index:  # cancelled: no more sessions for now
                    active.remove(user)
                    cumulative = list(accumulate(u.weight for u in active))
            sessions.append(session)
            remaining -= len(session.events)
        for order, session in enumerate(sessions):
            session.order = order
        return sessions

    def _next_gap(self, page: str, play: Play | None) -> int:
        """Milliseconds until the session's next event."""
        if _PAGE_HTTP[page][1] == 307:
            return 0  # a redirect: the page it leads to has the same ts
        rng = self._rng
        if play is not None:
            listened = play[2] if rng.random() < 0.8 else play[2] * (0.1 + 0.8 * rng.random())
            return int(listened * 1000) + int(rng.random() * 2000) + 1
        return 1000 + int(rng.random() * 40_000)

    def _guest_session(self, length: int) -> _Session:
        rng = self._rng
        session = _Session(None)
        gap = 0
        for position in range(length):
            page = "Home" if position == 0 else rng.choice(("Home", "About", "Help", "Error"))
            session.events.append((page, _GUEST, "free", None, gap))
            gap = self._next_gap(page, None)
        return session

    def _user_session(
        self,
        user: _User,
        length: int,
        day_index: int,
        *,
        may_cancel: bool = False,
        script: Sequence[tuple[str, str]] = (),
    ) -> _Session:
        """Up to ``length`` events of one user, following ``script`` if given. The user's level
        changes after a Submit Upgrade/Downgrade; a cancellation ends the session and sends the
        user away for one to four weeks."""
        rng = self._rng
        events: list[_Planned] = []
        level = user.level
        gap = 0
        pick = self._plays.pick

        def add(page: str, auth: str) -> None:
            nonlocal gap, level
            play = pick() if page == "NextSong" else None
            events.append((page, auth, level, play, gap))
            gap = self._next_gap(page, play)
            if page == "Submit Upgrade":
                level = "paid"
            elif page == "Submit Downgrade":
                level = "free"

        def add_all(pages: Sequence[tuple[str, str]]) -> None:
            for page, auth in pages:
                if len(events) < length:
                    add(page, auth)

        if script:
            add_all(script)
            user.level = level
            return _Session(user, events)

        opening = rng.random()
        if opening < 0.08:
            add_all((("Home", _LOGGED_OUT), ("Login", _LOGGED_OUT), ("Home", _LOGGED_IN)))
        elif opening < 0.4:
            add("Home", _LOGGED_IN)
        next_song_share = 1.0 - _ACTION_CUMULATIVE[-1]
        while len(events) < length:
            draw = rng.random()
            if draw < next_song_share:
                add("NextSong", _LOGGED_IN)
                continue
            action = _ACTION_NAMES[
                min(
                    bisect_right(_ACTION_CUMULATIVE, draw - next_song_share),
                    len(_ACTION_NAMES) - 1,
                )
            ]
            if action == "Settings":
                add("Settings", _LOGGED_IN)
                if rng.random() < _SAVE_SETTINGS_SHARE:
                    add_all((("Save Settings", _LOGGED_IN), ("Home", _LOGGED_IN)))
            elif action == "Upgrade" and level == "free":
                add("Upgrade", _LOGGED_IN)
                if rng.random() < _SUBMIT_UPGRADE_SHARE:
                    add_all((("Submit Upgrade", _LOGGED_IN), ("Home", _LOGGED_IN)))
            elif action == "Upgrade":
                add("Downgrade", _LOGGED_IN)
                if rng.random() < _SUBMIT_DOWNGRADE_SHARE:
                    add_all((("Submit Downgrade", _LOGGED_IN), ("Home", _LOGGED_IN)))
            elif action == "Logout":
                add_all((("Logout", _LOGGED_IN), ("Home", _LOGGED_OUT)))
                if rng.random() >= _LOGIN_AGAIN_SHARE:
                    break
                add_all((("Login", _LOGGED_OUT), ("Home", _LOGGED_IN)))
            elif action == "Cancel":
                if not may_cancel or len(events) + 2 > length:
                    continue
                add_all((("Cancel", _LOGGED_IN), ("Cancellation Confirmation", _CANCELLED)))
                user.back_on_day = day_index + rng.randint(7, 28)
                break
            else:
                add(action, _LOGGED_IN)
        user.level = level
        return _Session(user, events)

    def _place(self, sessions: list[_Session]) -> None:
        """Sets each session's start: a user's sessions keep their order, do not overlap and end
        on the same UTC day; a busy user's gaps shrink to fit."""
        rng = self._rng
        per_user: dict[str, list[_Session]] = {}
        for session in sessions:
            if session.user is None:
                span = session.span()
                session.start = int(rng.random() * max(1, _DAY_MS - span))
            else:
                per_user.setdefault(session.user.user_id, []).append(session)
        for own in per_user.values():  # insertion order: deterministic
            spans = [session.span() for session in own]
            room = _DAY_MS - 1 - 1000 * (len(own) - 1)
            if sum(spans) > 0.95 * room:
                factor = 0.95 * room / sum(spans)
                for session in own:
                    session.events = [
                        (page, auth, level, play, max(1, int(gap * factor)) if gap else 0)
                        for page, auth, level, play, gap in session.events
                    ]
                spans = [session.span() for session in own]
                if sum(spans) > room:
                    raise ValueError(
                        "too many events per user and day to fit in one day: "
                        "raise users or lower events_per_day"
                    )
            slack = room - sum(spans)
            shares = [rng.random() + 0.01 for _ in range(len(own) + 1)]
            total_share = sum(shares)
            at = 0
            for session, span, share in zip(own, spans, shares, strict=False):
                at += int(slack * share / total_share)
                session.start = at
                at += span + 1000


# ---------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    """``python -m sparkify_assets.sample_data.generator --out DIR [...]``: writes a source tree."""
    defaults = DEFAULT_SPEC
    parser = argparse.ArgumentParser(
        prog="sparkify generate",
        description="Write deterministic sample data in the Sparkify source layout.",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write (new)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--start", type=date.fromisoformat, default=defaults.start, help="first day, YYYY-MM-DD"
    )
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument(
        "--events-per-day", type=int, default=defaults.events_per_day, help="average"
    )
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--songs", type=int, default=defaults.catalog_songs, help="song files")
    parser.add_argument(
        "--matched-play-share",
        type=float,
        default=defaults.matched_play_share,
        help="share of plays naming a catalog song",
    )
    args = parser.parse_args(argv)
    try:
        spec = SampleSpec(
            seed=args.seed,
            start=args.start,
            days=args.days,
            events_per_day=args.events_per_day,
            users=args.users,
            catalog_songs=args.songs,
            matched_play_share=args.matched_play_share,
        )
    except ValueError as error:
        parser.error(str(error))
    started = time.perf_counter()
    try:
        summary = write_sample_source(args.out, spec)
    except (FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    first, last = summary.log_dates[0], summary.log_dates[-1]
    print(f"wrote {summary.root}")
    print(f"  song files: {summary.song_files}")
    print(f"  log files:  {summary.log_files} ({first.isoformat()} .. {last.isoformat()})")
    print(f"  events:     {summary.events}")
    print(f"  seconds:    {elapsed:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

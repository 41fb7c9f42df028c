"""The sample-data generator: deterministic, in the real layout and format, with every quirk."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from sparkify_assets.records.events import EVENT_FIELDS
from sparkify_assets.sample_data.generator import main, write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec, SampleSummary

PAGES = {
    "NextSong",
    "Home",
    "Login",
    "Logout",
    "Settings",
    "Save Settings",
    "Upgrade",
    "Submit Upgrade",
    "Downgrade",
    "Submit Downgrade",
    "Help",
    "About",
    "Error",
    "Cancel",
    "Cancellation Confirmation",
}
IDENTITY_FIELDS = ("firstName", "lastName", "gender", "location", "userAgent", "registration")
SONG_PATH = re.compile(r"^song_data/([A-Z])/([A-Z])/([A-Z])/(TR[A-Z0-9]{16})\.json$")
LOG_PATH = re.compile(r"^log_data/(\d{4})/(\d{2})/(\d{4})-(\d{2})-(\d{2})-events\.json$")
DAY_MS = 86_400_000


@dataclass
class Source:
    root: Path
    summary: SampleSummary
    events: list[dict[str, Any]]  # file order
    event_dates: list[date]  # the date of each event's file
    songs: list[dict[str, Any]]
    log_text: bytes
    song_text: bytes


def read_source(root: Path, summary: SampleSummary) -> Source:
    events, event_dates, log_text = [], [], bytearray()
    for path in sorted((root / "log_data").rglob("*.json")):
        raw = path.read_bytes()
        log_text += raw
        day = date.fromisoformat(path.name[:10])
        for line in raw.decode("utf-8").splitlines():
            events.append(json.loads(line))
            event_dates.append(day)
    songs, song_text = [], bytearray()
    for path in sorted((root / "song_data").rglob("*.json")):
        raw = path.read_bytes()
        song_text += raw + b"\n"
        songs.append(json.loads(raw))
    return Source(root, summary, events, event_dates, songs, bytes(log_text), bytes(song_text))


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def default_source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    root = tmp_path_factory.mktemp("default_sample")
    return read_source(root, write_sample_source(root))


@pytest.fixture(scope="module")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """The shape the warehouse tests use (tests/conftest.py SMALL_SPEC)."""
    root = tmp_path_factory.mktemp("small_sample")
    spec = SampleSpec(seed=7, days=6, events_per_day=150, users=25, catalog_songs=60)
    return read_source(root, write_sample_source(root, spec))


def catalog_durations(songs: list[dict[str, Any]]) -> dict[tuple[str, str], list[float]]:
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    for song in songs:
        durations[(song["title"], song["artist_name"])].append(song["duration"])
    return durations


def play_kinds(source: Source) -> Counter[str]:
    """Each NextSong event as exact / tolerance (a match, length off by <= 0.01 s) /
    near_miss (title and artist in the catalog, length off) / unknown."""
    durations = catalog_durations(source.songs)
    kinds: Counter[str] = Counter()
    for event in source.events:
        if event["page"] != "NextSong":
            continue
        known = durations.get((event["song"], event["artist"]), [])
        gaps = [abs(d - event["length"]) for d in known]
        if 0.0 in gaps:
            kinds["exact"] += 1
        elif any(gap <= 0.01 for gap in gaps):
            kinds["tolerance"] += 1
        elif known:
            kinds["near_miss"] += 1
        else:
            kinds["unknown"] += 1
    return kinds


# ---------------------------------------------------------------------------------------------
# Determinism


def test_same_spec_gives_identical_bytes(tmp_path: Path) -> None:
    spec = SampleSpec(seed=11, days=3, events_per_day=200, users=20, catalog_songs=50)
    first = tree_bytes(write_sample_source(tmp_path / "a", spec).root)
    second = tree_bytes(write_sample_source(tmp_path / "b", spec).root)
    assert first == second
    assert len(first) == 1 + 3 + 50
    other_seed = tree_bytes(write_sample_source(tmp_path / "c", SampleSpec(seed=12)).root)
    assert other_seed != first


def test_output_does_not_depend_on_hash_seed(tmp_path: Path) -> None:
    """Set and str hashing change between processes; the files must not."""
    args = ["--days", "2", "--events-per-day", "150", "--users", "10", "--songs", "40"]
    write_sample_source(
        tmp_path / "here",
        SampleSpec(days=2, events_per_day=150, users=10, catalog_songs=40),
    )
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = str(tmp_path / hash_seed)
        subprocess.run(
            [sys.executable, "-m", "sparkify_assets.sample_data.generator", "--out", out, *args],
            check=True,
            capture_output=True,
            env=environment,
        )
        assert tree_bytes(tmp_path / hash_seed) == tree_bytes(tmp_path / "here")


# ---------------------------------------------------------------------------------------------
# Layout and format


def test_layout_and_file_names(default_source: Source) -> None:
    root, summary = default_source.root, default_source.summary
    files = [path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()]
    song_files = [name for name in files if name.startswith("song_data/")]
    log_files = [name for name in files if name.startswith("log_data/")]
    assert sorted(set(files) - set(song_files) - set(log_files)) == ["log_json_path.json"]

    assert len(song_files) == summary.song_files == 400
    for name in song_files:
        match = SONG_PATH.match(name)
        assert match, name
        assert match.group(4)[2:5] == "".join(match.group(1, 2, 3))  # folders: letters 3-5

    expected_dates = tuple(date(2018, 11, 1) + timedelta(days=n) for n in range(30))
    assert summary.log_dates == expected_dates
    assert summary.log_files == len(log_files) == 30
    for name in log_files:
        match = LOG_PATH.match(name)
        assert match, name
        year, month, year2, month2, day = match.groups()
        assert (year, month) == (year2, month2)
        assert date(int(year), int(month), int(day)) in expected_dates
    assert summary.events == len(default_source.events) == 30 * 300

    jsonpaths = json.loads((root / "log_json_path.json").read_text(encoding="utf-8"))
    assert jsonpaths == {"jsonpaths": [f"$['{name}']" for name in EVENT_FIELDS]}


def test_every_event_has_the_18_fields_with_their_types(default_source: Source) -> None:
    assert len(EVENT_FIELDS) == 18
    optional_text = ("artist", "song", "firstName", "lastName", "location", "userAgent")
    for event in default_source.events:
        assert tuple(event) == EVENT_FIELDS  # and in this order
        for name in optional_text:
            assert event[name] is None or type(event[name]) is str, (name, event)
        assert event["auth"] in {"Logged In", "Logged Out", "Guest", "Cancelled"}
        assert event["gender"] in {"F", "M", None}
        assert type(event["itemInSession"]) is int and event["itemInSession"] >= 0
        assert event["length"] is None or type(event["length"]) is float
        assert event["level"] in {"free", "paid"}
        assert event["method"] in {"GET", "PUT"}
        assert event["page"] in PAGES
        assert event["registration"] is None or type(event["registration"]) is float
        assert type(event["sessionId"]) is int and 0 < event["sessionId"] < 2**31
        assert event["status"] in {200, 307, 404}
        assert type(event["ts"]) is int
        assert type(event["userId"]) is str
        assert event["userId"] == "" or event["userId"].isdigit()


def test_ts_inside_the_files_day_and_sorted(default_source: Source) -> None:
    previous: tuple[date, int] | None = None
    for event, day in zip(default_source.events, default_source.event_dates, strict=True):
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000
        assert midnight <= event["ts"] < midnight + DAY_MS
        if previous is not None and previous[0] == day:
            assert previous[1] <= event["ts"]
        previous = (day, event["ts"])


def test_log_files_are_json_lines_with_every_text_quirk(default_source: Source) -> None:
    text = default_source.log_text
    assert text.endswith(b"\n") and b"\r" not in text and b"\n\n" not in text
    # Every slash escaped; non-ASCII raw UTF-8, never \u escapes.
    assert re.search(rb"[^\\]/", text) is None
    assert text.count(b"\\/") > 1000
    assert b"\\u" not in text
    assert re.search(rb'"userAgent":"\\"Mozilla\\/5\.0 \(Windows NT 6\.1; WOW64\) ', text)
    assert re.search(rb'"userAgent":"Mozilla\\/5\.0', text)  # some are not wrapped in quotes
    # registration: epoch milliseconds written as a float.
    registrations = re.findall(rb'"registration":([^,]+),', text)
    assert {value for value in registrations if value != b"null"}
    assert all(re.fullmatch(rb"null|1[45]\d{11}\.0", value) for value in registrations)


# ---------------------------------------------------------------------------------------------
# Event quirks (counted at the default spec)


def test_anonymous_events_on_pages_without_plays(default_source: Source) -> None:
    anonymous = [e for e in default_source.events if e["userId"] == ""]
    by_auth = Counter(e["auth"] for e in anonymous)
    assert by_auth["Logged Out"] >= 100 and by_auth["Guest"] >= 10
    assert set(by_auth) == {"Logged Out", "Guest"}
    for event in anonymous:
        assert event["page"] != "NextSong"
        assert all(event[name] is None for name in IDENTITY_FIELDS), event
    for event in default_source.events:
        if event["userId"]:
            assert event["auth"] in {"Logged In", "Cancelled"}
            assert all(event[name] is not None for name in IDENTITY_FIELDS), event


def test_song_fields_only_on_next_song(default_source: Source) -> None:
    for event in default_source.events:
        fields = (event["artist"], event["song"], event["length"])
        if event["page"] == "NextSong":
            assert None not in fields and event["method"] == "PUT" and event["status"] == 200
        else:
            assert fields == (None, None, None)


def test_pages_methods_and_statuses(default_source: Source) -> None:
    pages = Counter(e["page"] for e in default_source.events)
    assert set(pages) == PAGES
    assert 0.75 <= pages["NextSong"] / len(default_source.events) <= 0.85
    assert Counter(e["method"] for e in default_source.events).keys() == {"GET", "PUT"}
    statuses = Counter(e["status"] for e in default_source.events)
    assert statuses.keys() == {200, 307, 404}
    assert statuses[404] == pages["Error"]
    assert sum(e["auth"] == "Cancelled" for e in default_source.events) >= 1


def test_non_ascii_quotes_ampersands_and_feat_in_plays(default_source: Source) -> None:
    plays = [e for e in default_source.events if e["page"] == "NextSong"]
    texts = [f"{e['song']}\n{e['artist']}" for e in plays]
    assert sum(not text.isascii() for text in texts) >= 100
    assert sum('"' in text for text in texts) >= 20
    assert sum("&" in text for text in texts) >= 20
    assert sum("feat." in text for text in texts) >= 20
    assert sum("/" in e["song"] for e in plays) >= 20  # written as \/


def test_sessions(default_source: Source) -> None:
    sessions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    session_day: dict[int, date] = {}
    for event, day in zip(default_source.events, default_source.event_dates, strict=True):
        sessions[event["sessionId"]].append(event)
        assert session_day.setdefault(event["sessionId"], day) == day
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for events in sessions.values():
        events.sort(key=lambda e: e["itemInSession"])
        assert [e["itemInSession"] for e in events] == list(range(len(events)))
        assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
        users = {e["userId"] for e in events} - {""}
        assert len(users) <= 1  # one user per session (plus its logged-out events)
        if users:
            spans[users.pop()].append((events[0]["ts"], events[-1]["ts"]))
    for user_spans in spans.values():  # a user's sessions do not overlap
        user_spans.sort()
        for (_, end), (start, _) in pairwise(user_spans):
            assert end < start


def test_users_are_stable_and_levels_change_only_by_submitting(default_source: Source) -> None:
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in default_source.events:
        if event["userId"]:
            by_user[event["userId"]].append(event)
    changed = 0
    for events in by_user.values():
        identities = {tuple(e[name] for name in IDENTITY_FIELDS) for e in events}
        assert len(identities) == 1
        events.sort(key=lambda e: (e["ts"], e["itemInSession"]))
        for before, after in pairwise(events):
            expected = {"Submit Upgrade": "paid", "Submit Downgrade": "free"}.get(
                before["page"], before["level"]
            )
            assert after["level"] == expected
        changed += len({e["level"] for e in events}) > 1
    assert changed >= 10


def test_events_of_one_user_share_a_ts(default_source: Source) -> None:
    groups: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for event in default_source.events:
        if event["userId"]:
            groups[(event["userId"], event["ts"])].append(event)
    ties = [events for events in groups.values() if len(events) > 1]
    assert len(ties) >= 50
    for events in ties:  # in file order: by itemInSession
        items = [e["itemInSession"] for e in events]
        assert items == sorted(items)


# ---------------------------------------------------------------------------------------------
# The catalog and what the plays name


def test_song_files(default_source: Source) -> None:
    songs = default_source.songs
    for song in songs:
        assert list(song) == [
            "num_songs",
            "artist_id",
            "artist_latitude",
            "artist_longitude",
            "artist_location",
            "artist_name",
            "song_id",
            "title",
            "duration",
            "year",
        ]
        assert song["num_songs"] == 1
        assert re.fullmatch(r"SO[A-Z0-9]{16}", song["song_id"])
        assert re.fullmatch(r"AR[A-Z0-9]{16}", song["artist_id"])
        assert type(song["duration"]) is float and type(song["year"]) is int
        assert type(song["artist_location"]) is str
    assert len({song["song_id"] for song in songs}) == len(songs)
    assert sum(song["year"] == 0 for song in songs) >= 50
    assert sum(song["artist_latitude"] is None for song in songs) >= 100
    assert sum(song["artist_location"] == "" for song in songs) >= 50
    durations = re.findall(rb'"duration": ([^,]+),', default_source.song_text)
    assert len(durations) == len(songs)
    assert all(re.fullmatch(rb"\d+\.\d{5}", value) for value in durations)
    assert re.search(rb'"(artist_name|title)": "[^"]*[\x80-\xff]', default_source.song_text)
    assert b"\\u" not in default_source.song_text


def test_artists(default_source: Source) -> None:
    by_artist: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for song in default_source.songs:
        by_artist[song["artist_id"]].append(song)
    assert sum(len(songs) >= 2 for songs in by_artist.values()) >= 20
    for songs in by_artist.values():
        assert len({song["artist_name"] for song in songs}) == 1
    disputed = [
        songs
        for songs in by_artist.values()
        if len({(s["artist_location"], s["artist_latitude"]) for s in songs}) > 1
    ]
    assert disputed
    variants = {
        (s["artist_location"], s["artist_latitude"], s["artist_longitude"]) for s in disputed[0]
    }
    assert ("", None, None) in variants
    assert any(location and latitude is not None for location, latitude, _ in variants)


def test_catalog_duplicates_and_versions(default_source: Source) -> None:
    keys: dict[tuple[str, str, float], list[str]] = defaultdict(list)
    for song in default_source.songs:
        keys[(song["title"], song["artist_name"], song["duration"])].append(song["song_id"])
    duplicated = {key: ids for key, ids in keys.items() if len(ids) > 1}
    assert len(duplicated) >= 1
    played = Counter(
        (e["song"], e["artist"], e["length"])
        for e in default_source.events
        if e["page"] == "NextSong"
    )
    assert sum(played[key] for key in duplicated) >= 1  # a consumer must pick the lowest song_id
    versions = catalog_durations(default_source.songs)
    assert any(len(set(durations)) > 1 for durations in versions.values())


def test_plays_match_near_miss_or_name_unknown_songs(default_source: Source) -> None:
    kinds = play_kinds(default_source)
    plays = sum(kinds.values())
    matched = kinds["exact"] + kinds["tolerance"]
    assert 0.25 <= matched / plays <= 0.35  # matched_play_share 0.3
    assert kinds["tolerance"] >= 20 and kinds["near_miss"] >= 20
    assert kinds["unknown"] >= plays / 2
    durations = catalog_durations(default_source.songs)
    for event in default_source.events:
        if event["page"] != "NextSong":
            continue
        gaps = [
            abs(d - event["length"]) for d in durations.get((event["song"], event["artist"]), [])
        ]
        for gap in gaps:  # nothing in between: a match within 0.004 s or a miss by ~0.5 s
            assert gap < 0.0041 or gap > 0.49


def test_catalog_songs_that_are_never_played(default_source: Source) -> None:
    played = {(e["song"], e["artist"]) for e in default_source.events if e["page"] == "NextSong"}
    never = [s for s in default_source.songs if (s["title"], s["artist_name"]) not in played]
    assert len(never) >= 40


# ---------------------------------------------------------------------------------------------
# Other shapes


def test_small_spec_holds_every_quirk(small_source: Source) -> None:
    pages = Counter(e["page"] for e in small_source.events)
    assert set(pages) >= PAGES - {"Cancel", "Cancellation Confirmation"}
    assert {e["auth"] for e in small_source.events if e["userId"] == ""} == {"Logged Out", "Guest"}
    kinds = play_kinds(small_source)
    assert kinds["exact"] and kinds["tolerance"] and kinds["near_miss"] and kinds["unknown"]
    keys = Counter((s["title"], s["artist_name"], s["duration"]) for s in small_source.songs)
    assert any(
        keys[(e["song"], e["artist"], e["length"])] > 1
        for e in small_source.events
        if e["page"] == "NextSong"
    )


def test_tiny_spec(tmp_path: Path) -> None:
    summary = write_sample_source(tmp_path, SampleSpec(days=1, events_per_day=5))
    assert (summary.log_files, summary.events, summary.song_files) == (1, 5, 400)
    assert summary.log_dates == (date(2018, 11, 1),)
    lines = (tmp_path / "log_data/2018/11/2018-11-01-events.json").read_bytes().splitlines()
    assert len(lines) == 5
    assert all(tuple(json.loads(line)) == EVENT_FIELDS for line in lines)


def test_smallest_catalog_and_one_user(tmp_path: Path) -> None:
    spec = SampleSpec(days=3, events_per_day=400, users=1, catalog_songs=4)
    source = read_source(tmp_path, write_sample_source(tmp_path, spec))
    assert len(source.songs) == 4 and len(source.events) == 1200
    assert {e["userId"] for e in source.events} - {""} and len(source.events) == 1200


def test_day_counts_vary_and_add_up(default_source: Source) -> None:
    counts = Counter(default_source.event_dates)
    assert sum(counts.values()) == 9000
    assert min(counts.values()) >= 0.7 * 300 - 1 and max(counts.values()) <= 1.3 * 300 + 1
    assert len(set(counts.values())) > 10


def peak_bytes(root: Path, spec: SampleSpec) -> int:
    """The peak of Python's allocations while ``spec`` is written."""
    tracemalloc.start()
    try:
        summary = write_sample_source(root, spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.events == spec.days * spec.events_per_day
    return peak


def test_memory_does_not_grow_with_events(tmp_path: Path) -> None:
    """200,000 events: the peak depends on one day's events and the catalog, not on all events."""
    two_days = peak_bytes(tmp_path / "2", SampleSpec(days=2, events_per_day=10_000))
    twenty_days = peak_bytes(tmp_path / "20", SampleSpec(days=20, events_per_day=10_000))
    assert twenty_days < 50 * 2**20, f"peak {twenty_days / 2**20:.1f} MiB"
    assert twenty_days < two_days + 5 * 2**20, (two_days, twenty_days)


# ---------------------------------------------------------------------------------------------
# Spec checks and the command line


@pytest.mark.parametrize(
    "field, value",
    [
        ("days", 0),
        ("events_per_day", 0),
        ("users", 0),
        ("catalog_songs", 3),
        ("matched_play_share", 1.5),
    ],
)
def test_spec_refuses_impossible_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        SampleSpec(**{field: value})  # type: ignore[arg-type]


def test_refuses_to_mix_with_an_earlier_tree(tmp_path: Path) -> None:
    spec = SampleSpec(days=1, events_per_day=5, catalog_songs=4)
    write_sample_source(tmp_path, spec)
    with pytest.raises(FileExistsError):
        write_sample_source(tmp_path, spec)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["--out", str(out), "--seed", "5", "--start", "2019-02-27", "--days", "3"]
    argv += ["--events-per-day", "50", "--users", "8", "--songs", "30"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "events:     150" in printed and "song files: 30" in printed
    assert "2019-02-27 .. 2019-03-01" in printed
    names = sorted(p.name for p in (out / "log_data").rglob("*.json"))
    assert names == ["2019-02-27-events.json", "2019-02-28-events.json", "2019-03-01-events.json"]
    expected = write_sample_source(
        tmp_path / "api",
        SampleSpec(
            seed=5,
            start=date(2019, 2, 27),
            days=3,
            events_per_day=50,
            users=8,
            catalog_songs=30,
        ),
    )
    assert tree_bytes(out) == tree_bytes(expected.root)
    assert main(argv) == 1  # the tree exists already

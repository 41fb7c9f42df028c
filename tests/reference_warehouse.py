"""An independent model of what the warehouse must hold, computed in plain Python from the raw files.

It shares no code with the project: it reads the files with the standard json module and applies the
table meanings of the README ("Tables") directly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

EPOCH = datetime(1970, 1, 1)


@dataclass
class ReferenceWarehouse:
    staging_events: int
    staging_songs: int
    songplays: set[tuple[Any, ...]]
    users: set[tuple[Any, ...]]
    songs: set[tuple[Any, ...]]
    artists: set[tuple[Any, ...]]
    time: set[tuple[Any, ...]]


def read_events(root: Path, days: set[str] | None = None) -> list[dict[str, Any]]:
    events = []
    for path in sorted((root / "log_data").rglob("*-events.json")):
        if days is not None and path.name[:10] not in days:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                events.append(json.loads(line))
    return events


def read_songs(root: Path) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.relative_to(root).as_posix(), json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((root / "song_data").rglob("*.json"))
    ]


def reference_warehouse(root: Path, days: set[str] | None = None) -> ReferenceWarehouse:
    events = read_events(root, days)
    catalog = read_songs(root)

    plays = set()
    for e in [e for e in events if e["page"] == "NextSong"]:
        user = int(e["userId"]) if e["userId"] else None
        identity = f"{'' if user is None else user}|{e['sessionId']}|{e['itemInSession']}|{e['ts']}"
        matches = sorted(
            (s["song_id"], s["artist_id"])
            for _, s in catalog
            if s["title"] == e["song"]
            and s["artist_name"] == e["artist"]
            and abs(s["duration"] - e["length"]) <= 0.01
        )
        song_id, artist_id = matches[0] if matches else (None, None)
        agent = e["userAgent"].strip('"') if e["userAgent"] is not None else None
        plays.add(
            (
                hashlib.md5(identity.encode()).hexdigest(),
                EPOCH + timedelta(milliseconds=e["ts"]),
                user,
                e["level"],
                song_id,
                artist_id,
                e["sessionId"],
                e["location"],
                agent,
            )
        )

    latest: dict[int, dict[str, Any]] = {}
    for e in events:
        if not e["userId"]:
            continue
        user = int(e["userId"])
        seen = latest.get(user)
        if seen is None or (e["ts"], e["itemInSession"]) > (seen["ts"], seen["itemInSession"]):
            latest[user] = e
    users = {(u, e["firstName"], e["lastName"], e["gender"], e["level"]) for u, e in latest.items()}

    def content_order(s: dict[str, Any]) -> tuple[Any, ...]:
        # of several entries of one song_id: shortest duration, lowest year, lowest MD5 of
        # "artist_id|title" (NULLs last)
        digest = hashlib.md5(f"{s['artist_id'] or ''}|{s['title'] or ''}".encode()).hexdigest()
        return (
            s["duration"] is None,
            s["duration"] or 0,
            s["year"] is None,
            s["year"] or 0,
            digest,
        )

    songs: dict[str, tuple[Any, ...]] = {}
    for _, s in sorted(catalog, key=lambda entry: content_order(entry[1])):
        songs.setdefault(
            s["song_id"],
            (s["song_id"], s["title"], s["artist_id"], s["year"] or None, s["duration"]),
        )

    def unknowns(s: dict[str, Any]) -> int:
        return (
            (not s["artist_location"])
            + (s["artist_latitude"] is None)
            + (s["artist_longitude"] is None)
        )

    best: dict[str, dict[str, Any]] = {}
    for _, s in catalog:
        current = best.get(s["artist_id"])
        if current is None or (unknowns(s), s["song_id"]) < (unknowns(current), current["song_id"]):
            best[s["artist_id"]] = s
    artists = {
        (
            a,
            s["artist_name"],
            s["artist_location"] or None,
            s["artist_latitude"],
            s["artist_longitude"],
        )
        for a, s in best.items()
    }

    starts = {p[1] for p in plays}
    time = {
        (t, t.hour, t.day, t.isocalendar()[1], t.month, t.year, t.isoweekday() % 7) for t in starts
    }
    return ReferenceWarehouse(
        staging_events=len(events),
        staging_songs=len(catalog),
        songplays=plays,
        users=users,
        songs=set(songs.values()),
        artists=artists,
        time=time,
    )

"""A small source tree holding every kind of bad input the loaders must survive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DAY = "2018-11-05"
DAY_MS = 1541376000000  # 2018-11-05T00:00:00Z


def event(item: int, **overrides: Any) -> dict[str, Any]:
    """A valid NextSong event of user 7 on DAY, at second ``item``."""
    base: dict[str, Any] = {
        "artist": "Muse",
        "auth": "Logged In",
        "firstName": "Jordan",
        "gender": "F",
        "itemInSession": item,
        "lastName": "Hicks",
        "length": 259.26485,
        "level": "free",
        "location": "Salinas, CA",
        "method": "PUT",
        "page": "NextSong",
        "registration": 1540008898796.0,
        "sessionId": 814,
        "song": "Supermassive Black Hole",
        "status": 200,
        "ts": DAY_MS + 1000 * item,
        "userAgent": '"Mozilla/5.0"',
        "userId": "7",
    }
    base.update(overrides)
    return base


def line(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False).replace("/", "\\/").encode()


# (raw line, reason fragment) for every refused line of the messy day, in file order.
BAD_EVENT_LINES: list[tuple[bytes, str]] = [
    (b'{"artist": "Muse", "auth": "Logged In"', "malformed JSON"),  # cut in the middle
    (line(event(20, ts=str(DAY_MS + 20_000))), "ts is not an integer"),
    (line(event(21, userId=7)), "userId is not a string"),
    (line(event(22, length="259.2")), "length is not a number"),
    (line({k: v for k, v in event(23).items() if k != "sessionId"}), "sessionId is missing"),
    (line(event(24, ts=DAY_MS - 1)), "is not on 2018-11-05"),
    (b'{"page": "NextSong", "artist": "\xff\xfe broken"}', "malformed JSON"),  # invalid UTF-8
    (b'{"padding": "' + b"x" * (1 << 20) + b'"}', "longer than 1048576 bytes"),
    (line(event(25, song="\u0000 hidden")), "NUL character"),
    (line(["not", "an", "object"]), "expected a JSON object"),
    (line(event(26, artist="A" * 600)), "artist is longer than 512 bytes"),
]


def write_messy_source(root: Path) -> dict[str, int]:
    """Writes the tree; returns the expected counts."""
    songs = root / "song_data" / "A" / "B" / "C"
    songs.mkdir(parents=True)
    good_song = {
        "num_songs": 1,
        "artist_id": "ARJIE2Y1187B994AB7",
        "artist_latitude": None,
        "artist_longitude": None,
        "artist_location": "",
        "artist_name": "Muse",
        "song_id": "SOUPIRU12A6D4FA1E1",
        "title": "Supermassive Black Hole",
        "duration": 259.26485,
        "year": 2006,
    }
    (songs / "TRABCGOOD0000001.json").write_bytes(line(good_song))
    (songs / "TRABCARRAY000001.json").write_bytes(line([good_song]))
    (songs / "TRABCTWO00000001.json").write_bytes(line(good_song) + b"\n" + line(good_song))
    (songs / "TRABCEMPTY000001.json").write_bytes(b"")
    (songs / "TRABCBOM000000001.json").write_bytes(
        b"\xef\xbb\xbf" + line({**good_song, "song_id": "SOBOM0000000000001"})
    )

    month = root / "log_data" / "2018" / "11"
    month.mkdir(parents=True)
    good = [line(event(n)) for n in range(5)]
    extra_field = line(event(5, surprise="ignored", nested={"a": 1}))
    duplicate = good[1]  # the same event again: same user, session, item and ts
    lines = [
        b"\xef\xbb\xbf" + good[0],  # BOM on the first line
        good[1],
        b"",  # a blank line holds no record
        *[bad for bad, _ in BAD_EVENT_LINES],
        good[2],
        extra_field,
        duplicate,
        good[3],
        good[4],
        b'{"artist": null, "auth": "Logged In", "page": "Home", "ts": 15413',  # truncated last line
    ]
    (month / f"{DAY}-events.json").write_bytes(b"\r\n".join(lines))  # CRLF line endings
    (month / "2018-11-06-events.json").write_bytes(b"")  # an empty file
    (month / "notes.txt").write_text("not a log file")  # ignored: not the layout
    return {
        "events_loaded": 6,  # items 0..5
        "events_quarantined": len(BAD_EVENT_LINES) + 2,  # + the duplicate + the truncated line
        "songs_loaded": 2,  # the good one and the one with a BOM
        "songs_quarantined": 3,  # array, two objects, empty
    }

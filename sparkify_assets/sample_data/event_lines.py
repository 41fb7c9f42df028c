"""A day's log file: the planned sessions rendered as JSON Lines, sorted by ts, with ``\\/``."""

from __future__ import annotations

from datetime import date
from typing import BinaryIO

import orjson

from sparkify_assets.sample_data.clock import midnight_ms
from sparkify_assets.sample_data.sessions import ANONYMOUS, PAGE_HTTP, Session

_CHUNK_BYTES = 1 << 20


def _escape_slashes(text: bytearray) -> bytearray:
    """Every ``/`` as ``\\/``, like the real files (JSON still: "/" occurs only inside strings)."""
    return text.replace(b"/", b"\\/")


def write_day_events(
    stream: BinaryIO, day: date, sessions: list[Session], first_session_id: int
) -> None:
    """Writes ``day``'s log file to ``stream``: the events of ``sessions`` (placed and sorted, the
    first one numbered ``first_session_id``), one per line, sorted by ts (then session and item in
    session)."""
    first_id = first_session_id
    midnight = midnight_ms(day)
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
    http = PAGE_HTTP
    # orjson's bytes keep a large buffer each: copy every line into one chunk at once.
    chunk = bytearray()
    for ts, session_id, item in order:
        session = sessions[session_id - first_id]
        page, auth, level, play, _ = session.events[item]
        user = session.user
        if user is None or auth in ANONYMOUS:
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

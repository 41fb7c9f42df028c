"""One log event as the source's log files hold it (a JSON object per line), for tests that write
their own log days."""

from __future__ import annotations

from typing import Any

EVENT_TS = 1541030400000  # 2018-11-01 00:00:00 UTC, in milliseconds


def log_event(**fields: Any) -> dict[str, Any]:
    """A valid event (a Home page view) of user 7 at ``EVENT_TS``; ``fields`` replace its own."""
    event: dict[str, Any] = {
        "artist": None,
        "auth": "Logged In",
        "firstName": "Ada",
        "gender": "F",
        "itemInSession": 0,
        "lastName": "Lovelace",
        "length": None,
        "level": "free",
        "location": "London",
        "method": "GET",
        "page": "Home",
        "registration": 1540919166796.0,
        "sessionId": 1,
        "song": None,
        "status": 200,
        "ts": EVENT_TS,
        "userAgent": '"Mozilla/5.0"',
        "userId": "7",
    }
    event.update(fields)
    return event

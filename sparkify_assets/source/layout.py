"""Where files live in a source tree: ``song_data/<A-Z>/<A-Z>/<A-Z>/TR<16 chars>.json`` (one song
each) and ``log_data/YYYY/MM/YYYY-MM-DD-events.json`` (one day, JSON Lines); keys use ``/``."""

from __future__ import annotations

import re
from datetime import date

SONG_PREFIX = "song_data/"
LOG_PREFIX = "log_data/"

_LOG_KEY = re.compile(
    r"^log_data/(?P<y>\d{4})/(?P<m>\d{2})/(?P<y2>\d{4})-(?P<m2>\d{2})-(?P<d>\d{2})-events\.json$"
)


def log_key_for(day: date) -> str:
    """The key of the log file holding ``day``'s events."""
    return f"{LOG_PREFIX}{day:%Y/%m}/{day:%Y-%m-%d}-events.json"


def log_date_of(key: str) -> date | None:
    """The log date a key holds, or None when the key does not follow the layout."""
    match = _LOG_KEY.match(key)
    if not match or (match["y"], match["m"]) != (match["y2"], match["m2"]):
        return None
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:  # 2018-02-30
        return None


def is_song_key(key: str) -> bool:
    """True for a song file key (``song_data/.../*.json``)."""
    return key.startswith(SONG_PREFIX) and key.endswith(".json")

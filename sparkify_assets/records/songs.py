"""Parsing one song file (a single JSON object) into a typed ``staging_songs`` row."""

from __future__ import annotations

from typing import Any

import orjson

from sparkify_assets.records.quarantine import RAW_BYTES_KEPT, RejectedRecord

MAX_SONG_FILE_BYTES = 1 << 20

SONG_COLUMNS = (
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
    "source_file",
)

# Longest text (UTF-8 bytes) each text column accepts: the VARCHAR sizes of the Redshift DDL.
TEXT_LIMITS = {
    "artist_id": 32,
    "artist_location": 512,
    "artist_name": 512,
    "song_id": 32,
    "title": 512,
}
_BOM = b"\xef\xbb\xbf"


class _Refused(Exception):
    """The file is refused; the message is the reason."""


def _text(song: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = song.get(name)
    if value is None or (required and value == ""):
        if required:
            raise _Refused(f"{name} is missing")
        return None
    if type(value) is not str:
        raise _Refused(f"{name} is not a string")
    if "\x00" in value:
        raise _Refused(f"{name} contains a NUL character")
    limit = TEXT_LIMITS[name]
    if len(value) * 4 > limit and len(value.encode()) > limit:
        raise _Refused(f"{name} is longer than {limit} bytes")
    return value


def _number(song: dict[str, Any], name: str) -> float | None:
    value = song.get(name)
    if value is None:
        return None
    if type(value) is float or type(value) is int:
        return float(value)
    raise _Refused(f"{name} is not a number")


def _int(song: dict[str, Any], name: str) -> int | None:
    value = song.get(name)
    if value is None:
        return None
    if type(value) is not int or not -(2**31) <= value < 2**31:
        raise _Refused(f"{name} is not an integer")
    return value


def parse_song_file(data: bytes, source_file: str) -> tuple[object, ...] | RejectedRecord:
    """The file's row (SONG_COLUMNS order), or why it was refused."""
    try:
        if len(data) > MAX_SONG_FILE_BYTES:
            raise _Refused(f"file is larger than {MAX_SONG_FILE_BYTES} bytes")
        content = data[len(_BOM) :] if data.startswith(_BOM) else data
        if not content.strip():
            raise _Refused("file is empty")
        try:
            song = orjson.loads(content)
        except orjson.JSONDecodeError as error:
            raise _Refused(f"not a single JSON object: {error}") from None
        if type(song) is not dict:
            raise _Refused(f"expected one JSON object, found a JSON {type(song).__name__}")
        return (
            _int(song, "num_songs"),
            _text(song, "artist_id", required=True),
            _number(song, "artist_latitude"),
            _number(song, "artist_longitude"),
            _text(song, "artist_location"),
            _text(song, "artist_name"),
            _text(song, "song_id", required=True),
            _text(song, "title"),
            _number(song, "duration"),
            _int(song, "year"),
            source_file,
        )
    except _Refused as refusal:
        return RejectedRecord(source_file, None, str(refusal), data[:RAW_BYTES_KEPT])


def refused_song_file(source_file: str, reason: str) -> RejectedRecord:
    """A song file refused without reading it (too large, a link, a FIFO...)."""
    return RejectedRecord(source_file, None, reason, b"")

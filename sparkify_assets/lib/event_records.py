"""Parsing one day's log file (JSON Lines) into typed ``staging_events`` rows.

Every line becomes either a row or a :class:`RejectedRecord` with a reason: nothing is dropped
silently and nothing raises. Accepted: a UTF-8 BOM, CRLF line endings, blank lines (they hold no
record), unknown extra fields (ignored). Refused: malformed JSON or invalid UTF-8, a line over
``MAX_LINE_BYTES``, a field of the wrong type, a missing required field (ts, sessionId,
itemInSession, page), text longer than the Redshift column holds, a NUL character, a ts outside
the file's UTC day, and a second copy of an event (same user, session, item in session and ts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, BinaryIO

import orjson

from sparkify_assets.lib.quarantine import RejectedRecord

MAX_LINE_BYTES = 1 << 20  # 1 MiB: a real event is ~400 bytes
_INT32 = (-(2**31), 2**31 - 1)
_EPOCH = datetime(1970, 1, 1)
_DAY_MS = 86_400_000
_BOM = b"\xef\xbb\xbf"

EVENT_COLUMNS = (
    "log_date",
    "artist",
    "auth",
    "first_name",
    "gender",
    "item_in_session",
    "last_name",
    "length",
    "level",
    "location",
    "method",
    "page",
    "registration",
    "session_id",
    "song",
    "status",
    "ts",
    "start_time",
    "user_agent",
    "user_id",
    "source_file",
    "source_line",
)

# Longest text (UTF-8 bytes) each text column accepts: the VARCHAR sizes of the Redshift DDL.
TEXT_LIMITS = {
    "artist": 512,
    "auth": 32,
    "firstName": 256,
    "gender": 16,
    "lastName": 256,
    "level": 16,
    "location": 512,
    "method": 16,
    "page": 64,
    "song": 512,
    "userAgent": 1024,
}


class _Refused(Exception):
    """A record is refused; the message is the reason."""


def _text(event: dict[str, Any], name: str) -> str | None:
    value = event.get(name)
    if value is None:
        return None
    if type(value) is not str:
        raise _Refused(f"{name} is not a string")
    limit = TEXT_LIMITS[name]
    if len(value) * 4 > limit and len(value.encode()) > limit:
        raise _Refused(f"{name} is longer than {limit} bytes")
    return value


def _int32(event: dict[str, Any], name: str, *, required: bool) -> int | None:
    value = event.get(name)
    if value is None:
        if required:
            raise _Refused(f"{name} is missing")
        return None
    if type(value) is not int:
        raise _Refused(f"{name} is not an integer")
    if not _INT32[0] <= value <= _INT32[1]:
        raise _Refused(f"{name} is out of range")
    return value


def _number(event: dict[str, Any], name: str) -> float | None:
    value = event.get(name)
    if value is None:
        return None
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    raise _Refused(f"{name} is not a number")


def _user_id(event: dict[str, Any]) -> int | None:
    value = event.get("userId")
    if value is None or value == "":
        return None
    if type(value) is not str:
        raise _Refused("userId is not a string")
    if not value.isdigit() or len(value) > 9:
        raise _Refused("userId is not a numeric string")
    return int(value)


@dataclass
class EventFileParser:
    """Turns the lines of one log file into rows (EVENT_COLUMNS order) and rejected records."""

    log_date: date
    source_file: str
    rejected: list[RejectedRecord] = field(default_factory=list)
    accepted: int = 0

    def __post_init__(self) -> None:
        day_start = datetime(self.log_date.year, self.log_date.month, self.log_date.day, tzinfo=UTC)
        self._first_ms = int(day_start.timestamp()) * 1000
        self._seen: dict[tuple[int | None, int, int, int], int] = {}

    def rows(self, stream: BinaryIO) -> Iterator[tuple[object, ...]]:
        """Yields one row per accepted line of ``stream``; refused lines go to ``rejected``."""
        line_number = 0
        while True:
            line = stream.readline(MAX_LINE_BYTES + 1)
            if not line:
                return
            line_number += 1
            if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                self._skip_rest_of_line(stream)
                self._refuse(line_number, f"line is longer than {MAX_LINE_BYTES} bytes", line)
                continue
            if line_number == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]
            record = line.strip()
            if not record:
                continue
            try:
                row = self._row(record, line_number)
            except _Refused as refusal:
                self._refuse(line_number, str(refusal), record)
                continue
            self.accepted += 1
            yield row

    def _row(self, record: bytes, line_number: int) -> tuple[object, ...]:
        if b"\\u0000" in record:
            raise _Refused("text contains a NUL character (\\u0000)")
        try:
            event = orjson.loads(record)
        except orjson.JSONDecodeError as error:
            raise _Refused(f"malformed JSON: {error}") from None
        if type(event) is not dict:
            raise _Refused(f"expected a JSON object, found {type(event).__name__}")

        ts = event.get("ts")
        if ts is None:
            raise _Refused("ts is missing")
        if type(ts) is not int:
            raise _Refused("ts is not an integer")
        offset = ts - self._first_ms
        if not 0 <= offset < _DAY_MS:
            raise _Refused(f"ts {ts} is not on {self.log_date.isoformat()} (UTC)")
        page = _text(event, "page")
        if page is None:
            raise _Refused("page is missing")
        session_id = _int32(event, "sessionId", required=True)
        item_in_session = _int32(event, "itemInSession", required=True)
        user_id = _user_id(event)
        registration = _number(event, "registration")
        if registration is not None and not abs(registration) < 2**62:
            raise _Refused("registration is out of range")

        row = (
            self.log_date,
            _text(event, "artist"),
            _text(event, "auth"),
            _text(event, "firstName"),
            _text(event, "gender"),
            item_in_session,
            _text(event, "lastName"),
            _number(event, "length"),
            _text(event, "level"),
            _text(event, "location"),
            _text(event, "method"),
            page,
            None if registration is None else int(registration),
            session_id,
            _text(event, "song"),
            _int32(event, "status", required=False),
            ts,
            _EPOCH + timedelta(milliseconds=ts),
            _text(event, "userAgent"),
            user_id,
            self.source_file,
            line_number,
        )
        assert session_id is not None and item_in_session is not None  # required above
        first_line = self._seen.setdefault((user_id, session_id, item_in_session, ts), line_number)
        if first_line != line_number:
            raise _Refused(f"duplicate of the event on line {first_line}")
        return row

    def _refuse(self, line_number: int, reason: str, raw: bytes) -> None:
        self.rejected.append(RejectedRecord(self.source_file, line_number, reason, raw))

    @staticmethod
    def _skip_rest_of_line(stream: BinaryIO) -> None:
        while True:
            chunk = stream.readline(MAX_LINE_BYTES)
            if not chunk or chunk.endswith(b"\n"):
                return

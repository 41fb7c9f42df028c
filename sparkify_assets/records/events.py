"""Parsing one day's log file (JSON Lines) into typed ``staging_events`` rows, and a
:class:`RejectedRecord` with a reason for every line refused (rules: docs/reliability.md; the two
decoders: docs/architecture.md, "records/")."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any, BinaryIO

import msgspec
import orjson

from sparkify_assets.records.quarantine import (
    QUARANTINE_BATCH_BYTES,
    RAW_BYTES_KEPT,
    RejectedRecord,
)

MAX_LINE_BYTES = 1 << 20  # 1 MiB: a real event is ~400 bytes
_INT32 = (-(2**31), 2**31 - 1)
_DAY_MS = 86_400_000
_BOM = b"\xef\xbb\xbf"

# The source fields, in the order of the values _row reads.
EVENT_FIELDS = (
    "artist",
    "auth",
    "firstName",
    "gender",
    "itemInSession",
    "lastName",
    "length",
    "level",
    "location",
    "method",
    "page",
    "registration",
    "sessionId",
    "song",
    "status",
    "ts",
    "userAgent",
    "userId",
)

# The staging_events columns a parsed row fills, in row order. start_time is not here: each engine
# derives it from ts (a generated column on PostgreSQL, the INSERT from the COPY table on Redshift).
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
# (position in EVENT_FIELDS, field, limit), by increasing limit: a text of at most limit // 4
# characters always fits, and none can hold more UTF-8 bytes than its line.
_TEXT_CHECKS = tuple(
    sorted(
        ((EVENT_FIELDS.index(name), name, limit) for name, limit in TEXT_LIMITS.items()),
        key=lambda check: check[2],
    )
)

_NONE = type(None)
_ALLOWED_TYPES: dict[str, tuple[type, ...]] = {
    **{name: (str, _NONE) for name in TEXT_LIMITS},
    "itemInSession": (int,),
    "sessionId": (int,),
    "ts": (int,),
    "status": (int, _NONE),
    "length": (float, int, _NONE),
    "registration": (float, int, _NONE),
    "userId": (str, _NONE),
}


_REQUIRED = ("itemInSession", "sessionId", "ts")  # no None in their allowed types


# Integers orjson surely gives as int (a float beyond 64 bits): others take the orjson path.
_JSON_INT = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


def _fast_field_type(name: str) -> Any:
    if name in TEXT_LIMITS:  # a text of more characters than the limit is over it in bytes too
        return Annotated[str, msgspec.Meta(max_length=TEXT_LIMITS[name])] | None
    return {
        (int,): _JSON_INT,
        (int, _NONE): _JSON_INT | None,
        (float, int, _NONE): _JSON_INT | float | None,  # as orjson gives them: an int stays exact
        (str, _NONE): str | None,
    }[_ALLOWED_TYPES[name]]


# The fast path's decoder: a struct of EVENT_FIELDS with the allowed types (no default for the
# required fields, so a missing one fails here and the orjson path names it).
_FastEvent = msgspec.defstruct(
    "_FastEvent",
    [
        (name, _fast_field_type(name))
        if name in _REQUIRED
        else (name, _fast_field_type(name), None)
        for name in EVENT_FIELDS
    ],
    kw_only=True,
)
_fast_decode = msgspec.json.Decoder(_FastEvent).decode
_fast_values = msgspec.structs.astuple

DUPLICATE_REASON = "duplicate of an event with the same user, session, item in session and ts"


class _Refused(Exception):
    """A record is refused; the message is the reason."""


def _type_problem(name: str, value: object) -> str:
    """Why ``value`` cannot be field ``name``."""
    if value is None:
        return f"{name} is missing"
    expected = _ALLOWED_TYPES[name]
    if int in expected and float not in expected:
        return f"{name} is not an integer"
    if float in expected:
        return f"{name} is not a number"
    return f"{name} is not a string"


@dataclass
class EventFileParser:
    """Turns the lines of one log file into rows (EVENT_COLUMNS order) and rejected records."""

    log_date: date
    source_file: str
    rejected: list[RejectedRecord] = field(default_factory=list)
    accepted: int = 0
    # When set, ``rows`` returns once this many rejected records (or QUARANTINE_BATCH_BYTES of
    # them) are pending: the caller writes ``take_rejected()`` and calls ``rows`` again until
    # ``finished``. Memory then stays bounded whatever the share of bad lines.
    pause_after_rejections: int | None = None
    rejected_count: int = 0
    finished: bool = False

    def __post_init__(self) -> None:
        day_start = datetime(self.log_date.year, self.log_date.month, self.log_date.day, tzinfo=UTC)
        self._first_ms = int(day_start.timestamp()) * 1000
        # Identities of the file's accepted events, each packed into one exact integer: a set of
        # ints takes about a quarter of the memory of a dict of tuples, for files of millions.
        self._seen: set[int] = set()
        # Field-type combinations already found valid: a record matching one skips the per-field
        # type checks (real files have a handful of combinations).
        self._valid_signatures: set[tuple[type, ...]] = set()
        self._line_number = 0
        self._pending_bytes = 0

    def take_rejected(self) -> list[RejectedRecord]:
        """The rejected records pending, handed over (the parser forgets them)."""
        taken, self.rejected, self._pending_bytes = self.rejected, [], 0
        return taken

    def _must_pause(self) -> bool:
        return self.pause_after_rejections is not None and (
            len(self.rejected) >= self.pause_after_rejections
            or self._pending_bytes >= QUARANTINE_BATCH_BYTES
        )

    def rows(self, stream: BinaryIO) -> Iterator[tuple[object, ...]]:
        """Yields one row per accepted line of ``stream``; refused lines go to ``rejected``.
        Reads to the end, or pauses (see ``pause_after_rejections``); ``finished`` says which."""
        while True:
            if self._must_pause():
                return
            line = stream.readline(MAX_LINE_BYTES + 1)
            if not line:
                self.finished = True
                return
            self._line_number += 1
            line_number = self._line_number
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
        values: tuple[Any, ...] | None = None
        if b"\\u" not in record:  # escapes (\u0000 among them) take the orjson path
            try:
                values = _fast_values(_fast_decode(record))
            # ValueError: invalid UTF-8; RecursionError: objects nested too deep.
            except (msgspec.DecodeError, ValueError, RecursionError):
                values = None
        # On the fast path an ASCII line's texts are as long in bytes as in characters: msgspec
        # has checked their limits already.
        texts_checked = values is not None and record.isascii()
        if values is None:
            values = self._checked_values(record)
        (
            artist,
            auth,
            first_name,
            gender,
            item_in_session,
            last_name,
            length,
            level,
            location,
            method,
            page,
            registration,
            session_id,
            song,
            status,
            ts,
            user_agent,
            user_id,
        ) = values

        if not 0 <= ts - self._first_ms < _DAY_MS:
            raise _Refused(f"ts {ts} is not on {self.log_date.isoformat()} (UTC)")
        if not texts_checked:
            line_bytes = len(record)
            for position, name, limit in _TEXT_CHECKS:
                if limit >= line_bytes:
                    break
                text = values[position]
                if text is not None and len(text) > limit // 4 and len(text.encode()) > limit:
                    raise _Refused(f"{name} is longer than {limit} bytes")
        if not (
            _INT32[0] <= session_id <= _INT32[1]
            and _INT32[0] <= item_in_session <= _INT32[1]
            and (status is None or _INT32[0] <= status <= _INT32[1])
        ):
            raise _Refused("sessionId, itemInSession or status is out of range")
        if user_id == "":
            user_id = None
        elif user_id is not None:
            # ASCII digits only: str.isdigit() also accepts '²' or '٣', which int() then
            # refuses or reads as a digit, and Redshift's check (sql/redshift/staging.sql) does not.
            if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 9):
                raise _Refused("userId is not a numeric string")
            user_id = int(user_id)
        if registration is not None:
            if not abs(registration) < 2**62:
                raise _Refused("registration is out of range")
            registration = int(registration)

        identity = (
            (0 if user_id is None else user_id + 1) << 91  # < 2**30 once validated
            | (session_id + 2**31) << 59  # int32, shifted to 0 .. 2**32
            | (item_in_session + 2**31) << 27
            | (ts - self._first_ms)  # within the day: < 2**27
        )
        if identity in self._seen:
            raise _Refused(DUPLICATE_REASON)
        self._seen.add(identity)
        return (
            self.log_date,
            artist,
            auth,
            first_name,
            gender,
            item_in_session,
            last_name,
            length,
            level,
            location,
            method,
            page,
            registration,
            session_id,
            song,
            status,
            ts,
            user_agent,
            user_id,
            self.source_file,
            line_number,
        )

    def _checked_values(self, record: bytes) -> tuple[Any, ...]:
        """The orjson path: EVENT_FIELDS' values of ``record``, or a refusal naming the problem."""
        if b"\\u0000" in record:
            raise _Refused("text contains a NUL character (\\u0000)")
        try:
            event = orjson.loads(record)
        except orjson.JSONDecodeError as error:
            raise _Refused(f"malformed JSON: {error}") from None
        if type(event) is not dict:
            raise _Refused(f"expected a JSON object, found {type(event).__name__}")
        values = tuple(map(event.get, EVENT_FIELDS))
        signature = tuple(map(type, values))
        if signature not in self._valid_signatures:
            self._check_types(values, signature)
        return values

    def _check_types(self, values: tuple[object, ...], signature: tuple[type, ...]) -> None:
        """Raises with the first field of a wrong type; otherwise remembers the signature."""
        for name, value, kind in zip(EVENT_FIELDS, values, signature, strict=True):
            if kind not in _ALLOWED_TYPES[name]:
                raise _Refused(_type_problem(name, value))
        self._valid_signatures.add(signature)

    def _refuse(self, line_number: int, reason: str, raw: bytes) -> None:
        # Keep only what the quarantine table stores, so a file of huge lines cannot exhaust memory.
        kept = raw[:RAW_BYTES_KEPT]
        self.rejected.append(RejectedRecord(self.source_file, line_number, reason, kept))
        self.rejected_count += 1
        self._pending_bytes += len(kept) + 200  # and the record around it

    @staticmethod
    def _skip_rest_of_line(stream: BinaryIO) -> None:
        while True:
            chunk = stream.readline(MAX_LINE_BYTES)
            if not chunk or chunk.endswith(b"\n"):
                return

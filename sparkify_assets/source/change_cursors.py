"""What the source sensors remember between ticks, and how a listing becomes work (pure code; the
cursor's rules: docs/architecture.md, "source/")."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from sparkify_assets.source.layout import log_date_of, log_key_for

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

CURSOR_FORMAT = 1
SETTLE_SECONDS = 5 * 60
DEFER_DAYS = 7  # a file dated up to a week after today waits for its day; later ones are ignored


@dataclass(frozen=True)
class ObservedFile:
    """One object of a listing: key (relative to the tree), version (ETag) and LastModified."""

    key: str
    version: str
    last_modified: datetime


@dataclass(frozen=True)
class LogFileChange:
    """A log file to load: new, changed, or arrived late."""

    day: date
    file: ObservedFile

    @property
    def run_key(self) -> str:
        """Unique per upload (key, ETag and LastModified): a file re-uploaded with different
        content gets a new run even if an older upload had the same content."""
        stamp = int(self.file.last_modified.timestamp())
        return f"{self.file.key}@{self.file.version}@{stamp}"


@dataclass
class LogTick:
    """What one tick found."""

    changes: list[LogFileChange] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (key, why)
    deferred: list[str] = field(default_factory=list)
    full_listing: bool = False
    files_listed: int = 0


@dataclass(frozen=True)
class LogFileCursor:
    """The log sensor's memory (its rules: docs/architecture.md, "source/")."""

    last_key: str | None = None
    mark: datetime | None = None
    recent: dict[str, str] = field(default_factory=dict)  # key -> version_fingerprint(version)
    deferred: dict[str, str] = field(default_factory=dict)
    deferred_modified: dict[str, float] = field(default_factory=dict)
    full_listing_at: float | None = None

    @staticmethod
    def from_json(text: str | None) -> LogFileCursor:
        if not text:
            return LogFileCursor()
        data = json.loads(text)
        if data.get("format") != CURSOR_FORMAT:
            raise ValueError(f"unknown log sensor cursor format: {data.get('format')!r}")
        mark = data.get("mark")
        last_key = data.get("last_key")
        full_listing_at = data.get("full_listing_at")
        if last_key is not None and log_date_of(last_key) is None:
            # Written before junk keys were kept out of it: forget it and list everything once.
            last_key, full_listing_at = None, None
        return LogFileCursor(
            last_key=last_key,
            mark=datetime.fromtimestamp(mark, UTC) if mark is not None else None,
            recent={_expand_key(k): v for k, v in data.get("recent", {}).items()},
            deferred={k: v[0] for k, v in data.get("deferred", {}).items()},
            deferred_modified={k: v[1] for k, v in data.get("deferred", {}).items()},
            full_listing_at=full_listing_at,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": CURSOR_FORMAT,
                "last_key": self.last_key,
                "mark": self.mark.timestamp() if self.mark else None,
                "recent": {_compact_key(k): v for k, v in sorted(self.recent.items())},
                "deferred": {
                    k: [v, self.deferred_modified[k]] for k, v in sorted(self.deferred.items())
                },
                "full_listing_at": self.full_listing_at,
            },
            separators=(",", ":"),
        )

    def needs_full_listing(self, now: float, interval_seconds: float) -> bool:
        """True on the first tick, and when the last full listing is ``interval_seconds`` old."""
        return (
            self.mark is None
            or self.full_listing_at is None
            or now - self.full_listing_at >= interval_seconds
        )

    def after_listing(
        self,
        listing: Iterable[ObservedFile],
        *,
        full: bool,
        started_at: float,
        first_day: date,
        last_day: date,
        already_loaded: Mapping[str, str] | None = None,
    ) -> tuple[LogFileCursor, LogTick]:
        """The new cursor and the work found in ``listing``: every file under ``log_data/`` when
        ``full``, else the keys after ``last_key`` (the caller lists with ``StartAfter``).
        ``first_day``..``last_day`` are the days that are partitions now. On the first tick (no
        cursor yet), a file whose version is its key's in ``already_loaded`` (key -> version
        that the warehouse's latest load of that day read) is not new."""
        loaded = already_loaded or {}
        tick = LogTick(full_listing=full)
        last_key = self.last_key
        recent = dict(self.recent)
        deferred = dict(self.deferred)
        deferred_modified = dict(self.deferred_modified)
        new_mark = self.mark
        if full:
            listing_start = datetime.fromtimestamp(started_at, UTC) - timedelta(
                seconds=SETTLE_SECONDS
            )
            new_mark = max(self.mark, listing_start) if self.mark else listing_start
        next_recent: dict[str, str] = {}

        def handle(file: ObservedFile) -> None:
            day = log_date_of(file.key)
            if day is None:
                tick.ignored.append((file.key, "not a log_data/YYYY/MM/YYYY-MM-DD-events.json key"))
            elif day < first_day:
                tick.ignored.append(
                    (file.key, f"{day.isoformat()} is before the first log date {first_day}")
                )
            elif day > last_day + timedelta(days=DEFER_DAYS):
                tick.ignored.append(
                    (file.key, f"{day.isoformat()} is more than {DEFER_DAYS} days in the future")
                )
            elif day > last_day:
                deferred[file.key] = file.version
                deferred_modified[file.key] = file.last_modified.timestamp()
                tick.deferred.append(file.key)
            else:
                deferred.pop(file.key, None)
                deferred_modified.pop(file.key, None)
                tick.changes.append(LogFileChange(day, file))

        for file in listing:
            tick.files_listed += 1
            # Only a day file that can become a partition moves the incremental listing's start: a
            # junk key sorting after every date (log_data/zzz, log_data/2999/...) would otherwise
            # hide every new day until the next full listing.
            day = log_date_of(file.key)
            is_day_file = day is not None and day <= last_day + timedelta(days=DEFER_DAYS)
            if is_day_file and (last_key is None or file.key > last_key):
                last_key = file.key
            changed_since_mark = self.mark is None or (
                file.last_modified >= self.mark
                and self.recent.get(file.key) != version_fingerprint(file.version)
            )
            passed = self.last_key is not None and file.key > self.last_key
            if full:
                if self.mark is None:  # the first tick: a file some run loaded at this version
                    is_new = loaded.get(file.key) != file.version
                else:
                    # a day key never passed: found here if its upload outlasted SETTLE_SECONDS
                    is_new = changed_since_mark or (is_day_file and passed)
                if is_new:
                    handle(file)
                if new_mark is not None and file.last_modified >= new_mark:
                    next_recent[file.key] = version_fingerprint(file.version)
            elif self.last_key is None or passed:
                # Junk keys after the last day are listed again on every tick: reported once.
                if is_day_file or changed_since_mark:
                    handle(file)
                if self.mark is None or file.last_modified >= self.mark:
                    recent[file.key] = version_fingerprint(file.version)

        # Deferred files whose day has become a partition (the listing did not see them again).
        seen = {change.file.key for change in tick.changes} | set(tick.deferred)
        for key, version in sorted(self.deferred.items()):
            day = log_date_of(key)
            if key not in seen and day is not None and day <= last_day:
                modified = datetime.fromtimestamp(self.deferred_modified[key], UTC)
                tick.changes.append(LogFileChange(day, ObservedFile(key, version, modified)))
                deferred.pop(key)
                deferred_modified.pop(key)

        cursor = replace(
            self,
            last_key=last_key,
            mark=new_mark,
            recent=next_recent if full else recent,
            deferred=deferred,
            deferred_modified=deferred_modified,
            full_listing_at=started_at if full else self.full_listing_at,
        )
        tick.changes.sort(key=lambda change: change.file.key)
        return cursor, tick


def version_fingerprint(version: str) -> str:
    """48 bits of a hash of a file version (ETag): what the cursor keeps to notice a change."""
    return hashlib.blake2b(version.encode(), digest_size=6).hexdigest()


def _compact_key(key: str) -> str:
    day = log_date_of(key)
    return day.isoformat() if day is not None else key


def _expand_key(stored: str) -> str:
    if _ISO_DAY.match(stored):
        return log_key_for(date.fromisoformat(stored))
    return stored


def catalog_digest(files: Iterable[tuple[str, str]]) -> tuple[str, int]:
    """A digest of the (key, version) pairs of the song files, and how many there are."""
    digest = hashlib.sha256()
    count = 0
    for key, version in sorted(files):
        digest.update(f"{key}\0{version}\n".encode())
        count += 1
    return digest.hexdigest(), count

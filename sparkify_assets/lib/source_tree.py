"""Reading a Sparkify source tree: listing its log days and song files, and streaming a file.

A tree is a local directory or an S3 prefix with the same layout (``source_layout``). Assets
talk to the :class:`SourceTree` protocol only; ``open_source_tree`` picks the implementation from
the URL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO, Protocol

from sparkify_assets.lib.source_layout import (
    LOG_PREFIX,
    SONG_PREFIX,
    is_song_key,
    log_date_of,
    log_key_for,
)

logger = logging.getLogger(__name__)


class SourceFileMissing(FileNotFoundError):
    """A file the load needs is not in the source tree."""


class SourceDirectoryMissing(SourceFileMissing):
    """The source tree's local directory does not exist."""


@dataclass(frozen=True)
class SourceFile:
    """One file of the tree. ``version`` changes when the content does (an ETag, or mtime+size)."""

    key: str
    size: int
    version: str


class SourceTree(Protocol):
    """The raw data set, wherever it lives."""

    @property
    def url(self) -> str: ...

    def log_file(self, day: date) -> SourceFile:
        """The log file of ``day``; raises SourceFileMissing when there is none."""
        ...

    def log_files(self) -> Iterator[tuple[date, SourceFile]]:
        """Every log file whose key follows the layout, with its log date, in key order."""
        ...

    def song_files(self) -> Iterator[SourceFile]:
        """Every song file, in key order."""
        ...

    def open(self, file: SourceFile) -> AbstractContextManager[BinaryIO]:
        """A binary stream of the file's bytes, read incrementally."""
        ...


class LocalSourceTree:
    """A source tree in a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            raise SourceDirectoryMissing(f"source directory {self.root} does not exist")

    @property
    def url(self) -> str:
        return str(self.root)

    def _file(self, path: Path) -> SourceFile:
        stat = path.stat()
        return SourceFile(
            key=path.relative_to(self.root).as_posix(),
            size=stat.st_size,
            version=f"{stat.st_mtime_ns}-{stat.st_size}",
        )

    def log_file(self, day: date) -> SourceFile:
        path = self.root / log_key_for(day)
        if not path.is_file():
            raise SourceFileMissing(f"no log file for {day.isoformat()}: {path} does not exist")
        return self._file(path)

    def log_files(self) -> Iterator[tuple[date, SourceFile]]:
        for path in sorted((self.root / LOG_PREFIX).rglob("*")):
            if not path.is_file():
                continue
            file = self._file(path)
            day = log_date_of(file.key)
            if day is None:
                logger.info(
                    "ignoring %s: not a log_data/YYYY/MM/YYYY-MM-DD-events.json key", file.key
                )
                continue
            yield day, file

    def song_files(self) -> Iterator[SourceFile]:
        for path in sorted((self.root / SONG_PREFIX).rglob("*.json")):
            file = self._file(path)
            if path.is_file() and is_song_key(file.key):
                yield file

    def open(self, file: SourceFile) -> AbstractContextManager[BinaryIO]:
        return (self.root / file.key).open("rb")


def open_source_tree(url: str, **s3_options: str | None) -> SourceTree:
    """The tree at ``url``: ``s3://bucket/prefix`` or a local directory."""
    if url.startswith("s3://"):
        from sparkify_assets.lib.s3_source_tree import S3SourceTree  # boto3 only when used

        return S3SourceTree.from_url(url, **s3_options)
    if "://" in url:
        raise ValueError(
            f"unsupported source URL {url!r}: use a local directory or s3://bucket/prefix"
        )
    return LocalSourceTree(Path(url).expanduser())

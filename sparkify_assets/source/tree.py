"""The source tree interface: its files, listing and streaming, and the errors reading raises.

Implementations: ``local_tree`` (a directory), ``s3_tree`` (an S3 prefix); ``open_tree`` picks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO, Protocol

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


class SourceFileRefused(OSError):
    """A file of the tree that is not read: a symbolic link, a FIFO, a device, a socket, or a
    path leaving the tree. The message is the reason stored in the quarantine."""

"""A source tree in a local directory, read without following any link out of it."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sparkify_assets.source.layout import (
    LOG_PREFIX,
    SONG_PREFIX,
    is_song_key,
    log_date_of,
    log_key_for,
)
from sparkify_assets.source.tree import (
    SourceDirectoryMissing,
    SourceFile,
    SourceFileMissing,
    SourceFileRefused,
)

logger = logging.getLogger(__name__)

_READ_BUFFER_BYTES = 256 * 1024
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


class LocalSourceTree:
    """A source tree in a local directory.

    Hostile trees are expected: nothing is followed out of the root. Listings do not follow
    symbolic links (a linked folder is not entered; a linked file is listed, and refused when
    opened, so the load quarantines it with the reason). ``open`` walks the key one folder at a
    time with ``O_NOFOLLOW`` from the root, opens the file with ``O_NONBLOCK`` (a FIFO swapped in
    after the listing cannot block) and reads it only if ``fstat`` says it is a regular file.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            raise SourceDirectoryMissing(f"source directory {self.root} does not exist")

    @property
    def url(self) -> str:
        return str(self.root)

    def _file(self, key: str, status: os.stat_result) -> SourceFile:
        return SourceFile(
            key=key, size=status.st_size, version=f"{status.st_mtime_ns}-{status.st_size}"
        )

    def walk(self, under: str) -> Iterator[tuple[str, os.stat_result]]:
        """(key, lstat) of every entry under ``under`` that is not a folder, in key order,
        without following any symbolic link."""
        found: list[tuple[str, os.stat_result]] = []
        pending = [under.rstrip("/")]
        while pending:
            folder = pending.pop()
            try:
                status = os.lstat(self.root / folder)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(status.st_mode):
                logger.warning("not entering %r: a symbolic link", folder)
                continue
            if not stat.S_ISDIR(status.st_mode):
                continue
            with os.scandir(self.root / folder) as entries:
                for entry in entries:
                    key = f"{folder}/{entry.name}" if folder else entry.name
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(key)
                    else:
                        found.append((key, entry.stat(follow_symlinks=False)))
        found.sort(key=lambda item: item[0])
        for key, status in found:
            if not stat.S_ISREG(status.st_mode):
                logger.warning("%r is %s: it will be refused", key, _kind(status.st_mode))
            yield key, status

    def log_file(self, day: date) -> SourceFile:
        key = log_key_for(day)
        try:
            status = os.lstat(self.root / key)
        except (FileNotFoundError, NotADirectoryError):
            raise SourceFileMissing(
                f"no log file for {day.isoformat()}: {self.root / key} does not exist"
            ) from None
        return self._file(key, status)

    def log_files(self) -> Iterator[tuple[date, SourceFile]]:
        for key, status in self.walk(LOG_PREFIX):
            day = log_date_of(key)
            if day is None:
                logger.info("ignoring %r: not a log_data/YYYY/MM/YYYY-MM-DD-events.json key", key)
                continue
            yield day, self._file(key, status)

    def song_files(self) -> Iterator[SourceFile]:
        for key, status in self.walk(SONG_PREFIX):
            if is_song_key(key):
                yield self._file(key, status)

    @contextmanager
    def open(self, file: SourceFile) -> Iterator[BinaryIO]:
        """The file's bytes, read in bounded chunks; ``SourceFileRefused`` unless it is a regular
        file inside the root reached without a symbolic link."""
        descriptor = self._open_regular_file(file.key)
        with os.fdopen(descriptor, "rb", buffering=_READ_BUFFER_BYTES) as stream:
            yield stream

    def _open_regular_file(self, key: str) -> int:
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):
            raise SourceFileRefused(f"{key!r} is not a plain path inside the source tree")
        folder = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in parts[:-1]:
                try:
                    inner = os.open(part, _OPEN_FOLDER, dir_fd=folder)
                except OSError as error:
                    if isinstance(error, FileNotFoundError):
                        raise SourceFileMissing(f"{key} does not exist") from None
                    if error.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise SourceFileRefused(
                            f"refused: the folder {part!r} on the path is a symbolic link or"
                            " not a folder"
                        ) from None
                    raise
                os.close(folder)
                folder = inner
            try:
                descriptor = os.open(parts[-1], _OPEN_FILE, dir_fd=folder)
            except FileNotFoundError:
                raise SourceFileMissing(f"{key} does not exist") from None
            except OSError as error:
                if error.errno == errno.ELOOP:
                    raise SourceFileRefused("refused: a symbolic link") from None
                if error.errno == errno.ENXIO:  # a socket
                    raise SourceFileRefused("refused: not a regular file (a socket)") from None
                raise
        finally:
            os.close(folder)
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            os.close(descriptor)
            raise SourceFileRefused(f"refused: not a regular file ({_kind(status.st_mode)})")
        flags = fcntl.fcntl(descriptor, fcntl.F_GETFL)
        fcntl.fcntl(descriptor, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        return descriptor

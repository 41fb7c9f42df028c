"""Listing a source tree with what the sensors need (key, version, last-modified): S3 after
``StartAfter``, a local directory walked with the versions ``LocalSourceTree`` gives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from sparkify_assets.source.change_cursors import ObservedFile
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.source.tree import SourceTree


def list_source_files(
    tree: SourceTree, under: str, *, start_after: str | None = None
) -> Iterator[ObservedFile]:
    """The files whose key starts with ``under`` (and sorts after ``start_after``), in key
    order."""
    if isinstance(tree, LocalSourceTree):
        yield from _list_local(tree, under, start_after)
        return
    from sparkify_assets.source.s3_tree import S3SourceTree  # boto3 only when used

    if not isinstance(tree, S3SourceTree):
        raise TypeError(f"cannot list {type(tree).__name__} {tree.url}")
    for listed in tree.list_objects(under, start_after=start_after):
        yield ObservedFile(listed.key, listed.etag, listed.last_modified)


def _list_local(
    tree: LocalSourceTree, under: str, start_after: str | None
) -> Iterator[ObservedFile]:
    # Symbolic links and other non-regular entries are listed too (never followed): the load
    # refuses them with a quarantine reason instead of dropping them silently.
    for key, status in tree.walk(under):
        if start_after is None or key > start_after:
            yield ObservedFile(
                key=key,
                version=f"{status.st_mtime_ns}-{status.st_size}",
                last_modified=datetime.fromtimestamp(status.st_mtime, UTC),
            )

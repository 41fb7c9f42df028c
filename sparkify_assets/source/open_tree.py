"""Opening the source tree a URL names: ``s3://bucket/prefix`` or a local directory."""

from __future__ import annotations

from pathlib import Path

from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.source.tree import SourceTree


def open_source_tree(url: str, **s3_options: str | None) -> SourceTree:
    """The tree at ``url``: ``s3://bucket/prefix`` or a local directory."""
    if url.startswith("s3://"):
        from sparkify_assets.source.s3_tree import S3SourceTree  # boto3 only when used

        return S3SourceTree.from_url(url, **s3_options)
    if "://" in url:
        raise ValueError(
            f"unsupported source URL {url!r}: use a local directory or s3://bucket/prefix"
        )
    return LocalSourceTree(Path(url).expanduser())

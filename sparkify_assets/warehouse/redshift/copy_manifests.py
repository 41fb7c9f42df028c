"""COPY manifests: the exact S3 objects one Redshift COPY may read (a key alone is a prefix),
written under ``SPARKIFY_REDSHIFT_STAGING_URL`` (docs/redshift.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sparkify_assets.source.s3_tree import split_s3_url

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

_RUN_PART = re.compile(r"[^A-Za-z0-9_-]+")
STAGING_SETTING = "SPARKIFY_REDSHIFT_STAGING_URL"


def manifest_body(urls: Sequence[str], *, sizes: Sequence[int] | None = None) -> bytes:
    """The manifest JSON listing ``urls`` (s3:// URLs), each mandatory; with ``sizes``, each
    object's ``content_length`` too (COPY from Parquet requires it)."""
    if not urls:
        raise ValueError("a manifest lists at least one object")
    for url in urls:
        if not url.startswith("s3://"):
            raise ValueError(f"a manifest lists s3:// URLs, not {url!r}")
    entries: list[dict[str, object]] = [{"url": url, "mandatory": True} for url in urls]
    if sizes is not None:
        for entry, size in zip(entries, sizes, strict=True):
            entry["meta"] = {"content_length": size}
    return json.dumps({"entries": entries}, indent=1).encode()


class ManifestStore:
    """Writes manifests under one ``s3://bucket/prefix``."""

    def __init__(self, staging_url: str, client: S3Client | Any) -> None:
        if not staging_url.startswith("s3://"):
            raise ValueError(f"{STAGING_SETTING} must be an s3://bucket/prefix URL")
        self.bucket, prefix = split_s3_url(staging_url)
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.client = client

    @classmethod
    def from_url(cls, staging_url: str, *, region: str = "") -> ManifestStore:
        """A store with a client from dagster-aws's ``S3Resource`` (the AWS credential chain;
        ``AWS_ENDPOINT_URL`` is honoured)."""
        from dagster_aws.s3 import S3Resource

        client = S3Resource(region_name=region or None).get_client()
        return cls(staging_url, client)

    def key_for(self, run_id: str, name: str) -> str:
        run = _RUN_PART.sub("-", run_id)[:64] or "run"
        return f"{self.prefix}manifests/{run}/{name}.manifest"

    def write(self, run_id: str, name: str, urls: Sequence[str]) -> str:
        """Writes the manifest of ``urls``; returns its s3:// URL."""
        key = self.key_for(run_id, name)
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=manifest_body(urls), ContentType="application/json"
        )
        return f"s3://{self.bucket}/{key}"

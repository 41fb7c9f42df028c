"""A source tree under ``s3://bucket/prefix``, read through dagster-aws's ``S3Resource`` (credential
chain, botocore's standard retries); listings paginate, objects stream and never touch the disk."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from botocore.exceptions import ClientError

from sparkify_assets.source.layout import (
    LOG_PREFIX,
    SONG_PREFIX,
    is_song_key,
    log_date_of,
    log_key_for,
)
from sparkify_assets.source.tree import SourceFile, SourceFileMissing

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

logger = logging.getLogger(__name__)

# botocore's retries.max_attempts (which dagster-aws's S3Resource sets): retries after the first
# request, with exponential backoff and jitter, capped at 20 s.
DEFAULT_MAX_ATTEMPTS = 8
_STREAM_BUFFER_BYTES = 256 * 1024

_MISSING_BUCKET_CODES = {"NoSuchBucket"}
_MISSING_KEY_CODES = {"NoSuchKey", "404", "NotFound"}
_DENIED_CODES = {"AccessDenied", "403", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


class SourceAccessDenied(PermissionError):
    """The credentials in use may not read the source bucket or key."""


class SourceBucketMissing(SourceFileMissing):
    """The source bucket does not exist."""


@dataclass(frozen=True)
class ListedObject:
    """One object of a listing: its key relative to the tree, ETag, size and LastModified."""

    key: str
    etag: str
    size: int
    last_modified: datetime

    @property
    def source_file(self) -> SourceFile:
        return SourceFile(key=self.key, size=self.size, version=self.etag)


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> (``bucket``, ``some/prefix/``); the prefix may be empty."""
    if not url.startswith("s3://"):
        raise ValueError(f"not an S3 URL: {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"S3 URL without a bucket: {url!r}")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class _BodyReader(io.RawIOBase):
    """A raw stream over a botocore ``StreamingBody`` so ``io.BufferedReader`` can buffer it."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._body.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._body.close()
        super().close()


class S3SourceTree:
    """The source tree under ``s3://bucket/prefix``."""

    def __init__(self, bucket: str, prefix: str, client: S3Client) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        max_attempts: int | str | None = None,
    ) -> S3SourceTree:
        """The tree at ``url``, with a client from dagster-aws's ``S3Resource``. ``endpoint_url``
        and ``region_name`` override ``AWS_ENDPOINT_URL`` and the AWS region chain."""
        from dagster_aws.s3 import S3Resource  # here: dagster-aws takes ~0.8 s to import

        bucket, prefix = split_s3_url(url)
        resource = S3Resource(
            endpoint_url=endpoint_url or None,
            region_name=region_name or None,
            max_attempts=int(max_attempts) if max_attempts else DEFAULT_MAX_ATTEMPTS,
        )
        return cls(bucket, prefix, resource.get_client())

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def _s3_key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _failure(self, error: ClientError, key: str, action: str) -> Exception:
        """A clear exception for an S3 error response about ``key`` (relative to the tree)."""
        code = str(error.response.get("Error", {}).get("Code", ""))
        where = f"s3://{self.bucket}/{self._s3_key(key)}"
        if code in _MISSING_BUCKET_CODES:
            return SourceBucketMissing(
                f"S3 bucket {self.bucket!r} does not exist (while {action} {where})"
            )
        if code in _DENIED_CODES:
            return SourceAccessDenied(
                f"access denied to S3 bucket {self.bucket!r}, key {self._s3_key(key)!r} (while"
                f" {action} {where}; S3 said {code}): check the credentials and the bucket policy"
            )
        if code in _MISSING_KEY_CODES:
            return SourceFileMissing(f"{where} does not exist (while {action})")
        return error

    def list_objects(self, under: str, *, start_after: str | None = None) -> Iterator[ListedObject]:
        """Every object whose key (relative to the tree) starts with ``under``, in key order,
        page by page; only keys greater than ``start_after`` when it is given."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self._s3_key(under)}
        if start_after:
            params["StartAfter"] = self._s3_key(start_after)
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(**params):
                for item in page.get("Contents", []):
                    yield ListedObject(
                        key=item["Key"][len(self.prefix) :],
                        etag=item["ETag"].strip('"'),
                        size=item["Size"],
                        last_modified=item["LastModified"].astimezone(UTC),
                    )
        except ClientError as error:
            raise self._failure(error, under, "listing") from error

    def log_file(self, day: date) -> SourceFile:
        key = log_key_for(day)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._s3_key(key))
        except ClientError as error:
            failure = self._failure(error, key, "reading")
            if type(failure) is SourceFileMissing:
                # A HEAD cannot tell a missing bucket from a missing key: ask once.
                self._check_bucket(key)
                raise SourceFileMissing(f"no log file for {day.isoformat()}: {failure}") from error
            raise failure from error
        return SourceFile(key=key, size=head["ContentLength"], version=head["ETag"].strip('"'))

    def _check_bucket(self, key: str) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchBucket", "NotFound"}:
                raise SourceBucketMissing(
                    f"S3 bucket {self.bucket!r} does not exist (while reading"
                    f" s3://{self.bucket}/{self._s3_key(key)})"
                ) from error
            raise self._failure(error, key, "reading") from error

    def log_files(self) -> Iterator[tuple[date, SourceFile]]:
        for listed in self.list_objects(LOG_PREFIX):
            day = log_date_of(listed.key)
            if day is None:
                logger.info(
                    "ignoring s3://%s/%s%s: not a log_data/YYYY/MM/YYYY-MM-DD-events.json key",
                    self.bucket,
                    self.prefix,
                    listed.key,
                )
                continue
            yield day, listed.source_file

    def song_files(self) -> Iterator[SourceFile]:
        for listed in self.list_objects(SONG_PREFIX):
            if is_song_key(listed.key):
                yield listed.source_file

    def open(self, file: SourceFile) -> AbstractContextManager[BinaryIO]:
        return self._stream(file)

    @contextmanager
    def _stream(self, file: SourceFile) -> Iterator[BinaryIO]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._s3_key(file.key))
        except ClientError as error:
            raise self._failure(error, file.key, "reading") from error
        reader = io.BufferedReader(_BodyReader(response["Body"]), _STREAM_BUFFER_BYTES)
        try:
            yield reader
        finally:
            reader.close()

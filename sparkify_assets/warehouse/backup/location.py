"""Where backups are written, ``s3://bucket/prefix`` (encrypted at rest) or a local directory, and
the few operations on keys there; an unusable location fails before anything changes."""

from __future__ import annotations

import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from sparkify_assets.source.s3_tree import DEFAULT_MAX_ATTEMPTS, split_s3_url

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

SSE_S3 = "AES256"
SSE_KMS = "aws:kms"
# Written and deleted again to prove a location is writable; a leading underscore makes Athena,
# Spectrum and Hive readers skip it should it stay behind.
_PROBE_PREFIX = "_write_probe/"
_MISSING_CODES = {"404", "NoSuchBucket", "NotFound"}
_DENIED_CODES = {"403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"}


class BackupLocationError(Exception):
    """The backup location is missing, unreadable or not writable."""


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the location
    size: int


class BackupLocation(ABC):
    """A backup location: a local directory or an S3 prefix."""

    url: str
    kms_key_id: str = ""  # SSE-KMS key of an S3 location; empty: SSE-S3 (or not S3)

    @abstractmethod
    def check_readable(self) -> None:
        """Raises BackupLocationError when the location does not exist or cannot be listed."""

    def check_writable(self) -> None:
        """Raises BackupLocationError unless an object can be written and deleted here."""
        self.check_readable()
        key = f"{_PROBE_PREFIX}{uuid.uuid4().hex}"
        self.put_bytes(key, b"")
        self.delete([key])

    @abstractmethod
    def list(self, prefix: str) -> list[StoredObject]:
        """Every object whose key starts with ``prefix``, in key order."""

    @abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Stores the local file ``path`` as ``key`` (moving it when that is cheaper)."""

    @abstractmethod
    def put_bytes(self, key: str, body: bytes) -> None: ...

    @abstractmethod
    def read_bytes(self, key: str, start: int | None = None, length: int | None = None) -> bytes:
        """The object, or ``length`` bytes of it from ``start``."""

    @abstractmethod
    def download(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def delete(self, keys: Iterable[str]) -> None: ...

    def s3_url(self, key: str) -> str:
        """The object's s3:// URL (what Redshift UNLOAD and COPY need)."""
        raise BackupLocationError(
            f"the Redshift engine backs up with UNLOAD to S3: SPARKIFY_BACKUP_URL must be an"
            f" s3://bucket/prefix, not {self.url!r}"
        )


class LocalBackupLocation(BackupLocation):
    """A directory on this machine. It must exist: a typo must not create a new tree."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"backup key {key!r} leaves the backup directory")
        return path

    def check_readable(self) -> None:
        if not self.root.is_dir():
            raise BackupLocationError(
                f"backup directory {self.root} does not exist (or is not a directory): create it"
                " or set SPARKIFY_BACKUP_URL to an existing directory or s3://bucket/prefix"
            )

    def check_writable(self) -> None:
        try:
            super().check_writable()
        except OSError as error:
            raise BackupLocationError(
                f"backup directory {self.root} is not writable: {error.strerror or error}"
            ) from None

    def list(self, prefix: str) -> list[StoredObject]:
        start = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not start.is_dir():
            return []
        found = []
        for path in start.rglob("*"):
            if path.is_file():
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(StoredObject(key, path.stat().st_size))
        return sorted(found, key=lambda o: o.key)

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.move(path, partial)
        os.replace(partial, target)  # readers never see a half-written file

    def put_bytes(self, key: str, body: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(body)
        os.replace(partial, target)

    def read_bytes(self, key: str, start: int | None = None, length: int | None = None) -> bytes:
        with self._path(key).open("rb") as stream:
            if start is not None:
                stream.seek(start)
            return stream.read() if length is None else stream.read(length)

    def download(self, key: str, path: Path) -> None:
        shutil.copyfile(self._path(key), path)

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            # Drop folders left empty (a pruned snapshot), never the root itself.
            parent = path.parent
            while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent


class S3BackupLocation(BackupLocation):
    """A prefix of an S3 bucket (or of an S3-compatible store), through dagster-aws's client."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: S3Client,
        *,
        kms_key_id: str = "",
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self.kms_key_id = kms_key_id
        self.url = f"s3://{bucket}/{prefix}".rstrip("/")

    @property
    def encryption_arguments(self) -> dict[str, str]:
        """The PutObject arguments that encrypt an object at rest."""
        if self.kms_key_id:
            return {"ServerSideEncryption": SSE_KMS, "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": SSE_S3}

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def _error(self, error: Exception, action: str) -> BackupLocationError:
        code = (
            str(error.response.get("Error", {}).get("Code", ""))
            if isinstance(error, ClientError)
            else ""
        )
        if code in _MISSING_CODES:
            return BackupLocationError(
                f"backup bucket {self.bucket!r} does not exist (while {action} {self.url}):"
                " create it or fix SPARKIFY_BACKUP_URL"
            )
        if code in _DENIED_CODES:
            return BackupLocationError(
                f"access denied to the backup location {self.url} (while {action}; S3 said"
                f" {code}): the credentials in use need s3:ListBucket, s3:GetObject, s3:PutObject"
                " and s3:DeleteObject on this prefix"
            )
        return BackupLocationError(f"S3 error while {action} {self.url}: {error}")

    def check_readable(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix, MaxKeys=1)
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, "reading") from None

    def check_writable(self) -> None:
        try:
            super().check_writable()
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, "writing to") from None

    def list(self, prefix: str) -> list[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        found = []
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
                for item in page.get("Contents", []):
                    found.append(StoredObject(item["Key"][len(self.prefix) :], int(item["Size"])))
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, "listing") from None
        return found

    def put_file(self, key: str, path: Path) -> None:
        # upload_file switches to a multipart upload for large files: memory stays bounded.
        try:
            self.client.upload_file(
                str(path), self.bucket, self._key(key), ExtraArgs=self.encryption_arguments
            )
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, "writing to") from None
        except Exception as error:  # boto3's S3UploadFailedError wraps the ClientError
            cause = error.__cause__ or error.__context__
            if isinstance(cause, ClientError):
                raise self._error(cause, "writing to") from None
            raise
        finally:
            path.unlink(missing_ok=True)

    def put_bytes(self, key: str, body: bytes) -> None:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": body}
        arguments.update(self.encryption_arguments)
        try:
            self.client.put_object(**arguments)
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, "writing to") from None

    def read_bytes(self, key: str, start: int | None = None, length: int | None = None) -> bytes:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        if start is not None:
            end = "" if length is None else str(start + length - 1)
            arguments["Range"] = f"bytes={start}-{end}"
        try:
            body: bytes = self.client.get_object(**arguments)["Body"].read()
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, f"reading {key} from") from None
        return body

    def download(self, key: str, path: Path) -> None:
        try:
            self.client.download_file(self.bucket, self._key(key), str(path))
        except (ClientError, BotoCoreError) as error:
            raise self._error(error, f"reading {key} from") from None

    def delete(self, keys: Iterable[str]) -> None:
        batch = [self._key(key) for key in keys]
        for start in range(0, len(batch), 1000):  # DeleteObjects takes 1,000 keys at most
            chunk = batch[start : start + 1000]
            try:
                response = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
            except (ClientError, BotoCoreError) as error:
                raise self._error(error, "deleting from") from None
            if response.get("Errors"):
                first = response["Errors"][0]
                raise BackupLocationError(
                    f"could not delete {len(response['Errors'])} object(s) from {self.url},"
                    f" first {first.get('Key')}: {first.get('Code')} {first.get('Message')}"
                )

    def s3_url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"


def open_backup_location(
    url: str,
    *,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    kms_key_id: str = "",
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> BackupLocation:
    """The location ``url`` names: ``s3://bucket/prefix`` or a local directory path."""
    url = url.strip()
    if not url:
        raise BackupLocationError(
            "no backup location: set SPARKIFY_BACKUP_URL to s3://bucket/prefix or a directory"
        )
    if url.startswith("s3://"):
        try:
            bucket, prefix = split_s3_url(url)
        except ValueError as error:
            raise BackupLocationError(f"SPARKIFY_BACKUP_URL: {error}") from None
        from dagster_aws.s3 import S3Resource  # here: dagster-aws takes ~0.8 s to import

        client = S3Resource(
            endpoint_url=endpoint_url or None,
            region_name=region_name or None,
            max_attempts=max_attempts,
        ).get_client()
        return S3BackupLocation(bucket, prefix, client, kms_key_id=kms_key_id)
    if "://" in url:
        raise BackupLocationError(
            f"SPARKIFY_BACKUP_URL must be s3://bucket/prefix or a directory, not {url!r}"
        )
    return LocalBackupLocation(Path(url).expanduser())

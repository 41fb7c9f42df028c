"""Where warehouse backups go (``SPARKIFY_BACKUP_URL``) and how they are kept."""

import os

import dagster as dg
from pydantic import Field

from sparkify_assets.warehouse.backup.location import BackupLocation, open_backup_location

BACKUP_URL_VARIABLE = "SPARKIFY_BACKUP_URL"


def backups_configured() -> bool:
    """Whether ``SPARKIFY_BACKUP_URL`` is set: without it, no backup is automated or built."""
    return bool(os.environ.get(BACKUP_URL_VARIABLE, "").strip())


class BackupResource(dg.ConfigurableResource):
    """The backup location: Parquet files under an S3 prefix or a local directory."""

    url: str = Field(
        default="",
        description=(
            "SPARKIFY_BACKUP_URL: s3://bucket/prefix or a local directory (which must exist);"
            " empty = no backups."
        ),
    )
    kms_key_id: str = Field(
        default="",
        description=(
            "SPARKIFY_BACKUP_KMS_KEY_ID: encrypt backup objects with SSE-KMS under this key;"
            " empty = SSE-S3 (AES256)."
        ),
    )
    snapshot_retention: int = Field(
        default=7,
        description=(
            "SPARKIFY_BACKUP_SNAPSHOT_RETENTION: how many snapshots of the dimension tables"
            " (one per backup run date) to keep; older ones are deleted."
        ),
    )
    s3_endpoint_url: str = Field(
        default="",
        description="SPARKIFY_S3_ENDPOINT_URL: an S3-compatible endpoint; empty = AWS S3.",
    )
    s3_region: str = Field(default="", description="AWS_REGION of the backup bucket.")

    def location(self, url: str = "") -> BackupLocation:
        """The configured location, or ``url`` when given (a restore from elsewhere)."""
        return open_backup_location(
            url or self.url,
            endpoint_url=self.s3_endpoint_url or None,
            region_name=self.s3_region or None,
            kms_key_id=self.kms_key_id,
        )

"""Which log file (and which version of it) each ``staging_events`` partition last loaded, read back
from the partitions' materializations in the Dagster instance.

``staging_events`` records, on each day's materialization, the file it loaded and that file's
version (ETag on S3, mtime+size in a directory). The log sensor reads them on its first tick: files
that ``sparkify build`` (or any run) already loaded, at the version now in the source, are not
requested again, so the first start of the UI or the daemon after a build launches no run.
"""

from __future__ import annotations

import dagster as dg

SOURCE_FILE_METADATA = "source_file"
SOURCE_VERSION_METADATA = "source_version"
SOURCE_TREE_METADATA = "source"
STAGING_EVENTS = dg.AssetKey("staging_events")
_PAGE = 1000


def loaded_log_file_versions(instance: dg.DagsterInstance, tree_url: str) -> dict[str, str]:
    """Key -> version of the file each day's *latest* ``staging_events`` materialization loaded
    from the tree at ``tree_url`` (days last loaded from another tree are left out)."""
    latest: dict[str, str] = {}
    seen_partitions: set[str] = set()
    cursor: str | None = None
    while True:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=STAGING_EVENTS), limit=_PAGE, cursor=cursor
        )  # newest first
        for record in page.records:
            materialization = record.asset_materialization
            if materialization is None or materialization.partition is None:
                continue
            if materialization.partition in seen_partitions:
                continue  # an older load of a day seen already
            seen_partitions.add(materialization.partition)
            metadata = materialization.metadata
            key, version, tree = (
                metadata.get(SOURCE_FILE_METADATA),
                metadata.get(SOURCE_VERSION_METADATA),
                metadata.get(SOURCE_TREE_METADATA),
            )
            if key is None or version is None or tree is None or tree.value != tree_url:
                continue
            latest[str(key.value)] = str(version.value)
        if not page.has_more:
            return latest
        cursor = page.cursor

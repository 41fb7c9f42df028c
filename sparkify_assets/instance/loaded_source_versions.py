"""Which source files (and versions) the warehouse's latest loads read, from their materializations:
the sensors' first tick starts from them, so a daemon started after a build launches nothing."""

from __future__ import annotations

import dagster as dg

SOURCE_FILE_METADATA = "source_file"
SOURCE_VERSION_METADATA = "source_version"
SOURCE_TREE_METADATA = "source"
CATALOG_DIGEST_METADATA = "source_digest"
STAGING_EVENTS = dg.AssetKey("staging_events")
STAGING_SONGS = dg.AssetKey("staging_songs")
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


def loaded_catalog_digest(instance: dg.DagsterInstance, tree_url: str) -> str | None:
    """The song-file digest the latest ``staging_songs`` materialization recorded, if it loaded
    from the tree at ``tree_url``."""
    event = instance.get_latest_materialization_event(STAGING_SONGS)
    materialization = event.asset_materialization if event else None
    if materialization is None:
        return None
    tree = materialization.metadata.get(SOURCE_TREE_METADATA)
    digest = materialization.metadata.get(CATALOG_DIGEST_METADATA)
    if tree is None or digest is None or tree.value != tree_url:
        return None
    return str(digest.value)

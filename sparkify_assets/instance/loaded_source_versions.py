"""Which source files (and versions) the latest loads read (the loads' observations) and the
catalog digest: the sensors' first tick starts from them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import dagster as dg

from sparkify_assets.source.layout import log_date_of
from sparkify_assets.warehouse.interface import FileLoad

SOURCE_FILE_METADATA = "source_file"
SOURCE_VERSION_METADATA = "source_version"
SOURCE_TREE_METADATA = "source"
CATALOG_DIGEST_METADATA = "source_digest"
LOADED_FILES_METADATA = "loaded_files"
STAGING_EVENTS = dg.AssetKey("staging_events")
STAGING_SONGS = dg.AssetKey("staging_songs")
_PAGE = 1000


def loaded_files_observation(tree_url: str, files: Iterable[FileLoad]) -> dg.AssetObservation:
    """One ``staging_events`` observation naming every log file a run loaded (key -> version,
    rows): a range of years is one event, where per-day metadata would be thousands."""
    return dg.AssetObservation(
        asset_key=STAGING_EVENTS,
        description="the log files this run loaded",
        metadata={
            SOURCE_TREE_METADATA: tree_url,
            LOADED_FILES_METADATA: dg.MetadataValue.json(
                {file.key: {"version": file.version, "rows": file.loaded} for file in files}
            ),
        },
    )


def loaded_log_file_versions(instance: dg.DagsterInstance, tree_url: str) -> dict[str, str]:
    """Key -> version of the file each day's *latest* load read, from the loads' observations,
    if that load read the tree at ``tree_url`` (days last loaded from another tree are left out)."""
    latest: dict[str, str] = {}
    seen_days: set[date] = set()
    cursor: str | None = None
    while True:
        page = instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=STAGING_EVENTS), limit=_PAGE, cursor=cursor
        )  # newest first
        for record in page.records:
            observation = record.asset_observation
            metadata = observation.metadata if observation is not None else {}
            tree, files = metadata.get(SOURCE_TREE_METADATA), metadata.get(LOADED_FILES_METADATA)
            if tree is None or not isinstance(files, dg.JsonMetadataValue):
                continue
            for key, loaded in dict(files.value or {}).items():
                day = log_date_of(key)
                if day is None or day in seen_days:
                    continue  # an older load of a day seen already
                seen_days.add(day)
                if tree.value == tree_url:
                    latest[key] = str(loaded["version"])
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

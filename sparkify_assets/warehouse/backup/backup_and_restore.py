"""Backing the warehouse up to Parquet and restoring it: what a backup of some days holds, its
manifests, replacing a partition with no leftovers, a restore checked first (docs/backups.md)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sparkify_assets.warehouse.backup.datasets import (
    ALL_DATASETS,
    DAILY_DATASETS,
    LOG_DATE,
    MANIFEST_FOLDER,
    SNAPSHOT_DATASETS,
    SNAPSHOT_DATE,
    BackupDataset,
    BackupError,
    BackupPart,
    manifest_key,
)
from sparkify_assets.warehouse.backup.location import BackupLocation, StoredObject
from sparkify_assets.warehouse.backup.restore_plan import RestorePart, RestorePlan
from sparkify_assets.warehouse.interface import Log, Warehouse
from sparkify_assets.warehouse.load_window import LoadWindow

if TYPE_CHECKING:  # imported where used: not by every process that loads the definitions
    import pyarrow as pa
    import pyarrow.parquet as pq

MANIFEST_FORMAT = 1
_FOOTER_READ_BYTES = 64 * 1024  # one ranged read holds the footer of any file written here


@dataclass(frozen=True)
class BackupFile:
    key: str
    rows: int
    bytes: int


@dataclass
class PartReport:
    """What one data set's partition holds after a backup, and what the warehouse held."""

    part: BackupPart
    warehouse_rows: int
    files: list[BackupFile] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)


@dataclass
class BackupReport:
    parts: list[PartReport]
    snapshot_date: date
    pruned_snapshots: list[date]

    def per_dataset(self) -> dict[str, dict[str, int]]:
        """Files, rows and bytes written per data set (over every partition of the run)."""
        totals: dict[str, dict[str, int]] = {
            d.name: {"files": 0, "rows": 0, "bytes": 0} for d in ALL_DATASETS
        }
        for report in self.parts:
            total = totals[report.part.dataset.name]
            total["files"] += len(report.files)
            total["rows"] += report.rows
            total["bytes"] += report.bytes
        return totals

    def mismatches(self) -> list[dict[str, object]]:
        """Partitions whose files hold another number of rows than the warehouse did."""
        return [
            {"folder": r.part.folder, "file_rows": r.rows, "warehouse_rows": r.warehouse_rows}
            for r in self.parts
            if r.rows != r.warehouse_rows
        ]


def parquet_metadata(location: BackupLocation, stored: StoredObject) -> pq.FileMetaData:
    """The footer of a Parquet file, read with one or two ranged reads (not the whole file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if stored.size < 12:
        raise BackupError(
            f"{location.url}/{stored.key} is not a Parquet file ({stored.size} bytes)"
        )
    tail_length = min(stored.size, _FOOTER_READ_BYTES)
    tail = location.read_bytes(stored.key, stored.size - tail_length, tail_length)
    if tail[-4:] != b"PAR1":
        raise BackupError(f"{location.url}/{stored.key} is not a Parquet file")
    footer_length = int.from_bytes(tail[-8:-4], "little")
    if footer_length + 8 > stored.size - 4:
        raise BackupError(f"{location.url}/{stored.key}: damaged Parquet footer")
    if footer_length + 8 > tail_length:
        tail = location.read_bytes(stored.key, stored.size - footer_length - 8, footer_length + 8)
    try:
        return pq.read_metadata(pa.BufferReader(b"PAR1" + tail[-(footer_length + 8) :]))
    except (pa.ArrowException, OSError) as error:
        raise BackupError(
            f"{location.url}/{stored.key}: unreadable Parquet footer: {error}"
        ) from None


def schema_problems(dataset: BackupDataset, schema: pa.Schema) -> list[str]:
    """How a file's schema differs from the data set's documented one (names, order, types;
    nullability aside: readers and writers differ in how they mark it)."""
    expected = [(f.name, f.type) for f in dataset.schema]
    found = [(f.name, f.type) for f in schema]
    if found == expected:
        return []
    return [f"expected columns {expected}, found {found}"]


def _listing_by_folder(
    location: BackupLocation, datasets: Iterable[BackupDataset], folders: Iterable[str] = ()
) -> dict[str, list[StoredObject]]:
    """The objects of ``datasets`` grouped by folder; only of ``folders`` when a few are named
    (one listing each, instead of listing every day of a long history)."""
    wanted = sorted(set(folders))
    prefixes = (
        [f"{f}/" for f in wanted] if 0 < len(wanted) <= 64 else [f"{d.name}/" for d in datasets]
    )
    grouped: dict[str, list[StoredObject]] = defaultdict(list)
    for prefix in prefixes:
        for stored in location.list(prefix):
            folder, _, name = stored.key.rpartition("/")
            if not name.startswith("."):
                grouped[folder].append(stored)
    return grouped


def back_up(
    warehouse: Warehouse,
    location: BackupLocation,
    days: Sequence[date],
    *,
    snapshot_date: date,
    snapshot_retention: int,
    log: Log,
) -> BackupReport:
    """Writes ``days``' rows of the daily data sets and a snapshot of the others to
    ``location``, replacing what earlier runs wrote for those partitions; keeps the newest
    ``snapshot_retention`` snapshots. Raises BackupLocationError before writing anything when the
    location is missing or not writable."""
    if snapshot_retention < 1:
        raise BackupError("the snapshot retention must keep at least 1 snapshot")
    location.check_writable()
    file_prefix = f"part-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}-"
    parts = [BackupPart(d, day) for day in days for d in DAILY_DATASETS]
    parts += [BackupPart(d, snapshot_date) for d in SNAPSHOT_DATASETS]
    warehouse_rows = warehouse.export_backup(parts, location, file_prefix=file_prefix, log=log)

    listing = _listing_by_folder(location, ALL_DATASETS, (p.folder for p in parts))
    reports = []
    for part in parts:
        report = PartReport(part, warehouse_rows[part.folder])
        for stored in listing.get(part.folder, []):
            if stored.key.rpartition("/")[2].startswith(file_prefix):
                metadata = parquet_metadata(location, stored)
                report.files.append(BackupFile(stored.key, metadata.num_rows, stored.size))
        reports.append(report)

    _write_manifests(location, reports, file_prefix)
    written = {f.key for r in reports for f in r.files}
    stale = [
        stored.key
        for report in reports
        for stored in listing.get(report.part.folder, [])
        if stored.key not in written
    ]
    location.delete(stale)
    if stale:
        log(f"removed {len(stale)} file(s) of earlier backups of the same partitions")
    pruned = prune_snapshots(location, keep=snapshot_retention)
    if pruned:
        log(f"removed snapshots older than the newest {snapshot_retention}: {pruned}")
    return BackupReport(reports, snapshot_date, pruned)


def _write_manifests(location: BackupLocation, reports: Sequence[PartReport], run: str) -> None:
    by_partition: dict[tuple[str, date], list[PartReport]] = defaultdict(list)
    for report in reports:
        by_partition[(report.part.dataset.partition_column, report.part.day)].append(report)
    written_at = datetime.now(UTC).isoformat(timespec="seconds")
    for (column, day), partition_reports in by_partition.items():
        manifest = {
            "format": MANIFEST_FORMAT,
            "partition": f"{column}={day.isoformat()}",
            "written_at": written_at,
            "run": run.rstrip("-"),
            "datasets": {
                r.part.dataset.name: {
                    "table": r.part.dataset.table,
                    "rows": r.rows,
                    "files": [{"key": f.key, "rows": f.rows, "bytes": f.bytes} for f in r.files],
                }
                for r in partition_reports
            },
        }
        location.put_bytes(
            manifest_key(column, day), json.dumps(manifest, indent=1).encode("utf-8")
        )


def _manifest_dates(location: BackupLocation, column: str) -> list[date]:
    found = []
    for stored in location.list(f"{MANIFEST_FOLDER}/{column}="):
        name = stored.key.rpartition("/")[2]
        try:
            found.append(date.fromisoformat(name[len(column) + 1 : -len(".json")]))
        except ValueError:
            continue
    return sorted(found)


def prune_snapshots(location: BackupLocation, *, keep: int) -> list[date]:
    """Deletes every snapshot but the newest ``keep`` (files and manifest); returns their dates."""
    dates = _manifest_dates(location, SNAPSHOT_DATE)
    old = dates[:-keep] if keep else dates
    for day in old:
        keys = [
            stored.key
            for dataset in SNAPSHOT_DATASETS
            for stored in location.list(f"{dataset.folder(day)}/")
        ]
        location.delete(keys)
        location.delete([manifest_key(SNAPSHOT_DATE, day)])
    return old


# -- restore ---------------------------------------------------------------------------------------


def _read_manifest(location: BackupLocation, column: str, day: date) -> dict[str, object]:
    key = manifest_key(column, day)
    try:
        manifest = json.loads(location.read_bytes(key))
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"{location.url}/{key} is not a backup manifest: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"{location.url}/{key}: unknown manifest format")
    return manifest


def plan_restore(
    location: BackupLocation,
    *,
    first_day: date | None,
    last_day: date | None,
    snapshot_date: date | None,
    restore_snapshot: bool,
) -> RestorePlan:
    """Checks the backup at ``location`` and plans a restore of ``first_day``..``last_day``
    (every backed-up day when both are None) and, with ``restore_snapshot``, of the snapshot
    ``snapshot_date`` (the newest when None). Raises BackupError or BackupLocationError, having
    read only, when the location is missing, a day or the snapshot is not in the backup, or a
    file is missing or has another schema."""
    location.check_readable()
    backed_up = _manifest_dates(location, LOG_DATE)
    if first_day is None and last_day is None:
        window = LoadWindow.all_dates()
        days = backed_up
        if not days:
            raise BackupError(f"{location.url} holds no backed-up log date")
    else:
        if first_day is None or last_day is None:
            raise BackupError("a restore range needs both its first and its last day")
        if last_day < first_day:
            raise BackupError(f"the restore range ends ({last_day}) before it starts ({first_day})")
        window = LoadWindow(first_day, LoadWindow.single_day(last_day).end_day)
        days = window.days()
        missing = sorted(set(days) - set(backed_up))
        if missing:
            shown = ", ".join(d.isoformat() for d in missing[:10])
            raise BackupError(
                f"{location.url} has no backup of {len(missing)} day(s) of the range {window}:"
                f" {shown}{' ...' if len(missing) > 10 else ''}; restore a range it holds"
            )
    snapshots = _manifest_dates(location, SNAPSHOT_DATE)
    chosen_snapshot: date | None = None
    if restore_snapshot:
        if snapshot_date is not None and snapshot_date not in snapshots:
            raise BackupError(
                f"{location.url} has no snapshot of {snapshot_date}; it has"
                f" {[d.isoformat() for d in snapshots]}"
            )
        if not snapshots:
            raise BackupError(f"{location.url} holds no snapshot of the dimension tables")
        chosen_snapshot = snapshot_date or snapshots[-1]

    manifests = [(LOG_DATE, day) for day in days]
    manifests += [(SNAPSHOT_DATE, chosen_snapshot)] if chosen_snapshot else []
    datasets = {d.name: d for d in ALL_DATASETS}
    listing = _listing_by_folder(location, ALL_DATASETS)
    stored = {o.key: o for objects in listing.values() for o in objects}
    parts = []
    for column, day in manifests:
        manifest = _read_manifest(location, column, day)
        entries = manifest["datasets"]
        assert isinstance(entries, dict)
        expected = DAILY_DATASETS if column == LOG_DATE else SNAPSHOT_DATASETS
        absent = [d.name for d in expected if d.name not in entries]
        if absent:
            raise BackupError(f"the backup of {column}={day} lacks the data set(s) {absent}")
        for dataset in expected:
            entry = entries[dataset.name]
            files = []
            for listed in entry["files"]:
                found = stored.get(listed["key"])
                if found is None or found.size != listed["bytes"]:
                    raise BackupError(
                        f"{location.url}/{listed['key']}, listed in the manifest of"
                        f" {column}={day}, is {'missing' if found is None else 'of another size'}"
                    )
                problems = schema_problems(
                    datasets[dataset.name],
                    parquet_metadata(location, found).schema.to_arrow_schema(),
                )
                if problems:
                    raise BackupError(f"{location.url}/{found.key}: {problems[0]}")
                files.append(found)
            parts.append(RestorePart(BackupPart(dataset, day), tuple(files), int(entry["rows"])))
    return RestorePlan(window=window, days=list(days), snapshot_date=chosen_snapshot, parts=parts)


def restore(
    warehouse: Warehouse, location: BackupLocation, plan: RestorePlan, *, log: Log
) -> dict[str, int]:
    """Runs ``plan`` on ``warehouse`` (one transaction); returns the rows restored per table."""
    warehouse.ensure_tables()
    return warehouse.restore_backup(plan, location, log=log)

"""What a restore replaces, and the check that it got back every row the backup lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sparkify_assets.warehouse.backup.datasets import (
    DAILY_DATASETS,
    SNAPSHOT_DATASETS,
    BackupDataset,
    BackupError,
    BackupPart,
)
from sparkify_assets.warehouse.backup.location import StoredObject
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.session import WarehouseSession
from sparkify_assets.warehouse.sql_files import statement


@dataclass(frozen=True)
class RestorePart:
    part: BackupPart
    files: tuple[StoredObject, ...]
    rows: int


@dataclass
class RestorePlan:
    """What a restore replaces: the daily tables' rows in ``window`` (when it is set) and, when
    ``snapshot_date`` is set, the snapshot tables as a whole."""

    window: LoadWindow | None
    days: list[date]
    snapshot_date: date | None
    parts: list[RestorePart]

    @property
    def datasets(self) -> list[BackupDataset]:
        """The data sets whose rows the restore replaces."""
        return [
            *(DAILY_DATASETS if self.window else ()),
            *(SNAPSHOT_DATASETS if self.snapshot_date else ()),
        ]

    @property
    def tables(self) -> list[str]:
        return list(dict.fromkeys(d.table for d in self.datasets))

    def expected_rows(self) -> dict[str, int]:
        """Rows each table gets back (from the manifests)."""
        rows = dict.fromkeys(self.tables, 0)
        for part in self.parts:
            rows[part.part.dataset.table] += part.rows
        return rows

    def clear(self, session: WarehouseSession) -> None:
        """In ``session``'s transaction: takes the write lock of every table the restore writes
        and deletes the rows it replaces (the window's, or the whole snapshot tables')."""
        for table in self.tables:
            session.lock_for_write(table)
        window = self.window.sql_params() if self.window else {}
        for dataset in self.datasets:
            session.execute(
                statement(dataset.delete_statement), window if dataset.is_daily else None
            )

    def check_restored(self, restored: Mapping[str, int]) -> None:
        """Raises BackupError (the caller's transaction rolls back) when a table did not get the
        rows the manifests list."""
        expected = self.expected_rows()
        if dict(restored) != expected:
            raise BackupError(
                f"the restore loaded {dict(restored)} rows, the backup's manifests list"
                f" {expected}: rolled back, the warehouse is unchanged"
            )

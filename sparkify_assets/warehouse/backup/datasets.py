"""What a warehouse backup holds: its data sets, their Hive-style folders (one partition column
each) and their Parquet schema (docs/backups.md, "Layout" and "Parquet schema")."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.sql_files import SqlStatement, statement
from sparkify_assets.warehouse.table_documentation import documented_table_schema

# pyarrow (about 75 MB in memory) is imported when a backup or restore needs it, not by every
# process that loads the definitions (the CLI, the daemon, each run worker).
if TYPE_CHECKING:
    import pyarrow as pa

LOG_DATE = "log_date"
SNAPSHOT_DATE = "snapshot_date"
MANIFEST_FOLDER = "_manifests"


# Warehouse column type -> Parquet (Arrow) type. AWS documents the Redshift <-> Iceberg/Spectrum
# correspondence (INTEGER = int, BIGINT = long, DOUBLE PRECISION = double, CHAR/VARCHAR = string,
# DATE = date, TIMESTAMP = timestamp without time zone); Redshift keeps microseconds.
@functools.cache
def parquet_types() -> dict[str, pa.DataType]:
    """Warehouse column type (without length) -> its Parquet type."""
    import pyarrow as pa

    return {
        "varchar": pa.string(),
        "char": pa.string(),
        "integer": pa.int32(),
        "bigint": pa.int64(),
        "double precision": pa.float64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
    }


def parquet_type(column_type: str) -> pa.DataType:
    """The Parquet type of a DDL column type (``varchar``, ``char(32)``, ``integer``, ...)."""
    base = column_type.split("(", 1)[0].strip()
    if base not in parquet_types():
        raise ValueError(f"no Parquet type for the column type {column_type!r}")
    return parquet_types()[base]


@dataclass(frozen=True)
class BackupDataset:
    """One Hive table of the backup: the rows of ``table`` that ``export`` selects."""

    name: str  # folder name
    table: str
    partition_column: str  # LOG_DATE (one folder per day) or SNAPSHOT_DATE (one per backup run)
    delete_statement: str  # what a restore of this data set deletes first (a window, or all of it)

    @property
    def is_daily(self) -> bool:
        return self.partition_column == LOG_DATE

    @property
    def export(self) -> SqlStatement:
        return statement(f"backup/export.{self.name}")

    @property
    def count(self) -> SqlStatement:
        return statement(f"backup/export.count_{self.name}")

    @property
    def schema(self) -> pa.Schema:
        return table_parquet_schema(self.table)

    def folder(self, day: date) -> str:
        """``<name>/<partition column>=YYYY-MM-DD``."""
        return f"{self.name}/{self.partition_column}={day.isoformat()}"


DAILY_DATASETS = (
    BackupDataset(
        "staging_events", "staging_events", LOG_DATE, "staging/staging_events.delete_window"
    ),
    BackupDataset(
        "load_quarantine",
        "load_quarantine",
        LOG_DATE,
        "staging/staging_events.delete_window_quarantine",
    ),
    BackupDataset("songplays", "songplays", LOG_DATE, "transform/songplays.delete_window"),
    BackupDataset("time", "time", LOG_DATE, "transform/time.delete_window"),
)
SNAPSHOT_DATASETS = (
    BackupDataset(
        "staging_songs", "staging_songs", SNAPSHOT_DATE, "staging/staging_songs.delete_all"
    ),
    BackupDataset(
        "load_quarantine_songs",
        "load_quarantine",
        SNAPSHOT_DATE,
        "staging/staging_songs.delete_all_quarantine",
    ),
    BackupDataset("users", "users", SNAPSHOT_DATE, "backup/restore.delete_all_users"),
    BackupDataset("songs", "songs", SNAPSHOT_DATE, "transform/songs.delete_all"),
    BackupDataset("artists", "artists", SNAPSHOT_DATE, "transform/artists.delete_all"),
)
ALL_DATASETS = DAILY_DATASETS + SNAPSHOT_DATASETS
BACKED_UP_TABLES = tuple(dict.fromkeys(d.table for d in ALL_DATASETS))


@functools.cache
def table_parquet_schema(table: str) -> pa.Schema:
    """The Parquet schema of ``table``'s backup files: every column, in table order, typed by
    ``parquet_types()``, NOT NULL columns as required fields. Read from the DDL the tables are
    created with (table_documentation), so schema and table cannot drift apart."""
    import pyarrow as pa

    return pa.schema(
        [
            pa.field(
                column.name,
                parquet_type(column.type or ""),
                nullable=column.constraints.nullable is not False,
            )
            for column in documented_table_schema(table).columns
        ]
    )


@dataclass(frozen=True)
class BackupPart:
    """One data set's rows for one partition: a day of a daily data set, or a snapshot."""

    dataset: BackupDataset
    day: date  # the log date, or the snapshot date

    @property
    def folder(self) -> str:
        return self.dataset.folder(self.day)

    @property
    def key(self) -> str:
        """How manifests and reports name the part: ``<dataset>``."""
        return self.dataset.name

    def sql_params(self) -> dict[str, object]:
        return LoadWindow.single_day(self.day).sql_params() if self.dataset.is_daily else {}


def manifest_key(partition_column: str, day: date) -> str:
    return f"{MANIFEST_FOLDER}/{partition_column}={day.isoformat()}.json"


class BackupError(Exception):
    """A backup or restore cannot go ahead; nothing was changed."""

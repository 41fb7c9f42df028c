"""The warehouse interface the assets use, whatever the engine: engines differ in connecting, DDL
and staging raw files; transforms, checks and row counts are the shared ``sql/`` files."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar, Self

from sparkify_assets.source.tree import SourceTree
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.query_rows import Row, RowCount, optional_int_value
from sparkify_assets.warehouse.schema_versions import (
    CURRENT_VERSION,
    UNVERSIONED,
    VERSION_TABLE,
    VERSIONS,
    SchemaVersionMismatch,
    migration_statements,
)
from sparkify_assets.warehouse.session import WarehouseSession
from sparkify_assets.warehouse.sql_files import SqlStatement, load_file, sql_root, statement
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES, checked_table_name

if TYPE_CHECKING:
    from sparkify_assets.warehouse.backup.datasets import BackupPart
    from sparkify_assets.warehouse.backup.location import BackupLocation
    from sparkify_assets.warehouse.backup.restore_plan import RestorePlan

Log = Callable[[str], None]


class LineBatcher:
    """Collects log lines and hands them to ``log`` a batch at a time: one Dagster event per
    ``batch_size`` lines, still one line per file, so a backfill of thousands of days does not
    store thousands of log events."""

    def __init__(self, log: Log, batch_size: int = 100) -> None:
        self._log = log
        self._batch_size = batch_size
        self._lines: list[str] = []

    def __call__(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= self._batch_size:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._log("\n".join(self._lines))
            self._lines = []


@dataclass(frozen=True)
class FileLoad:
    """What one source file contributed."""

    key: str
    loaded: int
    rejected: int
    version: str = ""  # the file's version (ETag, or mtime+size) as listed before reading it


@dataclass
class LoadReport:
    """What a staging load did."""

    files: list[FileLoad] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rejected for f in self.files)


@dataclass(frozen=True)
class ColumnDescription:
    name: str
    data_type: str
    not_null: bool
    description: str | None


@dataclass(frozen=True)
class TableDescription:
    name: str
    description: str | None
    columns: tuple[ColumnDescription, ...]


class Warehouse(ABC):
    """One connection to the warehouse, used for one asset step. Close it (or use ``with``)."""

    engine: ClassVar[str]

    @abstractmethod
    def transaction(self) -> AbstractContextManager[WarehouseSession]:
        """A transaction: committed when the block ends, rolled back if it raises."""

    @abstractmethod
    def ensure_schema(self) -> None:
        """Creates SPARKIFY_WAREHOUSE_SCHEMA (the connection's search_path) if it is missing."""

    @abstractmethod
    def create_missing_tables(self) -> None:
        """Creates the project's tables (engine DDL from sql/<engine>/ddl/) and the schema version
        table where missing, in one transaction, recording the version they are created at."""

    def lock_schema_changes(self, session: WarehouseSession) -> None:  # noqa: B027 (optional hook)
        """Serialises schema changes of concurrent sessions, where the engine needs it."""

    def ensure_tables(self) -> None:
        """Makes the warehouse ready for a step: the schema and the tables are created where
        missing; a warehouse at another schema version is refused (SchemaVersionMismatch)."""
        self.ensure_schema()
        found = self.schema_version()
        if found is not None and found != CURRENT_VERSION:
            raise SchemaVersionMismatch(found, self.location())
        self.create_missing_tables()

    def schema_version(self) -> int | None:
        """The recorded schema version; 1 when the project's tables exist without a record; None
        for a schema without the project's tables."""
        tables = {str(r["table_name"]) for r in self.query(statement("catalog.tables_in_schema"))}
        if VERSION_TABLE in tables:
            recorded = recorded_version(self.query(statement("schema_version.current_version")))
            if recorded is not None:
                return recorded
        return UNVERSIONED if tables & set(WAREHOUSE_TABLES) else None

    def location(self) -> str:
        """``database.schema`` of this connection."""
        (row,) = self.query(statement("catalog.current_location"))
        return f"{row['database_name']}.{row['schema_name']}"

    def migrate(self, log: Log) -> list[int]:
        """Brings the warehouse to this release's schema version: each migration's statements
        and its version row in one transaction (all or nothing), then creates what is missing.
        Returns the versions applied (none for a new or a current warehouse)."""
        self.ensure_schema()
        found = self.schema_version()
        if found is not None and found > CURRENT_VERSION:
            raise SchemaVersionMismatch(found, self.location())
        applied: list[int] = []
        if found is not None and found < CURRENT_VERSION:
            applied_at = datetime.now(UTC).replace(tzinfo=None)
            with self.transaction() as session:
                self.lock_schema_changes(session)
                session.execute(statement("schema_version.create_table"))
                recorded = recorded_version(
                    session.query(statement("schema_version.current_version"))
                )
                start = found if recorded is None else recorded
                for version in range(start + 1, CURRENT_VERSION + 1):
                    for sql in migration_statements(self.engine, version):
                        log(f"schema version {version}: {sql.key}")
                        session.execute(sql)
                    session.execute(
                        statement("schema_version.record_version"),
                        {
                            "version": version,
                            "applied_at": applied_at,
                            "description": VERSIONS[version],
                        },
                    )
                    applied.append(version)
        self.create_missing_tables()
        return applied

    @abstractmethod
    def load_event_days(
        self, tree: SourceTree, window: LoadWindow, *, run_id: str, log: Log
    ) -> LoadReport:
        """Replaces ``window``'s staging_events rows (and quarantine rows) in one transaction."""

    @abstractmethod
    def load_song_catalog(self, tree: SourceTree, *, run_id: str, log: Log) -> LoadReport:
        """Replaces staging_songs (and the song quarantine rows) in one transaction."""

    @abstractmethod
    def export_backup(
        self,
        parts: Sequence[BackupPart],
        location: BackupLocation,
        *,
        file_prefix: str,
        log: Log,
    ) -> dict[str, int]:
        """Writes each part's rows (its data set's export query, sql/backup/export.sql) as Parquet
        files named ``<part.folder>/<file_prefix>…`` in ``location``, every part from one
        consistent snapshot of the warehouse; returns the row count of each part (by folder),
        counted in that snapshot."""

    @abstractmethod
    def restore_backup(
        self, plan: RestorePlan, location: BackupLocation, *, log: Log
    ) -> dict[str, int]:
        """In one transaction holding the tables' write locks, deletes the rows ``plan``
        replaces and loads its files; returns the rows loaded per table. Rolls back and raises
        when a table did not get the rows the plan expects."""

    def describe_table(self, table: str) -> TableDescription:
        """Columns, types and documentation of one table, as the database has them (from the
        engine's sql/<engine>/catalog.sql)."""
        params = {"table_name": checked_table_name(table)}
        columns = self.query(statement(f"{self.engine}/catalog.describe_table"), params)
        about = self.query(statement(f"{self.engine}/catalog.table_description"), params)
        return TableDescription(
            name=table,
            description=str(about[0]["description"]) if about and about[0]["description"] else None,
            columns=tuple(
                ColumnDescription(
                    name=str(c["column_name"]),
                    data_type=str(c["data_type"]),
                    not_null=bool(c["not_null"]),
                    description=None if c["description"] is None else str(c["description"]),
                )
                for c in columns
            ),
        )

    @abstractmethod
    def close(self) -> None: ...

    def cancel_running(self) -> None:  # noqa: B027 (optional hook)
        """Asks the server to cancel this connection's running statement, if any; callable from
        any thread (a step stopping while another thread waits on a query). Default: nothing
        (the statement then runs to its end, or to the engine's statement timeout)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def replace_rows(
        self, table: str, statements: Sequence[SqlStatement], params: Mapping[str, object]
    ) -> None:
        """Runs ``statements`` (a delete then an insert) in one transaction holding ``table``'s
        write lock, so concurrent runs serialise and a failure leaves the previous rows."""
        with self.transaction() as session:
            session.lock_for_write(table)
            for sql in statements:
                session.execute(sql, params)

    def query(
        self, sql: SqlStatement, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        """Runs one read-only query in its own transaction."""
        with self.transaction() as session:
            return session.query(sql, params)

    def row_count(self, table: str, window: LoadWindow | None) -> int:
        """Rows of ``table`` in ``window`` (or in all of it for tables that are not windowed)."""
        params = window.sql_params() if window else {}
        rows = self.query(statement(f"row_counts.{checked_table_name(table)}"), params)
        return RowCount.from_row(rows[0]).row_count


def recorded_version(rows: Sequence[Row]) -> int | None:
    """The version in ``schema_version.current_version``'s one row (None: no version recorded)."""
    (row,) = rows
    return optional_int_value(row, "version")


def schema_version_statements() -> Iterator[SqlStatement]:
    """What creates the version table (same SQL on both engines)."""
    yield statement("schema_version.create_table")


def record_first_version(session: WarehouseSession) -> None:
    """Records this release's version in a version table just created (if it has no row yet)."""
    session.execute(
        statement("schema_version.record_first_version"),
        {
            "version": CURRENT_VERSION,
            "applied_at": datetime.now(UTC).replace(tzinfo=None),
            "description": VERSIONS[CURRENT_VERSION],
        },
    )


def transform_statements(table: str, engine: str = "") -> list[SqlStatement]:
    """The statements of ``sql/transform/<table>.sql``, in file order; or of the engine's own
    variant ``sql/<engine>/transform/<table>.sql`` where one exists (its head says why)."""
    name = checked_table_name(table)
    if engine and (sql_root() / engine / "transform" / f"{name}.sql").is_file():
        return list(load_file(f"{engine}/transform/{name}").values())
    return list(load_file(f"transform/{name}").values())


def ddl_statements(engine: str, table: str) -> Iterator[SqlStatement]:
    """The DDL of one table for one engine, then its documentation comments."""
    yield from load_file(f"{engine}/ddl/{checked_table_name(table)}").values()
    yield from load_file(f"comments/{table}").values()

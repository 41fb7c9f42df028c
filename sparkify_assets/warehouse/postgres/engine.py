"""The PostgreSQL engine (the embedded default and the test engine): raw files parsed in Python
and streamed into the staging tables with ``COPY ... FROM STDIN``, in flat memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import dagster as dg
import psycopg
from psycopg import sql as pgsql

from sparkify_assets.records.events import EventFileParser
from sparkify_assets.records.quarantine import QUARANTINE_BATCH_RECORDS, RejectedRecord
from sparkify_assets.records.songs import (
    MAX_SONG_FILE_BYTES,
    parse_song_file,
    refused_song_file,
)
from sparkify_assets.settings.connection_secrets import scrubbed_database_errors
from sparkify_assets.source.tree import SourceFile, SourceFileRefused, SourceTree
from sparkify_assets.warehouse.interface import (
    FileLoad,
    LineBatcher,
    LoadReport,
    Log,
    Warehouse,
    ddl_statements,
    record_first_version,
    schema_version_statements,
)
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres.connect_problems import postgres_connect_problem
from sparkify_assets.warehouse.postgres.parquet_files import csv_to_parquet_files, parquet_as_csv
from sparkify_assets.warehouse.query_rows import RowCount
from sparkify_assets.warehouse.schema_versions import VERSION_TABLE
from sparkify_assets.warehouse.session import WarehouseSession
from sparkify_assets.warehouse.sql_files import SqlStatement, statement
from sparkify_assets.warehouse.sqlstate_retries import sqlstate_can_heal
from sparkify_assets.warehouse.tables import (
    WAREHOUSE_TABLES,
    checked_schema_name,
    checked_table_name,
)

if TYPE_CHECKING:
    from sparkify_assets.warehouse.backup.datasets import BackupPart
    from sparkify_assets.warehouse.backup.location import BackupLocation
    from sparkify_assets.warehouse.backup.restore_plan import RestorePlan

ENGINE = "postgres"
# Columns PostgreSQL computes itself (GENERATED ... STORED): a restore does not copy them in.
GENERATED_COLUMNS = {"staging_events": frozenset({"start_time"})}
CURSOR_FETCH_ROWS = 20_000  # rows a server-side cursor sends per round trip
APPLICATION_NAME = "sparkify_assets"  # how the project's sessions show in pg_stat_activity


class PostgresSession:
    """A transaction on a psycopg connection."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection

    def execute(self, sql: SqlStatement, params: Mapping[str, object] | None = None) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute(sql.text, params)
            return cursor.rowcount

    def query(
        self, sql: SqlStatement, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        with self.connection.cursor() as cursor:
            cursor.execute(sql.text, params)
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def lock_for_write(self, table: str) -> None:
        template = statement("postgres/catalog.lock_table_for_write").text
        lock = pgsql.SQL(template).format(table=pgsql.Identifier(checked_table_name(table)))
        self.connection.execute(lock)

    def refresh_statistics(self, table: str, rows_changed: int) -> None:
        """ANALYZE ``table`` when ``rows_changed`` rows are enough of it to make the planner's
        statistics stale (``sql/postgres/upkeep.sql``)."""
        name = checked_table_name(table)
        [needs] = self.query(
            statement("postgres/upkeep.needs_analyze"),
            {"rows_changed": rows_changed, "table_name": name},
        )
        if needs["needs_analyze"]:
            template = statement("postgres/upkeep.analyze_table").text
            self.connection.execute(pgsql.SQL(template).format(table=pgsql.Identifier(name)))

    def copy_out_to_file(
        self, sql: SqlStatement, params: Mapping[str, object], target: Path
    ) -> None:
        """Writes the CSV rows of ``sql`` (a ``COPY ({query}) TO STDOUT`` with ``{query}`` already
        in place) to ``target``, chunk by chunk."""
        with (
            self.connection.cursor() as cursor,
            cursor.copy(sql.text, params) as copy,
            target.open("wb") as out,
        ):
            for chunk in copy:
                out.write(chunk)

    def copy_in_chunks(self, sql: SqlStatement, chunks: Iterable[tuple[bytes, int]]) -> int:
        """Streams CSV ``chunks`` (bytes, row count) into the COPY ... FROM STDIN ``sql``; returns
        the rows."""
        count = 0
        with self.connection.cursor() as cursor, cursor.copy(sql.text) as copy:
            for chunk, rows in chunks:
                copy.write(chunk)
                count += rows
        return count

    def copy_rows(self, sql: SqlStatement, rows: Iterable[tuple[object, ...]]) -> int:
        """Streams ``rows`` into the COPY ... FROM STDIN statement ``sql``; returns the count."""
        count = 0
        with self.connection.cursor() as cursor, cursor.copy(sql.text) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count


class PostgresWarehouse(Warehouse):
    """A PostgreSQL database reached through a libpq URL."""

    engine = ENGINE

    def __init__(self, url: str, password: str = "", schema: str = "public") -> None:
        extra: dict[str, Any] = {"password": password} if password else {}
        self.schema = checked_schema_name(schema)
        # libpq's error text can quote what it was given: every error is scrubbed of the password.
        self._secrets = (password,)
        try:
            with scrubbed_database_errors(self._secrets):
                self._connection = psycopg.connect(
                    url, autocommit=True, application_name=APPLICATION_NAME, **extra
                )
        except psycopg.OperationalError as error:  # one message naming the setting to fix
            raise postgres_connect_problem(error, _address(url)) from None
        try:
            with scrubbed_database_errors(self._secrets):
                self._connection.execute(self._with_schema("postgres/catalog.set_search_path"))
        except BaseException:
            self._connection.close()
            raise

    def _with_schema(self, key: str) -> pgsql.Composed:
        """Statement ``key`` with its {schema} placeholder replaced by the quoted schema name."""
        return pgsql.SQL(statement(key).text).format(schema=pgsql.Identifier(self.schema))

    def close(self) -> None:
        self._connection.close()

    def cancel_running(self) -> None:
        self._connection.cancel_safe()

    @contextmanager
    def transaction(self) -> Iterator[PostgresSession]:
        try:
            with scrubbed_database_errors(self._secrets), self._connection.transaction():
                yield PostgresSession(self._connection)
        except psycopg.Error as error:
            if _can_heal(error):
                raise  # the asset's retry policy runs the step again
            raise _lasting_failure(error) from error

    def ensure_schema(self) -> None:
        exists = statement("catalog.schema_exists")
        params = {"schema_name": self.schema}
        if self.query(exists, params)[0]["found"]:
            return
        with self.transaction() as session:  # concurrent first runs: one creates it
            self.lock_schema_changes(session)
            if not session.query(exists, params)[0]["found"]:
                self._connection.execute(self._with_schema("postgres/catalog.create_schema"))

    def lock_schema_changes(self, session: WarehouseSession) -> None:
        session.execute(statement("postgres/catalog.lock_schema_changes"))

    def replace_rows(
        self, table: str, statements: Sequence[SqlStatement], params: Mapping[str, object]
    ) -> None:
        """As the interface's, then fresh statistics for ``table`` when the replacement changed
        enough of it: the checks and the analytics questions that read it next plan on them."""
        with self.transaction() as session:
            session.lock_for_write(table)
            changed = sum(max(session.execute(sql, params), 0) for sql in statements)
            session.refresh_statistics(table, changed)

    def create_missing_tables(self) -> None:
        missing = statement("postgres/catalog.missing_tables")
        params = {"tables": [*WAREHOUSE_TABLES, VERSION_TABLE]}
        if not self.query(missing, params):
            return
        with self.transaction() as session:
            self.lock_schema_changes(session)
            if not session.query(missing, params):  # created by a concurrent run meanwhile
                return
            for table in WAREHOUSE_TABLES:
                for sql in ddl_statements(ENGINE, table):
                    session.execute(sql)
            for sql in schema_version_statements():
                session.execute(sql)
            record_first_version(session)

    def load_event_days(
        self, tree: SourceTree, window: LoadWindow, *, run_id: str, log: Log
    ) -> LoadReport:
        files = [(day, tree.log_file(day)) for day in window.days()]  # fails before any change
        report = LoadReport()
        file_log = LineBatcher(log)
        with self.transaction() as session:
            session.lock_for_write("staging_events")
            deleted = session.execute(
                statement("staging/staging_events.delete_window"), window.sql_params()
            )
            session.execute(
                statement("staging/staging_events.delete_window_quarantine"), window.sql_params()
            )
            # One COPY stream for all the window's files (a COPY per file cost more than the
            # parsing on a long history of small days), paused to write each batch of refused
            # lines to the quarantine: memory stays bounded on files of junk.
            with _EventDaysReader(tree, files) as events:
                copy_events = statement("postgres/copy.staging_events")
                while not events.finished:
                    session.copy_rows(copy_events, events.rows())
                    for day, rejected in events.take_rejected():
                        _quarantine(session, rejected, "event", run_id, log_date=day)
            for load in events.loads:
                report.files.append(load)
                file_log(f"{load.key}: {load.loaded} events loaded, {load.rejected} quarantined")
            session.refresh_statistics("staging_events", max(deleted, 0) + report.rows_loaded)
        file_log.flush()
        return report

    def load_song_catalog(self, tree: SourceTree, *, run_id: str, log: Log) -> LoadReport:
        catalog = _SongCatalogReader(tree, log)
        with self.transaction() as session:
            session.lock_for_write("staging_songs")
            deleted = session.execute(statement("staging/staging_songs.delete_all"))
            session.execute(statement("staging/staging_songs.delete_all_quarantine"))
            loaded = 0
            while not catalog.finished:  # one COPY per batch of rejected files written
                loaded += session.copy_rows(
                    statement("postgres/copy.staging_songs"), catalog.rows()
                )
                _quarantine(session, catalog.take_rejected(), "song", run_id, log_date=None)
            session.refresh_statistics("staging_songs", max(deleted, 0) + loaded)
        log(f"song_data/: {loaded} song files loaded, {catalog.rejected_count} quarantined")
        return LoadReport([FileLoad("song_data/", loaded, catalog.rejected_count)])

    # -- backups -----------------------------------------------------------------------------------

    def export_backup(
        self,
        parts: Sequence[BackupPart],
        location: BackupLocation,
        *,
        file_prefix: str,
        log: Log,
    ) -> dict[str, int]:
        counts: dict[str, int] = {}
        with (
            tempfile.TemporaryDirectory(prefix="sparkify-backup-") as scratch,
            self.transaction() as session,
        ):
            session.execute(statement("postgres/backup.consistent_snapshot"))
            for part in parts:
                params = part.sql_params()
                (counted,) = session.query(part.dataset.count, params)
                counts[part.folder] = RowCount.from_row(counted).row_count
                spooled = Path(scratch) / "rows.csv"
                session.copy_out_to_file(_copy_out(part.dataset.export), params, spooled)
                files = csv_to_parquet_files(
                    spooled, part.dataset.schema, Path(scratch), name_prefix=file_prefix
                )
                spooled.unlink()
                for path, _ in files:
                    location.put_file(f"{part.folder}/{path.name}", path)
                rows = sum(n for _, n in files)
                log(f"{part.folder}: {rows} rows in {len(files)} Parquet file(s)")
        return counts

    def restore_backup(
        self, plan: RestorePlan, location: BackupLocation, *, log: Log
    ) -> dict[str, int]:
        restored = dict.fromkeys(plan.tables, 0)
        file_log = LineBatcher(log)
        with (
            tempfile.TemporaryDirectory(prefix="sparkify-restore-") as scratch,
            self.transaction() as session,
        ):
            plan.clear(session)
            for part in plan.parts:
                table = part.part.dataset.table
                generated = GENERATED_COLUMNS.get(table, frozenset())
                columns = [f.name for f in part.part.dataset.schema if f.name not in generated]
                copy = statement(f"postgres/backup.copy_{table}")
                for stored in part.files:
                    local = Path(scratch) / "restoring.parquet"
                    location.download(stored.key, local)
                    loaded = session.copy_in_chunks(copy, parquet_as_csv(local, columns))
                    local.unlink()
                    restored[table] += loaded
                    file_log(f"{stored.key}: {loaded} rows restored into {table}")
            file_log.flush()
            plan.check_restored(restored)
            session.execute(statement("postgres/backup.analyze_restored"))
        return restored


class _EventDaysReader:
    """The rows of a window's log files, one file after the other, pausing when a batch of refused
    lines is pending; what each file contributed, in ``loads``. Use it in a ``with`` block: the
    file being read when a load stops half-way is closed on the way out."""

    def __init__(self, tree: SourceTree, files: Sequence[tuple[date, SourceFile]]) -> None:
        self._tree = tree
        self._files = iter(files)
        self._open = ExitStack()
        self._current: tuple[date, SourceFile, EventFileParser, BinaryIO] | None = None
        self._rejected: list[tuple[date, list[RejectedRecord]]] = []
        self._pending = 0
        self.loads: list[FileLoad] = []
        self.finished = False

    def __enter__(self) -> _EventDaysReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._open.close()

    def take_rejected(self) -> list[tuple[date, list[RejectedRecord]]]:
        """The refused records pending, by log date, handed over."""
        taken, self._rejected, self._pending = self._rejected, [], 0
        return taken

    def _hold(self, day: date, rejected: list[RejectedRecord]) -> None:
        if rejected:
            self._rejected.append((day, rejected))
            self._pending += len(rejected)

    def rows(self) -> Iterator[tuple[object, ...]]:
        """Yields the accepted rows of file after file; returns when a batch of refused records
        is pending (the caller writes ``take_rejected()`` and calls again) or when every file is
        read (``finished``)."""
        while True:
            if self._current is None:
                if self._pending >= QUARANTINE_BATCH_RECORDS:
                    return  # each refused record keeps at most RAW_BYTES_KEPT: bounded
                started = self._start_next_file()
                if started is None:
                    self.finished = True
                    return
                self._current = started
            day, file, parser, stream = self._current
            yield from parser.rows(stream)
            self._hold(day, parser.take_rejected())
            if not parser.finished:
                return  # the parser paused on a batch of refused lines: write them first
            self._open.close()
            self._current = None
            self.loads.append(
                FileLoad(file.key, parser.accepted, parser.rejected_count, file.version)
            )

    def _start_next_file(self) -> tuple[date, SourceFile, EventFileParser, BinaryIO] | None:
        """Opens the next file; a file the tree refuses (a link, a FIFO...) becomes one
        quarantined record and the next one is tried."""
        for day, file in self._files:
            try:
                stream = self._open.enter_context(self._tree.open(file))
            except SourceFileRefused as refusal:  # nothing was read
                self._hold(day, [RejectedRecord(file.key, None, str(refusal), b"")])
                self.loads.append(FileLoad(file.key, 0, 1, file.version))
                continue
            parser = EventFileParser(day, file.key, pause_after_rejections=QUARANTINE_BATCH_RECORDS)
            return day, file, parser, stream
        return None


class _SongCatalogReader:
    """The rows of every song file, pausing when a batch of refused files is pending."""

    def __init__(self, tree: SourceTree, log: Log) -> None:
        self._tree = tree
        self._files = iter(tree.song_files())
        self._log = log
        self._rejected: list[RejectedRecord] = []
        self.rejected_count = 0
        self.finished = False

    def take_rejected(self) -> list[RejectedRecord]:
        taken, self._rejected = self._rejected, []
        return taken

    def rows(self) -> Iterator[tuple[object, ...]]:
        for file in self._files:
            parsed = self._read(file)
            if not isinstance(parsed, RejectedRecord):
                yield parsed
                continue
            self._rejected.append(parsed)
            self.rejected_count += 1
            self._log(f"{file.key!r}: quarantined ({parsed.reason})")
            if len(self._rejected) >= QUARANTINE_BATCH_RECORDS:
                return  # a refused file keeps at most RAW_BYTES_KEPT: the batch is bounded
        self.finished = True

    def _read(self, file: SourceFile) -> tuple[object, ...] | RejectedRecord:
        # The size from the listing is checked before opening; the read is bounded anyway (the
        # file may have grown since).
        if file.size > MAX_SONG_FILE_BYTES:
            return refused_song_file(file.key, f"file is larger than {MAX_SONG_FILE_BYTES} bytes")
        try:
            with self._tree.open(file) as stream:
                data = stream.read(MAX_SONG_FILE_BYTES + 1)
        except SourceFileRefused as refusal:
            return refused_song_file(file.key, str(refusal))
        return parse_song_file(data, file.key)


def _can_heal(error: psycopg.Error) -> bool:
    """Whether running the step again may succeed: a lost connection (no SQLSTATE: the server
    went away) or a transient server state; not a wrong statement, data or permission."""
    sqlstate = error.sqlstate or ""
    if not sqlstate:
        return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
    return sqlstate_can_heal(sqlstate)


def _lasting_failure(error: psycopg.Error) -> dg.Failure:
    """A step failure for an error a retry would only repeat."""
    message = " ".join(str(error).split())[:500]
    return dg.Failure(
        description=f"PostgreSQL error [{error.sqlstate or 'no SQLSTATE'}]: {message}",
        metadata={"sqlstate": error.sqlstate or ""},
        allow_retries=False,
    )


def _address(url: str) -> str:
    """Where ``url`` points, for messages: host (or socket directory), port and database, never
    the user's password."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the URL in SPARKIFY_WAREHOUSE_URL"
    host = str(parts.get("host") or "localhost")
    return f"{host}:{parts.get('port') or 5432}/{parts.get('dbname') or parts.get('user') or ''}"


def _copy_out(export: SqlStatement) -> SqlStatement:
    """``COPY (<export>) TO STDOUT (FORMAT csv)``: the template of sql/postgres/backup.sql with a
    SELECT of sql/backup/export.sql in place of ``{query}`` (both from the project's files)."""
    template = statement("postgres/backup.copy_out")
    body, query = template.body, export.body
    if "{query}" not in body or "{" in query:
        raise ValueError(f"{template.key} cannot take {export.key}")
    return SqlStatement(
        key=f"{template.key}({export.key})", text=body.replace("{query}", query), path=template.path
    )


def _quarantine(
    session: PostgresSession,
    rejected: list[RejectedRecord],
    source_kind: str,
    run_id: str,
    *,
    log_date: date | None,
) -> None:
    if not rejected:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    session.copy_rows(
        statement("postgres/copy.load_quarantine"),
        (
            r.quarantine_row(
                source_kind=source_kind,
                log_date=log_date,
                rejected_at=now,
                run_id=run_id,
            )
            for r in rejected
        ),
    )

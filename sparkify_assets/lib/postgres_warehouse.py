"""The PostgreSQL engine: the embedded default and the test engine.

Raw files are parsed in Python (``event_records``, ``song_records``) and streamed into the staging
tables with ``COPY ... FROM STDIN``: memory stays flat whatever the file size or number of days.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql as pgsql

from sparkify_assets.lib.event_records import EventFileParser
from sparkify_assets.lib.load_window import LoadWindow
from sparkify_assets.lib.quarantine import RejectedRecord
from sparkify_assets.lib.song_records import parse_song_file
from sparkify_assets.lib.source_tree import SourceTree
from sparkify_assets.lib.sql_files import SqlStatement, statement
from sparkify_assets.lib.warehouse import (
    WAREHOUSE_TABLES,
    FileLoad,
    LineBatcher,
    LoadReport,
    Log,
    Warehouse,
    checked_table_name,
    ddl_statements,
)

ENGINE = "postgres"
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

    def __init__(self, url: str, password: str = "") -> None:
        extra: dict[str, Any] = {"password": password} if password else {}
        self._connection = psycopg.connect(
            url, autocommit=True, application_name=APPLICATION_NAME, **extra
        )

    def close(self) -> None:
        self._connection.close()

    @contextmanager
    def transaction(self) -> Iterator[PostgresSession]:
        with self._connection.transaction():
            yield PostgresSession(self._connection)

    def ensure_tables(self) -> None:
        missing = statement("postgres/catalog.missing_tables")
        params = {"tables": list(WAREHOUSE_TABLES)}
        if not self.query(missing, params):
            return
        with self.transaction() as session:
            session.execute(statement("postgres/catalog.lock_schema_changes"))
            if not session.query(missing, params):  # created by a concurrent run meanwhile
                return
            for table in WAREHOUSE_TABLES:
                for sql in ddl_statements(ENGINE, table):
                    session.execute(sql)

    def load_event_days(
        self, tree: SourceTree, window: LoadWindow, *, run_id: str, log: Log
    ) -> LoadReport:
        files = [(day, tree.log_file(day)) for day in window.days()]  # fails before any change
        report = LoadReport()
        file_log = LineBatcher(log)
        copy_events = statement("postgres/copy.staging_events")
        with self.transaction() as session:
            session.lock_for_write("staging_events")
            session.execute(statement("staging/staging_events.delete_window"), window.sql_params())
            session.execute(
                statement("staging/staging_events.delete_window_quarantine"), window.sql_params()
            )
            for day, file in files:
                parser = EventFileParser(day, file.key)
                with tree.open(file) as stream:
                    loaded = session.copy_rows(copy_events, parser.rows(stream))
                _quarantine(session, parser.rejected, "event", run_id, log_date=day)
                report.files.append(FileLoad(file.key, loaded, len(parser.rejected), file.version))
                file_log(f"{file.key}: {loaded} events loaded, {len(parser.rejected)} quarantined")
            [needs] = session.query(
                statement("postgres/copy.staging_events_needs_analyze"),
                {"rows_loaded": report.rows_loaded},
            )
            if needs["needs_analyze"]:
                session.execute(statement("postgres/copy.analyze_staging_events"))
        file_log.flush()
        return report

    def load_song_catalog(self, tree: SourceTree, *, run_id: str, log: Log) -> LoadReport:
        rejected: list[RejectedRecord] = []

        def rows() -> Iterator[tuple[object, ...]]:
            for file in tree.song_files():
                with tree.open(file) as stream:
                    parsed = parse_song_file(stream.read(), file.key)
                if isinstance(parsed, RejectedRecord):
                    rejected.append(parsed)
                    log(f"{file.key}: quarantined ({parsed.reason})")
                else:
                    yield parsed

        with self.transaction() as session:
            session.lock_for_write("staging_songs")
            session.execute(statement("staging/staging_songs.delete_all"))
            session.execute(statement("staging/staging_songs.delete_all_quarantine"))
            loaded = session.copy_rows(statement("postgres/copy.staging_songs"), rows())
            _quarantine(session, rejected, "song", run_id, log_date=None)
            session.execute(statement("postgres/copy.analyze_staging_songs"))
        log(f"song_data/: {loaded} song files loaded, {len(rejected)} quarantined")
        return LoadReport([FileLoad("song_data/", loaded, len(rejected))])


def _quarantine(
    session: PostgresSession,
    rejected: list[RejectedRecord],
    source_kind: str,
    run_id: str,
    *,
    log_date: object,
) -> None:
    if not rejected:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    session.copy_rows(
        statement("postgres/copy.load_quarantine"),
        (
            r.quarantine_row(
                source_kind=source_kind,
                log_date=log_date,  # type: ignore[arg-type]
                rejected_at=now,
                run_id=run_id,
            )
            for r in rejected
        ),
    )

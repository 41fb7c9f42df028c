"""A transaction on Redshift: statements by name, never logging their text."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import redshift_connector

from sparkify_assets.warehouse.redshift.errors import RedshiftError, error_from_driver
from sparkify_assets.warehouse.redshift.statement_rendering import render_lock, render_rows
from sparkify_assets.warehouse.sql_files import SqlStatement

if TYPE_CHECKING:
    pass


REJECTION_BATCH_ROWS = 500  # rejected lines per INSERT (8 parameters each, far below the 32,767)
StatementObserver = Callable[[str, float, "RedshiftError | None"], None]
"""Called after each statement with its key, its seconds and its error (None when it succeeded)."""


class RedshiftSession:
    """A transaction on a redshift_connector connection (autocommit off: the driver begins one
    with the first statement; the warehouse commits or rolls it back)."""

    def __init__(
        self,
        connection: redshift_connector.Connection,
        secrets: Sequence[str],
        observer: StatementObserver | None = None,
    ) -> None:
        self.connection = connection
        self._secrets = secrets
        self._observer = observer

    def _run(
        self, key: str, text: str, params: Mapping[str, object] | None
    ) -> redshift_connector.Cursor:
        cursor = self.connection.cursor()
        cursor.paramstyle = "pyformat"
        started = time.perf_counter()
        try:
            if params:
                cursor.execute(text, dict(params))
            else:
                cursor.execute(text)
        except (redshift_connector.Error, OSError) as error:
            failure = error_from_driver(key, error, self._secrets)
            if self._observer is not None:
                self._observer(key, time.perf_counter() - started, failure)
            raise failure from None
        if self._observer is not None:
            self._observer(key, time.perf_counter() - started, None)
        return cursor

    def _affected(self, key: str, text: str, params: Mapping[str, object] | None) -> int:
        cursor = self._run(key, text, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def execute(self, sql: SqlStatement, params: Mapping[str, object] | None = None) -> int:
        return self._affected(sql.key, sql.text, params)

    def query(
        self, sql: SqlStatement, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        return self.query_rendered(sql.key, sql.text, params)

    def query_rendered(
        self, key: str, text: str, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        cursor = self._run(key, text, params)
        try:
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute_rendered(
        self, key: str, text: str, params: Mapping[str, object] | None = None
    ) -> int:
        """Runs SQL text rendered from statement ``key`` (a COPY, a LOCK, a multi-row INSERT)."""
        return self._affected(key, text, params)

    def lock_for_write(self, table: str) -> None:
        self.execute_rendered("redshift/catalog.lock_table_for_write", render_lock(table))

    def insert_rows(self, sql: SqlStatement, rows: Sequence[Mapping[str, object]]) -> int:
        """Inserts ``rows`` with the one-row INSERT ``sql``, ``REJECTION_BATCH_ROWS`` per
        statement."""
        inserted = 0
        for start in range(0, len(rows), REJECTION_BATCH_ROWS):
            text, params = render_rows(sql, rows[start : start + REJECTION_BATCH_ROWS])
            inserted += self.execute_rendered(sql.key, text, params)
        return inserted


@dataclass
class LoadErrorCursor:
    """Where this session's load-error log was before the next COPY: rows of this session with a
    higher query id, started after ``started_after``, belong to it."""

    started_after: datetime
    after_query: int

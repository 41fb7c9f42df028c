"""An open warehouse transaction: what every statement the project runs goes through."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sparkify_assets.warehouse.sql_files import SqlStatement


class WarehouseSession(Protocol):
    """An open transaction."""

    def execute(self, sql: SqlStatement, params: Mapping[str, object] | None = None) -> int:
        """Runs one statement; returns the affected row count (-1 when unknown)."""
        ...

    def query(
        self, sql: SqlStatement, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        """Runs one query; returns its rows as dicts keyed by column name (read them typed with
        warehouse/query_rows.py)."""
        ...

    def lock_for_write(self, table: str) -> None:
        """Blocks other writers of ``table`` until this transaction ends (readers go on)."""
        ...

"""Turning a table's state into what Dagster records: check results from ``sql/checks/<table>.sql``
and materialization metadata (the checks' conventions: docs/tables_and_data_flow.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from decimal import Decimal
from queue import Empty, Queue
from typing import Any, NamedTuple, Protocol

import dagster as dg

from sparkify_assets.warehouse.interface import Warehouse
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.query_rows import Row, int_value
from sparkify_assets.warehouse.sql_files import SqlStatement, load_file, statement
from sparkify_assets.warehouse.tables import checked_table_name


class Queryable(Protocol):
    """A Warehouse (each query in its own transaction) or an open WarehouseSession."""

    def query(
        self, sql: SqlStatement, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]: ...


def table_check_specs(table: str) -> list[dg.AssetCheckSpec]:
    """The asset check specs of ``table``, one per query in sql/checks/<table>.sql."""
    return [
        dg.AssetCheckSpec(
            name=check.name,
            asset=table,
            description=check.doc or None,
            blocking="blocking" in check.flags,
        )
        for check in load_file(f"checks/{checked_table_name(table)}").values()
    ]


class CheckRow(NamedTuple):
    """A check query's one row: ``failures`` (0 = pass), whether a failure only warns, and the
    other columns (the check's figures), in query order."""

    failures: int
    warn_only: bool
    figures: dict[str, object]

    @classmethod
    def from_row(cls, row: Row) -> CheckRow:
        return cls(
            failures=int_value(row, "failures"),
            warn_only=bool(row.get("warn_only", 0)),
            figures={k: v for k, v in row.items() if k not in ("failures", "warn_only")},
        )


def _metadata_value(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _check_rows(
    connections: Sequence[Queryable], checks: Sequence[SqlStatement], params: Mapping[str, object]
) -> list[Row]:
    """Each check's one row, in ``checks`` order; the checks are shared out among
    ``connections`` (each taking the next one left when it is free), side by side."""
    rows: list[Row | None] = [None] * len(checks)
    pending: Queue[int] = Queue()
    for index in range(len(checks)):
        pending.put(index)
    errors: list[BaseException] = []

    def work(connection: Queryable) -> None:
        while not errors:  # after a failed check, the others are not started
            try:
                index = pending.get_nowait()
            except Empty:
                return
            try:
                (rows[index],) = connection.query(checks[index], params)
            except BaseException as error:
                errors.append(error)
                raise

    with ThreadPoolExecutor(max_workers=max(len(connections) - 1, 1)) as pool:
        others = [pool.submit(work, connection) for connection in connections[1:]]
        try:
            work(connections[0])  # its error (or an interrupt) is raised once the others stop
        finally:
            wait(others)
    if errors:
        raise errors[0]  # a side connection's check failed
    return [row for row in rows if row is not None]


def run_table_checks(
    warehouse: Queryable,
    table: str,
    params: Mapping[str, object],
    *,
    side: Queryable | None = None,
) -> list[dg.AssetCheckResult]:
    """Runs every check of ``table`` and returns their results (in the order of its checks file).
    With a ``side`` connection the checks run two at a time: they only read, and a step's checks
    were a quarter of its time on 1M events."""
    checks = list(load_file(f"checks/{checked_table_name(table)}").values())
    connections = [warehouse] if side is None else [warehouse, side]
    results = []
    for check, found in zip(checks, _check_rows(connections, checks, params), strict=True):
        row = CheckRow.from_row(found)
        metadata: dict[str, Any] = {"failures": row.failures}
        metadata.update(
            {
                name: _metadata_value(value)
                for name, value in row.figures.items()
                if value is not None
            }
        )
        results.append(
            dg.AssetCheckResult(
                asset_key=table,
                check_name=check.name,
                passed=row.failures == 0,
                severity=(
                    dg.AssetCheckSeverity.WARN if row.warn_only else dg.AssetCheckSeverity.ERROR
                ),
                metadata=metadata,
                description=check.doc or None,
            )
        )
    return results


def table_materialization(
    warehouse: Warehouse,
    table: str,
    window: LoadWindow | None,
    *,
    check_params: Mapping[str, object] | None = None,
    metadata: Mapping[str, Any] | None = None,
    known_row_count: int | None = None,
    side: Queryable | None = None,
) -> dg.MaterializeResult:
    """The MaterializeResult of ``table``: row count (of the window when there is one; as
    ``dagster/row_count`` only when it is one partition's), fully qualified table name, the
    caller's metadata, and every check's result, two at a time with a ``side`` connection. (The
    column schema is definition metadata: see table_documentation.)"""
    params: dict[str, object] = dict(window.sql_params()) if window else {}
    params.update(check_params or {})
    (location,) = warehouse.query(statement("catalog.current_location"))
    # A loader knows how many rows it wrote (its row_count check verifies the table agrees): no need
    # to count a window of millions of rows again.
    row_count = (
        known_row_count if known_row_count is not None else warehouse.row_count(table, window)
    )
    # Dagster copies a range run's metadata to every partition it covers: a window's row count
    # would show as each day's, so it is recorded under a name that says what it counts.
    one_partition = window is None or window.is_single_day
    return dg.MaterializeResult(
        metadata={
            ("dagster/row_count" if one_partition else "rows_in_run_window"): row_count,
            "dagster/table_name": f"{location['database_name']}.{location['schema_name']}.{table}",
            "engine": warehouse.engine,
            **({"log_dates": str(window)} if window else {}),
            **(metadata or {}),
        },
        check_results=run_table_checks(warehouse, table, params, side=side),
    )

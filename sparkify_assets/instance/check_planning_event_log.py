"""The instance's event log: dagster-postgres' own, with one "evaluation planned" row per check and
run instead of one per check and partition, on a pooled engine
(docs/instance_and_performance.md)."""

from __future__ import annotations

from typing import Any

from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._serdes import serialize_value
from dagster_postgres import PostgresEventLogStorage

from sparkify_assets.instance.storage_connection_pool import PooledEngine


class CheckPlanningEventLogStorage(PooledEngine, PostgresEventLogStorage):
    """``PostgresEventLogStorage`` writing one planned row per (unpartitioned) check and run, on
    a pooled engine."""

    def __init__(self, postgres_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(postgres_url, *args, **kwargs)
        self._tables_present: set[str] = set()

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables_present:
            return True
        present = super().has_table(table_name)
        if present:
            self._tables_present.add(table_name)
        return present

    def _store_asset_check_evaluation_planned(self, event: Any, event_id: int | None) -> None:
        planned = event.dagster_event.event_specific_data
        with self.index_connection() as conn:
            conn.execute(
                AssetCheckExecutionsTable.insert().values(
                    asset_key=planned.asset_key.to_string(),
                    check_name=planned.check_name,
                    partition=None,
                    run_id=event.run_id,
                    execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
                    evaluation_event=serialize_value(event),
                    evaluation_event_timestamp=self._event_insert_timestamp(event),
                    evaluation_event_storage_id=event_id,
                )
            )
